"""The --write/--against harness of the check_*_identical scripts: save a dump as the baseline,
or compare this checkout's dump with a saved one item by item (exit 1 when any differs)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import kg
from kg.errors import KgError
from kg.models import Article
from kg.sources.files import expand, read_file

ROOT = Path(__file__).resolve().parent.parent


def main(description: str, dump: Callable[[], list[str]], *, joiner: str, what: str) -> None:
    """``dump`` gives the items (joined by ``joiner`` in the file); ``what`` names them."""
    ap = argparse.ArgumentParser(description=description)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, help="save the dump here (the baseline)")
    mode.add_argument("--against", type=Path, help="compare with this saved dump")
    args = ap.parse_args()
    print(f"kg from {Path(kg.__file__).parent}", file=sys.stderr)
    got = dump()
    if args.write:
        args.write.write_text(joiner.join(got) + joiner, encoding="utf-8")
        print(f"wrote {len(got)} {what} to {args.write}")
        return
    want = args.against.read_text(encoding="utf-8").split(joiner)
    want = want[:-1] if want and not want[-1] else want
    differ = [(w, g) for w, g in zip(want, got, strict=False) if w != g]
    print(f"{len(got)} {what} now, {len(want)} in the baseline, {len(differ)} differ")
    for w, g in differ[:2]:
        print(f"- {w[:3000]}\n+ {g[:3000]}")
    if differ or len(want) != len(got):
        sys.exit(1)


def articles(corpora: tuple[Path, ...], *, with_abstract: bool) -> Iterator[tuple[str, Article]]:
    """Every article under ``corpora`` (only those with an abstract, when asked), with the file
    it came from, relative to its corpus's parent."""
    for corpus in corpora:
        for path in expand([corpus], recursive=True):
            try:
                for record in read_file(path):
                    if isinstance(record, Article) and (record.abstract or not with_abstract):
                        yield str(path.relative_to(corpus.parent)), record
            except KgError:
                continue  # a deliberately broken input of tests/data, or a file kg does not read
