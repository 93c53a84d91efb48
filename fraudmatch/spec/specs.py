"""The standard data specification: which datasets exist and what each column is.

The shipped specification lives in YAML (``fraudmatch/shipped/config/datasets.yaml``). A
partnership extends it without touching code: its own file (``spec:`` in the partnership
file) says ``extends: shipped`` and adds datasets, or columns to shipped datasets. Loading
validates strictly and names the file and key path of every problem, because a mistake here
silently changes what leaves a partner. Every party must run under the same specification,
so each has a :attr:`Spec.fingerprint` that submissions carry and the hub checks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from fraudmatch.common.hints import did_you_mean
from fraudmatch.shipped import SHIPPED, shipped_spec_path
from fraudmatch.spec.normalisers.name_forms import FORM_EXTRAS
from fraudmatch.spec.normalisers.names import SWAP_EXTRAS
from fraudmatch.spec.normalisers.slips import SLIP_EXTRAS

if TYPE_CHECKING:
    from fraudmatch.spec.partnership import Partnership

TYPES = ("string", "date", "number")
NORMALISERS = (
    "record_id",
    "name",
    "ni_number",
    "postcode",
    "date",
    "sort_code",
    "account_number",
    "address",
    "text",
    "code",
    "uprn",
    "amount",
    # declared with options: normaliser: {kind: identifier, pattern: ..., check_digit: luhn}
    "identifier",
    "postal_code",
    "phone",
)
PSEUDONYMISE = ("clear", "token", "bloom", "phonetic", "date_parts", "adult_month", "withheld")
# Methods whose output the hub reads in clear: each such column must say ``why:`` it needs it.
CLEAR_METHODS = frozenset({"clear", "adult_month"})
# Methods that send a coarse part of a personal value in clear next to its tokens
# (date_parts: the year of birth, ``{col}__year``): such a column must say ``why:`` too.
CLEAR_PART_METHODS = frozenset({"date_parts"})
# Extra columns each normaliser adds next to the value (``{col}__{suffix}``).
NORMALISER_EXTRAS: dict[str, tuple[str, ...]] = {
    "name": (
        "first", "last", "initial", "formal", "given", "initials", "two_initials", "letters",
        *FORM_EXTRAS, *SWAP_EXTRAS, "given_near", *SLIP_EXTRAS,
    ),
    "postcode": ("sector", "district"),
    "address": ("line", "number", "street", "institution"),
    "ni_number": ("head", "tail"),
}  # fmt: skip
# Extras a column sends only where its ``extras:`` lists them (data minimisation): a
# forename's name forms (ten tokens) are read by the single-person discount helpers alone,
# and whether an address is a hospital or care home by the deceased rules alone.
# The swap extras (a name keyed in a domain both name columns share) likewise go only where
# a rule looks for surname and forenames written in each other's column.
# An NI number's halves go only where a rule reads a slip in it (the ``slips`` of an exact
# comparison). The known name a forename's slip stands for (``given_near``) goes only where
# a twins veto reads it, and a surname's slips (``slip1`` ... ``slip10``) only where a rule
# reads its Dice (``slip_dice``).
LISTED_ONLY_EXTRAS: tuple[str, ...] = (
    *FORM_EXTRAS, "institution", *SWAP_EXTRAS, "head", "tail", "given_near", *SLIP_EXTRAS,
)  # fmt: skip
# Which pseudonymisation methods make sense for which normalised type.
_METHODS_FOR_TYPE = {
    "string": {"clear", "token", "bloom", "phonetic", "withheld"},
    "date": {"clear", "date_parts", "adult_month", "token", "withheld"},
    "number": {"clear", "withheld"},
}
_COLUMN_KEYS = {"type", "required", "normaliser", "pseudonymise", "description", "why", "extras"}
_DATASET_KEYS = {"description", "columns"}

DEFAULT_SPEC_PATH = shipped_spec_path()
#: Key of the payload's Parquet metadata that holds the specification's fingerprint.
SPEC_FINGERPRINT_KEY = "fraudmatch.spec_fingerprint"


class SpecError(ValueError):
    """The data specification file is invalid; the message names the file and key."""


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a dataset: how it is normalised and what leaves the partner."""

    name: str
    type: str
    required: bool
    normaliser: str
    pseudonymise: tuple[str, ...]
    description: str = ""
    # a declared normaliser's options (pattern, check_digit, country ...), sorted by name
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def options_dict(self) -> dict[str, Any]:
        return dict(self.options)

    # why the hub needs this column in clear (data minimisation); set for every clear column
    why: str = ""
    # the normaliser's extras this column sends (``extras:``), when it sends fewer than all:
    # data minimisation, since a surname's initial, say, is 26 tokens no rule reads
    sent_extras: tuple[str, ...] | None = None

    @property
    def clear(self) -> bool:
        """Whether anything of this column reaches the hub readable (not a token or CLK)."""
        return bool(CLEAR_METHODS.intersection(self.pseudonymise))

    @property
    def needs_why(self) -> bool:
        """Whether the hub reads this column, or a part of it, in clear: it must say why."""
        return self.clear or bool(CLEAR_PART_METHODS.intersection(self.pseudonymise))

    @property
    def extras(self) -> tuple[str, ...]:
        """Suffixes of the extra normalised columns sent (e.g. ``first``, ``last``): the
        normaliser's, or those the column's ``extras:`` lists."""
        if self.sent_extras is not None:
            return self.sent_extras
        return tuple(
            x for x in NORMALISER_EXTRAS.get(self.normaliser, ()) if x not in LISTED_ONLY_EXTRAS
        )

    @property
    def withheld(self) -> bool:
        return "withheld" in self.pseudonymise

    def meaning(self) -> list[Any]:
        """What the column means for the data that leaves (descriptions left out)."""
        options = [[k, v] for k, v in self.options]
        out = [self.type, self.required, self.normaliser, options, list(self.pseudonymise)]
        return out if self.sent_extras is None else [*out, ["extras", list(self.sent_extras)]]


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset a partner can submit, with its columns in order."""

    name: str
    description: str
    columns: tuple[ColumnSpec, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(_unknown("column", name, self.column_names, f"dataset {self.name!r}"))


@dataclass(frozen=True)
class Spec:
    """The whole data specification."""

    datasets: Mapping[str, DatasetSpec]
    source: str = field(default="<memory>")

    @property
    def fingerprint(self) -> str:
        """A short hash of what every column means, so two parties can tell that they run
        under the same specification (descriptions and comments do not count)."""
        meaning = {
            ds.name: {c.name: c.meaning() for c in ds.columns} for ds in self.datasets.values()
        }
        canonical = json.dumps(meaning, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def dataset(self, name: str) -> DatasetSpec:
        try:
            return self.datasets[name]
        except KeyError:
            raise KeyError(
                _unknown("dataset", name, list(self.datasets), f"the specification {self.source}")
            ) from None


def _unknown(kind: str, name: str, known: list[str], where: str) -> str:
    hint = did_you_mean(name, known)
    return f"unknown {kind} {name!r} in {where}{hint} (known: {', '.join(known)})"


def _fail(source: str, path: str, message: str) -> SpecError:
    return SpecError(f"{source}: {path}: {message}")


def _parse_normaliser(source: str, path: str, raw: Any) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """``name`` or ``{kind: name, option: value, ...}``; options are checked (a pattern is
    compiled) now, so a mistake names its column before any extract is read."""
    from fraudmatch.spec.normalisers import OptionError, build_normaliser

    options: dict[str, Any] = {}
    if isinstance(raw, dict):
        if "kind" not in raw:
            raise _fail(source, f"{path}.kind", "missing: which normaliser (e.g. identifier)")
        options = {k: v for k, v in raw.items() if k != "kind"}
        raw = raw["kind"]
    if raw not in NORMALISERS:
        raise _fail(source, path, f"expected one of {', '.join(NORMALISERS)}, got {raw!r}")
    try:
        build_normaliser(raw, options)
    except OptionError as exc:
        raise _fail(source, f"{path}.{exc.key}", str(exc)) from None
    return raw, tuple(sorted(options.items()))


def _parse_column(source: str, ds: str, name: str, raw: Any) -> ColumnSpec:
    path = f"datasets.{ds}.columns.{name}"
    if not isinstance(raw, dict):
        raise _fail(source, path, "expected a mapping with type, normaliser, pseudonymise")
    unknown = set(raw) - _COLUMN_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise _fail(source, f"{path}.{key}", f"unknown key{did_you_mean(key, _COLUMN_KEYS)}")
    for key in ("type", "normaliser", "pseudonymise"):
        if key not in raw:
            raise _fail(source, f"{path}.{key}", "missing")
    col_type = raw["type"]
    if col_type not in TYPES:
        raise _fail(source, f"{path}.type", f"expected one of {', '.join(TYPES)}, got {col_type!r}")
    normaliser, options = _parse_normaliser(source, f"{path}.normaliser", raw["normaliser"])
    methods = raw["pseudonymise"]
    if isinstance(methods, str):
        methods = [methods]
    if not isinstance(methods, list) or not methods:
        raise _fail(source, f"{path}.pseudonymise", "expected a non-empty list of methods")
    for m in methods:
        if m not in PSEUDONYMISE:
            raise _fail(
                source,
                f"{path}.pseudonymise",
                f"expected methods from {', '.join(PSEUDONYMISE)}, got {m!r}",
            )
        if m not in _METHODS_FOR_TYPE[col_type]:
            raise _fail(source, f"{path}.pseudonymise", f"{m!r} does not apply to a {col_type}")
    if "withheld" in methods and len(methods) > 1:
        raise _fail(source, f"{path}.pseudonymise", "'withheld' cannot be combined with others")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise _fail(source, f"{path}.required", f"expected true or false, got {required!r}")
    sent = _parse_extras(source, f"{path}.extras", raw.get("extras"), normaliser)
    return ColumnSpec(
        name=name,
        type=col_type,
        required=required,
        normaliser=normaliser,
        options=options,
        pseudonymise=tuple(methods),
        description=str(raw.get("description", "")),
        why=str(raw.get("why", "")),
        sent_extras=sent,
    )


def _parse_extras(source: str, path: str, raw: Any, normaliser: str) -> tuple[str, ...] | None:
    """``extras: [first, last]``: which of the normaliser's extras the column sends."""
    if raw is None:
        return None
    allowed = NORMALISER_EXTRAS.get(normaliser, ())
    # the ten form slots and the ten slip slots as one entry each
    slots = (*FORM_EXTRAS[1:], *SLIP_EXTRAS[1:])
    shown = ", ".join(x for x in allowed if x not in slots) or "none"
    for group in (FORM_EXTRAS, SLIP_EXTRAS):
        shown = shown.replace(group[0], f"{group[0]} ... {group[-1]}")
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise _fail(source, path, f"expected a list of extras from {shown}")
    unknown = [x for x in raw if x not in allowed]
    if unknown:
        raise _fail(
            source, path,
            f"{unknown[0]!r} is not an extra of the {normaliser} normaliser "
            f"(its extras: {shown})",
        )  # fmt: skip
    return tuple(x for x in allowed if x in raw)  # the normaliser's order


