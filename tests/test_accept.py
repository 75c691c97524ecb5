"""accept_suggestion: the automation lands in automations.yaml as the editor writes it and runs."""

from __future__ import annotations

import errno
import os
from collections.abc import AsyncGenerator, Callable, Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import yaml
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.ai_automation.const import DEFAULT_OPTIONS, DOMAIN
from simulator.household import Household

from .conftest import async_run
from .decisions_helpers import (
    WORKDAYS,
    async_accept,
    async_dismiss,
    async_list,
    async_remove_automations,
    async_setup_automations,
    has_notification,
    kitchen_automation,
    kitchen_morning,
    record,
    store_records,
    write_config,
)

PENDING_ID = "ai_00000000000000aa"
INCLUDE = "automation: !include automations.yaml\n"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A configuration directory of this test: configuration.yaml includes automations.yaml."""
    write_config(tmp_path, INCLUDE, "[]\n")
    return tmp_path


@pytest.fixture(autouse=True)
async def remove_automations(hass: HomeAssistant) -> AsyncGenerator[None]:
    """Created automations go before hass stops (their time triggers would linger)."""
    yield
    await async_remove_automations(hass)


@pytest.fixture
def pending_record(hass_storage: dict[str, Any], config_entry: MockConfigEntry) -> dict[str, Any]:
    """One pending suggestion stored before the entry loads (no history needed)."""
    stored = record(PENDING_ID, kitchen_automation(PENDING_ID, "06:45:00", WORKDAYS))
    store_records(hass_storage, config_entry.entry_id, [stored])
    return stored


@pytest.fixture
def household(request: pytest.FixtureRequest) -> Household | None:
    """No history (a stored record is enough), unless parametrized indirectly with 'seeded'."""
    if getattr(request, "param", None) == "seeded":
        household: Household = request.getfixturevalue("seeded_household")
        return household
    return None


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """No cap: the demo household has more suggestions than the default ten, and which
    ones make the cut depends on the simulated dates; these tests follow particular ones."""
    return {**DEFAULT_OPTIONS, "max_suggestions": 50}


def _automations_yaml(config_dir: Path) -> Any:
    return yaml.safe_load((config_dir / "automations.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("household", ["seeded"], indirect=True)
@pytest.mark.parametrize(("enabled", "state"), [(True, STATE_ON), (False, STATE_OFF)])
async def test_accept_creates_a_working_automation(
    hass: HomeAssistant,
    config_dir: Path,
    load_int: MockConfigEntry,
    hass_admin_user: MockUser,
    enabled: bool,
    state: str,
) -> None:
    """A found routine, accepted by an admin: automations.yaml, a loaded automation.* entity, on or off."""
    await async_setup_automations(hass, config_dir)
    response = await async_run(hass)
    kitchen = kitchen_morning(response["suggestions"])
    assert kitchen is not None
    assert has_notification(hass, kitchen["id"])

    context = Context(user_id=hass_admin_user.id)
    result = await async_accept(hass, kitchen["id"], context, enabled=enabled)
    await hass.async_block_till_done()

    entity_id = result["automation_entity_id"]
    assert result == {"suggestion_id": kitchen["id"], "automation_entity_id": entity_id, "enabled": enabled}
    assert entity_id.startswith("automation.turn_on_")
    assert er.async_get(hass).async_get_entity_id("automation", "automation", kitchen["id"]) == entity_id
    automation_state = hass.states.get(entity_id)
    assert automation_state is not None
    assert automation_state.state == state
    assert automation_state.attributes["id"] == kitchen["id"]
    # Written as the editor writes: id first, then alias, description, triggers, conditions, actions.
    [written] = _automations_yaml(config_dir)
    assert list(written) == ["id", "alias", "description", "triggers", "conditions", "actions", "mode"]
    assert written == kitchen["automation"]

    listed = await async_list(hass)
    [accepted] = listed["accepted"]
    assert accepted["id"] == kitchen["id"]
    assert accepted["automation_entity_id"] == entity_id
    assert accepted["accepted_by"] == hass_admin_user.id
    assert accepted["enabled"] is enabled
    assert accepted["accepted_at"] is not None
    assert kitchen["id"] not in {s["id"] for s in listed["pending"]}
    assert not has_notification(hass, kitchen["id"])
    pending_sensor = hass.states.get("sensor.ai_automation_pending_suggestions")
    assert pending_sensor is not None
    assert int(pending_sensor.state) == len(listed["pending"]) == len(response["suggestions"]) - 1

    # The next run knows: the automation exists, so the routine is not suggested again.
    again = await async_run(hass)
    assert kitchen_morning(again["suggestions"]) is None
    assert again["job"]["deduplicated"] >= 1


async def test_accept_without_a_user_is_allowed(
    hass: HomeAssistant, config_dir: Path, pending_record: dict[str, Any], load_int: MockConfigEntry
) -> None:
    """As with Home Assistant's admin services, a call with no user (an automation, a script) may."""
    await async_setup_automations(hass, config_dir)
    result = await async_accept(hass, PENDING_ID)
    assert hass.states.get(result["automation_entity_id"]) is not None
    listed = await async_list(hass)
    assert [r["accepted_by"] for r in listed["accepted"]] == [None]


