"""The shipped MeSH table (kg/data/mesh.tsv.gz) and kg.mesh: UIs, trees, lookup, find.

Everything here uses the table inside the package; only the rebuild check reads ../shared.
"""

from __future__ import annotations

import dataclasses
import gzip
import importlib.util
import itertools
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from kg.errors import InputError
from kg.mesh import (
    GENERIC_LABELS,
    MeshConcept,
    MeshMatch,
    MeshTable,
    MeshTerm,
    label_variants,
    normalize,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "kg" / "data" / "mesh.tsv.gz"
SHIPPED_TERMS = ROOT / "kg" / "data" / "mesh-terms.tsv.gz"
SHIPPED_CONCEPTS = ROOT / "kg" / "data" / "mesh-scr.tsv.gz"
SHARED_MESH = ROOT.parent / "shared" / "data" / "mesh"

IVIG = "D016756"  # Immunoglobulins, Intravenous
DERMATOMYOSITIS = "D003882"
HEADACHE = "D006261"
RHEUMATOID_ARTHRITIS = "D001172"
IGG = "D007074"  # Immunoglobulin G
NSCLC = "D002289"  # Carcinoma, Non-Small-Cell Lung
SCLC = "D055752"  # Small Cell Lung Carcinoma
SMALL_CELL_CARCINOMA = "D018288"  # Carcinoma, Small Cell


@pytest.fixture(scope="module")
def mesh() -> MeshTable:
    return MeshTable.default()


def uis(matches: list[MeshMatch]) -> list[str]:
    return [m.ui for m in matches]


def build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_mesh_table", ROOT / "scripts" / "build_mesh_table.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


# --- the brief's checks ------------------------------------------------------------------------


def test_ivig_and_dermatomyositis_with_offsets(mesh: MeshTable) -> None:
    text = "Patients were treated with intravenous immunoglobulins (IVIg) for dermatomyositis, then"
    found = mesh.find(text)
    assert found == [
        MeshMatch(27, 54, "intravenous immunoglobulins", IVIG, "Immunoglobulins, Intravenous"),
        MeshMatch(56, 60, "IVIg", IVIG, "Immunoglobulins, Intravenous"),  # an entry term
        MeshMatch(66, 81, "dermatomyositis", DERMATOMYOSITIS, "Dermatomyositis"),
    ]
    assert all(text[m.start : m.end] == m.text for m in found)


def test_headaches_in_brackets(mesh: MeshTable) -> None:
    text = "grade 3 side effects (headaches)"
    (match,) = mesh.find(text)
    assert (match.ui, match.text, match.label) == (HEADACHE, "headaches", "Headache")
    assert text[match.start : match.end] == "headaches"


def test_lookup_rheumatoid_arthritis(mesh: MeshTable) -> None:
    assert mesh.lookup("rheumatoid arthritis") == RHEUMATOID_ARTHRITIS
    assert mesh.lookup("Arthritis, Rheumatoid") == RHEUMATOID_ARTHRITIS
    assert mesh.lookup("RHEUMATOID ARTHRITIS") == RHEUMATOID_ARTHRITIS


def test_categories(mesh: MeshTable) -> None:
    text = "intravenous immunoglobulin for dermatomyositis"
    assert uis(mesh.find(text, categories=("C",))) == [DERMATOMYOSITIS]
    assert uis(mesh.find(text, categories=("D",))) == [IVIG]
    assert uis(mesh.find(text, categories=("C", "D"))) == [IVIG, DERMATOMYOSITIS]
    assert mesh.find(text, categories=()) == []
    assert mesh.in_categories(DERMATOMYOSITIS, ("C",))
    assert mesh.in_categories(DERMATOMYOSITIS, ("C05.651",))
    assert not mesh.in_categories(IVIG, ("C", "F03"))
    assert mesh.in_categories(IVIG, ("D12",))
    assert not mesh.in_categories("D999999", ("C",))


def test_narrower_immunoglobulin_g(mesh: MeshTable) -> None:
    # the 2019 tree file puts IVIg both under Immunoglobulin G (…619.393.536) and beside it
    assert "D12.776.124.486.485.114.619.393.536" in mesh.trees(IVIG)
    assert "D12.776.124.486.485.114.619.393" in mesh.trees(IGG)
    narrower = mesh.narrower(IGG)
    assert IGG in narrower and IVIG in narrower
    assert DERMATOMYOSITIS not in narrower
    assert all(
        any(t == s or t.startswith(s + ".") for s in mesh.trees(IGG) for t in mesh.trees(ui))
        for ui in narrower - {IGG}
    )


def test_is_known_and_qualifier_label(mesh: MeshTable) -> None:
    assert mesh.is_known("D003882Q000188")
    assert mesh.is_known(DERMATOMYOSITIS) and mesh.is_known("Q000188")
    assert not mesh.is_known("D999999")
    assert not mesh.is_known("D999999Q000188") and not mesh.is_known("D003882Q999999")
    assert not mesh.is_known("") and not mesh.is_known("d003882")
    assert mesh.label("Q000188") == "drug therapy"
    assert mesh.label("D999999") is None


# --- the table itself --------------------------------------------------------------------------


def test_shipped_table_shape(mesh: MeshTable) -> None:
    terms = list(mesh)
    descriptors = [t for t in terms if t.ui.startswith("D")]
    qualifiers = [t for t in terms if t.ui.startswith("Q")]
    assert len(descriptors) == 30532 + 2 and len(qualifiers) == 76 and len(mesh) == len(terms)
    # tree numbers from MeSH 2024 by UI: all but the descriptors created since have some
    assert sum(1 for t in descriptors if t.trees) == 30170
    assert not any(t.trees for t in qualifiers)
    assert SHIPPED.stat().st_size < 1_000_000
    extras = sum(p.stat().st_size for p in (SHIPPED_TERMS, SHIPPED_CONCEPTS))
    assert SHIPPED.stat().st_size + extras < 8_000_000
    raw = gzip.decompress(SHIPPED.read_bytes()).decode("utf-8").splitlines()
    assert raw == sorted(raw) and all(line.count("\t") == 2 for line in raw)


def test_get_trees_and_misses(mesh: MeshTable) -> None:
    term = mesh.get(DERMATOMYOSITIS)
    assert term == MeshTerm(
        DERMATOMYOSITIS,
        "Dermatomyositis",
        ("C05.651.594.819.500", "C10.668.491.562.575.500", "C17.300.250", "C17.800.185"),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        term.label = "x"  # type: ignore[misc]
    assert mesh.get("D999999") is None
    assert mesh.trees("D999999") == () and mesh.trees("Q000188") == ()
    assert mesh.narrower("D999999") == frozenset()
    assert mesh.narrower("Q000188") == frozenset({"Q000188"})
    assert mesh.narrower(DERMATOMYOSITIS) == frozenset({DERMATOMYOSITIS})  # a leaf


def test_narrower_follows_tree_prefixes_not_string_prefixes(mesh: MeshTable) -> None:
    neoplasms = mesh.lookup("neoplasms")
    assert neoplasms is not None and mesh.trees(neoplasms) == ("C04",)
    under = mesh.narrower(neoplasms)
    assert NSCLC in under and SCLC in under and len(under) > 500
    assert all(any(t.startswith("C04.") or t == "C04" for t in mesh.trees(u)) for u in under)


def test_default_is_loaded_once() -> None:
    assert MeshTable.default() is MeshTable.default()


def test_from_path_plain_and_gzip(tmp_path: Path) -> None:
    lines = "D1\tArthritis, Rheumatoid\tC05.1|C20.1\nD2\tArthritis\tC05\nQ1\tdrug therapy\t\n"
    plain, packed = tmp_path / "mesh.tsv", tmp_path / "mesh.tsv.gz"
    plain.write_text(lines, encoding="utf-8")
    packed.write_bytes(gzip.compress(lines.encode("utf-8")))
    for path in (plain, packed):
        table = MeshTable.from_path(path)
        assert len(table) == 3
        assert table.trees("D1") == ("C05.1", "C20.1")
        assert table.narrower("D2") == {"D1", "D2"}
        assert table.lookup("rheumatoid arthritis") == "D1"
        assert table.is_known("D1Q1")
        assert uis(table.find("rheumatoid arthritis and arthritis")) == ["D1", "D2"]


def test_from_path_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        MeshTable.from_path(tmp_path / "absent.tsv.gz")
    bad = tmp_path / "bad.tsv"
    bad.write_text("D1\tno trees column\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1"):
        MeshTable.from_path(bad)
    with pytest.raises(ValueError, match="duplicate"):
        MeshTable([MeshTerm("D1", "A", ()), MeshTerm("D1", "B", ())])


# --- normalisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "label"),
    [
        ("intravenous immunoglobulins", "Immunoglobulins, Intravenous"),
        ("intravenous immunoglobulin", "Immunoglobulins, Intravenous"),
        ("immunoglobulins, intravenous", "Immunoglobulins, Intravenous"),
        ("rheumatoid arthritis", "Arthritis, Rheumatoid"),
        ("non-small-cell lung carcinoma", "Carcinoma, Non-Small-Cell Lung"),
        ("non small cell lung carcinomas", "Carcinoma, Non-Small-Cell Lung"),
        ("acute myeloid leukemia", "Leukemia, Myeloid, Acute"),  # several commas, reversed
        ("type 2 diabetes mellitus", "Diabetes Mellitus, Type 2"),
        ("diabetes mellitus", "Diabetes Mellitus"),
        ("Psoriasis", "Psoriasis"),
        ("headaches", "Headache"),
        ("retrospective study", "Retrospective Studies"),
        ("viruses", "Viruses"),
        ("virus", "Viruses"),
        ("abscesses", "Abscess"),
        ("Alzheimer's disease", "Alzheimer Disease"),
        ("Crohn’s disease", "Crohn Disease"),
        ("Sjögren's syndrome", "Sjogren's Syndrome"),
        ("tumor necrosis factor-α", "Tumor Necrosis Factor-alpha"),
        ("back-pain", "Back Pain"),
    ],
)
def test_lookup_variants(mesh: MeshTable, phrase: str, label: str) -> None:
    ui = mesh.lookup(phrase)
    assert ui is not None and mesh.label(ui) == label


def test_plurals_keep_us_ss_is_ics(mesh: MeshTable) -> None:
    assert normalize("intravenous") == "intravenous"
    assert normalize("psoriasis illness") == "psoriasis illness"
    assert normalize("studies") == normalize("study")
    assert normalize("Headaches") == normalize("headache")
    assert normalize("crutches") == normalize("crutch")
    assert normalize("canes") != normalize("can")  # "can" is not a cane
    assert normalize("genetics") != normalize("genetic")  # the science, not the adjective
    assert mesh.find("a genetic variant") == []


def test_label_variants() -> None:
    assert label_variants("Leukemia, Myeloid, Acute") == [
        "leukemia myeloid acute",
        "myeloid acute leukemia",
        "acute myeloid leukemia",
    ]
    assert label_variants("Headache") == ["headach"]
    assert label_variants("2,4-Dinitrophenol") == ["2 4 dinitrophenol"]  # no ", ": no inversion


# --- find ---------------------------------------------------------------------------------------


def test_longest_match_first_and_no_overlap(mesh: MeshTable) -> None:
    text = "Patients with non-small-cell lung carcinoma and low back pain."
    found = mesh.find(text)
    assert uis(found) == [NSCLC, mesh.lookup("Low Back Pain")]
    assert [m.text for m in found] == ["non-small-cell lung carcinoma", "low back pain"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))


