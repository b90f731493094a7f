"""How kg retries an HTTP request: one policy for E-utilities (``kg fetch``) and ``kg publish``.

Retried: 408, 425, 429, 500, 502, 503 and 504 answers, refused or reset connections, and
timeouts, for every method (kg sends only requests that may be repeated: GET/POST queries to
E-utilities, PUT/DELETE/POST of whole graphs). The wait before retry *n* (1, 2, …) is the
server's ``Retry-After`` when it sends one (seconds or an HTTP date, at most
:data:`MAX_RETRY_AFTER`), else between half and all of ``backoff * 2**(n-1)`` seconds, at most
``max_backoff`` ("equal jitter": retries from many clients spread out, and never come at once).

:meth:`RetryPolicy.urllib3` makes it a ``urllib3`` :class:`~urllib3.util.Retry` that
:func:`session` mounts on a ``requests`` session, so retries happen inside each request;
:meth:`RetryPolicy.wait` is the same wait for what a caller retries itself (an answer whose
body breaks off or is not what was asked for).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

#: Answers worth asking again: timeouts, too many requests, and the server's passing faults.
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
#: The longest ``Retry-After`` kg waits, in seconds.
MAX_RETRY_AFTER = 300.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``retries`` after the first try; ``backoff`` seconds before the first, doubled at each."""

    retries: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0
    max_retry_after: float = MAX_RETRY_AFTER

    def wait(self, retry: int, *, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first).

        >>> RetryPolicy(backoff=1.0).wait(1, retry_after="7")
        7.0
        >>> 2.0 <= RetryPolicy(backoff=1.0).wait(3) <= 4.0
        True
        """
        after = parse_retry_after(retry_after, limit=self.max_retry_after)
        if after is not None:
            return after
        cap = min(self.max_backoff, self.backoff * 2.0 ** max(retry - 1, 0))
        return cap / 2 + random.uniform(0, cap / 2)

    def urllib3(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[str], None] | None = None,
    ) -> Retry:
        """This policy as a urllib3 ``Retry``: ``sleep`` waits, ``on_retry`` hears each retry's
        reason once the wait is over, just before the request goes again (a rate limiter
        belongs there)."""
        return _Retry(
            total=self.retries,
            status_forcelist=RETRY_STATUS,
            allowed_methods=None,  # every method: kg repeats only what may be repeated
            raise_on_status=False,  # the last answer is handed back; the caller names it
            raise_on_redirect=False,
            respect_retry_after_header=True,
            policy=self,
            sleeper=sleep,
            on_retry=on_retry,
        )


def session(
    policy: RetryPolicy,
    *,
    user_agent: str,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[str], None] | None = None,
) -> requests.Session:
    """A ``requests`` session that retries by ``policy`` (for http and https)."""
    s = requests.Session()
    s.headers["User-Agent"] = user_agent
    adapter = HTTPAdapter(max_retries=policy.urllib3(sleep=sleep, on_retry=on_retry))
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def parse_retry_after(value: str | None, *, limit: float = MAX_RETRY_AFTER) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), at most
    ``limit``; None when there is none or it cannot be read.

    >>> parse_retry_after("7"), parse_retry_after("soon"), parse_retry_after("9999")
    (7.0, None, 300.0)
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), limit)


def describe(error: BaseException | None) -> str:
    """A short reason for a failed request: the cause urllib3 gave up on, not its wrapper."""
    while error is not None:
        reason = getattr(error, "reason", None)
        if isinstance(reason, BaseException):
            error = reason
            continue
        args = getattr(error, "args", ())
        if (
            args
            and isinstance(args[0], BaseException)
            and type(error).__module__.startswith("requests")
        ):
            error = args[0]
            continue
        break
    if error is None:
        return "no answer"
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:160]}" if text else type(error).__name__


class _Retry(Retry):
    """urllib3's ``Retry`` with kg's wait (:meth:`RetryPolicy.wait`) and a hook per retry."""

    def __init__(
        self,
        *args: Any,
        policy: RetryPolicy | None = None,
        sleeper: Callable[[float], None] = time.sleep,
        on_retry: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy or RetryPolicy()
        self.sleeper = sleeper
        self.on_retry = on_retry

    def new(self, **kw: Any) -> _Retry:
        fresh = super().new(**kw)
        fresh.policy, fresh.sleeper, fresh.on_retry = self.policy, self.sleeper, self.on_retry
        return fresh

    def sleep(self, response: Any = None) -> None:
        headers = getattr(response, "headers", None)
        after = headers.get("Retry-After") if headers is not None else None
        self.sleeper(self.policy.wait(len(self.history), retry_after=after))
        if self.on_retry is not None:
            self.on_retry(self._reason())

    def get_backoff_time(self) -> float:
        return self.policy.wait(len(self.history))

    def parse_retry_after(self, retry_after: str) -> float:
        after = parse_retry_after(retry_after, limit=self.policy.max_retry_after)
        return 0.0 if after is None else after

    def _reason(self) -> str:
        last = self.history[-1] if self.history else None
        if last is None:
            return "retry"
        if last.status:
            return f"HTTP {last.status}"
        return describe(last.error)
