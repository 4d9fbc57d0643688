"""The bases of every refusal the core gives."""


class PushError(Exception):
    """A refusal whose message is fit to show a person."""


class ServerBusy(RuntimeError):
    """The server can't do this right now (database locked, too much hashing at once);
    nothing was changed.  Pages say "try again in a moment", the API answers 503 with
    Retry-After."""

    retry_after_seconds = 5