def test_whole_words_only(mesh: MeshTable) -> None:
    # never from inside a hyphenated word: "non-small-cell carcinoma" is no small cell carcinoma
    assert SMALL_CELL_CARCINOMA not in uis(mesh.find("non-small-cell carcinoma"))
    assert mesh.find("Headachesome prepsoriasis") == []
    # ending at a hyphen is a word end: "dermatomyositis-associated" is about dermatomyositis
    (match,) = mesh.find("dermatomyositis-associated")
    assert (match.ui, match.text) == (DERMATOMYOSITIS, "dermatomyositis")


def test_hyphen_space_and_comma_join_but_punctuation_breaks(mesh: MeshTable) -> None:
    breast_neoplasms = mesh.lookup("breast neoplasms")
    assert uis(mesh.find("breast-neoplasms")) == [breast_neoplasms]
    assert uis(mesh.find("arthritis, rheumatoid")) == [RHEUMATOID_ARTHRITIS]
    assert breast_neoplasms not in uis(mesh.find("the left breast. Neoplasms were"))
    assert breast_neoplasms not in uis(mesh.find("breast\nneoplasms"))


def test_generic_and_short_labels_are_not_found_but_known(mesh: MeshTable) -> None:
    text = "Methods: Patients (adult humans) had a role; on the other hand, time and disease."
    assert mesh.find(text) == []
    assert mesh.lookup("patients") == "D010361" and mesh.label("D010361") == "Patients"
    assert mesh.lookup("Id") == "D007060" and mesh.find("the Id and the Qi") == []
    labels = {t.label for t in mesh}
    assert GENERIC_LABELS - labels <= {"Male", "Female"}  # absent from the 2026 source
    assert mesh.find("back pain")[0].label == "Back Pain"  # only the bare word is generic


