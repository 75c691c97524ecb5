"""When a chat writer's API fails, over real HTTP: the run keeps the built-in wording and says why.

A rejected key (at setup and in a run: reauth), a server that is down, rate limits and
retries, and every kind of broken answer; outages and recoveries are logged once each.
The local server is tests/openai_server.py (the ``server`` fixture of tests/llm_helpers.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant

from custom_components.ai_automation import llm_client
from custom_components.ai_automation.const import (
    CONF_BASE_URL,
    CONF_MODEL,
    CONF_WRITER,
    DOMAIN,
    WRITER_OPENAI_COMPATIBLE,
)
from tests.conftest import LogRecords, add_entry, setup_entry
from tests.llm_helpers import API_KEY, openai_entry, unchanged, word
from tests.openai_server import FakeOpenAI, Reply, completion, error_body, good_wording
from tests.wording_cases import async_suggestions

pytestmark = pytest.mark.usefixtures("fast_retries")


# --- the key: rejected in a run, checked at setup ---------------------------------


async def test_401_starts_reauth_and_keeps_builtin_wording(
    hass: HomeAssistant, recorder_mock: Any, server: FakeOpenAI, logs: LogRecords
) -> None:
    """A rejected key: built-in wording for the run, a reauth flow, one error logged."""
    suggestions, _patterns = await async_suggestions(hass, count=3)
    entry = openai_entry(hass, server)
    server.valid_key = "sk-another-key"

    first = await word(hass, entry, suggestions)
    second = await word(hass, entry, suggestions)
    await hass.async_block_till_done()

    for outcome in (first, second):
        unchanged(outcome, suggestions)
        assert outcome.fallback == "invalid_auth"
        assert (outcome.tokens, outcome.cost_usd) == (0, 0.0)
    assert len(server.chat_requests) == 2  # never retried
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]  # one, not one per run
    assert flows[0]["context"]["entry_id"] == entry.entry_id
    assert len(logs.at(logging.ERROR)) == 1
    assert "rejected the API key" in logs.at(logging.ERROR)[0]


async def test_setup_checks_the_key(
    hass: HomeAssistant, recorder_mock: Any, server: FakeOpenAI, logs: LogRecords
) -> None:
    """At setup the key is tried once: a good one starts nothing and logs nothing."""
    entry = openai_entry(hass, server)
    await setup_entry(hass, entry, wait_background_tasks=True)
    assert server.auth_headers == [f"Bearer {API_KEY}"]  # one models request
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert entry.runtime_data.llm.down is None
    assert not logs.at(logging.WARNING)
    assert not logs.at(logging.ERROR)


async def test_setup_with_a_rejected_key_starts_reauth_and_loads(
    hass: HomeAssistant, recorder_mock: Any, server: FakeOpenAI, logs: LogRecords
) -> None:
    """A rejected key is found at setup: reauth at once, the entry still loads (the analysis needs no key)."""
    server.valid_key = "sk-another-key"
    entry = openai_entry(hass, server)
    await setup_entry(hass, entry, wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [(f["context"]["source"], f["context"]["entry_id"]) for f in flows] == [
        (SOURCE_REAUTH, entry.entry_id)
    ]
    assert [m for m in logs.at(logging.ERROR) if "rejected the API key" in m]

    # The first run then says why it kept the built-in wording, without logging it again.
    suggestions, _patterns = await async_suggestions(hass, count=2)
    outcome = await word(hass, entry, suggestions)
    assert outcome.fallback == "invalid_auth"
    assert len(logs.at(logging.ERROR)) == 1
    assert len(hass.config_entries.flow.async_progress_by_handler(DOMAIN)) == 1


async def test_setup_with_the_server_down_loads_and_logs_once(
    hass: HomeAssistant, recorder_mock: Any, server: FakeOpenAI, logs: LogRecords
) -> None:
    """An unreachable server at setup: loaded, one warning, no reauth; the recovery is logged."""
    url = server.url
    await server.stop()
    entry = add_entry(
        hass, {CONF_WRITER: WRITER_OPENAI_COMPATIBLE, CONF_BASE_URL: url, CONF_MODEL: "llama3.2"}
    )
    await setup_entry(hass, entry, wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert entry.runtime_data.llm.down == "unavailable"
    assert len([m for m in logs.at(logging.WARNING) if "cannot word" in m]) == 1


# --- retries and outages ----------------------------------------------------------


async def test_429_then_success_is_retried(hass: HomeAssistant, server: FakeOpenAI, logs: LogRecords) -> None:
    """Rate limited once: the retry after the backoff words everything; nothing logged."""
    suggestions, _patterns = await async_suggestions(hass, count=3)
    server.replies = [Reply(status=429, body=error_body(429, "Rate limit reached", "rate_limit_exceeded"))]
    outcome = await word(hass, openai_entry(hass, server), suggestions)
    assert outcome.worded == 3
    assert outcome.fallback is None
    assert len(server.chat_requests) == 2
    assert not logs.at(logging.WARNING)


async def test_retry_after_is_honoured_within_its_cap(
    hass: HomeAssistant, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server's Retry-After sets the wait (up to the cap)."""
    suggestions, _patterns = await async_suggestions(hass, count=2)
    monkeypatch.setattr(llm_client, "RETRY_AFTER_CAP_S", 0.05)
    server.replies = [
        Reply(status=429, body=error_body(429, "slow down"), headers={"retry-after": "30"}),
        Reply(status=503, body=error_body(503, "busy"), headers={"retry-after": "soon"}),
    ]
    with patch("asyncio.sleep", wraps=asyncio.sleep) as sleep:
        outcome = await word(hass, openai_entry(hass, server), suggestions)
    assert outcome.worded == 2
    waits = [c.args[0] for c in sleep.call_args_list if c.args and c.args[0] > 0]
    assert waits[:2] == [0.05, 0.02]  # capped Retry-After; then the backoff (unparsable header)


