"""Bytes in from NCBI E-utilities (esearch, efetch, elink): the only HTTP client code of kg.

NCBI's rules are kept: ``tool`` and ``email`` go with every request; at most 3 requests a second
(10 with an API key) through one limiter shared by every thread that talks to the same server;
POST for long ID lists; a timeout on every request. Faults — 429, 5xx, refused or reset
connections, timeouts, truncated bodies, and 200 answers that are not the XML asked for — are
retried by kg's one retry policy (:mod:`kg.retry`: exponential backoff with jitter, honouring
``Retry-After``); every retry waits its turn at the rate limiter too. Good answers are kept in
an on-disk cache, one file per request, so a second or resumed run asks only for what it lacks
and ``offline`` runs need no network at all.

The functions return plain data: PMID lists (:func:`esearch`), the raw XML of one efetch batch
(:func:`efetch`), and ``{PMID: [linked PMIDs]}`` (:func:`elink`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from lxml import etree

from kg import __version__
from kg.atomic import atomic_write
from kg.errors import NetworkError
from kg.retry import RETRY_STATUS, RetryPolicy, describe
from kg.retry import session as new_session

log = logging.getLogger(__name__)

DEFAULT_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"


def default_cache() -> Path:
    """Where answers are cached unless told: ``$KG_CACHE_DIR``, else the user's cache directory
    (``$XDG_CACHE_HOME/kg/eutils``, ``~/.cache/kg/eutils``) — not the working directory, which
    changes from run to run."""
    chosen = os.environ.get("KG_CACHE_DIR")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kg" / "eutils"


DEFAULT_CACHE = default_cache()
TOOL = "kg"
#: NCBI's limits, requests per second, without and with an API key.
RATE_WITHOUT_KEY = 3
RATE_WITH_KEY = 10
#: The limiter's window, in seconds. NCBI counts requests where they arrive, so a little slack
#: keeps network jitter from bunching four requests into one of NCBI's seconds.
WINDOW = 1.05
#: Past this many characters of parameters a request goes as POST (NCBI's advice for long ID lists).
POST_OVER = 1500
#: esearch hands out at most this many PMIDs per page.
ESEARCH_PAGE = 10_000
_NOT_IN_KEY = frozenset({"tool", "email", "api_key"})

Params = Mapping[str, str | Sequence[str]]
Check = Callable[[bytes], None]


@dataclass(frozen=True, slots=True)
class EutilsSettings:
    """Where E-utilities is, who asks, and how patiently.

    ``rate`` overrides NCBI's limit (3 requests a second, 10 with ``api_key``); ``cache_dir``
    None means no cache; ``backoff`` is the first retry's wait in seconds, doubled at each retry.
    """

    base_url: str = DEFAULT_EUTILS_URL
    api_key: str | None = None
    email: str | None = None
    timeout: float = 30.0
    max_retries: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0
    cache_dir: Path | None = DEFAULT_CACHE
    offline: bool = False
    rate: int | None = None

    @classmethod
    def from_env(
        cls,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        email: str | None = None,
        **options: Any,
    ) -> EutilsSettings:
        """Settings from the arguments, else ``KG_EUTILS_URL``, ``NCBI_API_KEY``, ``NCBI_EMAIL``."""
        return cls(
            base_url=base_url or os.environ.get("KG_EUTILS_URL") or DEFAULT_EUTILS_URL,
            api_key=api_key or os.environ.get("NCBI_API_KEY") or None,
            email=email or os.environ.get("NCBI_EMAIL") or None,
            **options,
        )

    @property
    def policy(self) -> RetryPolicy:
        """How requests are retried (see :mod:`kg.retry`)."""
        return RetryPolicy(
            retries=self.max_retries, backoff=self.backoff, max_backoff=self.max_backoff
        )

    @property
    def requests_per_second(self) -> int:
        if self.rate is not None:
            return self.rate
        return RATE_WITH_KEY if self.api_key else RATE_WITHOUT_KEY


class RateLimiter:
    """At most ``max_calls`` calls in any ``period`` seconds: a sliding window, monotonic clock.

    Thread-safe; :meth:`acquire` blocks until a call is allowed.

    >>> now = [0.0]
    >>> def advance(seconds: float) -> None:
    ...     now[0] += seconds
    >>> limiter = RateLimiter(2, 1.0, clock=lambda: now[0], sleep=advance)
    >>> for _ in range(5):
    ...     limiter.acquire()
    >>> now[0]  # calls at 0, 0, 1, 1, 2
    2.0
    """

    def __init__(
        self,
        max_calls: int,
        period: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_calls < 1 or period <= 0:
            raise ValueError("a rate limit needs max_calls >= 1 and period > 0")
        self.max_calls = max_calls
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:  # held while sleeping: waiters queue up in order
            while True:
                now = self._clock()
                while self._calls and now - self._calls[0] >= self.period:
                    self._calls.popleft()
                if len(self._calls) < self.max_calls:
                    self._calls.append(now)
                    return
                self._sleep(self.period - (now - self._calls[0]))


_limiters: dict[tuple[str, int], RateLimiter] = {}
_limiters_lock = threading.Lock()


def shared_limiter(base_url: str, rate: int) -> RateLimiter:
    """The one limiter of this process for ``base_url`` at ``rate`` requests a second."""
    with _limiters_lock:
        key = (base_url, rate)
        if key not in _limiters:
            _limiters[key] = RateLimiter(rate, WINDOW)
        return _limiters[key]


class ResponseCache:
    """Answers on disk, one file per request, named by a hash of (endpoint, sorted params).

    ``tool``, ``email`` and ``api_key`` are not part of the key (and never written). Files are
    written to a temporary name and renamed: a run killed mid-write leaves no half answer.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, endpoint: str, params: Params, *, suffix: str = ".xml") -> Path:
        items = sorted(
            (k, [v] if isinstance(v, str) else list(v))
            for k, v in params.items()
            if k not in _NOT_IN_KEY
        )
        digest = hashlib.sha256(json.dumps([endpoint, items]).encode()).hexdigest()
        return self.root / endpoint.removesuffix(".fcgi") / f"{digest}{suffix}"

    def get(self, endpoint: str, params: Params, *, suffix: str = ".xml") -> bytes | None:
        try:
            return self.path(endpoint, params, suffix=suffix).read_bytes()
        except OSError:
            return None

    def put(self, endpoint: str, params: Params, body: bytes, *, suffix: str = ".xml") -> None:
        target = self.path(endpoint, params, suffix=suffix)
        try:
            with atomic_write(target) as fh:
                fh.write(body)
        except OSError as exc:  # the answer is still in hand; only the next run loses it
            log.warning("cannot write the E-utilities cache %s: %s", target, exc)