async def test_accept_is_refused_to_a_non_admin(
    hass: HomeAssistant,
    config_dir: Path,
    pending_record: dict[str, Any],
    load_int: MockConfigEntry,
    hass_read_only_user: MockUser,
) -> None:
    """A non-admin user gets Unauthorized; nothing is written, the suggestion stays pending."""
    await async_setup_automations(hass, config_dir)
    with pytest.raises(Unauthorized):
        await async_accept(hass, PENDING_ID, Context(user_id=hass_read_only_user.id))
    with pytest.raises(Unauthorized):
        await async_dismiss(hass, PENDING_ID, Context(user_id=hass_read_only_user.id))
    assert _automations_yaml(config_dir) == []
    listed = await async_list(hass)
    assert [r["id"] for r in listed["pending"]] == [PENDING_ID]
    assert has_notification(hass, PENDING_ID)


async def test_accept_keeps_other_automations(
    hass: HomeAssistant, tmp_path: Path, pending_record: dict[str, Any], load_int: MockConfigEntry
) -> None:
    """Existing automations stay; one pasted without an id gets one, as the editor does."""
    existing = [
        {"id": "mine", "alias": "Mine", "triggers": [{"trigger": "sun", "event": "sunset"}], "actions": []},
        {"alias": "Pasted", "triggers": [{"trigger": "sun", "event": "sunrise"}], "actions": []},
    ]
    write_config(tmp_path, INCLUDE, yaml.safe_dump(existing))
    await async_setup_automations(hass, tmp_path)
    await async_accept(hass, PENDING_ID)
    written = _automations_yaml(tmp_path)
    assert [a["alias"] for a in written] == ["Mine", "Pasted", "Turn on Kitchen light at 06:45"]
    assert written[0] == existing[0]
    assert written[1]["id"]
    assert written[2]["id"] == PENDING_ID


@pytest.mark.parametrize(
    ("configuration", "automations", "error"),
    [
        (INCLUDE, "mine:\n  alias: not a list\n", "automations_yaml_not_list"),
        ("automation: []\n", "[]\n", "automations_yaml_not_included"),
        # Restored byte for byte: Windows line ends and a comment stay.
        ("automation: []\n", "# mine\r\n[]\r\n", "automations_yaml_not_included"),
        ("automation: []\n", None, "automations_yaml_not_included"),
        (INCLUDE, "- [unclosed\n", "automations_yaml_unreadable"),
        # configuration.yaml broken after start: the reload refuses (2026.x) or loads nothing.
        (INCLUDE + "broken: [\n", "[]\n", "automations_yaml_not_included"),
    ],
)
async def test_accept_refuses_what_the_editor_cannot_do(
    hass: HomeAssistant,
    tmp_path: Path,
    pending_record: dict[str, Any],
    load_int: MockConfigEntry,
    configuration: str,
    automations: str | None,
    error: str,
) -> None:
    """automations.yaml unreadable, not a list, or not included: a translated error, the file as it was."""
    write_config(tmp_path, "automation: []\n", automations)
    await async_setup_automations(hass, tmp_path)
    write_config(tmp_path, configuration, None)
    path = tmp_path / "automations.yaml"
    before = path.read_bytes() if path.exists() else None

    with pytest.raises(HomeAssistantError) as err:
        await async_accept(hass, PENDING_ID)

    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == error
    after = path.read_bytes() if path.exists() else None
    assert after == before
    listed = await async_list(hass)
    assert [r["id"] for r in listed["pending"]] == [PENDING_ID]


async def test_accept_needs_the_automation_integration(
    hass: HomeAssistant, pending_record: dict[str, Any], load_int: MockConfigEntry
) -> None:
    """Without the automation integration there is nothing to add to."""
    with pytest.raises(HomeAssistantError) as err:
        await async_accept(hass, PENDING_ID)
    assert err.value.translation_key == "automation_not_set_up"


async def test_unknown_and_already_accepted(
    hass: HomeAssistant, config_dir: Path, pending_record: dict[str, Any], load_int: MockConfigEntry
) -> None:
    """An unknown id, and accepting (or dismissing) twice, are translated validation errors."""
    await async_setup_automations(hass, config_dir)
    with pytest.raises(ServiceValidationError) as err:
        await async_accept(hass, "ai_nope")
    assert err.value.translation_key == "unknown_suggestion"
    assert err.value.translation_placeholders == {"suggestion_id": "ai_nope"}

    result = await async_accept(hass, PENDING_ID)
    with pytest.raises(ServiceValidationError) as err:
        await async_accept(hass, PENDING_ID)
    assert err.value.translation_key == "already_accepted"
    assert err.value.translation_placeholders == {
        "suggestion_id": PENDING_ID,
        "entity_id": result["automation_entity_id"],
    }
    with pytest.raises(ServiceValidationError) as err:
        await async_dismiss(hass, PENDING_ID)
    assert err.value.translation_key == "already_accepted"


