"""Match rules: the YAML format, its typed model, and a linter against the data specification.

A rule is read by fraud analysts and reviewed by data officers, so the loader is strict:
every key is known, every value has the expected type, and every error names the file, the
key path and what was expected (with a did-you-mean), because a typo here silently changes
who gets investigated. ``docs/rules.md`` is the reference for the format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import yaml

from fraudmatch.common.hints import did_you_mean
from fraudmatch.matching.conditions import Condition, ConditionError, parse_condition
from fraudmatch.spec.specs import DatasetSpec, Spec

if TYPE_CHECKING:
    from fraudmatch.spec.bloom import BloomParams

__all__ = [
    "Blocking",
    "BlockingRule",
    "ColumnRef",
    "Comparison",
    "Condition",
    "Exclusion",
    "LevelSelector",
    "Problem",
    "Rule",
    "RuleError",
    "Scoring",
    "explain_blocking",
    "lint_rules",
    "load_rule",
    "load_rules",
    "order_rules",
    "parse_rule",
]

RISKS = ("high", "medium", "low")
SCOPES = ("across_partners", "within_partner", "any")
MODELS = ("deterministic", "fellegi_sunter")
COMPARISON_TYPES = ("exact", "hierarchy", "bloom", "date_parts", "date_diff", "numeric", "string")
STRING_METRICS = ("levenshtein", "ratio")
DATE_PART_LEVELS = ("exact", "day_month_swapped", "one_part_differs", "year_only")
RESERVED_LABELS = ("else", "null")
ALWAYS_PRESENT = ("partner", "record_id")

DEFAULT_PAIR_BUDGET = 20_000_000
DEFAULT_BLOCK_CEILING = 1_000_000
DEFAULT_PARTITION_PAIRS = 1_000_000
DEFAULT_U_SAMPLE_PAIRS = 1_000_000


class RuleError(ValueError):
    """A rule file is invalid; the message names the file, the key path and what was expected."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class ColumnRef:
    """A column on each side; the same name on both unless the rule says otherwise."""

    left: str
    right: str

    def __str__(self) -> str:
        return self.left if self.left == self.right else f"{self.left}|{self.right}"


@dataclass(frozen=True)
class BlockingRule:
    """Candidate pairs: records equal on every ``on`` column (nulls never block)."""

    name: str
    on: tuple[ColumnRef, ...]
    split_hot_by: tuple[ColumnRef, ...] = ()


@dataclass(frozen=True)
class Blocking:
    """The blocking rules (unioned, first one wins) and the limits that protect memory."""

    rules: tuple[BlockingRule, ...]
    pair_budget: int = DEFAULT_PAIR_BUDGET
    block_ceiling: int = DEFAULT_BLOCK_CEILING
    partition_pairs: int = DEFAULT_PARTITION_PAIRS


@dataclass(frozen=True)
class Comparison:
    """One comparison with ordered levels (best first); ``else`` and ``null`` are implicit.

    Which fields matter depends on ``type``:

    - ``exact`` / ``hierarchy``: ``keys`` — per level, the columns that must all be equal.
    - ``bloom``: ``column`` (Bloom base name), ``exact`` (token for an exact top level),
      ``thresholds`` (minimum Dice per level).
    - ``date_parts``: ``column`` (date base name), ``levels`` a subset of DATE_PART_LEVELS.
    - ``date_diff`` / ``numeric``: ``column``, ``thresholds`` (max absolute difference).
    - ``string``: ``column``, ``metric``, ``thresholds`` (max distance or min ratio).
    """

    name: str
    type: str
    levels: tuple[str, ...]
    column: ColumnRef | None = None
    keys: tuple[tuple[ColumnRef, ...], ...] = ()
    exact: ColumnRef | None = None
    thresholds: tuple[float, ...] = ()
    metric: str = "levenshtein"
    tf_adjust: bool = False
    fixed_m: Mapping[str, float] | None = None
    fixed_u: Mapping[str, float] | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        """Level labels, best first, ending with ``else``."""
        return (*self.levels, "else")

    @property
    def n_levels(self) -> int:
        return len(self.labels)

    def gamma(self, label: str) -> int:
        """Gamma of a label: ``n-1`` for the best level, 0 for ``else``, -1 for ``null``."""
        if label == "null":
            return -1
        return self.n_levels - 1 - self.labels.index(label)

    def label_of(self) -> dict[int, str]:
        """Gamma -> label, including ``null``."""
        return {self.gamma(label): label for label in (*self.labels, "null")}

    @property
    def tf_column(self) -> ColumnRef | None:
        """The token whose frequency adjusts the top level, if TF adjustment is on."""
        if not self.tf_adjust:
            return None
        if self.type in ("exact", "hierarchy"):
            return self.keys[0][0] if len(self.keys[0]) == 1 else None
        if self.type == "bloom":
            return self.exact
        if self.type == "date_parts" and self.column is not None:
            return _suffixed(self.column, "__tok")
        return None


