"""Fixtures: a real hass with the real recorder on a real SQLite file.

With ``--dburl postgresql://...`` or ``--dburl mysql+pymysql://...`` (scripts/test-databases)
the recorder runs on that server instead, in a fresh database per test; where the server
cannot be reached every test is skipped, saying why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from unittest.mock import patch

import pymysql.converters as pymysql_converters
import pytest
import sqlalchemy as sa
from freezegun.api import FakeDate, FakeDatetime, FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

import custom_components.ai_automation  # noqa: F401 - makes the custom component importable
from custom_components.ai_automation import job_phases
from custom_components.ai_automation.const import DEFAULT_OPTIONS, DOMAIN
from custom_components.ai_automation.coordinator import AnalysisCoordinator
from simulator.household import Household, simulate
from simulator.recorder_db import seed_database
from tests.decisions_helpers import async_remove_automations
from tests.devices import add_devices
from tests.ha_compat import HAFakeDatetime
from tests.snapshot_helpers import StableSnapshotExtension

# Fixtures (and helpers) of some modules only: the LLM writers' local OpenAI server and
# quick retries, the AI Task writer's provider.
pytest_plugins = ["tests.llm_helpers", "tests.ai_task_helpers"]

# The pytest plugin's hass runs in this zone, at this place (sun times follow from it).
TEST_TIME_ZONE = "US/Pacific"
TEST_LATITUDE = 32.87336
TEST_LONGITUDE = -117.22743
# Thursday noon in that zone: the seeded households end here (see ``seeded_household``).
FROZEN_NOW = "2026-01-15 20:00:00+00:00"

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


@pytest.fixture(autouse=True)
def own_config_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test's hass gets a config directory of its own.

    The test hass's default one lives in the plugin's package and is shared by every test
    and every run; the compact history writes real files under ``.storage`` there.
    """
    if "hass" not in request.fixturenames:
        return
    hass: HomeAssistant = request.getfixturevalue("hass")
    hass.config.config_dir = str(tmp_path_factory.mktemp("config"))


@pytest.fixture
def persistent_database() -> bool:
    """The recorder writes to a real SQLite file, not an in-memory database."""
    return True


@pytest.fixture
def household(request: pytest.FixtureRequest) -> Household | None:
    """The history seeded into the recorder before hass starts.

    None by default; a test that parametrizes ``household`` indirectly with "seeded" gets
    the simulated month, and a module that always wants it overrides this fixture.
    """
    if getattr(request, "param", None) == "seeded":
        household: Household = request.getfixturevalue("seeded_household")
        return household
    return None


@pytest.fixture
def mock_recorder_before_hass(recorder_db_url: str, household: Household | None) -> None:
    """Make the database URL (and seed it) before hass starts."""
    if household is not None:
        seed_database(recorder_db_url, household.changes)


@pytest.fixture
async def recorder_mock(
    recorder_mock: Any, hass: HomeAssistant, household: Household | None, request: pytest.FixtureRequest
) -> Any:
    """The real recorder; with a seeded history, the household's devices exist too.

    As in a real home, what the history shows was switched is in the state machine with
    its services (a suggestion on an entity that is gone is never made). Tests marked
    ``history_only`` read entities that exist in the recorder only.
    """
    if household is not None and request.node.get_closest_marker("history_only") is None:
        # Nameless, as the seeded history's tests have always shown them (by entity id).
        add_devices(hass, dict.fromkeys(sorted({c.entity_id for c in household.changes})))
    return recorder_mock


def seeded_month(freezer: FrozenDateTimeFactory, now: str = FROZEN_NOW) -> Household:
    """Thirty days of a simulated household ending ``now``, with the clock moved there."""
    freezer.move_to(now)
    return simulate(
        seed=7,
        days=30,
        end=dt_util.now(dt_util.get_time_zone(TEST_TIME_ZONE)),
        time_zone=TEST_TIME_ZONE,
        latitude=TEST_LATITUDE,
        longitude=TEST_LONGITUDE,
    )


@pytest.fixture
def seeded_household(freezer: FrozenDateTimeFactory) -> Household:
    """Thirty days of a simulated household ending now, in the test hass's zone.

    Now is ``FROZEN_NOW``: the simulated days, their weekdays and what is found in them
    are the same whatever day and hour the suite runs (a test moves the clock on from there).
    """
    return seeded_month(freezer)


