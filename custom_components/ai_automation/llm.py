"""The job's LLM phase: word the built suggestions with the configured writer.

``async_word_suggestions`` is the one entry point. It never raises for the writer's
sake: whatever goes wrong, the run keeps the built-in wording and says why in
``WordingOutcome.fallback``. A rejected key starts a reauth flow. What it keeps between
runs (the month's spend, the outage, the client) is the entry's ``LLMState``
(llm_state.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from . import compat
from .compat import vol
from .const import (
    CHAT_WRITERS,
    CONF_AGENT_ID,
    CONF_AI_TASK_ENTITY,
    CONF_BASE_URL,
    CONF_MODEL,
    CONF_MONTHLY_BUDGET,
    CONF_PSEUDONYMIZE,
    CONF_WRITER,
    DEFAULT_LLM_OPTIONS,
    DEFAULT_OPENAI_MODEL,
    LOGGER,
    WRITER_AI_TASK,
    WRITER_BUILTIN,
    WRITER_CONVERSATION,
)
from .llm_errors import WriterAuthError, WriterError, WriterFailed, WriterNotSupported, WriterUnavailable
from .llm_prompt import (
    DESCRIPTION_ASK_CHARS,
    TITLE_ASK_CHARS,
    Prompt,
    apply_wording,
    build_prompt,
    parse_data,
    parse_reply,
)
from .llm_state import LLMState, async_client_module, model_price, run_cost
from .wording import friendly_name

# Why (some of) a run kept the built-in wording (``WordingOutcome.fallback``).
FALLBACK_BUDGET = "budget_exhausted"
FALLBACK_INVALID_AUTH = WriterAuthError.reason
FALLBACK_UNAVAILABLE = WriterUnavailable.reason
FALLBACK_ERROR = WriterFailed.reason
FALLBACK_MALFORMED = "malformed_reply"
FALLBACK_REJECTED = "rejected_wording"
FALLBACK_NOT_SUPPORTED = WriterNotSupported.reason

# Output budget: a title and a description of up to ~400 characters per suggestion.
MAX_TOKENS_BASE = 64
MAX_TOKENS_PER_SUGGESTION = 200
# Seconds a conversation agent, or an AI Task, may take for the whole run.
AGENT_TIMEOUT_S = 60.0
AI_TASK_TIMEOUT_S = 60.0
AI_TASK_NAME = "AI Automation: word suggestions"
# What an AI Task is asked to return: the reply format of the prompt, as the structure
# ai_task hands to the provider (as JSON schema: OpenAI's strict structured output needs
# every field required). What comes back is checked like any reply (parse_data, rejection).
AI_TASK_STRUCTURE = vol.Schema(
    {
        vol.Required("suggestions"): [
            vol.Schema(
                {
                    vol.Required("id", description="the given id"): str,
                    vol.Required("title", description=f"at most {TITLE_ASK_CHARS} characters"): str,
                    vol.Required(
                        "description", description=f"at most {DESCRIPTION_ASK_CHARS} characters"
                    ): str,
                }
            )
        ]
    }
)


@dataclass(frozen=True, slots=True)
class WordingOutcome:
    """What the LLM phase hands back to the job."""

    suggestions: list[dict[str, Any]]
    writer: str  # the configured writer: builtin | openai | openai_compatible | conversation | ai_task
    tokens: int
    cost_usd: float
    fallback: str | None  # why built-in wording was kept for the run or some suggestions
    worded: int  # suggestions worded by the LLM


async def _async_chat(hass: HomeAssistant, entry: ConfigEntry, state: LLMState, prompt: Prompt) -> Any:
    client_module = await async_client_module(hass)
    if state.chat is None:
        client = await client_module.async_create_client(
            hass,
            entry.data.get(CONF_API_KEY),
            entry.data.get(CONF_BASE_URL),
            client_module.REQUEST_TIMEOUT_S,
        )
        state.chat = client_module.ChatClient(client, entry.data.get(CONF_MODEL) or DEFAULT_OPENAI_MODEL)
    max_tokens = MAX_TOKENS_BASE + MAX_TOKENS_PER_SUGGESTION * len(prompt.ids)
    return await state.chat.async_chat(prompt.system, prompt.user, max_tokens)


async def _async_converse(hass: HomeAssistant, agent_id: str, prompt: Prompt) -> str | None:
    """Ask a Home Assistant conversation agent; its speech should be our JSON."""
    if "conversation" not in hass.config.components:
        raise WriterFailed("the conversation integration is not loaded")
    from homeassistant.components import conversation
    from homeassistant.helpers import intent

    try:
        async with asyncio.timeout(AGENT_TIMEOUT_S):
            result = await conversation.async_converse(
                hass,
                prompt.text,
                None,  # a new conversation every run
                Context(),
                language=hass.config.language,
                agent_id=agent_id,
            )
    except TimeoutError as err:
        raise WriterUnavailable("timed out") from err
    except ValueError as err:  # async_converse: no such agent
        raise WriterFailed(str(err)) from err
    except Exception as err:  # a third-party agent must not fail the job
        raise WriterFailed(f"agent error: {type(err).__name__}: {err}") from err
    response = result.response
    if response.response_type is intent.IntentResponseType.ERROR:
        raise WriterFailed(f"agent error: {response.error_code}")
    speech = response.speech.get("plain", {}).get("speech")
    return str(speech) if speech is not None else None


async def _async_ai_task(hass: HomeAssistant, entity_id: str | None, prompt: Prompt) -> Any:
    """Ask an AI Task entity (None: the default one) for the structured reply; its data."""
    if not compat.ai_task_loaded(hass):
        if not await compat.async_ai_task_available(hass):
            raise WriterNotSupported("AI Task needs Home Assistant 2025.8 or newer")
        raise WriterFailed("the AI Task integration is not loaded (no AI integration provides it)")
    target = entity_id or compat.ai_task_default_entity(hass)
    if target is None:
        raise WriterFailed("no default AI Task entity is set (AI Task preferences)")
    if not compat.ai_task_generates_data(hass, target):
        raise WriterFailed(f"the AI Task entity {target} is gone or cannot generate data")
    try:
        async with asyncio.timeout(AI_TASK_TIMEOUT_S):
            return await compat.async_ai_task_generate_data(
                hass,
                task_name=AI_TASK_NAME,
                entity_id=entity_id,
                instructions=prompt.text,
                structure=AI_TASK_STRUCTURE,
            )
    except TimeoutError as err:
        raise WriterUnavailable("timed out") from err
    except HomeAssistantError as err:
        raise WriterFailed(f"task error: {err}") from err
    except Exception as err:  # a third-party AI Task entity must not fail the job
        raise WriterFailed(f"task error: {type(err).__name__}: {err}") from err


def _budget_used_up(writer: str, options: dict[str, Any], state: LLMState) -> bool:
    """Whether a chat writer's monthly budget is spent (logged once a month)."""
    # Only a chat writer costs anything we know of (the budget option is shown only for them).
    budget = float(options[CONF_MONTHLY_BUDGET] or 0) if writer in CHAT_WRITERS else 0.0
    spend = state.month_spend()
    if budget <= 0 or spend["cost_usd"] < budget:
        return False
    if state.budget_logged != spend["month"]:
        state.budget_logged = spend["month"]
        LOGGER.warning(
            "The monthly LLM budget of %.2f USD is used up (%.4f USD in %s); the built-in "
            "writer words the suggestions until next month",
            budget,
            spend["cost_usd"],
            spend["month"],
        )
    return True