@dataclass(frozen=True)
class LevelSelector:
    """Which gammas of one comparison a combination accepts (e.g. ``>= close``)."""

    comparison: str
    text: str
    gammas: frozenset[int]


@dataclass(frozen=True)
class Scoring:
    """Hard matches, vetoes, and the model that decides everything else."""

    model: str
    match_when: tuple[tuple[LevelSelector, ...], ...] = ()
    hard_match: tuple[tuple[LevelSelector, ...], ...] = ()
    veto: tuple[tuple[LevelSelector, ...], ...] = ()
    threshold_kind: str | None = None  # match_probability | match_weight
    threshold: float | None = None
    u_sample_pairs: int = DEFAULT_U_SAMPLE_PAIRS
    em_max_iterations: int = 50
    em_tolerance: float = 1e-5
    prior: float | None = None


@dataclass(frozen=True)
class Exclusion:
    """Drop pairs whose ``side`` record is matched by another (usually internal) rule."""

    rule: str
    side: str  # left | right | either


@dataclass(frozen=True)
class Rule:
    """One match type, as loaded from its YAML file."""

    name: str
    description: str
    risk: str
    left: str
    right: str
    one_dataset: bool
    scope: str
    blocking: Blocking
    comparisons: tuple[Comparison, ...]
    scoring: Scoring
    conditions: tuple[Condition, ...] = ()
    exclude: tuple[Exclusion, ...] = ()
    internal: bool = False
    value_per_case: float | None = None
    source: str = "<memory>"

    def comparison(self, name: str) -> Comparison:
        for c in self.comparisons:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class Problem:
    """A lint finding: where, and what is wrong."""

    file: str
    path: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


# --------------------------------------------------------------------------- parsing helpers


def _hint(name: str, known: Iterable[str]) -> str:
    return did_you_mean(name, known)


def _suffixed(ref: ColumnRef, suffix: str) -> ColumnRef:
    return ColumnRef(ref.left + suffix, ref.right + suffix)


