"""Choosing the AI Task writer: the writers offered, the entity picker, reconfigure, options.

The AI Task entities are the test integration's of tests/ai_task_helpers.py (the
``provider`` fixture). On an older Home Assistant the writer is not offered and a stored
entry's reconfigure starts at built-in; those tests run there, the ones that need
``ai_task`` skip. The writer's wording: tests/test_ai_task.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData

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
from tests.ai_task_helpers import (
    HAS_AI_TASK,
    PAINTER_ENTITY,
    SECOND_ENTITY,
    WRITER_ENTITY,
    Provider,
    ai_task_entry,
    needs_ai_task,
    set_default,
    without_ai_task,
)
from tests.conftest import add_entry, setup_entry
from tests.llm_helpers import suggested

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
async def test_reconfigure_on_an_older_home_assistant_defaults_to_builtin(
    hass: HomeAssistant, recorder_mock: Any
) -> None:
    """The stored AI Task writer cannot be kept there: the choice starts at built-in."""
    entry = ai_task_entry(hass)
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
    set_default(hass, WRITER_ENTITY)
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
    set_default(hass, "ai_task.removed_long_ago")
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
    assert suggested(result) == {}
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
    assert suggested(result) == {CONF_AI_TASK_ENTITY: WRITER_ENTITY}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_AI_TASK_ENTITY: SECOND_ENTITY}
    )
    await hass.async_block_till_done()
    assert entry.data[CONF_AI_TASK_ENTITY] == SECOND_ENTITY

    set_default(hass, WRITER_ENTITY)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.data) == {CONF_WRITER: WRITER_AI_TASK, CONF_AI_TASK_ENTITY: None}


@needs_ai_task
async def test_options_offer_pseudonyms_but_no_cost(
    hass: HomeAssistant, recorder_mock: Any, provider: Provider
) -> None:
    """The AI Task writer's cost is unknown: pseudonyms yes, budget and prices no."""
    entry = ai_task_entry(hass)
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    keys = {str(k): k for k in result["data_schema"].schema}
    assert keys[CONF_PSEUDONYMIZE].default() is False
    assert CONF_MONTHLY_BUDGET not in keys
    assert CONF_PRICE_INPUT not in keys
    assert hass.states.get("sensor.ai_automation_llm_cost_this_month") is None