async def test_a_dismissed_suggestion_may_still_be_accepted(
    hass: HomeAssistant, config_dir: Path, pending_record: dict[str, Any], load_int: MockConfigEntry
) -> None:
    """Changing one's mind: accepting a dismissed suggestion clears the dismissal."""
    await async_setup_automations(hass, config_dir)
    await async_dismiss(hass, PENDING_ID, days=5)
    await async_accept(hass, PENDING_ID)
    [accepted] = (await async_list(hass))["accepted"]
    assert accepted["dismissed_at"] is None
    assert accepted["until"] is None


def _refused(path: str) -> OSError:
    return PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)


@contextmanager
def _denied(path: Path, mode: int, refuse: Callable[[str, bool], bool]) -> Generator[None]:
    """``chmod path mode``: the kernel refuses what the mode forbids, to anyone but root.

    Root (these tests run as root in the containers) passes any mode bits
    (CAP_DAC_OVERRIDE), so as root the refusal is made where the kernel would make it:
    ``open`` and ``os.open`` raise EACCES for what ``refuse(file, writing)`` picks. Only
    here; every other fault below is a real file.
    """
    real_open, real_os_open = open, os.open

    def fake_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        file_mode = str(args[0] if args else kwargs.get("mode", "r"))
        if isinstance(file, str | bytes | os.PathLike) and refuse(
            os.fsdecode(file), any(c in file_mode for c in "wax+")
        ):
            raise _refused(os.fsdecode(file))
        return real_open(file, *args, **kwargs)

    def fake_os_open(file: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if refuse(os.fsdecode(file), bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))):
            raise _refused(os.fsdecode(file))
        return real_os_open(file, flags, *args, **kwargs)

    before = path.stat().st_mode
    path.chmod(mode)
    try:
        if os.geteuid() == 0:
            with patch("builtins.open", fake_open), patch("os.open", fake_os_open):
                yield
        else:
            yield
    finally:
        path.chmod(before)


def _unreadable(path: Path) -> Any:
    return _denied(path, 0o000, lambda file, writing: file == str(path))


def _read_only_dir(directory: Path) -> Any:
    # Writing a file into it (the atomic write's temporary file) is refused; reading is not.
    return _denied(directory, 0o555, lambda file, writing: writing and Path(file).parent == directory)


def _snapshot(path: Path) -> tuple[str, bytes | list[str]]:
    """What is at ``path``, exactly: a file's bytes, a directory's entries."""
    if path.is_dir():
        return "dir", sorted(p.name for p in path.iterdir())
    return "file", path.read_bytes()


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("not_utf8", "automations_yaml_not_utf8"),
        ("directory", "automations_yaml_not_a_file"),
        ("unreadable", "automations_yaml_unreadable"),
        ("read_only_dir", "automations_yaml_unwritable"),
    ],
)
async def test_accept_fails_cleanly_on_a_file_it_cannot_use(
    hass: HomeAssistant,
    tmp_path: Path,
    pending_record: dict[str, Any],
    load_int: MockConfigEntry,
    fault: str,
    error: str,
) -> None:
    """Not UTF-8, a directory, unreadable, a read-only config dir: a translated error, nothing touched."""
    write_config(tmp_path, INCLUDE, "[]\n")
    await async_setup_automations(hass, tmp_path)
    path = tmp_path / "automations.yaml"
    if fault == "not_utf8":
        # Latin-1, as an editor on another system may save it.
        path.write_bytes(b"- id: mine\n  alias: Caf\xe9 lights\n  triggers: []\n  actions: []\n")
    elif fault == "directory":
        path.unlink()
        path.mkdir()
        (path / "kept.yaml").write_text("[]\n", encoding="utf-8")
    else:
        path.write_bytes(b"# mine\r\n[]\r\n")
    denied = {"unreadable": _unreadable, "read_only_dir": _read_only_dir}.get(fault)
    target = path if fault == "unreadable" else tmp_path
    before = _snapshot(path)
    entries_before = sorted(p.name for p in tmp_path.iterdir())

    with pytest.raises(HomeAssistantError) as err:
        if denied is None:
            await async_accept(hass, PENDING_ID)
        else:
            with denied(target):
                await async_accept(hass, PENDING_ID)

    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == error
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["path"] == str(path)
    # Byte for byte as it was, and no temporary file left beside it.
    assert _snapshot(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == entries_before
    listed = await async_list(hass)
    assert [r["id"] for r in listed["pending"]] == [PENDING_ID]
    assert has_notification(hass, PENDING_ID)
    assert hass.states.async_entity_ids("automation") == []
