"""Train the MeSH condition indexer (``kg/data/mesh-indexer.json.gz``) on records NLM indexed.

Data: the train side of PICO-data (``picodata_participants.jsonl``, titles and abstracts with
NLM's headings) and the shared PubMed XML records (``../shared/data/pubmed/xml``) that have an
abstract and MeSH headings; every PMID of the dev split (:func:`corpora.is_dev`) is left out,
and a PMID found twice is read once (PICO-data's first).

Labels: a candidate heading is right (``Y``) when NLM indexed the record with it, any way (as
:mod:`kg.extract.train.eval_mesh` counts precision); the topic model learns the record's
disease headings (trees C and F03).

Fitting: the topic model's probabilities and the priors of a training record come from models
that did not see it (``FOLDS``-fold cross-fitting for the topic model, leave-one-out counts for
the priors), so the decider learns how far to trust them on unseen text. Choices (threshold)
are made on the tune part of the train side (:func:`corpora.is_tune`) with models fitted on the
rest; the shipped models are then refitted on the whole train side. L-BFGS is deterministic and
folds hash the PMID, so the same data gives the same bytes.

    python -m kg.extract.train.indexing [--out kg/data] [--no-xml]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycrfsuite

from kg.extract import indexing
from kg.extract.indexing import NO, NONE_LABEL, YES, Model, Observed
from kg.extract.text import abbreviations, sentences
from kg.extract.train import corpora
from kg.extract.train.eval_mesh import (
    Heading,
    article_of,
    gold_conditions,
    headings,
)
from kg.mesh import MeshTable
from kg.models import Article

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "kg" / "data"
PUBMED_XML = ROOT.parent / "shared" / "data" / "pubmed" / "xml"
VERSION = "1"
FOLDS = 3
TOPIC_MIN_DOCS = 3  # a heading is a topic label when this many training records have it
ATTRIBUTE_MIN_DOCS = 3  # an attribute is used when this many training records have it
TOPIC_MIN_WEIGHT = 0.25  # smaller topic weights are dropped (a smaller, faster model)
FREQUENT = 8  # a heading this common gets its own weight in the decider
TOPIC_PARAMS = {"c1": 0.1, "c2": 0.01, "max_iterations": 150, "feature.possible_transitions": False}
DECIDER_PARAMS = {"c1": 0.5, "c2": 0.01, "max_iterations": 200, "feature.possible_transitions": False}
THRESHOLDS = tuple(round(0.2 + 0.025 * k, 3) for k in range(25))


Topic = dict[str, tuple[tuple[int, ...], tuple[float, ...]]]  # attribute → labels, weights


@dataclass(frozen=True)
class Example:
    """One indexed record: what the text gives, and NLM's headings."""

    pmid: str
    observed: Observed
    indexed: frozenset[str]  # every heading UI
    labels: frozenset[str]  # its disease headings (C, F03)
    gold: frozenset[str]  # the conditions eval_mesh scores recall on

    @property
    def fold(self) -> int:
        digest = hashlib.sha256(f"kg-indexer-fold:{self.pmid}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % FOLDS


def example(pmid: str, article: Article, found: Sequence[Heading], *, mesh: MeshTable) -> Example:
    """An example from a record without its indexing and the headings NLM gave it."""
    found_sentences = sentences(article.abstract)
    observed = indexing.observe(
        title=article.title, sentences=found_sentences,
        abbreviations=abbreviations(article.abstract), mesh=mesh,
    )
    strict = gold_conditions(found, mesh=mesh, strict=True)
    return Example(
        pmid=pmid,
        observed=observed,
        indexed=frozenset(h.ui for h in found),
        labels=frozenset(strict),
        gold=frozenset(gold_conditions(found, mesh=mesh)),
    )


def xml_headings(article: Article, *, mesh: MeshTable) -> list[Heading]:
    """An XML record's headings as :mod:`eval_mesh` reads PICO-data's."""
    out = []
    for h in article.mesh_headings:
        ui = h.descriptor_ui or mesh.lookup(h.descriptor_name)
        if ui is not None:
            out.append(Heading(ui, h.is_major, tuple(q.name for q in h.qualifiers)))
    return out


def load_examples(
    *,
    mesh: MeshTable,
    corpora_dir: Path = corpora.DEFAULT_DIR,
    xml_dir: Path | None = PUBMED_XML,
    limit: int | None = None,
) -> list[Example]:
    """Every training record (dev PMIDs left out), PICO-data's first, then the XML records';
    ``limit``: only the first so many of PICO-data (a smoke test)."""
    from kg.sources.files import read_file  # training only

    out: list[Example] = []
    seen: set[str] = set()
    for doc in corpora.iter_docs(corpora.PICODATA, directory=corpora_dir):
        if doc.dev or doc.pmid in seen:
            continue
        found = headings(doc, mesh=mesh)
        if not found:
            continue
        seen.add(doc.pmid)
        out.append(example(doc.pmid, article_of(doc), found, mesh=mesh))
        if limit is not None and len(out) >= limit:
            return out
    if xml_dir is not None and xml_dir.is_dir():
        for path in sorted(p for p in xml_dir.rglob("*") if p.is_file()):
            try:
                records = list(read_file(path))
            except Exception as exc:
                log.info("skipped %s: %s", path, exc)
                continue
            for r in records:
                if not isinstance(r, Article) or not r.abstract or not r.mesh_headings:
                    continue
                if corpora.is_dev(r.pmid) or r.pmid in seen:
                    continue
                found = xml_headings(r, mesh=mesh)
                if not found:
                    continue
                seen.add(r.pmid)
                plain = Article(pmid=r.pmid, title=r.title, abstract=r.abstract)
                out.append(example(r.pmid, plain, found, mesh=mesh))
    return out


# --- priors ----------------------------------------------------------------------------------


class Priors:
    """How often NLM indexes a heading in records that name a term (or cue): counts, from
    which the priors of a record are read with that record's own counts taken out."""

    def __init__(self, examples: Iterable[Example]):
        self.named: Counter[str] = Counter()
        self.together: dict[str, Counter[str]] = defaultdict(Counter)
        for e in examples:
            for key in _keys(e):
                self.named[key] += 1
                self.together[key].update(e.labels)

    def of(self, key: str, *, leave_out: Example | None = None) -> tuple[tuple[str, float, int], ...]:
        """(heading, share, records naming the key) for ``key``; the key's own heading always
        (when it is one), the others when indexed together often enough."""
        n = self.named.get(key, 0)
        mine = leave_out is not None and key in _keys(leave_out)
        if mine:
            n -= 1
        if n <= 0:
            return ()
        out = []
        for ui, k in self.together[key].items():
            if mine and ui in leave_out.labels:  # type: ignore[union-attr]
                k -= 1
            share = round(k / n, 4)
            if ui == key or (k >= indexing.PRIOR_TOGETHER and share >= indexing.PRIOR_KEPT):
                out.append((ui, share, n))
        if not key.startswith("cue:") and not any(u == key for u, _, _ in out):
            out.append((key, 0.0, n))
        return tuple(sorted(out, key=lambda t: (-t[1], t[0])))

    def table(self) -> dict[str, tuple[tuple[str, float, int], ...]]:
        return {key: found for key in sorted(self.named) if (found := self.of(key))}


def _keys(e: Example) -> set[str]:
    return {indexing.mention_key(c) for c in e.observed.candidates}


# --- the topic model -------------------------------------------------------------------------


def fit_topic(examples: Sequence[Example], *, tmp: Path) -> tuple[tuple[str, ...], Topic]:
    """A softmax over the disease headings of ``examples`` (one item per heading a record has)."""
    docs: Counter[str] = Counter()
    df: Counter[str] = Counter()
    for e in examples:
        docs.update(e.labels)
        df.update(set(e.observed.attributes))
    wanted = {ui for ui, n in docs.items() if n >= TOPIC_MIN_DOCS}
    vocabulary = {a for a, n in df.items() if n >= ATTRIBUTE_MIN_DOCS}
    trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
    for e in examples:
        attributes = [indexing.BIAS] + [a for a in e.observed.attributes if a in vocabulary]
        for y in sorted(e.labels & wanted) or [NONE_LABEL]:
            trainer.append([attributes], [y])
    trainer.set_params(TOPIC_PARAMS)
    path = tmp / "topic.crfsuite"
    trainer.train(str(path))
    tagger = pycrfsuite.Tagger()
    tagger.open(str(path))
    info = tagger.info()
    tagger.close()
    labels = tuple(sorted(info.labels, key=lambda y: (y != NONE_LABEL, y)))
    index = {y: j for j, y in enumerate(labels)}
    rows: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for (attribute, label), weight in info.state_features.items():
        if abs(weight) >= TOPIC_MIN_WEIGHT or attribute == indexing.BIAS:
            rows[attribute].append((index[label], round(weight, 5)))
    return labels, {a: _row(r) for a, r in sorted(rows.items())}


def _row(entries: list[tuple[int, float]]) -> tuple[tuple[int, ...], tuple[float, ...]]:
    entries.sort()
    return tuple(j for j, _ in entries), tuple(w for _, w in entries)


def _topic_model(labels: tuple[str, ...], topic: Topic) -> Model:
    return Model(labels, topic, {}, {}, frozenset(), 1.0, VERSION)


# --- the decider -----------------------------------------------------------------------------


def rows(
    examples: Sequence[Example],
    *,
    topics: Sequence[dict[str, float]],
    priors: Priors,
    frequent: frozenset[str],
    mesh: MeshTable,
    leave_out: bool,
) -> list[list[tuple[indexing.Scored, str]]]:
    """Per record, its candidate headings with their features and labels."""
    out = []
    for e, topic in zip(examples, topics, strict=True):
        table = {
            key: priors.of(key, leave_out=e if leave_out else None) for key in _keys(e)
        }
        scored = indexing.score_candidates(
            e.observed, mesh=mesh, labels=(), topic=topic, priors=table, frequent=frequent
        )
        out.append([(s, YES if s.ui in e.indexed else NO) for s in scored])
    return out


def fit_decider(data: Sequence[Sequence[tuple[indexing.Scored, str]]], *, tmp: Path) -> dict[str, float]:
    trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
    for doc in data:
        for s, y in doc:
            trainer.append([list(s.features)], [y])
    trainer.set_params(DECIDER_PARAMS)
    path = tmp / "decider.crfsuite"
    trainer.train(str(path))
    tagger = pycrfsuite.Tagger()
    tagger.open(str(path))
    weights: dict[str, float] = defaultdict(float)
    for (attribute, label), w in tagger.info().state_features.items():
        weights[attribute] += w if label == YES else -w
    tagger.close()
    return {a: round(w, 5) for a, w in sorted(weights.items()) if round(w, 5)}


def cross_topics(examples: Sequence[Example], *, tmp: Path) -> list[dict[str, float]]:
    """Each record's topic probabilities from a topic model fitted without its fold."""
    out: list[dict[str, float]] = [{} for _ in examples]
    for k in range(FOLDS):
        start = time.perf_counter()
        labels, topic = fit_topic([e for e in examples if e.fold != k], tmp=tmp)
        model = _topic_model(labels, topic)
        for j, e in enumerate(examples):
            if e.fold == k:
                out[j] = indexing.topic_scores(model, e.observed.attributes)
        log.info("topic fold %d: %d labels, %.0f s", k, len(labels), time.perf_counter() - start)
    return out


@dataclass
class Fitted:
    model: Model
    seconds: float


def fit(examples: Sequence[Example], *, mesh: MeshTable, threshold: float, tmp: Path) -> Fitted:
    """The whole indexer fitted on ``examples``."""
    start = time.perf_counter()
    topics = cross_topics(examples, tmp=tmp)
    priors = Priors(examples)
    counts: Counter[str] = Counter()
    for e in examples:
        counts.update(e.labels)
    frequent = frozenset(ui for ui, n in counts.items() if n >= FREQUENT)
    data = rows(examples, topics=topics, priors=priors, frequent=frequent, mesh=mesh, leave_out=True)
    decider = fit_decider(data, tmp=tmp)
    labels, topic = fit_topic(examples, tmp=tmp)
    model = Model(
        labels=labels, topic=topic, decider=decider, priors=priors.table(), frequent=frequent,
        threshold=threshold, version=VERSION,
    )
    return Fitted(model, time.perf_counter() - start)


# --- scoring ---------------------------------------------------------------------------------


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    found: int = 0
    gold: int = 0

    def as_dict(self) -> dict[str, float | int]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.found / self.gold if self.gold else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
                "tp": self.tp, "fp": self.fp, "gold": self.gold}


