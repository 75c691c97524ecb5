"""What a chat writer costs: the monthly budget, the month's spend, the price table, the cost sensor.

The spend is kept by the entry's ``LLMState`` (its runtime data), stored per month and
loaded again after a restart. The local server is tests/openai_server.py (the ``server``
fixture of tests/llm_helpers.py).
"""

from __future__ import annotations

import logging
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant

from custom_components.ai_automation import llm_state
from custom_components.ai_automation.const import (
    CONF_MONTHLY_BUDGET,
    CONF_PRICE_INPUT,
    CONF_PRICE_OUTPUT,
    CONF_WRITER,
    DOMAIN,
    WRITER_OPENAI,
    WRITER_OPENAI_COMPATIBLE,
)
from tests.conftest import LogRecords, add_entry, setup_entry
from tests.llm_helpers import API_KEY, openai_entry, unchanged, word
from tests.openai_server import FakeOpenAI
from tests.wording_cases import async_suggestions

pytestmark = pytest.mark.usefixtures("fast_retries")


# --- the budget and the spend -----------------------------------------------------


async def test_monthly_budget_switches_to_builtin_until_next_month(
    hass: HomeAssistant, server: FakeOpenAI, logs: LogRecords, hass_storage: dict[str, Any]
) -> None:
    """Once the month's spend reaches the budget, nothing is sent; logged once."""
    suggestions, _patterns = await async_suggestions(hass, count=3)
    entry = openai_entry(hass, server, **{CONF_MONTHLY_BUDGET: 0.0001})

    first = await word(hass, entry, suggestions)
    assert first.worded == 3
    assert first.cost_usd > 0.0001
    await hass.async_block_till_done()
    stored = hass_storage[f"{DOMAIN}.llm_spend.{entry.entry_id}"]["data"]
    assert stored["cost_usd"] == pytest.approx(first.cost_usd)

    for _ in range(2):
        outcome = await word(hass, entry, suggestions)
        unchanged(outcome, suggestions)
        assert outcome.fallback == "budget_exhausted"
    assert len(server.chat_requests) == 1
    assert len([m for m in logs.at(logging.WARNING) if "budget" in m]) == 1

    # A new month starts from zero.
    with patch.object(llm_state, "this_month", return_value="2999-01"):
        outcome = await word(hass, entry, suggestions)
    assert outcome.worded == 3


async def test_spend_survives_a_restart(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    """The month's spend is loaded from storage; last month's does not count."""
    entry = add_entry(hass, {CONF_WRITER: WRITER_OPENAI, CONF_API_KEY: API_KEY})
    month = llm_state.this_month()
    hass_storage[f"{DOMAIN}.llm_spend.{entry.entry_id}"] = {
        "version": 1,
        "key": f"{DOMAIN}.llm_spend.{entry.entry_id}",
        "data": {"month": month, "cost_usd": 0.42, "tokens": 1234, "runs": 7},
    }
    state = await llm_state.async_load_state(hass, entry)
    assert state.month_spend() == {"month": month, "cost_usd": 0.42, "tokens": 1234, "runs": 7}
    with patch.object(llm_state, "this_month", return_value="2999-01"):
        assert state.month_spend() == {"month": "2999-01", "cost_usd": 0.0, "tokens": 0, "runs": 0}


async def test_state_is_the_entry_runtime_data(hass: HomeAssistant, recorder_mock: Any) -> None:
    """One state per loaded entry, in its runtime data; a reload (reconfigure, reauth) starts anew."""
    entry = add_entry(hass, {})
    assert await hass.config_entries.async_setup(entry.entry_id)
    state = entry.runtime_data.llm
    assert entry.runtime_data.coordinator.llm is state
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert entry.runtime_data.llm is not state


@pytest.mark.parametrize(
    ("writer", "model", "options", "price"),
    [
        (WRITER_OPENAI, "gpt-4o-mini-2024-07-18", {}, (0.15, 0.60)),
        (WRITER_OPENAI, "gpt-4.1-mini", {}, (0.40, 1.60)),
        (WRITER_OPENAI, "gpt-4.1", {}, (2.00, 8.00)),
        (WRITER_OPENAI, "some-new-model", {}, (0.0, 0.0)),
        (WRITER_OPENAI_COMPATIBLE, "gpt-4o-mini", {}, (0.0, 0.0)),
        (WRITER_OPENAI_COMPATIBLE, "llama3.2", {CONF_PRICE_INPUT: 0.2, CONF_PRICE_OUTPUT: 0.4}, (0.2, 0.4)),
        (WRITER_OPENAI, "gpt-4o-mini", {CONF_PRICE_INPUT: 1, CONF_PRICE_OUTPUT: 2}, (1.0, 2.0)),
        (WRITER_OPENAI, "gpt-4o-mini", {CONF_PRICE_INPUT: 1}, (0.15, 0.60)),
    ],
)
def test_price_table_and_override(
    writer: str, model: str, options: dict[str, Any], price: tuple[float, float]
) -> None:
    """Dated model names use their family's price; local servers are free unless overridden."""
    assert llm_state.model_price(writer, model, options) == price


# --- the cost sensor ------------------------------------------------------------------

COST_SENSOR = "sensor.ai_automation_llm_cost_this_month"


async def test_cost_sensor_shows_the_month_and_follows_the_runs(
    hass: HomeAssistant, recorder_mock: Any, server: FakeOpenAI, hass_storage: dict[str, Any]
) -> None:
    """With a chat writer: the stored spend at start-up, then each run's cost on the next update."""
    entry = openai_entry(hass, server, **{CONF_MONTHLY_BUDGET: 2.0})
    hass_storage[f"{DOMAIN}.llm_spend.{entry.entry_id}"] = {
        "version": 1,
        "key": f"{DOMAIN}.llm_spend.{entry.entry_id}",
        "data": {"month": llm_state.this_month(), "cost_usd": 0.25, "tokens": 1000, "runs": 4},
    }
    await setup_entry(hass, entry)
    state = hass.states.get(COST_SENSOR)
    assert state is not None
    assert float(state.state) == 0.25
    assert state.attributes["unit_of_measurement"] == "USD"
    assert state.attributes["device_class"] == "monetary"
    assert state.attributes["tokens"] == 1000
    assert state.attributes["budget_usd"] == 2.0
    assert state.attributes["model"] == "gpt-4o-mini"

    suggestions, _patterns = await async_suggestions(hass, count=3)
    outcome = await word(hass, entry, suggestions)
    entry.runtime_data.coordinator.async_update_listeners()  # the job does this when it finishes
    state = hass.states.get(COST_SENSOR)
    assert float(state.state) == pytest.approx(0.25 + outcome.cost_usd)
    assert state.attributes["runs"] == 5
    assert state.attributes["tokens"] == 1000 + outcome.tokens


async def test_no_cost_sensor_without_a_chat_writer(hass: HomeAssistant, recorder_mock: Any) -> None:
    """The built-in writer costs nothing: no sensor for it."""
    entry = add_entry(hass, {})
    await setup_entry(hass, entry)
    assert hass.states.get(COST_SENSOR) is None
