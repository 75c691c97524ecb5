"""MQTT: a real job's summary and status reach a real broker through HA's own mqtt integration.

Nothing is mocked: Mosquitto is the broker, Home Assistant's ``mqtt`` integration (with
paho) publishes, and the subscriber is a separate paho client, as Node-RED would be. The
main test uses the machine's broker at 127.0.0.1:1883 (``scripts/test`` starts one where
none runs); the tests that stop the broker mid-test start one of their own on a free port.
Where neither can run, they skip and say why.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Imported before any test freezes the clock: mqtt's config flow compiles dataclasses with
# datetime fields at import, which fails while freezegun stands in for datetime.
import homeassistant.components.mqtt.config_flow  # noqa: F401
import paho.mqtt.client as paho
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ai_automation.const import (
    CONF_MQTT_PUBLISH,
    CONF_MQTT_STATUS,
    CONF_MQTT_STATUS_TOPIC,
    CONF_MQTT_TOPIC,
    DEFAULT_OPTIONS,
    DOMAIN,
    MQTT_DEFAULTS,
)
from custom_components.ai_automation.mqtt_publish import (
    SUMMARY_FIELDS,
    job_summary,
    status_message,
    valid_topic,
    validate_mqtt_options,
)
from simulator.household import Household

from .conftest import LogRecords, add_entry, setup_entry

SHARED_BROKER = os.environ.get("AI_AUTOMATION_MQTT_BROKER", "127.0.0.1:1883")
WAIT_S = 15.0
# HA's mqtt client tries to reconnect this often (mqtt.client.RECONNECT_INTERVAL_SECONDS).
RECONNECT_INTERVAL_S = 10


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _mosquitto() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)), None
    )


@dataclass
class Broker:
    """A broker the tests talk to: the machine's, or one of their own they can stop."""

    host: str
    port: int
    config: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (again) our own broker on its port and wait until it takes connections."""
        assert self.config is not None
        binary = _mosquitto()
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        # Counted, not timed: the tests' clock is frozen (time.sleep is not).
        for _ in range(int(WAIT_S / 0.05)):
            if _reachable(self.host, self.port):
                return
            assert self.process.poll() is None, "mosquitto exited at start"
            time.sleep(0.05)
        raise AssertionError(f"mosquitto did not listen on {self.port} in {WAIT_S} s")

    def stop(self) -> None:
        """Stop our own broker (the connections it had are dropped)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def shared_broker(socket_enabled: None) -> Broker:
    """The machine's broker (``AI_AUTOMATION_MQTT_BROKER``, default 127.0.0.1:1883)."""
    host, _, port = SHARED_BROKER.rpartition(":")
    if not _reachable(host, int(port)):
        pytest.skip(
            f"no MQTT broker at {SHARED_BROKER} (scripts/test starts Mosquitto where it is installed)"
        )
    return Broker(host, int(port))