async def test_500_falls_back_for_the_run_logged_once_then_recovery_once(
    hass: HomeAssistant, server: FakeOpenAI, logs: LogRecords
) -> None:
    """Server errors after the retries: built-in wording; the outage and the recovery are logged once each."""
    suggestions, _patterns = await async_suggestions(hass, count=3)
    entry = openai_entry(hass, server)
    server.default = lambda _r: Reply(status=500, body=error_body(500, "The server had an error"))

    for _ in range(2):
        outcome = await word(hass, entry, suggestions)
        unchanged(outcome, suggestions)
        assert outcome.fallback == "unavailable"
    assert len(server.chat_requests) == 2 * llm_client.MAX_ATTEMPTS
    assert len(logs.at(logging.WARNING)) == 1
    assert "HTTP 500" in logs.at(logging.WARNING)[0]

    server.default = lambda r: Reply(content=good_wording(r))
    for _ in range(2):
        outcome = await word(hass, entry, suggestions)
        assert outcome.worded == 3
    assert logs.at(logging.INFO) == ["The openai writer answers again"]
    assert len(logs.at(logging.WARNING)) == 1


# --- every failed answer ----------------------------------------------------------


def _with_content(content: str | None) -> Any:
    """A chat completion (with its usage) whose message content is ``content``."""
    choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
    return lambda r: Reply(body={**completion(r, ""), "choices": [choice]})


def _error(status: int, message: str, code: str | None = None) -> Any:
    return lambda _r: Reply(status=status, body=error_body(status, message, code))


# Nothing listening on the server's port.
REFUSED = None


# What the API or the model answers -> why the run keeps the built-in wording, how many
# requests that took (retried: MAX_ATTEMPTS), whether the answer's tokens were counted,
# and what the one warning says (None: not checked).
FAILURES = [
    pytest.param(
        _error(500, "The server had an error"), "unavailable", "retried", False, "HTTP 500", id="http_500"
    ),
    pytest.param(
        lambda r: Reply(content=good_wording(r), delay_s=1.0),
        "unavailable",
        "retried",
        False,
        "timed out",
        id="timeout",
    ),
    pytest.param(REFUSED, "unavailable", None, False, None, id="connection_refused"),
    pytest.param(
        _error(404, "The model does not exist", "model_not_found"),
        "error",
        1,
        False,
        None,
        id="unknown_model",
    ),
    pytest.param(
        _error(429, "You exceeded your quota", "insufficient_quota"), "error", 1, False, None, id="no_quota"
    ),
    pytest.param(_error(403, "Country not supported"), "error", 1, False, None, id="forbidden"),
    pytest.param(
        lambda _r: Reply(raw="<html>Bad gateway page</html>", headers={"content-type": "text/html"}),
        "error",
        1,
        False,
        None,
        id="html",
    ),
    pytest.param(
        lambda _r: Reply(body={"object": "something else"}),
        "malformed_reply",
        1,
        False,
        None,
        id="no_choices",
    ),
    pytest.param(
        lambda _r: Reply(body={"choices": [{"message": None}], "usage": {"prompt_tokens": "many"}}),
        "error",
        1,
        False,
        None,
        id="broken_fields",
    ),
    pytest.param(
        lambda _r: Reply(content='Sure! Here are your suggestions: {"suggestions": [{"id": "s1",'),
        "malformed_reply",
        1,
        True,
        None,
        id="cut_off_json",
    ),
    pytest.param(_with_content(None), "malformed_reply", 1, True, None, id="null"),
    pytest.param(_with_content(""), "malformed_reply", 1, True, None, id="empty"),
    pytest.param(_with_content("[]"), "malformed_reply", 1, True, None, id="a_list"),
    pytest.param(_with_content('{"suggestions": "none"}'), "malformed_reply", 1, True, None, id="not_a_list"),
    pytest.param(_with_content("no braces at all"), "malformed_reply", 1, True, None, id="prose"),
]


@pytest.mark.parametrize(("answer", "fallback", "requests", "counted", "warning"), FAILURES)
async def test_a_failed_answer_keeps_the_builtin_wording(
    hass: HomeAssistant,
    server: FakeOpenAI,
    logs: LogRecords,
    answer: Any,
    fallback: str,
    requests: int | str | None,
    counted: bool,
    warning: str | None,
) -> None:
    """Whatever goes wrong, the run keeps the suggestions as built and says why; the job goes on.

    Errors that waiting can mend (5xx, a timeout, nothing listening) are retried; a refusal
    (unknown model, no quota, forbidden) or an answer that is not our JSON is not. An answer
    that came back still counts its tokens.
    """
    suggestions, _patterns = await async_suggestions(hass, count=2)
    entry = openai_entry(hass, server)
    if answer is REFUSED:
        await server.stop()
    else:
        server.default = answer

    outcome = await word(hass, entry, suggestions)

    unchanged(outcome, suggestions)
    assert outcome.fallback == fallback
    if requests is not None:
        assert len(server.chat_requests) == (llm_client.MAX_ATTEMPTS if requests == "retried" else requests)
    assert (outcome.tokens > 0, outcome.cost_usd > 0) == (counted, counted)
    if warning is not None:
        assert len(logs.at(logging.WARNING)) == 1
        assert warning in logs.at(logging.WARNING)[0]
