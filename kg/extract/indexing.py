"""A learned MeSH indexer for a study's conditions, from the title and abstract alone.

About half the disease headings NLM gives a trial are not named in its abstract (Postoperative
Complications, Recurrence, Child Development Disorders, Pervasive…), and many a disease the
abstract names is not indexed. The indexer learns both from records NLM indexed:

1. *candidates*: the disease terms the text names (:func:`kg.extract.grounding.mentions`, with
   the cue words), the headings NLM gives records that name such a term (learned rates,
   "priors": "non-small cell lung cancer" → Lung Neoplasms 0.8), and the headings a topic model
   (a softmax over the words, the terms and the cues of the abstract) ranks highest;
2. *decision*: a maximum-entropy classifier scores each candidate from where its term stands
   (title, objective, "patients with …", only in the results…), the prior rates, the topic
   model's probability and rank, its tree; those scoring at least the card's threshold are the
   study's conditions.

Both models are trained with CRFsuite (one-item sequences) by :mod:`kg.extract.train.indexing`
and shipped as their weights in ``kg/data/mesh-indexer.json.gz``, scored here in plain Python.
The card (``mesh-indexer.json``) holds the model's sha256, which the loader verifies once per
process, the threshold and the figures. Features and labels are defined here, once, for the
trainer and for inference.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from itertools import compress
from typing import Any

from kg.errors import InputError
from kg.extract import grounding
from kg.extract.grounding import TITLE, Candidate
from kg.extract.text import CONCLUSIONS, RESULTS, Sentence
from kg.mesh import MeshTable
from kg.models import Abbreviation, Span

NAME = "mesh-indexer"
MODEL_FILE = "mesh-indexer.json.gz"
CARD_FILE = "mesh-indexer.json"
YES, NO = "Y", "N"  # the decider's labels: NLM indexes the heading / does not
NONE_LABEL = "-"  # the topic model's label of a record with no heading it knows
CONDITION_TREES = grounding.CONDITION_TREES
TOPIC_FLOOR = 0.02  # a topic-model heading below this probability is no candidate
TOPIC_TOP = 6  # at most so many of them
TOPIC_KEPT = 1e-3  # topic probabilities below this are taken for 0
BIAS = "bias"  # the constant attribute the trainer gives every text
PRIOR_FLOOR = 0.15  # a prior below this share proposes no candidate
PRIOR_TOGETHER = 2  # priors kept: a heading indexed at least this often with the term…
PRIOR_KEPT = 0.05  # …and at this share of the records naming it at least

_WORD = re.compile(r"[a-z][a-z0-9]+(?:-[a-z0-9]+)*")
_STOP = frozenset({
    "the", "and", "for", "with", "was", "were", "are", "been", "has", "have", "had", "that",
    "this", "these", "those", "from", "into", "than", "then", "there", "their", "them", "they",
    "which", "who", "whom", "whose", "what", "when", "where", "while", "will", "would", "can",
    "could", "may", "might", "should", "shall", "not", "but", "all", "any", "both", "each", "few",
    "more", "most", "other", "some", "such", "only", "own", "same", "very", "also", "its", "our",
    "out", "over", "under", "after", "before", "between", "during", "about", "against", "among",
    "per", "via", "within", "without", "again", "further", "once", "here", "how", "why", "one",
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "his", "her", "him",
    "she", "did", "does", "doing", "being", "having", "vs", "versus", "using", "used", "use",
    "study", "studies", "patients", "patient", "group", "groups", "results", "result", "trial",
    "trials", "compared", "significant", "significantly", "difference", "differences"
})
_PROBABILITY_BINS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
_SHARE_BINS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _bin(value: float, bins: Sequence[float]) -> int:
    """How many of ``bins`` (ascending) ``value`` reaches."""
    return bisect_right(bins, value)


def _fold(word: str) -> str:
    """A cheap plural fold for the topic model's words ("tumours" → "tumour")."""
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> set[str]:
    """The content words of ``text``, lower case, plurals folded, stop words out."""
    return {_fold(w) for w in _WORD.findall(text.lower()) if w not in _STOP}


@dataclass(frozen=True, slots=True)
class Observed:
    """What the text gives for one abstract: the term candidates and the topic attributes."""

    candidates: tuple[Candidate, ...]
    attributes: tuple[str, ...]


def observe(
    *,
    title: str | None,
    sentences: Sequence[Sentence],
    abbreviations: Sequence[Abbreviation],
    mesh: MeshTable,
    participants: Sequence[Span] = (),
) -> Observed:
    """The disease terms and cues the text names, as candidates, and the topic attributes."""
    found = grounding.mentions(
        title=title,
        sentences=sentences,
        abbreviations=abbreviations,
        mesh=mesh,
        trees=CONDITION_TREES,
        participants=participants,
    )
    found += grounding.cues(title=title, sentences=sentences)
    cands = tuple(grounding.candidates(found, mesh=mesh))
    return Observed(cands, topic_attributes(title, sentences, cands, mesh))


