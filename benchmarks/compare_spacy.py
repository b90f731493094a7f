"""A neural family trained from scratch against kg's CRF (issue #11: choose the span tagger by
measurement): a blank spaCy "en" pipeline — its default CNN tok2vec (hash embeddings of
NORM/PREFIX/SUFFIX/SHAPE, no pretrained vectors) and a transition-based ``ner`` — trained on CPU
on the same train-side documents as the CRF, scored on the dev split with
:func:`kg.extract.train.tagger.token_scores` (the metric ``benchmarks/compare_taggers.py`` uses),
and timed in abstracts/s on one thread beside the shipped CRF.

spaCy is not a dependency of kg: run this from its own virtualenv, which reuses kg's corpus
loaders and splits from the working tree::

    python3 -m venv .venv-spacy && .venv-spacy/bin/pip install "spacy>=3.8,<3.9" python-crfsuite
    nice -n 10 .venv-spacy/bin/python benchmarks/compare_spacy.py [--tasks pio outcome] [--max-steps N]

Data: EBM-NLP P/I/O (task ``pio``: one model, labels PAR/INT/OUT) and EvidenceOutcomes (task
``outcome``: MEN, results and conclusions sentences only; tokens of other sentences are marked
missing, not O, since they were not annotated). spaCy trains on the train side less its tune part
(:func:`~kg.extract.train.corpora.is_tune`) and keeps the model that scores best on the tune part
(spaCy's own ents F1, evaluated every ``--eval-every`` steps); the dev split is read only to score
at the end. Gold spans are the corpus's character spans on spaCy's tokens
(``char_span(..., alignment_mode="expand")``); where spans overlap, the first (in corpus order)
keeps the token — the rule the CRF's BIO labels follow (:func:`kg.extract.features.bio`).
Predicted entities are mapped back onto kg's tokens the same way, so both families are scored on
the same tokens, against the same gold labels.

The CRF columns: the shipped model (``kg/data/tagger``, trained on the whole train side) scored
here on the same dev tokens, with plain Viterbi and with its shipped decoding (threshold,
propagation); ``--crf-fit-part`` also fits a CRF on exactly spaCy's training documents (the
train side less its tune part, the shipped parameters).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread, before numpy is imported

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pycrfsuite  # noqa: E402
import spacy  # noqa: E402
from spacy.cli.train import train as spacy_train  # noqa: E402
from spacy.tokens import Doc, DocBin  # noqa: E402

from kg.extract import features as F  # noqa: E402
from kg.extract.tagger import decode  # noqa: E402
from kg.extract.train import corpora as C  # noqa: E402
from kg.extract.train import tagger as T  # noqa: E402

SEED = 13
MODELS = ROOT / "kg" / "data" / "tagger"


def docs_of(task: T.Task, *, dev: bool) -> list[C.Doc]:
    """The documents of ``task``'s corpus (pio and outcome have one source each) on one side."""
    (source,) = task.sources
    return [d for d in C.iter_docs(source.file) if d.dev == dev]


def role_ranges(doc: C.Doc, roles: tuple[str, ...] | None) -> list[tuple[int, int]] | None:
    """Corpus-text ranges of the sentences whose role is in ``roles`` (None: all annotated)."""
    if roles is None:
        return None
    conv = C.as_article(doc)
    out = []
    for seq in F.sequences(conv.article.title, conv.article.abstract):
        if seq.role in roles and seq.tokens:
            out.append((conv.to_text(seq.where, seq.tokens[0].start),
                        conv.to_text(seq.where, seq.tokens[-1].end)))
    return out


def to_spacy(nlp: spacy.Language, doc: C.Doc, source: T.Source) -> Doc:
    """``doc`` tokenized by spaCy, its gold spans as IOB entity tags ("" = not annotated)."""
    sdoc = nlp.make_doc(doc.text)
    tags = ["O"] * len(sdoc)
    kinds = [""] * len(sdoc)
    for s in doc.spans:
        label = source.mapping.get(s["label"])
        span = sdoc.char_span(s["start"], s["end"], label=label, alignment_mode="expand") if label else None
        if span is None:
            continue
        for i in range(span.start, span.end):
            if not kinds[i]:  # the first span keeps the token, as kg.extract.features.bio
                kinds[i] = label
    for i, kind in enumerate(kinds):
        if kind:
            tags[i] = ("I-" if i and kinds[i - 1] == kind else "B-") + kind
    ranges = role_ranges(doc, source.roles)
    if ranges is not None:
        for i, tok in enumerate(sdoc):
            if not any(a <= tok.idx < b for a, b in ranges):
                tags[i] = ""  # missing: EvidenceOutcomes annotates results and conclusions only
                if i + 1 < len(tags) and tags[i + 1].startswith("I-"):
                    tags[i + 1] = "B-" + tags[i + 1][2:]
    for i, tag in enumerate(tags):
        if tag.startswith("I-") and (i == 0 or not tags[i - 1] or tags[i - 1] == "O"):
            tags[i] = "B-" + tag[2:]
    return Doc(nlp.vocab, words=[t.text for t in sdoc], spaces=[bool(t.whitespace_) for t in sdoc], ents=tags)


