"""Choose the tagger's model family by measurement: a linear-chain CRF against an independent
per-token maximum-entropy classifier, the same features and training data, scored on the dev
split (token P/R/F1, the EBM-NLP family of metrics). Both decode plainly (Viterbi / argmax) so
the families are compared, not the decoding; the shipped CRF's tuned decoding is printed beside.

    python benchmarks/compare_taggers.py [--tasks O outcome I P]

Takes a few minutes per task on one core (the P task, with PICO-data, is the longest).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from kg.extract.train import corpora as C
from kg.extract.train import tagger as T


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", nargs="+", default=["O", "outcome", "I"])
    args = ap.parse_args()
    print(f"{'task':<8} {'family':<8} {'label':<5} {'P':>6} {'R':>6} {'F1':>6} {'train s':>8} {'MB':>6}")
    for name in args.tasks:
        task = T.TASKS[name]
        train = T.task_examples(task, directory=C.DEFAULT_DIR, dev=False)
        dev = T.task_examples(task, directory=C.DEFAULT_DIR, dev=True)
        with tempfile.TemporaryDirectory() as tmp:
            for family in ("crf", "maxent"):
                path = Path(tmp) / f"{family}.crfsuite"
                t = time.perf_counter()
                T.fit(train, path, family=family, params=T.SHIPPED_PARAMS.get(name, T.SHIPPED_PARAMS["pio"]))
                seconds = time.perf_counter() - t
                scores = T.token_scores(dev, T.predict(path, dev, family=family))
                for label, s in scores.items():
                    print(f"{name:<8} {family:<8} {label:<5} {s['p']:>6.3f} {s['r']:>6.3f} {s['f1']:>6.3f} "
                          f"{seconds:>8.0f} {path.stat().st_size / 1e6:>6.1f}", flush=True)


if __name__ == "__main__":
    main()
