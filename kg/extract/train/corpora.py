"""The annotated corpora of ``../shared/data/corpora/`` and the one dev split every part uses.

The dev split is decided by the PMID alone (a hash), so a document is held out of *every* model
whatever corpus it appears in (EBM-NLP, PICO-data and the difficulty set share abstracts): no
model is trained or tuned on a dev abstract. About 20% of the PMIDs are dev.

>>> is_dev("23906502") in (True, False)
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DIR = ROOT.parent / "shared" / "data" / "corpora"

EVIDENCE_OUTCOMES = "weng_evidenceoutcomes.jsonl"
SOCIOCOM = "sociocom_pico.jsonl"
EBMNLP_INTERVENTIONS = "ebmnlp_difficulty_interventions.jsonl"
PICODATA = "picodata_participants.jsonl"
EVIDENCE_INFERENCE = "evidence_inference_abstracts.jsonl"
EBMNLP_PIO = "ebmnlp_pio_dev.jsonl"
ALL = (EVIDENCE_OUTCOMES, SOCIOCOM, EBMNLP_INTERVENTIONS, PICODATA, EVIDENCE_INFERENCE, EBMNLP_PIO)

DEV_SHARE = 5  # one PMID in five is dev


def is_dev(pmid: str) -> bool:
    """True when ``pmid`` belongs to the held-out dev split (never trained or tuned on)."""
    digest = hashlib.sha256(f"kg-dev-split:{pmid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % DEV_SHARE == 0


@dataclass(frozen=True)
class Doc:
    """One annotated document: ``text`` and character-offset spans into it."""

    pmid: str
    source: str
    text: str
    title_end: int
    spans: tuple[dict[str, Any], ...]
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def dev(self) -> bool:
        return is_dev(self.pmid)


def load(name: str, *, directory: Path = DEFAULT_DIR) -> list[Doc]:
    """Every document of one corpus file (both splits; filter with :attr:`Doc.dev`)."""
    return list(iter_docs(name, directory=directory))


def iter_docs(name: str, *, directory: Path = DEFAULT_DIR) -> Iterator[Doc]:
    with (directory / name).open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            extras = {k: v for k, v in d.items() if k not in ("pmid", "source", "text", "title_end", "spans")}
            yield Doc(
                pmid=str(d["pmid"]),
                source=str(d.get("source", name)),
                text=d["text"],
                title_end=int(d.get("title_end") or 0),
                spans=tuple(d["spans"]),
                extras=extras,
            )


def split(docs: list[Doc]) -> tuple[list[Doc], list[Doc]]:
    """(train, dev)."""
    return [d for d in docs if not d.dev], [d for d in docs if d.dev]
