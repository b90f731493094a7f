"""PubMed page-text parser, on the seed page (tests/data/seed) against its gold facts."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from kg.models import AbstractSection, Article, Problem, Record, RelatedArticle
from kg.parse.pagetext import NO_PMID, iter_records, looks_like_page_text, parse_related

DATA = Path(__file__).parent / "data"
SEED = DATA / "seed" / "000_e84263704ca7bb66.txt"
GOLD = json.loads((DATA / "gold" / "23906502.json").read_text(encoding="utf-8"))
SEED_BYTES = SEED.read_bytes()
SEED_LINES = SEED_BYTES.decode("utf-8").splitlines()


def parse(data: bytes, source: str = "page.txt") -> list[Record]:
    return list(iter_records(io.BytesIO(data), source=source))


def only_article(records: list[Record]) -> Article:
    (article,) = [r for r in records if isinstance(r, Article)]
    return article


def page(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def by_pmid(article: Article) -> dict[str, RelatedArticle]:
    return {r.pmid: r for r in article.similar_articles + article.cited_by}


@pytest.fixture(scope="module")
def seed() -> Article:
    records = parse(SEED_BYTES, source=SEED.name)
    assert not [r for r in records if isinstance(r, Problem)]
    return only_article(records)


# --- the seed page against its gold facts ---------------------------------------------------


def test_seed_identity(seed: Article) -> None:
    assert seed.pmid == GOLD["pmid"]
    assert seed.doi == GOLD["doi"]
    assert seed.title == GOLD["title"]
    assert seed.pmc is None
    assert seed.source == SEED.name
    assert seed.source_format == "page-text"


def test_seed_abstract_sections(seed: Article) -> None:
    assert [s.label for s in seed.abstract] == GOLD["abstract_sections"]
    background, design, results, conclusion = (s.text for s in seed.abstract)
    assert background.startswith("Treating dermatomyositis (DM) with isolated skin involvement")
    assert background.endswith("in DM with isolated skin involvement have been reported.")
    assert design.startswith("We performed a retrospective monocentric study of 27 patients")
    assert design.endswith("and at least one line of treatment.")
    assert results.startswith("Nineteen patients (70%) exhibited a major response")
    assert "The mean number of IVIg courses was 4.8 (range 1-15)." in results
    assert results.endswith("Muscle disease developed in six patients.")
    assert conclusion.startswith(GOLD["conclusion"])
    assert conclusion.endswith("Controlled studies are required to confirm these results.")


def test_seed_section_texts_are_exactly_the_page_text(seed: Article) -> None:
    for section in seed.abstract:
        assert f"{section.label}: {section.text}" in SEED_LINES
        assert section.text == section.text.strip()
    # offsets into abstract_text land inside the right section
    offset = seed.abstract_text.index("27 patients")
    assert offset == len(seed.abstract[0].text) + 1 + seed.abstract[1].text.index("27 patients")


def test_seed_copyright_and_keywords(seed: Article) -> None:
    assert seed.copyright == GOLD["copyright"]
    assert seed.keywords == ()


def test_seed_related_lists_in_order(seed: Article) -> None:
    assert [r.pmid for r in seed.similar_articles] == GOLD["similar_articles"]
    assert [r.pmid for r in seed.cited_by] == GOLD["cited_by"]


@pytest.mark.parametrize("pmid", sorted(GOLD["related_article_facts"]))
def test_seed_related_article_facts(seed: Article, pmid: str) -> None:
    related = by_pmid(seed)[pmid]
    for key, value in GOLD["related_article_facts"][pmid].items():
        if key == "publication_type":
            assert value in related.publication_types
        else:
            assert getattr(related, key) == value, key


def test_seed_related_details(seed: Article) -> None:
    rel = by_pmid(seed)
    assert rel["35457124"].publication_types == ("Review",)
    assert rel["35457124"].free_pmc is True
    assert rel["37261663"].free_pmc is False
    assert rel["20722047"].publication_types == ()
    assert rel["20722047"].title == (
        "Intravenous immunoglobulins for steroid-refractory esophageal involvement related to "
        "polymyositis and dermatomyositis: a series of 73 patients"
    )
    assert rel["20722047"].citation == "Arthritis Care Res (Hoboken). 2010 Dec;62(12):1748-55."
    assert rel["29856076"].citation == "Clin Exp Dermatol. 2018 Dec;43(8):906-912."
    assert rel["29856076"].doi == "10.1111/ced.13607"
    assert rel["7932419"].doi is None
    assert rel["34926528"].journal == "Front Med (Lausanne)"
    assert rel["34926528"].doi == "10.3389/fmed.2021.783416"
    assert all(r.title and r.citation and r.journal and r.year for r in rel.values())
    assert all(not r.title.endswith(".") for r in rel.values() if r.title)


# --- variants -------------------------------------------------------------------------------


def test_crlf_and_bom_give_the_same_article(seed: Article) -> None:
    data = b"\xef\xbb\xbf" + SEED_BYTES.replace(b"\n", b"\r\n")
    assert only_article(parse(data, source=SEED.name)) == seed


def test_trailing_spaces_are_not_text(seed: Article) -> None:
    data = "\n".join(line + "  \t" for line in SEED_LINES).encode("utf-8")
    assert only_article(parse(data, source=SEED.name)) == seed


def test_unlabeled_abstract_without_related_lists() -> None:
    paragraph = " ".join(line.split(": ", 1)[1] for line in SEED_LINES[5:9])
    lines = [
        *SEED_LINES[:5],
        paragraph,
        SEED_LINES[9],
        "Keywords: dermatomyositis; IVIg.",
        "Publication types",
        "MeSH terms",
        "Substances",
    ]
    article = only_article(parse(page(lines)))
    assert article.abstract == (AbstractSection(text=paragraph),)
    assert article.abstract_text == paragraph
    assert article.copyright == GOLD["copyright"]
    assert [k.text for k in article.keywords] == ["dermatomyositis", "IVIg"]
    assert article.similar_articles == () and article.cited_by == ()


def test_page_without_abstract_and_with_pmcid() -> None:
    lines = [
        "A title",
        "- PMID: 123",
        "- PMCID: PMC456",
        "- DOI: 10.1/x",
        "A title",
        "No abstract available",
        "Cited by",
        "-",
        "Other.J Foo. 2001;1:2. J Foo. 2001. PMID: 9 Free PMC article.",
    ]
    article = only_article(parse(page(lines)))
    assert (article.pmid, article.pmc, article.doi, article.title) == (
        "123",
        "PMC456",
        "10.1/x",
        "A title",
    )
    assert article.abstract == ()
    assert [r.pmid for r in article.cited_by] == ["9"]
    assert article.cited_by[0].free_pmc and article.cited_by[0].publication_types == ()


def test_truncated_entry_gives_a_problem_and_keeps_the_others() -> None:
    lines = list(SEED_LINES)
    third = lines.index("Similar articles") + 6
    assert lines[third].endswith("PMID: 29856076")
    lines[third] = lines[third][:120]
    records = parse(page(lines))
    problems = [r for r in records if isinstance(r, Problem)]
    assert len(problems) == 1
    assert problems[0].where == "Similar articles entry 3"
    assert not problems[0].fatal
    assert "23906502" in problems[0].message
    article = only_article(records)
    assert [r.pmid for r in article.similar_articles] == [
        p for p in GOLD["similar_articles"] if p != "29856076"
    ]
    assert [r.pmid for r in article.cited_by] == GOLD["cited_by"]


def test_empty_entry_before_a_heading_is_a_problem() -> None:
    cited = SEED_LINES.index("Cited by")
    lines = [*SEED_LINES[:cited], "-", *SEED_LINES[cited:]]
    records = parse(page(lines))
    problems = [r for r in records if isinstance(r, Problem)]
    assert [p.where for p in problems] == ["Similar articles entry 6"]
    assert len(only_article(records).similar_articles) == 5


def test_unknown_heading_ends_the_list() -> None:
    start = SEED_LINES.index("Cited by")
    lines = [*SEED_LINES[: start + 3], "Some new section", *SEED_LINES[start + 3 :]]
    article = only_article(parse(page(lines)))
    assert [r.pmid for r in article.cited_by] == GOLD["cited_by"][:1]
    assert [r.pmid for r in article.similar_articles] == GOLD["similar_articles"]


def test_not_a_page_text_is_a_fatal_problem() -> None:
    for data in (b"PMID- 123\nOWN - NLM\nTI  - A title.\n", b"", b"just some notes\n"):
        assert parse(data, source="x.txt") == [Problem(source="x.txt", message=NO_PMID, fatal=True)]


def test_sniff() -> None:
    assert looks_like_page_text(SEED_BYTES[:4096])
    assert looks_like_page_text(b"\xef\xbb\xbf" + SEED_BYTES.replace(b"\n", b"\r\n")[:4096])
    assert not looks_like_page_text(b"PMID- 23906502\nOWN - NLM\n")
    assert not looks_like_page_text(b'<?xml version="1.0"?>\n<PubmedArticleSet>\n<PMID>1</PMID>')
    assert not looks_like_page_text(b"x\n" * 3000 + b"- PMID: 1\n")


def test_invalid_utf8_is_reported_but_read() -> None:
    records = parse(SEED_BYTES.replace(b"monocentric", b"monocentri\xe9"))
    assert isinstance(records[0], Problem) and not records[0].fatal
    assert "byte" in records[0].message
    article = only_article(records)
    assert "monocentri\ufffd study" in article.abstract[1].text
    assert article.copyright == GOLD["copyright"]


def test_titles_with_quotes_and_non_ascii() -> None:
    title = "“Don't stop”: Sjögren's syndrome and the café-au-lait macule — a 10-year study"
    entry = (
        '"Ménière\'s disease": is it «real»?Rev Méd Suisse. 2020 Mar 4;16(684):1-2. '
        "doi: 10.53738/REVMED.2020.16.684.1. Rev Méd Suisse. 2020. PMID: 111 "
        "Review. Free PMC article."
    )
    lines = [
        title,
        "- PMID: 42",
        "- DOI: 10.1/é",
        title,
        "Abstract",
        "Objectif: Évaluer «x» — “y”.",
        "© 2021 Société.",
        "Similar articles",
        "-",
        entry,
    ]
    article = only_article(parse(page(lines)))
    assert article.title == title
    assert article.abstract == (AbstractSection(text="Évaluer «x» — “y”.", label="Objectif"),)
    assert article.copyright == "© 2021 Société."
    (rel,) = article.similar_articles
    assert rel.title == '"Ménière\'s disease": is it «real»?'
    assert rel.journal == "Rev Méd Suisse"
    assert rel.citation == "Rev Méd Suisse. 2020 Mar 4;16(684):1-2."
    assert rel.doi == "10.53738/REVMED.2020.16.684.1"
    assert (rel.year, rel.publication_types, rel.free_pmc) == (2020, ("Review",), True)


@pytest.mark.parametrize(
    ("line", "title", "journal", "types"),
    [
        (
            "A vs. B: a trial.Lancet. 2020;1:2. Lancet. 2020. PMID: 5",
            "A vs. B: a trial",
            "Lancet",
            (),
        ),
        (
            "Why?N Engl J Med. 2019 Jan 3;380(1):1. Epub 2018 Dec 1. N Engl J Med. 2019. PMID: 6 "
            "Clinical Trial. Multicenter Study.",
            "Why?",
            "N Engl J Med",
            ("Clinical Trial", "Multicenter Study"),
        ),
        ("Wow!J Foo. 2001. J Foo. 2001. PMID: 7 Free article.", "Wow!", "J Foo", ("Free article",)),
    ],
)
def test_parse_related_shapes(line: str, title: str, journal: str, types: tuple[str, ...]) -> None:
    rel = parse_related(line)
    assert rel is not None
    assert (rel.title, rel.journal, rel.publication_types) == (title, journal, types)


def test_parse_related_without_a_title_split_keeps_pmid_journal_year() -> None:
    rel = parse_related("Some title. Other citation text. J Bar. 1999. PMID: 8")
    assert rel is not None
    assert (rel.pmid, rel.journal, rel.year, rel.title, rel.citation) == (
        "8",
        "J Bar",
        1999,
        None,
        None,
    )
    assert parse_related("Cut short.J Foo. 2001;1:2. J Fo") is None


def test_labels_are_not_taken_from_sentences() -> None:
    lines = [
        *SEED_LINES[:5],
        "In this study of patients treated over ten years, two patterns emerged: a and b.",
        "METHODS AND MAIN OUTCOME MEASURES: text: with colon.",
    ]
    article = only_article(parse(page(lines)))
    assert [s.label for s in article.abstract] == [None, "METHODS AND MAIN OUTCOME MEASURES"]
    assert article.abstract[1].text == "text: with colon."


def test_concatenated_pages_give_one_article_each(seed: Article) -> None:
    second = ["Second title", "- PMID: 99", "Second title", "Abstract", "Text."]
    records = parse(SEED_BYTES + page(second), source=SEED.name)
    first, other = (r for r in records if isinstance(r, Article))
    assert first == seed
    assert (other.pmid, other.title, other.abstract_text) == ("99", "Second title", "Text.")
