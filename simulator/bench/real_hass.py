"""A real ``hass`` process for the benchmark: the demo's configuration, the probes, a seeded database.

The probes (``loop_lag_probe/``, ``memory_probe/`` next to this file) are custom
integrations; the config dir's ``custom_components`` links to them as it links to
this repo's integration.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.demo import Client, _configuration, write_config_dir

PROBES = Path(__file__).resolve().parent
LOOP_LAG_PROBE = "loop_lag_probe"
MEMORY_PROBE = "memory_probe"


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_hass_config(
    base: Path, port: int, db_path: Path, probes: Sequence[str], integration: Path | None = None
) -> Path:
    """The demo's configuration (see simulator.demo) plus ``probes``, on ``db_path``.

    ``integration``: another copy of ``custom_components/ai_automation`` to run (a change
    tried out of the repo), instead of this repo's.
    """
    config = _configuration(port, db_path)
    for probe in probes:
        config[probe] = {}
    config_dir = write_config_dir(base, config)
    components = config_dir / "custom_components"
    for probe in probes:
        (components / probe).symlink_to(PROBES / probe)
    if integration is not None:
        (components / "ai_automation").unlink()
        (components / "ai_automation").symlink_to(integration.resolve())
    return config_dir


@dataclass(slots=True)
class RealHass:
    """A started, onboarded hass with the integration set up, and how to talk to it."""

    client: Client
    start_s: float
    log: Path

    def call(self, domain: str, service: str, data: dict[str, Any] | None = None) -> Any:
        """Call a service that returns a response; return that response."""
        reply = self.client.request("POST", f"/api/services/{domain}/{service}?return_response", data or {})
        return reply["service_response"]


@contextmanager
def running_hass(
    base: Path, port: int, db_path: Path, probes: Sequence[str], integration: Path | None = None
) -> Iterator[RealHass]:
    """Start ``hass`` on ``db_path``, onboard, add the integration; stop it on leaving."""
    config_dir = write_hass_config(base, port, db_path, probes, integration)
    log_file = base / "home-assistant.log"
    t0 = time.perf_counter()
    with (base / "hass.log").open("wb") as out:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "hass"),
                "--config",
                str(config_dir),
                "--skip-pip",
                "--log-file",
                str(log_file),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            client = Client(port)
            client.wait_up(proc)
            start_s = time.perf_counter() - t0
            client.onboard(port)
            client.setup_integration({})
            yield RealHass(client, start_s, log_file)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
