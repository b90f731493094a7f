"""One error root for kg; each error carries the context a user needs to act on it."""

from __future__ import annotations

import re

# Line breaks and other control characters (C0, DEL, C1, the Unicode line/paragraph separators).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` fit for a one-line message: control characters and line breaks from the input
    shown escaped (``\\n``), never written raw to the terminal.

    >>> one_line("CData section not finished\\nabc\\x1b[31m")
    'CData section not finished\\\\nabc\\\\x1b[31m'
    """
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class KgError(Exception):
    """Base of every error kg raises on purpose. ``exit_code`` is what the CLI returns."""

    exit_code = 3

    def __init__(self, message: str, *, source: str | None = None, record: str | None = None):
        self.message = message
        self.source = source
        self.record = record
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.source, self.record) if p)
        return one_line(f"{where}: {self.message}" if where else self.message)


class InputError(KgError):
    """Input that cannot be read: missing, empty, not the format it should be."""


class StoreError(KgError):
    """The store is missing or cannot be opened."""


class UsageError(KgError):
    """Options that do not make sense together."""

    exit_code = 2


class NetworkError(KgError):
    """E-utilities could not be reached or kept failing, or (offline) the cache lacks an answer."""


class WorkerError(KgError):
    """A worker process died under kg (killed, out of memory): its part of the work is lost,
    so nothing is reported as if it were whole."""
