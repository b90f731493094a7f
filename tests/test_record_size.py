"""One record's size is bounded (kg.parse.limits): a record over the limit is reported and skipped,
the records around it are kept, and memory stays flat, decompression bombs included.

The bombs are real records (tests/data) with one abstract blown up to 40 MiB; they are written
to disk as streams (a few dozen KiB of gzip) and parsed in a child process, whose peak memory
(``ru_maxrss``) is compared before and after parsing, with the limit lowered to 1 MiB.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO, cast

import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.models import Article, Problem
from kg.parse import medline, pubmed_xml
from kg.parse.limits import MAX_RECORD_BYTES

DATA = Path(__file__).parent / "data"
XML = DATA / "xml" / "Pubmed_Author_Ranking__pubmed_result.xml"  # 7 records, CRLF
NBIB = DATA / "medline" / "excerpt_records.nbib"  # 6 records
MIB = 1 << 20


def _xml_parts() -> tuple[bytes, list[bytes], bytes]:
    raw = XML.read_bytes()
    records = re.findall(rb"<PubmedArticle>.*?</PubmedArticle>", raw, flags=re.S)
    return raw[: raw.index(b"<PubmedArticle>")], records[:3], b"\n</PubmedArticleSet>\n"


def write_xml_bomb(path: Path, mib: int, *, cut: bool = False) -> list[str]:
    """Three real records, the second with ``mib`` MiB more abstract; the PMIDs in order."""
    head, (first, second, third), end = _xml_parts()
    at = second.index(b"<AbstractText")
    with gzip.open(path, "wb") as out:
        out.write(head + first + second[:at] + b"<AbstractText>")
        for _ in range(mib):
            out.write(b"lorem ipsum " * (MIB // 12) + b"lorem ipsu\n")
        if not cut:
            out.write(b"</AbstractText>" + second[at:] + third + end)
    return [re.search(rb"<PMID[^>]*>(\d+)<", r).group(1).decode() for r in (first, second, third)]  # type: ignore[union-attr]


def write_medline_bomb(path: Path, mib: int, *, one_line: bool) -> list[str]:
    """Three real MEDLINE records, the second with ``mib`` MiB more abstract (continuation lines
    of 80 bytes, or a single line)."""
    records = NBIB.read_bytes().split(b"\n\n")[:3]
    at = records[1].index(b"\nTI  - ")  # after the abstract's lines
    with path.open("wb") as out:
        out.write(records[0] + b"\n\n" + records[1][:at])
        line = b"      " + b"lorem ipsum " * 6 + b"lorem\n"
        if one_line:
            out.write(b" ")
            for _ in range(mib):
                out.write(b"lorem ipsum " * (MIB // 12))
            out.write(b"\n")
        else:
            for _ in range(mib * MIB // len(line)):
                out.write(line)
        out.write(records[1][at + 1 :] + b"\n\n" + records[2] + b"\n")
    return [re.search(rb"PMID- (\d+)", r).group(1).decode() for r in records]  # type: ignore[union-attr]


_CHILD = """
import gzip, json, resource, sys
from kg.parse import medline, pubmed_xml
path, kind, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with (gzip.open(path) if path.endswith(".gz") else open(path, "rb")) as fh:
    parse = pubmed_xml.iter_records if kind == "xml" else medline.iter_records
    out = [
        {"type": type(r).__name__, "pmid": getattr(r, "pmid", None), "text": str(r),
         "fatal": getattr(r, "fatal", None)}
        for r in parse(fh, source="bomb", max_record_bytes=limit)
    ]
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"records": out, "grown_kib": grown}))
"""


def parse_in_child(path: Path, kind: str, limit: int) -> tuple[list[dict[str, object]], int]:
    """The records a fresh process reads from ``path``, and how much its peak memory grew (KiB)."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), kind, str(limit)],
        capture_output=True, check=True, timeout=300,
    )
    answer = json.loads(done.stdout)
    return answer["records"], answer["grown_kib"]


