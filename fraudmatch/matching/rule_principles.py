"""Warnings where a rule breaks the evidence principles of ``docs/rules.md``.

A person's records at two councils are never complete and never at one address: a rule
that treats a missing value as evidence, or the fraud's own signature (two homes) as
evidence against, misses exactly the cases it exists for. These checks read the rule and
the data specification only (which fields a dataset may leave empty), so they run in
``fraudmatch rules check`` before any data is seen.
"""

from __future__ import annotations

from collections.abc import Sequence

from fraudmatch.matching.rule_model import Comparison, LevelSelector, Problem, Rule
from fraudmatch.spec.specs import DatasetSpec, Spec

__all__ = ["ADDRESS_FIELDS", "comparison_fields", "principle_problems", "signature_fields"]

#: Fields that say where someone lives: for a two-homes fraud they differ by design.
ADDRESS_FIELDS = ("address", "postcode", "uprn")


def field_of(column: str) -> str:
    """The specification field a pseudonymised column derives from (``surname__tok``)."""
    return column.split("__", 1)[0]


def comparison_fields(comp: Comparison) -> set[str]:
    """The specification fields a comparison reads (on either side)."""
    refs = [ref for keys in comp.keys for ref in keys]
    for ref in (comp.column, comp.exact):
        if ref is not None:
            refs.append(ref)
    return {field_of(c) for ref in refs for c in (ref.left, ref.right)}


def signature_fields(rule: Rule) -> tuple[str, ...]:
    """Fields the fraud itself makes differ: the rule's ``signature``, else its scope's.

    The same person at two partner councils (``across_partners``) has two homes: a
    different address is what the fraud looks like, not evidence of two people.
    """
    if rule.signature is not None:
        return rule.signature
    return ADDRESS_FIELDS if rule.scope == "across_partners" else ()


def _may_be_missing(fields: set[str], left: DatasetSpec | None, right: DatasetSpec | None) -> bool:
    """Whether some record of either side may lack every one of ``fields``."""
    for ds in (left, right):
        if ds is None:
            continue
        present = [c for c in ds.columns if c.name in fields]
        if not any(c.required for c in present):
            return True
    return False


def _accepts_null(sel: LevelSelector) -> bool:
    return -1 in sel.gammas


def _accepts_disagreement(sel: LevelSelector, comp: Comparison) -> bool:
    """Whether the selector accepts a level below the best one (the values differ)."""
    return any(0 <= g < comp.n_levels - 1 for g in sel.gammas)


def _rests_on_a_common_value(rule: Rule, combo: Sequence[LevelSelector]) -> bool:
    """Whether an ``undecided`` combination holds only where two records share a common value.

    Such a combination withholds a common name whose other evidence is not there: a missing
    home or NI number cannot supply the agreement a common name needs, so it may leave it
    undecided where the field is missing (blanking a field never flags a namesake). It never
    makes a field required of a pair whose own names decide.
    """
    return any(
        rule.comparison(sel.comparison).type == "frequency"
        and not _accepts_null(sel)
        and 0 not in sel.gammas
        for sel in combo
    )


def _veto_problems(
    rule: Rule, fields: dict[str, set[str]], missing: dict[str, bool]
) -> list[Problem]:
    out: list[Problem] = []
    signature = set(signature_fields(rule))
    combos = [("veto", i, c) for i, c in enumerate(rule.scoring.veto)]
    combos += [("undecided", i, c) for i, c in enumerate(rule.scoring.undecided)]
    for key, i, combo in combos:
        common = key == "undecided" and _rests_on_a_common_value(rule, combo)
        for sel in combo:
            comp = rule.comparison(sel.comparison)
            path = f"scoring.{key}[{i}].{sel.comparison}"
            if _accepts_null(sel) and missing[comp.name] and not common:
                out.append(
                    Problem(
                        rule.source,
                        path,
                        f"the {key} fires when {comp.name} is missing ({sel.text!r}): a missing "
                        "value is no evidence; veto only on two values that disagree",
                        "warning",
                    )
                )
            if fields[comp.name] & signature and _accepts_disagreement(sel, comp):
                out.append(
                    Problem(
                        rule.source,
                        path,
                        f"the {key} fires when {comp.name} differs ({sel.text!r}), but this "
                        f"fraud makes {', '.join(sorted(fields[comp.name] & signature))} "
                        "differ (two homes): its own signature is never evidence against",
                        "warning",
                    )
                )
    return out


def _required_problems(rule: Rule, missing: dict[str, bool]) -> list[Problem]:
    """A deterministic rule whose every combination needs a field that may be missing."""
    combos = rule.scoring.match_when
    if rule.scoring.model != "deterministic" or not combos:
        return []
    out: list[Problem] = []
    for comp in rule.comparisons:
        if not missing[comp.name]:
            continue
        needed = all(
            any(s.comparison == comp.name and not _accepts_null(s) for s in combo)
            for combo in combos
        )
        if needed:
            out.append(
                Problem(
                    rule.source,
                    "scoring.match_when",
                    f"every combination needs {comp.name}, which a record may leave empty: "
                    "a record without it can never match; add a combination for it missing",
                    "warning",
                )
            )
    return out


def _model_signature_problems(rule: Rule, fields: dict[str, set[str]]) -> list[Problem]:
    """A model that learns the fraud's signature as evidence against (two homes)."""
    if rule.scoring.model != "fellegi_sunter":
        return []
    signature = set(signature_fields(rule))
    out = []
    for i, comp in enumerate(rule.comparisons):
        if fields[comp.name] & signature and comp.fixed_m is None:
            out.append(
                Problem(
                    rule.source,
                    f"comparisons[{i}]",
                    f"the model weighs {comp.name}, which this fraud makes differ: its "
                    "disagreement would count against the fraud; fix m = u (weight 0) or "
                    "use it in vetoes and hard matches only",
                    "warning",
                )
            )
    return out


def principle_problems(rules: Sequence[Rule], spec: Spec) -> list[Problem]:
    """Warnings for every rule that treats missing values or the fraud's signature as evidence."""
    out: list[Problem] = []
    for rule in rules:
        left = spec.datasets.get(rule.left)
        right = spec.datasets.get(rule.right)
        fields = {c.name: comparison_fields(c) for c in rule.comparisons}
        missing = {
            name: _may_be_missing(f, left, right) and not f & set(rule.requires)
            for name, f in fields.items()
        }
        out += _veto_problems(rule, fields, missing)
        out += _required_problems(rule, missing)
        out += _model_signature_problems(rule, fields)
    return out