@dataclass(frozen=True)
class _Node:
    """A value in the YAML document with its key path, for error messages."""

    source: str
    path: str
    value: Any

    def fail(self, message: str) -> RuleError:
        return RuleError(f"{self.source}: {self.path or '<top>'}: {message}")

    def child(self, key: str | int) -> _Node:
        sep = "" if not self.path else "."
        part = f"[{key}]" if isinstance(key, int) else f"{sep}{key}"
        value = self.value[key]
        return _Node(self.source, f"{self.path}{part}", value)

    def mapping(self, required: Sequence[str], optional: Sequence[str] = ()) -> None:
        if not isinstance(self.value, dict):
            raise self.fail(
                f"expected a mapping with keys {', '.join(required)}, got {_kind(self)}"
            )
        known = [*required, *optional]
        for key in self.value:
            if key not in known:
                raise _Node(self.source, self._sub(key), None).fail(
                    f"unknown key{_hint(str(key), known)} (expected one of: {', '.join(known)})"
                )
        for key in required:
            if key not in self.value:
                raise _Node(self.source, self._sub(key), None).fail("missing")

    def _sub(self, key: Any) -> str:
        return f"{self.path}.{key}" if self.path else str(key)

    def choice(self, key: str, choices: Sequence[str], expected: str) -> str:
        """The required ``key`` of this mapping, one of ``choices`` (``expected``: its keys)."""
        if not isinstance(self.value, dict):
            raise self.fail(f"expected a mapping with {expected}, got {_kind(self)}")
        found = self.opt(key)
        if found is None:
            raise _Node(self.source, self._sub(key), None).fail(
                f"missing (one of {', '.join(choices)})"
            )
        return found.str(choices)

    def opt(self, key: str) -> _Node | None:
        if isinstance(self.value, dict) and key in self.value and self.value[key] is not None:
            return self.child(key)
        return None

    def str(self, choices: Sequence[str] | None = None) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.fail(f"expected a non-empty string, got {_kind(self)}")
        if choices is not None and self.value not in choices:
            raise self.fail(
                f"expected one of {', '.join(choices)}, got {self.value!r}"
                + _hint(self.value, choices)
            )
        return self.value

    def name(self) -> str:
        value = self.str()
        if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
            raise self.fail(f"expected a snake_case name (a-z, 0-9, _), got {value!r}")
        return value

    def number(self, *, minimum: float | None = None, maximum: float | None = None) -> float:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise self.fail(f"expected a number, got {_kind(self)}")
        if minimum is not None and self.value < minimum:
            raise self.fail(f"expected a number >= {minimum}, got {self.value}")
        if maximum is not None and self.value > maximum:
            raise self.fail(f"expected a number <= {maximum}, got {self.value}")
        return float(self.value)

    def integer(self, *, minimum: int = 1) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.fail(f"expected a whole number, got {_kind(self)}")
        if self.value < minimum:
            raise self.fail(f"expected a whole number >= {minimum}, got {self.value}")
        return self.value

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail(f"expected true or false, got {_kind(self)}")
        return self.value

    def items(self) -> list[_Node]:
        if not isinstance(self.value, list) or not self.value:
            raise self.fail(f"expected a non-empty list, got {_kind(self)}")
        return [self.child(i) for i in range(len(self.value))]

    def pairs(self) -> list[tuple[str, _Node]]:
        if not isinstance(self.value, dict) or not self.value:
            raise self.fail(f"expected a non-empty mapping, got {_kind(self)}")
        return [(str(k), self.child(k)) for k in self.value]


def _kind(node: _Node) -> str:
    v = node.value
    if v is None:
        return "nothing"
    if isinstance(v, bool):
        return f"a boolean ({v})"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, str):
        return f"a string ({v!r})"
    return f"{type(v).__name__} ({v!r})"


def _column_ref(node: _Node) -> ColumnRef:
    if isinstance(node.value, dict):
        node.mapping(["left", "right"])
        return ColumnRef(node.child("left").str(), node.child("right").str())
    if not isinstance(node.value, str) or not node.value.strip():
        raise node.fail(f"expected a column name or {{left: .., right: ..}}, got {_kind(node)}")
    return ColumnRef(node.value, node.value)


def _column_refs(node: _Node) -> tuple[ColumnRef, ...]:
    if isinstance(node.value, list):
        return tuple(_column_ref(n) for n in node.items())
    return (_column_ref(node),)


# --------------------------------------------------------------------------- sections


def _parse_blocking(node: _Node) -> Blocking:
    if isinstance(node.value, list):
        node = _Node(node.source, node.path, {"rules": node.value})
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
                on=_column_refs(item.child("keys")),
                split_hot_by=_column_refs(split) if split else (),
            )
        )
    out = {}
    for key in ("pair_budget", "block_ceiling", "partition_pairs"):
        sub = node.opt(key)
        if sub is not None:
            out[key] = sub.integer()
    return Blocking(rules=tuple(rules), **out)


