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
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.models import AbstractSection, Article

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


def is_tune(pmid: str) -> bool:
    """A fifth of the train side, held out of a first fit to choose decision thresholds."""
    digest = hashlib.sha256(f"kg-tune-split:{pmid}".encode()).digest()
    return not is_dev(pmid) and int.from_bytes(digest[:8], "big") % DEV_SHARE == 0


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


# --- a corpus document as kg reads a PubMed record -----------------------------------------

_HEADING = re.compile(r"^(?:ABSTRACT\.)?([A-Z][A-Za-z &/,-]{2,40}?)\s*:+\s*")
_PARAGRAPHS = re.compile(r"\n\s*\n|\n(?=ABSTRACT\.)")


@dataclass(frozen=True)
class AsArticle:
    """A corpus document turned into the :class:`Article` kg extracts from, and the way back.

    ``title`` is ``text[title_start:title_end]``; each abstract section's text starts at
    ``section_starts[i]`` in the corpus text. :meth:`to_text` maps an offset of the article
    (title or ``abstract_text``) back to the corpus text, so predictions score on its offsets.
    """

    article: Article
    title_start: int
    section_starts: tuple[int, ...]

    def to_text(self, where: str, offset: int) -> int:
        if where == "title":
            return self.title_start + offset
        at = 0
        for section, start in zip(self.article.abstract, self.section_starts, strict=True):
            if offset <= at + len(section.text):
                return start + (offset - at)
            at += len(section.text) + 1
        raise ValueError(f"offset {offset} is past the abstract")


def as_article(doc: Doc) -> AsArticle:
    """The document as a PubMed record without NLM indexing: title, then labelled sections."""
    text = doc.text
    title_start, title_end = 0, doc.title_end
    if text.startswith("TITLE:"):
        body = text[6:doc.title_end] if doc.title_end > 6 else ""
        lead = len(body) - len(body.lstrip())
        title_start = 6 + lead
    title = text[title_start:title_end].strip()
    title_end = title_start + len(title)
    sections: list[AbstractSection] = []
    starts: list[int] = []
    pos = doc.title_end
    for part in _chunks(text, pos):
        p_start, p_end = part
        chunk = text[p_start:p_end]
        label = None
        m = _HEADING.match(chunk)
        if m and len(m.group(1)) > 2 and m.group(1).upper() == m.group(1):
            label = m.group(1).strip()
            p_start += m.end()
            chunk = text[p_start:p_end]
        lead = len(chunk) - len(chunk.lstrip())
        chunk = chunk.strip()
        if not chunk:
            continue
        sections.append(AbstractSection(text=chunk, label=label))
        starts.append(p_start + lead)
    article = Article(pmid=doc.pmid, source=doc.source, title=title or None, abstract=tuple(sections))
    return AsArticle(article=article, title_start=title_start, section_starts=tuple(starts))


def _chunks(text: str, pos: int) -> Iterator[tuple[int, int]]:
    start = pos
    for m in _PARAGRAPHS.finditer(text, pos):
        yield start, m.start()
        start = m.end()
    yield start, len(text)
