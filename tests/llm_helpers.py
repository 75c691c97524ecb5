"""Shared pieces of the LLM writer tests; registered as a plugin in tests/conftest.py.

The LLM phase as a job runs it: the entry's ``LLMState`` loaded once, as at setup. Tests
that word suggestions without setting the entry up load the state through here, so one
entry keeps one state (its spend, outage and client) across the calls of a test.

Also the local OpenAI API (tests/openai_server.py) as the ``server`` fixture, quick
retries (``fast_retries``, for ``pytest.mark.usefixtures``), an OpenAI entry, the checks
on what a writer made of the suggestions, a scripted conversation agent, and the writer
flows' steps.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest
from homeassistant.components import conversation
from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import intent
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_automation import llm_client
from custom_components.ai_automation.const import (
    CONF_BASE_URL,
    CONF_MODEL,
    CONF_WRITER,
    DOMAIN,
    WRITER_OPENAI,
)
from custom_components.ai_automation.llm import WordingOutcome, async_word_suggestions
from custom_components.ai_automation.llm_state import LLMState, async_load_state
from tests.conftest import add_entry
from tests.openai_server import FakeOpenAI

API_KEY = "sk-test-key"
OPENAI_DATA = {CONF_WRITER: WRITER_OPENAI, CONF_API_KEY: API_KEY, CONF_MODEL: "gpt-4o-mini"}

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


# --- the chat writers' API -----------------------------------------------------------


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff of milliseconds and a short request timeout, so retries stay quick."""
    monkeypatch.setattr(llm_client, "RETRY_BASE_DELAY_S", 0.01)
    monkeypatch.setattr(llm_client, "REQUEST_TIMEOUT_S", 0.3)


@pytest.fixture
async def server(socket_enabled: None) -> AsyncGenerator[FakeOpenAI]:
    """The OpenAI API on 127.0.0.1."""
    fake = FakeOpenAI()
    fake.valid_key = API_KEY
    await fake.start()
    yield fake
    await fake.stop()


def openai_entry(hass: HomeAssistant, server: FakeOpenAI, **options: Any) -> MockConfigEntry:
    """The OpenAI writer with its base URL moved to the local server: the price table applies."""
    data = {CONF_WRITER: WRITER_OPENAI, CONF_API_KEY: API_KEY, CONF_MODEL: "gpt-4o-mini"}
    return add_entry(hass, {**data, CONF_BASE_URL: server.url}, **options)


# --- what a writer made of the suggestions --------------------------------------------


def unchanged(outcome: WordingOutcome, suggestions: list[dict[str, Any]]) -> None:
    """The run kept the suggestions as built."""
    assert outcome.suggestions == suggestions
    assert outcome.worded == 0


def only_text_changed(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Everything but the wording is ours: the model cannot touch the automation."""
    text = ("title", "description")
    assert {k: v for k, v in after.items() if k not in (*text, "automation")} == {
        k: v for k, v in before.items() if k not in (*text, "automation")
    }
    auto_text = ("alias", "description")
    assert {k: v for k, v in after["automation"].items() if k not in auto_text} == {
        k: v for k, v in before["automation"].items() if k not in auto_text
    }
    assert after["automation"]["alias"] == after["title"]
    assert after["automation"]["description"] == after["description"]


# --- the conversation agent writer ---------------------------------------------------


class ScriptedAgent(conversation.AbstractConversationAgent):
    """Stands in for an LLM conversation agent the user already set up (e.g. OpenAI
    Conversation, Ollama, Google Generative AI): registered through the same
    ``async_set_agent`` those use, answering with scripted text instead of calling a
    model, so the path through ``conversation.async_converse`` is the real one.
    """

    def __init__(self, answer: Any) -> None:
        """``answer(text) -> str`` or an exception to raise."""
        self.answer = answer
        self.inputs: list[conversation.ConversationInput] = []

    @property
    def supported_languages(self) -> list[str]:
        """Every language."""
        return ["en", "de"]

    async def async_process(
        self, user_input: conversation.ConversationInput
    ) -> conversation.ConversationResult:
        """Answer with the scripted text."""
        self.inputs.append(user_input)
        response = intent.IntentResponse(language=user_input.language)
        answer = self.answer(user_input.text)
        if isinstance(answer, intent.IntentResponseErrorCode):
            response.async_set_error(answer, "cannot do that")
        else:
            response.async_set_speech(answer)
        return conversation.ConversationResult(response=response, conversation_id=None)


# --- the writer flows ----------------------------------------------------------------


async def choose(hass: HomeAssistant, writer: str) -> dict[str, Any]:
    """A config flow with ``writer`` chosen: its form."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_WRITER: writer})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == writer
    return dict(result)


def suggested(result: dict[str, Any]) -> dict[str, Any]:
    """What a form pre-fills: its fields' suggested values."""
    return {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
        if (key.description or {}).get("suggested_value") is not None
    }
