"""kill -9 mid-run, for real: a real hass process killed while its job runs, then restarted.

The job is stored as it starts; the next start finds it unfinished and records it as
'interrupted'. Read back over the REST API, as a user's script would.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from simulator.demo import (
    CLIENT_ID,
    PASSWORD,
    TIME_ZONE,
    USERNAME,
    Client,
    _configuration,
    hass_version,
    write_config_dir,
)
from simulator.household import simulate
from simulator.recorder_db import seed_database

STATUS_SENSOR = "sensor.ai_automation_last_run_status"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(hass_bin: Path, config_dir: Path, log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(hass_bin), "--config", str(config_dir), "--skip-pip"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _log_in(client: Client, port: int) -> None:
    """The login form over REST (the onboarding's token does not outlive the process)."""
    client_id = CLIENT_ID.format(port=port)
    flow = client.request(
        "POST",
        "/auth/login_flow",
        {"client_id": client_id, "handler": ["homeassistant", None], "redirect_uri": client_id},
    )
    result = client.request(
        "POST",
        f"/auth/login_flow/{flow['flow_id']}",
        {"client_id": client_id, "username": USERNAME, "password": PASSWORD},
    )
    tokens = client.request(
        "POST",
        "/auth/token",
        {"grant_type": "authorization_code", "code": result["result"], "client_id": client_id},
        form=True,
    )
    client.token = tokens["access_token"]


def _wait_for(condition: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} not within {timeout} s")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _seeded_config_dir(tmp_path: Path, port: int) -> tuple[Path, Path]:
    """The hass to run and a config dir for it on ``port``, its recorder seeded with the demo home."""
    hass_bin = Path(os.environ.get("AI_AUTOMATION_HASS") or Path(sys.executable).parent / "hass")
    db_path = tmp_path / "home" / "config" / "home-assistant_v2.db"
    config_dir = write_config_dir(tmp_path / "home", _configuration(port, db_path, hass_version(hass_bin)))
    # The demo home: about 60k state changes, a read long enough to be caught mid-run.
    household = simulate(seed=1, days=30, time_zone=TIME_ZONE, numeric_sensors=6)
    seed_database(f"sqlite:///{db_path}", household.changes)
    return hass_bin, config_dir


def _kill_mid_run(hass_bin: Path, config_dir: Path, port: int, log: Any) -> tuple[Path, dict[str, Any]]:
    """Start hass, set the integration up, run the job and SIGKILL hass while it runs.

    Returns the entry's store file and the running job it held just before the kill.
    """
    storage = config_dir / ".storage"
    proc = _start(hass_bin, config_dir, log)
    try:
        client = Client(port)
        client.wait_up(proc)
        client.onboard(port)
        client.setup_integration({})
        [entry] = [
            e
            for e in client.request("GET", "/api/config/config_entries/entry")
            if e["domain"] == "ai_automation"
        ]
        jobs_file = storage / f"ai_automation.{entry['entry_id']}"
        # Home Assistant saves the user, the entry and its options a moment later:
        # they must be on disk before the kill.
        _wait_for(
            lambda: "ai_automation" in (storage / "core.config_entries").read_text()
            if (storage / "core.config_entries").exists()
            else None,
            30,
            "the config entry on disk",
        )
        time.sleep(2)

        client.request("POST", "/api/services/ai_automation/run_analysis", {})
        running = _wait_for(
            lambda: ((_read_json(jobs_file) or {}).get("data") or {}).get("running_job"),
            30,
            "the running job in the store",
            interval=0.005,
        )
        proc.kill()  # SIGKILL: nothing of Home Assistant runs after this
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    return jobs_file, running


def _restart_and_read_the_status(hass_bin: Path, config_dir: Path, port: int, log: Any) -> dict[str, Any]:
    """Start hass again on the same config dir: the status sensor's state over REST; then stop it."""
    proc = _start(hass_bin, config_dir, log)
    try:
        client = Client(port)
        # Onboarded: /api/onboarding (what Client.wait_up asks) is gone; the login is the sign.
        _wait_for(
            lambda: proc.poll() is None and _login_or_none(client, port),
            120,
            "a login after the restart",
            interval=0.5,
        )
        state = _wait_for(
            lambda: _state_or_none(client, STATUS_SENSOR),
            60,
            "the status sensor",
            interval=0.5,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
    return state


@pytest.mark.slow
def test_a_job_killed_with_sigkill_is_interrupted_after_restart(socket_enabled: None, tmp_path: Path) -> None:
    """SIGKILL while the job runs; restarted on the same config dir, the job is 'interrupted'."""
    port = _free_port()
    hass_bin, config_dir = _seeded_config_dir(tmp_path, port)

    with (tmp_path / "hass.log").open("wb") as log:
        jobs_file, running = _kill_mid_run(hass_bin, config_dir, port, log)
        stored = _read_json(jobs_file)["data"]
        assert stored["running_job"]["id"] == running["id"]
        assert running["id"] not in [j["id"] for j in stored["jobs"]], "the job finished before the kill"

        state = _restart_and_read_the_status(hass_bin, config_dir, port, log)

    assert state["state"] == "interrupted"
    assert state["attributes"]["error"] == "Home Assistant stopped before the job finished"
    newest = state["attributes"]["history"][0]
    assert newest["id"] == running["id"]
    assert newest["status"] == "interrupted"
    assert newest["duration_s"] is None
    stored = _read_json(jobs_file)["data"]
    assert stored["running_job"] is None
    assert stored["jobs"][0]["id"] == running["id"]
    assert stored["jobs"][0]["finished_at"] is None


def _login_or_none(client: Client, port: int) -> bool:
    try:
        _log_in(client, port)
    except Exception:  # noqa: BLE001 - not up yet: the auth provider loads after HTTP
        return False
    return True


def _state_or_none(client: Client, entity_id: str) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = client.request("GET", f"/api/states/{entity_id}")
    except Exception:  # noqa: BLE001 - the entity is added once the entry is set up
        return None
    return state if state.get("state") not in (None, "unknown", "unavailable") else None