def test_short_all_caps_words_are_acronyms(mesh: MeshTable) -> None:
    assert mesh.find("patients on ART, CAT and TIN") == []
    assert [m.label for m in mesh.find("art, tin, HIV and DNA")] == ["Art", "Tin", "HIV", "DNA"]


def test_offsets_hold_on_awkward_text(mesh: MeshTable) -> None:
    text = (
        "İstanbul: Ärzte — Sjögren’s syndrome\u00a0and  rheumatoid   arthritis; Crohn's disease\n"
        "(headaches) vs. HEADACHE, x-rays… intravenous\timmunoglobulin G"
    )
    found = mesh.find(text)
    assert len(found) >= 6
    assert all(text[m.start : m.end] == m.text for m in found)
    assert [m.text for m in found][-1] == "intravenous\timmunoglobulin"


def test_categories_filter_what_was_found(mesh: MeshTable) -> None:
    text = "IVIg: intravenous immunoglobulins relieved the headaches of dermatomyositis"
    everything = mesh.find(text)
    for prefixes in [("C",), ("D",), ("C", "F03"), ("C23",)]:
        kept = mesh.find(text, categories=prefixes)
        assert kept == [m for m in everything if mesh.in_categories(m.ui, prefixes)]


def test_empty_and_wordless_text(mesh: MeshTable) -> None:
    assert mesh.find("") == [] and mesh.find(" ;-, ") == []
    assert mesh.lookup("") is None and mesh.lookup("no such heading at all") is None


