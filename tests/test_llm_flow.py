"""Choosing the writer: config, reconfigure and reauth flows, credentials checked over real HTTP.

The OpenAI writer's check runs the real ``openai`` client against the local server
(tests/openai_server.py): ``OPENAI_BASE_URL`` points the client there, exactly as it
would point it at a proxy, so the flow itself has no test hook. The options an LLM writer
adds: tests/test_llm_options.py.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from homeassistant.components import conversation
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ai_automation.const import (
    CONF_AGENT_ID,
    CONF_BASE_URL,
    CONF_MODEL,
    CONF_WRITER,
    DEFAULT_OPTIONS,
    DOMAIN,
    WRITER_BUILTIN,
    WRITER_CONVERSATION,
    WRITER_OPENAI,
    WRITER_OPENAI_COMPATIBLE,
)
from tests.conftest import add_entry, setup_entry
from tests.llm_helpers import API_KEY, OPENAI_DATA, ScriptedAgent, choose, suggested
from tests.openai_server import FakeOpenAI, Reply


@pytest.fixture
async def server(socket_enabled: None, monkeypatch: pytest.MonkeyPatch) -> AsyncGenerator[FakeOpenAI]:
    """The OpenAI API on 127.0.0.1; the OpenAI writer's client is sent there (this module's own)."""
    fake = FakeOpenAI()
    fake.valid_key = API_KEY
    await fake.start()
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    yield fake
    await fake.stop()


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- user flow --------------------------------------------------------------------


async def test_user_step_offers_the_writers_builtin_first(hass: HomeAssistant, recorder_mock: Any) -> None:
    """The writer select defaults to the built-in one; the others follow (AI Task, where
    Home Assistant has it, last: tests/test_ai_task.py)."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    (key,) = result["data_schema"].schema
    assert str(key) == CONF_WRITER
    assert key.default() == WRITER_BUILTIN
    selector = result["data_schema"].schema[key]
    assert selector.config["options"][:4] == [
        WRITER_BUILTIN,
        WRITER_OPENAI,
        WRITER_OPENAI_COMPATIBLE,
        WRITER_CONVERSATION,
    ]


async def test_openai_checked_against_the_api(
    hass: HomeAssistant, recorder_mock: Any, server: FakeOpenAI
) -> None:
    """A key the API accepts and a model it offers: the entry holds the writer and the key."""
    result = await choose(hass, WRITER_OPENAI)
    assert {str(k) for k in result["data_schema"].schema} == {CONF_API_KEY, CONF_MODEL}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: API_KEY, CONF_MODEL: " gpt-4o-mini "}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == OPENAI_DATA
    assert result["options"] == DEFAULT_OPTIONS
    assert server.auth_headers == [f"Bearer {API_KEY}"]
    assert hass.config_entries.async_entries(DOMAIN)[0].state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    ("break_it", "errors"),
    [
        (lambda s, m: setattr(s, "valid_key", "sk-other"), {"base": "invalid_auth"}),
        (lambda s, m: setattr(s, "models_reply", Reply(status=500, body={"error": {}})), {"base": "unknown"}),
        (lambda s, m: setattr(s, "models", ["gpt-4.1"]), {CONF_MODEL: "model_not_found"}),
        (
            lambda s, m: m.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{_closed_port()}/v1"),
            {"base": "cannot_connect"},
        ),
        (lambda s, m: setattr(s, "models_reply", Reply(raw="<html>", status=200)), {"base": "unknown"}),
    ],
    ids=["invalid_auth", "server_error", "model_not_found", "cannot_connect", "not_json"],
)
async def test_openai_errors_then_recover(
    hass: HomeAssistant,
    recorder_mock: Any,
    server: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    break_it: Any,
    errors: dict[str, str],
) -> None:
    """Each failure shows its error on the form; once fixed, the same flow creates the entry."""
    result = await choose(hass, WRITER_OPENAI)
    with monkeypatch.context() as patched:
        break_it(server, patched)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_API_KEY: API_KEY, CONF_MODEL: "gpt-4o-mini"}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    # What was typed stays, except the key.
    assert suggested(result) == {CONF_MODEL: "gpt-4o-mini"}

    server.valid_key, server.models_reply, server.models = API_KEY, None, ["gpt-4o-mini"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: API_KEY, CONF_MODEL: "gpt-4o-mini"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_compatible_server_without_key_and_bare_url(
    hass: HomeAssistant, recorder_mock: Any, server: FakeOpenAI
) -> None:
    """Ollama as people type it: no /v1 (appended because only that answers), no key, no tag."""
    server.valid_key = None
    result = await choose(hass, WRITER_OPENAI_COMPATIBLE)
    bare = server.url.removesuffix("/v1")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: bare + "/", CONF_MODEL: "llama3.2"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_WRITER: WRITER_OPENAI_COMPATIBLE,
        CONF_BASE_URL: server.url,
        CONF_MODEL: "llama3.2",
    }
    assert server.auth_headers == ["Bearer no-key"]


