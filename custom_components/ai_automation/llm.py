"""The job's LLM phase: word the built suggestions with the configured writer.

``async_word_suggestions`` is the one entry point. It never raises for the writer's
sake: whatever goes wrong, the run keeps the built-in wording and says why in
``WordingOutcome.fallback``. A rejected key starts a reauth flow. Per entry it keeps the
month's spend (stored), whether the service is down (to log the outage once and the
recovery once) and the OpenAI client.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from . import compat
from .compat import vol
from .const import (
    CONF_AGENT_ID,
    CONF_AI_TASK_ENTITY,
    CONF_BASE_URL,
    CONF_MODEL,
    CONF_MONTHLY_BUDGET,
    CONF_PRICE_INPUT,
    CONF_PRICE_OUTPUT,
    CONF_PSEUDONYMIZE,
    CONF_WRITER,
    DEFAULT_LLM_OPTIONS,
    DEFAULT_OPENAI_MODEL,
    DOMAIN,
    LOGGER,
    WRITER_AI_TASK,
    WRITER_BUILTIN,
    WRITER_CONVERSATION,
    WRITER_OPENAI,
    WRITER_OPENAI_COMPATIBLE,
)
from .display import plain_name
from .llm_errors import WriterAuthError, WriterError, WriterFailed, WriterUnavailable
from .llm_prompt import (
    DESCRIPTION_ASK_CHARS,
    TITLE_ASK_CHARS,
    Prompt,
    apply_wording,
    build_prompt,
    parse_data,
    parse_reply,
)
from .storage import llm_spend_store

if TYPE_CHECKING:
    from .llm_client import ChatWriter

# Writers that call a chat API (paid or self-hosted): tokens, cost, privacy options.
CHAT_WRITERS = (WRITER_OPENAI, WRITER_OPENAI_COMPATIBLE)
# Writers whose "pseudonymise device names" option applies. An AI Task gets no tools (no
# llm_api), so like a chat API it only reads names; a conversation agent always gets
# pseudonyms (it may control the home).
PSEUDONYM_OPTION_WRITERS = (*CHAT_WRITERS, WRITER_AI_TASK)

# Why (some of) a run kept the built-in wording (``WordingOutcome.fallback``).
FALLBACK_BUDGET = "budget_exhausted"
FALLBACK_INVALID_AUTH = WriterAuthError.reason
FALLBACK_UNAVAILABLE = WriterUnavailable.reason
FALLBACK_ERROR = WriterFailed.reason
FALLBACK_MALFORMED = "malformed_reply"
FALLBACK_REJECTED = "rejected_wording"
FALLBACK_NOT_SUPPORTED = "not_supported"

# USD per 1M input / output tokens, OpenAI's list prices for small models (mid 2025).
# Prices change: check https://openai.com/api/pricing and override them in the options.
# A model not listed here, and every OpenAI-compatible server, costs 0 unless overridden.
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4o": (2.50, 10.00),
    "o4-mini": (1.10, 4.40),
    "gpt-3.5-turbo": (0.50, 1.50),
}
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

_DATA: HassKey[dict[str, LLMState]] = HassKey(f"{DOMAIN}_llm")


@dataclass(frozen=True, slots=True)
class WordingOutcome:
    """What the LLM phase hands back to the job."""

    suggestions: list[dict[str, Any]]
    writer: str  # the configured writer: builtin | openai | openai_compatible | conversation | ai_task
    tokens: int
    cost_usd: float
    fallback: str | None  # why built-in wording was kept for the run or some suggestions
    worded: int  # suggestions worded by the LLM


def model_price(writer: str, model: str, options: Mapping[str, Any]) -> tuple[float, float]:
    """USD per 1M input and output tokens: the override, else the table (OpenAI only)."""
    price_in, price_out = options.get(CONF_PRICE_INPUT), options.get(CONF_PRICE_OUTPUT)
    if price_in is not None and price_out is not None:
        return float(price_in), float(price_out)
    if writer != WRITER_OPENAI:
        return 0.0, 0.0
    # Longest listed name the model starts with: "gpt-4o-mini-2024-07-18" is "gpt-4o-mini".
    for name in sorted(PRICES_PER_MTOK, key=len, reverse=True):
        if model == name or model.startswith(f"{name}-"):
            return PRICES_PER_MTOK[name]
    return 0.0, 0.0


def run_cost(prompt_tokens: int, completion_tokens: int, price: tuple[float, float]) -> float:
    """USD for one run's tokens."""
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000


