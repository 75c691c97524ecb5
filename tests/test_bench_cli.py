"""scripts/bench: its options, and the probe integrations it links into a real hass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from simulator.bench.cli import _parse_sizes, _parser, main
from simulator.bench.loop_lag import _explain_stalls
from simulator.bench.real_hass import LOOP_LAG_PROBE, MEMORY_PROBE, PROBES, write_hass_config
from simulator.bench.repeat import RepeatResult


def test_sizes_are_sorted_row_counts_of_ten_thousand_or_more() -> None:
    """'1_000_000,60000' is two sizes, smallest first; a tiny home is refused."""
    assert _parse_sizes("1_000_000,60000") == [60_000, 1_000_000]
    with pytest.raises(Exception, match="10000 or more"):
        _parse_sizes("5000")


def test_the_options_of_the_benchmark_and_of_the_repeat_run() -> None:
    """Defaults as documented; --repeat takes a run count."""
    args = _parser().parse_args([])
    assert (args.sizes, args.runs, args.repeat, args.skip_hass) == ([60_000, 1_000_000], 3, None, False)
    assert _parser().parse_args(["--large"]).large is True
    args = _parser().parse_args(["--repeat", "100", "--trace-memory", "--sizes", "10000"])
    assert (args.repeat, args.trace_memory, args.sizes) == (100, True, [10_000])
    with pytest.raises(SystemExit):
        main(["--repeat", "0"])


@pytest.mark.parametrize("probe", [LOOP_LAG_PROBE, MEMORY_PROBE])
def test_a_probe_is_an_integration_hass_can_load(probe: str) -> None:
    """Its folder is its domain; services.yaml describes the services it registers."""
    folder = PROBES / probe
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["domain"] == probe
    services = yaml.safe_load((folder / "services.yaml").read_text())
    source = (folder / "__init__.py").read_text()
    assert services
    assert all(f'"{name}"' in source for name in services)


def test_the_config_dir_links_the_probes_and_the_integration(tmp_path: Path) -> None:
    """Real files, linked: nothing is written out of a string at run time."""
    other = tmp_path / "copy" / "ai_automation"
    other.mkdir(parents=True)
    config_dir = write_hass_config(tmp_path / "hass", 8123, tmp_path / "db", [MEMORY_PROBE], other)
    components = config_dir / "custom_components"
    assert (components / MEMORY_PROBE).resolve() == PROBES / MEMORY_PROBE
    assert (components / "ai_automation").resolve() == other.resolve()
    assert MEMORY_PROBE in yaml.safe_load(
        (config_dir / "configuration.yaml").read_text().replace("!include", "")
    )


def test_a_stall_is_put_down_to_the_gc_pause_inside_it() -> None:
    """A tick 120 ms late during the fetch, with a 110 ms collection in it."""
    job = {"started_at": "2026-01-01T00:00:00+00:00", "phases": {"fetch_s": 2.0, "detect_s": 1.0}}
    at = 1767225600.0  # the job's start
    lag = {
        "slow": [{"lag_ms": 120.0, "from": at + 0.5, "to": at + 0.62}],
        "gc": [{"generation": 2, "ms": 110.0, "at": at + 0.505, "thread": "Recorder"}],
        "samples": [],
    }
    assert _explain_stalls(job, lag) == ["stall 120 ms in fetch: gen-2 GC 110 ms in Recorder"]


def test_growth_after_the_warm_up_is_from_run_ten_to_the_last() -> None:
    """RSS read at 1, 10 and 100: the warm-up's growth does not count."""
    result = RepeatResult(rows=10_000, runs=100, rss={1: 100 << 20, 10: 130 << 20, 100: 133 << 20})
    assert result.growth_after_warm_up == 3 << 20


def test_the_distinct_states_measurement_runs_and_counts() -> None:
    """A small home with 2,000 distinct text/timestamp values: measured, nothing asserted on speed."""
    from simulator.bench.distinct import measure_distinct

    assert _parser().parse_args(["--distinct", "50000"]).distinct == 50_000
    result = measure_distinct(2_000, events=50_000)
    assert result.events >= 45_000
    assert result.distinct >= 2_000
    assert result.patterns > 0