async def test_compatible_server_with_key_and_full_url(
    hass: HomeAssistant, recorder_mock: Any, server: FakeOpenAI
) -> None:
    """vLLM with --api-key: the key is checked and kept; a server listing no models takes any."""
    server.models = []
    result = await choose(hass, WRITER_OPENAI_COMPATIBLE)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: server.url, CONF_API_KEY: API_KEY, CONF_MODEL: "any-model"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_KEY] == API_KEY
    assert result["data"][CONF_BASE_URL] == server.url
    assert len(server.auth_headers) == 1  # answered at once, no /v1 retry


@pytest.mark.parametrize(
    ("url", "errors"),
    [
        ("localhost:11434", {CONF_BASE_URL: "invalid_url"}),
        ("ftp://127.0.0.1/v1", {CONF_BASE_URL: "invalid_url"}),
        ("{server}/nothing-here", {"base": "cannot_connect"}),
        ("http://127.0.0.1:{closed}/v1", {"base": "cannot_connect"}),
    ],
    ids=["no_scheme", "not_http", "wrong_path", "nothing_listening"],
)
async def test_compatible_server_errors(
    hass: HomeAssistant, recorder_mock: Any, server: FakeOpenAI, url: str, errors: dict[str, str]
) -> None:
    """A URL that is no http(s) URL, a path where no API answers, a port nothing listens on."""
    result = await choose(hass, WRITER_OPENAI_COMPATIBLE)
    url = url.format(server=server.url.removesuffix("/v1"), closed=_closed_port())
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: url, CONF_API_KEY: API_KEY, CONF_MODEL: "llama3.2"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert suggested(result) == {CONF_BASE_URL: url, CONF_MODEL: "llama3.2"}


@pytest.fixture
async def agent_entry(hass: HomeAssistant) -> MockConfigEntry:
    """An LLM conversation agent (scripted; see ScriptedAgent) set up in Home Assistant."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    entry = MockConfigEntry(domain="test_llm_agent", title="Test LLM")
    entry.add_to_hass(hass)
    conversation.async_set_agent(hass, entry, ScriptedAgent(lambda _t: "{}"))
    return entry


async def test_conversation_agent(
    hass: HomeAssistant, recorder_mock: Any, agent_entry: MockConfigEntry
) -> None:
    """HA's own agent cannot write; an unknown one is refused; an LLM agent is taken."""
    result = await choose(hass, WRITER_CONVERSATION)
    for agent_id, error in (
        ("conversation.home_assistant", "not_llm_agent"),
        ("homeassistant", "not_llm_agent"),
        ("conversation.gone", "agent_not_found"),
    ):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_AGENT_ID: agent_id})
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_AGENT_ID: error}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AGENT_ID: agent_entry.entry_id}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_WRITER: WRITER_CONVERSATION, CONF_AGENT_ID: agent_entry.entry_id}


async def test_conversation_not_loaded(hass: HomeAssistant, recorder_mock: Any) -> None:
    """Without the conversation integration there is no agent to pick."""
    result = await choose(hass, WRITER_CONVERSATION)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_AGENT_ID: "some_agent"})
    assert result["errors"] == {CONF_AGENT_ID: "agent_not_found"}


# --- reconfigure ------------------------------------------------------------------


async def _reconfigure_to_openai(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """From the built-in writer to OpenAI: the key is asked for and checked."""
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    (key,) = result["data_schema"].schema
    assert key.default() == WRITER_BUILTIN
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_WRITER: WRITER_OPENAI})
    assert result["step_id"] == WRITER_OPENAI
    assert type(next(k for k in result["data_schema"].schema if k == CONF_API_KEY)).__name__ == "Required"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: API_KEY, CONF_MODEL: "gpt-4o-mini"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.data) == OPENAI_DATA
    assert entry.state is ConfigEntryState.LOADED