def topic_attributes(
    title: str | None,
    sentences: Sequence[Sentence],
    cands: Sequence[Candidate],
    mesh: MeshTable | None = None,
) -> tuple[str, ...]:
    """The topic model's attributes: the words of the title (``t:``) and of the text before the
    results (``w:``), the terms and cues named (``m:``, ``mt:`` in the title) and the MeSH tree
    numbers above the terms' (``a:``: "C04.588.894" for a lung tumour), which a rarer term
    shares with its kin."""
    lead = " ".join(s.quote for s in sentences if s.role not in (RESULTS, CONCLUSIONS))
    if not lead:
        lead = " ".join(s.quote for s in sentences)
    head = words(title or "")
    body = words(lead) | head
    out = [f"t:{w}" for w in sorted(head)]
    out += sorted(f"w:{w}" for w in body)
    broader: set[str] = set()
    for c in cands:
        out.append(f"m:{c.ui}")
        if TITLE in c.roles:
            out.append(f"mt:{c.ui}")
        for tree in mesh.trees(c.ui) if mesh is not None else ():
            parts = tree.split(".")
            broader.update(".".join(parts[:k]) for k in range(2, len(parts)))
    out += sorted(f"a:{t}" for t in broader)
    return tuple(out)


def mention_key(c: Candidate) -> str:
    """The key a candidate's priors are kept under: its UI or cue."""
    return c.ui


def decider_features(
    ui: str,
    *,
    mention: Candidate | None,
    own_prior: tuple[float, int] | None,
    via: tuple[float, int, str] | None,
    proposers: int,
    noisy: float,
    topic: float,
    rank: int,
    frequent: bool,
    mesh: MeshTable,
) -> list[str]:
    """The decider's features of one candidate heading ``ui``.

    ``mention``: the candidate naming ``ui`` itself, if any; ``own_prior``: (share, support)
    of records naming it that NLM indexed with it; ``via``: the best prior from another term
    named (share, support, where that term stands: title, strong or weak); ``proposers``: how
    many terms named propose it; ``noisy``: all priors taken
    together (noisy-or); ``topic``/``rank``: the topic model's probability and rank (0 when
    below the floor); ``frequent``: the heading is common enough to carry its own weight.
    """
    f = ["bias"]
    where = "unnamed"
    tb = _bin(topic, _PROBABILITY_BINS)
    f.append(f"topic={tb}")
    f.append(f"rank={min(rank, 7)}")
    if mention is not None:
        names = mention.features()
        f += [f"m:{n}" for n in names]
        f.append(f"count={min(mention.count, 4)}")
        f.append("strong" if grounding.is_study_condition(mention) else "weak")
        where = "title" if TITLE in mention.roles else (
            "late" if "late-only" in names else "body")
        f.append(f"named={where}")
        f.append(f"named={where}|topic={tb // 3}")
        if own_prior is not None:
            share, support = own_prior
            sb = _bin(share, _SHARE_BINS)
            f.append(f"own={sb}")
            f.append(f"own={sb}|n={min(support, 5) // 2}")
            f.append(f"own={sb}|{where}")
        else:
            f.append("own=unseen")
            f.append(f"own=unseen|{where}")
    else:
        f.append("unnamed")
        f.append(f"unnamed|topic={tb // 3}")
    if via is not None:
        share, support, how = via
        vb = _bin(share, _SHARE_BINS)
        f.append(f"via={vb}")
        f.append(f"via={vb}|n={min(support, 5) // 2}")
        f.append(f"via-{how}={vb}")
        f.append(f"via={vb // 3}|topic={tb // 3}")
        f.append(f"proposers={min(proposers, 3)}")
    f.append(f"noisy={_bin(noisy, _SHARE_BINS)}")
    trees = mesh.trees(ui)
    if trees:
        branches = sorted({t[:3] for t in trees})
        f += [f"tree={b}" for b in branches[:3]]
        f += [f"tree={b}|{where}" for b in branches[:3]]
        depth = min(len(t.split(".")) for t in trees)
        f.append(f"depth={min(depth, 6)}")
    if frequent:
        f.append(f"ui={ui}")
    return f


