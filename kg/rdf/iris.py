"""Every IRI kg mints or links to is made here, and every input value in one is encoded here.

IRIs are deterministic: the same record gives the same IRIs under the same base.

>>> iris = Iris("https://example.org/kg/")
>>> iris.article("23906502").value
'https://example.org/kg/pubmed/23906502'
>>> iris.doi("10.1002/(SICI)1097-0258 <x>").value
'https://doi.org/10.1002/%28SICI%291097-0258%20%3Cx%3E'
"""

from __future__ import annotations

import re
from urllib.parse import quote

from pyoxigraph import NamedNode

from kg.errors import UsageError

_MESH_UI = re.compile(r"^(?:[DCQ]\d{6,9}(?:Q\d{6,9})?)$")
_PMID = re.compile(r"^[1-9]\d{0,9}$")
_ORCID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
_SAFE_IRI_BASE = re.compile(r"^https?://[^\s<>\"{}|\\^`]+[/#]$")


def _enc(value: str) -> str:
    """Percent-encode an input value for use as one IRI path segment."""
    if value.isascii() and value.isalnum():
        return value  # what quote gives back for these, without its work (PMIDs, indexes)
    return quote(value, safe="")


def is_pmid(value: str) -> bool:
    return bool(_PMID.match(value))


_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


def is_doi(value: str) -> bool:
    """A DOI as Crossref/DataCite mint them (NLM records sometimes carry a PII in the DOI slot).

    >>> is_doi("10.1111/jdv.12223"), is_doi("51466")
    (True, False)
    """
    return bool(_DOI.match(value))


def is_mesh_ui(value: str) -> bool:
    return bool(_MESH_UI.match(value))


class Iris:
    """Mints the IRIs of one dataset under ``base`` (which ends with ``/`` or ``#``)."""

    def __init__(self, base: str) -> None:
        if not _SAFE_IRI_BASE.match(base):
            raise UsageError(f"base IRI must be an http(s) IRI ending with '/' or '#': {base!r}")
        self.base = base

    def _mint(self, *segments: str) -> NamedNode:
        return NamedNode(self._iri(*segments))

    def _iri(self, *segments: str) -> str:
        return self.base + "/".join(map(_enc, segments))

    # things kg describes (``*_iri``: the IRI as text, for the map stage's N-Quads lines)
    def article(self, pmid: str) -> NamedNode:
        return NamedNode(self.article_iri(pmid))

    def article_iri(self, pmid: str) -> str:
        return self._iri("pubmed", pmid)

    def graph(self, pmid: str) -> NamedNode:
        """The named graph holding everything kg says about one article."""
        return NamedNode(self.graph_iri(pmid))

    def graph_iri(self, pmid: str) -> str:
        return self._iri("graph", "pubmed", pmid)

    def part(self, pmid: str, kind: str, index: int | str) -> NamedNode:
        """A node that belongs to one article: ``…/pubmed/{pmid}/{kind}/{index}``."""
        return NamedNode(self.part_iri(pmid, kind, index))

    def part_iri(self, pmid: str, kind: str, index: int | str) -> str:
        return self._iri("pubmed", pmid, kind, str(index))

    def journal(self, key: str) -> NamedNode:
        return NamedNode(self.journal_iri(key))

    def journal_iri(self, key: str) -> str:
        return self._iri("journal", key)

    def metadata_graph(self) -> NamedNode:
        return self._mint("graph", "metadata")

    def dataset(self) -> NamedNode:
        return self._mint("dataset")

    def build(self, key: str) -> NamedNode:
        return self._mint("build", key)

    def source(self, key: str) -> NamedNode:
        return self._mint("source", key)

    def pmid_of(self, node: NamedNode) -> str | None:
        """The PMID of an article IRI minted here, or None."""
        prefix = self.base + "pubmed/"
        rest = node.value.removeprefix(prefix)
        return rest if rest != node.value and is_pmid(rest) else None

    # the world outside
    @staticmethod
    def pubmed(pmid: str) -> NamedNode:
        return NamedNode(Iris.pubmed_iri(pmid))

    @staticmethod
    def pubmed_iri(pmid: str) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{_enc(pmid)}/"

    @staticmethod
    def doi(doi: str) -> NamedNode:
        return NamedNode(Iris.doi_iri(doi))

    @staticmethod
    def doi_iri(doi: str) -> str:
        return "https://doi.org/" + quote(doi, safe="/")

    @staticmethod
    def pmc(pmc: str) -> NamedNode:
        return NamedNode(Iris.pmc_iri(pmc))

    @staticmethod
    def pmc_iri(pmc: str) -> str:
        return f"https://www.ncbi.nlm.nih.gov/pmc/articles/{_enc(pmc)}/"

    @staticmethod
    def orcid(orcid: str) -> NamedNode | None:
        iri = Iris.orcid_iri(orcid)
        return NamedNode(iri) if iri else None

    @staticmethod
    def orcid_iri(orcid: str) -> str | None:
        return f"https://orcid.org/{orcid}" if _ORCID.match(orcid) else None

    @staticmethod
    def mesh(ui: str) -> NamedNode | None:
        """``http://id.nlm.nih.gov/mesh/{UI}`` for a well-formed UI (or D…Q… pair), else None."""
        iri = Iris.mesh_iri(ui)
        return NamedNode(iri) if iri else None

    @staticmethod
    def mesh_iri(ui: str) -> str | None:
        return f"http://id.nlm.nih.gov/mesh/{ui}" if is_mesh_ui(ui) else None
