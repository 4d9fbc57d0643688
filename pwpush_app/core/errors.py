"""The base of every refusal the core gives."""


class PushError(Exception):
    """A refusal whose message is fit to show a person."""