@pytest.fixture
def entry_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Options of the config entry under test: the defaults, with whatever a test
    parametrizes indirectly on top."""
    return {**DEFAULT_OPTIONS, **getattr(request, "param", {})}


@pytest.fixture
def config_entry(entry_options: dict[str, Any]) -> MockConfigEntry:
    """The (single) config entry."""
    return MockConfigEntry(domain=DOMAIN, title="AI Automation", data={}, options=entry_options)


@pytest.fixture
async def load_int(
    hass: HomeAssistant, recorder_mock: Any, config_entry: MockConfigEntry
) -> AsyncGenerator[MockConfigEntry]:
    """Set up the integration with the real recorder."""
    await setup_entry(hass, config_entry)
    yield config_entry


@pytest.fixture
def silence_sqlalchemy() -> Generator[None]:
    """Keep SQLAlchemy quiet in tests that set up many recorders."""
    logger = logging.getLogger("sqlalchemy.engine")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


# --- the entry, the job, the log: what most tests of the shell share ------------------


def add_entry(hass: HomeAssistant, data: dict[str, Any] | None = None, **options: Any) -> MockConfigEntry:
    """A config entry with ``data`` (a writer, a key) and the default options plus ``options``."""
    entry = MockConfigEntry(
        domain=DOMAIN, title="AI Automation", data=data or {}, options={**DEFAULT_OPTIONS, **options}
    )
    entry.add_to_hass(hass)
    return entry


async def setup_entry(
    hass: HomeAssistant, entry: MockConfigEntry, *, wait_background_tasks: bool = False
) -> AnalysisCoordinator:
    """Set up ``entry`` (added to hass here if it is not yet) and return its coordinator.

    ``wait_background_tasks``: also wait for what the setup started in the background (a
    chat writer's key check, a catch-up run).
    """
    if hass.config_entries.async_get_entry(entry.entry_id) is None:
        entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=wait_background_tasks)
    coordinator: AnalysisCoordinator = entry.runtime_data.coordinator
    return coordinator


async def async_run(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    """run_analysis with a response (``data``: the service's fields): the job, patterns, suggestions.

    Returns once everything the job started (notifications, pushes) is done too.
    """
    response: Any = await hass.services.async_call(
        DOMAIN, "run_analysis", data, blocking=True, return_response=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    return dict(response)


class LogRecords(logging.Handler):
    """The integration's own log records, DEBUG up (caplog would collect every logger's)."""

    def __init__(self) -> None:
        """Collect everything."""
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)

    def at(self, level: int) -> list[str]:
        """Messages at exactly ``level``."""
        return [r.getMessage() for r in self.records if r.levelno == level]

    def at_least(self, level: int) -> list[logging.LogRecord]:
        """Records at ``level`` or above."""
        return [r for r in self.records if r.levelno >= level]


@pytest.fixture
def logs() -> Generator[LogRecords]:
    """Records of ``custom_components.ai_automation``, from DEBUG up."""
    handler = LogRecords()
    logger = logging.getLogger("custom_components.ai_automation")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@dataclass
class FetchSpy:
    """Calls of the job's fetch phase; each held until ``release`` is set while ``hold`` is."""

    hold: bool = False
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    windows: list[tuple[datetime, datetime]] = field(default_factory=list)

    @property
    def calls(self) -> int:
        """How many fetches started."""
        return len(self.windows)


@pytest.fixture
def fetch_spy() -> Generator[FetchSpy]:
    """Record each fetch window and, when asked, hold the job in its fetch phase.

    A real fetch on an empty database finishes within a few loop iterations, so a test
    racing it could not say whether a trigger, an unload or a stop arrived while the job
    was running. Waiting on an event, then calling the real reader, keeps the job
    mid-run, in a known phase, for exactly as long as the test needs.
    """
    spy = FetchSpy()
    real = job_phases.async_read_history

    async def fetch(history: Any, window: tuple[datetime, datetime], *args: Any) -> Any:
        spy.windows.append(window)
        spy.entered.set()
        if spy.hold:
            await spy.release.wait()
        return await real(history, window, *args)

    with patch.object(job_phases, "async_read_history", fetch):
        yield spy


@pytest.fixture
def held_fetch(fetch_spy: FetchSpy) -> FetchSpy:
    """Every job held in its fetch phase until the test sets ``release``."""
    fetch_spy.hold = True
    return fetch_spy


@pytest.fixture
async def remove_automations(hass: HomeAssistant) -> AsyncGenerator[None]:
    """Automations set up in the test go before hass stops (their time triggers would linger).

    Modules that set automations up use it with ``pytest.mark.usefixtures``.
    """
    yield
    await async_remove_automations(hass)


# --- snapshots ---------------------------------------------------------------------


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Syrupy's snapshot in Home Assistant's format, identical on both versions the suite runs on."""
    return snapshot.use_extension(StableSnapshotExtension)
