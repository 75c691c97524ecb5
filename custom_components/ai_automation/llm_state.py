"""Per entry, what the LLM phase keeps between runs: the month's spend, the outage, the client.

Loaded when the entry is set up (``async_load_state``), held in the entry's runtime data
and gone with it. A chat writer's key is checked then, in the background
(``async_check_at_setup``): a rejected key starts a reauth flow and an unreachable server
is logged, but neither keeps the entry from loading — the analysis and the built-in
wording need no LLM.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import (
    CHAT_WRITERS,
    CONF_BASE_URL,
    CONF_MODEL,
    CONF_MONTHLY_BUDGET,
    CONF_PRICE_INPUT,
    CONF_PRICE_OUTPUT,
    CONF_WRITER,
    DEFAULT_LLM_OPTIONS,
    LOGGER,
    WRITER_OPENAI,
)
from .llm_errors import WriterAuthError, WriterError, WriterNotSupported
from .storage import llm_spend_store

if TYPE_CHECKING:
    from .llm_client import ChatClient

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


def this_month() -> str:
    """The month spend is counted in, local time ('2026-12')."""
    return dt_util.now().strftime("%Y-%m")


@dataclass(slots=True)
class LLMState:
    """Per entry: the month's spend, the outage state and the chat client."""

    store: Store[dict[str, Any]]
    spend: dict[str, Any] = field(default_factory=dict)  # month, cost_usd, tokens, runs
    down: str | None = None  # the reason while the writer is failing
    budget_logged: str | None = None  # the month whose exhausted budget was logged
    chat: ChatClient | None = None

    def month_spend(self) -> dict[str, Any]:
        """This month's spend (zero when the stored one is from an earlier month)."""
        month = this_month()
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

    def cost_attributes(self, entry: ConfigEntry, last_job: Mapping[str, Any] | None) -> dict[str, Any]:
        """The LLM cost sensor's attributes: the month's totals, the budget, the last run."""
        spend = self.month_spend()
        options = {**DEFAULT_LLM_OPTIONS, **entry.options}
        return {
            "month": spend["month"],
            "tokens": spend["tokens"],
            "runs": spend["runs"],
            "budget_usd": float(options[CONF_MONTHLY_BUDGET] or 0) or None,
            "model": entry.data.get(CONF_MODEL),
            "last_run_tokens": last_job.get("llm_tokens") if last_job else None,
            "last_run_cost_usd": last_job.get("llm_cost_usd") if last_job else None,
        }


async def async_load_state(hass: HomeAssistant, entry: ConfigEntry) -> LLMState:
    """The entry's LLM state with the month's stored spend (setup)."""
    store = llm_spend_store(hass, entry.entry_id)
    return LLMState(store=store, spend=await store.async_load() or {})


async def async_client_module(hass: HomeAssistant) -> ModuleType:
    """``llm_client`` (and with it ``openai``), imported off the event loop on first use."""
    return await hass.async_add_import_executor_job(importlib.import_module, f"{__package__}.llm_client")


async def async_check_at_setup(hass: HomeAssistant, entry: ConfigEntry, state: LLMState) -> None:
    """Check a chat writer's key once the entry is set up; other writers need no check.

    A rejected key starts a reauth flow (as a rejected run does); an unreachable server is
    logged once. Either way the runs go on with the built-in wording until it answers.
    """
    writer = str(entry.data.get(CONF_WRITER))
    if writer not in CHAT_WRITERS:
        return
    client_module = await async_client_module(hass)
    err = await client_module.async_check_key(
        hass, entry.data.get(CONF_API_KEY), entry.data.get(CONF_BASE_URL)
    )
    if err is None:
        state.answered(writer)
        return
    state.failed(writer, err)
    if isinstance(err, WriterAuthError):
        entry.async_start_reauth(hass)
