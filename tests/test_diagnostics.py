"""Config entry diagnostics: options, schedule and job history, secrets redacted."""

from __future__ import annotations

import json

import homeassistant.components.hassio  # noqa: F401 - see below
import pytest
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.matchers import path_type

from custom_components.ai_automation.const import CONF_BASE_URL, DEFAULT_OPTIONS
from simulator.household import Household
from tests.conftest import async_run

SECRET = "sk-test-0123456789abcdef"
# A server URL with credentials in it, as an OpenAI-compatible proxy may need.
BASE_URL = "http://llm-user:hunter2@192.168.1.20:11434/v1"


# Thursday noon in the conftest's US/Pacific: the same simulated month on any day.
# (Diagnostics import hassio for the system info; its mashumaro models cannot be built
# under a frozen clock, hence the import above, at collection.)
FROZEN_NOW = "2026-01-15 20:00:00+00:00"
# A job's id is drawn at random; its durations are measured.
VOLATILE = path_type(
    {
        r"jobs\.\d+\.id": (str,),
        r"jobs\.\d+\.duration_s": (float,),
        r"jobs\.\d+\.phases\.[a-z]+_s": (float,),
        # The compressed files' size depends on numpy's and zlib's versions.
        r"jobs\.\d+\.history\.size_bytes": (int,),
        r"history\.size_bytes": (int,),
    },
    regex=True,
)


@pytest.fixture
def household(seeded_household: Household) -> Household:
    """Seed the recorder with the simulated household."""
    return seeded_household


@pytest.mark.freeze_time(FROZEN_NOW)
async def test_diagnostics_after_run(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    load_int: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """After one run: the options, that one job, the schedule and the pending suggestions."""
    # As in the entities' snapshot: the integration's own first states recorded before the job reads.
    await async_wait_recording_done(hass)
    response = await async_run(hass)

    diag = await get_diagnostics_for_config_entry(hass, hass_client, load_int)

    assert diag == snapshot(matcher=VOLATILE)
    # The stored record, JSON round-tripped, is what the service returned.
    assert diag["jobs"] == [json.loads(json.dumps(response["job"]))]
    assert diag["pending_suggestions"] == [s["id"] for s in response["suggestions"]]


async def test_diagnostics_before_any_run(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, load_int: MockConfigEntry
) -> None:
    """With no job yet the history is empty but the schedule is there."""
    diag = await get_diagnostics_for_config_entry(hass, hass_client, load_int)
    assert diag["jobs"] == []
    assert diag["pending_suggestions"] == []
    assert diag["next_run"] == load_int.runtime_data.coordinator.next_run.isoformat()


async def test_diagnostics_redacts_api_key_and_base_url(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, load_int: MockConfigEntry
) -> None:
    """An API key and a base URL (it can carry credentials) are redacted; everything else is kept."""
    hass.config_entries.async_update_entry(
        load_int,
        data={CONF_API_KEY: SECRET, CONF_BASE_URL: BASE_URL, "model": "local"},
        options={**load_int.options, CONF_API_KEY: SECRET},
    )
    await hass.async_block_till_done()
    await async_run(hass)

    diag = await get_diagnostics_for_config_entry(hass, hass_client, load_int)

    assert diag["data"] == {CONF_API_KEY: "**REDACTED**", CONF_BASE_URL: "**REDACTED**", "model": "local"}
    assert diag["options"] == {**DEFAULT_OPTIONS, CONF_API_KEY: "**REDACTED**"}
    assert len(diag["jobs"]) == 1
    assert SECRET not in json.dumps(diag)
    assert "hunter2" not in json.dumps(diag)
    assert "192.168.1.20" not in json.dumps(diag)
    # Redaction works on a copy: the entry keeps its key.
    assert load_int.data[CONF_API_KEY] == SECRET
    assert load_int.data[CONF_BASE_URL] == BASE_URL
    assert load_int.options[CONF_API_KEY] == SECRET
