"""The AI Task writer: a real ``ai_task`` entity words the suggestions (Home Assistant 2025.8+).

A small test integration (``test_ai_provider``) sets up through a config entry and adds
``AITaskEntity`` subclasses whose ``_async_generate_data`` answers what each test scripts
(the JSON a model would give, prose, an error, a slow answer). Everything between our
writer and that method is Home Assistant's own: ``ai_task.async_generate_data``, its
entity component and preferences, the chat session and log. On an older Home Assistant
the writer is not offered and a stored entry keeps the built-in wording; those tests run
there, the ones that need ``ai_task`` skip.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntry, ConfigFlow
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    mock_config_flow,
    mock_integration,
    mock_platform,
)

from custom_components.ai_automation import llm, llm_state
from custom_components.ai_automation.const import (
    CONF_AI_TASK_ENTITY,
    CONF_MONTHLY_BUDGET,
    CONF_PRICE_INPUT,
    CONF_PSEUDONYMIZE,
    CONF_WRITER,
    DOMAIN,
    WRITER_AI_TASK,
    WRITER_BUILTIN,
    WRITER_CONVERSATION,
    WRITER_OPENAI,
    WRITER_OPENAI_COMPATIBLE,
)
from custom_components.ai_automation.llm import WordingOutcome
from custom_components.ai_automation.llm_prompt import parse_data
from simulator.household import Household
from tests.conftest import LogRecords, add_entry, setup_entry
from tests.llm_helpers import spend_of, word
from tests.openai_server import good_wording, strip_ids
from tests.wording_cases import async_suggestions, target_of

HAS_AI_TASK = importlib.util.find_spec("homeassistant.components.ai_task") is not None
needs_ai_task = pytest.mark.skipif(
    not HAS_AI_TASK, reason=f"AI Task came with Home Assistant 2025.8; this is {HA_VERSION}"
)
without_ai_task = pytest.mark.skipif(
    HAS_AI_TASK, reason=f"Home Assistant {HA_VERSION} has AI Task: covered by the tests that use it"
)

PROVIDER = "test_ai_provider"
WRITER_ENTITY = "ai_task.writer"
SECOND_ENTITY = "ai_task.second_writer"
PAINTER_ENTITY = "ai_task.painter"  # generates images only


def _ai_task_entry(
    hass: HomeAssistant, entity_id: str | None = WRITER_ENTITY, **options: Any
) -> MockConfigEntry:
    return add_entry(hass, {CONF_WRITER: WRITER_AI_TASK, CONF_AI_TASK_ENTITY: entity_id}, **options)


def _prompt_input(instructions: str) -> dict[str, Any]:
    """The suggestion summaries inside the task's instructions."""
    return dict(json.loads(instructions.split("Input:\n", 1)[1]))


def model_answer(instructions: str) -> dict[str, Any]:
    """What a well-behaved model returns as structured output: one wording per id."""
    request = {"messages": [{"role": "user", "content": json.dumps(_prompt_input(instructions))}]}
    return dict(json.loads(good_wording(request)))


@dataclass
class Provider:
    """The test integration's config entry and its AI Task entities."""

    entry: MockConfigEntry
    entities: dict[str, Any]
    tasks: list[Any] = field(default_factory=list)  # every GenDataTask received, in order

    def answer(self, answer: Callable[[str], Any]) -> None:
        """Every entity answers ``answer(instructions)`` (a value, an awaitable or a raise)."""
        for entity in self.entities.values():
            entity.answer = answer


