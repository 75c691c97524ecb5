"""Config flow for AI Automation: the writer that words the suggestions, and its credentials.

The options (schedule, limits, filters) are ``options_flow``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
    ConversationAgentSelector,
    EntitySelector,
    EntitySelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .compat import (
    ai_task_default_entity,
    ai_task_generates_data,
    ai_task_loaded,
    async_ai_task_available,
    update_and_abort,
    vol,
)
from .const import (
    CONF_AGENT_ID,
    CONF_AI_TASK_ENTITY,
    CONF_BASE_URL,
    CONF_MODEL,
    CONF_WRITER,
    DEFAULT_OPENAI_MODEL,
    DEFAULT_OPTIONS,
    DOMAIN,
    WRITER_AI_TASK,
    WRITER_BUILTIN,
    WRITER_CONVERSATION,
    WRITER_OPENAI,
    WRITER_OPENAI_COMPATIBLE,
    WRITERS,
)
from .llm_state import async_client_module
from .options_flow import AIAutomationOptionsFlow

# Home Assistant's own agent matches sentences to intents; it cannot word anything.
_NOT_LLM_AGENTS = frozenset({"conversation.home_assistant", "homeassistant"})
_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_TEXT = TextSelector()


def _writer_schema(default: str, writers: list[str]) -> vol.Schema:
    """The writer select; a stored writer this Home Assistant cannot run is not the default."""
    if default not in writers:
        default = WRITER_BUILTIN
    return vol.Schema(
        {
            vol.Optional(CONF_WRITER, default=default): SelectSelector(
                SelectSelectorConfig(
                    options=writers, mode=SelectSelectorMode.LIST, translation_key=CONF_WRITER
                )
            )
        }
    )


async def _async_writers(hass: HomeAssistant) -> list[str]:
    """The writers this Home Assistant can run: AI Task only where it exists (2025.8+)."""
    ai_task = await async_ai_task_available(hass)
    return [w for w in WRITERS if w != WRITER_AI_TASK or ai_task]


def _ai_task_entity_selector() -> EntitySelector:
    """AI Task entities that can generate data (importing ai_task: only once it is loaded)."""
    return EntitySelector(
        EntitySelectorConfig(
            filter={"domain": "ai_task", "supported_features": ["ai_task.AITaskEntityFeature.GENERATE_DATA"]}
        )
    )


def _chat_errors(error: str | None, model_field: bool = True) -> dict[str, str]:
    """Form errors for ``llm_client.async_check``'s error key."""
    if error is None:
        return {}
    if error == "model_not_found" and model_field:
        return {CONF_MODEL: error}
    return {"base": error}


