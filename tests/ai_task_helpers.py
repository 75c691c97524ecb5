"""The AI Task writer's provider: a test integration whose AI Task entities answer as scripted.

``test_ai_provider`` sets up through a config entry and adds ``AITaskEntity`` subclasses
whose ``_async_generate_data`` answers what each test scripts (the JSON a model would give,
prose, an error, a slow answer). Registered as a plugin in tests/conftest.py: the
``provider`` fixture; tests/test_ai_task.py and tests/test_ai_task_flow.py use it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntry, ConfigFlow
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
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

from custom_components.ai_automation.const import CONF_AI_TASK_ENTITY, CONF_WRITER, WRITER_AI_TASK
from tests.conftest import add_entry
from tests.openai_server import good_wording

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


def ai_task_entry(
    hass: HomeAssistant, entity_id: str | None = WRITER_ENTITY, **options: Any
) -> MockConfigEntry:
    """An entry of the AI Task writer (entity None: follow HA's default AI Task entity)."""
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


def set_default(hass: HomeAssistant, entity_id: str | None) -> None:
    """Set the data generation entity of HA's AI Task preferences (as its settings page does)."""
    from homeassistant.components.ai_task.const import DATA_PREFERENCES

    hass.data[DATA_PREFERENCES].async_set_preferences(gen_data_entity_id=entity_id)
