"""Why a writer could not word a run; each ends in built-in wording for that run."""

from __future__ import annotations


class WriterError(Exception):
    """The writer gave no usable reply for the run."""

    reason = "error"


class WriterAuthError(WriterError):
    """The key was rejected: a reauth flow is started."""

    reason = "invalid_auth"


class WriterUnavailable(WriterError):
    """Rate limited, server errors, timeouts or no connection, after the retries."""

    reason = "unavailable"


class WriterFailed(WriterError):
    """Any other refusal (bad request, unknown model, no quota, agent error)."""

    reason = "error"


class WriterNotSupported(WriterError):
    """This Home Assistant lacks what the writer needs (AI Task before 2025.8)."""

    reason = "not_supported"