def kg_tokens(doc: C.Doc, roles: tuple[str, ...] | None) -> list[list[F.Token]]:
    """kg's tokens of each sequence :func:`kg.extract.train.tagger.examples` makes of ``doc``,
    in corpus-text offsets (the same loop, so sequence i here is example i there)."""
    conv = C.as_article(doc)
    out = []
    for seq in F.sequences(conv.article.title, conv.article.abstract):
        if roles is not None and seq.role not in roles:
            continue
        out.append([F.Token(t.text, conv.to_text(seq.where, t.start), conv.to_text(seq.where, t.end))
                    for t in seq.tokens])
    return out


def config(train: Path, tune: Path, *, max_steps: int, eval_every: int, patience: int) -> spacy.util.Config:
    from spacy.cli.init_config import init_config

    cfg = init_config(lang="en", pipeline=["ner"], optimize="efficiency", gpu=False)
    cfg["paths"]["train"] = str(train)
    cfg["paths"]["dev"] = str(tune)
    cfg["system"]["seed"] = SEED
    cfg["training"]["seed"] = SEED
    cfg["training"]["max_steps"] = max_steps
    cfg["training"]["max_epochs"] = 0
    cfg["training"]["eval_frequency"] = eval_every
    cfg["training"]["patience"] = patience
    return cfg


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def crf_predict(model: Path, exs: list[T.Example], *, thresholds: dict[str, float] | None,
                spread: list[str]) -> list[list[str]]:
    pred = T.predict(model, exs, thresholds=thresholds)
    for lab in spread:
        pred = T.with_propagation(exs, pred, lab)
    return pred


def time_crf(model: Path, docs: list[C.Doc], thresholds: dict[str, float] | None,
             roles: tuple[str, ...] | None) -> tuple[float, float]:
    """(wall, CPU) seconds the CRF takes over ``docs`` as kg tags: sentences, tokens, features,
    Viterbi (and the threshold's marginals), spans."""
    arts = [C.as_article(d).article for d in docs]
    tagger = pycrfsuite.Tagger()
    tagger.open(str(model))
    w, c = time.perf_counter(), time.process_time()
    for a in arts:
        for seq in F.sequences(a.title, a.abstract):
            if roles is not None and seq.role not in roles:
                continue
            items = pycrfsuite.ItemSequence(seq.features)
            labels = decode(tagger, items, thresholds) if thresholds else tagger.tag(items)
            F.spans_of(seq.tokens, labels)
    return time.perf_counter() - w, time.process_time() - c


