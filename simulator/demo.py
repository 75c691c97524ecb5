"""The demo: a simulated home's month of history, a real Home Assistant, one analysis.

Builds a config dir, seeds the recorder database, starts ``hass``, completes onboarding
and the config flow over HTTP as a user would in the browser, runs the analysis and
prints what it found. Keeps HA running for the web UI unless ``--run-once``.
"""

from __future__ import annotations

import argparse
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
from pathlib import Path
from typing import Any

import yaml

from simulator.household import FRIENDLY_NAMES, simulate
from simulator.recorder_db import seed_database

ROOT = Path(__file__).resolve().parent.parent
TIME_ZONE = "Europe/Amsterdam"
USERNAME = "demo"
PASSWORD = "demo-password"  # a throwaway account of a local demo
CLIENT_ID = "http://127.0.0.1:{port}/"


def _configuration(port: int, db_path: Path) -> dict[str, Any]:
    """configuration.yaml: what HA needs to run with no pip installs, and the demo devices."""

    def named(prefix: str) -> dict[str, str]:
        return {e.split(".", 1)[1]: n for e, n in FRIENDLY_NAMES.items() if e.startswith(prefix)}

    noop: list[Any] = []  # template entities without a value template are optimistic
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
        "light": [
            {
                "platform": "template",
                "lights": {
                    key: {"friendly_name": name, "turn_on": noop, "turn_off": noop}
                    for key, name in named("light.").items()
                },
            }
        ],
        "switch": [
            {
                "platform": "template",
                "switches": {
                    key: {"friendly_name": name, "turn_on": noop, "turn_off": noop}
                    for key, name in named("switch.").items()
                },
            }
        ],
        "fan": [
            {
                "platform": "template",
                "fans": {
                    key: {"friendly_name": name, "turn_on": noop, "turn_off": noop}
                    for key, name in named("fan.").items()
                },
            }
        ],
        # Sensors and the TV exist too, so triggers and names are real in the suggestions.
        "template": [
            {
                "binary_sensor": [
                    {"name": name, "state": "{{ false }}"} for name in named("binary_sensor.").values()
                ]
            }
        ],
        "media_player": [{"platform": "universal", "name": name} for name in named("media_player.").values()],
        "cover": [
            {
                "platform": "template",
                "covers": {
                    key: {"friendly_name": name, "open_cover": noop, "close_cover": noop}
                    for key, name in named("cover.").items()
                },
            }
        ],
    }


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
        with urllib.request.urlopen(req, timeout=300) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def wait_up(self, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"hass exited with code {proc.returncode}; see the log")
            try:
                self.request("GET", "/api/onboarding")
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
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


def main(argv: list[str] | None = None) -> int:
    """Run the demo."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-once", action="store_true", help="stop Home Assistant after printing")
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "8123")))
    parser.add_argument("--dir", type=Path, default=ROOT / ".demo", help="where the demo config lives")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    config_dir = args.dir / "config"
    db_path = config_dir / "home-assistant_v2.db"
    write_config_dir(args.dir, _configuration(args.port, db_path))

    t0 = time.perf_counter()
    # Six numeric sensors every 5 minutes plus the household: about 60k state changes.
    household = simulate(seed=args.seed, days=30, time_zone=TIME_ZONE, numeric_sensors=6)
    rows = seed_database(f"sqlite:///{db_path}", household.changes)
    seed_s = time.perf_counter() - t0
    print(
        f"Seeded {rows} state changes (30 days, {len(household.routines)} planted routines) in {seed_s:.2f} s"
    )

    log = (args.dir / "hass.log").open("wb")
    hass_bin = Path(sys.executable).parent / "hass"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            str(hass_bin),
            "--config",
            str(config_dir),
            "--skip-pip",
            "--log-file",
            str(args.dir / "home-assistant.log"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = Client(args.port)
    # SIGTERM (a service manager, `kill`) ends the demo like Ctrl+C: Home Assistant too.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        client.wait_up(proc)
        start_s = time.perf_counter() - t0
        print(f"Home Assistant answered on http://127.0.0.1:{args.port} after {start_s:.1f} s")
        client.onboard(args.port)
        # Show every suggestion the demo home has, not just the default ten.
        client.setup_integration({"max_suggestions": 20})
        print(f"Onboarded: log in at http://127.0.0.1:{args.port} as {USERNAME} / {PASSWORD}")
        t0 = time.perf_counter()
        reply = client.request("POST", "/api/services/ai_automation/run_analysis?return_response", {})
        print(f"run_analysis answered in {time.perf_counter() - t0:.2f} s")
        result = reply["service_response"]
        _print_result(result)
        if not result["suggestions"]:
            print("No suggestions: see", args.dir / "home-assistant.log")
            return 1
        _accept_first(client, result["suggestions"])
        if args.run_once:
            return 0
        print(f"\nHome Assistant keeps running at http://127.0.0.1:{args.port} ({USERNAME} / {PASSWORD}).")
        print("The suggestions are in the notifications; Ctrl+C stops.")
        proc.wait()
        return proc.returncode or 0
    except KeyboardInterrupt:
        return 0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


if __name__ == "__main__":
    sys.exit(main())