def predictions(model: Model, examples: Sequence[Example], *, mesh: MeshTable) -> list[list[tuple[str, float]]]:
    """Each record's candidate headings with the decider's probability."""
    out = []
    for e in examples:
        topic = indexing.topic_scores(model, e.observed.attributes)
        scored = indexing.score_candidates(
            e.observed, mesh=mesh, labels=model.labels, topic=topic, priors=model.priors,
            frequent=model.frequent,
        )
        out.append([(s.ui, indexing.decide(model, s.features)) for s in scored])
    return out


def score(examples: Sequence[Example], found: Sequence[Sequence[tuple[str, float]]], threshold: float) -> Counts:
    """P/R as :mod:`kg.extract.train.eval_mesh` counts them (descriptors only)."""
    c = Counts()
    for e, cands in zip(examples, found, strict=True):
        chosen = {ui for ui, p in cands if p >= threshold}
        c.tp += len(chosen & e.indexed)
        c.fp += len(chosen - e.indexed)
        c.found += len(chosen & e.gold)
        c.gold += len(e.gold)
    return c


def choose_threshold(by: dict[float, Counts], *, floor: Counts) -> float:
    """The threshold of best F1 among those whose precision and recall both reach the
    ``floor`` (what the rules the indexer replaces score); failing that, of best F1."""
    def figures(c: Counts) -> tuple[float, float, float]:
        d = c.as_dict()
        return float(d["precision"]), float(d["recall"]), float(d["f1"])

    p0, r0, _ = figures(floor)
    better = [t for t, c in by.items() if figures(c)[0] >= p0 and figures(c)[1] >= r0]
    return max(better or by, key=lambda t: (figures(by[t])[2], t))


