"""MEDLINE text parser, on real NCBI records.

Files are in tests/data/medline; the whole corpus is read too when ../shared is there.
"""

from __future__ import annotations

import gzip
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from kg.models import (
    AbstractSection,
    Affiliation,
    Article,
    CommentCorrection,
    Grant,
    MeshHeading,
    MeshQualifier,
    Problem,
    PubDate,
    Record,
    SupplementaryConcept,
)
from kg.parse.medline import _pub_date, iter_records

DATA = Path(__file__).parent / "data" / "medline"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pubmed"


def parse(data: bytes, source: str = "test") -> list[Record]:
    return list(iter_records(io.BytesIO(data), source=source))


def records(name: str) -> list[Record]:
    with (DATA / name).open("rb") as fh:
        return list(iter_records(fh, source=name))


def articles(recs: list[Record]) -> list[Article]:
    assert not [r for r in recs if not isinstance(r, Article)]
    return [r for r in recs if isinstance(r, Article)]


def only(recs: Sequence[Record], pmid: str) -> Article:
    (a,) = [r for r in recs if isinstance(r, Article) and r.pmid == pmid]
    return a


def record_lines(name: str, pmid: str) -> list[bytes]:
    """The raw lines (with their endings) of one record of a test file."""
    lines = (DATA / name).read_bytes().splitlines(keepends=True)
    out: list[bytes] = []
    inside = False
    for line in lines:
        if line.startswith(f"PMID- {pmid}".encode()):
            inside = True
        elif inside and not line.strip():
            break
        if inside:
            out.append(line)
    assert out, pmid
    return out


# --- whole files ------------------------------------------------------------------------------


def test_single_record_file() -> None:
    (a,) = articles(records("biopython__pubmed_result1.txt"))
    assert a.pmid == "12230038"
    assert a.source == "biopython__pubmed_result1.txt"
    assert a.source_format == "medline"
    assert a.status == "MEDLINE"
    assert a.title == "The Bio* toolkits--a brief overview."
    assert a.abstract_text.startswith(
        "Bioinformatics research is often difficult to do with commercial software. The Open "
        "Source BioPerl"
    )
    assert a.abstract_text.endswith("point of view of the beginning biologist programmer.")
    assert len(a.abstract) == 1 and a.abstract[0].label is None
    assert a.pub_date == PubDate(year=2002, month=9)
    assert a.journal is not None
    assert a.journal.issn == "1467-5463" and a.journal.issn_type == "Print"
    assert a.journal.title == "Briefings in bioinformatics"
    # TA is NLM's abbreviation (XML's MedlineTA); MEDLINE text has no ISO abbreviation
    assert a.journal.medline_ta == "Brief Bioinform" and a.journal.iso_abbreviation is None
    assert a.journal.nlm_id == "100912837"
    assert (a.volume, a.issue, a.pages) == ("3", "3", "296-302")
    assert a.languages == ("eng",)
    assert [p.name for p in a.publication_types] == ["Journal Article"]
    assert all(p.ui is None for p in a.publication_types)
    # The affiliation printed before the author (older records) goes to the first author.
    (au,) = a.authors
    assert (au.last_name, au.fore_name, au.initials) == ("Mangalam", "Harry", "H")
    assert au.affiliations == (
        Affiliation(name="tacg Informatics, Irvine, CA 92612, USA. hjm@tacgi.com"),
    )
    assert [(m.descriptor_name, m.major_topic) for m in a.mesh_headings] == [
        ("Computational Biology", True),
        ("Computer Systems", False),
        ("Humans", False),
        ("Internet", False),
        ("Programming Languages", True),
        ("Software", True),
        ("User-Computer Interface", False),
    ]
    assert all(m.descriptor_ui is None and not m.qualifiers for m in a.mesh_headings)
    assert a.doi is None and a.pmc is None and a.electronic_date is None