def _labels(node: _Node, names: Iterable[str]) -> tuple[str, ...]:
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


def _thresholds(node: _Node, *, increasing: bool, minimum: float, maximum: float | None):
    pairs = node.pairs()
    labels = _labels(node, [k for k, _ in pairs])
    values = tuple(v.number(minimum=minimum, maximum=maximum) for _, v in pairs)
    for a, b in zip(values, values[1:], strict=False):
        if (b <= a) if increasing else (b >= a):
            order = "increasing" if increasing else "decreasing"
            raise node.fail(f"levels go best first, so values must be strictly {order}: {values}")
    return labels, values


_COMPARISON_KEYS: dict[str, tuple[list[str], list[str]]] = {
    "exact": (["column"], []),
    "hierarchy": (["levels"], []),
    "bloom": (["column", "thresholds"], ["exact"]),
    "date_parts": (["column"], ["levels"]),
    "date_diff": (["column", "levels"], []),
    "numeric": (["column", "levels"], []),
    "string": (["column", "levels"], ["metric"]),
}
_COMMON_COMPARISON_KEYS = ["name", "type", "tf_adjust", "m", "u", "description"]


def _parse_comparison(node: _Node) -> Comparison:
    ctype = node.choice("type", COMPARISON_TYPES, "name and type")
    required, optional = _COMPARISON_KEYS[ctype]
    node.mapping(["name", "type", *required], [*optional, *_COMMON_COMPARISON_KEYS[2:]])
    name = node.child("name").name()
    kw: dict[str, Any] = {}
    if ctype == "exact":
        kw["keys"] = (_column_refs(node.child("column")),)
        kw["levels"] = ("exact",)
    elif ctype == "hierarchy":
        lv = node.child("levels")
        pairs = lv.pairs()
        kw["levels"] = _labels(lv, [k for k, _ in pairs])
        kw["keys"] = tuple(_column_refs(v) for _, v in pairs)
    elif ctype == "bloom":
        kw["column"] = _column_ref(node.child("column"))
        labels, values = _thresholds(
            node.child("thresholds"), increasing=False, minimum=0.0, maximum=1.0
        )
        exact = node.opt("exact")
        kw["exact"] = _column_ref(exact) if exact else None
        if exact and "exact" in labels:
            raise node.child("thresholds").fail("'exact' is the token level; name this one else")
        kw["levels"] = (("exact",) if exact else ()) + labels
        kw["thresholds"] = values
    elif ctype == "date_parts":
        kw["column"] = _column_ref(node.child("column"))
        lv = node.opt("levels")
        if lv is None:
            kw["levels"] = DATE_PART_LEVELS
        else:
            chosen = [n.str(DATE_PART_LEVELS) for n in lv.items()]
            kw["levels"] = tuple(x for x in DATE_PART_LEVELS if x in chosen)
    elif ctype in ("date_diff", "numeric"):
        kw["column"] = _column_ref(node.child("column"))
        labels, values = _thresholds(
            node.child("levels"), increasing=True, minimum=0.0, maximum=None
        )
        kw["levels"], kw["thresholds"] = labels, values
    elif ctype == "string":
        kw["column"] = _column_ref(node.child("column"))
        metric = node.opt("metric")
        kw["metric"] = metric.str(STRING_METRICS) if metric else "levenshtein"
        ratio = kw["metric"] == "ratio"
        labels, values = _thresholds(
            node.child("levels"),
            increasing=not ratio,
            minimum=0.0,
            maximum=100.0 if ratio else None,
        )
        kw["levels"], kw["thresholds"] = labels, values
    tf = node.opt("tf_adjust")
    comp = Comparison(name=name, type=ctype, tf_adjust=tf.boolean() if tf else False, **kw)
    if comp.tf_adjust and comp.tf_column is None:
        raise node.child("tf_adjust").fail(
            "term-frequency adjustment needs a single-token top level "
            "(exact, hierarchy, bloom with exact, or date_parts)"
        )
    fixed: dict[str, Mapping[str, float]] = {}
    for key in ("m", "u"):
        sub = node.opt(key)
        if sub is None:
            continue
        probs = {}
        for label, v in sub.pairs():
            if label not in comp.labels:
                raise _Node(sub.source, f"{sub.path}.{label}", None).fail(
                    f"unknown level{_hint(label, comp.labels)} (levels: {', '.join(comp.labels)})"
                )
            probs[label] = v.number(minimum=0.0, maximum=1.0)
        missing = [x for x in comp.labels if x not in probs]
        if missing:
            raise sub.fail(f"give a probability for every level; missing {', '.join(missing)}")
        total = sum(probs.values())
        if abs(total - 1.0) > 1e-6:
            raise sub.fail(f"probabilities must sum to 1, got {total:g}")
        fixed[f"fixed_{key}"] = probs
    if len(fixed) == 1:
        given = next(iter(fixed)).removeprefix("fixed_")
        other = "u" if given == "m" else "m"
        raise node.child(given).fail(f"give both m and u to fix them (missing {other})")
    if fixed:
        comp = Comparison(**{**comp.__dict__, **fixed})
    return comp


