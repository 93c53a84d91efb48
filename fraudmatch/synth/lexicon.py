"""Name and street lists (fraudmatch/synth/data) with their sampling weights."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import polars as pl


@dataclass(frozen=True)
class _Lexicon:
    """Name and street lists with their sampling weights."""

    forenames: pl.DataFrame  # name, sex, weight, nicknames (list[str])
    surnames: pl.Series
    surname_p: np.ndarray
    streets: pl.Series

    def forename_table(self, sex: str) -> tuple[pl.Series, np.ndarray]:
        f = self.forenames.filter(pl.col("sex") == sex)
        w = f["weight"].to_numpy().astype(float)
        return f["name"], w / w.sum()


def _data_lines(name: str) -> list[str]:
    text = resources.files("fraudmatch.synth").joinpath("data", name).read_text(encoding="utf-8")
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@cache
def load_lexicon() -> _Lexicon:
    rows = [ln.split("|") for ln in _data_lines("forenames.txt")]
    fore = pl.DataFrame(
        {
            "name": [r[0] for r in rows],
            "sex": [r[1] for r in rows],
            "weight": [float(r[2]) for r in rows],
            "nicknames": [[n for n in r[3].split(",") if n] if len(r) > 3 else [] for r in rows],
        }
    ).unique(subset=["name", "sex"], keep="first", maintain_order=True)
    sur = [ln.split("|") for ln in _data_lines("surnames.txt")]
    w = np.array([float(r[1]) for r in sur])
    return _Lexicon(
        forenames=fore,
        surnames=pl.Series("surname", [r[0] for r in sur]),
        surname_p=w / w.sum(),
        streets=pl.Series("street", _data_lines("streets.txt")),
    )
