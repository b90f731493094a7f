"""Does extraction give byte-identical output to a saved baseline? For speed work on the rules.

Extracts every abstract of the shared PubMed records (``../shared/data/pubmed/xml``) and of
``tests/data`` and writes one line per article: its source, PMID, the ``repr`` of the Evidence
and the N-Quads :func:`kg.rdf.evidence.evidence_quads` makes of it. Save a baseline from a clean
checkout of the commit before the change, then compare the working tree against it:

    git worktree add --detach /tmp/wt-base HEAD
    PYTHONPATH=/tmp/wt-base python benchmarks/check_extract_identical.py --write /tmp/base.txt
    python benchmarks/check_extract_identical.py --against /tmp/base.txt

Exits 1 and prints the first differing records when any line differs.
"""

from __future__ import annotations

from collections.abc import Iterator

import _identical  # benchmarks/_identical.py, beside this script

from kg.extract import extract
from kg.mesh import MeshTable
from kg.rdf.evidence import evidence_quads
from kg.rdf.iris import Iris

ROOT = _identical.ROOT
CORPORA = (ROOT.parent / "shared" / "data" / "pubmed" / "xml", ROOT / "tests" / "data")
IRIS = Iris("https://w3id.org/kg/id/")


def lines(mesh: MeshTable) -> Iterator[str]:
    for source, article in _identical.articles(CORPORA, with_abstract=True):
        evidence = extract(article, mesh=mesh)
        quads = sorted(str(q) for q in evidence_quads(evidence, iris=IRIS))
        yield f"{source}\t{article.pmid}\t{evidence!r}\t{quads!r}"


def main() -> None:
    _identical.main(__doc__.split("\n")[0], lambda: list(lines(MeshTable.default())),
                    joiner="\n", what="records")


if __name__ == "__main__":
    main()