def test_crlf_file() -> None:
    arts = articles(records("Pubmed_Author_Ranking__pubmed_result.txt"))
    assert b"\r\n" in (DATA / "Pubmed_Author_Ranking__pubmed_result.txt").read_bytes()
    assert [a.pmid for a in arts] == [
        "30038950",
        "30038832",
        "30037913",
        "30037276",
        "30036691",
        "30035189",
        "30034368",
    ]
    for a in arts:
        affiliations = [x.name for au in a.authors for x in au.affiliations]
        for text in (a.title or "", a.abstract_text, *affiliations):
            assert "\r" not in text and "  " not in text
    a = only(arts, "30038950")
    assert a.title == (
        "Association Between Cancer and Utilization of Traditional Chinese Medicine in "
        "U.S. Chinese Women: Findings From the PINE Study."
    )
    assert a.status == "PubMed-not-MEDLINE"
    assert a.pub_date == PubDate(year=2018, text="2018 Jan-Dec")
    assert a.electronic_date == PubDate(year=2018, month=7, day=17)
    assert a.doi == "10.1177/2333721418778199"
    assert a.pii == "10.1177_2333721418778199"
    assert a.pmc == "PMC6050798"
    assert a.pages == "2333721418778199"
    assert [(au.last_name, au.fore_name, au.initials) for au in a.authors] == [
        ("Dong", "XinQi", "X"),
        ("Jiang", "Jialing", "J"),
    ]
    rush = (Affiliation("Rush University, Chicago, IL, USA."),)
    assert all(au.affiliations == rush for au in a.authors)
    assert [(k.text, k.owner) for k in a.keywords][:2] == [
        ("U.S. Chinese older women", "NOTNLM"),
        ("cancer", "NOTNLM"),
    ]
    # Trailing spaces before a line break do not double the space.
    assert "between their cancer screening behaviors" in a.abstract_text


def test_mixed_case_labels_are_split_as_xml_has_them() -> None:
    """An abstract that starts with a mixed-case label is structured: PubMed XML labels the
    same record "Background", "Purpose", "Study design", "Materials/Methods", …"""
    a = only(records("Pubmed_Author_Ranking__pubmed_result.txt"), "30038832")
    assert a.title == (
        "SHORT-TERM EFFECTS OF TRIGGER POINT DRY NEEDLING ON PAIN AND DISABILITY IN "
        "SUBJECTS WITH PATELLOFEMORAL PAIN SYNDROME."
    )
    assert [s.label for s in a.abstract] == [
        "Background",
        "Purpose",
        "Study design",
        "Materials/Methods",
        "Results",
        "Conclusion",
        "Level of Evidence",
    ]
    assert a.abstract[0].text.startswith("Patellofemoral pain syndrome (PFPS)")
    assert a.abstract[2].text == "Randomized trial."
    assert a.abstract[-1].text == "2."
    # An affiliation continued over two lines is one affiliation.
    assert a.authors[4].affiliations == (
        Affiliation(
            "Physical Therapy Clinic, Blanchfield Army Community Hospital, Fort Campbell, KY, USA."
        ),
    )


# --- the excerpt: whole records cut from the larger files ---------------------------------------


def test_excerpt_counts() -> None:
    arts = articles(records("excerpt_records.nbib"))
    assert [a.pmid for a in arts] == [
        "30485787",
        "30311156",
        "30291029",
        "18624008",
        "19133053",
        "20920926",
    ]