def _parse_dataset(source: str, ds: str, raw: Any, base: DatasetSpec | None) -> DatasetSpec:
    """One dataset; with ``base`` (a shipped dataset) its columns are added to the base's."""
    path = f"datasets.{ds}"
    if not isinstance(raw, dict) or not isinstance(raw.get("columns"), dict):
        raise _fail(source, f"{path}.columns", "missing: expected a mapping of columns")
    unknown = set(raw) - _DATASET_KEYS
    if unknown:
        raise _fail(source, f"{path}.{sorted(unknown)[0]}", "unknown key")
    columns = tuple(_parse_column(source, ds, n, c) for n, c in raw["columns"].items())
    if base is not None:
        for col in columns:
            if col.name in base.column_names:
                raise _fail(
                    source,
                    f"{path}.columns.{col.name}",
                    "already a column of the shipped dataset: an extension adds columns, it "
                    "does not redefine them (choose another name)",
                )
        columns = base.columns + columns
    description = str(raw.get("description", base.description if base else ""))
    spec = DatasetSpec(name=ds, description=description, columns=columns)
    if "record_id" not in spec.column_names:
        raise _fail(source, f"{path}.columns", "every dataset needs a record_id column")
    rid = spec.column("record_id")
    if not rid.required or rid.pseudonymise != ("clear",):
        raise _fail(
            source,
            f"{path}.columns.record_id",
            "record_id must be required and clear (partners re-identify by it)",
        )
    return spec


