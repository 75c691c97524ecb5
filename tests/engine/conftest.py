"""The engine is pure numpy: its tests need no Home Assistant instance.

The suite-wide autouse fixture in ``tests/conftest.py`` enables custom integrations,
which pulls in the ``hass`` fixture for every test. Shadow it here so the engine tests
run without starting Home Assistant (and stay fast).
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No hass for engine tests."""
