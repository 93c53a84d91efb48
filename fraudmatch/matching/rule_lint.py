"""Check rules against the data specification without data: datasets, columns, types."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from fraudmatch.matching.rule_loader import load_rules
from fraudmatch.matching.rule_model import ColumnRef, Problem, Rule, suffixed
from fraudmatch.matching.rule_node import hint
from fraudmatch.matching.rule_principles import principle_problems
from fraudmatch.matching.similarity import slip_columns
from fraudmatch.spec.specs import DatasetSpec, Spec

if TYPE_CHECKING:
    from fraudmatch.spec.bloom import BloomParams


def dataset_columns(ds: DatasetSpec, bloom: BloomParams) -> dict[str, pl.DataType]:
    """The hub-side schema of a dataset: pseudonymised columns plus partner and record_id."""
    from fraudmatch.spec.outputs import output_columns

    cols = dict(output_columns(ds, bloom))
    cols.setdefault("partner", pl.String())
    cols.setdefault("record_id", pl.String())
    return cols


def _rule_columns(rule: Rule) -> list[tuple[str, str, str, str]]:
    """(key path, side, column, kind) for every column the rule refers to."""
    out: list[tuple[str, str, str, str]] = []

    def add(path: str, ref: ColumnRef, kind: str = "any") -> None:
        out.append((path, "left", ref.left, kind))
        out.append((path, "right", ref.right, kind))

    for i, b in enumerate(rule.blocking.rules):
        for ref in b.on:
            add(f"blocking.rules[{i}].keys", ref)
        for ref in b.split_hot_by:
            add(f"blocking.rules[{i}].split_hot_by", ref)
    _comparison_columns(rule, add)
    return out


def _comparison_columns(rule: Rule, add: Callable[..., None]) -> None:
    """Report each comparison's columns (by key path and kind) through ``add``."""
    for i, c in enumerate(rule.comparisons):
        path = f"comparisons[{i}]"
        if c.type in ("exact", "hierarchy", "shared"):
            key = {"exact": "column", "hierarchy": "levels", "shared": "columns"}[c.type]
            for keys in c.keys:
                for ref in keys:
                    add(f"{path}.{key}", ref)
            for ref in c.slips:
                add(f"{path}.slips", ref)
        elif c.type == "bloom":
            assert c.column is not None
            add(f"{path}.column", suffixed(c.column, "__bfn"), "bloom")
            if c.exact:
                add(f"{path}.exact", c.exact)
            for alternatives in (*c.forms, *(a for a, _ in c.forms_as)):
                for ref in alternatives:
                    add(f"{path}.forms", ref)
        elif c.type == "date_parts":
            assert c.column is not None
            for suf in ("__tok", "__dm", "__my", "__dy", "__dmswap", "__year"):
                add(f"{path}.column", suffixed(c.column, suf), "date_parts")
        elif c.type in ("date_diff", "numeric", "string", "frequency", "shown", "count"):
            assert c.column is not None
            add(f"{path}.column", c.column, c.type)
        elif c.type == "spread":
            assert c.column is not None and c.by is not None
            add(f"{path}.column", c.column)
            add(f"{path}.by", c.by)


def _across_problems(rule: Rule, spec: Spec, bloom_params: BloomParams) -> list[Problem]:
    """A ``spread`` comparison's ``across`` datasets must exist and hold its two columns
    (under the right side's names)."""
    problems = []
    for i, c in enumerate(rule.comparisons):
        if c.type != "spread" or c.column is None or c.by is None:
            continue
        for j, ds in enumerate(c.across):
            path = f"comparisons[{i}].across[{j}]"
            if ds not in spec.datasets:
                problems.append(
                    Problem(rule.source, path, f"unknown dataset {ds!r}{hint(ds, spec.datasets)}")
                )
                continue
            schema = dataset_columns(spec.datasets[ds], bloom_params)
            for col in (c.column.right, c.by.right):
                if col not in schema:
                    problems.append(
                        Problem(
                            rule.source,
                            path,
                            f"unknown column {col!r} in the pseudonymised {ds}"
                            + hint(col, list(schema)),
                        )
                    )
    return problems


def _dtype_ok(kind: str, dtype: pl.DataType) -> str | None:
    if kind == "date_diff" and not (dtype == pl.Date or dtype == pl.Datetime):
        return "a date"
    if kind == "numeric" and not dtype.is_numeric():
        return "a number"
    if kind == "string" and dtype != pl.String:
        return "a clear string"
    return None