class BadResponse(Exception):
    """An answer that is not what was asked for; retried like a network fault.

    ``usable``: a well-formed answer that lacks something (records NCBI may not have); after the
    last retry it is returned as it is, so the caller can keep what it holds and name the rest.
    """

    def __init__(self, reason: str, *, usable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.usable = usable


@dataclass
class ClientStats:
    """Counts for the progress bar and the summary."""

    requests: int = 0  # HTTP requests sent, retries included
    cached: int = 0  # answers taken from the cache
    retries: int = 0


class EutilsClient:
    """HTTP to E-utilities with NCBI's rate limit, retries and the on-disk cache.

    Safe to share between threads (one HTTP session per thread). ``sleep`` is what waits
    between retries; ``on_retry`` hears each retry's reason (for a progress bar).
    """

    def __init__(
        self,
        settings: EutilsSettings | None = None,
        *,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings or EutilsSettings()
        self.limiter = limiter or shared_limiter(
            self.settings.base_url, self.settings.requests_per_second
        )
        self.cache = ResponseCache(self.settings.cache_dir) if self.settings.cache_dir else None
        if not self.settings.email and not self.settings.offline:
            log.warning("no e-mail for NCBI (NCBI_EMAIL or --email): NCBI asks for one")
        self.stats = ClientStats()
        self.on_retry = on_retry
        self._sleep = sleep
        self._retry = self.settings.policy.urllib3(sleep=sleep, on_retry=self._retried)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def __enter__(self) -> EutilsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = new_session(
                self.settings.policy,
                user_agent=f"kg/{__version__} (python-requests)",
                sleep=self._sleep,
                on_retry=self._retried,
            )
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _count(self, **n: int) -> None:
        with self._lock:
            for name, k in n.items():
                setattr(self.stats, name, getattr(self.stats, name) + k)

    def call(
        self, endpoint: str, params: Params, *, check: Check | None = None, cache: bool = True
    ) -> bytes:
        """The body of ``endpoint`` for ``params``: from the cache, else from NCBI, retried.

        ``check`` raises :class:`BadResponse` for a body that is not the answer asked for.
        Raises :class:`NetworkError` when all tries failed, or offline when not cached.
        """
        if cache and self.cache is not None:
            body = self.cache.get(endpoint, params)
            if body is not None and _passes(check, body):
                self._count(cached=1)
                return body
        if self.settings.offline:
            raise NetworkError(
                f"not in the cache ({self.cache.path(endpoint, params) if self.cache else 'none'})"
                " and --offline forbids asking NCBI",
                source=endpoint,
            )
        full: dict[str, str | Sequence[str]] = {**params, "tool": TOOL}
        if self.settings.email:
            full["email"] = self.settings.email
        if self.settings.api_key:
            full["api_key"] = self.settings.api_key
        url = self.settings.base_url.rstrip("/") + "/" + endpoint
        post = _length(full) > POST_OVER
        policy = self.settings.policy
        tries = policy.retries + 1
        left = policy.retries  # retries left, shared by HTTP faults and broken answers
        usable: bytes | None = None
        last = "no answer"
        while True:
            session = self._session()
            # HTTP faults (429/5xx, refused or reset connections, timeouts) are retried inside
            # the request by the policy mounted on the session, with what is left of the budget.
            adapter = session.get_adapter(url)
            adapter.max_retries = self._retry.new(total=left)  # type: ignore[attr-defined]
            self.limiter.acquire()  # last: nothing slow between the limiter and the request
            self._count(requests=1)
            try:
                resp = session.request(
                    "POST" if post else "GET",
                    url,
                    params=None if post else full,
                    data=full if post else None,
                    timeout=self.settings.timeout,
                    stream=True,
                )
            except (
                requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema,
            ) as exc:
                raise NetworkError(f"bad E-utilities URL {url!r}: {exc}", source=endpoint) from exc
            except requests.RequestException as exc:  # still failing after the retries
                raise NetworkError(
                    f"gave up after {tries} tries: {_fault(exc, self.settings.timeout)}",
                    source=endpoint,
                ) from exc
            answer: bytes | None = None
            with resp:
                left -= len(resp.raw.retries.history) if resp.raw.retries else 0
                if resp.status_code in RETRY_STATUS:  # still, after the retries
                    status = f"HTTP {resp.status_code} {resp.reason or ''}".rstrip()
                    raise NetworkError(f"gave up after {tries} tries: {status}", source=endpoint)
                if resp.status_code >= 400:
                    raise NetworkError(
                        f"HTTP {resp.status_code} {resp.reason or ''}: {_short(resp.text)}",
                        source=endpoint,
                    )
                try:
                    answer = resp.content
                except requests.RequestException as exc:  # the answer broke off: truncated
                    last = _fault(exc, self.settings.timeout)
            if answer is not None:
                try:
                    if check is not None:
                        check(answer)
                except BadResponse as bad:
                    last = bad.reason
                    if bad.usable:
                        usable = answer
                else:
                    if cache and self.cache is not None:
                        self.cache.put(endpoint, params, answer)
                    return answer
            if left <= 0:
                break
            left -= 1
            wait = policy.wait(policy.retries - left)
            self._count(retries=1)
            if self.on_retry is not None:
                self.on_retry(last)
            log.info("%s: retry %d/%d after %.2f s: %s", endpoint, policy.retries - left,
                     policy.retries, wait, last)  # fmt: skip
            self._sleep(wait)
        if usable is not None:
            log.info("%s: keeping an incomplete answer after %d tries: %s", endpoint, tries, last)
            return usable
        raise NetworkError(f"gave up after {tries} tries: {last}", source=endpoint)

    def _retried(self, reason: str) -> None:
        """One HTTP-level retry by the session's policy: counted, heard, and rate-limited."""
        self._count(retries=1)
        if self.on_retry is not None:
            self.on_retry(reason)
        log.info("retrying after %s", reason)
        self.limiter.acquire()
        self._count(requests=1)


def _passes(check: Check | None, body: bytes) -> bool:
    """Whether a cached ``body`` still passes ``check`` (a damaged file is asked for again)."""
    try:
        if check is not None:
            check(body)
    except BadResponse as bad:
        log.warning("ignoring a cached answer: %s", bad.reason)
        return False
    return True


def _length(params: Params) -> int:
    return sum(
        len(k) + (len(v) if isinstance(v, str) else sum(len(x) + len(k) + 2 for x in v)) + 2
        for k, v in params.items()
    )


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fault(exc: requests.RequestException, timeout: float) -> str:
    """What went wrong with a request, in a few words."""
    reason = describe(exc)
    if "timed out" in reason.lower() or isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s"
    return f"connection failed ({reason})"


# --- XML answers ----------------------------------------------------------------------------


def _parse(body: bytes, what: str) -> etree._Element:
    """``body`` as XML, safely (no DTD, entities or network); BadResponse if it is not whole."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        head = _short(body[:80].decode("utf-8", "replace"), 60)
        raise BadResponse(f"{what}: not complete XML ({exc.msg or exc}; starts {head!r})") from exc
    if root is None:
        raise BadResponse(f"{what}: empty answer")
    return root


def _ncbi_error(root: etree._Element) -> str | None:
    err = root.find(".//ERROR")
    return _short("".join(str(t) for t in err.itertext())) if err is not None else None


@dataclass(frozen=True, slots=True)
class PubmedSet:
    """A whole ``PubmedArticleSet``: its DOCTYPE and each record as (PMID, the record's XML)."""

    doctype: str | None
    records: tuple[tuple[str, bytes], ...]
    deleted: frozenset[str] = frozenset()  # PMIDs of DeleteCitation entries

    @property
    def pmids(self) -> frozenset[str]:
        return frozenset(p for p, _ in self.records)


_PMID_PATHS = {"PubmedArticle": "MedlineCitation/PMID", "PubmedBookArticle": "BookDocument/PMID"}


def split_pubmed_set(body: bytes) -> PubmedSet:
    """Split a ``PubmedArticleSet`` into records; :class:`BadResponse` if it is not a whole one."""
    root = _parse(body, "efetch")
    if root.tag != "PubmedArticleSet":
        error = _ncbi_error(root)
        raise BadResponse(
            f"efetch: NCBI says {error!r}"
            if error
            else f"efetch: <{root.tag}>, not <PubmedArticleSet>"
        )
    records: list[tuple[str, bytes]] = []
    deleted: set[str] = set()
    for elem in root:
        if not isinstance(elem.tag, str):
            continue  # comments, processing instructions
        if elem.tag == "DeleteCitation":
            deleted.update(t for t in (str(x).strip() for x in elem.itertext()) if t)
            continue
        pmid = (elem.findtext(_PMID_PATHS.get(elem.tag, "PMID")) or "").strip()
        if pmid:
            xml = etree.tostring(elem, encoding="UTF-8", xml_declaration=False, with_tail=False)
            records.append((pmid, xml))
    doctype = getattr(root.getroottree().docinfo, "doctype", None) or None
    return PubmedSet(doctype, tuple(records), frozenset(deleted))


def _efetch_check(pmids: Sequence[str]) -> Check:
    def check(body: bytes) -> None:
        got = split_pubmed_set(body)
        missing = set(pmids) - got.pmids - got.deleted
        if missing:
            raise BadResponse(
                f"efetch: {len(missing)} of {len(pmids)} records missing from the answer",
                usable=True,
            )

    return check


def efetch(client: EutilsClient, pmids: Sequence[str]) -> bytes:
    """The PubmedArticleSet XML of one batch of ``pmids``, checked whole.

    An answer that is not a complete PubmedArticleSet is retried; one that lacks some of the
    PMIDs is retried too, and after the last try returned as it is (those PMIDs NCBI does not
    give: the caller names them). Raises :class:`NetworkError` when no usable answer came.
    """
    if not pmids:
        raise ValueError("efetch needs at least one PMID")
    params = {"db": "pubmed", "retmode": "xml", "id": ",".join(pmids)}
    return client.call("efetch.fcgi", params, check=_efetch_check(pmids))


#: elink's link names for "Similar articles" and "Cited by".
SIMILAR = "pubmed_pubmed"
CITED_BY = "pubmed_pubmed_citedin"


def parse_elink(body: bytes, linkname: str) -> dict[str, list[str]]:
    """``{PMID: [linked PMIDs]}`` from an ``eLinkResult`` (one LinkSet per ``id``), in NCBI's order.

    An article is never its own neighbour (``pubmed_pubmed`` lists the article itself first).
    """
    root = _parse(body, "elink")
    if root.tag != "eLinkResult":
        raise BadResponse(f"elink: <{root.tag}>, not <eLinkResult>")
    links: dict[str, list[str]] = {}
    for linkset in root.iterfind("LinkSet"):
        source = (linkset.findtext("IdList/Id") or "").strip()
        if not source:
            continue
        found = links.setdefault(source, [])
        for db in linkset.iterfind("LinkSetDb"):
            if (db.findtext("LinkName") or "").strip() != linkname:
                continue
            for link in db.iterfind("Link/Id"):
                pmid = (link.text or "").strip()
                if pmid and pmid != source and pmid not in found:
                    found.append(pmid)
    return links


def _elink_check(pmids: Sequence[str], linkname: str) -> Check:
    def check(body: bytes) -> None:
        root = _parse(body, "elink")
        error = _ncbi_error(root)
        if error:
            raise BadResponse(f"elink: NCBI says {error!r}")
        missing = set(pmids) - set(parse_elink(body, linkname))
        if missing:
            raise BadResponse(
                f"elink: no LinkSet for {len(missing)} of {len(pmids)} PMIDs", usable=True
            )

    return check


def elink(client: EutilsClient, pmids: Sequence[str], *, linkname: str) -> dict[str, list[str]]:
    """``{PMID: [PMIDs linked by linkname]}`` for each of ``pmids`` (``SIMILAR``, ``CITED_BY``)."""
    if not pmids:
        return {}
    params = {
        "dbfrom": "pubmed",
        "db": "pubmed",
        "cmd": "neighbor",
        "linkname": linkname,
        "id": list(pmids),  # one id parameter each: one LinkSet per PMID
    }
    body = client.call("elink.fcgi", params, check=_elink_check(pmids, linkname))
    return parse_elink(body, linkname)


# --- esearch --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchPage:
    count: int
    ids: tuple[str, ...]
    webenv: str | None
    query_key: str | None


def parse_esearch(body: bytes) -> SearchPage:
    """Count, IdList, WebEnv and QueryKey of an ``eSearchResult``; BadResponse if not one."""
    root = _parse(body, "esearch")
    if root.tag != "eSearchResult":
        raise BadResponse(f"esearch: <{root.tag}>, not <eSearchResult>")
    count = (root.findtext("Count") or "").strip()
    if not count.isdigit():
        error = _ncbi_error(root)
        raise BadResponse(f"esearch: NCBI says {error!r}" if error else "esearch: no Count")
    return SearchPage(
        count=int(count),
        ids=tuple(t for t in ((e.text or "").strip() for e in root.iterfind("IdList/Id")) if t),
        webenv=(root.findtext("WebEnv") or "").strip() or None,
        query_key=(root.findtext("QueryKey") or "").strip() or None,
    )


def _esearch_check(body: bytes) -> None:
    parse_esearch(body)


def esearch(
    client: EutilsClient,
    term: str,
    *,
    mindate: str | None = None,
    maxdate: str | None = None,
    datetype: str = "pdat",
    max_ids: int | None = None,
    page_size: int = ESEARCH_PAGE,
) -> list[str]:
    """The PMIDs matching ``term`` (at most ``max_ids``), in NCBI's order, without repeats.

    Uses the history server (``usehistory=y``, then ``WebEnv`` and ``#query_key``) and pages of
    ``page_size``. A WebEnv answer cannot be cached as it is, so the finished PMID list is
    cached instead, keyed by the query: a resumed run does not search again.
    """
    query: dict[str, str] = {"db": "pubmed", "term": term}
    if mindate or maxdate:
        query.update(
            datetype=datetype, mindate=mindate or "1000/01/01", maxdate=maxdate or "3000/12/31"
        )
    key = {**query, "max": str(max_ids) if max_ids is not None else "all"}
    if client.cache is not None:
        cached = client.cache.get("esearch.fcgi", key, suffix=".pmids")
        if cached is not None:
            client._count(cached=1)
            return cached.decode().split()
    if client.settings.offline:
        raise NetworkError(
            f"the PMIDs of the query {term!r} are not in the cache, and --offline forbids "
            "asking NCBI",
            source="esearch.fcgi",
        )
    want = max_ids if max_ids is not None else None
    first = parse_esearch(
        client.call(
            "esearch.fcgi",
            {**query, "usehistory": "y", "retstart": "0", "retmax": str(_page(page_size, want))},
            check=_esearch_check,
            cache=False,
        )
    )
    total = first.count if want is None else min(first.count, want)
    if total >= ESEARCH_PAGE:
        log.warning(
            "esearch: %d PMIDs match; NCBI hands out at most %d per query: narrow it with "
            "--mindate/--maxdate if the rest fails",
            first.count,
            ESEARCH_PAGE - 1,
        )
    ids = list(first.ids)
    while len(ids) < total:
        params: dict[str, str] = {"db": "pubmed", "usehistory": "y"}
        if first.webenv and first.query_key:
            params.update(term=f"#{first.query_key}", WebEnv=first.webenv)
        else:  # no history server answer: page over the query itself
            params.update(query)
        params.update(retstart=str(len(ids)), retmax=str(_page(page_size, total - len(ids))))
        page = parse_esearch(client.call("esearch.fcgi", params, check=_esearch_check, cache=False))
        if not page.ids:
            break
        ids.extend(page.ids)
    unique = list(dict.fromkeys(ids[:total]))
    if client.cache is not None:
        client.cache.put("esearch.fcgi", key, "\n".join(unique).encode() + b"\n", suffix=".pmids")
    return unique


def _page(page_size: int, want: int | None) -> int:
    size = max(1, min(page_size, ESEARCH_PAGE))
    return size if want is None else max(0, min(size, want))
