"""The OpenAI chat API (OpenAI itself or a compatible server), with our own retries.

Imported only when a writer needs it (``llm_state.async_client_module``): the built-in writer
never loads ``openai``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, cast

import openai
from homeassistant.core import HomeAssistant
from homeassistant.helpers.httpx_client import get_async_client
from openai.types.chat import ChatCompletion

from .const import LOGGER
from .llm_errors import WriterAuthError, WriterError, WriterFailed, WriterUnavailable

# Seconds. One request; the flow's credential check (as openai_conversation does).
REQUEST_TIMEOUT_S = 30.0
VALIDATION_TIMEOUT_S = 10.0
# Retries on 429, 5xx, timeouts and connection errors: 1 s, 2 s, then built-in wording.
MAX_ATTEMPTS = 3
RETRY_BASE_DELAY_S = 1.0
# A server's Retry-After is honoured up to this many seconds.
RETRY_AFTER_CAP_S = 20.0
# Servers like Ollama ignore the key, but the client insists on one.
NO_KEY = "no-key"


@dataclass(frozen=True, slots=True)
class ChatReply:
    """The model's text and what it cost in tokens."""

    text: str | None
    prompt_tokens: int
    completion_tokens: int


async def async_create_client(
    hass: HomeAssistant, api_key: str | None, base_url: str | None, request_timeout: float
) -> openai.AsyncOpenAI:
    """A client on Home Assistant's shared HTTP client, with the library's retries off."""
    client = openai.AsyncOpenAI(
        api_key=api_key or NO_KEY,
        base_url=base_url or None,
        # Since 2026.11 one class at run time (HA aliases httpx to httpx2); typed apart by
        # the installed packages, hence Any.
        http_client=cast(Any, get_async_client(hass)),
        max_retries=0,
        timeout=request_timeout,
    )
    # The platform headers read /etc/os-release once: not on the event loop.
    await hass.async_add_executor_job(client.platform_headers)
    return client


async def async_list_models(hass: HomeAssistant, api_key: str | None, base_url: str | None) -> list[str]:
    """The server's model ids; raises the ``openai`` errors the config flow maps."""
    client = await async_create_client(hass, api_key, base_url, VALIDATION_TIMEOUT_S)
    # Awaited: without it no request is sent at all.
    page = await client.with_options(timeout=VALIDATION_TIMEOUT_S).models.list()
    return [model.id for model in page.data]


async def async_check(
    hass: HomeAssistant, api_key: str | None, base_url: str | None, model: str
) -> tuple[str | None, str | None]:
    """Check the credentials (and the model) for the config flow.

    Returns the base URL that answered (``/v1`` appended when only that answers, as
    users often give Ollama's bare address) and the form's error key, or None.
    """
    urls = [base_url]
    if base_url and not base_url.rstrip("/").endswith("/v1"):
        urls.append(base_url.rstrip("/") + "/v1")
    for url in urls:
        try:
            models = await async_list_models(hass, api_key, url)
        except openai.AuthenticationError:
            return url, "invalid_auth"
        except openai.NotFoundError:
            continue
        except openai.APIConnectionError:
            return url, "cannot_connect"
        except Exception:  # noqa: BLE001 - the flow shows "unknown"; the log says what it was
            LOGGER.exception("Unexpected error checking the OpenAI API at %s", url or "api.openai.com")
            return url, "unknown"
        # An empty list: the server does not say; Ollama lists "llama3.2" as "llama3.2:latest".
        if models and model not in models and f"{model}:latest" not in models:
            return url, "model_not_found"
        return url, None
    return base_url, "cannot_connect"


async def async_check_key(
    hass: HomeAssistant, api_key: str | None, base_url: str | None
) -> WriterError | None:
    """At setup: whether the server takes the key (None), or why not.

    A server without a models list (404) is not a failure: the first run will tell.
    """
    try:
        await async_list_models(hass, api_key, base_url)
    except openai.AuthenticationError as err:
        return WriterAuthError(_describe(err))
    except openai.NotFoundError:
        return None
    except openai.APIConnectionError as err:
        return WriterUnavailable(_describe(err))
    except openai.OpenAIError as err:
        return WriterFailed(_describe(err))
    return None


def _retryable(err: openai.OpenAIError) -> bool:
    if isinstance(err, openai.APIConnectionError):  # timeouts included
        return True
    if isinstance(err, openai.APIStatusError):
        if err.code == "insufficient_quota":  # a 429 that waiting does not fix
            return False
        return err.status_code in (408, 409, 429) or err.status_code >= 500
    return False


def _describe(err: openai.OpenAIError) -> str:
    if isinstance(err, openai.APITimeoutError):
        return "timed out"
    if isinstance(err, openai.APIStatusError):
        return f"HTTP {err.status_code}" + (f" ({err.code})" if err.code else "")
    if isinstance(err, openai.APIConnectionError):
        return "cannot connect"
    return type(err).__name__


def _delay(err: openai.OpenAIError, attempt: int) -> float:
    delay = RETRY_BASE_DELAY_S * 2.0**attempt
    if isinstance(err, openai.APIStatusError):
        try:
            retry_after = float(err.response.headers.get("retry-after", ""))
        except ValueError:
            return delay
        return min(max(retry_after, delay), RETRY_AFTER_CAP_S)
    return delay


class ChatClient:
    """Sends one run's prompt; remembers whether the server takes JSON mode."""

    def __init__(self, client: openai.AsyncOpenAI, model: str) -> None:
        """Use ``client`` to ask ``model``."""
        self._client = client
        self._model = model
        self.json_mode = True

    async def async_chat(self, system: str, user: str, max_tokens: int) -> ChatReply:
        """One completion, retried with backoff; raises the writer errors."""
        for attempt in range(MAX_ATTEMPTS):
            try:
                return await self._async_once(system, user, max_tokens)
            except openai.AuthenticationError as err:
                raise WriterAuthError(_describe(err)) from err
            except openai.BadRequestError as err:
                if not self.json_mode:
                    raise WriterFailed(_describe(err)) from err
                # Some compatible servers (LM Studio) reject the JSON response format;
                # the prompt asks for JSON anyway and the parser is tolerant.
                LOGGER.debug("The server rejects JSON mode (%s); asking without it", _describe(err))
                self.json_mode = False
                return await self.async_chat(system, user, max_tokens)
            except openai.OpenAIError as err:
                if not _retryable(err):
                    raise WriterFailed(_describe(err)) from err
                if attempt == MAX_ATTEMPTS - 1:
                    raise WriterUnavailable(_describe(err)) from err
                delay = _delay(err, attempt)
                LOGGER.debug("Wording request failed (%s); retrying in %.1f s", _describe(err), delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _async_once(self, system: str, user: str, max_tokens: int) -> ChatReply:
        extra: dict[str, Any] = {"response_format": {"type": "json_object"}} if self.json_mode else {}
        response = await self._client.chat.completions.create(
            model=self._model,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            max_tokens=max_tokens,
            temperature=0.3,
            **extra,
        )
        # Without strict validation the client hands back whatever came: an HTML error
        # page of a proxy as a str, odd JSON as a half-built object.
        try:
            if not isinstance(response, ChatCompletion):
                raise TypeError(type(response).__name__)
            usage = response.usage
            text = response.choices[0].message.content if response.choices else None
            return ChatReply(
                text=text if isinstance(text, str) else None,
                prompt_tokens=int(usage.prompt_tokens) if usage else 0,
                completion_tokens=int(usage.completion_tokens) if usage else 0,
            )
        except (AttributeError, TypeError, ValueError, IndexError) as err:
            raise WriterFailed(f"not a chat completion: {err}") from err
