"""The learned span tagger: participants, interventions, outcomes and outcome mentions.

CRFsuite models trained by ``scripts/train_models.py`` from the annotated corpora ship in
``kg/data/tagger/`` with ``manifest.json`` (file, sha256, features version, dev figures).
They are loaded once per process; a file whose checksum differs from the manifest's is refused.
Tagging computes each sentence's features once and runs every model over them.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pycrfsuite

from kg.errors import KgError
from kg.extract import features as F
from kg.extract.text import Sentence
from kg.models import AbstractSection, Span

#: kg's span labels, and the tasks (models) that find them.
PARTICIPANTS, INTERVENTION, OUTCOME, OUTCOME_MENTION = (
    "participants", "intervention", "outcome", "outcome-mention",
)
_LABELS = {"PAR": PARTICIPANTS, "INT": INTERVENTION, "OUT": OUTCOME, "MEN": OUTCOME_MENTION}
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


def decode(
    tagger: pycrfsuite.Tagger, items: pycrfsuite.ItemSequence, thresholds: dict[str, float]
) -> list[str]:
    """The Viterbi path, then each token Viterbi left O marked X where P(B-X) + P(I-X) ≥ the
    threshold of X (the first such X of ``thresholds``); a run of X tokens is one span. On noisy
    crowd labels a CRF's Viterbi path favours O; a threshold chosen on held-out train data trades
    that back for the labels that gain (``thresholds`` names them). Marginals are asked only of
    the tokens still O (two calls a token: the cost of this step)."""
    path = tagger.tag(items)  # also sets the sequence the marginals are of
    kinds = [lab[2:] if lab != "O" else "" for lab in path]
    known = set(tagger.labels())
    marginal = tagger.marginal
    for x, th in thresholds.items():
        b, i_ = f"B-{x}", f"I-{x}"
        has_b, has_i = b in known, i_ in known
        for t, kind in enumerate(kinds):
            if kind:  # Viterbi's label, or an earlier threshold's
                continue
            p = (marginal(b, t) if has_b else 0.0) + (marginal(i_, t) if has_i else 0.0)
            if p >= th and p > 0.0:
                kinds[t] = x
    out = []
    for t, kind in enumerate(kinds):
        if not kind:
            out.append("O")
        elif path[t] != "O" and path[t][2:] == kind:
            out.append(path[t])  # Viterbi's own B/I where it already said X
        else:
            out.append(("I-" if t and kinds[t - 1] == kind else "B-") + kind)
    return out


_MAX_RUN = 6


def propagate(words: list[list[str]], labels: list[list[str]], label: str) -> list[list[str]]:
    """Tag every other occurrence of a phrase tagged ``label`` somewhere in the document.

    ``words``: each sequence's lower-cased tokens; ``labels``: their BIO labels. Annotators
    mark an intervention at each of its mentions; a model that found it once has found them all.
    """
    phrases: set[tuple[str, ...]] = set()
    b_label, i_label = "B-" + label, "I-" + label
    for ws, ls in zip(words, labels, strict=True):
        if b_label not in ls and i_label not in ls:
            continue
        run: list[str] = []
        for w, lab in [*zip(ws, ls, strict=True), ("", "O")]:
            if lab[2:] == label and not (lab.startswith("B-") and run):
                run.append(w)
                continue
            if run and len(run) <= _MAX_RUN and sum(len(x) for x in run if x.isalpha()) >= 4:
                phrases.add(tuple(run))
            run = [w] if lab[2:] == label else []
    if not phrases:
        return labels
    firsts = {p[0] for p in phrases}
    out = []
    for ws, ls in zip(words, labels, strict=True):
        if firsts.isdisjoint(ws):
            out.append(ls)
            continue
        new = list(ls)
        i = 0
        while i < len(ws):
            if ws[i] in firsts and new[i] == "O":
                best = 0
                for p in phrases:
                    k = len(p)
                    if k > best and tuple(ws[i : i + k]) == p and all(x == "O" for x in new[i : i + k]):
                        best = k
                if best:
                    new[i] = "B-" + label
                    for j in range(i + 1, i + best):
                        new[j] = "I-" + label
                    i += best
                    continue
            i += 1
        out.append(new)
    return out


@dataclass(frozen=True, slots=True)
class _Model:
    """One shipped model as its manifest describes it."""

    task: str  # "pio", "outcome" (tagged in results and conclusions only)
    path: str
    thresholds: dict[str, float] | None  # labels decoded by a marginal threshold
    propagate: tuple[str, ...]  # labels tagged again at their other mentions
    labels: frozenset[str]  # the labels kg takes from it (empty: all)


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
        self._models: list[_Model] = []
        self._local = threading.local()
        for task, meta in sorted(manifest["models"].items()):
            path = directory / meta["file"]
            try:
                data = path.read_bytes()
            except OSError as e:
                raise ModelError(f"{path}: cannot read the model ({e})") from e
            if hashlib.sha256(data).hexdigest() != meta["sha256"]:
                raise ModelError(f"{path}: checksum differs from manifest.json (corrupt or replaced)")
            self._models.append(
                _Model(
                    task=task,
                    path=str(path),
                    thresholds=meta.get("thresholds") or None,
                    propagate=tuple(meta.get("propagate") or ()),
                    labels=frozenset(meta.get("labels") or ()),
                )
            )
        self._taggers()  # open them now: a model CRFsuite cannot read fails here, not mid-build

    def _taggers(self) -> list[tuple[_Model, pycrfsuite.Tagger]]:
        """This thread's open models (a CRFsuite tagger holds the sequence it scores, so threads,
        as Dask's workers run them, must not share one); checksums were checked once."""
        opened = getattr(self._local, "taggers", None)
        if opened is None:
            opened = []
            for model in self._models:
                tagger = pycrfsuite.Tagger()
                try:
                    tagger.open(model.path)
                except (OSError, ValueError) as e:
                    raise ModelError(f"{model.path}: CRFsuite cannot read the model ({e})") from e
                opened.append((model, tagger))
            self._local.taggers = opened
        return opened

    @classmethod
    @functools.cache
    def default(cls) -> Tagger:
        return cls(_data_dir())

    @property
    def found_by(self) -> str:
        return f"model:tagger-{self.version}"

    def tag(
        self,
        title: str | None,
        sections: tuple[AbstractSection, ...],
        *,
        found: list[Sentence] | None = None,
    ) -> list[Mention]:
        """Every mention in the title and the abstract (``found``: its sentences, when known)."""
        abstract = "\n".join(s.text for s in sections)
        starts = []
        at = 0
        for s in sections:
            starts.append(at)
            at += len(s.text) + 1
        seqs = F.sequences(title, sections, found=found)
        items = [pycrfsuite.ItemSequence(seq.features) for seq in seqs]
        out: list[Mention] = []
        for model, tagger in self._taggers():
            active = [
                i for i, seq in enumerate(seqs) if model.task != "outcome" or seq.role in _RESULTS_ROLES
            ]
            labels = [
                decode(tagger, items[i], model.thresholds) if model.thresholds else tagger.tag(items[i])
                for i in active
            ]
            if model.propagate:
                words = [[t.text.lower() for t in seqs[i].tokens] for i in active]
                for lab in model.propagate:
                    labels = propagate(words, labels, lab)
            for i, seq_labels in zip(active, labels, strict=True):
                seq = seqs[i]
                for start, end, kind in F.spans_of(seq.tokens, seq_labels):
                    if model.labels and kind not in model.labels:
                        continue
                    if seq.where == "title":
                        quote, section = (title or "")[start:end], None
                    else:
                        quote = abstract[start:end]
                        section = bisect.bisect_right(starts, start) - 1
                    out.append(Mention(_LABELS[kind], seq.where, start, end, quote, section))
        return out