@dataclass(frozen=True)
class Model:
    """The shipped weights: the topic model's, the decider's, the priors and the threshold."""

    labels: tuple[str, ...]  # topic-model labels (heading UIs, and NONE_LABEL)
    topic: Mapping[str, tuple[tuple[int, ...], tuple[float, ...]]]  # attribute → labels, weights
    decider: Mapping[str, float]  # feature → weight of YES less weight of NO
    priors: Mapping[str, tuple[tuple[str, float, int], ...]]  # key → (heading, share, support)
    frequent: frozenset[str]
    threshold: float
    version: str
    bias: tuple[float, ...] = field(init=False, repr=False, compare=False)
    likely: tuple[int, ...] = field(init=False, repr=False, compare=False)
    # attribute → its (label, weight) pairs, zipped once rather than for every abstract
    pairs: Mapping[str, tuple[tuple[int, float], ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        bias = [0.0] * len(self.labels)
        for j, w in zip(*self.topic.get(BIAS, ((), ())), strict=True):
            bias[j] = w
        object.__setattr__(self, "bias", tuple(bias))
        # labels that may reach TOPIC_KEPT with no attribute for them
        z = sum(math.exp(b) for b in bias) if bias else 1.0
        floor = math.log(TOPIC_KEPT * z) - 10.0
        object.__setattr__(self, "likely", tuple(j for j, b in enumerate(bias) if b >= floor))
        pairs = {a: tuple(zip(*row, strict=True)) for a, row in self.topic.items()}
        object.__setattr__(self, "pairs", pairs)

    @property
    def found_by(self) -> str:
        return f"model:{NAME}-{self.version}"


def topic_scores(model: Model, attributes: Iterable[str]) -> dict[str, float]:
    """The topic model's probability of the headings that reach ``TOPIC_KEPT`` (a softmax over
    all its labels)."""
    scores = list(model.bias)  # the constant attribute's row: every text has it
    # the labels that may reach the floor; None: all of them (the shipped model's case)
    touched = None if len(model.likely) == len(scores) else set(model.likely)
    get = model.pairs.get
    for a in attributes:
        row = get(a)
        if row:
            if touched is not None:
                touched.update(j for j, _ in row)
            for j, w in row:
                scores[j] += w
    exps = list(map(math.exp, scores))
    z = sum(exps)
    floor = math.log(TOPIC_KEPT * z)
    kept: Iterable[int]
    if touched is None:  # one pass in C over every label: score >= floor
        kept = compress(range(len(scores)), map(floor.__le__, scores))
    else:
        kept = (j for j in sorted(touched) if scores[j] >= floor)
    labels = model.labels
    return {labels[j]: exps[j] / z for j in kept}


def decide(model: Model, features: Iterable[str]) -> float:
    """The decider's probability that NLM indexes the candidate."""
    get = model.decider.get
    s = sum(get(f, 0.0) for f in features)
    return 1.0 / (1.0 + math.exp(-s)) if s > -30 else 0.0


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate heading with its features and the mention that names it (if any)."""

    ui: str
    mention: Candidate | None
    features: tuple[str, ...]


def score_candidates(
    observed: Observed,
    *,
    mesh: MeshTable,
    labels: Sequence[str],
    topic: Mapping[str, float],
    priors: Mapping[str, Sequence[tuple[str, float, int]]],
    frequent: frozenset[str],
) -> list[Scored]:
    """Every candidate heading of one abstract with its decider features, in a stable order:
    terms named first (in order of first mention), then the others by topic probability."""
    named: dict[str, Candidate] = {}
    for c in observed.candidates:
        if not c.ui.startswith("cue:") and mesh.in_categories(c.ui, CONDITION_TREES):
            named.setdefault(c.ui, c)
    own: dict[str, tuple[float, int]] = {}
    via: dict[str, tuple[float, int, str]] = {}
    miss: dict[str, float] = {}  # heading → product of (1 - share) over the terms proposing it
    proposers: dict[str, int] = {}
    for c in observed.candidates:
        how = ""
        for ui, share, support in priors.get(mention_key(c), ()):
            if ui == c.ui:
                own[ui] = (share, support)
                continue
            miss[ui] = miss.get(ui, 1.0) * (1.0 - share)
            proposers[ui] = proposers.get(ui, 0) + 1
            best = via.get(ui)
            if best is None or (share, support) > best[:2]:
                if not how:
                    how = "title" if TITLE in c.roles else (
                        "strong" if grounding.is_study_condition(c) else "weak")
                via[ui] = (share, support, how)
    ranked = sorted(
        ((p, ui) for ui, p in topic.items() if ui != NONE_LABEL), key=lambda pair: (-pair[0], pair[1])
    )
    rank = {ui: k + 1 for k, (_, ui) in enumerate(ranked)}
    chosen = list(named)
    chosen += [ui for ui, v in via.items() if v[0] >= PRIOR_FLOOR and ui not in named]
    seen = set(chosen)
    chosen += [ui for p, ui in ranked[:TOPIC_TOP] if p >= TOPIC_FLOOR and ui not in seen]
    out = []
    done: set[str] = set()
    for ui in chosen:
        if ui in done or not mesh.in_categories(ui, CONDITION_TREES):
            continue
        done.add(ui)
        p = topic.get(ui, 0.0)
        features = decider_features(
            ui,
            mention=named.get(ui),
            own_prior=own.get(ui),
            via=via.get(ui),
            proposers=proposers.get(ui, 0),
            noisy=1.0 - miss.get(ui, 1.0),
            topic=p,
            rank=rank.get(ui, 99) if p >= TOPIC_FLOOR / 4 else 99,
            frequent=ui in frequent,
            mesh=mesh,
        )
        out.append(Scored(ui, named.get(ui) or _proposer(ui, observed, priors), tuple(features)))
    return out


def _proposer(
    ui: str, observed: Observed, priors: Mapping[str, Sequence[tuple[str, float, int]]]
) -> Candidate | None:
    """The term named whose prior proposes ``ui`` most strongly (its span stands for it)."""
    best: tuple[float, Candidate] | None = None
    for c in observed.candidates:
        for other, share, _ in priors.get(mention_key(c), ()):
            if other == ui and (best is None or share > best[0]):
                best = (share, c)
    return best[1] if best else None


@dataclass(frozen=True, slots=True)
class Indexed:
    """A heading the indexer gives the abstract: UI, probability, the term that names it or
    proposes it (None when only the topic model does)."""

    ui: str
    probability: float
    mention: Candidate | None
    named: bool  # the text names the heading itself


def index(observed: Observed, *, mesh: MeshTable, model: Model | None = None) -> list[Indexed]:
    """The condition headings of one abstract, terms named first (in order), then the others."""
    model = load() if model is None else model
    topic = topic_scores(model, observed.attributes)
    scored = score_candidates(
        observed, mesh=mesh, labels=model.labels, topic=topic, priors=model.priors,
        frequent=model.frequent,
    )
    out = []
    for s in scored:
        p = decide(model, s.features)
        if p >= model.threshold:
            named = s.mention is not None and s.mention.ui == s.ui
            out.append(Indexed(s.ui, p, s.mention, named))
    return out


# --- the shipped model -----------------------------------------------------------------------


def to_json(model: Model) -> dict[str, Any]:
    """The model as the file stores it (stable: sorted keys, rounded weights)."""
    return {
        "labels": list(model.labels),
        "topic": {
            a: [list(labels), [round(w, 5) for w in weights]]
            for a, (labels, weights) in sorted(model.topic.items())
        },
        "decider": {f: round(w, 5) for f, w in sorted(model.decider.items())},
        "priors": {k: [[u, round(s, 4), n] for u, s, n in v] for k, v in sorted(model.priors.items())},
        "frequent": sorted(model.frequent),
        "threshold": model.threshold,
        "version": model.version,
    }


def from_json(data: Mapping[str, Any]) -> Model:
    return Model(
        labels=tuple(data["labels"]),
        topic={
            a: (tuple(int(j) for j in labels), tuple(float(w) for w in weights))
            for a, (labels, weights) in data["topic"].items()
        },
        decider={f: float(w) for f, w in data["decider"].items()},
        priors={k: tuple((str(u), float(s), int(n)) for u, s, n in v) for k, v in data["priors"].items()},
        frequent=frozenset(data["frequent"]),
        threshold=float(data["threshold"]),
        version=str(data["version"]),
    )


def dump(model: Model) -> bytes:
    """The model file's bytes: gzip with no name or time in its header (same model, same bytes)."""
    text = json.dumps(to_json(model), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


@cache
def card() -> dict[str, Any]:
    """The model card shipped beside the model (``kg/data/mesh-indexer.json``)."""
    resource = resources.files("kg") / "data" / CARD_FILE
    try:
        data: dict[str, Any] = json.loads(resource.read_bytes())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the MeSH indexer's card: {exc}", source=str(resource)) from exc
    return data


@cache
def load() -> Model:
    """The shipped model, its sha256 checked against the card; once per process."""
    resource = resources.files("kg") / "data" / MODEL_FILE
    try:
        raw = resource.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the MeSH indexer: {exc}", source=str(resource)) from exc
    if hashlib.sha256(raw).hexdigest() != card().get("sha256"):
        raise InputError("the MeSH indexer fails its checksum", source=str(resource))
    try:
        return from_json(json.loads(gzip.decompress(raw)))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"cannot read the MeSH indexer: {exc}", source=str(resource)) from exc


__all__ = [
    "CARD_FILE",
    "MODEL_FILE",
    "NAME",
    "NO",
    "YES",
    "Indexed",
    "Model",
    "Observed",
    "Scored",
    "card",
    "decide",
    "decider_features",
    "dump",
    "from_json",
    "index",
    "load",
    "observe",
    "score_candidates",
    "to_json",
    "topic_attributes",
    "topic_scores",
    "words",
]
