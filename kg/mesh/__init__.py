"""The MeSH table shipped with kg: label ↔ UI, qualifiers, tree numbers, labels found in text."""

from kg.mesh.table import (
    GENERIC_LABELS,
    GENERIC_TERMS,
    MeshConcept,
    MeshMatch,
    MeshTable,
    MeshTerm,
    fold_word,
    label_variants,
    normalize,
)

__all__ = [
    "GENERIC_LABELS",
    "GENERIC_TERMS",
    "MeshConcept",
    "MeshMatch",
    "MeshTable",
    "MeshTerm",
    "fold_word",
    "label_variants",
    "normalize",
]
