"""MQTT: each finished job's summary, and optionally a retained status, for homes on MQTT.

Through Home Assistant's own ``mqtt`` integration (``mqtt.async_publish``), never a client
of our own, and only when the user turned it on in the options (offered once MQTT is set
up). Each is an option of its own: the summary goes to ``mqtt_topic`` (QoS 1, not retained)
when a job finishes; the status (``running`` / ``idle``, the phase, the last job's status)
to ``mqtt_status_topic``, retained, whenever it changes, so a subscriber that connects
later still sees it.

Publishing never holds up or fails a job: messages go out in order from background tasks,
and a failure (MQTT down, not set up) is logged once, then again only after a success.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.selector import BooleanSelector, TextSelector

from .compat import vol
from .const import (
    CONF_MQTT_PUBLISH,
    CONF_MQTT_STATUS,
    CONF_MQTT_STATUS_TOPIC,
    CONF_MQTT_TOPIC,
    DOMAIN,
    EVENT_ANALYSIS_COMPLETE,
    LOGGER,
    MQTT_DEFAULTS,
    MQTT_OPTIONS,
)

if TYPE_CHECKING:
    from .coordinator import AnalysisCoordinator
    from .data import AIAutomationConfigEntry

MQTT_DOMAIN: Final = "mqtt"
QOS: Final = 1
# What the summary carries of the job record (the bus event carries all of it).
SUMMARY_FIELDS: Final = (
    "id",
    "status",
    "trigger",
    "started_at",
    "finished_at",
    "duration_s",
    "events",
    "patterns",
    "suggestions",
    "new_suggestions",
    "llm_tokens",
    "llm_cost_usd",
    "error",
)
STATE_RUNNING: Final = "running"
STATE_IDLE: Final = "idle"
# How long unloading waits for the last messages (a stopped job's summary) to go out.
DRAIN_TIMEOUT_S: Final = 5.0
# MQTT's limit on a topic's length, in UTF-8 bytes.
_MAX_TOPIC_BYTES: Final = 65535


def mqtt_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The MQTT options over their defaults."""
    return {**MQTT_DEFAULTS, **{k: v for k, v in options.items() if k in MQTT_OPTIONS}}


def mqtt_set_up(hass: HomeAssistant) -> bool:
    """Whether the MQTT integration is set up here (an entry that is not disabled)."""
    return hass.config_entries.async_has_entries(MQTT_DOMAIN, include_ignore=False, include_disabled=False)


def valid_topic(topic: str) -> bool:
    """A topic one may publish to: not empty, no wildcards or NUL, not a broker's ``$`` topic."""
    return (
        bool(topic)
        and topic == topic.strip()
        and not any(c in topic for c in "+#\0")
        and not topic.startswith("$")
        and len(topic.encode("utf-8")) <= _MAX_TOPIC_BYTES
    )


