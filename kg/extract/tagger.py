"""The learned span tagger: participants, interventions, outcomes and outcome mentions.

CRFsuite models trained by ``scripts/train_models.py`` from the annotated corpora ship in
``kg/data/tagger/`` with ``manifest.json`` (file, sha256, features version, dev figures).
They are loaded once per process; a file whose checksum differs from the manifest's is refused.
Tagging computes each sentence's features once and runs every model over them.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pycrfsuite

from kg.errors import KgError
from kg.extract import features as F
from kg.models import AbstractSection, Span

#: kg's span labels, and the tasks (models) that find them.
PARTICIPANTS, INTERVENTION, OUTCOME, OUTCOME_MENTION = (
    "participants", "intervention", "outcome", "outcome-mention",
)
_LABELS = {"P": PARTICIPANTS, "I": INTERVENTION, "O": OUTCOME, "OUT": OUTCOME_MENTION}
_RESULTS_ROLES = frozenset({"results", "conclusions"})


class ModelError(KgError):
    """A shipped model is missing, corrupt, or was trained with other features."""


@dataclass(frozen=True, slots=True)
class Mention:
    """A tagged span: ``where`` is "title" (offsets into the title) or "abstract"
    (offsets into ``Article.abstract_text``)."""

    label: str
    where: str
    start: int
    end: int
    quote: str
    section: int | None = None

    def span(self) -> Span | None:
        """The abstract span (title mentions have none: spans index the abstract)."""
        if self.where != "abstract":
            return None
        return Span(start=self.start, end=self.end, quote=self.quote, section=self.section)


def _data_dir() -> Path:
    return Path(str(resources.files("kg") / "data" / "tagger"))


class Tagger:
    """The shipped models, ready to tag. Use :meth:`default` (loaded once per process)."""

    def __init__(self, directory: Path) -> None:
        try:
            manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ModelError(f"{directory}: no readable manifest.json ({e})") from e
        if manifest.get("features_version") != F.FEATURES_VERSION:
            raise ModelError(
                f"{directory}: models were trained with features version "
                f"{manifest.get('features_version')!r}, this kg computes {F.FEATURES_VERSION!r}"
            )
        self.manifest: dict[str, Any] = manifest
        self.version: str = str(manifest["version"])
        self._taggers: list[tuple[str, pycrfsuite.Tagger]] = []
        for task, meta in sorted(manifest["models"].items()):
            path = directory / meta["file"]
            try:
                data = path.read_bytes()
            except OSError as e:
                raise ModelError(f"{path}: cannot read the model ({e})") from e
            if hashlib.sha256(data).hexdigest() != meta["sha256"]:
                raise ModelError(f"{path}: checksum differs from manifest.json (corrupt or replaced)")
            tagger = pycrfsuite.Tagger()
            tagger.open(str(path))
            self._taggers.append((task, tagger))

    @classmethod
    @functools.cache
    def default(cls) -> Tagger:
        return cls(_data_dir())

    @property
    def found_by(self) -> str:
        return f"model:tagger-{self.version}"

    def tag(self, title: str | None, sections: tuple[AbstractSection, ...]) -> list[Mention]:
        """Every mention in the title and the abstract, in document order per label."""
        abstract = "\n".join(s.text for s in sections)
        starts = []
        at = 0
        for s in sections:
            starts.append(at)
            at += len(s.text) + 1
        out: list[Mention] = []
        for seq in F.sequences(title, sections):
            items = pycrfsuite.ItemSequence(seq.features)
            for task, tagger in self._taggers:
                if task == "OUT" and seq.role not in _RESULTS_ROLES:
                    continue
                labels = tagger.tag(items)
                for start, end, kind in F.spans_of(seq.tokens, labels):
                    if seq.where == "title":
                        quote, section = (title or "")[start:end], None
                    else:
                        quote = abstract[start:end]
                        section = max(i for i, s0 in enumerate(starts) if s0 <= start)
                    out.append(Mention(_LABELS[kind], seq.where, start, end, quote, section))
        return out
