"""`scripts/demo --run-once` end to end: a real hass process, real HTTP, real recorder."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_demo_run_once_prints_suggestions(socket_enabled: None, tmp_path: Path) -> None:
    """The demo home gets validated, backtested suggestions, printed in the terminal."""
    result = subprocess.run(
        [
            str(ROOT / "scripts" / "demo"),
            "--run-once",
            "--port",
            str(_free_port()),
            "--dir",
            str(tmp_path / "demo"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Seeded " in out
    assert "log in at http://127.0.0.1:" in out
    assert ": success (manual)" in out
    # The fast reader, whatever Home Assistant version runs the demo.
    assert re.search(r"read through recorder \(with who caused each change\), (29|30) days analysed", out), (
        out
    )
    assert "* Turn on Kitchen light at 06:4" in out
    assert "on weekdays" in out
    assert "backtest: fired" in out
    assert "action: light.turn_on" in out
    # A sun-relative routine and a co-occurrence, with their triggers.
    assert "* Turn on Garden light 1" in out and "minutes after sunset" in out
    assert "trigger: sun" in out
    assert "* Turn on Hallway light when Hallway motion turns on" in out
    assert "trigger: state" in out
    # Already-automated behaviour is a pattern, never a suggestion: the porch light
    # (time-triggered automation) and the entrance light (state-triggered).
    assert "Porch light at 18:00" not in out
    assert "Entrance light" not in out
    # The best suggestion accepted through the service: a real automation entity, on.
    assert re.search(r"Accepted '.+': automation\.\w+ is on \(written to automations.yaml\)", out), out
    assert ", 1 accepted" in out
    assert re.search(r"Review the suggestions in the panel: http://127.0.0.1:\d+/ai-automation ", out), out
    automations = (tmp_path / "demo" / "config" / "automations.yaml").read_text()
    assert "id: ai_" in automations
    log = (tmp_path / "demo" / "home-assistant.log").read_text()
    assert "recovery mode" not in log.lower()
    assert "Error setting up entry AI Automation" not in log
