"""kg's one retry policy (kg/retry.py), as E-utilities and publish use it, against a real HTTP
server on 127.0.0.1 that replays 429 and 503 answers with ``Retry-After``, resets and cut
bodies. Nothing here touches the internet.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest

from kg.errors import NetworkError
from kg.publish import PublishReport, PublishSettings, _Client
from kg.retry import RETRY_STATUS, RetryPolicy, parse_retry_after, session
from kg.sources.eutils import EutilsClient, EutilsSettings

Step = tuple[Any, ...]  # ("status", code, headers) | ("reset",) | ("cut",) | ("ok",)


class Scripted(BaseHTTPRequestHandler):
    """Answers each request with the next step of ``script`` (then 200), noting when it came."""

    protocol_version = "HTTP/1.1"
    script: ClassVar[list[Step]] = []
    seen: ClassVar[list[tuple[str, float]]] = []
    lock = threading.Lock()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with self.lock:
            self.seen.append((self.command, time.monotonic()))
            step = self.script.pop(0) if self.script else ("ok",)
        body = b"<ok/>\n"
        if step[0] == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        code, headers = (step[1], step[2]) if step[0] == "status" else (200, {})
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if step[0] == "cut":  # promised a whole body, sends half, hangs up
            self.wfile.write(body[:3])
            self.close_connection = True
            return
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server(local_server: Any) -> Iterator[tuple[str, type[Scripted]]]:
    with local_server(Scripted, script=[], seen=[]) as (url, handler):
        yield f"{url}/", handler


class CountingLimiter:
    def __init__(self) -> None:
        self.calls = 0

    def acquire(self) -> None:
        self.calls += 1


def eutils(url: str, tmp_path: Path, **options: Any) -> tuple[EutilsClient, list[float]]:
    slept: list[float] = []
    settings = EutilsSettings(base_url=url, email="t@example.org", cache_dir=None, timeout=5.0,
                              **{"max_retries": 3, "backoff": 0.001, **options})  # fmt: skip
    client = EutilsClient(settings, limiter=CountingLimiter(), sleep=slept.append)  # type: ignore[arg-type]
    return client, slept


# --- the policy ----------------------------------------------------------------------------


def test_waits_follow_retry_after_else_backoff_with_jitter() -> None:
    policy = RetryPolicy(backoff=1.0, max_backoff=6.0)
    assert policy.wait(1, retry_after="7") == 7.0
    assert policy.wait(1, retry_after="0") == 0.0
    assert 25 < policy.wait(1, retry_after=formatdate(time.time() + 30, usegmt=True)) <= 30
    for n in range(1, 7):
        waits = {policy.wait(n, retry_after="soon") for _ in range(50)}  # unreadable: backoff
        cap = min(6.0, 2.0 ** (n - 1))
        assert all(cap / 2 <= w <= cap for w in waits) and len(waits) > 1  # jittered
    assert parse_retry_after("100000") == 300.0 and parse_retry_after("-5") == 0.0
    assert parse_retry_after("nan") is None and parse_retry_after("") is None


def test_both_clients_take_one_policy_from_the_same_options() -> None:
    e = EutilsSettings(max_retries=4, backoff=0.5)
    p = PublishSettings(endpoint="http://127.0.0.1:9/store", retries=4, backoff=0.5)
    assert e.policy == p.policy == RetryPolicy(retries=4, backoff=0.5)
    assert {408, 429, 500, 502, 503, 504} <= RETRY_STATUS and 404 not in RETRY_STATUS


def test_a_session_respects_retry_after_and_hands_back_the_last_answer(
    server: tuple[str, type[Scripted]],
) -> None:
    url, handler = server
    slept: list[float] = []
    heard: list[str] = []
    s = session(RetryPolicy(retries=2, backoff=0.001), user_agent="kg-test",
                sleep=slept.append, on_retry=heard.append)  # fmt: skip
    handler.script.extend([("status", 429, {"Retry-After": "3"}), ("status", 503, {})])
    assert s.get(url, timeout=5).status_code == 200
    assert slept[0] == 3.0 and 0.0005 <= slept[1] <= 0.002
    assert heard == ["HTTP 429", "HTTP 503"]
    handler.script.extend([("status", 503, {"Retry-After": "0"})] * 3)
    assert s.get(url, timeout=5).status_code == 503  # retries spent: the last answer, no raise
    assert len(handler.seen) == 6


# --- E-utilities ---------------------------------------------------------------------------


def test_eutils_retries_429_and_503_through_the_rate_limiter(
    server: tuple[str, type[Scripted]], tmp_path: Path
) -> None:
    url, handler = server
    client, slept = eutils(url, tmp_path)
    handler.script.extend([("status", 429, {"Retry-After": "2"}), ("status", 503, {}), ("reset",)])
    with client:
        assert client.call("einfo.fcgi", {"db": "pubmed"}) == b"<ok/>\n"
    assert len(handler.seen) == 4
    assert slept[0] == 2.0 and len(slept) == 3
    assert client.limiter.calls == 4  # type: ignore[attr-defined]  # every try waited its turn
    assert (client.stats.requests, client.stats.retries) == (4, 3)


def test_eutils_shares_one_budget_between_http_faults_and_cut_answers(
    server: tuple[str, type[Scripted]], tmp_path: Path
) -> None:
    url, handler = server
    client, _ = eutils(url, tmp_path, max_retries=3)
    handler.script.extend([("cut",)] + [("status", 503, {"Retry-After": "0"})] * 10)
    with client, pytest.raises(NetworkError, match=r"gave up after 4 tries: HTTP 503"):
        client.call("einfo.fcgi", {"db": "pubmed"})
    assert len(handler.seen) == 4  # 1 + 3 retries in all, whatever failed
    assert client.stats.retries == 3


# --- publish -------------------------------------------------------------------------------


def test_publish_waits_as_retry_after_says(server: tuple[str, type[Scripted]]) -> None:
    url, handler = server
    report = PublishReport(endpoint=url, mode="per-article")
    client = _Client(PublishSettings(endpoint=url, retries=2, backoff=0.001), report)
    handler.script.extend([("status", 503, {"Retry-After": "1"})])
    assert client.send("PUT", "http://example.org/g", b"").status_code == 200
    (_, first), (_, second) = handler.seen
    assert second - first >= 0.9  # the server's wait, not the 1 ms backoff
    assert (report.requests, report.retries) == (2, 1)
    handler.script.extend([("status", 429, {"Retry-After": "0"})] * 3)
    with pytest.raises(NetworkError, match=r"PUT failed after 3 tries: HTTP 429"):
        client.send("PUT", "http://example.org/g", b"")
    handler.script.extend([("reset",)] * 3)
    with pytest.raises(NetworkError, match=r"DELETE failed after 3 tries: .*Connection"):
        client.send("DELETE", "http://example.org/g")