@pytest.fixture
def own_broker(socket_enabled: None, tmp_path: Path) -> Generator[Broker]:
    """A Mosquitto of this test's own on a free port, so the test can stop and start it."""
    if _mosquitto() is None:
        pytest.skip("Mosquitto is not installed (Debian: apt-get install mosquitto)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    broker = Broker("127.0.0.1", port, config)
    broker.start()
    yield broker
    broker.stop()


@dataclass
class Subscriber:
    """A separate MQTT client (paho, in its own thread) that keeps what it receives, by topic."""

    broker: Broker
    topics: tuple[str, ...]
    received: dict[str, queue.Queue[bytes]] = field(default_factory=dict)
    client: paho.Client | None = None

    def connect(self) -> None:
        """Connect and subscribe; returns once the broker acknowledged the subscription."""
        self.received = {topic: queue.Queue() for topic in self.topics}
        subscribed = queue.Queue[bool]()
        client = paho.Client(paho.CallbackAPIVersion.VERSION2)
        client.on_message = lambda _c, _u, msg: self.received[msg.topic].put(msg.payload)
        client.on_subscribe = lambda *_: subscribed.put(True)
        client.on_connect = lambda c, *_: c.subscribe([(t, 1) for t in self.topics])
        client.connect(self.broker.host, self.broker.port)
        client.loop_start()
        self.client = client
        assert subscribed.get(timeout=WAIT_S)

    def disconnect(self) -> None:
        """Stop the client and its thread."""
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()
            self.client = None

    def next(self, topic: str, wait: float = WAIT_S) -> dict[str, Any] | None:
        """The next message on ``topic``: its JSON, None for an empty one."""
        try:
            payload = self.received[topic].get(timeout=wait)
        except queue.Empty:
            raise AssertionError(f"nothing on {topic} in {wait} s") from None
        return json.loads(payload) if payload else None

    def until(self, topic: str, last: Callable[[dict[str, Any] | None], bool]) -> list[dict[str, Any] | None]:
        """The messages on ``topic`` up to the first one ``last`` accepts (in order, as sent).

        Waits for it: HA has its broker's acknowledgement when a publish returns, but the
        broker delivers to subscribers in its own time.
        """
        out = [self.next(topic)]
        while not last(out[-1]):
            out.append(self.next(topic))
        return out

    def drain(self, topic: str) -> list[dict[str, Any] | None]:
        """Everything received on ``topic`` and not taken yet."""
        out: list[dict[str, Any] | None] = []
        while True:
            try:
                payload = self.received[topic].get_nowait()
            except queue.Empty:
                return out
            out.append(json.loads(payload) if payload else None)


def _topics(prefix: str) -> tuple[str, str]:
    """Topics of this test's own (the shared broker keeps retained messages between runs)."""
    unique = f"{prefix}/{uuid.uuid4().hex}"
    return f"{unique}/analysis_complete", f"{unique}/status"


@pytest.fixture
def subscribers() -> Generator[list[Subscriber]]:
    """Subscribers made by a test, disconnected at its end (before the plugin's thread check)."""
    made: list[Subscriber] = []
    yield made
    for subscriber in made:
        subscriber.disconnect()


def _subscribe(made: list[Subscriber], broker: Broker, *topics: str) -> Subscriber:
    subscriber = Subscriber(broker, topics)
    subscriber.connect()
    made.append(subscriber)
    return subscriber


async def _setup_mqtt(hass: HomeAssistant, broker: Broker) -> MockConfigEntry:
    """HA's mqtt integration, configured to ``broker`` as its config flow would leave it."""
    # It reads its YAML items from configuration.yaml at setup: a home without any.
    config_yaml = Path(hass.config.path("configuration.yaml"))
    if not config_yaml.exists():
        config_yaml.write_text("")
    entry = MockConfigEntry(domain="mqtt", data={"broker": broker.host, "port": broker.port})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


@pytest.fixture
async def mqtt_entries(hass: HomeAssistant) -> AsyncGenerator[list[MockConfigEntry]]:
    """Unloads at the end what the test set up: the plugin fails a test that leaves timers."""
    entries: list[MockConfigEntry] = []
    yield entries
    for entry in reversed(entries):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
def household(seeded_household: Household) -> Household:
    """A month of the simulated household: a job with events, patterns and suggestions."""
    return seeded_household


async def async_run(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """run_analysis, then what it published: conftest's ``async_run`` waits for every
    background task, and HA's mqtt client keeps one running (its reconnect loop)."""
    response: Any = await hass.services.async_call(
        DOMAIN, "run_analysis", {}, blocking=True, return_response=True
    )
    await hass.async_block_till_done()
    await _async_published(hass, entry)
    return dict(response)


async def _async_published(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Until what the integration queued for MQTT went out (or failed)."""
    await entry.runtime_data.mqtt.async_drain()
    await hass.async_block_till_done()


def _options(topic: str, status_topic: str, status: bool = True) -> dict[str, Any]:
    return {
        CONF_MQTT_PUBLISH: True,
        CONF_MQTT_TOPIC: topic,
        CONF_MQTT_STATUS: status,
        CONF_MQTT_STATUS_TOPIC: status_topic,
    }


async def test_a_real_jobs_summary_reaches_a_subscriber(
    hass: HomeAssistant,
    recorder_mock: Any,
    shared_broker: Broker,
    subscribers: list[Subscriber],
    mqtt_entries: list[MockConfigEntry],
) -> None:
    """Every field of the summary is the job's; the retained status says running, then idle."""
    topic, status_topic = _topics("ai_automation_test")
    subscriber = _subscribe(subscribers, shared_broker, topic, status_topic)
    mqtt_entries.append(await _setup_mqtt(hass, shared_broker))
    entry = add_entry(hass, **_options(topic, status_topic))
    mqtt_entries.append(entry)
    coordinator = await setup_entry(hass, entry)
    await _async_published(hass, entry)
    # At start: idle, no job yet, the next run.
    first = subscriber.next(status_topic)
    assert first is not None
    assert first["state"] == "idle"
    assert first["last_status"] is None
    assert coordinator.next_run is not None
    assert first["next_run"] == coordinator.next_run.isoformat()

    response = await async_run(hass, entry)
    job = response["job"]
    assert job["status"] == "success"
    assert job["events"] > 0 and job["patterns"] > 0 and job["suggestions"] > 0

    summary = subscriber.next(topic)
    assert summary is not None
    assert set(summary) == {*SUMMARY_FIELDS, "pending_suggestions"}
    for key in SUMMARY_FIELDS:
        assert summary[key] == job[key], key
    assert summary["trigger"] == "manual"
    assert summary["error"] is None
    assert summary["new_suggestions"] == job["new_suggestions"] > 0
    assert summary["pending_suggestions"] == len(coordinator.decisions.pending) > 0

    # Up to the status the integration holds now: the job's phases, then idle.
    final = json.loads(json.dumps(status_message(coordinator)))
    statuses = subscriber.until(status_topic, lambda s: s == final)
    running = [s for s in statuses if s and s["state"] == "running"]
    assert running, statuses
    assert {s["job_id"] for s in running} == {job["id"]}
    assert {s["phase"] for s in running} >= {"fetch", "detect", "suggest", "publish"}
    assert statuses.index(running[-1]) < statuses.index(final)
    idle = final
    assert idle["state"] == "idle"
    assert (idle["last_job_id"], idle["last_status"], idle["last_finished_at"]) == (
        job["id"],
        "success",
        job["finished_at"],
    )

    # Retained: a subscriber that connects now still gets the status, and no summary.
    late = _subscribe(subscribers, shared_broker, topic, status_topic)
    retained = late.next(status_topic)
    assert retained == idle
    assert late.drain(topic) == []

    # Turning the status off clears it: a later subscriber gets nothing retained.
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_MQTT_STATUS: False})
    await hass.async_block_till_done()
    await _async_published(hass, entry)
    subscriber.until(status_topic, lambda s: s is None)  # the empty retained message
    later = _subscribe(subscribers, shared_broker, status_topic)
    with pytest.raises(AssertionError, match="nothing on"):
        later.next(status_topic, wait=1)

    # On again, on a topic of its own; deleting the integration clears that one.
    moved = f"{status_topic}_moved"
    watcher = _subscribe(subscribers, shared_broker, moved)
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_MQTT_STATUS: True, CONF_MQTT_STATUS_TOPIC: moved}
    )
    await hass.async_block_till_done()
    await _async_published(hass, entry)
    again = watcher.next(moved)
    assert again is not None
    assert (again["state"], again["last_job_id"]) == ("idle", job["id"])
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    watcher.until(moved, lambda s: s is None)


