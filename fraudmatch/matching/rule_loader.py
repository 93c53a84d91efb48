"""Parse and load rule files into the typed model (``docs/rules.md`` is the format reference).

A rule is read by fraud analysts and reviewed by data officers, so the loader is strict:
every key is known, every value has the expected type, and every error names the file, the
key path and what was expected (with a did-you-mean), because a typo here silently changes
who gets investigated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from fraudmatch.matching.conditions import Condition, ConditionError, parse_condition
from fraudmatch.matching.rule_model import (
    COMPARISON_TYPES,
    DATE_PART_LEVELS,
    FREQUENCY_OF,
    MODELS,
    PLACEHOLDER_LEVELS,
    RESERVED_LABELS,
    RISKS,
    SCOPES,
    SHOWN_SIDES,
    SPREAD_WITHIN,
    STRING_METRICS,
    Blocking,
    BlockingRule,
    ColumnRef,
    Comparison,
    Exclusion,
    LevelSelector,
    Rule,
    RuleError,
    Scoring,
)
from fraudmatch.matching.rule_node import Node, YamlLoader, column_ref, column_refs, hint


def _parse_blocking(node: Node) -> Blocking:
    if isinstance(node.value, list):
        node = Node(node.source, node.path, {"rules": node.value})
    node.mapping(["rules"], ["pair_budget", "block_ceiling", "partition_pairs"])
    rules: list[BlockingRule] = []
    for item in node.child("rules").items():
        item.mapping(["name", "keys"], ["split_hot_by"])
        name = item.child("name").name()
        if any(r.name == name for r in rules):
            raise item.child("name").fail(f"duplicate blocking rule name {name!r}")
        split = item.opt("split_hot_by")
        rules.append(
            BlockingRule(
                name=name,
                on=column_refs(item.child("keys")),
                split_hot_by=column_refs(split) if split else (),
            )
        )
    out = {}
    for key in ("pair_budget", "block_ceiling", "partition_pairs"):
        sub = node.opt(key)
        if sub is not None:
            out[key] = sub.integer()
    return Blocking(rules=tuple(rules), **out)


def _labels(node: Node, names: Iterable[str]) -> tuple[str, ...]:
    seen: list[str] = []
    for name in names:
        if name in RESERVED_LABELS:
            raise node.fail(f"{name!r} is implicit and cannot be named as a level")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise node.fail(f"level names are snake_case, got {name!r}")
        if name in seen:
            raise node.fail(f"duplicate level {name!r}")
        seen.append(name)
    return tuple(seen)


def _thresholds(node: Node, *, increasing: bool, minimum: float, maximum: float | None):
    pairs = node.pairs()
    labels = _labels(node, [k for k, _ in pairs])
    values = tuple(v.number(minimum=minimum, maximum=maximum) for _, v in pairs)
    for a, b in zip(values, values[1:], strict=False):
        if (b <= a) if increasing else (b >= a):
            order = "increasing" if increasing else "decreasing"
            raise node.fail(f"levels go best first, so values must be strictly {order}: {values}")
    return labels, values


_COMPARISON_KEYS: dict[str, tuple[list[str], list[str]]] = {
    "exact": (["column"], ["slips", "placeholder_records"]),
    "hierarchy": (["levels"], []),
    "bloom": (["column", "thresholds"], ["exact", "forms", "slip_dice"]),
    "date_parts": (["column"], ["levels", "placeholder"]),
    "date_diff": (["column", "levels"], []),
    "numeric": (["column", "levels"], []),
    "string": (["column", "levels"], ["metric"]),
    "frequency": (["column", "levels"], ["of"]),
    "spread": (["column", "by", "levels"], ["across", "within"]),
    "shared": (["columns"], []),
    "shown": (["column", "side"], []),
    "count": (["column", "side", "levels"], []),
}
_COMMON_COMPARISON_KEYS = ["name", "type", "tf_adjust", "m", "u", "description"]


def _exact_fields(node: Node) -> dict[str, Any]:
    slips = node.opt("slips")
    held = node.opt("placeholder_records")
    if held is not None and len(column_refs(node.child("column"))) != 1:
        raise held.fail("placeholder_records counts one column's values: give one column")
    return {
        "keys": (column_refs(node.child("column")),),
        "levels": ("exact",),
        "slips": column_refs(slips) if slips is not None else (),
        "placeholder_records": held.integer(minimum=2) if held is not None else None,
    }


def _shared_fields(node: Node) -> dict[str, Any]:
    return {"keys": (column_refs(node.child("columns")),), "levels": ("shared",)}


def _shown_fields(node: Node) -> dict[str, Any]:
    side = node.child("side").str(SHOWN_SIDES)
    column = node.child("column").str()
    # the other side is never read: it names a column every record has, so gathering the
    # pair's columns needs no such column on a dataset that does not send it
    ref = ColumnRef(column, "record_id") if side == "left" else ColumnRef("record_id", column)
    return {"column": ref, "side": side, "levels": ("shown",)}


def _count_fields(node: Node) -> dict[str, Any]:
    labels, values = _thresholds(node.child("levels"), increasing=False, minimum=2.0, maximum=None)
    return {**_shown_fields(node), "levels": labels, "thresholds": values}


def _hierarchy_fields(node: Node) -> dict[str, Any]:
    lv = node.child("levels")
    pairs = lv.pairs()
    return {
        "levels": _labels(lv, [k for k, _ in pairs]),
        "keys": tuple(column_refs(v) for _, v in pairs),
    }


def _bloom_fields(node: Node) -> dict[str, Any]:
    labels, values = _thresholds(
        node.child("thresholds"), increasing=False, minimum=0.0, maximum=1.0
    )
    exact = node.opt("exact")
    if exact and "exact" in labels:
        raise node.child("thresholds").fail("'exact' is the token level; name this one else")
    form_labels: list[str] = []
    forms: list[tuple[ColumnRef, ...]] = []
    forms_as: list[tuple[tuple[ColumnRef, ...], str]] = []
    fnode = node.opt("forms")
    if fnode is not None:
        pairs = fnode.pairs()
        # a form read at a Dice level ({as: very_close, columns: [...]}) has no level of its own
        is_as = [isinstance(v.value, dict) and "as" in v.value for _, v in pairs]
        read_as = [pair for pair, flag in zip(pairs, is_as, strict=True) if flag]
        own = [pair for pair, flag in zip(pairs, is_as, strict=True) if not flag]
        form_labels = list(_labels(fnode, [k for k, _ in own]))
        clash = sorted(set(form_labels) & {*labels, "exact"})
        if clash:
            raise fnode.fail(f"form levels must be named apart from the Dice levels: {clash}")
        forms = [column_refs(v) for _, v in own]
        for _, v in read_as:
            v.mapping(["as", "columns"])
            forms_as.append((column_refs(v.child("columns")), v.child("as").str(labels)))
    slip = node.opt("slip_dice")
    if slip is not None and slip.boolean() and not exact:
        raise slip.fail("slip_dice needs the exact token (exact:) its slips are keyed beside")
    return {
        "slip_dice": slip.boolean() if slip is not None else False,
        "column": column_ref(node.child("column")),
        "exact": column_ref(exact) if exact else None,
        "levels": (("exact",) if exact else ()) + labels + tuple(form_labels),
        "thresholds": values,
        "forms": tuple(forms),
        "forms_as": tuple(forms_as),
    }


def _date_parts_fields(node: Node) -> dict[str, Any]:
    ph = node.opt("placeholder")
    placeholder = ph.number(minimum=2.0, maximum=None) if ph is not None else None
    lv = node.opt("levels")
    if lv is None:
        levels = tuple(x for x in DATE_PART_LEVELS if placeholder or x not in PLACEHOLDER_LEVELS)
    else:
        chosen = [n.str(DATE_PART_LEVELS) for n in lv.items()]
        levels = tuple(x for x in DATE_PART_LEVELS if x in chosen)
        if placeholder is None and set(levels) & set(PLACEHOLDER_LEVELS):
            raise lv.fail(
                "day_month_unknown needs placeholder: (how many times its council's median "
                "day and month a day and month is held to be a placeholder)"
            )
    return {
        "column": column_ref(node.child("column")),
        "levels": levels,
        "placeholder": placeholder,
    }


def _difference_fields(node: Node) -> dict[str, Any]:
    labels, values = _thresholds(node.child("levels"), increasing=True, minimum=0.0, maximum=None)
    return {"column": column_ref(node.child("column")), "levels": labels, "thresholds": values}


def _string_fields(node: Node) -> dict[str, Any]:
    metric_node = node.opt("metric")
    metric = metric_node.str(STRING_METRICS) if metric_node else "levenshtein"
    ratio = metric == "ratio"
    labels, values = _thresholds(
        node.child("levels"), increasing=not ratio, minimum=0.0, maximum=100.0 if ratio else None
    )
    return {
        "column": column_ref(node.child("column")),
        "metric": metric,
        "levels": labels,
        "thresholds": values,
    }


def _frequency_fields(node: Node) -> dict[str, Any]:
    labels, values = _thresholds(node.child("levels"), increasing=False, minimum=0.0, maximum=1.0)
    of = node.opt("of")
    return {
        "column": column_ref(node.child("column")),
        "levels": labels,
        "thresholds": values,
        "of": of.str(FREQUENCY_OF) if of is not None else "shared",
    }


def _spread_fields(node: Node) -> dict[str, Any]:
    labels, values = _thresholds(node.child("levels"), increasing=False, minimum=2.0, maximum=None)
    across = node.opt("across")
    within = node.opt("within")
    return {
        "within": within.str(SPREAD_WITHIN) if within is not None else None,
        "column": column_ref(node.child("column")),
        "by": column_ref(node.child("by")),
        "across": tuple(n.name() for n in across.items()) if across is not None else (),
        "levels": labels,
        "thresholds": values,
    }


_TYPE_FIELDS: dict[str, Callable[[Node], dict[str, Any]]] = {
    "exact": _exact_fields,
    "hierarchy": _hierarchy_fields,
    "bloom": _bloom_fields,
    "date_parts": _date_parts_fields,
    "date_diff": _difference_fields,
    "numeric": _difference_fields,
    "string": _string_fields,
    "frequency": _frequency_fields,
    "spread": _spread_fields,
    "shared": _shared_fields,
    "shown": _shown_fields,
    "count": _count_fields,
}


def _level_probabilities(sub: Node, comp: Comparison) -> dict[str, float]:
    """Fixed m or u: one probability per level, summing to 1."""
    probs = {}
    for label, v in sub.pairs():
        if label not in comp.labels:
            raise Node(sub.source, f"{sub.path}.{label}", None).fail(
                f"unknown level{hint(label, comp.labels)} (levels: {', '.join(comp.labels)})"
            )
        probs[label] = v.number(minimum=0.0, maximum=1.0)
    missing = [x for x in comp.labels if x not in probs]
    if missing:
        raise sub.fail(f"give a probability for every level; missing {', '.join(missing)}")
    total = sum(probs.values())
    if abs(total - 1.0) > 1e-6:
        raise sub.fail(f"probabilities must sum to 1, got {total:g}")
    return probs


def _with_fixed_m_u(node: Node, comp: Comparison) -> Comparison:
    """Attach fixed m and u if the rule gives them (both or neither)."""
    fixed: dict[str, Mapping[str, float]] = {}
    for key in ("m", "u"):
        sub = node.opt(key)
        if sub is not None:
            fixed[f"fixed_{key}"] = _level_probabilities(sub, comp)
    if len(fixed) == 1:
        given = next(iter(fixed)).removeprefix("fixed_")
        other = "u" if given == "m" else "m"
        raise node.child(given).fail(f"give both m and u to fix them (missing {other})")
    return Comparison(**{**comp.__dict__, **fixed}) if fixed else comp


def _parse_comparison(node: Node) -> Comparison:
    ctype = node.choice("type", COMPARISON_TYPES, "name and type")
    required, optional = _COMPARISON_KEYS[ctype]
    node.mapping(["name", "type", *required], [*optional, *_COMMON_COMPARISON_KEYS[2:]])
    name = node.child("name").name()
    tf = node.opt("tf_adjust")
    comp = Comparison(
        name=name, type=ctype, tf_adjust=tf.boolean() if tf else False, **_TYPE_FIELDS[ctype](node)
    )
    if comp.tf_adjust and comp.tf_column is None:
        raise node.child("tf_adjust").fail(
            "term-frequency adjustment needs a single-token top level "
            "(exact, hierarchy, bloom with exact, or date_parts)"
        )
    return _with_fixed_m_u(node, comp)


_OPS = re.compile(r"^\s*(>=|<=|!=)?\s*([a-z][a-z0-9_]*)\s*$")


def _selector(node: Node, comp: Comparison) -> LevelSelector:
    known = (*comp.labels, "null")

    def check(label: str, where: Node) -> str:
        if label not in known:
            raise where.fail(
                f"unknown level {label!r} of comparison {comp.name!r}{hint(label, known)}"
                f" (levels: {', '.join(known)})"
            )
        return label

    if isinstance(node.value, list):
        labels = [check(n.str(), n) for n in node.items()]
        gammas = frozenset(comp.gamma(x) for x in labels)
        return LevelSelector(comp.name, ", ".join(labels), gammas)
    text = node.str()
    m = _OPS.match(text)
    if not m:
        raise node.fail(
            f"expected a level, '>= level', '<= level', '!= level' or a list; got {text!r}"
        )
    op, label = m.group(1), check(m.group(2), node)
    g = comp.gamma(label)
    every = range(-1, comp.n_levels)
    if op is None:
        gammas = {g}
    elif op == ">=":
        gammas = {x for x in every if x >= g and x >= 0} if g >= 0 else set(every)
    elif op == "<=":
        gammas = {x for x in every if 0 <= x <= g} if g >= 0 else {-1}
    else:
        gammas = {x for x in every if x != g}
    return LevelSelector(comp.name, text.strip(), frozenset(gammas))


def _combinations(
    node: Node, comps: Mapping[str, Comparison], either: Mapping[str, tuple] | None = None
):
    """Each clause's selectors. A clause naming one of ``either``'s sets (``{home: any}``)
    stands for one clause per alternative of the set, each with the clause's other
    selectors: the loader writes them out, so the engine sees plain clauses."""
    either = either or {}
    out = []
    for item in node.items():
        if not isinstance(item.value, dict) or not item.value:
            raise item.fail("expected a mapping of comparison: level, e.g. {ni: exact}")
        sels = []
        alternatives: list[tuple] = [()]
        for cname, sub in item.pairs():
            if cname in either:
                if sub.value != "any":
                    raise sub.fail(f"a set of alternatives is named with 'any': {{{cname}: any}}")
                alternatives = [a + b for a in alternatives for b in either[cname]]
                continue
            if cname not in comps:
                names = [*comps, *either]
                raise Node(item.source, f"{item.path}.{cname}", None).fail(
                    f"unknown comparison{hint(cname, names)} (comparisons: {', '.join(comps)})"
                )
            sels.append(_selector(sub, comps[cname]))
        out.extend(tuple(alt) + tuple(sels) for alt in alternatives)
    return tuple(out)


def _either(node: Node | None, comps: Mapping[str, Comparison]) -> dict[str, tuple]:
    """``either``: named sets of alternative selections (a home that cannot be compared:
    no postcode and no address, or a death place), each set a list of clauses."""
    if node is None:
        return {}
    out = {}
    for name, sub in node.pairs():
        if name in comps:
            raise Node(node.source, f"{node.path}.{name}", None).fail(
                "a set of alternatives needs a name of its own, not a comparison's"
            )
        if not isinstance(sub.value, list) or not sub.value:
            raise sub.fail("expected a list of alternatives, e.g. [{postcode: null}, ...]")
        out[name] = _combinations(sub, comps)
    return out


def _parse_scoring(node: Node, comps: Mapping[str, Comparison]) -> Scoring:
    model = node.choice("model", MODELS, "model")
    if model == "deterministic":
        node.mapping(["model", "match_when"], ["hard_match", "veto", "undecided", "either"])
    else:
        node.mapping(
            ["model", "threshold"],
            [
                "hard_match",
                "veto",
                "undecided",
                "either",
                "u_sample_pairs",
                "em_max_iterations",
                "em_tolerance",
                "prior",
            ],
        )
    kw: dict[str, Any] = {"model": model}
    either = _either(node.opt("either"), comps)
    for key in ("match_when", "hard_match", "veto", "undecided"):
        sub = node.opt(key)
        if sub is not None:
            kw[key] = _combinations(sub, comps, either)
    th = node.opt("threshold")
    if th is not None:
        th.mapping([], ["match_probability", "match_weight"])
        if len(th.value) != 1:
            raise th.fail("expected exactly one of match_probability or match_weight")
        kind = next(iter(th.value))
        kw["threshold_kind"] = kind
        if kind == "match_probability":
            kw["threshold"] = th.child(kind).number(minimum=0.0, maximum=1.0)
        else:
            kw["threshold"] = th.child(kind).number()
    for key in ("u_sample_pairs", "em_max_iterations"):
        sub = node.opt(key)
        if sub is not None:
            kw[key] = sub.integer()
    sub = node.opt("em_tolerance")
    if sub is not None:
        kw["em_tolerance"] = sub.number(minimum=0.0)
    sub = node.opt("prior")
    if sub is not None:
        kw["prior"] = sub.number(minimum=1e-12, maximum=0.5)
    return Scoring(**kw)


# --------------------------------------------------------------------------- rule

_RULE_REQUIRED = ["name", "description", "risk", "blocking", "comparisons", "scoring"]
_RULE_OPTIONAL = [
    "value_per_case",
    "left",
    "right",
    "dataset",
    "scope",
    "conditions",
    "exclude",
    "internal",
    "signature",
    "requires",
]


def _datasets(top: Node, data: Mapping[str, Any]) -> tuple[str, str, bool]:
    """(left, right, one_dataset): either ``dataset`` or both ``left`` and ``right``."""
    has_one = "dataset" in data
    if has_one and ("left" in data or "right" in data):
        raise top.child("dataset").fail("give either dataset (one-dataset rule) or left and right")
    if has_one:
        name = top.child("dataset").name()
        return name, name, True
    for key in ("left", "right"):
        if key not in data:
            raise Node(top.source, key, None).fail(
                "missing (give left and right datasets, or dataset for one)"
            )
    return top.child("left").name(), top.child("right").name(), False


def _comparisons(node: Node) -> dict[str, Comparison]:
    comps: dict[str, Comparison] = {}
    for item in node.items():
        comp = _parse_comparison(item)
        if comp.name in comps:
            raise item.child("name").fail(f"duplicate comparison name {comp.name!r}")
        comps[comp.name] = comp
    return comps


def _conditions(node: Node | None) -> tuple[Condition, ...]:
    conditions: list[Condition] = []
    for item in node.items() if node is not None else ():
        try:
            conditions.append(parse_condition(item.value))
        except ConditionError as exc:
            raise item.fail(str(exc)) from None
    return tuple(conditions)


def _exclusions(node: Node | None) -> tuple[Exclusion, ...]:
    exclude: list[Exclusion] = []
    for item in node.items() if node is not None else ():
        item.mapping(["rule"], ["side"])
        side = item.opt("side")
        exclude.append(
            Exclusion(
                rule=item.child("rule").name(),
                side=side.str(("left", "right", "either")) if side else "either",
            )
        )
    return tuple(exclude)


def parse_rule(data: Any, source: str = "<memory>") -> Rule:
    """Validate one parsed YAML document and build the typed rule."""
    top = Node(source, "", data)
    top.mapping(_RULE_REQUIRED, _RULE_OPTIONAL)
    name = top.child("name").name()
    description = top.child("description").str()
    risk = top.child("risk").str(RISKS)
    left, right, one_dataset = _datasets(top, data)
    scope_node = top.opt("scope")
    blocking = _parse_blocking(top.child("blocking"))
    comps = _comparisons(top.child("comparisons"))
    scoring = _parse_scoring(top.child("scoring"), comps)
    internal = top.opt("internal")
    value = top.opt("value_per_case")
    signature = top.opt("signature")
    requires = top.opt("requires")
    return Rule(
        name=name,
        description=description.strip(),
        risk=risk,
        left=left,
        right=right,
        one_dataset=one_dataset,
        scope=scope_node.str(SCOPES) if scope_node else "any",
        blocking=blocking,
        comparisons=tuple(comps.values()),
        scoring=scoring,
        conditions=_conditions(top.opt("conditions")),
        exclude=_exclusions(top.opt("exclude")),
        internal=internal.boolean() if internal else False,
        value_per_case=value.number(minimum=0.0) if value else None,
        source=source,
        signature=tuple(n.name() for n in signature.items()) if signature else None,
        requires=tuple(n.name() for n in requires.items()) if requires else (),
    )


def load_rule(path: Path | str) -> Rule:
    """Load and validate one rule file."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YamlLoader)  # noqa: S506
    except FileNotFoundError:
        raise RuleError(f"{path}: rule file not found") from None
    except yaml.YAMLError as exc:
        raise RuleError(f"{path}: not valid YAML: {exc}") from None
    return parse_rule(data, source=str(path))