def _month() -> str:
    return dt_util.now().strftime("%Y-%m")


@dataclass(slots=True)
class LLMState:
    """Per entry: the month's spend, the outage state and the chat client."""

    store: Store[dict[str, Any]]
    spend: dict[str, Any] = field(default_factory=dict)  # month, cost_usd, tokens, runs
    down: str | None = None  # the reason while the writer is failing
    budget_logged: str | None = None  # the month whose exhausted budget was logged
    chat: ChatWriter | None = None

    def month_spend(self) -> dict[str, Any]:
        """This month's spend (zero when the stored one is from an earlier month)."""
        month = _month()
        if self.spend.get("month") != month:
            return {"month": month, "cost_usd": 0.0, "tokens": 0, "runs": 0}
        return dict(self.spend)

    async def async_add(self, cost_usd: float, tokens: int) -> None:
        """Count one run and store it."""
        spend = self.month_spend()
        spend["cost_usd"] = round(spend["cost_usd"] + cost_usd, 6)
        spend["tokens"] += tokens
        spend["runs"] += 1
        self.spend = spend
        await self.store.async_save(spend)

    def failed(self, writer: str, err: WriterError) -> None:
        """Log a failure once per outage (again only if the reason changes)."""
        if self.down == err.reason:
            LOGGER.debug("The %s writer still fails: %s", writer, err)
            return
        self.down = err.reason
        if isinstance(err, WriterAuthError):
            LOGGER.error(
                "The %s writer rejected the API key (%s); suggestions use the built-in wording "
                "until the key is re-entered (Settings -> Devices & services)",
                writer,
                err,
            )
        elif isinstance(err, WriterNotSupported):
            LOGGER.warning(
                "The %s writer is not available in Home Assistant %s (%s); suggestions use the "
                "built-in wording until another writer is chosen (AI Automation -> Reconfigure)",
                writer,
                HA_VERSION,
                err,
            )
        else:
            LOGGER.warning(
                "The %s writer cannot word the suggestions (%s); they use the built-in wording "
                "until it answers again",
                writer,
                err,
            )

    def answered(self, writer: str) -> None:
        """Log the recovery once."""
        if self.down is not None:
            LOGGER.info("The %s writer answers again", writer)
        self.down = None


class WriterNotSupported(WriterError):
    """This Home Assistant lacks what the writer needs (AI Task before 2025.8)."""

    reason = FALLBACK_NOT_SUPPORTED


async def async_get_state(hass: HomeAssistant, entry: ConfigEntry) -> LLMState:
    """The entry's LLM state, loaded on first use and dropped when the entry unloads."""
    states = hass.data.setdefault(_DATA, {})
    if (state := states.get(entry.entry_id)) is not None:
        return state
    store = llm_spend_store(hass, entry.entry_id)
    loaded = await store.async_load() or {}
    # Another caller (the sensor, the job) may have loaded it meanwhile: the first one stays.
    if (state := states.get(entry.entry_id)) is None:
        state = states[entry.entry_id] = LLMState(store=store, spend=loaded)

        @callback
        def _forget() -> None:
            states.pop(entry.entry_id, None)

        entry.async_on_unload(_forget)
    return state


@callback
def month_spend(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, Any] | None:
    """This month's LLM spend of the entry, once its state is loaded (for the sensor)."""
    state = hass.data.get(_DATA, {}).get(entry.entry_id)
    return state.month_spend() if state is not None else None