_OPS = re.compile(r"^\s*(>=|<=|!=)?\s*([a-z][a-z0-9_]*)\s*$")


def _selector(node: _Node, comp: Comparison) -> LevelSelector:
    known = (*comp.labels, "null")

    def check(label: str, where: _Node) -> str:
        if label not in known:
            raise where.fail(
                f"unknown level {label!r} of comparison {comp.name!r}{_hint(label, known)}"
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


def _combinations(node: _Node, comps: Mapping[str, Comparison]):
    out = []
    for item in node.items():
        if not isinstance(item.value, dict) or not item.value:
            raise item.fail("expected a mapping of comparison: level, e.g. {ni: exact}")
        sels = []
        for cname, sub in item.pairs():
            if cname not in comps:
                raise _Node(item.source, f"{item.path}.{cname}", None).fail(
                    f"unknown comparison{_hint(cname, comps)} (comparisons: {', '.join(comps)})"
                )
            sels.append(_selector(sub, comps[cname]))
        out.append(tuple(sels))
    return tuple(out)


def _parse_scoring(node: _Node, comps: Mapping[str, Comparison]) -> Scoring:
    model = node.choice("model", MODELS, "model")
    if model == "deterministic":
        node.mapping(["model", "match_when"], ["hard_match", "veto"])
    else:
        node.mapping(
            ["model", "threshold"],
            ["hard_match", "veto", "u_sample_pairs", "em_max_iterations", "em_tolerance", "prior"],
        )
    kw: dict[str, Any] = {"model": model}
    for key in ("match_when", "hard_match", "veto"):
        sub = node.opt(key)
        if sub is not None:
            kw[key] = _combinations(sub, comps)
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
]


