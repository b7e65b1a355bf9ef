"""The one exception a parser may raise, whatever the input."""


class ProtocolError(ValueError):
    """The payload is not what this wire format allows; the message says why."""
