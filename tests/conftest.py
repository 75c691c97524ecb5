"""Fixtures: a real hass with the real recorder on a real SQLite file.

With ``--dburl postgresql://...`` or ``--dburl mysql+pymysql://...`` (scripts/test-databases)
the recorder runs on that server instead, in a fresh database per test; where the server
cannot be reached every test is skipped, saying why.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Generator
from typing import Any

import pymysql.converters as pymysql_converters
import pytest
import sqlalchemy as sa
from freezegun.api import FakeDate, FakeDatetime
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.ai_automation  # noqa: F401 - makes the custom component importable
from custom_components.ai_automation.const import DEFAULT_OPTIONS, DOMAIN
from simulator.household import Household, simulate
from simulator.recorder_db import seed_database
from tests.ha_compat import HAFakeDatetime

# The pytest plugin's hass runs in this zone, at this place (sun times follow from it).
TEST_TIME_ZONE = "US/Pacific"
TEST_LATITUDE = 32.87336
TEST_LONGITUDE = -117.22743

# SQLAlchemy statement logging (turned on by the plugin) doubles the run time.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


_SERVER_NAMES = {"postgresql": "PostgreSQL", "mysql": "MariaDB/MySQL"}
_MYSQL_PYMYSQL = "mysql+pymysql://"

# A frozen clock (freeze_time) hands out freezegun's datetime subclass; PyMySQL picks its
# encoder by exact type and would write it as "...+00:00", which MariaDB rejects. Encode
# it as the datetime it is.
# (Connections copy ``conversions``, made from ``encoders`` at import: set both.)
for _table in (pymysql_converters.encoders, pymysql_converters.conversions):
    for _frozen in (FakeDatetime, HAFakeDatetime):
        _table[_frozen] = pymysql_converters.escape_datetime
    _table[FakeDate] = pymysql_converters.escape_date


def _server_problem(db_url: str) -> str | None:
    """Connect once to the server behind a non-SQLite ``--dburl``; say why that failed."""
    url = sa.make_url(db_url)
    backend = url.get_backend_name()
    if backend not in _SERVER_NAMES:
        return None
    # The per-test database does not exist yet: connect to the server's own one.
    server_url = sa.URL.create(
        url.drivername,
        username=url.username,
        password=url.password,
        host=url.host,
        port=url.port,
        database="postgres" if backend == "postgresql" else None,
    )
    where = f"{_SERVER_NAMES[backend]} at {url.host or 'localhost'}:{url.port or ''}".rstrip(":")
    engine = sa.create_engine(server_url, connect_args={"connect_timeout": 3}, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except (sa.exc.OperationalError, OSError) as err:
        reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
        return f"{where} is not reachable: {reason}"
    finally:
        engine.dispose()
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With a database server as --dburl, skip everything (loudly) when it is not there."""
    db_url = str(config.getoption("dburl"))
    if not items or db_url.startswith("sqlite"):
        return
    problem = _server_problem(db_url)
    if problem is not None:
        skip = pytest.mark.skip(reason=problem)
        for item in items:
            item.add_marker(skip)


@pytest.fixture
def recorder_db_url(recorder_db_url: str, request: pytest.FixtureRequest) -> Generator[str]:
    """Create and drop the per-test database for ``mysql+pymysql://`` URLs too.

    The plugin does this for ``mysql://`` (mysqlclient, which has no wheel for Linux) and
    ``postgresql://`` only; HA's recorder accepts PyMySQL's URL as well.
    """
    if not recorder_db_url.startswith(_MYSQL_PYMYSQL):
        yield recorder_db_url
        return
    # PyMySQL talks through Python sockets, which the plugin blocks for tests; this lets
    # them through again (connects stay limited to 127.0.0.1). libpq needs no such thing.
    request.getfixturevalue("socket_enabled")
    import sqlalchemy_utils

    assert not sqlalchemy_utils.database_exists(recorder_db_url)
    sqlalchemy_utils.create_database(recorder_db_url, encoding="utf8mb4' COLLATE = 'utf8mb4_unicode_ci")
    yield recorder_db_url
    engine = sa.create_engine(recorder_db_url, poolclass=sa.pool.NullPool)
    try:
        # As the plugin does: InnoDB deadlocks dropping a database that is still in use.
        with engine.connect() as conn:
            in_use = conn.execute(
                sa.text(
                    "SELECT id FROM information_schema.processlist WHERE db = :db AND id != CONNECTION_ID()"
                ),
                {"db": sa.make_url(recorder_db_url).database},
            ).fetchall()
    finally:
        engine.dispose()
    if in_use:
        raise RuntimeError(f"Database still in use by connections {in_use}")
    sqlalchemy_utils.drop_database(recorder_db_url)


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
        seed=7,
        days=30,
        end=dt_util.now(dt_util.get_time_zone(TEST_TIME_ZONE)),
        time_zone=TEST_TIME_ZONE,
        latitude=TEST_LATITUDE,
        longitude=TEST_LONGITUDE,
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
