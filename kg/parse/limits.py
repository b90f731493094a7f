"""Bounds every parser keeps, whatever its input: memory stays flat over hostile records.

``MAX_RECORD_BYTES`` bounds one record's input: the bytes from a ``<PubmedArticle>`` (or
``<PubmedBookArticle>``, legacy ``<MedlineCitation>``, ``<DeleteCitation>``) to its closing tag,
or the lines of one MEDLINE record. 16 MiB leaves room for PubMed's biggest records (papers with
thousands of authors, affiliations and long reference lists come to a few MiB of XML; the largest
of kg's 3,755-record test corpus is 0.4 MiB, an abstract at most tens of KiB), while a parser
holding a record that size needs about twice that (lxml's tree of a 40 MiB abstract: 80 MiB).
A record over it is reported (file, PMID or record number) and skipped without being held: the
rest of the file is read as usual. A small ``.xml.gz`` that inflates to one huge abstract (a
decompression bomb) is such a record. The XML parser measures the size between the 64 KiB
chunks it reads, so to a chunk (and never below two chunks).
"""

from __future__ import annotations

#: The most bytes of input one record may take (see the module's docstring).
MAX_RECORD_BYTES = 16 * 1024 * 1024


def mib(n: int) -> str:
    """``n`` bytes in MiB as messages print it, to a tenth: "16 MiB", "0.5 MiB".

    >>> mib(16 * 1024 * 1024), mib(1 << 19), mib(40 * 1024 * 1024 + 123)
    ('16 MiB', '0.5 MiB', '40 MiB')
    """
    return f"{n / (1 << 20):.1f}".removesuffix(".0") + " MiB"
