"""Input faults (issue 12): no lost or half-read records, one-line errors, exit code 3.

Every case starts from real NCBI records under tests/data (copies of ../shared, see
tests/data/README.md), cut, corrupted or wrapped here as the test says, and checks the exit
code, the one-line message and exactly which records are in the store afterwards.
"""

from __future__ import annotations

import gc
import gzip
import os
import re
import subprocess
import sys
import threading
import zlib
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
from click.testing import CliRunner, Result

from kg.cli import main
from kg.errors import one_line
from kg.models import Article, Problem
from kg.sources.files import read_file

TESTS = Path(__file__).parent
DATA = TESTS / "data"
MEDSAMPLE = DATA / "xml" / "nlm_medsample1.xml.gz"  # 170 PubmedArticle, 7 DeleteCitation
AUTHOR_XML = DATA / "xml" / "Pubmed_Author_Ranking__pubmed_result.xml"  # 7 records, CRLF
AUTHOR_TXT = DATA / "medline" / "Pubmed_Author_Ranking__pubmed_result.txt"  # the same 7
SMALL = (DATA / "xml" / "biopython__pubmed4.xml", DATA / "xml" / "biopython__pubmed6.xml")
AUTHOR_PMIDS = ["30034368", "30035189", "30036691", "30037276", "30037913", "30038832",
                "30038950"]


def build(*args: str | Path, input: bytes | None = None) -> Result:
    result = CliRunner().invoke(main, ["build", *map(str, args)], input=input)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    # The traceback of sys.exit holds the build's frames, and so its store open: let it go, so
    # that the store can be read here (as it is once the process ends).
    if result.exception is not None:
        result.exception.__traceback__ = None
    result.exc_info = None
    gc.collect()
    return result


def errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("kg: error:")]


def stored_pmids(store: Path) -> list[str]:
    """The PMIDs whose article graphs are in the store."""
    st = pyoxigraph.Store.read_only(str(store / "current"))
    graphs = (re.fullmatch(r".*/graph/pubmed/(\d+)", g.value) for g in st.named_graphs()
              if isinstance(g, pyoxigraph.NamedNode))
    return sorted(m.group(1) for m in graphs if m)


def complete_pmids(xml: bytes) -> list[str]:
    """PMIDs of the whole ``<PubmedArticle>`` elements in ``xml``, by regex (not kg's parser)."""
    blocks = re.findall(rb"<PubmedArticle>.*?</PubmedArticle>", xml, flags=re.S)
    pmids = (re.search(rb"<PMID[^>]*>(\d+)</PMID>", b) for b in blocks)
    return sorted(m.group(1).decode() for m in pmids if m)


def gunzip_prefix(data: bytes) -> bytes:
    """What a cut gzip stream holds before the cut (zlib's streaming decompressor)."""
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)


# --- 6. a truncated .xml.gz keeps every complete record ---------------------------------------


