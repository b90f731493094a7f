"""A fair A/B of extraction speed on a busy machine: two checkouts of kg in one process.

The ``kg`` package of ``--base`` (a clean worktree of the commit before a change) and the one
of this checkout are imported side by side (each keeps its own modules, models and caches);
batches of the shared abstracts then alternate between them, and each side's CPU time (not
wall time: other work on the machine counts less) is summed, for the whole extraction and for
the tagger's part of it, so what is left is the rules'. Load swings hit both sides alike.

    git worktree add --detach /tmp/wt-base HEAD~1
    python benchmarks/ab_extract.py --base /tmp/wt-base [--limit 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "pubmed" / "xml"


class Side:
    """One checkout's kg, its articles, and the CPU seconds it spent."""

    def __init__(self, name: str, root: Path, corpus: Path, limit: int) -> None:
        self.name = name
        for key in [k for k in sys.modules if k == "kg" or k.startswith("kg.")]:
            del sys.modules[key]
        sys.path.insert(0, str(root))
        try:
            import kg.extract
            import kg.extract.tagger
            from kg.mesh import MeshTable
            from kg.models import Article
            from kg.sources.files import expand, read_file
        finally:
            sys.path.remove(str(root))
        self.modules = {k: m for k, m in sys.modules.items() if k == "kg" or k.startswith("kg.")}
        self.root = Path(kg.extract.__file__).resolve().parent.parent.parent
        self.extract: Callable[..., Any] = kg.extract.extract
        self.mesh = MeshTable.default()
        self.articles = [
            r for p in expand([corpus], recursive=True) for r in read_file(p)
            if isinstance(r, Article) and r.abstract
        ]
        if limit:
            self.articles = self.articles[:limit]
        self.total = self.tagger = 0.0
        self.count = 0
        tagger_class = kg.extract.tagger.Tagger
        tag = tagger_class.tag

        def timed_tag(tagger: object, *args: Any, **kwargs: Any) -> Any:
            t = time.process_time()
            try:
                return tag(tagger, *args, **kwargs)
            finally:
                self.tagger += time.process_time() - t

        tagger_class.tag = timed_tag  # type: ignore[method-assign]

    def enter(self) -> None:
        for key in [k for k in sys.modules if k == "kg" or k.startswith("kg.")]:
            del sys.modules[key]
        sys.modules.update(self.modules)

    def run(self, articles: list[Any], *, count: bool = True) -> None:
        self.enter()
        extract, mesh = self.extract, self.mesh
        t = time.process_time()
        for a in articles:
            extract(a, mesh=mesh)
        if count:
            self.total += time.process_time() - t
            self.count += len(articles)


def ms(seconds: float, n: int) -> str:
    return f"{1000 * seconds / max(n, 1):6.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", type=Path, required=True, help="checkout to compare against")
    ap.add_argument("--corpus", type=Path, default=SHARED)
    ap.add_argument("--limit", type=int, default=500, help="abstracts (0: all)")
    ap.add_argument("--batch", type=int, default=25)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    base = Side("base", args.base, args.corpus, args.limit)
    new = Side("new", ROOT, args.corpus, args.limit)
    if base.root == new.root:
        sys.exit(f"both sides import kg from {base.root}")
    for side in (base, new):  # models and indexes load once per process, outside the timing
        side.run(side.articles[-50:], count=False)
        side.tagger = 0.0
    n = len(base.articles)
    for r in range(args.rounds):
        for i in range(0, n, args.batch):
            order = (base, new) if (i // args.batch + r) % 2 == 0 else (new, base)
            for side in order:
                side.run(side.articles[i : i + args.batch])
    print(f"{n} abstracts x {args.rounds} rounds, batches of {args.batch} alternating; "
          "CPU ms an abstract")
    print(f"{'side':<6} {'extract':>8} {'tagger':>8} {'rules':>8}  kg from")
    for side in (base, new):
        print(f"{side.name:<6} {ms(side.total, side.count):>8} {ms(side.tagger, side.count):>8} "
              f"{ms(side.total - side.tagger, side.count):>8}  {side.root}")
    print(f"rules: {100 * (1 - (new.total - new.tagger) / (base.total - base.tagger)):+.1f}% "
          f"less CPU; extract: {100 * (1 - new.total / base.total):+.1f}% less CPU")


if __name__ == "__main__":
    main()