def test_structured_abstract_and_orcid() -> None:
    a = only(records("excerpt_records.nbib"), "30485787")
    assert [s.label for s in a.abstract] == [
        "OBJECTIVE",
        "MATERIAL AND METHODS",
        "RESULTS",
        "CONCLUSION",
    ]
    assert all(s.nlm_category is None for s in a.abstract)
    assert a.abstract[0] == AbstractSection(
        text=(
            "To investigate the factors to predict Gleason score upgrading (GSU) of patients "
            "with prostate cancer who were evaluated by using the International Society for "
            "Urological Pathology (ISUP) 2014 Gleason grading system."
        ),
        label="OBJECTIVE",
    )
    assert a.abstract[1].text.startswith("Between January 2008 and December 2015, we")
    assert a.abstract[-1].text.endswith("development of aggressive disease.")
    assert a.abstract_text.count("\n") == 3
    assert len(a.authors) == 7
    first = a.authors[0]
    assert (first.last_name, first.fore_name, first.initials) == ("Turan", "Turgay", "T")
    assert first.orcid == "0000-0002-4951-6396"
    assert first.affiliations == (
        Affiliation("Department of Urology, Istanbul Medeniyet University, Istanbul, Turkey."),
    )
    assert a.authors[6].orcid == "0000-0002-3386-971X"
    assert a.doi == "10.5152/tud.2018.57946"
    assert a.pii == "tud.2018.57946"
    assert a.pub_date == PubDate(year=2018, month=8, day=17)
    assert a.electronic_date == PubDate(year=2018, month=8, day=17)
    assert a.status == "Publisher"
    assert a.journal is not None and a.journal.issn == "2149-3235"


def test_collective_author_and_investigators() -> None:
    a = only(records("excerpt_records.nbib"), "30311156")
    assert [s.label for s in a.abstract] == ["BACKGROUND/AIMS", "METHODS", "RESULTS", "CONCLUSIONS"]
    assert len(a.authors) == 11  # ten persons and the group; the 15 investigators are not authors
    group = a.authors[-1]
    assert group.collective_name == "Northern Cyprus Celiac Study Group"
    assert group.last_name is None and group.display_name == "Northern Cyprus Celiac Study Group"
    assert a.authors[2].last_name == "Cullu Cokugras" and a.authors[2].initials == "F"
    assert a.authors[0].affiliations == (
        Affiliation(
            "Division of Pediatric Gastroenterology, Hepatology, and Nutrition, Department of "
            "Pediatrics, University of Health Sciences, Okmeydani Education and Training "
            "Hospital, Istanbul, Turkey. ofbeser@gmail.com."
        ),
    )
    assert "Karbuz" not in {au.last_name for au in a.authors}


def test_investigator_affiliation_is_not_an_author_affiliation() -> None:
    lines = record_lines("excerpt_records.nbib", "30311156")
    ad = next(line for line in lines if line.startswith(b"AD  - Cyprus Turkish"))
    at = next(i for i, line in enumerate(lines) if line.startswith(b"FIR - Karbuz"))
    a = articles(parse(b"".join([*lines[: at + 1], ad, *lines[at + 1 :]])))[0]
    kucur = next(au for au in a.authors if au.last_name == "Kucur")
    assert len(kucur.affiliations) == 1
    assert a.authors[-1].affiliations == ()


def test_grants_suffix_and_ids() -> None:
    a = only(records("excerpt_records.nbib"), "30291029")
    assert a.title == (
        "Regulatory T Cells Promote Macrophage Efferocytosis during Inflammation Resolution."
    )
    assert a.grants[0] == Grant(
        grant_id="R01 HL122730", acronym="HL", agency="NHLBI NIH HHS", country="United States"
    )
    assert len(a.grants) == 7
    yurdagul = a.authors[3]
    assert (yurdagul.last_name, yurdagul.fore_name, yurdagul.initials, yurdagul.suffix) == (
        "Yurdagul",
        "Arif",
        "A",
        "Jr",
    )
    assert a.authors[4].affiliations == (
        Affiliation(
            "Department of Medicine, Columbia University, New York, NY 10032, USA; Department "
            "of Biochemistry, Marmara University, Istanbul, Turkey."
        ),
    )
    # AID is preferred to LID; both carry the same ids here.
    assert a.doi == "10.1016/j.immuni.2018.07.015"
    assert a.pii == "S1074-7613(18)30335-2"
    assert a.pmc == "PMC6192849"
    assert a.pages == "666-677.e6"
    assert a.copyright == "Copyright (c) 2018 Elsevier Inc. All rights reserved."
    assert a.pub_date == PubDate(year=2018, month=10, day=16)
    assert a.electronic_date == PubDate(year=2018, month=10, day=2)
    assert a.journal is not None
    assert (a.journal.issn, a.journal.issn_type) == ("1097-4180", "Electronic")
    assert [k.text for k in a.keywords] == [
        "efferocytosis",
        "inflammation resolution",
        "macrophages",
        "regulatory T cells",
    ]