def _entity_class() -> type:
    """An AI Task entity whose model is a function (imports ai_task: 2025.8+ only)."""
    from homeassistant.components import ai_task, conversation

    class ScriptedAITask(ai_task.AITaskEntity):
        """Answers each data task with ``answer(instructions)``, like a provider's entity."""

        def __init__(self, name: str, features: Any, tasks: list[Any]) -> None:
            super().__init__()
            self._attr_name = name
            self._attr_unique_id = name.lower().replace(" ", "_")
            self._attr_supported_features = features
            self.answer: Callable[[str], Any] = model_answer
            self._tasks = tasks

        async def _async_generate_data(
            self, task: ai_task.GenDataTask, chat_log: conversation.ChatLog
        ) -> ai_task.GenDataTaskResult:
            self._tasks.append(task)
            data = self.answer(task.instructions)
            if asyncio.iscoroutine(data):
                data = await data
            text = data if isinstance(data, str) else json.dumps(data)
            chat_log.async_add_assistant_content_without_tools(
                conversation.AssistantContent(agent_id=self.entity_id, content=text)
            )
            return ai_task.GenDataTaskResult(conversation_id=chat_log.conversation_id, data=data)

    return ScriptedAITask


@pytest.fixture
async def provider(hass: HomeAssistant) -> AsyncGenerator[Provider]:
    """The test integration set up: two data entities and an image-only one."""
    if not HAS_AI_TASK:
        pytest.skip(f"AI Task came with Home Assistant 2025.8; this is {HA_VERSION}")
    try:
        from homeassistant.components.ai_task import AITaskEntityFeature
    except ModuleNotFoundError as err:  # not a skip: the environment is incomplete
        pytest.fail(
            f"ai_task cannot be imported ({err}): HA's camera integration, which ai_task imports, "
            "needs PyTurboJPEG (camera's requirement); install it in the test environment"
        )

    assert await async_setup_component(hass, "homeassistant", {})
    hass.config.media_dirs = {}  # no image media source: this test makes no images
    cls = _entity_class()
    tasks: list[Any] = []
    entities = {
        WRITER_ENTITY: cls("Writer", AITaskEntityFeature.GENERATE_DATA, tasks),
        SECOND_ENTITY: cls("Second writer", AITaskEntityFeature.GENERATE_DATA, tasks),
        PAINTER_ENTITY: cls("Painter", AITaskEntityFeature.GENERATE_IMAGE, tasks),
    }

    async def setup_provider(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        await hass.config_entries.async_forward_entry_setups(entry, ["ai_task"])
        return True

    async def unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        return await hass.config_entries.async_unload_platforms(entry, ["ai_task"])

    async def setup_platform(
        hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddEntitiesCallback
    ) -> None:
        async_add_entities(list(entities.values()))

    mock_integration(
        hass, MockModule(PROVIDER, async_setup_entry=setup_provider, async_unload_entry=unload_entry)
    )
    mock_platform(hass, f"{PROVIDER}.ai_task", MockPlatform(async_setup_entry=setup_platform))
    mock_platform(hass, f"{PROVIDER}.config_flow")
    with mock_config_flow(PROVIDER, ConfigFlow):
        entry = MockConfigEntry(domain=PROVIDER, title="Test AI")
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert hass.states.get(WRITER_ENTITY) is not None
        yield Provider(entry, entities, tasks)


def _set_default(hass: HomeAssistant, entity_id: str | None) -> None:
    """Set the data generation entity of HA's AI Task preferences (as its settings page does)."""
    from homeassistant.components.ai_task.const import DATA_PREFERENCES

    hass.data[DATA_PREFERENCES].async_set_preferences(gen_data_entity_id=entity_id)


def _unchanged(outcome: WordingOutcome, suggestions: list[dict[str, Any]]) -> None:
    assert outcome.suggestions == suggestions
    assert outcome.worded == 0


# --- which writers are offered ----------------------------------------------------------


async def test_writer_choice_offers_ai_task_only_where_home_assistant_has_it(
    hass: HomeAssistant, recorder_mock: Any
) -> None:
    """2025.8+: AI Task is the fifth writer. Older: it is not offered and cannot be submitted."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    (key,) = result["data_schema"].schema
    assert key.default() == WRITER_BUILTIN
    offered = result["data_schema"].schema[key].config["options"]
    base = [WRITER_BUILTIN, WRITER_OPENAI, WRITER_OPENAI_COMPATIBLE, WRITER_CONVERSATION]
    assert offered == [*base, WRITER_AI_TASK] if HAS_AI_TASK else base
    if not HAS_AI_TASK:
        with pytest.raises(InvalidData):
            await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_WRITER: WRITER_AI_TASK})


@without_ai_task
async def test_stored_ai_task_entry_on_an_older_home_assistant_keeps_builtin_wording(
    hass: HomeAssistant, logs: LogRecords
) -> None:
    """An entry restored onto HA < 2025.8: built-in wording, ``not_supported``, logged once."""
    suggestions, _patterns = await async_suggestions(hass, count=2)
    entry = _ai_task_entry(hass)
    for _ in range(2):
        outcome = await word(hass, entry, suggestions)
        _unchanged(outcome, suggestions)
        assert (outcome.writer, outcome.fallback) == (WRITER_AI_TASK, "not_supported")
        assert (outcome.tokens, outcome.cost_usd) == (0, 0.0)
    (warning,) = logs.at(logging.WARNING)
    assert "2025.8" in warning
    assert HA_VERSION in warning
    assert "Reconfigure" in warning


@without_ai_task
async def test_reconfigure_on_an_older_home_assistant_defaults_to_builtin(
    hass: HomeAssistant, recorder_mock: Any
) -> None:
    """The stored AI Task writer cannot be kept there: the choice starts at built-in."""
    entry = _ai_task_entry(hass)
    result = await entry.start_reconfigure_flow(hass)
    (key,) = result["data_schema"].schema
    assert key.default() == WRITER_BUILTIN
    assert WRITER_AI_TASK not in result["data_schema"].schema[key].config["options"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.data) == {}


# --- config flow -------------------------------------------------------------------------


async def _choose_ai_task(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_WRITER: WRITER_AI_TASK})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == WRITER_AI_TASK
    return dict(result)


@needs_ai_task
async def test_flow_takes_an_ai_task_entity_that_generates_data(
    hass: HomeAssistant, recorder_mock: Any, provider: Provider
) -> None:
    """The picker lists data-generating AI Task entities; unknown or image-only ones are refused."""
    result = await _choose_ai_task(hass)
    (key,) = result["data_schema"].schema
    assert str(key) == CONF_AI_TASK_ENTITY
    assert type(key).__name__ == "Optional"  # empty: the default entity
    selector = result["data_schema"].schema[key]
    assert selector.config["filter"][0]["domain"] == ["ai_task"]
    assert selector.config["filter"][0]["supported_features"] == [1]  # GENERATE_DATA
    assert result["description_placeholders"] == {"default": "none set"}

    for entity_id in ("ai_task.gone", PAINTER_ENTITY):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_AI_TASK_ENTITY: entity_id}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_AI_TASK_ENTITY: "ai_task_not_found"}
    # No default set in the AI Task preferences: an entity must be picked.
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "no_default_ai_task"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AI_TASK_ENTITY: WRITER_ENTITY}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_WRITER: WRITER_AI_TASK, CONF_AI_TASK_ENTITY: WRITER_ENTITY}
    assert not provider.tasks  # the flow checks the entity, it runs no task


@needs_ai_task
async def test_flow_without_any_ai_task_entity_says_so(hass: HomeAssistant, recorder_mock: Any) -> None:
    """HA has AI Task, but no AI integration set it up: nothing to pick, the flow says why."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_WRITER: WRITER_AI_TASK})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "ai_task_not_set_up"


@needs_ai_task
async def test_flow_takes_the_default_ai_task_entity(
    hass: HomeAssistant, recorder_mock: Any, provider: Provider
) -> None:
    """With a default set in HA's AI Task preferences, an empty field stores None (follow it)."""
    _set_default(hass, WRITER_ENTITY)
    result = await _choose_ai_task(hass)
    assert result["description_placeholders"] == {"default": f"Writer ({WRITER_ENTITY})"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_WRITER: WRITER_AI_TASK, CONF_AI_TASK_ENTITY: None}


@needs_ai_task
async def test_flow_refuses_a_default_that_is_gone(
    hass: HomeAssistant, recorder_mock: Any, provider: Provider
) -> None:
    """A default pointing at an entity that no longer exists is no default."""
    _set_default(hass, "ai_task.removed_long_ago")
    result = await _choose_ai_task(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "no_default_ai_task"}


@needs_ai_task
async def test_reconfigure_to_ai_task_and_back_prefilled(
    hass: HomeAssistant, recorder_mock: Any, provider: Provider
) -> None:
    """Built-in -> AI Task entity; reconfiguring shows it; another entity; then the default."""
    entry = add_entry(hass, {})
    await setup_entry(hass, entry)

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_WRITER: WRITER_AI_TASK})
    assert result["step_id"] == WRITER_AI_TASK
    assert _suggested(result) == {}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AI_TASK_ENTITY: WRITER_ENTITY}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.data) == {CONF_WRITER: WRITER_AI_TASK, CONF_AI_TASK_ENTITY: WRITER_ENTITY}

    result = await entry.start_reconfigure_flow(hass)
    (key,) = result["data_schema"].schema
    assert key.default() == WRITER_AI_TASK
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert _suggested(result) == {CONF_AI_TASK_ENTITY: WRITER_ENTITY}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AI_TASK_ENTITY: SECOND_ENTITY}
    )
    await hass.async_block_till_done()
    assert entry.data[CONF_AI_TASK_ENTITY] == SECOND_ENTITY

    _set_default(hass, WRITER_ENTITY)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.data) == {CONF_WRITER: WRITER_AI_TASK, CONF_AI_TASK_ENTITY: None}


