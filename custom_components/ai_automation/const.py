"""Constants for AI Automation."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "ai_automation"
LOGGER = logging.getLogger(__package__)

# Options (config entry options; the entry's data stays empty).
CONF_ANALYSIS_TIME: Final = "analysis_time"
CONF_ANALYSIS_DAYS: Final = "analysis_days"
CONF_LOOKBACK_DAYS: Final = "lookback_days"
CONF_MAX_SUGGESTIONS: Final = "max_suggestions"
CONF_MIN_CONFIDENCE: Final = "min_confidence"
CONF_CATCH_UP_GRACE: Final = "catch_up_grace_minutes"
CONF_INCLUDE_ENTITIES: Final = "include_entities"
CONF_INCLUDE_DOMAINS: Final = "include_domains"
CONF_EXCLUDE_ENTITIES: Final = "exclude_entities"
CONF_EXCLUDE_DOMAINS: Final = "exclude_domains"

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

DEFAULT_ANALYSIS_TIME: Final = "03:00:00"
DEFAULT_ANALYSIS_DAYS: Final = list(WEEKDAYS)
DEFAULT_LOOKBACK_DAYS: Final = 30
DEFAULT_MAX_SUGGESTIONS: Final = 10
DEFAULT_MIN_CONFIDENCE: Final = 50  # percent
DEFAULT_CATCH_UP_GRACE: Final = 60  # minutes

MIN_LOOKBACK_DAYS: Final = 1
MAX_LOOKBACK_DAYS: Final = 90

DEFAULT_OPTIONS: Final[dict[str, object]] = {
    CONF_ANALYSIS_TIME: DEFAULT_ANALYSIS_TIME,
    CONF_ANALYSIS_DAYS: DEFAULT_ANALYSIS_DAYS,
    CONF_LOOKBACK_DAYS: DEFAULT_LOOKBACK_DAYS,
    CONF_MAX_SUGGESTIONS: DEFAULT_MAX_SUGGESTIONS,
    CONF_MIN_CONFIDENCE: DEFAULT_MIN_CONFIDENCE,
    CONF_CATCH_UP_GRACE: DEFAULT_CATCH_UP_GRACE,
    CONF_INCLUDE_ENTITIES: [],
    CONF_INCLUDE_DOMAINS: [],
    CONF_EXCLUDE_ENTITIES: [],
    CONF_EXCLUDE_DOMAINS: [],
}

# Job record vocabulary (public contract: extend, don't rename).
STATUS_SUCCESS: Final = "success"
STATUS_FAILED: Final = "failed"
STATUS_NO_DATA: Final = "no_data"
STATUS_NO_PATTERNS: Final = "no_patterns"
STATUS_INTERRUPTED: Final = "interrupted"
STATUS_SKIPPED_BUSY: Final = "skipped_busy"
JOB_STATUSES: Final = (
    STATUS_SUCCESS,
    STATUS_FAILED,
    STATUS_NO_DATA,
    STATUS_NO_PATTERNS,
    STATUS_INTERRUPTED,
    STATUS_SKIPPED_BUSY,
)
TRIGGER_SCHEDULE: Final = "schedule"
TRIGGER_CATCH_UP: Final = "catch_up"
TRIGGER_MANUAL: Final = "manual"

PHASE_FETCH: Final = "fetch"
PHASE_DETECT: Final = "detect"
PHASE_SUGGEST: Final = "suggest"
PHASE_LLM: Final = "llm"
PHASE_PUBLISH: Final = "publish"
PHASES: Final = (PHASE_FETCH, PHASE_DETECT, PHASE_SUGGEST, PHASE_LLM, PHASE_PUBLISH)

EVENT_ANALYSIS_COMPLETE: Final = "ai_automation_analysis_complete"
SERVICE_RUN_ANALYSIS: Final = "run_analysis"
ATTR_LOOKBACK_DAYS: Final = "lookback_days"

JOB_HISTORY_SIZE: Final = 30

# How long unload/stop waits for a running job to reach a phase boundary.
SHUTDOWN_WAIT_S: Final = 10.0

NOTIFICATION_PREFIX: Final = f"{DOMAIN}_suggestion_"

# The writer that words the suggestions (config entry data; secrets live there too).
CONF_WRITER: Final = "writer"
CONF_MODEL: Final = "model"
CONF_AGENT_ID: Final = "agent_id"
CONF_AI_TASK_ENTITY: Final = "ai_task_entity_id"  # None: the default of HA's AI Task preferences
WRITER_BUILTIN: Final = "builtin"
WRITER_OPENAI: Final = "openai"
WRITER_OPENAI_COMPATIBLE: Final = "openai_compatible"
WRITER_CONVERSATION: Final = "conversation"
WRITER_AI_TASK: Final = "ai_task"  # offered only where Home Assistant has AI Task (2025.8+)
WRITERS: Final = (
    WRITER_BUILTIN,
    WRITER_OPENAI,
    WRITER_OPENAI_COMPATIBLE,
    WRITER_CONVERSATION,
    WRITER_AI_TASK,
)
DEFAULT_OPENAI_MODEL: Final = "gpt-4o-mini"
# Writers that call a chat API (paid or self-hosted): tokens, cost, a key, privacy options.
CHAT_WRITERS: Final = (WRITER_OPENAI, WRITER_OPENAI_COMPATIBLE)
# Writers whose "pseudonymise device names" option applies. An AI Task gets no tools (no
# llm_api), so like a chat API it only reads names; a conversation agent always gets
# pseudonyms (it may control the home).
PSEUDONYM_OPTION_WRITERS: Final = (*CHAT_WRITERS, WRITER_AI_TASK)

# LLM options (config entry options; shown when a writer other than the built-in one is set).
CONF_PSEUDONYMIZE: Final = "pseudonymize_names"
CONF_MONTHLY_BUDGET: Final = "monthly_budget_usd"
CONF_PRICE_INPUT: Final = "price_input_per_mtok"
CONF_PRICE_OUTPUT: Final = "price_output_per_mtok"
DEFAULT_LLM_OPTIONS: Final[dict[str, object]] = {
    CONF_PSEUDONYMIZE: False,
    CONF_MONTHLY_BUDGET: 0.0,  # USD; 0 = no budget
}

# Suggestions and the household's decisions on them (service field names are contract).
SERVICE_ACCEPT_SUGGESTION: Final = "accept_suggestion"
SERVICE_DISMISS_SUGGESTION: Final = "dismiss_suggestion"
SERVICE_LIST_SUGGESTIONS: Final = "list_suggestions"
SERVICE_CLEAR_HISTORY: Final = "clear_history"
ATTR_SUGGESTION_ID: Final = "suggestion_id"
ATTR_ENABLED: Final = "enabled"
ATTR_DAYS: Final = "days"
MAX_DISMISS_DAYS: Final = 3650
SUGGESTION_PENDING: Final = "pending"
SUGGESTION_ACCEPTED: Final = "accepted"
SUGGESTION_DISMISSED: Final = "dismissed"

# Push: notify services (e.g. the companion app's notify.mobile_app_*) told about new suggestions.
CONF_NOTIFY_SERVICES: Final = "notify_services"
CONF_BASE_URL: Final = "base_url"  # an OpenAI-compatible server, e.g. http://host:11434/v1

# MQTT (offered once the MQTT integration is set up; see ``mqtt_publish``). Not in
# DEFAULT_OPTIONS: an entry that never saw them keeps the options it had.
CONF_MQTT_PUBLISH: Final = "mqtt_publish"
CONF_MQTT_TOPIC: Final = "mqtt_topic"
CONF_MQTT_STATUS: Final = "mqtt_status"
CONF_MQTT_STATUS_TOPIC: Final = "mqtt_status_topic"
MQTT_DEFAULTS: Final[dict[str, object]] = {
    CONF_MQTT_PUBLISH: False,
    CONF_MQTT_TOPIC: f"{DOMAIN}/analysis_complete",
    CONF_MQTT_STATUS: False,
    CONF_MQTT_STATUS_TOPIC: f"{DOMAIN}/status",
}
MQTT_OPTIONS: Final = tuple(MQTT_DEFAULTS)

# Domains a person switches (by hand, app or voice); any other change with neither user
# nor automation behind it is the system's own doing.
CONTROLLABLE_DOMAINS: Final = frozenset(
    {
        "climate",
        "cover",
        "fan",
        "humidifier",
        "input_boolean",
        "input_select",
        "light",
        "lock",
        "media_player",
        "scene",
        "select",
        "siren",
        "switch",
        "vacuum",
        "valve",
        "water_heater",
    }
)
# Domains offered in the include/exclude pickers (users may type others): what a person
# switches plus the sensors and presence that explain why.
# Entities the system drives, not the household: the sun's state, update entities, the
# weather, automations and scripts themselves (what they do is attributed to them), scenes,
# zones. Never read, so never a routine nor a trigger, unless the user names one in the
# included entities.
SYSTEM_DOMAINS: Final = frozenset(
    {"sun", "update", "weather", "automation", "script", "scene", "zone", "event", "button", "tts", "stt"}
)
KNOWN_DOMAINS: Final = sorted(CONTROLLABLE_DOMAINS | {"binary_sensor", "person", "sensor"})