async def test_the_broker_stopped_mid_test_fails_no_job(
    hass: HomeAssistant,
    recorder_mock: Any,
    own_broker: Broker,
    subscribers: list[Subscriber],
    mqtt_entries: list[MockConfigEntry],
    logs: LogRecords,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Broker down: the jobs still succeed, the failure is logged once; back up: published again."""
    topic, status_topic = _topics("ai_automation")
    mqtt_entries.append(await _setup_mqtt(hass, own_broker))
    entry = add_entry(hass, **_options(topic, status_topic, status=False))
    mqtt_entries.append(entry)
    await setup_entry(hass, entry)

    own_broker.stop()
    while_down = []
    for _ in range(2):
        response = await async_run(hass, entry)
        assert response["job"]["status"] == "success"
        while_down.append(response["job"]["id"])
    warnings = [m for m in logs.at(30) if "MQTT" in m]
    assert len(warnings) == 1, warnings
    assert topic in warnings[0]

    own_broker.start()
    subscriber = _subscribe(subscribers, own_broker, topic)
    # HA's mqtt client reconnects by itself, every 10 s of the (frozen) clock: move it on.
    for _ in range(30):
        if mqtt.is_connected(hass):
            break
        freezer.tick(RECONNECT_INTERVAL_S)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        # The connection is answered on the loop: a real pause, off the loop.
        await hass.async_add_executor_job(time.sleep, 0.1)
    assert mqtt.is_connected(hass)
    response = await async_run(hass, entry)
    assert response["job"]["status"] == "success"
    # paho kept the QoS 1 messages it could not send and sends them once connected again
    # (at least once): the summaries from while it was down may come first, then this one.
    received: list[str] = []
    while not received or received[-1] != response["job"]["id"]:
        summary = await hass.async_add_executor_job(subscriber.next, topic)
        assert summary is not None
        received.append(summary["id"])
    assert set(received[:-1]) <= set(while_down), received
    assert any("works again" in m for m in logs.at(20))


async def test_mqtt_not_set_up_fails_no_job(
    hass: HomeAssistant, recorder_mock: Any, logs: LogRecords
) -> None:
    """The option on, the MQTT integration gone: the job succeeds, one warning says why."""
    entry = add_entry(hass, **_options("a/b", "a/status"))
    await setup_entry(hass, entry)
    for _ in range(2):
        assert (await async_run(hass, entry))["job"]["status"] == "success"
    warnings = [m for m in logs.at(30) if "MQTT" in m]
    assert len(warnings) == 1, warnings
    assert "not set up" in warnings[0]


# --- the options ------------------------------------------------------------------------


async def _options_form(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    return result


def _fields(result: Any) -> set[str]:
    return {str(marker.schema) for marker in result["data_schema"].schema}


@pytest.mark.parametrize("household", [None])
async def test_the_options_offer_mqtt_only_where_it_is_set_up(
    hass: HomeAssistant, recorder_mock: Any
) -> None:
    """No MQTT: no fields, and what was stored stays; MQTT set up: the fields, checked."""
    stored = _options("home/ai", "home/ai_status")
    entry = add_entry(hass, **stored)
    await setup_entry(hass, entry)
    base = {k: v for k, v in entry.options.items() if k in DEFAULT_OPTIONS}

    result = await _options_form(hass, entry)
    assert not _fields(result) & set(MQTT_DEFAULTS)
    result = await hass.config_entries.options.async_configure(result["flow_id"], base)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert {k: entry.options[k] for k in MQTT_DEFAULTS} == stored

    # Configured (loaded or not): the fields, their defaults the stored options.
    MockConfigEntry(domain="mqtt", data={"broker": "127.0.0.1"}).add_to_hass(hass)
    result = await _options_form(hass, entry)
    assert _fields(result) >= set(MQTT_DEFAULTS)
    defaults = {
        str(m.schema): m.default() for m in result["data_schema"].schema if str(m.schema) in MQTT_DEFAULTS
    }
    assert defaults == stored
    for bad, error in (
        ({CONF_MQTT_TOPIC: "home/+/ai"}, {CONF_MQTT_TOPIC: "mqtt_topic_invalid"}),
        ({CONF_MQTT_STATUS_TOPIC: "  "}, {CONF_MQTT_STATUS_TOPIC: "mqtt_topic_invalid"}),
        ({CONF_MQTT_TOPIC: "$SYS/ai"}, {CONF_MQTT_TOPIC: "mqtt_topic_invalid"}),
        ({CONF_MQTT_STATUS_TOPIC: "home/ai"}, {CONF_MQTT_STATUS_TOPIC: "mqtt_topics_same"}),
    ):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {**base, **stored, **bad}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == error
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, **stored, CONF_MQTT_TOPIC: " home/ai/done ", CONF_MQTT_STATUS: False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_MQTT_TOPIC] == "home/ai/done"
    assert entry.options[CONF_MQTT_STATUS] is False


@pytest.mark.parametrize(
    ("topic", "valid"),
    [
        ("ai_automation/analysis_complete", True),
        ("home/ünïcode topic", True),
        ("", False),
        ("a/#", False),
        ("a/+/b", False),
        ("a\0b", False),
        ("$SYS/x", False),
        (" a", False),
        ("x" * 65536, False),
    ],
)
def test_valid_topic(topic: str, valid: bool) -> None:
    assert valid_topic(topic) is valid


def test_validate_keeps_what_the_form_did_not_show() -> None:
    stored = {**DEFAULT_OPTIONS, **_options("a", "b")}
    assert validate_mqtt_options({}, stored) == (_options("a", "b"), {})
    assert validate_mqtt_options({}, DEFAULT_OPTIONS) == ({}, {})


def test_the_summary_of_a_skipped_job() -> None:
    """Every finished job has one, a skipped one too: the fields are the record's."""
    job = {key: None for key in SUMMARY_FIELDS} | {"status": "skipped_busy", "id": "x", "phases": {}}
    summary = job_summary(job, 3)
    assert summary == {**{key: job[key] for key in SUMMARY_FIELDS}, "pending_suggestions": 3}
    assert DOMAIN in str(MQTT_DEFAULTS[CONF_MQTT_TOPIC])