async def _reconfigure_the_model_keeping_the_key(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Same writer: the model is pre-filled and an empty key keeps the stored one."""
    result = await entry.start_reconfigure_flow(hass)
    (key,) = result["data_schema"].schema
    assert key.default() == WRITER_OPENAI
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_WRITER: WRITER_OPENAI})
    schema = {str(k): k for k in result["data_schema"].schema}
    assert type(schema[CONF_API_KEY]).__name__ == "Optional"
    assert schema[CONF_MODEL].default() == "gpt-4o-mini"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_MODEL: "gpt-4.1-nano"})
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.data) == {**OPENAI_DATA, CONF_MODEL: "gpt-4.1-nano"}


async def _reconfigure_to_a_compatible_server(
    hass: HomeAssistant, entry: MockConfigEntry, server: FakeOpenAI
) -> None:
    """To a compatible server (the OpenAI key is not carried over), then again, pre-filled."""
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_WRITER: WRITER_OPENAI_COMPATIBLE}
    )
    assert suggested(result) == {}
    server.valid_key = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: server.url, CONF_MODEL: "llama3.2"}
    )
    await hass.async_block_till_done()
    assert dict(entry.data) == {
        CONF_WRITER: WRITER_OPENAI_COMPATIBLE,
        CONF_BASE_URL: server.url,
        CONF_MODEL: "llama3.2",
    }
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_WRITER: WRITER_OPENAI_COMPATIBLE}
    )
    assert suggested(result) == {CONF_BASE_URL: server.url, CONF_MODEL: "llama3.2"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: server.url, CONF_MODEL: "llama3.2"}
    )
    assert result["reason"] == "reconfigure_successful"


async def _reconfigure_back_to_builtin(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Back to the built-in writer: no data, the options as they were."""
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_WRITER: WRITER_BUILTIN})
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.data) == {}
    assert dict(entry.options) == DEFAULT_OPTIONS  # the options are not touched
    assert entry.state is ConfigEntryState.LOADED


async def test_reconfigure_between_writers(
    hass: HomeAssistant, recorder_mock: Any, server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    """Built-in -> OpenAI -> another model with the stored key -> compatible -> built-in."""
    entry = add_entry(hass, {})
    await setup_entry(hass, entry)
    before = entry.runtime_data

    await _reconfigure_to_openai(hass, entry)
    assert entry.runtime_data is not before  # another writer: reloaded
    assert "update listener" not in caplog.text

    await _reconfigure_the_model_keeping_the_key(hass, entry)
    await _reconfigure_to_a_compatible_server(hass, entry, server)
    await _reconfigure_back_to_builtin(hass, entry)


async def test_reconfigure_conversation_prefilled(
    hass: HomeAssistant, recorder_mock: Any, agent_entry: MockConfigEntry
) -> None:
    """Reconfiguring the agent writer shows the current agent."""
    entry = add_entry(hass, {CONF_WRITER: WRITER_CONVERSATION, CONF_AGENT_ID: agent_entry.entry_id})
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == WRITER_CONVERSATION
    assert suggested(result) == {CONF_AGENT_ID: agent_entry.entry_id}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AGENT_ID: agent_entry.entry_id}
    )
    assert result["reason"] == "reconfigure_successful"


# --- reauth -----------------------------------------------------------------------


async def test_reauth_checks_the_new_key(
    hass: HomeAssistant, recorder_mock: Any, server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    """A rejected new key shows invalid_auth; an accepted one replaces the old and reloads."""
    entry = add_entry(hass, {**OPENAI_DATA, CONF_API_KEY: "sk-revoked"})
    await setup_entry(hass, entry)
    before = entry.runtime_data

    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["server"] == "OpenAI"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: "sk-wrong"})
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: API_KEY})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert dict(entry.data) == OPENAI_DATA
    assert entry.state is ConfigEntryState.LOADED
    # Reloaded by the entry's update listener, as Home Assistant asks (no warning about an
    # update listener next to async_update_reload_and_abort on current releases).
    assert entry.runtime_data is not before
    assert "update listener" not in caplog.text


async def test_reauth_compatible_server_checks_its_model(
    hass: HomeAssistant, recorder_mock: Any, server: FakeOpenAI
) -> None:
    """The key is checked at the entry's server; a model it no longer has is said so."""
    entry = add_entry(
        hass, {CONF_WRITER: WRITER_OPENAI_COMPATIBLE, CONF_BASE_URL: server.url, CONF_MODEL: "mistral"}
    )
    result = await entry.start_reauth_flow(hass)
    assert result["description_placeholders"]["server"] == server.url
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: API_KEY})
    assert result["errors"] == {"base": "model_not_found"}
    server.models.append("mistral")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: API_KEY})
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_API_KEY] == API_KEY
