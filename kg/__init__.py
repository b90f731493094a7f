"""kg: clinical evidence from PubMed as linked data."""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kg.api import EvidenceStore

try:
    __version__ = version("kg")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0"


def open_store(path: str | os.PathLike[str] | None = None) -> EvidenceStore:
    """Open a kg store for queries: ``kg.open_store("out/store").question("outcomes", …)``.

    See :mod:`kg.api`; imported on first call, so that ``import kg`` stays light.
    """
    from kg.api import open_store as _open_store

    return _open_store(path)