def test_xml_gz_bomb_skips_the_record_and_memory_stays_flat(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml.gz"
    pmids = write_xml_bomb(bomb, 40)
    assert bomb.stat().st_size < 400_000  # a small file that inflates to 40 MiB
    records, grown = parse_in_child(bomb, "xml", MIB)
    assert [(r["type"], r["pmid"]) for r in records] == [
        ("Article", pmids[0]), ("Problem", None), ("Article", pmids[2])
    ]
    problem = records[1]
    assert problem["text"] == (
        f"bomb: PMID {pmids[1]}: record is over the 1 MiB limit of one record; skipped"
    )
    assert problem["fatal"] is False
    # Reading the whole 40 MiB record grows a process by some 80 MiB (measured: 102 MiB peak
    # without the limit, 24 MiB with it); with the limit it is not held.
    assert grown < 16 * 1024, grown


@pytest.mark.parametrize("one_line", [False, True], ids=["many-lines", "one-line"])
def test_medline_huge_record_is_skipped_and_memory_stays_flat(
    tmp_path: Path, one_line: bool
) -> None:
    path = tmp_path / "bomb.nbib"
    pmids = write_medline_bomb(path, 40, one_line=one_line)
    records, grown = parse_in_child(path, "medline", MIB)
    assert [(r["type"], r["pmid"]) for r in records] == [
        ("Article", pmids[0]), ("Problem", None), ("Article", pmids[2])
    ]
    assert re.fullmatch(
        rf"bomb: PMID {pmids[1]}, line \d+: record is over the 1 MiB limit of one record "
        r"\(40 MiB to line \d+\); skipped",
        str(records[1]["text"]),
    ), records[1]
    assert grown < 16 * 1024, grown


def test_xml_file_ending_inside_a_record_over_the_limit(tmp_path: Path) -> None:
    bomb = tmp_path / "cut.xml.gz"
    pmids = write_xml_bomb(bomb, 3, cut=True)
    with gzip.open(bomb) as fh:
        recs = list(pubmed_xml.iter_records(cast(BinaryIO, fh), source="cut", max_record_bytes=MIB))
    assert [type(r).__name__ for r in recs] == ["Article", "Problem"]
    p = recs[1]
    assert isinstance(p, Problem) and p.fatal and p.where == f"PMID {pmids[1]}"
    assert p.message == (
        "record is over the 1 MiB limit of one record and the file ends inside it; record "
        "skipped; the 1 articles before it were kept"
    )


def test_records_under_the_limit_are_kept_whatever_their_number() -> None:
    """Many records of a file add up to more than the limit: only one record's size counts."""
    head, records, end = _xml_parts()
    data = head + b"".join(records) * 400 + end  # about 4 MiB
    recs = list(pubmed_xml.iter_records(io.BytesIO(data), source="x", max_record_bytes=MIB))
    assert len(recs) == 1200 and all(isinstance(r, Article) for r in recs)
    nbib = (NBIB.read_bytes().rstrip(b"\n") + b"\n\n") * 200
    recs = list(medline.iter_records(io.BytesIO(nbib), source="x", max_record_bytes=1 << 14))
    assert len(recs) == 1200 and all(isinstance(r, Article) for r in recs)


def test_utf16_record_over_the_limit_ends_the_file() -> None:
    """UTF-16 cannot be searched for the closing tag as bytes: the file stops there, said so."""
    head, (first, second, third), end = _xml_parts()
    at = second.index(b"<AbstractText")
    big = second[:at] + b"<AbstractText>" + b"x" * (3 * MIB) + b"</AbstractText>" + second[at:]
    data = (head + first + big + third + end).decode().encode("utf-16")
    recs = list(pubmed_xml.iter_records(io.BytesIO(data), source="u", max_record_bytes=MIB))
    assert [type(r).__name__ for r in recs] == ["Article", "Problem"]
    p = recs[1]
    assert isinstance(p, Problem) and p.fatal and p.where is not None
    assert p.where.startswith("PMID ") and "UTF-16" in p.message


def test_kg_build_reports_a_record_over_the_default_limit(tmp_path: Path) -> None:
    """Through ``kg build`` (gzip sniffed, the default 16 MiB limit): exit 3, one line names the
    file and the PMID, the records around it are stored."""
    bomb = tmp_path / "bomb.xml.gz"
    pmids = write_xml_bomb(bomb, MAX_RECORD_BYTES // MIB + 1)
    result = CliRunner().invoke(main, ["build", str(bomb), "--store", str(tmp_path / "s")])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert f"  {bomb}: PMID {pmids[1]}: record is over the 16 MiB limit of one record; skipped" in (
        result.output.splitlines()
    ), result.output
    assert "1 files · 2 articles (0 books)" in result.output, result.output


def test_legacy_medline_citation_over_the_limit_and_the_deletion_after_it() -> None:
    """A MedlineCitationSet (no PubmedArticle wrapper): the parser that takes over after the
    skipped citation reads the next ones as citations of that set, the DeleteCitation too."""
    raw = (DATA / "xml" / "medline16n0902_excerpt.xml").read_bytes()
    at = raw.index(b"<AbstractText", raw.index(b">18621939<"))
    big = raw[:at] + b"<AbstractText>" + b"y " * MIB + b"</AbstractText>" + raw[at:]
    recs = list(pubmed_xml.iter_records(io.BytesIO(big), source="leg", max_record_bytes=MIB))
    assert [getattr(r, "pmid", None) for r in recs] == [
        "17942999", None, "19602546", "19302341", "19368899", "26432306"
    ]
    assert str(recs[1]) == "leg: PMID 18621939: record is over the 1 MiB limit of one record; skipped"


def test_more_than_the_limit_outside_any_record_ends_the_file() -> None:
    head, (first, second, third), end = _xml_parts()
    data = head + first + b"\n" * (3 * MIB) + second + third + end
    recs = list(pubmed_xml.iter_records(io.BytesIO(data), source="ws", max_record_bytes=MIB))
    assert [type(r).__name__ for r in recs] == ["Article", "Problem"]
    p = recs[1]
    assert isinstance(p, Problem) and p.fatal
    assert p.message == (
        "more than 1 MiB outside any record; the rest of the file is not read; the 1 articles "
        "before it were kept"
    )
