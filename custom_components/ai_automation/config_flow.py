"""Config and options flow for AI Automation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    ConversationAgentSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
    TimeSelector,
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
    CONF_ANALYSIS_DAYS,
    CONF_ANALYSIS_TIME,
    CONF_BASE_URL,
    CONF_CATCH_UP_GRACE,
    CONF_EXCLUDE_DOMAINS,
    CONF_EXCLUDE_ENTITIES,
    CONF_INCLUDE_DOMAINS,
    CONF_INCLUDE_ENTITIES,
    CONF_LOOKBACK_DAYS,
    CONF_MAX_SUGGESTIONS,
    CONF_MIN_CONFIDENCE,
    CONF_MODEL,
    CONF_MONTHLY_BUDGET,
    CONF_PRICE_INPUT,
    CONF_PRICE_OUTPUT,
    CONF_PSEUDONYMIZE,
    CONF_WRITER,
    DEFAULT_LLM_OPTIONS,
    DEFAULT_OPENAI_MODEL,
    DEFAULT_OPTIONS,
    DOMAIN,
    MAX_LOOKBACK_DAYS,
    MIN_LOOKBACK_DAYS,
    WEEKDAYS,
    WRITER_AI_TASK,
    WRITER_BUILTIN,
    WRITER_CONVERSATION,
    WRITER_OPENAI,
    WRITER_OPENAI_COMPATIBLE,
    WRITERS,
)
from .llm import CHAT_WRITERS, PSEUDONYM_OPTION_WRITERS, async_client_module
from .push import notify_services_schema

# Domains offered in the include/exclude pickers; users may type others.
KNOWN_DOMAINS = [
    "binary_sensor",
    "climate",
    "cover",
    "fan",
    "humidifier",
    "input_boolean",
    "input_select",
    "light",
    "lock",
    "media_player",
    "person",
    "scene",
    "select",
    "sensor",
    "siren",
    "switch",
    "vacuum",
    "valve",
    "water_heater",
]


def _number(minimum: float, maximum: float, step: float = 1, unit: str | None = None) -> NumberSelector:
    config = NumberSelectorConfig(min=minimum, max=maximum, step=step, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def _domains() -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(options=KNOWN_DOMAINS, multiple=True, custom_value=True, sort=True)
    )


# Home Assistant's own agent matches sentences to intents; it cannot word anything.
_NOT_LLM_AGENTS = frozenset({"conversation.home_assistant", "homeassistant"})
_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_TEXT = TextSelector()


def _price() -> NumberSelector:
    return _number(0, 1000, 0.001, "USD")


def _pseudonym_option_schema(o: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    return {vol.Required(CONF_PSEUDONYMIZE, default=o[CONF_PSEUDONYMIZE]): BooleanSelector()}


def _cost_options_schema(o: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    return {
        vol.Required(CONF_MONTHLY_BUDGET, default=o[CONF_MONTHLY_BUDGET]): _number(0, 1000, 0.01, "USD"),
        # No default: empty means "use the price table".
        vol.Optional(CONF_PRICE_INPUT, description={"suggested_value": o.get(CONF_PRICE_INPUT)}): _price(),
        vol.Optional(CONF_PRICE_OUTPUT, description={"suggested_value": o.get(CONF_PRICE_OUTPUT)}): _price(),
    }


def options_schema(
    options: Mapping[str, Any],
    chat_writer: bool = False,
    extra: Mapping[vol.Marker, Any] | None = None,
    *,
    pseudonym_option: bool = False,
) -> vol.Schema:
    """The options form, pre-filled with ``options``; a chat writer adds privacy and cost.

    ``extra`` fields (the push targets) come after the entity filters; ``pseudonym_option``
    adds the privacy option alone (the AI Task writer: its cost is unknown).
    """
    o = {**DEFAULT_OPTIONS, **DEFAULT_LLM_OPTIONS, **options}
    return vol.Schema(
        {
            vol.Required(CONF_ANALYSIS_TIME, default=o[CONF_ANALYSIS_TIME]): TimeSelector(),
            vol.Required(CONF_ANALYSIS_DAYS, default=o[CONF_ANALYSIS_DAYS]): SelectSelector(
                SelectSelectorConfig(
                    options=list(WEEKDAYS),
                    multiple=True,
                    mode=SelectSelectorMode.LIST,
                    translation_key=CONF_ANALYSIS_DAYS,
                )
            ),
            vol.Required(CONF_LOOKBACK_DAYS, default=o[CONF_LOOKBACK_DAYS]): _number(
                MIN_LOOKBACK_DAYS, MAX_LOOKBACK_DAYS, unit="days"
            ),
            vol.Required(CONF_MAX_SUGGESTIONS, default=o[CONF_MAX_SUGGESTIONS]): _number(1, 50),
            vol.Required(CONF_MIN_CONFIDENCE, default=o[CONF_MIN_CONFIDENCE]): _number(0, 100, 5, "%"),
            vol.Required(CONF_CATCH_UP_GRACE, default=o[CONF_CATCH_UP_GRACE]): _number(0, 1440, unit="min"),
            vol.Optional(CONF_INCLUDE_ENTITIES, default=o[CONF_INCLUDE_ENTITIES]): EntitySelector(
                EntitySelectorConfig(multiple=True)
            ),
            vol.Optional(CONF_INCLUDE_DOMAINS, default=o[CONF_INCLUDE_DOMAINS]): _domains(),
            vol.Optional(CONF_EXCLUDE_ENTITIES, default=o[CONF_EXCLUDE_ENTITIES]): EntitySelector(
                EntitySelectorConfig(multiple=True)
            ),
            vol.Optional(CONF_EXCLUDE_DOMAINS, default=o[CONF_EXCLUDE_DOMAINS]): _domains(),
            **(extra or {}),
            **(_pseudonym_option_schema(o) if chat_writer or pseudonym_option else {}),
            **(_cost_options_schema(o) if chat_writer else {}),
        }
    )


def validate_options(user_input: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Normalise the submitted options; return them with any form errors."""
    errors: dict[str, str] = {}
    if not user_input.get(CONF_ANALYSIS_DAYS):
        errors[CONF_ANALYSIS_DAYS] = "no_days"
    if set(user_input.get(CONF_INCLUDE_ENTITIES, [])) & set(user_input.get(CONF_EXCLUDE_ENTITIES, [])):
        errors[CONF_EXCLUDE_ENTITIES] = "included_and_excluded"
    options = dict(user_input)
    # Number selectors return floats; the schedule and limits are whole numbers.
    for key in (CONF_LOOKBACK_DAYS, CONF_MAX_SUGGESTIONS, CONF_CATCH_UP_GRACE, CONF_MIN_CONFIDENCE):
        options[key] = int(options[key])
    order = {d: i for i, d in enumerate(WEEKDAYS)}
    options[CONF_ANALYSIS_DAYS] = sorted(options.get(CONF_ANALYSIS_DAYS, []), key=order.__getitem__)
    if (CONF_PRICE_INPUT in options) != (CONF_PRICE_OUTPUT in options):
        errors[CONF_PRICE_OUTPUT if CONF_PRICE_INPUT in options else CONF_PRICE_INPUT] = "price_incomplete"
    return options, errors


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


class AIAutomationOptionsFlow(OptionsFlow):
    """Schedule, lookback, limits and which entities to learn from."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and validate the options form."""
        errors: dict[str, str] = {}
        if user_input is not None:
            options, errors = validate_options(user_input)
            if not errors:
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                options_schema(
                    self.config_entry.options,
                    self.config_entry.data.get(CONF_WRITER) in CHAT_WRITERS,
                    notify_services_schema(self.hass, self.config_entry.options),
                    pseudonym_option=self.config_entry.data.get(CONF_WRITER) in PSEUDONYM_OPTION_WRITERS,
                ),
                user_input or {},
            ),
            errors=errors,
        )