def _suggested(result: dict[str, Any]) -> dict[str, Any]:
    return {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
        if (key.description or {}).get("suggested_value") is not None
    }


@needs_ai_task
async def test_options_offer_pseudonyms_but_no_cost(
    hass: HomeAssistant, recorder_mock: Any, provider: Provider
) -> None:
    """The AI Task writer's cost is unknown: pseudonyms yes, budget and prices no."""
    entry = _ai_task_entry(hass)
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    keys = {str(k): k for k in result["data_schema"].schema}
    assert keys[CONF_PSEUDONYMIZE].default() is False
    assert CONF_MONTHLY_BUDGET not in keys
    assert CONF_PRICE_INPUT not in keys
    assert hass.states.get("sensor.ai_automation_llm_cost_this_month") is None


# --- wording -----------------------------------------------------------------------------


def _only_text_changed(before: dict[str, Any], after: dict[str, Any]) -> None:
    text = ("title", "description", "automation")
    assert {k: v for k, v in after.items() if k not in text} == {
        k: v for k, v in before.items() if k not in text
    }
    assert {k: v for k, v in after["automation"].items() if k not in ("alias", "description")} == {
        k: v for k, v in before["automation"].items() if k not in ("alias", "description")
    }
    assert (after["automation"]["alias"], after["automation"]["description"]) == (
        after["title"],
        after["description"],
    )


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
    entry = _ai_task_entry(hass)

    outcome = await word(hass, entry, suggestions)

    assert (outcome.writer, outcome.worded, outcome.fallback) == (WRITER_AI_TASK, 4, None)
    assert (outcome.tokens, outcome.cost_usd) == (0, 0.0)
    (task,) = provider.tasks
    answer = model_answer(task.instructions)
    for before, after, worded in zip(suggestions, outcome.suggestions, answer["suggestions"], strict=True):
        _only_text_changed(before, after)
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
    entry = _ai_task_entry(hass, **{CONF_PSEUDONYMIZE: True})
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
    outcome = await word(hass, _ai_task_entry(hass), suggestions)
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
    outcome = await word(hass, _ai_task_entry(hass), suggestions)
    assert (outcome.worded, outcome.fallback) == (1, "rejected_wording")
    assert outcome.suggestions[:5] == suggestions[:5]  # built-in text, untouched
    _only_text_changed(suggestions[5], outcome.suggestions[5])
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
    outcome = await word(hass, _ai_task_entry(hass), suggestions)
    _unchanged(outcome, suggestions)
    assert outcome.fallback == "malformed_reply"


