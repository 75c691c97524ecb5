"""The engine is a pure numpy core: nothing under ``engine/`` may import Home Assistant.

Neither may ``display.py``, whose docstring promises pure functions with no Home Assistant
import.
Both lists are discovered from the directory, so a new engine module is covered unasked.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

INTEGRATION_DIR = Path(__file__).resolve().parents[2] / "custom_components" / "ai_automation"
ENGINE_DIR = INTEGRATION_DIR / "engine"
ENGINE_FILES = sorted(ENGINE_DIR.rglob("*.py"))
# Modules outside engine/ that claim to be Home Assistant-free too.
STANDALONE_FILES = (INTEGRATION_DIR / "display.py",)
SCANNED_FILES = (*ENGINE_FILES, *STANDALONE_FILES)


def _module_name(path: Path) -> str:
    """Dotted name of ``path`` imported with the integration directory as the top level."""
    parts = path.relative_to(INTEGRATION_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


ENGINE_MODULES = tuple(_module_name(p) for p in ENGINE_FILES)
STANDALONE_MODULES = tuple(_module_name(p) for p in STANDALONE_FILES)


def _is_homeassistant(module: str | None) -> bool:
    return module is not None and (module == "homeassistant" or module.startswith("homeassistant."))


def test_engine_sources_are_present() -> None:
    """The scan below looks at the real engine package (and would not pass vacuously)."""
    names = {p.name for p in ENGINE_FILES}
    assert {
        "__init__.py",
        "event_log.py",
        "local_time.py",
        "time_of_day.py",
        "backtest.py",
        "co_occurrence.py",
    } <= names
    assert {"engine", "engine.co_occurrence", "engine.time_of_day"} <= set(ENGINE_MODULES)
    assert all(p.is_file() for p in STANDALONE_FILES)
    assert STANDALONE_MODULES == ("display",)


@pytest.mark.parametrize("path", SCANNED_FILES, ids=lambda p: p.relative_to(INTEGRATION_DIR).as_posix())
def test_engine_module_has_no_homeassistant_import(path: Path) -> None:
    """No ``import homeassistant...`` or ``from homeassistant... import`` anywhere in the file.

    Relative imports may not climb out of ``engine/`` either: ``from .. import x`` would
    run the integration's ``__init__``, which imports Home Assistant. A module beside
    ``engine/`` (``display.py``) may not import relatively at all, for the same reason.
    """
    max_level = 1 if path.is_relative_to(ENGINE_DIR) else 0
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    offenders: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            offenders += [
                f"line {node.lineno}: import {a.name}" for a in node.names if _is_homeassistant(a.name)
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and _is_homeassistant(node.module):
                offenders.append(f"line {node.lineno}: from {node.module} import ...")
            if node.level > max_level:
                offenders.append(
                    f"line {node.lineno}: relative import leaves its package (level {node.level})"
                )
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and _is_homeassistant(node.args[0].value)
        ):
            offenders.append(f"line {node.lineno}: dynamic import of {node.args[0].value}")
    assert offenders == []


_IMPORT_WITHOUT_HA = textwrap.dedent(
    """
    import importlib
    import sys

    class NoHomeAssistant:
        def find_spec(self, fullname, path=None, target=None):
            if fullname == "homeassistant" or fullname.startswith("homeassistant."):
                raise ImportError(f"engine must not import {fullname}")
            return None

    sys.meta_path.insert(0, NoHomeAssistant())
    sys.path.insert(0, sys.argv[1])

    # The blocker really blocks.
    try:
        import homeassistant.core  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("the homeassistant blocker did not block")

    for name in sys.argv[2:]:
        importlib.import_module(name)

    leaked = sorted(m for m in sys.modules if m == "homeassistant" or m.startswith("homeassistant."))
    assert not leaked, leaked
    assert "custom_components" not in sys.modules
    print("ok")
    """
)


def test_engine_imports_with_homeassistant_blocked() -> None:
    """``engine`` (every module of it) and ``display`` imported as top-level modules work
    when Home Assistant cannot be imported."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _IMPORT_WITHOUT_HA,
            str(INTEGRATION_DIR),
            *ENGINE_MODULES,
            *STANDALONE_MODULES,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=INTEGRATION_DIR,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
