"""The demo: a simulated home's month of history, a real Home Assistant, one analysis.

Builds a config dir, seeds the recorder database, starts ``hass``, completes onboarding
and the config flow over HTTP as a user would in the browser, runs the analysis and
prints what it found. Keeps HA running for the web UI unless ``--run-once``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import numpy as np
import yaml

from custom_components.ai_automation.panel import panel_path
from simulator.household import FRIENDLY_NAMES, PHYSICAL, Change, simulate
from simulator.recorder_db import seed_database

ROOT = Path(__file__).resolve().parent.parent
TIME_ZONE = "Europe/Amsterdam"
USERNAME = "demo"
PASSWORD = "demo-password"  # a throwaway account of a local demo
CLIENT_ID = "http://127.0.0.1:{port}/"


# The simulated home's devices: template entities in the `template:` integration's syntax.
# What each domain's actions are called there; all are no-ops (an entity without a state
# template is optimistic: it takes the state its actions ask for).
_ACTIONS = {
    "light": ("turn_on", "turn_off"),
    "switch": ("turn_on", "turn_off"),
    "fan": ("turn_on", "turn_off"),
    "cover": ("open_cover", "close_cover"),
}
# From this release on the fan and the blinds are `template:` entities too. 2025.4's
# `template:` integration has lights and switches but no fans or covers; 2026.10 refuses
# the legacy `platform: template` form, so it has them (the exact release in between that
# added them does not matter: before 2026.10 the legacy form works, and is used).
_MODERN_FANS_AND_COVERS = (2026, 10)


def _unique_id(entity_id: str) -> str:
    return "ai_automation_demo_" + entity_id.replace(".", "_")


# Bedtime in the demo: the lounge light and its floor lamp off a minute apart at about
# 22:40 (one suggestion of both: the review panel's parts).
BEDTIME_LIGHTS = {"light.lounge": "Lounge", "light.lounge_floor_lamp": "Lounge floor lamp"}


def bedtime(seed: int, days: int, end: datetime) -> list[Change]:
    """The lounge lights on in the evening and off together at bedtime (a generator of its own)."""
    rng = np.random.default_rng([seed, 0xBED])
    tz = ZoneInfo(TIME_ZONE)
    out: list[Change] = []
    last = end.astimezone(tz).date()
    for n in range(days, 0, -1):
        day = last - timedelta(days=n)
        midnight = datetime.combine(day, datetime.min.time(), tz).timestamp()
        if rng.random() < 0.07:
            continue
        night = midnight + (22 * 60 + 40 + rng.normal(0, 6)) * 60
        first, second = rng.permutation(list(BEDTIME_LIGHTS))
        for entity_id, at in ((first, night), (second, night + float(rng.uniform(20, 90)))):
            out.append(Change(str(entity_id), "on", midnight + float(rng.uniform(18, 20)) * 3600, PHYSICAL))
            out.append(Change(str(entity_id), "off", at, PHYSICAL))
    return out


def _devices(domain: str) -> dict[str, str]:
    """The demo's entities of ``domain``: entity id -> friendly name."""
    names = {**FRIENDLY_NAMES, **BEDTIME_LIGHTS}
    return {e: n for e, n in names.items() if e.startswith(domain + ".")}


def installed_ha_version() -> tuple[int, int]:
    """(year, month) of the Home Assistant installed with this Python."""
    year, month = importlib.metadata.version("homeassistant").split(".")[:2]
    return int(year), int(month)


def hass_version(hass_bin: Path) -> tuple[int, int]:
    """(year, month) of the Home Assistant that ``hass_bin`` runs (another venv's maybe)."""
    out = subprocess.run([str(hass_bin), "--version"], capture_output=True, text=True, check=True)
    year, month = out.stdout.strip().split(".")[:2]
    return int(year), int(month)