def test_comments_mesh_qualifiers_and_chemicals() -> None:
    a = only(records("excerpt_records.nbib"), "18624008")
    assert a.title == (
        "[Progressive, ascending neurological impairment: a spinal epidural abscess that "
        "presents as Guillain-Barre syndrome]."
    )
    assert a.vernacular_title == (
        "Progressieve, opstijgende neurologische uitval: een spinaal epiduraal abces dat "
        "zich presenteert als het syndroom van Guillain-Barre."
    )
    assert a.languages == ("dut",)
    assert a.comments_corrections == (
        CommentCorrection(
            ref_type="CommentIn",
            ref_source="Ned Tijdschr Geneeskd. 2008 Jun 21;152(25):1431-5",
            pmid="18624007",
        ),
        CommentCorrection(  # the PMID is on a continuation line
            ref_type="CommentIn",
            ref_source="Ned Tijdschr Geneeskd. 2008 Oct 11;152(41):2258; author reply 2258-9",
            pmid="19009817",
        ),
    )
    assert a.mesh_headings[0] == MeshHeading(
        descriptor_name="Abscess",
        qualifiers=(
            MeshQualifier("drug therapy"),
            MeshQualifier("etiology", major_topic=True),
            MeshQualifier("pathology"),
            MeshQualifier("surgery"),
        ),
    )
    assert not a.mesh_headings[0].major_topic and a.mesh_headings[0].is_major
    assert a.mesh_headings[3] == MeshHeading(descriptor_name="Epidural Space", major_topic=True)
    assert a.chemicals[0].name == "Anti-Bacterial Agents"
    assert a.chemicals[0].registry_number == "0"
    assert [p.name for p in a.publication_types] == ["English Abstract", "Journal Article"]
    assert [(au.last_name, au.fore_name, au.initials) for au in a.authors] == [
        ("Snijders", "T J", "TJ"),
        ("Notermans", "N C", "NC"),
    ]


def test_erratum_and_comment_on() -> None:
    recs = records("excerpt_records.nbib")
    erratum = only(recs, "19133053").comments_corrections
    assert erratum == (
        CommentCorrection(
            ref_type="ErratumIn",
            ref_source=(
                "Aust N Z J Obstet Gynaecol. 2009 Jun;49(3):253. Kornman, Tony [corrected to "
                "Korman, Tony M]"
            ),
        ),
    )
    a = only(recs, "20920926")
    assert a.comments_corrections == (
        CommentCorrection(
            ref_type="CommentOn",
            ref_source="World Neurosurg. 2010 May;73(5):560-4",
            pmid="20920943",
        ),
    )
    assert a.abstract == ()
    assert a.mesh_headings[1].qualifiers == (
        MeshQualifier("administration & dosage"),
        MeshQualifier("therapeutic use", major_topic=True),
    )
    assert a.authors[0].last_name == "van Dellen" and a.authors[0].initials == "JR"


# --- input shapes -----------------------------------------------------------------------------


def test_bom_and_crlf_give_the_same_records() -> None:
    raw = (DATA / "biopython__pubmed_result1.txt").read_bytes()
    plain = parse(raw)
    assert parse(b"\xef\xbb\xbf" + raw) == plain
    assert parse(b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n")) == plain
    assert parse(raw.lstrip(b"\n")) == plain  # no leading blank line


def test_gzip_stream() -> None:
    raw = (DATA / "excerpt_records.nbib").read_bytes()
    with gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(raw)), mode="rb") as fh:
        assert len(list(iter_records(cast(BinaryIO, fh), source="x.nbib.gz"))) == 6