def parse_rule(data: Any, source: str = "<memory>") -> Rule:
    """Validate one parsed YAML document and build the typed rule."""
    top = _Node(source, "", data)
    top.mapping(_RULE_REQUIRED, _RULE_OPTIONAL)
    name = top.child("name").name()
    description = top.child("description").str()
    risk = top.child("risk").str(RISKS)
    has_one = "dataset" in data
    if has_one and ("left" in data or "right" in data):
        raise top.child("dataset").fail("give either dataset (one-dataset rule) or left and right")
    if has_one:
        left = right = top.child("dataset").name()
    else:
        for key in ("left", "right"):
            if key not in data:
                raise _Node(source, key, None).fail(
                    "missing (give left and right datasets, or dataset for one)"
                )
        left, right = top.child("left").name(), top.child("right").name()
    scope_node = top.opt("scope")
    scope = scope_node.str(SCOPES) if scope_node else "any"
    blocking = _parse_blocking(top.child("blocking"))
    comps: dict[str, Comparison] = {}
    for item in top.child("comparisons").items():
        comp = _parse_comparison(item)
        if comp.name in comps:
            raise item.child("name").fail(f"duplicate comparison name {comp.name!r}")
        comps[comp.name] = comp
    scoring = _parse_scoring(top.child("scoring"), comps)
    conditions: list[Condition] = []
    cond = top.opt("conditions")
    if cond is not None:
        for item in cond.items():
            try:
                conditions.append(parse_condition(item.value))
            except ConditionError as exc:
                raise item.fail(str(exc)) from None
    exclude: list[Exclusion] = []
    exc = top.opt("exclude")
    if exc is not None:
        for item in exc.items():
            item.mapping(["rule"], ["side"])
            side = item.opt("side")
            exclude.append(
                Exclusion(
                    rule=item.child("rule").name(),
                    side=side.str(("left", "right", "either")) if side else "either",
                )
            )
    internal = top.opt("internal")
    value = top.opt("value_per_case")
    return Rule(
        name=name,
        description=description.strip(),
        risk=risk,
        left=left,
        right=right,
        one_dataset=has_one,
        scope=scope,
        blocking=blocking,
        comparisons=tuple(comps.values()),
        scoring=scoring,
        conditions=tuple(conditions),
        exclude=tuple(exclude),
        internal=internal.boolean() if internal else False,
        value_per_case=value.number(minimum=0.0) if value else None,
        source=source,
    )


class _Loader(yaml.SafeLoader):
    """YAML with only true/false as booleans (YAML 1.2): ``on``, ``no``, ``yes`` stay text."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), [_first]
    )


def load_rule(path: Path | str) -> Rule:
    """Load and validate one rule file."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
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
                    f"{_hint(ex.rule, by_name)}"
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
        if c.type in ("exact", "hierarchy"):
            for keys in c.keys:
                for ref in keys:
                    add(f"{path}.{'column' if c.type == 'exact' else 'levels'}", ref)
        elif c.type == "bloom":
            assert c.column is not None
            add(f"{path}.column", _suffixed(c.column, "__bfn"), "bloom")
            if c.exact:
                add(f"{path}.exact", c.exact)
        elif c.type == "date_parts":
            assert c.column is not None
            for suf in ("__tok", "__y", "__m", "__d", "__dmswap"):
                add(f"{path}.column", _suffixed(c.column, suf), "date_parts")
        elif c.type in ("date_diff", "numeric", "string"):
            assert c.column is not None
            add(f"{path}.column", c.column, c.type)


def _dtype_ok(kind: str, dtype: pl.DataType) -> str | None:
    if kind == "date_diff" and not (dtype == pl.Date or dtype == pl.Datetime):
        return "a date"
    if kind == "numeric" and not dtype.is_numeric():
        return "a number"
    if kind == "string" and dtype != pl.String:
        return "a clear string"
    return None


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
                        f"unknown dataset {ds!r}{_hint(ds, spec.datasets)}",
                    )
                )
                continue
            schemas[side] = dataset_columns(spec.datasets[ds], bloom_params)
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
                    shown = re.sub(r"__(tok|y|m|d|dmswap)$", "", col)
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
                        + _hint(shown, known),
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
                            f"{_hint(col, schema)}",
                        )
                    )
        for i, ex in enumerate(rule.exclude):
            if ex.rule not in names:
                problems.append(
                    Problem(rule.source, f"exclude[{i}].rule", f"unknown rule {ex.rule!r}")
                )
    return problems


def explain_blocking(rule: Rule, left: pl.DataFrame | pl.LazyFrame, right=None) -> pl.DataFrame:
    """Per blocking rule: keys, largest blocks, pairs made and pairs new vs earlier rules."""
    from fraudmatch.matching.blocking import explain_blocking as _explain

    return _explain(rule, left, left if right is None else right)