def _configuration(port: int, db_path: Path, ha_version: tuple[int, int] | None = None) -> dict[str, Any]:
    """configuration.yaml: what HA needs to run with no pip installs, and the demo devices
    for Home Assistant ``ha_version`` (default: the one installed here)."""
    # Long on purpose: the demo's configuration.yaml as one literal, as a user reads it.
    modern_fans_and_covers = (ha_version or installed_ha_version()) >= _MODERN_FANS_AND_COVERS
    # The `template:` integration names an entity's id after its name ("Kitchen light" ->
    # light.kitchen_light); the seeded history uses other ids (light.kitchen). The unique
    # ids and the entity registry write_config_dir seeds (_entity_registry) keep them: the
    # one way that works on every release (`default_entity_id` is newer than 2025.4).
    template: list[dict[str, Any]] = []
    legacy: dict[str, Any] = {}
    # Every no-op action its own empty list: a shared one would be written as a YAML anchor.
    for domain, (on, off) in _ACTIONS.items():
        devices = _devices(domain)
        if domain in ("fan", "cover") and not modern_fans_and_covers:
            legacy[domain] = [
                {
                    "platform": "template",
                    domain + "s": {
                        entity_id.split(".", 1)[1]: {
                            "friendly_name": name,
                            "unique_id": _unique_id(entity_id),
                            on: [],
                            off: [],
                        }
                        for entity_id, name in devices.items()
                    },
                }
            ]
            continue
        template.append(
            {
                domain: [
                    {"name": name, "unique_id": _unique_id(entity_id), on: [], off: []}
                    for entity_id, name in devices.items()
                ]
            }
        )
    # Sensors and the TV exist too, so triggers and names are real in the suggestions.
    template.append(
        {
            "binary_sensor": [
                {"name": name, "unique_id": _unique_id(entity_id), "state": "{{ false }}"}
                for entity_id, name in _devices("binary_sensor").items()
            ]
        }
    )
    return {
        "homeassistant": {
            "name": "Demo home",
            "time_zone": TIME_ZONE,
            "latitude": 52.37,
            "longitude": 4.89,
            "elevation": 0,
            "unit_system": "metric",
            "currency": "EUR",
            "country": "NL",
        },
        "http": {"server_host": "127.0.0.1", "server_port": port},
        "api": {},
        "auth": {},
        "config": {},
        "frontend": {},
        "history": {},
        "logbook": {},
        "onboarding": {},
        "persistent_notification": {},
        "websocket_api": {},
        "automation": "!include automations.yaml",
        "recorder": {"db_url": f"sqlite:///{db_path}", "purge_keep_days": 60},
        "template": template,
        **legacy,
        "media_player": [
            {"platform": "universal", "name": name} for name in _devices("media_player").values()
        ],
    }


def _entity_registry() -> dict[str, Any]:
    """.storage/core.entity_registry with the demo's template entities under their ids.

    Written in the registry's first format (1.1): every release migrates it to its own,
    so the same file serves 2025.4 and 2026.11.
    """
    entities = [
        {"entity_id": entity_id, "platform": "template", "unique_id": _unique_id(entity_id)}
        for domain in (*_ACTIONS, "binary_sensor")
        for entity_id in _devices(domain)
    ]
    return {
        "version": 1,
        "minor_version": 1,
        "key": "core.entity_registry",
        "data": {"entities": entities},
    }


class HomeAssistantHTTPError(RuntimeError):
    """Home Assistant answered with an error status."""


