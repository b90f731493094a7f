"""Frozen settings shared by the stages: where IRIs are minted, where the store lives."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Default base of every IRI kg mints (override with ``--base-iri`` or ``KG_BASE_IRI``).
DEFAULT_BASE_IRI = "https://w3id.org/kg/id/"
#: Namespace of kg's own ontology terms (``ontologies/kg.ttl``); independent of the base IRI.
VOCAB_IRI = "https://w3id.org/kg/ontology#"
DEFAULT_STORE = Path("out/store")


@dataclass(frozen=True, slots=True)
class Settings:
    base_iri: str = DEFAULT_BASE_IRI
    store: Path = DEFAULT_STORE

    @classmethod
    def from_env(cls, *, base_iri: str | None = None, store: Path | None = None) -> Settings:
        base = base_iri or os.environ.get("KG_BASE_IRI") or DEFAULT_BASE_IRI
        return cls(base_iri=base, store=store or Path(os.environ.get("KG_STORE", DEFAULT_STORE)))