def test_empty_input_gives_nothing() -> None:
    assert parse(b"") == []
    assert parse(b"\n\r\n  \n") == []
    assert parse(b"\xef\xbb\xbf") == []


def test_not_medline_is_one_fatal_problem() -> None:
    xml = Path(__file__).parent / "data" / "xml" / "ncbiutils__duplicate.xml"
    data = xml.read_bytes() if xml.exists() else b'<?xml version="1.0"?>\n<PubmedArticleSet/>\n'
    (p,) = parse(data + b"\n\n" + (DATA / "biopython__pubmed_result1.txt").read_bytes(), "x.xml")
    assert isinstance(p, Problem) and p.fatal
    assert p.source == "x.xml" and p.where == "record 1"
    assert "MEDLINE" in p.message


def test_broken_records_in_the_middle() -> None:
    """A stray line, a record without PMID: each gives a Problem and the rest still parses."""
    lines = record_lines("excerpt_records.nbib", "30311156")
    bad_line_at = 7  # after the IS/DP lines; line numbers below count from 1 in the input
    stray = b"This line is neither a tag nor a continuation.\n"
    broken = [*lines[:bad_line_at], stray, *lines[bad_line_at:]]
    no_pmid = record_lines("excerpt_records.nbib", "20920926")[1:]
    first = (DATA / "biopython__pubmed_result1.txt").read_bytes()  # starts with "\n", 42 lines
    last = record_lines("excerpt_records.nbib", "19133053")
    data = first + b"\n" + b"".join(broken) + b"\n" + b"".join(no_pmid) + b"\n" + b"".join(last)
    recs = parse(data, "mixed.txt")
    assert [type(r).__name__ for r in recs] == ["Article", "Problem", "Problem", "Article"]
    assert isinstance(recs[0], Article) and recs[0].pmid == "12230038"
    p1, p2 = recs[1], recs[2]
    assert isinstance(p1, Problem) and isinstance(p2, Problem)
    assert not p1.fatal and not p2.fatal
    start = first.count(b"\n") + 2  # the blank separator line, then the record's first line
    assert p1.where == f"PMID 30311156, line {start + bad_line_at}"
    assert p2.where == "record 3"
    assert isinstance(recs[3], Article) and recs[3].pmid == "19133053"
    assert recs[3].title == "Primary psoas muscle abscess in pregnancy."
    assert len(recs[3].mesh_headings) == 16


def test_record_cut_short_is_skipped_not_stored() -> None:
    """NLM ends every record with SO: a record without it, or that the file ends inside of,
    is a Problem naming its PMID, and never an Article with a cut abstract."""
    whole = record_lines("excerpt_records.nbib", "19133053")
    cut = record_lines("excerpt_records.nbib", "18624008")
    ab = next(i for i, line in enumerate(cut) if line.startswith(b"AB  - "))
    at_line_end = b"".join(whole) + b"\n" + b"".join(cut[: ab + 2])
    (a, p) = parse(at_line_end, "cut.nbib")
    assert isinstance(a, Article) and a.pmid == "19133053"
    assert isinstance(p, Problem) and not p.fatal and p.where == "PMID 18624008"
    assert p.message.startswith("record has no SO field") and p.message.endswith("skipped")
    mid_line = at_line_end + cut[ab + 2][:20]
    (a, p) = parse(mid_line, "cut.nbib")
    assert isinstance(p, Problem) and p.where == "PMID 18624008"
    assert p.message.startswith("the file ends inside this record")
    # the same record whole, without a final line break, is complete
    (a, b) = articles(parse(b"".join(whole) + b"\n" + b"".join(cut).rstrip(b"\r\n")))
    assert b.pmid == "18624008" and b.abstract_text.endswith(".")


def test_records_without_blank_line_between_are_split() -> None:
    a = record_lines("excerpt_records.nbib", "19133053")
    b = record_lines("excerpt_records.nbib", "20920926")
    arts = articles(parse(b"".join(a + b)))
    assert [x.pmid for x in arts] == ["19133053", "20920926"]


