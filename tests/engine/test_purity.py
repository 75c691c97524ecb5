"""The engine is a pure numpy core: nothing under ``engine/`` may import Home Assistant.

Neither may the modules beside it that promise no Home Assistant import: ``display.py``
(text made safe to show), ``wording.py`` (the built-in words) and ``llm_prompt.py`` (what
the model sees). They may import each other and the engine, and name Home Assistant's
types for the type checker only (under ``TYPE_CHECKING``, never run).
The engine's modules are discovered from the directory, so a new one is covered unasked.
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
STANDALONE_FILES = tuple(INTEGRATION_DIR / name for name in ("display.py", "wording.py", "llm_prompt.py"))
SCANNED_FILES = (*ENGINE_FILES, *STANDALONE_FILES)


def _module_name(path: Path) -> str:
    """Dotted name of ``path`` imported with the integration directory as the top level."""
    parts = path.relative_to(INTEGRATION_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


ENGINE_MODULES = tuple(_module_name(p) for p in ENGINE_FILES)
STANDALONE_MODULES = tuple(_module_name(p) for p in STANDALONE_FILES)
# What a module beside ``engine/`` may import relatively: the Home Assistant-free ones.
_HA_FREE_TOP_LEVEL = frozenset({"engine", *STANDALONE_MODULES})


def _is_homeassistant(module: str | None) -> bool:
    return module is not None and (module == "homeassistant" or module.startswith("homeassistant."))


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Ids of the nodes under ``if TYPE_CHECKING:``: read by type checkers, never run."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and (
            (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
            or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
        ):
            found.update(id(inner) for child in node.body for inner in ast.walk(child))
    return found


def _relative_import_offence(node: ast.ImportFrom, in_engine: bool) -> str | None:
    """Why a relative import may pull in Home Assistant, or None."""
    if node.level == 0:
        return None
    if node.level > 1:
        return f"relative import leaves its package (level {node.level})"
    if in_engine:
        return None
    # ``from . import x`` or ``from .coordinator import x`` would run Home Assistant code.
    top = (node.module or "").split(".", 1)[0]
    return None if top in _HA_FREE_TOP_LEVEL else f"relative import of a Home Assistant module ({top or '.'})"


def test_engine_sources_are_present() -> None:
    """The scan below looks at the real engine package (and would not pass vacuously)."""
    names = {p.name for p in ENGINE_FILES}
    assert {
        "__init__.py",
        "event_log.py",
        "local_time.py",
        "time_of_day.py",
        "minute_histogram.py",
        "day_sets.py",
        "sun_relative.py",
        "backtest.py",
        "co_occurrence.py",
    } <= names
    assert {"engine", "engine.co_occurrence", "engine.time_of_day"} <= set(ENGINE_MODULES)
    assert all(p.is_file() for p in STANDALONE_FILES)
    assert STANDALONE_MODULES == ("display", "wording", "llm_prompt")


@pytest.mark.parametrize("path", SCANNED_FILES, ids=lambda p: p.relative_to(INTEGRATION_DIR).as_posix())
def test_engine_module_has_no_homeassistant_import(path: Path) -> None:
    """No ``import homeassistant...`` or ``from homeassistant... import`` that runs.

    Relative imports may not climb out of ``engine/`` either: ``from .. import x`` would
    run the integration's ``__init__``, which imports Home Assistant. A module beside
    ``engine/`` may import relatively only the other Home Assistant-free modules.
    """
    in_engine = path.is_relative_to(ENGINE_DIR)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    typing_only = _type_checking_only(tree)
    offenders: list[str] = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            offenders += [
                f"line {node.lineno}: import {a.name}" for a in node.names if _is_homeassistant(a.name)
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and _is_homeassistant(node.module):
                offenders.append(f"line {node.lineno}: from {node.module} import ...")
            if (offence := _relative_import_offence(node, in_engine)) is not None:
                offenders.append(f"line {node.lineno}: {offence}")
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
    import types

    class NoHomeAssistant:
        def find_spec(self, fullname, path=None, target=None):
            if fullname == "homeassistant" or fullname.startswith("homeassistant."):
                raise ImportError(f"engine must not import {fullname}")
            return None

    sys.meta_path.insert(0, NoHomeAssistant())
    # The integration's directory as a package whose __init__ (it imports Home Assistant)
    # never runs: the modules' relative imports resolve, and only what they import runs.
    package = types.ModuleType("ha_free")
    package.__path__ = [sys.argv[1]]
    sys.modules["ha_free"] = package

    # The blocker really blocks.
    try:
        import homeassistant.core  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("the homeassistant blocker did not block")

    for name in sys.argv[2:]:
        importlib.import_module(f"ha_free.{name}")

    leaked = sorted(m for m in sys.modules if m == "homeassistant" or m.startswith("homeassistant."))
    assert not leaked, leaked
    assert "custom_components" not in sys.modules
    print("ok")
    """
)


def test_engine_imports_with_homeassistant_blocked() -> None:
    """``engine`` (every module of it) and the modules beside it that claim to be free of
    Home Assistant import when it cannot be imported."""
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