def rules_baseline(examples: Sequence[Example], *, fit_pmids: set[str], mesh: MeshTable,
                   corpora_dir: Path) -> Counts:
    """How the grounding rules the indexer replaces score ``examples``, learned (as
    :mod:`kg.extract.train.grounding` learns them) on the PICO-data records of ``fit_pmids``."""
    from kg.extract import grounding
    from kg.extract.train import grounding as train_grounding

    docs = [d for d in corpora.iter_docs(corpora.PICODATA, directory=corpora_dir) if d.pmid in fit_pmids]
    rules = train_grounding.learn(docs, mesh=mesh)
    found = []
    for e in examples:
        chosen = grounding.study_conditions(list(e.observed.candidates), rules=rules)
        found.append([(ui, 1.0) for ui, _ in chosen])
    return score(examples, found, 0.5)


def train(
    out: Path = DATA,
    *,
    corpora_dir: Path = corpora.DEFAULT_DIR,
    xml_dir: Path | None = PUBMED_XML,
    mesh: MeshTable | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Fit on train less tune, choose the threshold on tune, refit on the whole train side;
    write the model and its card into ``out``; return the card. ``limit`` (a smoke test):
    the first so many PICO-data records only, and as many dev records."""
    mesh = MeshTable.default() if mesh is None else mesh
    start = time.perf_counter()
    examples = load_examples(mesh=mesh, corpora_dir=corpora_dir, xml_dir=xml_dir, limit=limit)
    fit_part = [e for e in examples if not corpora.is_tune(e.pmid)]
    picodata = {d.pmid for d in corpora.iter_docs(corpora.PICODATA, directory=corpora_dir)}
    # PICO-data's tune records: the kind of record eval_mesh scores
    tune = [e for e in examples if corpora.is_tune(e.pmid) and e.pmid in picodata]
    log.info("%d records (%d tune), read in %.0f s", len(examples), len(tune), time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        first = fit(fit_part, mesh=mesh, threshold=0.5, tmp=tmp)
        found = predictions(first.model, tune, mesh=mesh)
        by = {t: score(tune, found, t) for t in THRESHOLDS}
        floor = rules_baseline(tune, fit_pmids={e.pmid for e in fit_part}, mesh=mesh,
                               corpora_dir=corpora_dir)
        threshold = choose_threshold(by, floor=floor)
        log.info("tune: threshold %.3f %s", threshold, by[threshold].as_dict())
        final = fit(examples, mesh=mesh, threshold=threshold, tmp=tmp)
    # measured on the held-out dev split once every choice above was made
    dev = [
        example(d.pmid, article_of(d), heads, mesh=mesh)
        for d in corpora.iter_docs(corpora.PICODATA, directory=corpora_dir)
        if d.dev and (heads := headings(d, mesh=mesh))
    ][:limit]
    dev_counts = score(dev, predictions(final.model, dev, mesh=mesh), threshold)
    raw = indexing.dump(final.model)
    out.mkdir(parents=True, exist_ok=True)
    (out / indexing.MODEL_FILE).write_bytes(raw)
    card = {
        "model": indexing.MODEL_FILE,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "bytes": len(raw),
        "version": VERSION,
        "found_by": final.model.found_by,
        "task": "the disease headings (MeSH trees C, F03) NLM gives a record, from its title and abstract",
        "data": {
            "picodata": f"{corpora.PICODATA}, train side (corpora.is_dev false)",
            "pubmed_xml": "../shared/data/pubmed/xml records with an abstract and MeSH headings, "
            "dev PMIDs left out" if xml_dir is not None else None,
            "records": len(examples),
            "tune_records": len(tune),
        },
        "labels": "a candidate is right when NLM indexed the record with it",
        "algorithm": "CRFsuite L-BFGS, one-item sequences: a softmax topic model over the "
        "disease headings and a binary maximum-entropy decider over the candidates",
        "topic_params": TOPIC_PARAMS,
        "decider_params": DECIDER_PARAMS,
        "folds": FOLDS,
        "threshold": threshold,
        "threshold_choice": "best F1 on PICO-data's tune part (corpora.is_tune), models fitted "
        "on the rest, among thresholds whose precision and recall both reach the grounding "
        "rules' (learned on the same rest)",
        "tune_rules": floor.as_dict(),
        "tune_by_threshold": {str(t): by[t].as_dict() for t in THRESHOLDS},
        "tune": by[threshold].as_dict(),
        "dev": dev_counts.as_dict(),
        "dev_records": len(dev),
        "topic_labels": len(final.model.labels),
        "known_failures": [
            "about a third of NLM's disease headings are neither named nor proposed (rare "
            "diseases, headings of one or two training records): they are missed",
            "headings that say how a disease runs (Recurrence, Acute Disease, Chronic Disease, "
            "Disease Progression, Postoperative Complications) depend on the indexer's reading; "
            "most are missed, some given wrongly",
            "indexing changed over the years (Autistic Disorder, Child Development Disorders, "
            "Pervasive, Autism Spectrum Disorder): the model follows the mix of its records",
            "a disease named only as a harm or only in the results is rarely kept, even when NLM "
            "indexed it",
        ],
    }
    log.info("trained in %.0f s", time.perf_counter() - start)
    (out / indexing.CARD_FILE).write_text(json.dumps(card, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return card


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DATA)
    ap.add_argument("--corpora", type=Path, default=corpora.DEFAULT_DIR)
    ap.add_argument("--no-xml", action="store_true", help="PICO-data only")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    card = train(args.out, corpora_dir=args.corpora, xml_dir=None if args.no_xml else PUBMED_XML)
    print(json.dumps(card["tune"]), card["threshold"])


if __name__ == "__main__":
    main()