def _slip_problems(rule: Rule, schemas: dict[str, dict[str, pl.DataType]]) -> list[Problem]:
    """A ``slip_dice`` comparison reads the column's ``slip1`` ... ``slip10`` tokens: one
    problem per side whose dataset does not send them, saying how to send them."""
    out: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for i, c in enumerate(rule.comparisons):
        if c.type != "bloom" or not c.slip_dice or c.column is None:
            continue
        left, right = slip_columns(c)
        for side, cols, base in (("left", left, c.column.left), ("right", right, c.column.right)):
            if side not in schemas or all(col in schemas[side] for col in cols[1:]):
                continue
            ds = rule.left if side == "left" else rule.right
            if (ds, base) in seen:  # one dataset on both sides: said once
                continue
            seen.add((ds, base))
            out.append(Problem(rule.source, f"comparisons[{i}].slip_dice",
                f"the pseudonymised {ds} holds no {base}__slip1__tok ... {base}__slip10__tok: "
                f"list slip1 ... slip10 in the extras of {ds}.{base} in the data "
                "specification, or leave slip_dice out"))  # fmt: skip
    return out


def lint_rules(
    rules: Sequence[Rule] | Path | str, spec: Spec, bloom_params: BloomParams | None = None
) -> list[Problem]:
    """Check rules against the data specification, without data.

    Every referenced dataset and column must exist in the pseudonymised schema (a rule
    naming ``surname`` instead of ``surname__tok`` would otherwise fail mid-cycle), with
    the right type for its comparison, and conditions may only use clear columns.
    """
    from fraudmatch.spec.bloom import BloomParams

    bloom_params = bloom_params or BloomParams()
    if isinstance(rules, Path | str):
        rules = load_rules(rules)
    problems: list[Problem] = []
    names = {r.name for r in rules}
    for rule in rules:
        schemas: dict[str, dict[str, pl.DataType]] = {}
        for side, ds in (("left", rule.left), ("right", rule.right)):
            key = "dataset" if rule.one_dataset else side
            if ds not in spec.datasets:
                problems.append(
                    Problem(
                        rule.source,
                        key,
                        f"unknown dataset {ds!r}{hint(ds, spec.datasets)}",
                    )
                )
                continue
            schemas[side] = dataset_columns(spec.datasets[ds], bloom_params)
        problems += _slip_problems(rule, schemas)
        seen: set[tuple[str, str, str]] = set()
        for path, side, col, kind in _rule_columns(rule):
            if side not in schemas or (path, side, col) in seen:
                continue
            seen.add((path, side, col))
            schema = schemas[side]
            ds = rule.left if side == "left" else rule.right
            if col not in schema:
                shown = col.removesuffix("__bfn") if kind == "bloom" else col
                if kind == "date_parts":
                    shown = re.sub(r"__(tok|dm|my|dy|dmswap|year)$", "", col)
                known = list(schema)
                if kind == "bloom":
                    known = [c.removesuffix("__bfn") for c in schema if c.endswith("__bfn")]
                problems.append(
                    Problem(
                        rule.source,
                        path,
                        f"unknown column {shown!r} in the pseudonymised {ds}"
                        + (" (no Bloom encoding)" if kind == "bloom" else "")
                        + (" (no date parts)" if kind == "date_parts" else "")
                        + hint(shown, known),
                    )
                )
                continue
            want = _dtype_ok(kind, schema[col])
            if want:
                problems.append(Problem(rule.source, path, f"column {col!r} of {ds} is not {want}"))
        for i, cond in enumerate(rule.conditions):
            for side, col in cond.columns:
                full = "left" if side == "l" else "right"
                if full not in schemas:
                    continue
                ds = rule.left if side == "l" else rule.right
                schema = schemas[full]
                if col not in schema:
                    problems.append(
                        Problem(
                            rule.source,
                            f"conditions[{i}]",
                            f"unknown column {side}.{col} in the pseudonymised {ds}"
                            f"{hint(col, schema)}",
                        )
                    )
        problems += _across_problems(rule, spec, bloom_params)
        for i, ex in enumerate(rule.exclude):
            if ex.rule not in names:
                problems.append(
                    Problem(rule.source, f"exclude[{i}].rule", f"unknown rule {ex.rule!r}")
                )
    return problems + principle_problems(rules, spec)
