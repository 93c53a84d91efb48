"""The typed model of a match rule: what the loader builds and the engine runs.

Kept apart from the YAML parser and the linter so that blocking, comparison and scoring
code depend on plain dataclasses only (no parser, no cycle back into the engine).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fraudmatch.matching.conditions import Condition

RISKS = ("high", "medium", "low")
SCOPES = ("across_partners", "within_partner", "any")
MODELS = ("deterministic", "fellegi_sunter")
COMPARISON_TYPES = (
    "exact",
    "hierarchy",
    "bloom",
    "date_parts",
    "date_diff",
    "numeric",
    "string",
    "frequency",
    "spread",
    "shared",
    "shown",
    "count",
)
#: the record a ``shown`` or ``count`` comparison reads (see Comparison)
SHOWN_SIDES = ("left", "right")
#: which value a ``frequency`` comparison counts: the one both records share, or each
#: record's own (the commoner of the two; see Comparison)
FREQUENCY_OF = ("shared", "each")
#: where a ``spread`` comparison may count places besides everywhere (see Comparison)
SPREAD_WITHIN = ("home_area",)
#: a value held by fewer other records than this is never "common" (``frequency``): in a
#: small extract one other holder is already a large share, and says nothing of a population
MIN_COMMON_RECORDS = 5
STRING_METRICS = ("levenshtein", "damerau", "ratio")
DATE_PART_LEVELS = (
    "exact",
    "day_month_swapped",
    "one_part_differs",
    "day_month_unknown",
    "year_only",
)
#: date_parts levels that exist only with a ``placeholder`` (see Comparison)
PLACEHOLDER_LEVELS = ("day_month_unknown",)
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
    - ``shared``: ``keys`` — one level, ``shared``: any of the columns of one record equals
      any of the other's (a name's forms, each record holding a set of them in slots).
    - ``shown``: ``column`` and ``side``: one level, ``shown``, where the record on that side
      has a value in the column, else ``else`` (never null): a fact about one record that
      changes what the others' levels mean (the death record's address is a hospital or a
      care home: no home to compare).
    - ``exact``: ``column``; optional ``slips`` (tokens of parts of the value) and
      ``placeholder_records`` (see the fields below).
    - ``count``: ``column`` (a token), ``side`` and ``thresholds`` (min number of records):
      how many records on that side hold the value the record on that side shows, whatever
      the other record holds; null where it shows none. A fact about one record's value in
      its extract: a postcode at which many deaths are registered is a hospital's or a care
      home's, not a home.
    - ``bloom``: ``column`` (Bloom base name), ``exact`` (token for an exact top level),
      ``thresholds`` (minimum Dice per level), ``forms`` (levels below the Dice levels: per
      level, token columns of which any agreeing reaches it, e.g. a forename's initial;
      ``forms_as``: the same, read at a Dice level rather than a level of their own),
      ``slip_dice`` (a pair one slip apart reads the Dice its slip gives, whatever the key).
    - ``date_parts``: ``column`` (date base name), ``levels`` a subset of DATE_PART_LEVELS.
      With ``placeholder`` (a multiple), a day and month that a council's extract holds at
      least that many times as often as its median day and month (and on at least
      :data:`~fraudmatch.matching.placeholders.PLACEHOLDER_MIN_RECORDS` records) is the
      council's way of writing an unknown birthday (01/01): where the years agree and no
      pair of parts does, the level is ``day_month_unknown`` (the year agrees, the rest is
      not known), not ``year_only`` (two parts that differ).
    - ``date_diff`` / ``numeric``: ``column``, ``thresholds`` (max absolute difference).
    - ``frequency``: ``column`` (a token), ``thresholds`` (min relative frequency on the
      right side of the value both records share: how common the agreeing value is). With
      ``of: each``, of each record's own value, the commoner of the two, whether or not
      they agree: a surname with a slip (WILLLIAMS for WILLIAMS) is as common as the
      spelling the other record shows, where counting the slip itself would call it rare.
    - ``string``: ``column``, ``metric``, ``thresholds`` (max distance or min ratio;
      ``damerau`` counts two neighbouring characters swapped as one edit).
    - ``spread``: ``column`` (a token), ``by`` (a token), ``across`` (more datasets),
      ``thresholds`` (min number of distinct ``by`` values): in how many places the value
      both records share is found, over both sides and the ``across`` datasets loaded. A
      street line known in two postcode districts does not say which home is meant. With
      ``within: home_area`` the places are counted for a pair where one record has no ``by``
      only inside the home area of the council holding that record (the ``by`` values that
      hold :data:`~fraudmatch.matching.compare.HOME_AREA_SHARE` of its records), and a pair
      whose other record is outside that area is counted as found in several places.
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
    #: bloom only: per form level (after the Dice levels, best first), the alternatives
    #: (any one agreeing) that make a pair below every Dice threshold reach it
    forms: tuple[tuple[ColumnRef, ...], ...] = ()
    #: bloom only: alternatives that lift a pair below one of the Dice levels to it, whatever
    #: its Dice (two letters swapped, CHNADLER: ``very_close``), best first
    forms_as: tuple[tuple[tuple[ColumnRef, ...], str], ...] = ()
    #: bloom only: a pair one slip apart in a short single word (the value's ``slip1`` ...
    #: ``slip10`` tokens, :mod:`fraudmatch.spec.normalisers.slips`) takes the Dice the slip
    #: and the word's length give, not the Bloom estimate, so its level is the same under
    #: any key
    slip_dice: bool = False
    fixed_m: Mapping[str, float] | None = None
    fixed_u: Mapping[str, float] | None = None
    #: spread only: the token counted per value, and the datasets (besides the rule's own
    #: two) where values are also looked up, when loaded
    by: ColumnRef | None = None
    across: tuple[str, ...] = ()
    #: spread only: ``"home_area"`` counts places inside the home area of the council whose
    #: record lacks ``by`` (see :func:`fraudmatch.matching.compare.spread_table`)
    within: str | None = None
    #: frequency only: count the value both records share, or each record's own
    of: str = "shared"
    #: shown and count only: the side whose record is read
    side: str | None = None
    #: date_parts only: how many times its council's median day and month a day and month
    #: must be held to be read as a placeholder for an unknown birthday
    placeholder: float | None = None
    #: exact only: tokens of parts of the value (an NI number's two halves) of which any
    #: agreeing, where the whole differs, says one record has a keying slip: no evidence
    #: either way (null), never disagreement
    slips: tuple[ColumnRef, ...] = ()
    #: exact only: a value held by at least this many records of one council's extract is
    #: that council's placeholder (AB123456C written for an unknown NI number), no identifier:
    #: the comparison is null for a record showing it
    placeholder_records: int | None = None

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
            return suffixed(self.column, "__tok")
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
    #: combinations the evidence cannot decide (namesakes): never a match unless a hard
    #: match, but no veto either (nothing in them says two people)
    undecided: tuple[tuple[LevelSelector, ...], ...] = ()
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
    #: fields the fraud itself makes differ (two homes: address, postcode); None: by scope
    signature: tuple[str, ...] | None = None
    #: fields the fraud's definition needs (a duplicate invoice needs its number): a record
    #: without one cannot be this fraud, so requiring them breaks no principle
    requires: tuple[str, ...] = ()

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


def suffixed(ref: ColumnRef, suffix: str) -> ColumnRef:
    """The same column on both sides with ``suffix`` appended (e.g. ``__tok``)."""
    return ColumnRef(ref.left + suffix, ref.right + suffix)