class _CountingStream(io.RawIOBase):
    """A binary stream that counts the lines handed out, to show the parser streams."""

    def __init__(self, data: bytes) -> None:
        self.lines = data.splitlines(keepends=True)
        self.given = 0

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> bytes:
        if self.given >= len(self.lines):
            return b""
        line = self.lines[self.given]
        self.given += 1
        return line


def test_streams_one_record_at_a_time() -> None:
    data = (DATA / "excerpt_records.nbib").read_bytes()
    stream = _CountingStream(data)
    it = iter_records(cast(BinaryIO, stream), source="s")
    first = next(it)
    assert isinstance(first, Article) and first.pmid == "30485787"
    first_record_lines = len(record_lines("excerpt_records.nbib", "30485787"))
    assert stream.given <= first_record_lines + 3
    assert len(list(it)) == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2002 Sep", PubDate(year=2002, month=9)),
        ("2013 Oct 2", PubDate(year=2013, month=10, day=2)),
        ("2018", PubDate(year=2018)),
        ("1998 Dec-1999 Jan", PubDate(year=1998, text="1998 Dec-1999 Jan")),
        ("2018 Jul - Sep", PubDate(year=2018, text="2018 Jul - Sep")),
        ("2001 Spring", PubDate(year=2001, season="Spring", text="2001 Spring")),
    ],
)
def test_publication_dates(text: str, expected: PubDate) -> None:
    assert _pub_date(text) == expected


# --- the shared corpus ------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.skipif(not (SHARED / "medline").is_dir(), reason="shared corpus not present")
def test_whole_medline_corpus() -> None:
    total = 0
    for path in sorted((SHARED / "medline").iterdir()):
        with path.open("rb") as fh:
            recs = list(iter_records(fh, source=path.name))
        problems = [r for r in recs if isinstance(r, Problem)]
        assert not problems, problems[:3]
        arts = articles(recs)
        assert all(a.pmid.isdigit() and a.title for a in arts), path.name
        assert len({a.pmid for a in arts}) == len(arts)
        total += len(arts)
    assert total == 505


_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "ı": "i",
        "®": "R",
        "©": "c",
        "°": "degrees",
        "α": "alpha",
        "β": "beta",
        "γ": "gamma",
        "χ": "chi",
    }
)


def _fold(text: str | None) -> str:
    """ASCII letters and digits only: MEDLINE text transliterates what XML keeps (é, ±, °)."""
    text = (text or "").translate(_LETTERS)
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in norm.lower() if c.isalnum())


XML_TWIN = SHARED / "xml" / "pubmed_result" / "p1m-ortho-qs-global__pubmed_result.xml.gz"


def assert_same_record(m: Article, x: Article) -> None:
    """What MEDLINE text (``m``) and PubMed XML (``x``) of one record must both say."""
    pmid = m.pmid
    for attr in (
        "doi",
        "pii",
        "pmc",
        "status",
        "volume",
        "issue",
        "pages",
        "pub_date",
        "electronic_date",
        "languages",
        "grants",
        "comments_corrections",
        "chemicals",
    ):
        got, want = getattr(m, attr), getattr(x, attr)
        if attr == "comments_corrections":  # XML moves the erratum's note out of RefSource
            got = tuple((c.ref_type, c.pmid) for c in got)
            want = tuple((c.ref_type, c.pmid) for c in want)
        if attr == "chemicals":  # MEDLINE text has no UIs
            want = tuple(replace(c, ui=None) for c in want)
        assert got == want, (pmid, attr)
    assert [
        (h.descriptor_name, h.major_topic, [(q.name, q.major_topic) for q in h.qualifiers])
        for h in m.mesh_headings
    ] == [
        (h.descriptor_name, h.major_topic, [(q.name, q.major_topic) for q in h.qualifiers])
        for h in x.mesh_headings
    ], pmid
    # a supplementary concept is one in both, never a chemical in one of them
    assert [c.name for c in m.supplementary_concepts] == [
        c.name for c in x.supplementary_concepts
    ], pmid
    assert [p.name for p in m.publication_types] == [p.name for p in x.publication_types]
    assert [_fold(a.display_name) for a in m.authors] == [
        _fold(a.display_name) for a in x.authors
    ], pmid
    assert [len(a.affiliations) for a in m.authors] == [len(a.affiliations) for a in x.authors]
    assert _fold(m.title) == _fold(x.title), pmid
    # the same sections under the same labels (ALL-CAPS, mixed-case and bold ones alike)
    assert [s.label for s in m.abstract] == [s.label for s in x.abstract], pmid
    assert [_fold(s.text) for s in m.abstract] == [_fold(s.text) for s in x.abstract], pmid
    assert m.journal is not None and x.journal is not None
    # TA is XML's MedlineTA (NLM's abbreviation), not its ISO abbreviation
    assert (m.journal.title, m.journal.medline_ta, m.journal.iso_abbreviation) == (
        x.journal.title,
        x.journal.medline_ta,
        None,
    ), pmid
    assert (m.journal.issn, m.journal.issn_type, m.journal.nlm_id) == (
        x.journal.issn,
        x.journal.issn_type,
        x.journal.nlm_id,
    )