@dataclass(frozen=True, slots=True)
class _Reply:
    text: str | None
    data: Any  # a decoded reply (AI Task's structured output), else None
    tokens: int
    cost_usd: float


async def _async_ask(
    hass: HomeAssistant,
    entry: ConfigEntry,
    state: LLMState,
    writer: str,
    options: dict[str, Any],
    prompt: Prompt,
) -> _Reply:
    """Send the prompt to the entry's writer; raises ``WriterError``."""
    if writer == WRITER_CONVERSATION:
        return _Reply(await _async_converse(hass, str(entry.data.get(CONF_AGENT_ID)), prompt), None, 0, 0.0)
    if writer == WRITER_AI_TASK:
        data = await _async_ai_task(hass, entry.data.get(CONF_AI_TASK_ENTITY), prompt)
        # A provider without structured output may hand back the text it got.
        return _Reply(data if isinstance(data, str) else None, data, 0, 0.0)
    reply = await _async_chat(hass, entry, state, prompt)
    model = str(entry.data.get(CONF_MODEL) or DEFAULT_OPENAI_MODEL)
    cost = run_cost(reply.prompt_tokens, reply.completion_tokens, model_price(writer, model, options))
    return _Reply(reply.text, None, reply.prompt_tokens + reply.completion_tokens, cost)