def run_task(name: str, args: argparse.Namespace, out: Path) -> list[dict]:
    task = T.TASKS[name]
    (source,) = task.sources
    nlp = spacy.blank("en")
    train_docs, dev_docs = docs_of(task, dev=False), docs_of(task, dev=True)
    fit_docs = [d for d in train_docs if not C.is_tune(d.pmid)]
    tune_docs = [d for d in train_docs if C.is_tune(d.pmid)]
    work = out / name
    work.mkdir(parents=True, exist_ok=True)
    for part, docs in (("train", fit_docs), ("tune", tune_docs)):
        DocBin(docs=[to_spacy(nlp, d, source) for d in docs]).to_disk(work / f"{part}.spacy")
    print(f"{name}: {len(fit_docs)} train, {len(tune_docs)} tune (early stopping), {len(dev_docs)} dev "
          "documents", flush=True)
    cfg = config(work / "train.spacy", work / "tune.spacy", max_steps=args.max_steps,
                 eval_every=args.eval_every, patience=args.patience)
    cfg.to_disk(work / "config.cfg")
    t = time.perf_counter()
    c = time.process_time()
    spacy_train(work / "config.cfg", work / "model", use_gpu=-1)
    train_wall, train_cpu = time.perf_counter() - t, time.process_time() - c
    best = work / "model" / "model-best"
    meta = json.loads((best / "meta.json").read_text())

    # dev: spaCy's entities on kg's tokens, against the gold labels the CRF is scored on
    nlp_best = spacy.load(best)
    gold: list[T.Example] = []
    pred: list[list[str]] = []
    for d in dev_docs:
        exs = T.examples(d, source.mapping, source.roles)
        toks = kg_tokens(d, source.roles)
        assert [len(e.labels) for e in exs] == [len(t) for t in toks]
        ents = [(e.start_char, e.end_char, e.label_) for e in nlp_best(d.text).ents]
        gold.extend(exs)
        pred.extend(F.bio(t, ents) for t in toks)
    spacy_scores = T.token_scores(gold, pred)

    # the shipped CRF on the same examples (plain Viterbi; shipped decoding)
    manifest = json.loads((MODELS / "manifest.json").read_text())["models"][name]
    crf = MODELS / manifest["file"]
    crf_plain = T.token_scores(gold, crf_predict(crf, gold, thresholds=None, spread=[]))
    crf_shipped = T.token_scores(gold, crf_predict(crf, gold, thresholds=manifest.get("thresholds"),
                                                   spread=manifest.get("propagate") or []))
    crf_fit = None
    if args.crf_fit_part:
        fit_exs = [ex for d in fit_docs for ex in T.examples(d, source.mapping, source.roles)]
        path = work / "fit_part.crfsuite"
        T.fit(fit_exs, path, params=T.SHIPPED_PARAMS[name])
        crf_fit = T.token_scores(gold, crf_predict(path, gold, thresholds=None, spread=[]))

    # speed, one thread, the dev abstracts (best of --repeats; CPU time is what the load moves least)
    texts = [d.text for d in dev_docs]
    nlp_best(texts[0])
    sp = []
    for _ in range(args.repeats):
        w, c = time.perf_counter(), time.process_time()
        for sdoc in nlp_best.pipe(texts, batch_size=64):
            _ = sdoc.ents
        sp.append((time.perf_counter() - w, time.process_time() - c))
    cr = [time_crf(crf, dev_docs, manifest.get("thresholds"), source.roles) for _ in range(args.repeats)]
    n = len(texts)
    speed = {
        "spacy": {"abstracts_per_s_wall": round(n / min(x[0] for x in sp), 1),
                  "abstracts_per_s_cpu": round(n / min(x[1] for x in sp), 1),
                  "mb": round(dir_bytes(best) / 1e6, 1)},
        "crf": {"abstracts_per_s_wall": round(n / min(x[0] for x in cr), 1),
                "abstracts_per_s_cpu": round(n / min(x[1] for x in cr), 1),
                "mb": round(crf.stat().st_size / 1e6, 1)},
    }
    rows = []
    for lab in sorted(spacy_scores.keys() | crf_plain.keys()):
        rows.append({
            "task": name, "label": lab, "spacy": spacy_scores.get(lab), "crf_viterbi": crf_plain.get(lab),
            "crf_shipped": crf_shipped.get(lab), "crf_fit_part_viterbi": (crf_fit or {}).get(lab),
        })
    report = {"task": name, "documents": {"train": len(fit_docs), "tune": len(tune_docs), "dev": n},
              "train_seconds_wall": round(train_wall), "train_seconds_cpu": round(train_cpu),
              "max_steps": args.max_steps, "best_tune_ents_f": meta.get("performance", {}).get("ents_f"),
              "speed": speed, "rows": rows, "spacy": spacy.__version__}
    (out / f"{name}.json").write_text(json.dumps(report, indent=1) + "\n")
    return [report]


def fmt(s: dict | None) -> str:
    return " / ".join(f"{s[k]:.3f}" for k in ("p", "r", "f1")) if s else "—"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", nargs="+", default=["pio"], choices=["pio", "outcome"])
    ap.add_argument("--max-steps", type=int, default=3000)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--patience", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--crf-fit-part", action="store_true")
    ap.add_argument("--out", type=Path, default=None, help="keep the DocBins, config and models here")
    args = ap.parse_args()
    spacy.util.fix_random_seed(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        reports = [r for name in args.tasks for r in run_task(name, args, out)]
    print("\n| task | label | spaCy P / R / F1 | CRF P / R / F1 (Viterbi) | CRF shipped decoding "
          "| CRF on spaCy's train docs |")
    print("|---|---|---|---|---|---|")
    for rep in reports:
        for row in rep["rows"]:
            print(f"| {row['task']} | {row['label']} | {fmt(row['spacy'])} | {fmt(row['crf_viterbi'])} "
                  f"| {fmt(row['crf_shipped'])} | {fmt(row['crf_fit_part_viterbi'])} |")
    for rep in reports:
        s, c = rep["speed"]["spacy"], rep["speed"]["crf"]
        print(f"{rep['task']}: spaCy {s['abstracts_per_s_cpu']} abstracts/CPU-s "
              f"({s['abstracts_per_s_wall']} wall), {s['mb']} MB; CRF {c['abstracts_per_s_cpu']} "
              f"({c['abstracts_per_s_wall']} wall), {c['mb']} MB; spaCy training "
              f"{rep['train_seconds_cpu']} CPU-s ({rep['train_seconds_wall']} s wall), "
              f"best tune ents F {rep['best_tune_ents_f']}")


if __name__ == "__main__":
    main()