def _base_spec(source: str, extends: Any) -> Spec | None:
    if extends is None or extends == "none":
        return None
    if extends != SHIPPED:
        raise _fail(source, "extends", f"expected {SHIPPED!r} (or none), got {extends!r}")
    return load_spec(shipped_spec_path())


def parse_spec(data: Any, source: str = "<memory>") -> Spec:
    """Validate a parsed YAML document and build the typed specification.

    With ``extends: shipped`` the document's datasets are added to the shipped ones, and
    a shipped dataset it names gets the extra columns it lists.
    """
    if not isinstance(data, dict) or "datasets" not in data:
        raise _fail(source, "datasets", "missing: expected a mapping of dataset names")
    unknown = set(data) - {"version", "extends", "datasets"}
    if unknown:
        key = sorted(unknown)[0]
        raise _fail(source, key, f"unknown key{did_you_mean(key, ['version', 'extends'])}")
    if data.get("version", 1) != 1:
        raise _fail(source, "version", f"expected 1, got {data.get('version')!r}")
    base = _base_spec(source, data.get("extends"))
    datasets: dict[str, DatasetSpec] = dict(base.datasets) if base else {}
    if not isinstance(data["datasets"] or {}, dict):
        raise _fail(source, "datasets", "expected a mapping of dataset names")
    for ds, raw in (data["datasets"] or {}).items():
        datasets[ds] = _parse_dataset(source, ds, raw, base.datasets.get(ds) if base else None)
    if not datasets:
        raise _fail(source, "datasets", "no datasets defined")
    return Spec(datasets=datasets, source=source)


def load_spec(path: Path | str | None = None) -> Spec:
    """Load and validate the data specification (the shipped one by default)."""
    path = Path(path) if path is not None else DEFAULT_SPEC_PATH
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: data specification not found") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from None
    return parse_spec(data, source=str(path))


def resolve_spec(
    partnership: Partnership | None = None, override: Path | str | None = None
) -> Spec:
    """The specification a command runs under: ``--spec`` if given, else the partnership's
    ``spec:``, else the shipped one."""
    if override is not None:
        return load_spec(override)
    if partnership is not None and partnership.spec is not None:
        return load_spec(partnership.spec)
    return load_spec()
