"""Config entry diagnostics: options, schedule and job history, secrets redacted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ai_automation.const import CONF_BASE_URL, DEFAULT_OPTIONS, DOMAIN
from simulator.household import Household

SECRET = "sk-test-0123456789abcdef"
# A server URL with credentials in it, as an OpenAI-compatible proxy may need.
BASE_URL = "http://llm-user:hunter2@192.168.1.20:11434/v1"


@pytest.fixture
def household(seeded_household: Household) -> Household:
    """Seed the recorder with the simulated household."""
    return seeded_household


async def _run(hass: HomeAssistant) -> dict[str, Any]:
    response: Any = await hass.services.async_call(
        DOMAIN, "run_analysis", {}, blocking=True, return_response=True
    )
    await hass.async_block_till_done()
    return response


async def test_diagnostics_after_run(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, load_int: MockConfigEntry
) -> None:
    """After one run: the options, that one job, the schedule and the pending suggestions."""
    response = await _run(hass)
    coordinator = load_int.runtime_data

    diag = await get_diagnostics_for_config_entry(hass, hass_client, load_int)

    assert set(diag) == {
        "data",
        "options",
        "next_run",
        "last_slot",
        "jobs",
        "pending_suggestions",
        "accepted_suggestions",
        "dismissed_suggestions",
    }
    assert diag["data"] == {}
    assert diag["options"] == DEFAULT_OPTIONS
    assert diag["next_run"] == coordinator.next_run.isoformat()
    assert diag["last_slot"] == coordinator.last_slot.isoformat()
    assert len(diag["jobs"]) == 1
    # The stored record, JSON round-tripped, is what the service returned.
    assert diag["jobs"][0] == json.loads(json.dumps(response["job"]))
    assert diag["jobs"][0]["status"] == "success"
    assert diag["pending_suggestions"] == [s["id"] for s in response["suggestions"]]
    assert diag["pending_suggestions"]
    assert diag["accepted_suggestions"] == diag["dismissed_suggestions"] == []


async def test_diagnostics_before_any_run(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, load_int: MockConfigEntry
) -> None:
    """With no job yet the history is empty but the schedule is there."""
    diag = await get_diagnostics_for_config_entry(hass, hass_client, load_int)
    assert diag["jobs"] == []
    assert diag["pending_suggestions"] == []
    assert diag["next_run"] == load_int.runtime_data.next_run.isoformat()


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
    await _run(hass)

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
