"""Checks every written-blind test population's tests share: the same seed writes the same
bytes, and record keys as the truth files name them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import polars as pl

KEY = ["partner", "dataset", "record_id"]


def digest(root: Path) -> dict[str, str]:
    """Every file below ``root`` by its path, as a SHA-256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def record_keys(entry: dict, ids: pl.Series) -> pl.DataFrame:
    """One manifest entry's record ids as (partner, dataset, record_id) text keys."""
    return pl.DataFrame(
        {
            "partner": [entry["partner"]] * len(ids),
            "dataset": [entry["dataset"]] * len(ids),
            "record_id": ids.cast(pl.String),
        },
        schema=dict.fromkeys(KEY, pl.String),
    )


def assert_deterministic(
    generate: Callable[..., object],
    tmp_path: Path,
    seed: int,
    truth: tuple[str, ...] = ("truth/cases.csv", "truth/records.csv"),
) -> None:
    """The same seed writes the same bytes; another seed other people and other ``truth``
    files. A small population: determinism does not depend on size."""
    small = {"partners": 2, "people": 1000}
    generate(tmp_path / "one", seed=seed, **small)
    generate(tmp_path / "again", seed=seed, **small)
    first = digest(tmp_path / "one")
    assert digest(tmp_path / "again") == first
    generate(tmp_path / "other", seed=seed + 1, **small)
    other = digest(tmp_path / "other")
    assert other.keys() == first.keys()
    for name in truth:
        assert other[name] != first[name], name
