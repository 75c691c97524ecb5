"""The AI Task writer: a real ``ai_task`` entity words the suggestions (Home Assistant 2025.8+).

A small test integration (``test_ai_provider``, tests/ai_task_helpers.py) sets up through a
config entry and adds ``AITaskEntity`` subclasses whose ``_async_generate_data`` answers
what each test scripts (the JSON a model would give, prose, an error, a slow answer).
Everything between our writer and that method is Home Assistant's own:
``ai_task.async_generate_data``, its entity component and preferences, the chat session and
log. On an older Home Assistant a stored entry keeps the built-in wording; that test runs
there, the ones that need ``ai_task`` skip. Choosing the writer: tests/test_ai_task_flow.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from custom_components.ai_automation import llm, llm_state
from custom_components.ai_automation.const import (
    CONF_MONTHLY_BUDGET,
    CONF_PSEUDONYMIZE,
    DOMAIN,
    WRITER_AI_TASK,
)
from custom_components.ai_automation.llm_prompt import parse_data
from simulator.household import Household
from tests.ai_task_helpers import (
    PAINTER_ENTITY,
    SECOND_ENTITY,
    WRITER_ENTITY,
    Provider,
    ai_task_entry,
    model_answer,
    needs_ai_task,
    set_default,
    without_ai_task,
)
from tests.conftest import LogRecords, setup_entry
from tests.devices import add_devices
from tests.llm_helpers import only_text_changed, spend_of, unchanged, word
from tests.openai_server import strip_ids
from tests.wording_cases import async_suggestions, target_of

# --- on an older Home Assistant -------------------------------------------------------


@without_ai_task
async def test_stored_ai_task_entry_on_an_older_home_assistant_keeps_builtin_wording(
    hass: HomeAssistant, logs: LogRecords
) -> None:
    """An entry restored onto HA < 2025.8: built-in wording, ``not_supported``, logged once."""
    suggestions, _patterns = await async_suggestions(hass, count=2)
    entry = ai_task_entry(hass)
    for _ in range(2):
        outcome = await word(hass, entry, suggestions)
        unchanged(outcome, suggestions)
        assert (outcome.writer, outcome.fallback) == (WRITER_AI_TASK, "not_supported")
        assert (outcome.tokens, outcome.cost_usd) == (0, 0.0)
    (warning,) = logs.at(logging.WARNING)
    assert "2025.8" in warning
    assert HA_VERSION in warning
    assert "Reconfigure" in warning


# --- wording -----------------------------------------------------------------------------


def _json_schema(structure: Any) -> dict[str, Any]:
    """The structure as the JSON schema a provider sends (e.g. OpenAI's structured output)."""
    from homeassistant.helpers import llm as llm_helper

    try:  # 2026.x: probatio (voluptuous is an alias of it)
        from probatio import to_openapi

        return dict(to_openapi(structure, custom_serializer=llm_helper.selector_serializer))
    except ImportError:  # 2025.x
        from voluptuous_openapi import convert

        return dict(convert(structure, custom_serializer=llm_helper.selector_serializer))


@needs_ai_task
async def test_ai_task_words_every_suggestion(
    hass: HomeAssistant, provider: Provider, logs: LogRecords
) -> None:
    """Structured output applied; names (the option is off), no entity ids, no tools; cost 0."""
    hass.config.language = "de"
    suggestions, _patterns = await async_suggestions(hass, count=4)
    entry = ai_task_entry(hass)

    outcome = await word(hass, entry, suggestions)

    assert (outcome.writer, outcome.worded, outcome.fallback) == (WRITER_AI_TASK, 4, None)
    assert (outcome.tokens, outcome.cost_usd) == (0, 0.0)
    (task,) = provider.tasks
    answer = model_answer(task.instructions)
    for before, after, worded in zip(suggestions, outcome.suggestions, answer["suggestions"], strict=True):
        only_text_changed(before, after)
        assert (after["title"], after["description"]) == (worded["title"], worded["description"])
    # The task: our prompt (HA's language, names as data), no entity id, no tools.
    assert task.name == llm.AI_TASK_NAME
    assert 'language with the code "de"' in task.instructions
    assert not strip_ids(task.instructions)
    for suggestion in suggestions:
        assert hass.states.get(target_of(suggestion)).name in task.instructions
    assert getattr(task, "llm_api", None) is None
    # The structure: it accepts the reply asked for, and becomes a strict JSON schema.
    assert task.structure is llm.AI_TASK_STRUCTURE
    assert task.structure(answer) == answer
    schema = _json_schema(task.structure)
    assert schema["required"] == ["suggestions"]
    item = schema["properties"]["suggestions"]["items"]
    assert item["type"] == "object"
    assert sorted(item["required"]) == ["description", "id", "title"]
    assert {p["type"] for p in item["properties"].values()} == {"string"}
    # Unknown cost: nothing counted, no warning.
    assert spend_of(hass, entry) == {"month": llm_state.this_month(), "cost_usd": 0.0, "tokens": 0, "runs": 0}
    assert not logs.at(logging.WARNING)


@needs_ai_task
async def test_pseudonyms_on_request(hass: HomeAssistant, provider: Provider) -> None:
    """With the option on, the task sees "Device 1", ...; the text shows the names again."""
    suggestions, _patterns = await async_suggestions(hass, count=3)
    entry = ai_task_entry(hass, **{CONF_PSEUDONYMIZE: True})
    outcome = await word(hass, entry, suggestions)
    assert outcome.worded == 3
    (task,) = provider.tasks
    assert "Device 1" in task.instructions
    for before, after in zip(suggestions, outcome.suggestions, strict=True):
        name = hass.states.get(target_of(before)).name
        assert name not in task.instructions
        assert name in after["title"]
        assert "Device " not in after["title"]


@needs_ai_task
async def test_a_provider_that_answers_text(hass: HomeAssistant, provider: Provider) -> None:
    """An entity without structured output hands back the model's text: parsed as a chat reply."""
    suggestions, _patterns = await async_suggestions(hass, count=2)
    provider.answer(lambda instructions: f"```json\n{json.dumps(model_answer(instructions))}\n```")
    outcome = await word(hass, ai_task_entry(hass), suggestions)
    assert (outcome.worded, outcome.fallback) == (2, None)


@needs_ai_task
async def test_invalid_wording_is_rejected_per_suggestion(hass: HomeAssistant, provider: Provider) -> None:
    """Entity ids, services, links, a missing id or a wrong type cost only that suggestion."""
    suggestions, _patterns = await async_suggestions(hass, count=6)
    names = [hass.states.get(target_of(s)).name for s in suggestions]

    def answer(instructions: str) -> dict[str, Any]:
        reply = model_answer(instructions)
        items = {item["id"]: item for item in reply["suggestions"]}
        items["s1"]["description"] = f"Turns on {target_of(suggestions[0])} every morning."
        items["s2"]["description"] = f"{names[1]} goes on via light.turn_on at dawn."
        items["s3"]["description"] = f"{names[2]}: see [this](https://example.com)."
        items["s4"]["title"] = 42
        del items["s5"]
        reply["suggestions"] = [*items.values(), {"id": "s99", "title": "x", "description": "y"}, "junk"]
        return reply

    provider.answer(answer)
    outcome = await word(hass, ai_task_entry(hass), suggestions)
    assert (outcome.worded, outcome.fallback) == (1, "rejected_wording")
    assert outcome.suggestions[:5] == suggestions[:5]  # built-in text, untouched
    only_text_changed(suggestions[5], outcome.suggestions[5])
    assert outcome.suggestions[5]["title"] != suggestions[5]["title"]


@needs_ai_task
@pytest.mark.parametrize(
    "reply",
    [None, "I'm sorry, I can't help with that.", {"items": []}, {"suggestions": "none"}, ["a", "list"], 7],
    ids=["none", "prose", "wrong_key", "not_a_list", "a_list", "a_number"],
)
async def test_a_reply_that_fails_the_structure(hass: HomeAssistant, provider: Provider, reply: Any) -> None:
    """Not the shape asked for: built-in wording for the run, ``malformed_reply``."""
    suggestions, _patterns = await async_suggestions(hass, count=2)
    provider.answer(lambda _instructions: reply)
    outcome = await word(hass, ai_task_entry(hass), suggestions)
    unchanged(outcome, suggestions)
    assert outcome.fallback == "malformed_reply"


@needs_ai_task
async def test_task_error_falls_back_logged_once_then_recovery_once(
    hass: HomeAssistant, provider: Provider, logs: LogRecords
) -> None:
    """A provider's HomeAssistantError (or any crash): built-in wording; outage and recovery logged once."""
    suggestions, _patterns = await async_suggestions(hass, count=2)
    entry = ai_task_entry(hass)

    def fail(_instructions: str) -> None:
        raise HomeAssistantError("Error talking to the model")

    provider.answer(fail)
    for _ in range(2):
        outcome = await word(hass, entry, suggestions)
        unchanged(outcome, suggestions)
        assert outcome.fallback == "error"
    (warning,) = logs.at(logging.WARNING)
    assert "Error talking to the model" in warning

    def crash(_instructions: str) -> None:
        raise RuntimeError("provider bug")

    provider.answer(crash)
    outcome = await word(hass, entry, suggestions)
    assert outcome.fallback == "error"

    provider.answer(model_answer)
    for _ in range(2):
        outcome = await word(hass, entry, suggestions)
        assert outcome.worded == 2
    assert logs.at(logging.INFO) == ["The ai_task writer answers again"]
    assert len(logs.at(logging.WARNING)) == 1


@needs_ai_task
async def test_a_slow_task_times_out(
    hass: HomeAssistant, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task slower than the writer's timeout: ``unavailable``, built-in wording."""
    suggestions, _patterns = await async_suggestions(hass, count=2)
    monkeypatch.setattr(llm, "AI_TASK_TIMEOUT_S", 0.05)

    async def think(instructions: str) -> dict[str, Any]:
        await asyncio.sleep(1)
        return model_answer(instructions)

    provider.answer(think)
    outcome = await word(hass, ai_task_entry(hass), suggestions)
    unchanged(outcome, suggestions)
    assert outcome.fallback == "unavailable"


@needs_ai_task
async def test_the_default_entity_is_followed(
    hass: HomeAssistant, provider: Provider, logs: LogRecords
) -> None:
    """Entity None: whatever HA's AI Task preferences name, also after they change; none set is an error."""
    suggestions, _patterns = await async_suggestions(hass, count=2)
    entry = ai_task_entry(hass, None)
    seen: list[str] = []

    def answering_as(entity_id: str) -> Callable[[str], dict[str, Any]]:
        def answer(instructions: str) -> dict[str, Any]:
            seen.append(entity_id)
            return model_answer(instructions)

        return answer

    for entity_id, entity in provider.entities.items():
        entity.answer = answering_as(entity_id)

    set_default(hass, WRITER_ENTITY)
    assert (await word(hass, entry, suggestions)).worded == 2
    set_default(hass, SECOND_ENTITY)
    assert (await word(hass, entry, suggestions)).worded == 2
    assert seen == [WRITER_ENTITY, SECOND_ENTITY]

    set_default(hass, None)
    outcome = await word(hass, entry, suggestions)
    unchanged(outcome, suggestions)
    assert outcome.fallback == "error"
    assert "no default AI Task entity" in logs.at(logging.WARNING)[0]


@needs_ai_task
async def test_the_entity_gone_later(hass: HomeAssistant, provider: Provider, logs: LogRecords) -> None:
    """The provider's entry unloaded (or its entity removed): ``error``, saying which entity."""
    suggestions, _patterns = await async_suggestions(hass, count=2)
    entry = ai_task_entry(hass)
    assert (await word(hass, entry, suggestions)).worded == 2

    assert await hass.config_entries.async_unload(provider.entry.entry_id)
    await hass.async_block_till_done()
    outcome = await word(hass, entry, suggestions)
    unchanged(outcome, suggestions)
    assert outcome.fallback == "error"
    (warning,) = logs.at(logging.WARNING)
    assert WRITER_ENTITY in warning
    assert "gone" in warning

    # An image-only entity cannot word anything either.
    painter = ai_task_entry(hass, PAINTER_ENTITY)
    assert (await word(hass, painter, suggestions)).fallback == "error"


@needs_ai_task
async def test_spend_from_a_former_chat_writer_does_not_block_it(
    hass: HomeAssistant, provider: Provider, hass_storage: dict[str, Any]
) -> None:
    """The monthly budget is a chat writer's: an AI Task run is not stopped by old spend."""
    entry = ai_task_entry(hass, **{CONF_MONTHLY_BUDGET: 0.01})
    hass_storage[f"{DOMAIN}.llm_spend.{entry.entry_id}"] = {
        "version": 1,
        "key": f"{DOMAIN}.llm_spend.{entry.entry_id}",
        "data": {"month": llm_state.this_month(), "cost_usd": 0.5, "tokens": 1000, "runs": 3},
    }
    suggestions, _patterns = await async_suggestions(hass, count=2)
    outcome = await word(hass, entry, suggestions)
    assert (outcome.worded, outcome.fallback) == (2, None)


# --- through the job ---------------------------------------------------------------------

FROZEN_NOW = "2026-01-15 20:00:00+00:00"  # as tests/test_job.py: the same simulated weeks


@pytest.fixture
def household(request: pytest.FixtureRequest) -> Household | None:
    """The simulated household in the recorder, for the test parametrized with "seeded"."""
    if getattr(request, "param", None) == "seeded":
        return request.getfixturevalue("seeded_household")  # type: ignore[no-any-return]
    return None


@needs_ai_task
@pytest.mark.recorder_db
@pytest.mark.freeze_time(FROZEN_NOW)
@pytest.mark.parametrize("household", ["seeded"], indirect=True)
async def test_the_job_record_of_an_ai_task_run(
    hass: HomeAssistant, recorder_mock: Any, household: Household, provider: Provider
) -> None:
    """A real run on the seeded recorder: worded by the AI Task, said so in the job record."""
    add_devices(hass, household.friendly_names)
    entry = ai_task_entry(hass)
    await setup_entry(hass, entry)
    response: Any = await hass.services.async_call(
        DOMAIN, "run_analysis", {}, blocking=True, return_response=True
    )
    job = response["job"]
    assert job["status"] == "success", job
    assert (job["writer"], job["llm_fallback"], job["llm_tokens"], job["llm_cost_usd"]) == (
        WRITER_AI_TASK,
        None,
        0,
        0.0,
    )
    assert job["llm_worded"] == len(response["suggestions"]) > 0
    (task,) = provider.tasks
    wording = {w["title"] for w in model_answer(task.instructions)["suggestions"]}
    assert {s["title"] for s in response["suggestions"]} == wording


# --- the parser on its own (every Home Assistant) ----------------------------------------


@pytest.mark.parametrize(
    ("data", "parsed"),
    [
        ({"suggestions": [{"id": "s1", "title": "T", "description": "D"}]}, {"s1": ("T", "D")}),
        (
            {"suggestions": [{"id": "s1"}, {"id": 2}, "x", {"id": "s1", "title": "again"}]},
            {"s1": (None, None)},
        ),
        ({"suggestions": []}, {}),
        ({"suggestion": []}, None),
        ("text", None),
        (None, None),
    ],
    ids=["ok", "odd_entries", "empty", "wrong_key", "text", "none"],
)
def test_parse_data_checks_only_the_outer_shape(data: Any, parsed: dict[str, Any] | None) -> None:
    """Each entry is judged on its own later; the first of a repeated id counts."""
    assert parse_data(data) == parsed
