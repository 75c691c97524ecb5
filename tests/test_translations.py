"""Every translation says what English says: the same keys, the same placeholders, no gaps."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from custom_components.ai_automation.const import DOMAIN
from custom_components.ai_automation.repairs import day_names

TRANSLATIONS = Path(__file__).parent.parent / "custom_components" / DOMAIN / "translations"
LANGUAGES = tuple(sorted(p.stem for p in TRANSLATIONS.glob("*.json") if p.stem != "en"))
_PLACEHOLDER = re.compile(r"\{[a-z_0-9]+\}")


def _load(language: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8"))
    return loaded


def _strings(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Every string of a translation tree by its dotted key."""
    out: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(_strings(value, path))
        else:
            out[path] = value
    return out


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_translation_has_every_string_with_its_placeholders(language: str) -> None:
    english, other = _strings(_load("en")), _strings(_load(language))
    assert sorted(other) == sorted(english)
    for key, text in english.items():
        assert other[key].strip(), key
        assert sorted(_PLACEHOLDER.findall(other[key])) == sorted(_PLACEHOLDER.findall(text)), key


def test_the_translated_languages() -> None:
    assert set(LANGUAGES) >= {"de", "fr", "nl"}


@pytest.mark.parametrize("language", LANGUAGES)
async def test_home_assistant_reads_the_translation(hass: HomeAssistant, language: str) -> None:
    """Through HA's own loader: the German (etc.) error texts of the integration."""
    loaded = await async_get_translations(hass, language, "exceptions", [DOMAIN])
    key = f"component.{DOMAIN}.exceptions.not_accepted.message"
    assert loaded[key] == _load(language)["exceptions"]["not_accepted"]["message"]
    assert loaded[key] != _load("en")["exceptions"]["not_accepted"]["message"]


async def test_a_repair_names_the_weekdays_in_the_home_language(hass: HomeAssistant) -> None:
    """ "Run it only on Monday, Wednesday": the issue's days as Home Assistant's language says them."""
    hass.config.language = "de"
    await async_get_translations(hass, "de", "selector", [DOMAIN])

    assert day_names(hass, ["mon", "wed"]) == ["Montag", "Mittwoch"]
