"""Options flow for AI Automation: the schedule, limits, entity filters, push, MQTT and LLM options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TimeSelector,
)

from .compat import vol
from .const import (
    CHAT_WRITERS,
    CONF_ANALYSIS_DAYS,
    CONF_ANALYSIS_TIME,
    CONF_CATCH_UP_GRACE,
    CONF_EXCLUDE_DOMAINS,
    CONF_EXCLUDE_ENTITIES,
    CONF_INCLUDE_DOMAINS,
    CONF_INCLUDE_ENTITIES,
    CONF_LOOKBACK_DAYS,
    CONF_MAX_SUGGESTIONS,
    CONF_MIN_CONFIDENCE,
    CONF_MONTHLY_BUDGET,
    CONF_PRICE_INPUT,
    CONF_PRICE_OUTPUT,
    CONF_PSEUDONYMIZE,
    CONF_WRITER,
    DEFAULT_LLM_OPTIONS,
    DEFAULT_OPTIONS,
    KNOWN_DOMAINS,
    MAX_LOOKBACK_DAYS,
    MIN_LOOKBACK_DAYS,
    PSEUDONYM_OPTION_WRITERS,
    WEEKDAYS,
)
from .mqtt_publish import mqtt_options_schema, validate_mqtt_options
from .push import notify_services_schema


def _number(minimum: float, maximum: float, step: float = 1, unit: str | None = None) -> NumberSelector:
    config = NumberSelectorConfig(min=minimum, max=maximum, step=step, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def _domains() -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(options=KNOWN_DOMAINS, multiple=True, custom_value=True, sort=True)
    )


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

    ``extra`` fields (the push targets, MQTT) come after the entity filters; ``pseudonym_option``
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


class AIAutomationOptionsFlow(OptionsFlow):
    """Schedule, lookback, limits and which entities to learn from."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and validate the options form."""
        errors: dict[str, str] = {}
        if user_input is not None:
            options, errors = validate_options(user_input)
            mqtt, mqtt_errors = validate_mqtt_options(user_input, self.config_entry.options)
            options.update(mqtt)
            errors.update(mqtt_errors)
            if not errors:
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                options_schema(
                    self.config_entry.options,
                    self.config_entry.data.get(CONF_WRITER) in CHAT_WRITERS,
                    {
                        **notify_services_schema(self.hass, self.config_entry.options),
                        **mqtt_options_schema(self.hass, self.config_entry.options),
                    },
                    pseudonym_option=self.config_entry.data.get(CONF_WRITER) in PSEUDONYM_OPTION_WRITERS,
                ),
                user_input or {},
            ),
            errors=errors,
        )
