"""Config and options flow for AI Automation."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.core import callback
from homeassistant.helpers.selector import (
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

from .const import (
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
    DEFAULT_OPTIONS,
    DOMAIN,
    MAX_LOOKBACK_DAYS,
    MIN_LOOKBACK_DAYS,
    WEEKDAYS,
)

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


def options_schema(options: dict[str, Any]) -> vol.Schema:
    """The options form, pre-filled with ``options``."""
    o = {**DEFAULT_OPTIONS, **options}
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
    return options, errors


class AIAutomationConfigFlow(ConfigFlow, domain=DOMAIN):
    """One entry; nothing to enter: the built-in writer needs no key."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Confirm, then create the entry with default options."""
        if user_input is not None:
            return self.async_create_entry(title="AI Automation", data={}, options=dict(DEFAULT_OPTIONS))
        return self.async_show_form(step_id="user")

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> AIAutomationOptionsFlow:
        """Return the options flow."""
        return AIAutomationOptionsFlow()


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
                options_schema(dict(self.config_entry.options)), user_input or {}
            ),
            errors=errors,
        )