def test_half_a_gzip_file_keeps_all_86_complete_records(tmp_path: Path) -> None:
    raw = MEDSAMPLE.read_bytes()
    half = tmp_path / "nlm_medsample1.xml.gz"
    half.write_bytes(raw[: len(raw) // 2])
    expected = complete_pmids(gunzip_prefix(half.read_bytes()))
    assert len(expected) == 86

    result = build(half, "--store", tmp_path / "s")
    assert result.exit_code == 3
    assert "86 articles" in result.output
    (line,) = errors(result.output)
    assert re.fullmatch(
        rf"kg: error: {re.escape(str(half))}: line 15809, column \d+: the gzip data is cut short "
        rf"\(the file ends at byte {len(raw) // 2}, inside a compressed stream\); XML breaks off "
        r"here \(Premature end of data in tag \w+ line \d+\); "
        r"the 86 articles before it were kept",
        line,
    ), line
    assert stored_pmids(tmp_path / "s") == expected

    # the same as reading the decompressed half as plain XML
    plain = tmp_path / "plain.xml"
    plain.write_bytes(gunzip_prefix(half.read_bytes()))
    assert build(plain, "--store", tmp_path / "p").exit_code == 3
    assert stored_pmids(tmp_path / "p") == expected


def test_small_cut_gzip_keeps_its_15_complete_records(tmp_path: Path) -> None:
    """Under one read's worth of data: the old reader lost every record of it."""
    xml = gzip.decompress(MEDSAMPLE.read_bytes())
    ends = [m.end() for m in re.finditer(rb"</PubmedArticle>", xml)]
    doc = xml[: ends[15] - 200]  # 15 whole records, then most of the 16th
    data = gzip.compress(doc, mtime=0)
    cut = tmp_path / "small.xml.gz"
    cut.write_bytes(data[:-12])  # no trailer, the last deflate bytes gone
    expected = complete_pmids(gunzip_prefix(cut.read_bytes()))
    assert len(expected) == 15

    result = build(cut, "--store", tmp_path / "s")
    assert result.exit_code == 3
    (line,) = errors(result.output)
    assert "the gzip data is cut short" in line and "the 15 articles before it were kept" in line
    assert re.search(r": line \d+, column \d+: ", line)
    assert stored_pmids(tmp_path / "s") == expected


@pytest.mark.parametrize("fraction", [0.05, 0.31, 0.77, 0.999])
def test_gzip_cut_anywhere_keeps_what_is_whole(tmp_path: Path, fraction: float) -> None:
    raw = MEDSAMPLE.read_bytes()
    cut = raw[: int(len(raw) * fraction)]
    records = list(read_file(_write(tmp_path / "cut.xml.gz", cut)))
    arts = sorted(r.pmid for r in records if isinstance(r, Article))
    assert arts == complete_pmids(gunzip_prefix(cut))
    (p,) = [r for r in records if isinstance(r, Problem)]
    assert p.fatal and f"ends at byte {len(cut)}" in p.message
    assert f"the {len(arts)} articles before it were kept" in p.message


def test_whole_gzip_members_one_after_another(tmp_path: Path) -> None:
    """Concatenated gzip members (as `cat a.gz b.gz` gives) are read through, none lost."""
    one = gzip.compress(AUTHOR_XML.read_bytes(), mtime=0)
    two = gzip.compress(SMALL[0].read_bytes(), mtime=0)
    records = list(read_file(_write(tmp_path / "two.xml.gz", one + two)))
    assert not [r for r in records if isinstance(r, Problem)]
    assert len([r for r in records if isinstance(r, Article)]) == 8


def test_gzip_crc_error_is_one_line(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(AUTHOR_XML.read_bytes(), mtime=0))
    data[-8] ^= 0xFF  # the CRC-32 of the trailer
    bad = _write(tmp_path / "crc.xml.gz", bytes(data))
    result = build(bad, "--store", tmp_path / "s")
    assert result.exit_code == 3
    (line,) = errors(result.output)
    assert line == (f"kg: error: {bad}: cannot read: Error -3 while decompressing data: "
                    "incorrect data check")


# --- 7. a MEDLINE file cut mid-record -------------------------------------------------------


def test_medline_cut_inside_the_third_abstract(tmp_path: Path) -> None:
    raw = AUTHOR_TXT.read_bytes()
    start = raw.index(b"PMID- 30037276")
    cut = _write(tmp_path / "cut.txt", raw[: raw.index(b"DESIGN", start) + len(b"DESIGN")])
    result = build(cut, "--store", tmp_path / "s")
    assert result.exit_code == 3
    assert "1 records skipped:" in result.output
    assert (
        f"  {cut}: PMID 30037276: the file ends inside this record (line 201 is cut short); "
        "record skipped"
    ) in result.output.splitlines()
    assert stored_pmids(tmp_path / "s") == ["30037913", "30038832", "30038950"]


def test_medline_cut_at_a_line_end(tmp_path: Path) -> None:
    raw = AUTHOR_TXT.read_bytes()
    start = raw.index(b"PMID- 30037276")
    at = raw.rindex(b"\r\n", start, raw.index(b"DESIGN", start)) + 2
    cut = _write(tmp_path / "cut.txt", raw[:at])
    result = build(cut, "--store", tmp_path / "s")
    assert result.exit_code == 3
    assert (
        f"  {cut}: PMID 30037276: record has no SO field, which ends every MEDLINE record "
        "(cut short after line 200?); record skipped"
    ) in result.output.splitlines()
    assert stored_pmids(tmp_path / "s") == ["30037913", "30038832", "30038950"]


def test_medline_whole_file_without_final_newline_is_complete(tmp_path: Path) -> None:
    whole = _write(tmp_path / "whole.txt", AUTHOR_TXT.read_bytes().rstrip(b"\r\n"))
    result = build(whole, "--store", tmp_path / "s")
    assert result.exit_code == 0, result.output
    assert stored_pmids(tmp_path / "s") == AUTHOR_PMIDS


def test_medline_gzip_cut_mid_record(tmp_path: Path) -> None:
    raw = AUTHOR_TXT.read_bytes()
    data = gzip.compress(raw, mtime=0)
    cut = _write(tmp_path / "cut.txt.gz", data[: len(data) // 2])
    prefix = gunzip_prefix(cut.read_bytes())
    whole = re.findall(rb"^PMID- (\d+)\r\n(?:(?!^PMID- ).)*?^SO  - ", prefix, flags=re.S | re.M)
    result = build(cut, "--store", tmp_path / "s")
    assert result.exit_code == 3
    assert stored_pmids(tmp_path / "s") == sorted(p.decode() for p in whole)
    (line,) = errors(result.output)
    assert "the gzip data is cut short" in line
    assert f"the {len(whole)} records before the cut were kept" in line


# --- 11. standard input, pipes, FIFOs; unreadable files; UTF-16 ------------------------------


def test_dash_reads_standard_input(tmp_path: Path) -> None:
    result = build("-", SMALL[0], "--store", tmp_path / "s", "-j", "2",
                   input=MEDSAMPLE.read_bytes())
    assert result.exit_code == 0, result.output
    assert "2 files · 171 articles" in result.output
    assert len(stored_pmids(tmp_path / "s")) == 171


def test_pipe_into_dev_stdin_as_real_process(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent)}
    for name in ("/dev/stdin", "-"):
        store = tmp_path / name.strip("/").replace("/", "_")
        run = subprocess.run(
            [sys.executable, "-m", "kg", "build", name, str(SMALL[1]), "--store", str(store),
             "-j", "2"],
            input=AUTHOR_XML.read_bytes(), capture_output=True, env=env, check=False,
        )
        assert run.returncode == 0, run.stderr
        assert b"2 files \xc2\xb7 8 articles" in run.stdout
        assert b"kg: error" not in run.stderr and b"Traceback" not in run.stderr
        assert set(AUTHOR_PMIDS) <= set(stored_pmids(store))


def test_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "records.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(AUTHOR_TXT.read_bytes()))
    writer.start()
    try:
        result = build(fifo, SMALL[0], "--store", tmp_path / "s", "-j", "2")
    finally:
        writer.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert set(AUTHOR_PMIDS) <= set(stored_pmids(tmp_path / "s"))


@pytest.fixture
def unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A record file that cannot be opened: mode 000, or (as root, who reads anything) one whose
    opening raises PermissionError as it would (in this process: build with -j 1)."""
    path = _write(tmp_path / "in" / "b_unreadable.xml", SMALL[1].read_bytes())
    path.chmod(0)
    if os.geteuid() == 0:
        real_open = Path.open

        def open_(self: Path, *args: Any, **kwargs: Any) -> Any:
            if self.resolve() == path.resolve():
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", open_)
    return path


def test_unreadable_file_under_recursive_is_one_line(tmp_path: Path, unreadable: Path) -> None:
    _write(tmp_path / "in" / "a.xml", SMALL[0].read_bytes())
    _write(tmp_path / "in" / "c.txt", AUTHOR_TXT.read_bytes())
    result = build("-r", tmp_path / "in", "--store", tmp_path / "s", "-j", "1")
    assert result.exit_code == 3
    assert errors(result.output) == [f"kg: error: {unreadable}: cannot open: Permission denied"]
    assert len(stored_pmids(tmp_path / "s")) == 8  # a.xml's one and c.txt's seven


def test_unreadable_file_named_is_exit_3_not_usage(tmp_path: Path, unreadable: Path) -> None:
    result = build(unreadable, SMALL[0], "--store", tmp_path / "s", "-j", "1")
    assert result.exit_code == 3
    assert errors(result.output) == [f"kg: error: {unreadable}: cannot open: Permission denied"]
    assert len(stored_pmids(tmp_path / "s")) == 1


def test_unreadable_directory_under_recursive_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory -r cannot list is named, not skipped without a word."""
    _write(tmp_path / "in" / "a.xml", SMALL[0].read_bytes())
    locked = tmp_path / "in" / "locked"
    _write(locked / "c.txt", AUTHOR_TXT.read_bytes())
    locked.chmod(0)
    if os.geteuid() == 0:  # root lists anything: make listing it fail as it would
        real_scandir = os.scandir

        def scandir(path: Any = ".") -> Any:
            if isinstance(path, str | os.PathLike) and Path(path).resolve() == locked.resolve():
                raise PermissionError(13, "Permission denied", str(path))
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", scandir)
    try:
        result = build("-r", tmp_path / "in", "--store", tmp_path / "s", "-j", "1")
    finally:
        locked.chmod(0o755)
    assert result.exit_code == 3
    assert errors(result.output) == [
        f"kg: error: {locked}: cannot list the directory: Permission denied"
    ]
    assert len(stored_pmids(tmp_path / "s")) == 1


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_xml_is_read(tmp_path: Path, encoding: str) -> None:
    text = AUTHOR_XML.read_bytes().decode("utf-8")
    src = _write(tmp_path / "u16.xml", text.encode(encoding))
    result = build(src, "--store", tmp_path / "s")
    assert result.exit_code == 0, result.output
    assert stored_pmids(tmp_path / "s") == AUTHOR_PMIDS
    utf8 = [r for r in read_file(AUTHOR_XML) if isinstance(r, Article)]
    utf16 = [r for r in read_file(src) if isinstance(r, Article)]
    assert [a.abstract for a in utf16] == [a.abstract for a in utf8]


# --- 12. exit codes and messages ------------------------------------------------------------


def test_skipped_records_exit_3_and_30_are_20_named_and_10_more(tmp_path: Path) -> None:
    xml = gzip.decompress(MEDSAMPLE.read_bytes())
    n = 0

    def spoil(m: re.Match[bytes]) -> bytes:
        nonlocal n
        n += 1
        return m.group(1) + (b"x" if n <= 30 else b"") + m.group(2)

    bad = _write(tmp_path / "bad30.xml",
                 re.sub(rb"(<MedlineCitation[^>]*>\s*<PMID[^>]*>)(\d+</PMID>)", spoil, xml))
    result = build(bad, "--store", tmp_path / "s")
    assert result.exit_code == 3
    lines = result.output.splitlines()
    at = lines.index("30 records skipped:")
    named = lines[at + 1 : at + 21]
    assert all(re.fullmatch(rf"  {re.escape(str(bad))}: record PubmedArticle: no valid PMID "
                            r"\('x\d+'\)", line) for line in named), named
    assert lines[at + 21] == "  and 10 more"
    assert len(stored_pmids(tmp_path / "s")) == 140


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<foo/>\n", "not PubMed XML: the root element is <foo>, not <PubmedArticleSet>"),
        (
            b'<?xml version="1.0"?>\n<eFetchResult>\n\t<ERROR>Empty id list - nothing todo'
            b"</ERROR>\n</eFetchResult>\n",
            "not PubMed XML: the root element is <eFetchResult>, not <PubmedArticleSet>",
        ),
        (
            b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>502 Bad "
            b"Gateway</title></head><body><h1>Bad Gateway</h1><p>Try again later.<br></p>"
            b"</body></html>\n",
            "an HTML page (an error page?), not PubMed XML",
        ),
    ],
)
def test_a_file_without_pubmed_records_is_an_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    src = _write(tmp_path / "answer.xml", content)
    result = build(src, SMALL[0], "--store", tmp_path / "s")
    assert result.exit_code == 3
    assert errors(result.output) == [f"kg: error: {src}: {message}"]
    assert len(stored_pmids(tmp_path / "s")) == 1


def test_an_empty_result_set_is_not_an_error(tmp_path: Path) -> None:
    result = build(DATA / "xml" / "ncbiutils__duplicate.xml", "--store", tmp_path / "s")
    assert result.exit_code == 0 and "0 articles" in result.output


def test_cdata_echo_stays_on_one_line(tmp_path: Path) -> None:
    raw = AUTHOR_XML.read_bytes()
    at = raw.index(b"<AbstractText", raw.index(b"30037276"))
    src = _write(tmp_path / "cdata.xml",
                 raw[:at] + b"<AbstractText><![CDATA[one\r\ntwo\n\x1b[31m red")
    result = build(src, "--store", tmp_path / "s")
    assert result.exit_code == 3
    (line,) = errors(result.output)
    assert "XML breaks off here (CData section not finished\\none\\nt" in line  # echo, escaped
    assert not [x for x in result.output.splitlines() if x.startswith(("one", "two", " red"))]
    assert "\x1b" not in result.output
    assert stored_pmids(tmp_path / "s") == ["30037913", "30038832", "30038950"]


def test_one_line_escapes_control_characters() -> None:
    assert one_line("a\nb\r\x1b[31m\u2028c\td") == "a\\nb\\r\\x1b[31m\\u2028c\\td"
    assert one_line("ünïcödé 中文") == "ünïcödé 中文"


def test_doi_with_a_space_is_reported_and_the_record_kept(tmp_path: Path) -> None:
    raw = AUTHOR_XML.read_bytes().replace(b"10.1177/2333721418778199",
                                          b"10.1177/ 2333721418778199")
    src = _write(tmp_path / "doi.xml", raw)
    result = build(src, "--store", tmp_path / "s")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(re.fullmatch(r"\d+ records kept with something left out:", x) for x in lines)
    assert (
        f"  {src}: PMID 30038950: DOI '10.1177/ 2333721418778199' is not a DOI (10.NNNN/… "
        "without spaces); left out, record kept"
    ) in lines
    assert stored_pmids(tmp_path / "s") == AUTHOR_PMIDS
    st = pyoxigraph.Store.read_only(str(tmp_path / "s" / "current"))
    dois = [str(q.object.value) for q in st.quads_for_pattern(
        None, pyoxigraph.NamedNode("http://prismstandard.org/namespaces/basic/2.0/doi"), None)
        if isinstance(q.object, pyoxigraph.Literal)]
    others = [r.doi for r in read_file(AUTHOR_XML)
              if isinstance(r, Article) and r.doi and r.pmid != "30038950"]
    assert sorted(dois) == sorted(others)


def test_parallel_build_with_a_kg_folder_in_the_working_directory(tmp_path: Path) -> None:
    """The fork server starts as `python -c`, with the working directory first on sys.path:
    a folder named kg there must not replace the package in the workers."""
    work = tmp_path / "work"
    (work / "kg").mkdir(parents=True)
    (work / "kg" / "__init__.py").write_text("")
    script = _write(tmp_path / "bin" / "run_kg.py",
                    b"import sys\nfrom kg.cli import main\n"
                    b"if __name__ == '__main__':\n    sys.exit(main())\n")
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent.resolve())}
    env.pop("PYTHONSAFEPATH", None)
    run = subprocess.run(
        [sys.executable, str(script), "build", *map(str, SMALL), "--store", "s", "-j", "2"],
        cwd=work, capture_output=True, text=True, env=env, check=False, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "2 files · 2 articles" in run.stdout and "Traceback" not in run.stderr


def test_help_and_readme_state_exit_code_3_for_skipped_input() -> None:
    out = CliRunner().invoke(main, ["build", "--help"]).output
    assert "3 failure (bad input, I/O)" in out and "exit code 3" in out
    readme = (TESTS.parent / "README.md").read_text()
    assert "**3** failure: bad input" in readme


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