def _valid_url(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


class AIAutomationConfigFlow(ConfigFlow, domain=DOMAIN):
    """One entry. The default, built-in writer needs nothing; an LLM writer its credentials."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the writer; the built-in one creates the entry at once."""
        if user_input is not None:
            return await self._async_writer_chosen(user_input[CONF_WRITER])
        return self.async_show_form(
            step_id="user", data_schema=_writer_schema(WRITER_BUILTIN, await _async_writers(self.hass))
        )

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the writer again; its step comes pre-filled with the current settings."""
        if user_input is not None:
            return await self._async_writer_chosen(user_input[CONF_WRITER])
        current = self._get_reconfigure_entry().data.get(CONF_WRITER, WRITER_BUILTIN)
        return self.async_show_form(
            step_id="reconfigure", data_schema=_writer_schema(current, await _async_writers(self.hass))
        )

    async def _async_writer_chosen(self, writer: str) -> ConfigFlowResult:
        if writer == WRITER_OPENAI:
            return await self.async_step_openai()
        if writer == WRITER_OPENAI_COMPATIBLE:
            return await self.async_step_openai_compatible()
        if writer == WRITER_CONVERSATION:
            return await self.async_step_conversation()
        if writer == WRITER_AI_TASK:
            return await self.async_step_ai_task()
        return self._async_finish({})

    def _current(self, writer: str) -> Mapping[str, Any]:
        """The reconfigured entry's data when it already uses ``writer``, else nothing."""
        if self.source != SOURCE_RECONFIGURE:
            return {}
        data = self._get_reconfigure_entry().data
        return data if data.get(CONF_WRITER) == writer else {}

    def _async_finish(self, data: dict[str, Any]) -> ConfigFlowResult:
        if self.source == SOURCE_RECONFIGURE:
            return update_and_abort(self, self._get_reconfigure_entry(), data)
        return self.async_create_entry(title="AI Automation", data=data, options=dict(DEFAULT_OPTIONS))

    async def _async_check(
        self, api_key: str | None, base_url: str | None, model: str
    ) -> tuple[str, str | None]:
        """Ask the server for its models: ``(base URL that answered, error key or None)``."""
        client_module = await async_client_module(self.hass)
        result: tuple[str, str | None] = await client_module.async_check(self.hass, api_key, base_url, model)
        return result

    async def async_step_openai(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """OpenAI: the API key (checked against the API) and the model."""
        current = self._current(WRITER_OPENAI)
        errors: dict[str, str] = {}
        if user_input is not None:
            # Reconfiguring, an empty key keeps the stored one.
            api_key = user_input.get(CONF_API_KEY) or current.get(CONF_API_KEY)
            model = str(user_input[CONF_MODEL]).strip()
            _, error = await self._async_check(api_key, None, model)
            errors = _chat_errors(error)
            if not errors:
                return self._async_finish(
                    {CONF_WRITER: WRITER_OPENAI, CONF_API_KEY: api_key, CONF_MODEL: model}
                )
        key = vol.Optional(CONF_API_KEY) if current.get(CONF_API_KEY) else vol.Required(CONF_API_KEY)
        schema = vol.Schema(
            {
                key: _PASSWORD,
                vol.Required(CONF_MODEL, default=current.get(CONF_MODEL, DEFAULT_OPENAI_MODEL)): _TEXT,
            }
        )
        return self.async_show_form(
            step_id=WRITER_OPENAI,
            data_schema=self.add_suggested_values_to_schema(schema, _without_key(user_input)),
            errors=errors,
        )

    async def async_step_openai_compatible(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A server that speaks the OpenAI API (Ollama, LocalAI, vLLM, LM Studio)."""
        current = self._current(WRITER_OPENAI_COMPATIBLE)
        errors: dict[str, str] = {}
        if user_input is not None:
            base_url = str(user_input[CONF_BASE_URL]).strip()
            api_key = user_input.get(CONF_API_KEY) or current.get(CONF_API_KEY)
            model = str(user_input[CONF_MODEL]).strip()
            if not _valid_url(base_url):
                errors[CONF_BASE_URL] = "invalid_url"
            else:
                base_url, error = await self._async_check(api_key, base_url, model)
                errors = _chat_errors(error)
            if not errors:
                data = {CONF_WRITER: WRITER_OPENAI_COMPATIBLE, CONF_BASE_URL: base_url, CONF_MODEL: model}
                if api_key:
                    data[CONF_API_KEY] = api_key
                return self._async_finish(data)
        schema = vol.Schema(
            {
                vol.Required(CONF_BASE_URL): _URL,
                vol.Optional(CONF_API_KEY): _PASSWORD,
                vol.Required(CONF_MODEL): _TEXT,
            }
        )
        suggested = {k: current[k] for k in (CONF_BASE_URL, CONF_MODEL) if k in current}
        return self.async_show_form(
            step_id=WRITER_OPENAI_COMPATIBLE,
            data_schema=self.add_suggested_values_to_schema(
                schema, {**suggested, **_without_key(user_input)}
            ),
            errors=errors,
        )

    async def async_step_conversation(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A conversation agent already set up in Home Assistant (an LLM one)."""
        current = self._current(WRITER_CONVERSATION)
        errors: dict[str, str] = {}
        if user_input is not None:
            agent_id = str(user_input[CONF_AGENT_ID])
            if agent_id in _NOT_LLM_AGENTS:
                errors[CONF_AGENT_ID] = "not_llm_agent"
            elif not self._agent_exists(agent_id):
                errors[CONF_AGENT_ID] = "agent_not_found"
            else:
                return self._async_finish({CONF_WRITER: WRITER_CONVERSATION, CONF_AGENT_ID: agent_id})
        schema = vol.Schema({vol.Required(CONF_AGENT_ID): ConversationAgentSelector()})
        return self.async_show_form(
            step_id=WRITER_CONVERSATION,
            data_schema=self.add_suggested_values_to_schema(schema, user_input or dict(current)),
            errors=errors,
        )

    async def async_step_ai_task(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """An AI Task entity (Home Assistant 2025.8+), or the default one of its preferences."""
        # AI Task loads with the first AI integration that offers its entities: without one
        # there is nothing to pick (and the picker's feature filter would import ai_task).
        if not ai_task_loaded(self.hass):
            return self.async_abort(reason="ai_task_not_set_up")
        current = self._current(WRITER_AI_TASK)
        default = ai_task_default_entity(self.hass)
        errors: dict[str, str] = {}
        if user_input is not None:
            entity_id = user_input.get(CONF_AI_TASK_ENTITY) or None
            if entity_id is not None and not ai_task_generates_data(self.hass, entity_id):
                errors[CONF_AI_TASK_ENTITY] = "ai_task_not_found"
            elif entity_id is None and (default is None or not ai_task_generates_data(self.hass, default)):
                errors["base"] = "no_default_ai_task"
            else:
                return self._async_finish({CONF_WRITER: WRITER_AI_TASK, CONF_AI_TASK_ENTITY: entity_id})
        # Empty means the default entity; the one chosen before (or just typed) is pre-filled.
        schema = vol.Schema({vol.Optional(CONF_AI_TASK_ENTITY): _ai_task_entity_selector()})
        chosen = (current if user_input is None else user_input).get(CONF_AI_TASK_ENTITY)
        suggested = {CONF_AI_TASK_ENTITY: chosen} if chosen else {}
        return self.async_show_form(
            step_id=WRITER_AI_TASK,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            description_placeholders={"default": self._ai_task_name(default) if default else "none set"},
            errors=errors,
        )

    def _ai_task_name(self, entity_id: str) -> str:
        state = self.hass.states.get(entity_id)
        return f"{state.name} ({entity_id})" if state is not None else entity_id

    def _agent_exists(self, agent_id: str) -> bool:
        if "conversation" not in self.hass.config.components:
            return False
        from homeassistant.components.conversation.agent_manager import async_get_agent

        return async_get_agent(self.hass, agent_id) is not None

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The server rejected the stored key."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Enter a new key; it is checked before it replaces the old one."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            api_key = user_input[CONF_API_KEY]
            model = str(entry.data.get(CONF_MODEL) or DEFAULT_OPENAI_MODEL)
            _, error = await self._async_check(api_key, entry.data.get(CONF_BASE_URL), model)
            errors = _chat_errors(error, model_field=False)
            if not errors:
                return update_and_abort(self, entry, {**entry.data, CONF_API_KEY: api_key})
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_API_KEY): _PASSWORD}),
            description_placeholders={"server": entry.data.get(CONF_BASE_URL) or "OpenAI"},
            errors=errors,
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> AIAutomationOptionsFlow:
        """Return the options flow."""
        return AIAutomationOptionsFlow()


def _without_key(user_input: Mapping[str, Any] | None) -> dict[str, Any]:
    """A re-shown form keeps what was typed, except the key: it is never sent back."""
    return {k: v for k, v in (user_input or {}).items() if k != CONF_API_KEY}