def mqtt_options_schema(hass: HomeAssistant, options: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """The options-form entries for MQTT, only where the MQTT integration is set up."""
    if not mqtt_set_up(hass):
        return {}
    o = mqtt_options(options)
    return {
        vol.Required(CONF_MQTT_PUBLISH, default=o[CONF_MQTT_PUBLISH]): BooleanSelector(),
        vol.Required(CONF_MQTT_TOPIC, default=o[CONF_MQTT_TOPIC]): TextSelector(),
        vol.Required(CONF_MQTT_STATUS, default=o[CONF_MQTT_STATUS]): BooleanSelector(),
        vol.Required(CONF_MQTT_STATUS_TOPIC, default=o[CONF_MQTT_STATUS_TOPIC]): TextSelector(),
    }


def validate_mqtt_options(
    submitted: Mapping[str, Any], stored: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The MQTT options to keep and the form's errors on them.

    Where the form did not show them (MQTT is not set up now), the stored ones are kept:
    an integration that failed to load for a day does not turn the user's choice off.
    """
    if CONF_MQTT_PUBLISH not in submitted:
        return {k: v for k, v in stored.items() if k in MQTT_OPTIONS}, {}
    options = {key: submitted[key] for key in MQTT_OPTIONS if key in submitted}
    errors: dict[str, str] = {}
    for key in (CONF_MQTT_TOPIC, CONF_MQTT_STATUS_TOPIC):
        options[key] = str(options.get(key, MQTT_DEFAULTS[key])).strip()
        if not valid_topic(options[key]):
            errors[key] = "mqtt_topic_invalid"
    if not errors and options[CONF_MQTT_TOPIC] == options[CONF_MQTT_STATUS_TOPIC]:
        errors[CONF_MQTT_STATUS_TOPIC] = "mqtt_topics_same"
    return options, errors


def job_summary(job: Mapping[str, Any], pending: int) -> dict[str, Any]:
    """The analysis-complete message: the job's figures and how many suggestions await review."""
    return {**{key: job.get(key) for key in SUMMARY_FIELDS}, "pending_suggestions": pending}


def status_message(coordinator: AnalysisCoordinator) -> dict[str, Any]:
    """The retained status: running or idle, and what the last job did."""
    job, last = coordinator.current_job, coordinator.last_job
    return {
        "state": STATE_RUNNING if job is not None else STATE_IDLE,
        "job_id": job["id"] if job is not None else None,
        "trigger": job["trigger"] if job is not None else None,
        "started_at": job["started_at"] if job is not None else None,
        "phase": coordinator.phase if job is not None else None,
        "last_job_id": last["id"] if last is not None else None,
        "last_status": last["status"] if last is not None else None,
        "last_finished_at": last["finished_at"] if last is not None else None,
        "next_run": coordinator.next_run.isoformat() if coordinator.next_run else None,
        "pending_suggestions": len(coordinator.decisions.pending),
    }


def _payload(message: Mapping[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


class MqttPublisher:
    """Publishes the summaries and the status of one entry's jobs, in order."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: AIAutomationConfigEntry,
        coordinator: AnalysisCoordinator,
    ) -> None:
        """Idle until ``async_start``."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self._tail: asyncio.Task[None] | None = None
        self._failing = False
        # The retained status last queued: its topic and payload (None: none published).
        self._status: tuple[str, str] | None = None

    @property
    def options(self) -> dict[str, Any]:
        """The entry's MQTT options now (they take effect without a reload)."""
        return mqtt_options(self.entry.options)

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Listen for finished jobs and status changes; returns the unsubscribe callback."""
        unsubs: list[Callable[[], None]] = [
            self.hass.bus.async_listen(EVENT_ANALYSIS_COMPLETE, self._async_job_finished),
            # Every phase, job, schedule, decision and options change reaches the listeners.
            self.coordinator.async_add_listener(self._async_status_changed),
        ]

        @callback
        def stop() -> None:
            for unsub in unsubs:
                unsub()

        return stop

    @callback
    def _async_job_finished(self, event: Event) -> None:
        options = self.options
        if not options[CONF_MQTT_PUBLISH]:
            return
        summary = job_summary(event.data, len(self.coordinator.decisions.pending))
        self._queue(options[CONF_MQTT_TOPIC], _payload(summary), retain=False)

    @callback
    def _async_status_changed(self) -> None:
        options = self.options
        wanted = None
        if options[CONF_MQTT_STATUS]:
            wanted = (options[CONF_MQTT_STATUS_TOPIC], _payload(status_message(self.coordinator)))
        if wanted == self._status:
            return
        if self._status is not None and (wanted is None or wanted[0] != self._status[0]):
            # Turned off or moved: an empty retained message clears the old topic's status.
            self._queue(self._status[0], "", retain=True)
        self._status = wanted
        if wanted is not None:
            self._queue(wanted[0], wanted[1], retain=True)

    def _queue(self, topic: str, payload: str, *, retain: bool) -> None:
        """Publish after everything queued before (a job's summary before its idle status)."""
        previous = self._tail

        async def publish() -> None:
            if previous is not None:
                await asyncio.wait([previous])
            await self._async_publish(topic, payload, retain)

        self._tail = self.entry.async_create_background_task(
            self.hass, publish(), name=f"{DOMAIN} publish to MQTT {topic}"
        )

    async def _async_publish(self, topic: str, payload: str, retain: bool) -> None:
        # Imported here: the mqtt integration (and paho) load only for homes that use it.
        from homeassistant.components import mqtt

        try:
            if not await mqtt.async_wait_for_mqtt_client(self.hass):
                raise RuntimeError("the MQTT integration is not set up or not loaded")
            await mqtt.async_publish(self.hass, topic, payload, qos=QOS, retain=retain)
        except Exception as err:  # noqa: BLE001 - whatever MQTT raises, the job is unaffected
            if not self._failing:
                LOGGER.warning(
                    "Could not publish to MQTT topic %s: %s (further failures are not logged "
                    "until publishing works again)",
                    topic,
                    err or type(err).__name__,
                )
            self._failing = True
            return
        if self._failing:
            LOGGER.info("Publishing to MQTT works again (topic %s)", topic)
        self._failing = False

    async def async_drain(self) -> None:
        """Wait (at most ``DRAIN_TIMEOUT_S``) for what is queued to go out: before unloading."""
        if self._tail is not None and not self._tail.done():
            await asyncio.wait([self._tail], timeout=DRAIN_TIMEOUT_S)


async def async_clear_status(hass: HomeAssistant, options: Mapping[str, Any]) -> None:
    """Remove the retained status (the entry is deleted); nothing happens when MQTT is off."""
    o = mqtt_options(options)
    if not o[CONF_MQTT_STATUS] or not hass.config_entries.async_loaded_entries(MQTT_DOMAIN):
        return
    from homeassistant.components import mqtt

    try:
        await mqtt.async_publish(hass, o[CONF_MQTT_STATUS_TOPIC], "", qos=QOS, retain=True)
    except Exception as err:  # noqa: BLE001 - removing the entry goes on regardless
        LOGGER.warning("Could not clear the retained status on MQTT: %s", err)