class Client:
    """Just enough of HA's REST API, with the standard library."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token: str | None = None

    def request(self, method: str, path: str, body: Any = None, form: bool = False) -> Any:
        headers = {}
        data = None
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=300) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            # What Home Assistant said, not just the status ("Failed dependencies ...").
            detail = err.read().decode(errors="replace")[:500]
            raise HomeAssistantHTTPError(f"{method} {path}: HTTP {err.code} {detail}") from None
        return json.loads(raw) if raw else None

    def websocket(self, message: dict[str, Any]) -> dict[str, Any]:
        """One websocket command (after onboarding); its whole answer."""

        async def call() -> dict[str, Any]:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(self.base.replace("http", "ws", 1) + "/api/websocket") as ws,
            ):
                await ws.receive_json()  # auth_required
                await ws.send_json({"type": "auth", "access_token": self.token})
                await ws.receive_json()  # auth_ok
                await ws.send_json({"id": 1, **message})
                answer: dict[str, Any] = await ws.receive_json()
                return answer

        return asyncio.run(call())

    def keep_http_config(self) -> None:
        """Confirm the demo's port and address where Home Assistant asks for it.

        Since 2026.11 the ``http:`` of configuration.yaml moves into Home Assistant's
        storage as a *pending* config the user must confirm, or it reverts (restarting
        Home Assistant on port 8123) after five minutes; older releases have no such step.
        """
        current = self.websocket({"type": "http/config"})
        if current.get("success") and current["result"].get("pending"):
            promoted = self.websocket({"type": "http/config/promote"})
            if not promoted.get("success"):
                raise RuntimeError(f"Could not confirm the demo's HTTP settings: {promoted}")

    def wait_up(self, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"hass exited with code {proc.returncode}; see the log")
            try:
                self.request("GET", "/api/onboarding")
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError, HomeAssistantHTTPError):
                time.sleep(0.2)
        raise RuntimeError("Home Assistant did not answer in time")

    def onboard(self, port: int) -> None:
        client_id = CLIENT_ID.format(port=port)
        result = self.request(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": client_id,
                "name": "Demo",
                "username": USERNAME,
                "password": PASSWORD,
                "language": "en",
            },
        )
        tokens = self.request(
            "POST",
            "/auth/token",
            {"grant_type": "authorization_code", "code": result["auth_code"], "client_id": client_id},
            form=True,
        )
        self.token = tokens["access_token"]

    def setup_integration(self, options: dict[str, Any]) -> None:
        """Add the integration, then set options, as a user does in the UI."""
        flow = self.request("POST", "/api/config/config_entries/flow", {"handler": "ai_automation"})
        if flow.get("type") == "form":
            flow = self.request("POST", f"/api/config/config_entries/flow/{flow['flow_id']}", {})
        if flow.get("type") != "create_entry":
            raise RuntimeError(f"Config flow did not create the entry: {flow}")
        entry_id = flow["result"]["entry_id"]
        form = self.request("POST", "/api/config/config_entries/options/flow", {"handler": entry_id})
        defaults = {
            field["name"]: field["description"]["suggested_value"]
            if "suggested_value" in field.get("description", {})
            else field.get("default")
            for field in form["data_schema"]
        }
        done = self.request(
            "POST", f"/api/config/config_entries/options/flow/{form['flow_id']}", {**defaults, **options}
        )
        if done.get("type") != "create_entry":
            raise RuntimeError(f"Options flow did not save: {done}")


def _print_result(result: dict[str, Any]) -> None:
    job = result["job"]
    print(f"\nJob {job['id']}: {job['status']} ({job['trigger']}), {job['duration_s']:.2f} s")
    print("  phases: " + ", ".join(f"{k} {v:.3f} s" for k, v in job["phases"].items()))
    print(f"  {job['events']} state changes of {job['entities']} entities -> {job['patterns']} patterns")
    origins = "with who caused each change" if job.get("origin_known") else "origin unknown"
    print(f"  read through {job['source']} ({origins}), {job.get('days_analysed')} days analysed")
    print(f"\n{len(result['suggestions'])} suggestions:")
    for s in result["suggestions"]:
        bt = s["backtest"]
        print(f"\n* {s['title']}")
        print(f"  {s['description']}")
        print(
            f"  backtest: fired {bt['would_have_fired']}, matched {bt['matched']},"
            f" precision {bt['precision']:.0%}"
        )
        print("  " + yaml.safe_dump(s["automation"], sort_keys=False).replace("\n", "\n  ").rstrip())


def write_config_dir(base: Path, configuration: dict[str, Any]) -> Path:
    """A fresh ``base/config`` for a real hass: this integration, the configuration,
    an empty automations.yaml, and onboarding past its "user" step."""
    config_dir = base / "config"
    shutil.rmtree(base, ignore_errors=True)
    (config_dir / "custom_components").mkdir(parents=True)
    (config_dir / "custom_components" / "ai_automation").symlink_to(
        ROOT / "custom_components" / "ai_automation"
    )
    text = yaml.safe_dump(configuration, sort_keys=False)
    (config_dir / "configuration.yaml").write_text(
        text.replace("'!include automations.yaml'", "!include automations.yaml")
    )
    (config_dir / "automations.yaml").write_text("[]\n")
    # Mark the onboarding steps after "user" done: the core_config step would set up
    # integrations (weather, radio, TTS) whose packages a --skip-pip HA does not have.
    (config_dir / ".storage").mkdir()
    (config_dir / ".storage" / "onboarding").write_text(
        json.dumps(
            {
                "version": 4,
                "minor_version": 1,
                "key": "onboarding",
                "data": {"done": ["core_config", "analytics", "integration"]},
            }
        )
    )
    (config_dir / ".storage" / "core.entity_registry").write_text(json.dumps(_entity_registry()))
    return config_dir


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _accept_first(client: Client, suggestions: list[dict[str, Any]]) -> None:
    """Accept the best suggestion as the demo user would, and show the automation it made."""
    best = suggestions[0]
    reply = client.request(
        "POST",
        "/api/services/ai_automation/accept_suggestion?return_response",
        {"suggestion_id": best["id"]},
    )
    entity_id = reply["service_response"]["automation_entity_id"]
    state = client.request("GET", f"/api/states/{entity_id}")
    print(f"\nAccepted '{best['title']}': {entity_id} is {state['state']} (written to automations.yaml)")
    pending = client.request("POST", "/api/services/ai_automation/list_suggestions?return_response", {})
    lists = pending["service_response"]
    print(f"Suggestions now: {len(lists['pending'])} pending, {len(lists['accepted'])} accepted")


@dataclass
class DemoHome:
    """A running demo: the REST client (onboarded, the integration set up) and its process."""

    client: Client
    proc: subprocess.Popen[bytes]
    url: str
    config_dir: Path


@contextmanager
def running_home(base: Path, port: int, seed: int = 1, hass_bin: Path | None = None) -> Iterator[DemoHome]:
    """Seed the simulated month, start a real hass on it, onboard, add the integration.

    Home Assistant is stopped on the way out (also on an error or Ctrl+C).
    """
    config_dir = base / "config"
    db_path = config_dir / "home-assistant_v2.db"
    # AI_AUTOMATION_HASS: another environment's hass (the current test leg's newest HA).
    hass_bin = hass_bin or Path(os.environ.get("AI_AUTOMATION_HASS") or Path(sys.executable).parent / "hass")
    write_config_dir(base, _configuration(port, db_path, hass_version(hass_bin)))

    t0 = time.perf_counter()
    # Six numeric sensors every 5 minutes plus the household: about 60k state changes.
    household = simulate(seed=seed, days=30, time_zone=TIME_ZONE, numeric_sensors=6)
    assert household.end is not None
    changes = sorted([*household.changes, *bedtime(seed, 30, household.end)], key=lambda c: c.ts)
    rows = seed_database(f"sqlite:///{db_path}", changes)
    seed_s = time.perf_counter() - t0
    print(
        f"Seeded {rows} state changes (30 days, {len(household.routines)} planted routines) in {seed_s:.2f} s"
    )

    log = (base / "hass.log").open("wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            str(hass_bin),
            "--config",
            str(config_dir),
            "--skip-pip",
            "--log-file",
            str(base / "home-assistant.log"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = Client(port)
    try:
        client.wait_up(proc)
        print(f"Home Assistant answered on http://127.0.0.1:{port} after {time.perf_counter() - t0:.1f} s")
        client.onboard(port)
        client.keep_http_config()
        # Show every suggestion the demo home has, not just the default ten.
        client.setup_integration({"max_suggestions": 20})
        print(f"Onboarded: log in at http://127.0.0.1:{port} as {USERNAME} / {PASSWORD}")
        yield DemoHome(client, proc, f"http://127.0.0.1:{port}", config_dir)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def main(argv: list[str] | None = None) -> int:
    """Run the demo."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-once", action="store_true", help="stop Home Assistant after printing")
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "8123")))
    parser.add_argument("--dir", type=Path, default=ROOT / ".demo", help="where the demo config lives")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    # SIGTERM (a service manager, `kill`) ends the demo like Ctrl+C: Home Assistant too.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with running_home(args.dir, args.port, args.seed) as home:
            client = home.client
            t0 = time.perf_counter()
            reply = client.request("POST", "/api/services/ai_automation/run_analysis?return_response", {})
            print(f"run_analysis answered in {time.perf_counter() - t0:.2f} s")
            result = reply["service_response"]
            _print_result(result)
            if not result["suggestions"]:
                print("No suggestions: see", args.dir / "home-assistant.log")
                return 1
            _accept_first(client, result["suggestions"])
            print(
                f"\nReview the suggestions in the panel: {home.url}{panel_path()} ({USERNAME} / {PASSWORD})"
            )
            if args.run_once:
                return 0
            print(f"Home Assistant keeps running at {home.url}; Ctrl+C stops.")
            home.proc.wait()
            return home.proc.returncode or 0
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
