"""The engine is pure numpy: its tests need no Home Assistant instance.

The suite-wide autouse fixture in ``tests/conftest.py`` enables custom integrations,
which pulls in the ``hass`` fixture for every test. Shadow it here so the engine tests
run without starting Home Assistant (and stay fast).
"""

from __future__ import annotations

import pytest
from hypothesis import settings


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No hass for engine tests."""


# Property tests draw the same examples on every run, so CI is repeatable; a failure
# found while developing is kept in .hypothesis and replayed first.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.load_profile("repeatable")