def load_rules(directories: Path | str | Sequence[Path | str]) -> list[Rule]:
    """Load every ``*.yaml``/``*.yml`` rule in one or more folders, sorted by file name.

    Several folders are one set (a partnership's own rules beside the shipped ones): names
    must be unique across them and every ``exclude`` must name a rule in the set, because a
    missing helper rule would silently stop excluding legitimate cases.
    """
    folders = [directories] if isinstance(directories, Path | str) else list(directories)
    files: list[Path] = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise RuleError(f"{folder}: not a directory of rules")
        files += sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    rules = [load_rule(p) for p in files]
    by_name: dict[str, Rule] = {}
    for rule in rules:
        if rule.name in by_name:
            raise RuleError(
                f"{rule.source}: name: rule {rule.name!r} already defined in "
                f"{by_name[rule.name].source}"
            )
        by_name[rule.name] = rule
    for rule in rules:
        for i, ex in enumerate(rule.exclude):
            if ex.rule not in by_name:
                raise RuleError(
                    f"{rule.source}: exclude[{i}].rule: unknown rule {ex.rule!r}"
                    f"{hint(ex.rule, by_name)}"
                )
    order_rules(rules)  # raises on a cycle
    return rules


def order_rules(rules: Sequence[Rule]) -> list[Rule]:
    """Rules in an order where every excluded-by rule runs before the rule using it."""
    by_name = {r.name: r for r in rules}
    done: dict[str, bool] = {}
    out: list[Rule] = []

    def visit(rule: Rule, stack: tuple[str, ...]) -> None:
        if done.get(rule.name):
            return
        if rule.name in stack:
            cycle = " -> ".join((*stack, rule.name))
            raise RuleError(f"{rule.source}: exclude: rules exclude each other ({cycle})")
        for ex in rule.exclude:
            if ex.rule in by_name:
                visit(by_name[ex.rule], (*stack, rule.name))
        done[rule.name] = True
        out.append(rule)

    for rule in rules:
        visit(rule, ())
    return out


# --------------------------------------------------------------------------- lint