# --- packaging and the build script -------------------------------------------------------------


def test_import_is_light() -> None:
    code = (
        "import sys, kg.mesh; heavy = ('rdflib', 'lxml', 'pyoxigraph', 'pyshacl', 'requests',"
        " 'click', 'tqdm'); print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_build_script_on_small_sources(tmp_path: Path) -> None:
    src = tmp_path / "mesh"
    src.mkdir()
    (src / "descriptors-2026.tsv").write_text(
        "ui\tlabel\nD2\tHeadache\nD1\tCopper-Transporting ATPases\nD3\tNew Thing\n",
        encoding="utf-8",
    )
    (src / "qualifiers-2026.tsv").write_text("ui\tlabel\nQ1\tdrug therapy\n", encoding="utf-8")
    (src / "mtrees2019.bin").write_text(
        "Headache;C23.1\n   Headache;C10.2\nCopper-transporting ATPases;D08.3\n", encoding="utf-8"
    )
    out = tmp_path / "mesh.tsv.gz"
    assert build_script().main([str(src), "-o", str(out)]) == 0
    first = out.read_bytes()
    assert gzip.decompress(first).decode("utf-8") == (
        "D005260\tFemale\t\n"  # the sex check tags the 2026 list lacks are always added
        "D008297\tMale\t\n"
        "D1\tCopper-Transporting ATPases\tD08.3\n"  # joined ignoring case
        "D2\tHeadache\tC10.2|C23.1\n"
        "D3\tNew Thing\t\n"
        "Q1\tdrug therapy\t\n"
    )
    assert build_script().main([str(src), "-o", str(out)]) == 0
    assert out.read_bytes() == first  # byte-for-byte reproducible
    table = MeshTable.from_path(out)
    assert table.lookup("headaches") == "D2"


def test_build_script_rejects_bad_sources(tmp_path: Path) -> None:
    (tmp_path / "descriptors-2026.tsv").write_text("no header\n", encoding="utf-8")
    assert build_script().main([str(tmp_path), "-o", str(tmp_path / "x.gz")]) == 1
    assert not (tmp_path / "x.gz").exists()


@pytest.mark.shared
@pytest.mark.skipif(not SHARED_MESH.is_dir(), reason="needs ../shared/data/mesh")
def test_shipped_table_is_what_the_script_builds(tmp_path: Path) -> None:
    out = tmp_path / "mesh.tsv.gz"
    assert build_script().main([str(SHARED_MESH), "-o", str(out)]) == 0
    assert out.read_bytes() == SHIPPED.read_bytes()
    assert (tmp_path / SHIPPED_TERMS.name).read_bytes() == SHIPPED_TERMS.read_bytes()
    assert (tmp_path / SHIPPED_CONCEPTS.name).read_bytes() == SHIPPED_CONCEPTS.read_bytes()


# --- entry terms and supplementary concepts -----------------------------------------------------

BREAST_NEOPLASMS = "D001943"
MYOCARDIAL_INFARCTION = "D009203"
AIDS = "D000163"  # Acquired Immunodeficiency Syndrome
FOLFIRINOX = "C000627770"
FLUOROURACIL = "D005472"
ANTINEOPLASTIC_PROTOCOLS = "D000971"


@pytest.mark.parametrize(
    ("text", "ui"),
    [
        ("breast cancer", BREAST_NEOPLASMS),
        ("Breast Cancers", BREAST_NEOPLASMS),
        ("heart attack", MYOCARDIAL_INFARCTION),
        ("IVIG", IVIG),
        ("IVIg", IVIG),
        ("AIDS", AIDS),
        ("folfirinox", FOLFIRINOX),
    ],
)
def test_entry_terms_find_and_lookup(mesh: MeshTable, text: str, ui: str) -> None:
    assert mesh.lookup(text) == ui
    (match,) = mesh.find(f"Patients with {text} were seen")
    assert (match.ui, match.text, match.label) == (ui, text, mesh.label(ui))


def test_abbreviations_match_only_in_capitals(mesh: MeshTable) -> None:
    assert AIDS not in uis(mesh.find("walking aids")) and mesh.lookup("aids") != AIDS
    assert IVIG not in uis(mesh.find("ivig was given")) and mesh.lookup("ivig") is None
    assert uis(mesh.find("chop the onions")) == [mesh.lookup("onions")]
    assert uis(mesh.find("six cycles of CHOP")) == [mesh.lookup("CHOP")]


def test_labels_beat_entry_terms_and_generic_terms_are_not_found(mesh: MeshTable) -> None:
    assert mesh.lookup("Neoplasms") == mesh.lookup("cancer") == "D009369"
    assert mesh.find("the control group had a treatment effect in this study") == []


def test_supplementary_concepts(mesh: MeshTable) -> None:
    concept = mesh.concept(FOLFIRINOX)
    assert concept is not None and concept.label == "folfirinox"
    assert {FLUOROURACIL, ANTINEOPLASTIC_PROTOCOLS} <= set(mesh.mapped(FOLFIRINOX))
    assert mesh.is_known(FOLFIRINOX) and mesh.label(FOLFIRINOX) == "folfirinox"
    assert mesh.in_categories(FOLFIRINOX, ("D",)) and not mesh.in_categories(FOLFIRINOX, ("C",))
    assert mesh.get(FOLFIRINOX) is None and mesh.trees(FOLFIRINOX) == ()
    assert mesh.mapped(IVIG) == () and mesh.concept(IVIG) is None
    assert not mesh.is_known("C999999999")
    (match,) = mesh.find("modified FOLFIRINOX for pancreatic", categories=("D", "E02"))
    assert (match.ui, match.text) == (FOLFIRINOX, "FOLFIRINOX")


def test_from_path_with_terms_and_concepts(tmp_path: Path) -> None:
    (tmp_path / "t.tsv").write_text(
        "D1\tMyocardial Infarction\tC14.1\nD2\tFluorouracil\tD03.1\n", encoding="utf-8"
    )
    (tmp_path / "s.tsv").write_text("D1\tHeart Attack\nD1\tMI\nC9\t5-FU\n", encoding="utf-8")
    (tmp_path / "c.tsv").write_text("C9\tfolfox4\tD2\n", encoding="utf-8")
    table = MeshTable.from_path(
        tmp_path / "t.tsv", synonyms=tmp_path / "s.tsv", concepts=tmp_path / "c.tsv"
    )
    assert table.lookup("heart attacks") == "D1" and table.lookup("folfox4") == "C9"
    assert table.lookup("MI") == "D1" and table.lookup("mi") is None
    found = table.find("an MI (too short to find), folfox4 and 5-FU, not 5-fu")
    assert [(m.ui, m.text) for m in found] == [("C9", "folfox4"), ("C9", "5-FU")]
    assert table.mapped("C9") == ("D2",) and table.in_categories("C9", ("D03",))
    with pytest.raises(ValueError, match="duplicate"):
        MeshTable([MeshTerm("D1", "A", ())], concepts=[MeshConcept("D1", "B", ())])


def _gz(path: Path, text: str) -> None:
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))