@needs_ai_task
async def test_task_error_falls_back_logged_once_then_recovery_once(
    hass: HomeAssistant, provider: Provider, logs: LogRecords
) -> None:
    """A provider's HomeAssistantError (or any crash): built-in wording; outage and recovery logged once."""
    suggestions, _patterns = await async_suggestions(hass, count=2)
    entry = _ai_task_entry(hass)

    def fail(_instructions: str) -> None:
        raise HomeAssistantError("Error talking to the model")

    provider.answer(fail)
    for _ in range(2):
        outcome = await word(hass, entry, suggestions)
        _unchanged(outcome, suggestions)
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
    outcome = await word(hass, _ai_task_entry(hass), suggestions)
    _unchanged(outcome, suggestions)
    assert outcome.fallback == "unavailable"


@needs_ai_task
async def test_the_default_entity_is_followed(
    hass: HomeAssistant, provider: Provider, logs: LogRecords
) -> None:
    """Entity None: whatever HA's AI Task preferences name, also after they change; none set is an error."""
    suggestions, _patterns = await async_suggestions(hass, count=2)
    entry = _ai_task_entry(hass, None)
    seen: list[str] = []

    def answering_as(entity_id: str) -> Callable[[str], dict[str, Any]]:
        def answer(instructions: str) -> dict[str, Any]:
            seen.append(entity_id)
            return model_answer(instructions)

        return answer

    for entity_id, entity in provider.entities.items():
        entity.answer = answering_as(entity_id)

    _set_default(hass, WRITER_ENTITY)
    assert (await word(hass, entry, suggestions)).worded == 2
    _set_default(hass, SECOND_ENTITY)
    assert (await word(hass, entry, suggestions)).worded == 2
    assert seen == [WRITER_ENTITY, SECOND_ENTITY]

    _set_default(hass, None)
    outcome = await word(hass, entry, suggestions)
    _unchanged(outcome, suggestions)
    assert outcome.fallback == "error"
    assert "no default AI Task entity" in logs.at(logging.WARNING)[0]


