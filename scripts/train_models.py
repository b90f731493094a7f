"""Retrain every learned part of kg from the annotated corpora: one command, same bytes.

    python scripts/train_models.py [--corpora DIR] [--only tagger|sample|findings|indexer|valuegate]

Writes into ``kg/data/``: the span tagger (``tagger/``: one CRF per task and ``manifest.json``),
the sample-size chooser (``sample_size.*``) and the finding-direction classifier
(``findings.*``), the MeSH condition indexer (``mesh-indexer.*``, which also reads the shared
PubMed XML records, dev PMIDs left out) and the value gate on outcome numbers
(``valuegate.*``), each with the checksum its loader verifies and its dev-split figures (the
value gate's card holds out-of-fold and tune figures; ``benchmarks/eval_extract.py`` measures
dev). Training never sees the dev split (:func:`kg.extract.train.corpora.is_dev`); nothing is
random (L-BFGS is deterministic and every split hashes the PMID), so a rerun on the same data
gives the same bytes.
About 25 minutes on one core.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.extract.train import corpora  # noqa: E402
from kg.extract.train import findings as train_findings  # noqa: E402
from kg.extract.train import indexing as train_indexing  # noqa: E402
from kg.extract.train import sample as train_sample  # noqa: E402
from kg.extract.train import tagger as train_tagger  # noqa: E402
from kg.extract.train import valuegate as train_valuegate  # noqa: E402

DATA = ROOT / "kg" / "data"
PARTS = ("tagger", "sample", "findings", "indexer", "valuegate")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpora", type=Path, default=corpora.DEFAULT_DIR)
    ap.add_argument("--only", choices=PARTS, action="append")
    ap.add_argument("--out", type=Path, default=DATA)
    ap.add_argument(
        "--tasks", nargs="+", choices=train_tagger.SHIPPED, default=train_tagger.SHIPPED,
        help="retrain only these tagger tasks (the others stay as they are)",
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not (args.corpora / corpora.EBMNLP_PIO).exists():
        print(f"train_models: no corpora in {args.corpora}", file=sys.stderr)
        return 3
    parts = args.only or PARTS
    report = {}
    if "tagger" in parts:
        report["tagger"] = train_tagger.train_shipped(
            args.out / "tagger", directory=args.corpora, tasks=args.tasks
        )
    if "sample" in parts:
        report["sample"] = train_sample.train(args.corpora, args.out / "sample_size.crfsuite")
    if "findings" in parts:
        report["findings"] = train_findings.train(args.corpora, args.out)
    if "indexer" in parts:
        report["indexer"] = train_indexing.train(args.out, corpora_dir=args.corpora)
    if "valuegate" in parts:
        report["valuegate"] = train_valuegate.train(args.corpora, args.out / "valuegate.crfsuite")
    print(json.dumps(report, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
