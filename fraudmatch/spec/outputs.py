"""What leaves a council for each dataset: the output schema both sides agree on.

The council's pseudonymisation writes exactly these columns and the hub checks every
submission against them and lints rules against them, so the schema is part of the shared
specification, not of either side's code. The values are made at the council
(:mod:`fraudmatch.council.pseudonymise`).
"""

from __future__ import annotations

from collections.abc import Callable

import jellyfish
import polars as pl

from fraudmatch.spec.bloom import DEFAULT_BLOOM, BloomParams
from fraudmatch.spec.specs import ColumnSpec, DatasetSpec

TOKEN = pl.UInt64
CLEAR_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "date": pl.Date(),
    "number": pl.Float64(),
}
# Keyed phonetic codes of names, one output column per algorithm.
PHONETIC: dict[str, Callable[[str], str]] = {
    "metaphone": jellyfish.metaphone,
    "nysiis": jellyfish.nysiis,
    "soundex": jellyfish.soundex,
}
# Pairs of date parts keyed together: a pair has hundreds to thousands of values, so its
# token cannot be read back by counting as a lone day (31 values) or month (12) could.
DATE_PAIRS = ("dm", "my", "dy")


def string_extras(col: ColumnSpec) -> tuple[str, ...]:
    return col.extras if col.type == "string" else ()


def method_columns(col: ColumnSpec, method: str, bloom: BloomParams) -> dict[str, pl.DataType]:
    name = col.name
    if method == "clear":
        return {name: CLEAR_TYPES[col.type]}
    if method == "token":
        names = [f"{name}__tok"] + [f"{name}__{x}__tok" for x in string_extras(col)]
        return dict.fromkeys(names, TOKEN())
    if method == "bloom":
        words = {f"{name}__bf{i}": pl.UInt64() for i in range(bloom.words)}
        return {**words, f"{name}__bfn": pl.UInt16()}
    if method == "phonetic":
        return {f"{name}__{algo}": TOKEN() for algo in PHONETIC}
    if method == "date_parts":
        parts = [f"{name}__{p}" for p in ("tok", *DATE_PAIRS, "dmswap")]
        return {**dict.fromkeys(parts, TOKEN()), f"{name}__year": pl.Int16()}
    if method == "adult_month":
        return {f"{name}__adult_from": pl.Date()}
    if method == "withheld":
        return {}
    raise ValueError(f"column {name!r}: unknown pseudonymisation method {method!r}")


def output_columns(
    dataset: DatasetSpec, bloom: BloomParams = DEFAULT_BLOOM
) -> dict[str, pl.DataType]:
    """The exact schema :func:`pseudonymise` returns for a dataset, in order, without data.

    Columns follow the specification's column order and, within a column, its method order.
    """
    schema: dict[str, pl.DataType] = {}
    for col in dataset.columns:
        for method in col.pseudonymise:
            for name, dtype in method_columns(col, method, bloom).items():
                if name in schema:
                    raise ValueError(f"dataset {dataset.name!r}: output column {name!r} twice")
                schema[name] = dtype
    return schema