@needs_ai_task
async def test_the_entity_gone_later(hass: HomeAssistant, provider: Provider, logs: LogRecords) -> None:
    """The provider's entry unloaded (or its entity removed): ``error``, saying which entity."""
    suggestions, _patterns = await async_suggestions(hass, count=2)
    entry = _ai_task_entry(hass)
    assert (await word(hass, entry, suggestions)).worded == 2

    assert await hass.config_entries.async_unload(provider.entry.entry_id)
    await hass.async_block_till_done()
    outcome = await word(hass, entry, suggestions)
    _unchanged(outcome, suggestions)
    assert outcome.fallback == "error"
    (warning,) = logs.at(logging.WARNING)
    assert WRITER_ENTITY in warning
    assert "gone" in warning

    # An image-only entity cannot word anything either.
    painter = _ai_task_entry(hass, PAINTER_ENTITY)
    assert (await word(hass, painter, suggestions)).fallback == "error"


@needs_ai_task
async def test_spend_from_a_former_chat_writer_does_not_block_it(
    hass: HomeAssistant, provider: Provider, hass_storage: dict[str, Any]
) -> None:
    """The monthly budget is a chat writer's: an AI Task run is not stopped by old spend."""
    entry = _ai_task_entry(hass, **{CONF_MONTHLY_BUDGET: 0.01})
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
    for entity_id, name in household.friendly_names.items():
        hass.states.async_set(entity_id, "off", {"friendly_name": name})
    entry = _ai_task_entry(hass)
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
