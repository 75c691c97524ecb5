"""The conversation agent writer: an LLM agent set up in Home Assistant words the suggestions.

The agent (``ScriptedAgent`` of tests/llm_helpers.py) is registered as such agents are and
answers with scripted text, so the path through ``conversation.async_converse`` is the real
one. Choosing an agent in the flows: tests/test_llm_flow.py.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from unittest.mock import AsyncMock, patch

import pytest
from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_automation import llm, llm_state
from custom_components.ai_automation.const import CONF_AGENT_ID, CONF_WRITER, WRITER_CONVERSATION
from tests.conftest import add_entry
from tests.llm_helpers import ScriptedAgent, only_text_changed, spend_of, unchanged, word
from tests.openai_server import good_wording, strip_ids
from tests.wording_cases import async_suggestions, target_of

pytestmark = pytest.mark.usefixtures("fast_retries")


def _agent_wording(text: str) -> str:
    """Good wording for the prompt text an agent receives."""
    data = json.loads(text.split("Input:\n", 1)[1])
    return good_wording({"messages": [{"role": "user", "content": json.dumps(data)}]})


@pytest.fixture
async def agent(hass: HomeAssistant) -> tuple[ScriptedAgent, MockConfigEntry]:
    """A scripted agent registered with the conversation integration."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    agent_entry = MockConfigEntry(domain="test_llm_agent", title="Test LLM")
    agent_entry.add_to_hass(hass)
    scripted = ScriptedAgent(_agent_wording)
    conversation.async_set_agent(hass, agent_entry, scripted)
    return scripted, agent_entry


async def test_conversation_agent_words_with_pseudonyms(
    hass: HomeAssistant, agent: tuple[ScriptedAgent, MockConfigEntry]
) -> None:
    """The agent gets the prompt in HA's language with pseudonyms only; cost unknown (0)."""
    scripted, agent_entry = agent
    hass.config.language = "de"
    suggestions, _patterns = await async_suggestions(hass, count=4)
    entry = add_entry(hass, {CONF_WRITER: WRITER_CONVERSATION, CONF_AGENT_ID: agent_entry.entry_id})

    outcome = await word(hass, entry, suggestions)

    assert outcome.writer == WRITER_CONVERSATION
    assert (outcome.worded, outcome.tokens, outcome.cost_usd, outcome.fallback) == (4, 0, 0.0, None)
    (sent,) = scripted.inputs
    assert sent.language == "de"
    assert sent.conversation_id is None
    assert "Device 1" in sent.text
    for suggestion in suggestions:
        assert hass.states.get(target_of(suggestion)).name not in sent.text
    assert not strip_ids(sent.text)
    for before, after in zip(suggestions, outcome.suggestions, strict=True):
        only_text_changed(before, after)
        assert after["title"].startswith(hass.states.get(target_of(after)).name)
    assert spend_of(hass, entry) == {"month": llm_state.this_month(), "cost_usd": 0.0, "tokens": 0, "runs": 0}


@pytest.mark.parametrize(
    ("answer", "fallback"),
    [
        (lambda _t: "I'm sorry, I can't help with that.", "malformed_reply"),
        (lambda _t: intent.IntentResponseErrorCode.UNKNOWN, "error"),
        (lambda _t: (_ for _ in ()).throw(RuntimeError("model crashed")), "error"),
    ],
    ids=["prose", "error_response", "agent_raises"],
)
async def test_conversation_agent_failures(
    hass: HomeAssistant, agent: tuple[ScriptedAgent, MockConfigEntry], answer: Any, fallback: str
) -> None:
    """Prose, an error response or a crashing agent: built-in wording for the run."""
    scripted, agent_entry = agent
    scripted.answer = answer
    suggestions, _patterns = await async_suggestions(hass, count=2)
    entry = add_entry(hass, {CONF_WRITER: WRITER_CONVERSATION, CONF_AGENT_ID: agent_entry.entry_id})
    outcome = await word(hass, entry, suggestions)
    unchanged(outcome, suggestions)
    assert outcome.fallback == fallback


async def test_conversation_agent_gone_or_slow(
    hass: HomeAssistant, agent: tuple[ScriptedAgent, MockConfigEntry], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent that was removed, or that takes too long: built-in wording."""
    scripted, agent_entry = agent
    suggestions, _patterns = await async_suggestions(hass, count=2)
    gone = add_entry(hass, {CONF_WRITER: WRITER_CONVERSATION, CONF_AGENT_ID: "conversation.removed"})
    assert (await word(hass, gone, suggestions)).fallback == "error"

    monkeypatch.setattr(llm, "AGENT_TIMEOUT_S", 0.01)
    slow = add_entry(hass, {CONF_WRITER: WRITER_CONVERSATION, CONF_AGENT_ID: agent_entry.entry_id})

    async def think_for_a_second(_input: conversation.ConversationInput) -> None:
        await asyncio.sleep(1)

    with patch.object(scripted, "async_process", AsyncMock(side_effect=think_for_a_second)):
        outcome = await word(hass, slow, suggestions)
    assert outcome.fallback == "unavailable"


async def test_conversation_not_loaded(hass: HomeAssistant) -> None:
    """The conversation integration is not set up: built-in wording."""
    suggestions, _patterns = await async_suggestions(hass, count=1)
    entry = add_entry(hass, {CONF_WRITER: WRITER_CONVERSATION, CONF_AGENT_ID: "some_agent"})
    outcome = await word(hass, entry, suggestions)
    unchanged(outcome, suggestions)
    assert outcome.fallback == "error"
