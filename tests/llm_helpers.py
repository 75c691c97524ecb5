"""The LLM phase as a job runs it: the entry's ``LLMState`` loaded once, as at setup.

Tests that word suggestions without setting the entry up load the state through here, so
one entry keeps one state (its spend, outage and client) across the calls of a test.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from custom_components.ai_automation.llm import WordingOutcome, async_word_suggestions
from custom_components.ai_automation.llm_state import LLMState, async_load_state

_STATES = "tests_ai_automation_llm_states"


async def state_of(hass: HomeAssistant, entry: ConfigEntry) -> LLMState:
    """The entry's state: its runtime data's when it is set up, else loaded once per test."""
    if (data := getattr(entry, "runtime_data", None)) is not None:
        state: LLMState = data.llm
        return state
    states: dict[str, LLMState] = hass.data.setdefault(_STATES, {})
    if entry.entry_id not in states:
        states[entry.entry_id] = await async_load_state(hass, entry)
    return states[entry.entry_id]


def spend_of(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, Any] | None:
    """This month's spend of the entry's state, or None when no state was ever loaded."""
    if (data := getattr(entry, "runtime_data", None)) is not None:
        return dict(data.llm.month_spend())
    state = hass.data.get(_STATES, {}).get(entry.entry_id)
    return state.month_spend() if state is not None else None


async def word(hass: HomeAssistant, entry: ConfigEntry, suggestions: list[dict[str, Any]]) -> WordingOutcome:
    """Word ``suggestions`` with the entry's writer and state."""
    return await async_word_suggestions(hass, entry, await state_of(hass, entry), suggestions)
