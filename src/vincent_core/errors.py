"""Every error vincent raises, in one tree.

::

    VincentError
    ├── ConfigurationError          bad URL, bad option, bad listener declaration
    ├── EncodeError                 a body that cannot be sent (not JSON-serialisable)
    ├── ConnectionFailed            cannot connect or authenticate (URL shown masked)
    │   └── AuthenticationFailed
    ├── ConnectionLost              the connection dropped while something waited on it
    ├── PublishFailed               the broker refused or did not confirm a publish
    ├── MessageTooLarge             a body over the size limit, refused before sending
    ├── NoRoute                     nothing is bound to the key
    ├── CallTimeout (TimeoutError)  no reply within the call's timeout
    ├── Rejected                    every consumer rejected the call
    └── RemoteError                 the remote handler raised
        └── InvalidMessage          a body or reply did not match its declared type

Lower-layer (AMQP connection, socket) errors are translated into these at one seam: the AMQP
transport. The CLI maps this tree to exit codes in one table.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "AuthenticationFailed",
    "CallTimeout",
    "ConfigurationError",
    "ConnectionFailed",
    "ConnectionLost",
    "EncodeError",
    "FieldError",
    "InvalidMessage",
    "MessageTooLarge",
    "NoRoute",
    "PublishFailed",
    "Rejected",
    "RemoteError",
    "VincentError",
]


class VincentError(Exception):
    """Root of every error vincent raises."""


class ConfigurationError(VincentError):
    """A URL, option or declaration that cannot work."""


class EncodeError(VincentError):
    """A body that cannot be encoded for the wire."""


class ConnectionFailed(VincentError):
    """The broker could not be reached, or refused the connection.

    ``url`` is always the masked URL: a password never reaches a log or a terminal.
    ``reply_code`` is the AMQP code of the broker's refusal (530: no such vhost, 403:
    access refused), 0 when it never answered.
    """

    def __init__(self, message: str, *, url: str = "", reply_code: int = 0) -> None:
        super().__init__(message)
        self.url = url
        self.reply_code = reply_code


class AuthenticationFailed(ConnectionFailed):
    """The broker refused the credentials."""


class ConnectionLost(VincentError):
    """The connection dropped while a call or a publish waited on it."""


class PublishFailed(VincentError):
    """The broker did not accept a publish (nack, closed channel, or no confirm in time).

    ``reply_code`` is the AMQP code when the broker closed the channel over it (406: over
    its ``max_message_size``), 0 otherwise.
    """

    def __init__(self, message: str, *, reply_code: int = 0) -> None:
        super().__init__(message)
        self.reply_code = reply_code


class MessageTooLarge(VincentError):
    """A body over the size limit (``max_body``), refused before it was sent."""

    def __init__(self, key: str, size: int, limit: int) -> None:
        super().__init__(f"the body for {key!r} is {size} bytes, over the limit of {limit} bytes")
        self.key = key
        self.size = size
        self.limit = limit


class NoRoute(VincentError):
    """Nothing is bound to the key: the broker returned the message at once."""

    def __init__(self, key: str, *, exchange: str = "") -> None:
        where = f" on exchange {exchange!r}" if exchange else ""
        super().__init__(f"no route: nothing is bound to {key!r}{where}")
        self.key = key
        self.exchange = exchange


class CallTimeout(VincentError, TimeoutError):
    """No reply arrived within the call's timeout."""

    def __init__(
        self,
        key: str,
        timeout: float,
        *,
        correlation_id: str = "",
        hint: str = "",
    ) -> None:
        text = f"call to {key!r} timed out after {timeout:g}s"
        if hint:
            text = f"{text} ({hint})"
        super().__init__(text)
        self.key = key
        self.timeout = timeout
        self.correlation_id = correlation_id


class Rejected(VincentError):
    """The call was rejected by every consumer (or too many times)."""

    def __init__(self, key: str, reason: str = "") -> None:
        text = f"call to {key!r} was rejected"
        if reason:
            text = f"{text}: {reason}"
        super().__init__(text)
        self.key = key
        self.reason = reason


class RemoteError(VincentError):
    """The remote handler raised; its type, message and traceback travel here.

    ``type`` is the remote class name, module-qualified unless it is a builtin
    (``ValueError``, ``myapp.errors.DiskFull``).
    """

    def __init__(self, type: str, message: str, traceback: str = "", *, key: str = "") -> None:
        super().__init__(f"{type}: {message}")
        self.type = type
        self.message = message
        self.traceback = traceback
        self.key = key

    def __str__(self) -> str:
        head = f"{self.type}: {self.message}"
        if self.traceback:
            return f"{head}\n\nRemote traceback:\n{self.traceback.rstrip()}"
        return head


class FieldError(NamedTuple):
    """One reason a message did not match its type: where (``items[0].name``; ``""`` for
    the body as a whole) and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(body)'}: {self.message}"


class InvalidMessage(RemoteError):
    """A message did not match the type its handler declared.

    ``type`` is ``vincent.invalid`` when the worker refused the request body (the handler
    never ran) and ``vincent.invalid-reply`` when a reply did not match its type (checked
    by the worker before sending, or by the caller's ``reply=``). ``errors`` lists the
    fields; the text shows one per line::

        try:
            await client.call("file.encrypt", {"file": 3})
        except InvalidMessage as exc:
            for error in exc.errors:
                print(error.path, error.message)
    """

    def __init__(
        self,
        type: str,
        message: str,
        errors: tuple[FieldError, ...] = (),
        *,
        key: str = "",
    ) -> None:
        super().__init__(type, message, key=key)
        self.errors = errors

    def __str__(self) -> str:
        lines = [f"{self.type}: {self.message}"]
        lines.extend(f"  {error}" for error in self.errors)
        return "\n".join(lines)
