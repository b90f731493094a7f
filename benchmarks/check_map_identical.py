"""Does the map stage give byte-identical N-Quads to a saved baseline? For speed work on it.

Maps every article of the shared PubMed records (``../shared/data/pubmed``: XML and MEDLINE
text) and of ``tests/data`` with :func:`kg.rdf.mapping.article_nquads` and writes, per article, a
``# source PMID`` line and its N-Quads. Save a baseline from a clean checkout of the commit
before the change, then compare the working tree against it:

    git worktree add --detach /tmp/wt-base HEAD
    PYTHONPATH=/tmp/wt-base python benchmarks/check_map_identical.py --write /tmp/map-base.nq
    python benchmarks/check_map_identical.py --against /tmp/map-base.nq

A checkout from before ``article_nquads`` existed is read through ``article_quads`` and
pyoxigraph's N-Quads serializer, which is what kg wrote then. Exits 1 and prints the first
differing article when any byte differs.
"""

from __future__ import annotations

from collections.abc import Iterator

import _identical  # benchmarks/_identical.py, beside this script

from kg.models import Article
from kg.rdf import mapping
from kg.rdf.iris import Iris

ROOT = _identical.ROOT
CORPORA = (ROOT.parent / "shared" / "data" / "pubmed", ROOT / "tests" / "data")
IRIS = Iris("https://w3id.org/kg/id/")


def nquads(article: Article) -> str:
    if hasattr(mapping, "article_nquads"):
        return str(mapping.article_nquads(article, iris=IRIS))
    from pyoxigraph import RdfFormat, serialize

    out = serialize(mapping.article_quads(article, iris=IRIS), format=RdfFormat.N_QUADS) or b""
    return out.decode("utf-8")


def chunks() -> Iterator[str]:
    for source, article in _identical.articles(CORPORA, with_abstract=False):
        yield f"# {source} {article.pmid}\n{nquads(article)}"


def main() -> None:
    _identical.main(__doc__.split("\n")[0], lambda: list(chunks()), joiner="\f",
                    what="articles")


if __name__ == "__main__":
    main()
