"""Frozen settings of ``kg serve``: where the store is, which base IRI the server stands for,
and the limits every SPARQL query runs under."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kg.config import DEFAULT_BASE_IRI, Settings

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """What :func:`kg.web.app.create_app` needs.

    ``base_iri`` is the base the store's IRIs were minted under: a request for
    ``/pubmed/23906502`` on the server means ``<base_iri>pubmed/23906502``.
    """

    store: Path
    base_iri: str = DEFAULT_BASE_IRI
    query_timeout: float = 10.0  # seconds a SPARQL query may run before its worker is killed
    query_memory: int = 1024 * MiB  # memory a query's worker may hold before it is killed
    max_result_bytes: int = 16 * MiB  # largest serialized SPARQL result sent
    query_workers: int = 2  # worker processes running SPARQL queries (the concurrency limit)
    max_query_bytes: int = 256 * 1024  # largest query text (or POST body) accepted
    page_size: int = 100  # rows on a search or MeSH page
    cache_size: int = 256  # article pages and descriptions kept (the store is a read-only snapshot)

    @classmethod
    def from_settings(cls, settings: Settings, **limits: float | int) -> ServeSettings:
        """Serve the store and base IRI of kg's shared :class:`~kg.config.Settings`."""
        return cls(store=settings.store, base_iri=settings.base_iri, **limits)  # type: ignore[arg-type]
