"""Numbers tied right: a count or a share is stated for an outcome only when the sentence ties it
to what happened to the patients. Each case is a real sentence from a train-side abstract (PMID
in the comment) set in a small two-arm trial."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kg.extract import extract
from kg.models import AbstractSection, Article

Values = list[tuple[int | None, Decimal | None]]


def _stated(results: str, *, title: str = "Drug A versus placebo: a randomized trial.",
            methods: str = "Patients were randomly assigned to drug A or placebo.") -> Values:
    ev = extract(Article(pmid="1", title=title, abstract=(
        AbstractSection(text=methods, label="Methods"),
        AbstractSection(text=results, label="Results"),
    )))
    return [
        (o.measurement.count, o.measurement.percentage)
        for o in ev.outcomes
        if o.measurement.count is not None or o.measurement.percentage is not None
    ]


def _either(results: str) -> Values:
    """What is stated in a two-arm trial and in a single-arm study (where no arm tie is needed)."""
    return _stated(results) + _stated(
        results, title="Drug A for the disease: an open-label study.", methods="Patients received drug A."
    )


def _counts(found: Values) -> set[int]:
    return {c for c, _ in found if c is not None}


def _shares(found: Values) -> set[Decimal]:
    return {p for _, p in found if p is not None}


@pytest.mark.parametrize(
    ("sentence", "never"),
    [
        # 26730183: a dose is no count of people
        ("The study compared a once-daily dose of FF/VI 100/25 mcg delivered via ELLIPTA with TIO 18 mcg "
         "for 12 weeks in subjects with diagnosed COPD.", 100),
        # 11319711: "type 2" names the diabetes
        ("Moreover, most studies have related to type 2 diabetes subjects whose diabetes was relatively "
         "mild in terms of therapeutic requirements.", 2),
        # 7010528: "of the 23 patients given amiloride" is the group, the 14 are the healed
        ("In 17 patients who were randomly allotted double-blind additional dummy tablets 16 of their ulcer "
         "healed completely endoscopically, whereas of the 23 patients given additional amiloride 5 mg three "
         "times a day only 14 ulcers healed.", 23),
        # 6148163: "in these 39 patients" is the group the rate is of
        ("End-treatment TSAb values did not correlate with later evolution: in these 39 patients, relapse "
         "rate was 41%.", 39),
        # 11022066: "43/41 (surgical/endovascular)" is two arms' counts, not 43 of 41
        ("One year postoperatively, 43/41 (surgical/endovascular) patients had good or moderate recovery, "
         "5/4 had severe disability or were in a vegetative state, and 9/7 had died (NS).", 43),
        # 9833745: stopping placebo, for no harm given, is how the trial ran
        ("Dose-limiting adverse events occurred in 39% of those receiving mexiletine, but only 1 patient "
         "(5%) discontinued placebo.", 1),
        # 21996146: a stop for a procedure is how the trial ran
        ("Fourteen patients (4.7%) temporarily discontinued drug A (average 6.5 days) mainly because of "
         "surgical procedures.", 14),
    ],
)
def test_numbers_that_are_not_outcome_counts(sentence: str, never: int) -> None:
    assert never not in _counts(_either(sentence))


@pytest.mark.parametrize(
    ("sentence", "never"),
    [
        # 11191952: before the first vaccination is who they were
        ("Prior to the first vaccination 27% of the subjects had a diphtheria antitoxin level below "
         "0.01 I.U./ml; after the first booster only 5% were unprotected.", {"27"}),
        # 23967422: the pre-intervention phase is the baseline
        ("In pre-intervention phase the compliance to ISO 15189 was 49% for study group vs. 47% for "
         "control group with P value 0.48.", {"49", "47"}),
        # 23425012: the ends of a range are no one's share (nor, printed the same, the value after it)
        ("Evidence suggestive of genital infection was reported in 11.7% to 14.6% of drug A patients and "
         "5.1% of placebo patients.", {"11.7", "14.6"}),
        # 15689088
        ("Response to the three pertussis antigens ranged from 92-97% in the drug A group and 100% in the "
         "placebo group.", {"92", "97"}),
        # 3877292: a fall of a measure, both sides of the pair
        ("Both agents produced a significant fall in IOP for the period of study, by a maximum of 53% with "
         "propofol and 40% with thiopentone.", {"53", "40"}),
        # 17076630: reductions side by side
        ("There was no statistically significant difference between drug A and placebo (13.9% and 12.2% "
         "reduction, respectively).", {"13.9", "12.2"}),
    ],
)
def test_shares_that_are_not_outcome_values(sentence: str, never: set[str]) -> None:
    assert not {Decimal(v) for v in never} & _shares(_either(sentence))


def test_withdrawals_and_adherence_are_how_the_trial_ran() -> None:
    # 23107780: withdrawals with no harm named
    assert 5 not in _counts(_either(
        "One subject withdrew in the placebo (8%, worsened memory) and 5/24 subjects withdrew in the "
        "drug A group (21%)."
    ))
    # 23082133: adherence in a trial that does not say it measured adherence
    sentence = (
        "Participants taking drug A vs placebo were more likely to report missed doses (88 vs 35%; "
        "p = 0.001) and have adherence <90% by pill count (42 vs. 0%; p = 0.02)."
    )
    assert Decimal(42) not in _shares(_stated(sentence))
    # … and in one that does (its methods: "Tolerability and adherence were evaluated.")
    measured = _stated(sentence, methods="Patients were randomly assigned to drug A or placebo. "
                                         "Tolerability and adherence were evaluated.")
    assert {Decimal(42), Decimal(0)} <= _shares(measured)


def test_outcomes_that_mention_the_process_are_kept() -> None:
    # 20569725: a stop because of adverse events is a harm (a single-arm study: no arm to tie to)
    assert 10 in _counts(_stated(
        "Ten patients (4.2%) discontinued drug A treatment because of AEs.",
        title="Drug A for recent-onset atrial fibrillation: an open-label study.",
        methods="Patients with atrial fibrillation received drug A.",
    ))
    # 25425655: "after study drug discontinuation" is when the relapse happened
    assert 23 in _counts(_stated(
        "During treatment-free follow-up, 82.1% (23/28 patients) formerly receiving budesonide relapsed after "
        "study drug discontinuation.",
        title="Budesonide versus placebo: a randomized trial.",
        methods="Sixty patients were randomly assigned to budesonide or placebo.",
    ))
    # 26554619: "0%" is a share even when "p < 0.001" follows
    assert {Decimal("17.6"), Decimal(0)} <= _shares(_stated(
        "Drug A induced a significant rise in heart rate (p < 0.001) and more often tachycardia (17.6 vs 0%, "
        "p < 0.001)."
    ))


def test_a_count_of_the_arms_pooled_is_no_arms_value() -> None:
    # 18779616: 89 = 41 + 48, the two arms' denominators given in the next sentence
    found = _stated(
        "During the 10-year period, 24 of 89 patients were diagnosed with osteoporosis. Fourteen patients "
        "developed spinal osteoporosis (three of 41 in the drug A group, and 11 of 48 in the placebo group)."
    )
    assert _counts(found) == {3, 11}


def test_who_they_were_and_what_was_done_are_no_outcomes() -> None:
    # 23870503: "more likely to be black" describes the women
    assert not _shares(_either(
        "Women with VDI were more likely to be black (17% v. 2%, P < 0.001) and less likely to tan in the "
        "past year (49% v. 72%, P < 0.001)."
    )) & {Decimal(17), Decimal(2)}
    # 17471343: patients left out of an analysis
    assert not _shares(_either(
        "Excluding 37% of the treated patients and 29% of the placebo data from the analysis, there appeared "
        "to be statistically significant improvement in the treated patients."
    ))
    # 19853700: the treatment given
    assert Decimal(81) not in _shares(_either(
        "Post-CABG AF was treated with a rhythm control strategy in 81% of patients and with warfarin in 23% "
        "of patients."
    ))


def test_those_included_in_an_analysis_are_who_was_studied() -> None:
    # PubMed 27180062: "included in survival analysis" says who was analysed
    assert 88 not in _counts(_either(
        "Of these, 88 patients who had at least 24-month follow-up were also included in survival analysis."
    ))


def test_a_count_of_everyone_is_no_arms_value() -> None:
    # 25589191: "213 (62%) of 345 patients had died" in a two-arm trial of 345: the pooled deaths
    results = "Median follow-up was 41 months (IQR 35-44); 213 (62%) of 345 patients had died."
    assert 213 not in _counts(_stated(
        results, methods="345 patients were randomly assigned to drug A or placebo."
    ))
    # … also when the 345 were only said to be analysed, not randomized
    assert 213 not in _counts(_stated(
        results, methods="Patients were randomly assigned to drug A or placebo; 345 patients were analysed."
    ))


def test_people_described_by_a_participle_are_the_cohort() -> None:
    # PubMed 28115793: "100 patients diagnosed with acute ischemic stroke" were examined, not diagnosed
    assert 100 not in _counts(_either(
        "In the study, 100 patients diagnosed with acute ischemic stroke and 100 control individuals in the "
        "same age range were examined."
    ))
    # 24506142: the participle describes the 52, the 35 achieved the outcome
    assert 35 in _counts(_stated(
        "A one-stage primary anastomosis was achieved in 35 (67.3%) of the 52 patients undergoing stenting as "
        "a bridge to resection.",
        title="Colonic stenting: a case series.", methods="Patients with colonic obstruction received a stent.",
    ))


@pytest.mark.parametrize(
    ("sentence", "never"),
    [
        # 20953803: the effect the trial assumed when it was planned
        ("Primary endpoint was leucopenia grade 4, assuming a risk reduction of 50% with P4 from 50% in P2 to "
         "25% with P4.", {"50", "25"}),
        # 26416895: the power calculation
        ("The amended study was designed to have 80% power to detect an absolute difference of 14% of planned "
         "DI between the two groups.", {"80", "14"}),
        # 15547180: a difference between the arms is no arm's share
        ("The paclitaxel-FAC group (39.3%) had a higher rate of radiographic changes after irradiation than the "
         "FAC group (23.7%; difference = 15.6%, 95% CI = -0.11% to 28.8%; P = .034).", {"15.6", "28.8"}),
    ],
)
def test_planned_values_and_differences_are_no_results(sentence: str, never: set[str]) -> None:
    assert not {Decimal(v) for v in never} & _shares(_either(sentence))


def _named(results: str, **kw: str) -> list[tuple[str, Decimal | None]]:
    ev = extract(Article(pmid="1", title=kw.get("title", "Drug A versus placebo: a randomized trial."), abstract=(
        AbstractSection(text=kw.get("methods", "Patients were randomly assigned to drug A or placebo."), label="Methods"),
        AbstractSection(text=results, label="Results"),
    )))
    return [(o.text, o.measurement.percentage) for o in ev.outcomes if o.measurement.percentage is not None]


def test_a_clause_with_its_own_subject_names_its_own_numbers() -> None:
    # PubMed 21360074: the second pair is overall survival's, not the recurrences'
    named = _named(
        "Recurrences were higher in LABC than in IBC (48 vs. 35%; P = 0.14) but OS was worse in IBC (68 vs. "
        "71%; P = 0.06)."
    )
    assert ("Recurrences", Decimal(48)) in named and ("OS", Decimal(68)) in named
    assert ("Recurrences", Decimal(68)) not in named and ("Recurrences", Decimal(71)) not in named


def test_an_outcome_keeps_its_last_word() -> None:
    # PubMed 23435529: the word before the bracket is the outcome's own ("thrombocytopenia")
    named = _named(
        "Grade 3 to 4 neutropenia was more frequent in the DC arm (67.2% v 51.2%; P = .0018), as was grade 3 "
        "to 4 thrombocytopenia (8.8% v 1.0%; P = .0006)."
    )
    assert {t for t, _ in named} == {"Grade 3 to 4 neutropenia", "grade 3 to 4 thrombocytopenia"}
    # PubMed 12504225: "tuberculosis", not "had concomitant pulmonary"
    named = _named(
        "Compared with the others, patients with abdominal tuberculosis were more likely to have chronic "
        "medical illnesses (80% vs. 7%) and had concomitant pulmonary tuberculosis (60% vs. 0%)."
    )
    assert ("had concomitant pulmonary tuberculosis", Decimal(60)) in named


def test_numbers_whose_clause_names_nothing_are_not_stated() -> None:
    # PubMed 26702215: "(93/176) were; …" left the count-clause rule a label of ") were"
    ev = extract(Article(pmid="1", title="Labour epidural extension: a retrospective cohort study.", abstract=(
        AbstractSection(text=(
            "Of 176 patients requiring CS, LE utilization for surgical anesthesia was 52.8% (93/176) and "
            "reasons for not using LE (83/176) were; failure to achieve surgical anesthesia in 6.8% (12/176), "
            "emergency CS in 28.4% (50/176)."
        ), label="Results"),
    )))
    assert all(o.text[:1].isalnum() and not o.text.lower().startswith(("were", "was")) for o in ev.outcomes)
    # PubMed 26432117: "which decreased to -0.3 ± 0.8 D" — the mean is of the clause before's measure
    ev = extract(Article(pmid="1", title="Phakic lenses for myopia: a case series.", abstract=(
        AbstractSection(text=(
            "The study eyes had a mean manifest refraction spherical equivalent of -10.1 diopters (D) ± 3.4 "
            "(SD), which decreased to -0.3 ± 0.8 D postoperatively."
        ), label="Results"),
    )))
    # (it was stated as an outcome "which decreased to -" with a mean of 0.3: the sign went to the words)
    assert not [o for o in ev.outcomes if o.text.lower().startswith("which") or o.measurement.mean == Decimal("0.3")]


def test_a_negative_mean_keeps_its_sign() -> None:
    # PubMed 26702319: both means are decreases, printed with their minus signs
    ev = extract(Article(pmid="1", title="Ablation for atrial fibrillation: a comparative study.", abstract=(
        AbstractSection(text="Patients with PAF and with persistent AF were compared.", label="Methods"),
        AbstractSection(text=(
            "The FI decreased in both groups. There was no difference in the FI decrease between the two "
            "groups (-20.3±20.5 ms vs. -19.6±14.5 ms)."
        ), label="Results"),
    )))
    means = {(o.text, o.measurement.mean) for o in ev.outcomes if o.measurement.mean is not None}
    # … and "There was no difference in the FI decrease between …" names the FI decrease
    assert means == {("FI decrease", Decimal("-20.3")), ("FI decrease", Decimal("-19.6"))}


def test_a_measure_against_the_controls_is_no_share() -> None:
    # PubMed 1709422: perfusion as a percentage of the control value (one side over 100%)
    ev = extract(Article(
        pmid="1",
        title="Microcirculatory flow changes after initial resuscitation of hemorrhagic shock with 7.5% "
        "hypertonic saline/6% dextran 70.",
        abstract=(
            AbstractSection(text=(
                "An initial bolus of either lactated Ringer's (LR, 16 ml/kg) or 7.5% hypertonic saline/6% "
                "dextran 70 (HSD; 4 ml/kg) IV was followed by unlimited IV LR."
            ), label="Methods"),
            AbstractSection(text=(
                "Renal cortical perfusion (56% vs. 97% of control; p less than 0.05) and jejunal mucosal "
                "perfusion (83% vs. 162% of control; p less than 0.05) were significantly higher with HSD."
            ), label="Results"),
        ),
    ))
    assert not [o for o in ev.outcomes if o.measurement.percentage is not None]


def test_a_bracket_or_a_relative_clause_inside_the_subject_keeps_it() -> None:
    # PubMed 20953803: "(grade 4)" belongs to the outcome's words, which come before it
    named = _named("The rate of leucopenia (grade 4) was 47.1% with drug A and 42.0% with placebo (p = 0.387).")
    assert ("rate of leucopenia (grade 4)", Decimal("47.1")) in named
    # PubMed 31865282: the subject comes before ", which was …,"
    named = _named(
        "Loss of hair at PEP evaluation, which was a quality of life measure, was significantly lower in "
        "drug A versus placebo (45% vs 82%, P = 0.016)."
    )
    assert ("Loss of hair at PEP evaluation", Decimal(45)) in named


def test_out_of_after_the_people_is_the_denominator() -> None:
    # PubMed 29514256: the five are the denominator, not the outcome's words
    ev = extract(Article(pmid="1", title="Ombrabulin for advanced solid tumours: a phase I study.", abstract=(
        AbstractSection(text="Patients received ombrabulin.", label="Methods"),
        AbstractSection(text=(
            "Two patients out of five had dose limiting toxicities (DLTs) in Cycle 1 at the starting doses."
        ), label="Results"),
    )))
    found = [(o.text, o.measurement.count, o.measurement.denominator) for o in ev.outcomes if o.measurement.count]
    assert found == [("dose limiting toxicities (DLTs) in Cycle 1 at the starting doses", 2, 5)]


def test_markers_of_a_study_that_compares_no_arms_are_no_arms() -> None:
    # PubMed 25743329 (its abstract as published): "Androgen Receptor", "ALDH1" and "estrogen
    # receptor" are found as what the study is about, but it compares tumours, not treatments: the
    # 26% of ER/PR-negative tumours was tied to the androgen receptor as if it were its arm
    ev = extract(Article(
        pmid="1",
        title="Characterizing Breast Cancer in a Population with Increased Prevalence of Triple-Negative "
        "Breast Cancer: Androgen Receptor and ALDH1 Expression in Ghanaian Women.",
        abstract=(
            AbstractSection(text=(
                "The androgen receptor (AR) is a commonly-expressed hormone receptor in breast cancer and may "
                "be a marker of response to targeted anti-androgen therapy, a particularly attractive option "
                "for triple-negative breast cancer (TNBC). Gene expression studies suggest that ARs may "
                "distinguish a luminal/AR TNBC subtype from stem cell-like subtypes. TNBC frequency is two to "
                "three times higher in African American and African breast cancers compared with White "
                "American and European breast cancers, yet little is known regarding TNBC subtypes in "
                "high-frequency African-ancestry populations. We evaluated ARs and the mammary stem cell "
                "marker aldehyde dehydrogenase 1 (ALDH1) among breast cancers from Ghana, Africa."
            ), label="BACKGROUND"),
            AbstractSection(text=(
                "Overall, 147 formalin-fixed, paraffin-embedded invasive breast cancers from the Komfo Anoyke "
                "Teaching Hospital in Ghana were studied at the University of Michigan, and analyzed "
                "immunohistochemically for estrogen receptor (ER), progesterone receptor (PR), HER2/neu, "
                "ALDH1, and AR expression."
            ), label="METHODS"),
            AbstractSection(text=(
                "The median age of patients was 45 years. Only 31 cases (21 %) were ER-positive, and 14 (10 %) "
                "were HER2-positive; 89 (61 %) were TNBCs. For the entire group, 44 % were AR-positive and 45 % "
                "were ALDH1-positive. ER/PR-positive tumors were more likely to be AR-positive compared with "
                "ER/PR-negative tumors (87 vs. 26 %; p < 0.0001), but there was no association between ALDH1 "
                "and AR expression. Among the TNBC cases, 45 % were ALDH1-positive and 24 % were AR-positive. "
                "ALDH1 positivity was associated with AR positivity within the subset of TNBC (36 vs. 14 %; "
                "p = 0.019)."
            ), label="RESULTS"),
        ),
    ))
    assert len(ev.interventions) > 1
    assert [o for o in ev.outcomes if o.measurement.percentage is not None]
    assert all(o.arm is None for o in ev.outcomes)
