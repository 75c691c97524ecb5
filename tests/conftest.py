"""Fixtures: a real hass with the real recorder on a real SQLite file."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Generator
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.ai_automation  # noqa: F401 - makes the custom component importable
from custom_components.ai_automation.const import DEFAULT_OPTIONS, DOMAIN
from simulator.household import Household, simulate
from simulator.recorder_db import seed_database

# The pytest plugin's hass runs in this zone, at this place (sun times follow from it).
TEST_TIME_ZONE = "US/Pacific"
TEST_LATITUDE = 32.87336
TEST_LONGITUDE = -117.22743

# SQLAlchemy statement logging (turned on by the plugin) doubles the run time.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/ in every test."""


@pytest.fixture
def persistent_database() -> bool:
    """The recorder writes to a real SQLite file, not an in-memory database."""
    return True


@pytest.fixture
def household() -> Household | None:
    """The history seeded into the recorder before hass starts; none by default."""
    return None


@pytest.fixture
def mock_recorder_before_hass(recorder_db_url: str, household: Household | None) -> None:
    """Make the database URL (and seed it) before hass starts."""
    if household is not None:
        seed_database(recorder_db_url, household.changes)


@pytest.fixture
def seeded_household() -> Household:
    """Thirty days of a simulated household ending now, in the test hass's zone."""
    return simulate(
        seed=7, days=30, end=dt_util.now(dt_util.get_time_zone(TEST_TIME_ZONE)), time_zone=TEST_TIME_ZONE
    )


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """Options of the config entry under test."""
    return dict(DEFAULT_OPTIONS)


@pytest.fixture
def config_entry(entry_options: dict[str, Any]) -> MockConfigEntry:
    """The (single) config entry."""
    return MockConfigEntry(domain=DOMAIN, title="AI Automation", data={}, options=entry_options)


@pytest.fixture
async def load_int(
    hass: HomeAssistant, recorder_mock: Any, config_entry: MockConfigEntry
) -> AsyncGenerator[MockConfigEntry]:
    """Set up the integration with the real recorder."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    yield config_entry


@pytest.fixture
def silence_sqlalchemy() -> Generator[None]:
    """Keep SQLAlchemy quiet in tests that set up many recorders."""
    logger = logging.getLogger("sqlalchemy.engine")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)