def test_build_script_with_entry_terms_and_concepts(tmp_path: Path) -> None:
    src = tmp_path / "mesh"
    src.mkdir()
    (src / "descriptors-2026.tsv").write_text(
        "ui\tlabel\nD1\tBreast Neoplasms\nD2\tFluorouracil\nD3\tPostoperative Pain\n",
        encoding="utf-8",
    )
    (src / "qualifiers-2026.tsv").write_text("ui\tlabel\nQ1\tdrug therapy\n", encoding="utf-8")
    (src / "mtrees2019.bin").write_text("Breast Neoplasms;C04.1\n", encoding="utf-8")
    _gz(src / "trees-2024.tsv.gz", "ui\ttree_number\nD1\tC04.2\nD2\tD03.1\nD3\tC23.1\n")
    header = "ui\tlabel\tconcept_ui\tterm_ui\tterm\tconcept_preferred\tpermuted\tlexical_tag\trecord_preferred\n"
    _gz(
        src / "entry-terms-2024-detailed.tsv.gz",
        header
        + "D1\tBreast Neoplasms\tM1\tT1\tBreast Neoplasms\tY\tN\tNON\tY\n"
        + "D1\tBreast Neoplasms\tM1\tT2\tBreast Cancer\tN\tN\tNON\tN\n"
        + "D1\tBreast Neoplasms\tM1\tT3\tCancer, Breast\tN\tY\tNON\tN\n"  # permuted: kg inverts
        + "D2\tFluorouracil\tM2\tT4\t5-FU\tN\tN\tABB\tN\n"
        + "D2\tFluorouracil\tM2\tT5\tRo 2-9757\tN\tN\tLAB\tN\n"  # a lab code
        + "D3\tPain, Postoperative\tM3\tT6\tPain, Postoperative\tY\tN\tNON\tY\n"  # renamed
        + "D9\tGone\tM9\tT9\tGone Thing\tY\tN\tNON\tY\n",  # not a 2026 descriptor
    )
    _gz(
        src / "scr-2024.tsv.gz",
        "ui\tname\tmapped_to_ui\nC1\tfolfox\tD2\nC2\tCHOP protocol\t*D2\nC3\tsome virus\tD8\n"
        "C4\t2-(1H)-pyridone\tD2\n",
    )
    _gz(src / "scr-terms-2024.tsv.gz", "ui\tterm\nC1\tfolfox\nC1\tFOLFOX-4\nC2\tCHOP protocol\n")
    out = tmp_path / "out" / "mesh.tsv.gz"
    assert build_script().main([str(src), "-o", str(out)]) == 0
    files = [out, out.parent / "mesh-terms.tsv.gz", out.parent / "mesh-scr.tsv.gz"]
    first = [p.read_bytes() for p in files]
    table, terms, concepts = (gzip.decompress(b).decode("utf-8") for b in first)
    assert "D1\tBreast Neoplasms\tC04.2\n" in table  # 2024 trees by UI beat the 2019 label join
    assert "D3\tPostoperative Pain\tC23.1\n" in table  # the 2026 label of a renamed heading
    # no permuted form, lab code or code-like synonym ("FOLFOX-4"); "CHOP protocol" is "CHOP"
    assert terms == "C2\tCHOP\nD1\tBreast Cancer\nD2\t5-FU\nD3\tPain, Postoperative\n"
    assert concepts == "C1\tfolfox\tD2\nC2\tCHOP protocol\tD2\n"  # no virus, no formula
    assert build_script().main([str(src), "-o", str(out)]) == 0
    assert [p.read_bytes() for p in files] == first  # byte-for-byte reproducible
    built = MeshTable.from_path(files[0], synonyms=files[1], concepts=files[2])
    assert built.lookup("breast cancers") == "D1" and built.lookup("pain, postoperative") == "D3"
    assert [(m.ui, m.text) for m in built.find("R-CHOP or CHOP with 5-FU, not chop")] == [
        ("C2", "CHOP"),
        ("D2", "5-FU"),
    ]


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("aspirn", "D001241"),  # Aspirin
        ("acetylsalicylic acd", "D001241"),  # an entry term, misspelt
        ("hart attack", MYOCARDIAL_INFARCTION),
        ("breast cancr", BREAST_NEOPLASMS),
        ("IVIGG", IVIG),
        ("dermatomiositis", "D003882"),
    ],
)
def test_suggestions_for_a_misspelt_label(mesh: MeshTable, typed: str, first: str) -> None:
    assert mesh.lookup(typed) is None
    close = mesh.suggest(typed)
    assert close and close[0] == (first, mesh.label(first))
    assert len({ui for ui, _ in close}) == len(close) <= 5


def test_no_suggestion_for_noise_and_descriptors_only_when_asked(mesh: MeshTable) -> None:
    assert mesh.suggest("xqzwv") == [] and mesh.suggest("  ") == []
    assert any(ui.startswith("C") for ui, _ in mesh.suggest("aspirn"))  # Caspin, a concept
    assert all(ui.startswith("D") for ui, _ in mesh.suggest("aspirn", descriptors_only=True))