@callback
def cost_attributes(
    hass: HomeAssistant, entry: ConfigEntry, last_job: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The LLM cost sensor's attributes: the month's totals, the budget, the last run."""
    spend = month_spend(hass, entry) or {}
    options = {**DEFAULT_LLM_OPTIONS, **entry.options}
    return {
        "month": spend.get("month"),
        "tokens": spend.get("tokens"),
        "runs": spend.get("runs"),
        "budget_usd": float(options[CONF_MONTHLY_BUDGET] or 0) or None,
        "model": entry.data.get(CONF_MODEL),
        "last_run_tokens": last_job.get("llm_tokens") if last_job else None,
        "last_run_cost_usd": last_job.get("llm_cost_usd") if last_job else None,
    }


async def async_client_module(hass: HomeAssistant) -> ModuleType:
    """``llm_client`` (and with it ``openai``), imported off the event loop on first use."""
    return await hass.async_add_import_executor_job(importlib.import_module, f"{__package__}.llm_client")


async def _async_chat(hass: HomeAssistant, entry: ConfigEntry, state: LLMState, prompt: Prompt) -> Any:
    client_module = await async_client_module(hass)
    if state.chat is None:
        client = await client_module.async_create_client(
            hass,
            entry.data.get(CONF_API_KEY),
            entry.data.get(CONF_BASE_URL),
            client_module.REQUEST_TIMEOUT_S,
        )
        state.chat = client_module.ChatWriter(client, entry.data.get(CONF_MODEL) or DEFAULT_OPENAI_MODEL)
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


def _friendly_name(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.states.get(entity_id)
    # As every text shows it (one line, capped): the model copies it, the checks look for it.
    return (plain_name(state.name) or None) if state is not None else None


async def async_word_suggestions(
    hass: HomeAssistant,
    entry: ConfigEntry,
    suggestions: list[dict[str, Any]],
    patterns: list[dict[str, Any]],
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
    state = await async_get_state(hass, entry)

    # Only a chat writer costs anything we know of (the budget option is shown only for them).
    budget = float(options[CONF_MONTHLY_BUDGET] or 0) if writer in CHAT_WRITERS else 0.0
    spend = state.month_spend()
    if budget > 0 and spend["cost_usd"] >= budget:
        if state.budget_logged != spend["month"]:
            state.budget_logged = spend["month"]
            LOGGER.warning(
                "The monthly LLM budget of %.2f USD is used up (%.4f USD in %s); the built-in "
                "writer words the suggestions until next month",
                budget,
                spend["cost_usd"],
                spend["month"],
            )
        return WordingOutcome(list(suggestions), writer, 0, 0.0, FALLBACK_BUDGET, 0)

    # A conversation agent may hold tools that control the home (the Assist API): names,
    # the one text in the prompt a device can choose, never reach it. An AI Task gets no
    # tools (no llm_api is passed), so for it, as for a chat API, the option decides.
    pseudonymize = bool(options[CONF_PSEUDONYMIZE]) or writer == WRITER_CONVERSATION
    prompt = build_prompt(
        suggestions,
        patterns,
        lambda entity_id: _friendly_name(hass, entity_id),
        language=hass.config.language,
        pseudonymize=pseudonymize,
    )
    if not prompt.ids:
        return unchanged

    tokens, cost = 0, 0.0
    data: Any = None  # a decoded reply (AI Task's structured output), else text
    try:
        if writer == WRITER_CONVERSATION:
            text = await _async_converse(hass, str(entry.data.get(CONF_AGENT_ID)), prompt)
        elif writer == WRITER_AI_TASK:
            data = await _async_ai_task(hass, entry.data.get(CONF_AI_TASK_ENTITY), prompt)
            # A provider without structured output may hand back the text it got.
            text = data if isinstance(data, str) else None
        else:
            reply = await _async_chat(hass, entry, state, prompt)
            text = reply.text
            tokens = reply.prompt_tokens + reply.completion_tokens
            model = str(entry.data.get(CONF_MODEL) or DEFAULT_OPENAI_MODEL)
            cost = run_cost(reply.prompt_tokens, reply.completion_tokens, model_price(writer, model, options))
    except WriterError as err:
        state.failed(writer, err)
        if isinstance(err, WriterAuthError):
            entry.async_start_reauth(hass)
        return WordingOutcome(list(suggestions), writer, 0, 0.0, err.reason, 0)
    state.answered(writer)
    if writer in CHAT_WRITERS:
        await state.async_add(cost, tokens)

    parsed = parse_data(data) if data is not None and text is None else parse_reply(text)
    if parsed is None:
        LOGGER.debug("The %s writer's reply is not the JSON asked for: %.200r", writer, text or data)
        return WordingOutcome(list(suggestions), writer, tokens, cost, FALLBACK_MALFORMED, 0)
    applied = apply_wording(suggestions, prompt, parsed)
    for suggestion_id, reason in applied.rejected.items():
        LOGGER.debug("Kept the built-in wording of %s: the %s wording %s", suggestion_id, writer, reason)
    fallback = FALLBACK_REJECTED if applied.worded < len(suggestions) else None
    return WordingOutcome(applied.suggestions, writer, tokens, round(cost, 6), fallback, applied.worded)
