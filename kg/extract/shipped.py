"""A CRFsuite model shipped in ``kg/data`` beside its card (a JSON file of the same name): the
card read once, the model's bytes checked against the card's sha256 once per process, and a
tagger opened once per thread (a CRFsuite tagger holds the sequence it scores, so threads of
one process, as Dask's, must not share one)."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from kg.errors import KgError


class ShippedCrf:
    """``model`` (``kg/data/NAME.crfsuite``) and its card ``NAME.json``; ``what`` names it in
    errors ("sample-size model card unreadable: …")."""

    def __init__(self, model: Path, *, what: str) -> None:
        self.model = model
        self.card_path = model.with_suffix(".json")
        self.what = what
        self._card: dict[str, Any] | None = None
        self._checked = False
        self._local = threading.local()

    def card(self) -> dict[str, Any]:
        if self._card is None:
            try:
                self._card = json.loads(self.card_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise KgError(f"{self.what} model card unreadable: {exc}") from exc
        return self._card

    def tagger(self) -> Any:
        """This thread's CRFsuite tagger over the model, its checksum checked first."""
        tagger = getattr(self._local, "tagger", None)
        if tagger is None:
            import pycrfsuite

            self._check()
            tagger = pycrfsuite.Tagger()
            tagger.open(str(self.model))
            self._local.tagger = tagger
        return tagger

    def _check(self) -> None:
        if self._checked:
            return
        try:
            digest = hashlib.sha256(self.model.read_bytes()).hexdigest()
        except OSError as exc:
            raise KgError(f"{self.what} model missing: {exc}") from exc
        if digest != self.card().get("sha256"):
            raise KgError(
                f"{self.model.name}: sha256 {digest} does not match its card {self.card_path.name}"
            )
        self._checked = True
