"""The options an LLM writer adds: pseudonyms, a monthly budget, a price override (both prices or none).

The built-in writer and conversation agents (pseudonyms always, cost unknown) show none.
Choosing the writer: tests/test_llm_flow.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.ai_automation.const import (
    CONF_AGENT_ID,
    CONF_MONTHLY_BUDGET,
    CONF_PRICE_INPUT,
    CONF_PRICE_OUTPUT,
    CONF_PSEUDONYMIZE,
    CONF_WRITER,
    WRITER_BUILTIN,
    WRITER_CONVERSATION,
)
from tests.conftest import add_entry, setup_entry
from tests.llm_helpers import OPENAI_DATA, suggested


async def test_chat_writer_options(hass: HomeAssistant, recorder_mock: Any) -> None:
    """An LLM writer adds pseudonyms, a budget and a price override (both prices or none)."""
    entry = add_entry(hass, OPENAI_DATA)
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    keys = {str(k): k for k in result["data_schema"].schema}
    assert keys[CONF_PSEUDONYMIZE].default() is False
    assert keys[CONF_MONTHLY_BUDGET].default() == 0.0
    assert CONF_PRICE_INPUT in keys
    assert CONF_PRICE_OUTPUT in keys

    base = {str(k): k.default() for k in result["data_schema"].schema if callable(k.default)}
    for partial, field in (
        ({CONF_PRICE_INPUT: 0.2}, CONF_PRICE_OUTPUT),
        ({CONF_PRICE_OUTPUT: 0.8}, CONF_PRICE_INPUT),
    ):
        result = await hass.config_entries.options.async_configure(result["flow_id"], {**base, **partial})
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {field: "price_incomplete"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **base,
            CONF_PSEUDONYMIZE: True,
            CONF_MONTHLY_BUDGET: 1.5,
            CONF_PRICE_INPUT: 0.2,
            CONF_PRICE_OUTPUT: 0.8,
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_PSEUDONYMIZE] is True
    assert entry.options[CONF_MONTHLY_BUDGET] == 1.5
    assert (entry.options[CONF_PRICE_INPUT], entry.options[CONF_PRICE_OUTPUT]) == (0.2, 0.8)

    # Pre-filled next time; clearing both prices goes back to the table.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert suggested(result) == {CONF_PRICE_INPUT: 0.2, CONF_PRICE_OUTPUT: 0.8}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, CONF_PSEUDONYMIZE: True, CONF_MONTHLY_BUDGET: 1.5}
    )
    assert CONF_PRICE_INPUT not in entry.options
    assert entry.options[CONF_PSEUDONYMIZE] is True


@pytest.mark.parametrize("writer", [WRITER_BUILTIN, WRITER_CONVERSATION])
async def test_no_cost_options_without_a_chat_writer(
    hass: HomeAssistant, recorder_mock: Any, writer: str
) -> None:
    """The built-in writer and agents (pseudonyms always, cost unknown) show no LLM options."""
    entry = add_entry(hass, {} if writer == WRITER_BUILTIN else {CONF_WRITER: writer, CONF_AGENT_ID: "x"})
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    keys = {str(k) for k in result["data_schema"].schema}
    assert not keys & {CONF_PSEUDONYMIZE, CONF_MONTHLY_BUDGET, CONF_PRICE_INPUT, CONF_PRICE_OUTPUT}