async def async_word_suggestions(
    hass: HomeAssistant, entry: ConfigEntry, state: LLMState, suggestions: list[dict[str, Any]]
) -> WordingOutcome:
    """Word ``suggestions`` with the entry's writer; built-in wording wherever that fails.

    The built-in writer (the default) returns the suggestions as they are, sends nothing
    and loads no client.
    """
    writer = str(entry.data.get(CONF_WRITER, WRITER_BUILTIN))
    unchanged = WordingOutcome(list(suggestions), writer, 0, 0.0, None, 0)
    if writer == WRITER_BUILTIN or not suggestions:
        return unchanged
    options = {**DEFAULT_LLM_OPTIONS, **entry.options}
    if _budget_used_up(writer, options, state):
        return WordingOutcome(list(suggestions), writer, 0, 0.0, FALLBACK_BUDGET, 0)

    # A conversation agent may hold tools that control the home (the Assist API): names,
    # the one text in the prompt a device can choose, never reach it. An AI Task gets no
    # tools (no llm_api is passed), so for it, as for a chat API, the option decides.
    pseudonymize = bool(options[CONF_PSEUDONYMIZE]) or writer == WRITER_CONVERSATION
    prompt = build_prompt(
        suggestions,
        # As every text shows it (one line, capped): the model copies it, the checks look for it.
        lambda entity_id: friendly_name(hass, entity_id),
        language=hass.config.language,
        pseudonymize=pseudonymize,
    )
    if not prompt.ids:
        return unchanged

    try:
        reply = await _async_ask(hass, entry, state, writer, options, prompt)
    except WriterError as err:
        state.failed(writer, err)
        if isinstance(err, WriterAuthError):
            entry.async_start_reauth(hass)
        return WordingOutcome(list(suggestions), writer, 0, 0.0, err.reason, 0)
    state.answered(writer)
    if writer in CHAT_WRITERS:
        await state.async_add(reply.cost_usd, reply.tokens)

    tokens, cost = reply.tokens, reply.cost_usd
    if reply.data is not None and reply.text is None:
        parsed = parse_data(reply.data)
    else:
        parsed = parse_reply(reply.text)
    if parsed is None:
        LOGGER.debug(
            "The %s writer's reply is not the JSON asked for: %.200r", writer, reply.text or reply.data
        )
        return WordingOutcome(list(suggestions), writer, tokens, cost, FALLBACK_MALFORMED, 0)
    applied = apply_wording(suggestions, prompt, parsed)
    for suggestion_id, reason in applied.rejected.items():
        LOGGER.debug("Kept the built-in wording of %s: the %s wording %s", suggestion_id, writer, reason)
    fallback = FALLBACK_REJECTED if applied.worded < len(suggestions) else None
    return WordingOutcome(applied.suggestions, writer, tokens, round(cost, 6), fallback, applied.worded)
