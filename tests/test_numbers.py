"""Numbers tied right: number words, the learned sample-size choice, counts that are counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kg.errors import KgError
from kg.extract import extract, sample
from kg.extract import numbers as num
from kg.extract.shipped import ShippedCrf
from kg.extract.text import sentences
from kg.models import AbstractSection, Article
from kg.sources.files import read_file

DATA = Path(__file__).parent / "data"
ECE = DATA / "medline" / "30288496_ece.nbib"


def _record(path: Path) -> Article:
    return next(r for r in read_file(path) if isinstance(r, Article))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Nineteen", 19),
        ("twenty-one", 21),
        ("Twenty-two", 22),
        ("Two hundred and forty-one", 241),
        ("Three hundred eighty-two", 382),
        ("One hundred and ninety-four", 194),
        ("one thousand", 1000),
        ("one thousand two hundred and thirty-four", 1234),
        ("1,234", 1234),
        ("27\u202f347", 27347),
    ],
)
def test_number_words_and_digits(text: str, value: int) -> None:
    assert num.to_int(text) == value


@pytest.mark.parametrize("text", ["hundred", "and", "two one", "twenty ten", "a"])
def test_not_numbers(text: str) -> None:
    assert num.word_number(text) is None


def test_candidates_are_whole_numbers_never_parts() -> None:
    text = (
        "Two hundred and forty-one women were randomly assigned; Twenty-four-hour urine, 2.5 mg, "
        "aged 30-70 years, 1,234 controls."
    )
    assert [c.value for c in sample.candidates(text)] == [241, 1234]  # a range is no count


def _n(text: str) -> int | None:
    found = sample.choose(sentences((AbstractSection(text=text),)))
    return found[0] if found else None


def test_sample_size_without_cue_word_and_in_words() -> None:
    assert _n(
        "Two hundred and forty-one women with early breast cancer were randomly assigned to "
        "four cycles of docetaxel or six cycles of FEC. Grade 3 neutropenia occurred in 40 women."
    ) == 241


def test_sample_size_is_never_a_count_of_cycles_or_an_arm() -> None:
    text = (
        "Patients received four cycles of epirubicin (n = 120) or paclitaxel (n = 121). "
        "A total of 241 patients were randomized between 2001 and 2004."
    )
    assert _n(text) == 241


def test_sample_size_on_real_abstracts() -> None:
    ece = extract(_record(ECE))
    assert ece.population.sample_size == 131
    span = ece.population.sample_size_span
    assert span is not None and span.quote == "131 patients"
    seed = extract(_record(DATA / "seed" / "000_e84263704ca7bb66.txt"))
    assert seed.population.sample_size == 27
    gold = DATA / "gold" / "records"
    by_file = {p.name: p for p in gold.iterdir()}
    assert by_file, "gold records missing"


def test_the_loader_checks_the_model_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "sample_size.crfsuite"
    shutil.copy(sample.MODEL, bad)
    bad.write_bytes(bad.read_bytes() + b"\0")
    shutil.copy(sample.CARD, tmp_path / "sample_size.json")
    monkeypatch.setattr(sample, "_MODEL", ShippedCrf(bad, what="sample-size"))
    with pytest.raises(KgError, match="sha256"):
        sample.choose(sentences((AbstractSection(text="We enrolled 40 patients."),)))


def test_durations_are_never_counts_on_a_real_abstract() -> None:
    """PMID 30288496: "75 months for the patients with grade 3-4 ECE" is survival, not 75 events."""
    ev = extract(_record(ECE))
    assert not [o for o in ev.outcomes if o.measurement.count in (75, 68, 85, 83)]
    harms = [o for o in ev.outcomes if o.kind == "adverse event"]
    assert all(o.measurement.count is None and o.measurement.percentage is None for o in harms)


def _trial(results: str) -> tuple[tuple[int | None, object], ...]:
    ev = extract(Article(pmid="1", title="Drug A versus placebo: a randomized trial.", abstract=(
        AbstractSection(text="Patients were randomly assigned to drug A or placebo.", label="Methods"),
        AbstractSection(text=results, label="Results"),
    )))
    return tuple((o.measurement.count, o.measurement.percentage) for o in ev.outcomes)


def test_who_was_randomized_is_not_an_outcome() -> None:
    assert _trial(
        "Fifty-three women were randomly assigned to exercise (n = 25) or control (n = 28). "
        "One hundred breast cancer survivors were assessed at baseline."
    ) == ()


def test_arm_values_are_stated_and_pooled_counts_are_not() -> None:
    found = _trial(
        "Four patients experienced disease recurrence. "
        "Grade 3 neutropenia was more frequent with drug A (36.3 vs 22.2%; P = .038). "
        "Adverse events were reported in more than 10% of the patients."
    )
    assert [p for _, p in found if p is not None] == [num.to_decimal("36.3"), num.to_decimal("22.2")]
    assert all(c is None for c, _ in found)


def test_each_side_of_a_pair_is_its_arm() -> None:
    ev = extract(Article(pmid="1", title="Docetaxel versus paclitaxel: a randomized trial.", abstract=(
        AbstractSection(text="Patients were randomly assigned to docetaxel or paclitaxel.", label="Methods"),
        AbstractSection(
            text="Neutropenia was more frequent with docetaxel than with paclitaxel (36.3% vs 22.2%; P = .038).",
            label="Results",
        ),
    )))
    names = [iv.text.lower() for iv in ev.interventions]
    sides = {o.measurement.percentage: o.arm for o in ev.outcomes if o.measurement.percentage is not None}
    if {"docetaxel", "paclitaxel"} <= set(names):  # arms grounded from the text
        assert names[sides[num.to_decimal("36.3")]] == "docetaxel"
        assert names[sides[num.to_decimal("22.2")]] == "paclitaxel"
    assert set(sides) == {num.to_decimal("36.3"), num.to_decimal("22.2")}


def test_a_total_broken_down_by_arm_gives_the_arms_counts() -> None:
    found = _trial(
        "Fourteen patients developed spinal osteoporosis (three of 41 in the drug A group, "
        "and 11 of 48 in the placebo group)."
    )
    assert found == ((3, None), (11, None))


def test_threads_get_their_own_tagger() -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"A total of {n} patients were randomly assigned to drug A or placebo." for n in range(100, 140)]
    serial = [_n(t) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(_n, texts)) == serial == list(range(100, 140))


def test_the_sample_size_says_which_count_it_is_in_the_graph() -> None:
    from kg.config import DEFAULT_BASE_IRI
    from kg.rdf.evidence import evidence_quads
    from kg.rdf.iris import Iris

    ev = extract(Article(pmid="1", title="Drug A versus placebo: a randomized trial.", abstract=(
        AbstractSection(text="A total of 241 patients were randomly assigned to drug A or placebo.", label="Methods"),
    )))
    assert (ev.population.sample_size, ev.population.sample_size_kind) == (241, "randomized")
    kinds = [q.object.value for q in evidence_quads(ev, iris=Iris(DEFAULT_BASE_IRI)) if q.predicate.value.endswith("sampleSizeKind")]
    assert kinds == ["randomized"]