def test_agrees_with_the_same_records_in_xml_here() -> None:
    """Pubmed_Author_Ranking: 7 records as XML and as MEDLINE text (mixed-case and bold labels)."""
    from kg.parse.pubmed_xml import iter_records as iter_xml

    path = Path(__file__).parent / "data" / "xml" / "Pubmed_Author_Ranking__pubmed_result.xml"
    with path.open("rb") as fh:
        xml = {a.pmid: a for a in iter_xml(fh, source="x") if isinstance(a, Article)}
    med = {a.pmid: a for a in articles(records("Pubmed_Author_Ranking__pubmed_result.txt"))}
    assert set(med) == set(xml) and len(med) == 7
    for pmid, m in med.items():
        assert_same_record(m, xml[pmid])


def test_supplementary_concept_is_no_chemical() -> None:
    """``RN - IFL protocol`` (no registry number) is the XML's SupplMeshName, not a substance."""
    from kg.parse.pubmed_xml import iter_records as iter_xml

    (m,) = articles(records("22202258_suppl_mesh.nbib"))
    with (Path(__file__).parent / "data" / "xml" / "22202258_suppl_mesh.xml").open("rb") as fh:
        (x,) = [a for a in iter_xml(fh, source="x") if isinstance(a, Article)]
    assert m.supplementary_concepts == (SupplementaryConcept(name="IFL protocol"),)
    assert [c.name for c in m.chemicals] == ["Leucovorin", "Fluorouracil", "Camptothecin"]
    assert_same_record(m, x)


@pytest.mark.shared
@pytest.mark.skipif(not XML_TWIN.exists(), reason="shared corpus not present")
def test_agrees_with_the_same_records_in_xml() -> None:
    """p1m-ortho-qs-global: 292 records exported both as XML and as MEDLINE text."""
    from kg.parse.pubmed_xml import iter_records as iter_xml

    with gzip.open(XML_TWIN, "rb") as fh:
        parsed = iter_xml(cast(BinaryIO, fh), source="x")
        xml = {a.pmid: a for a in parsed if isinstance(a, Article)}
    med: dict[str, Article] = {}
    for name in ("p1m-ortho-qs-global__citations.nbib", "p1m-ortho-qs-global__citations_1.nbib"):
        with (SHARED / "medline" / name).open("rb") as fh:
            med.update((a.pmid, a) for a in articles(list(iter_records(fh, source=name))))
    assert set(med) == set(xml) and len(med) == 292
    for pmid, m in med.items():
        assert_same_record(m, xml[pmid])
    # The fields the pair once disagreed on are there to compare.
    assert sum(bool(a.supplementary_concepts) for a in xml.values()) == 1
    assert sum(a.journal is not None and a.journal.medline_ta is not None for a in med.values()) == 292
