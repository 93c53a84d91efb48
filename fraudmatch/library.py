"""fraudmatch from Python: link two frames under a rule and a specification (docs/library.md).

The supported entry points are :func:`link` (both frames through the council side, then the
hub's engine) and :func:`prepare_frame` (one frame as a partner would send it). They run the
same ingest, pseudonymise and matching steps as the CLI, without keys on disk, sealing or a
hub workspace, which a notebook, a benchmark or another system's batch job does not need.

For accuracy tests and benchmarks on the synthetic councils: :func:`pseudonymised_frames`
(the hub's view of a folder of synthetic extracts), :func:`clear_frames`, :func:`truth_pairs`,
:func:`accuracy`, :func:`misses`, :func:`case_list_pairs` (the pairs councils' case lists
show, for scoring the CLI route) and :func:`pair_keys` (pairs of two routes side by side).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from fraudmatch.council.ingest import ROW, ingest, validate
from fraudmatch.council.pseudonymise import period_start, pseudonymise
from fraudmatch.matching.engine import RuleResult, run_rule
from fraudmatch.matching.rules import Rule, RuleError, lint_rules, load_rule
from fraudmatch.spec.bloom import DEFAULT_BLOOM, BloomParams
from fraudmatch.spec.specs import DatasetSpec, Spec, load_spec

__all__ = [
    "Linked",
    "Prepared",
    "accuracy",
    "clear_frames",
    "link",
    "misses",
    "prepare_frame",
    "pseudonymised_frames",
    "truth_pairs",
]


# A generator manifest's date style -> the date_format it amounts to: UK and mixed files write
# numeric dates day-first; an ISO file writes none, so there is nothing to declare.
_MANIFEST_DATES = {"uk": "dmy", "mixed": "dmy"}


def _accepted(
    synth_dir: Path, spec: Spec
) -> Iterator[tuple[dict, DatasetSpec, pl.DataFrame, date]]:
    """Each generated file's accepted rows, with its manifest entry and the period's start.

    Reads the generator's ``manifest.json`` so partners, datasets and each file's date
    order come from what was written, not from a guess at the folder layout.
    """
    manifest = json.loads((synth_dir / "manifest.json").read_text(encoding="utf-8"))
    if not manifest.get("cycle_date"):
        raise ValueError(
            f"{synth_dir / 'manifest.json'} has no cycle_date: the period the extracts are "
            "prepared for cannot be known; generate them again with fraudmatch synth"
        )
    as_of = period_start(manifest["cycle_date"][:7])
    for entry in sorted(manifest["files"], key=lambda e: (e["dataset"], e["partner"])):
        ds = spec.dataset(entry["dataset"])
        # the manifest says how the generator wrote the file's dates, as a partner declares
        date_format = _MANIFEST_DATES.get(entry.get("dates", ""))
        accepted = ingest(synth_dir / entry["path"], ds, date_format=date_format).accepted
        yield entry, ds, accepted, as_of


def pseudonymised_frames(
    synth_dir: Path | str,
    linkage_key: bytes,
    bloom: BloomParams = DEFAULT_BLOOM,
    spec: Spec | None = None,
) -> dict[str, pl.DataFrame]:
    """Per dataset, every partner's validated and pseudonymised extract, ``partner`` first.

    Rejected rows are left out, as the hub never receives them. The extracts are prepared
    for the period of the generator's cycle date (its month), as ``prepare --period`` would
    be for a cycle on that date.
    """
    parts: dict[str, list[pl.DataFrame]] = {}
    for entry, ds, accepted, as_of in _accepted(Path(synth_dir), spec or load_spec()):
        frame = pseudonymise(accepted, ds, linkage_key, bloom, as_of=as_of)
        frame = frame.select(pl.lit(entry["partner"], pl.String).alias("partner"), pl.all())
        parts.setdefault(entry["dataset"], []).append(frame)
    return {ds: pl.concat(frames, how="vertical") for ds, frames in parts.items()}


def clear_frames(synth_dir: Path | str, spec: Spec | None = None) -> dict[str, pl.DataFrame]:
    """Per dataset, every partner's validated extract in clear (normalised), ``partner``
    first: what a partner sees of its own records, for reading a miss beside its evidence."""
    parts: dict[str, list[pl.DataFrame]] = {}
    for entry, _, accepted, _ in _accepted(Path(synth_dir), spec or load_spec()):
        frame = accepted.select(pl.lit(entry["partner"], pl.String).alias("partner"), pl.all())
        parts.setdefault(entry["dataset"], []).append(frame)
    return {ds: pl.concat(frames, how="diagonal_relaxed") for ds, frames in parts.items()}


def truth_pairs(synth_dir: Path | str) -> pl.DataFrame:
    """The generator's ``truth/cases.csv``: every pair a rule must flag (case) or leave (decoy)."""
    return pl.read_csv(Path(synth_dir) / "truth" / "cases.csv", infer_schema=False)  # ids stay text


_PAIR = ("left_partner", "left_record_id", "right_partner", "right_record_id")


def pair_keys(frame: pl.DataFrame, one_dataset: bool) -> pl.DataFrame:
    """(rule, pair) keys as text, with ``kind`` and ``label`` where the frame has them;
    within one dataset the pair is unordered (smaller record first), so two frames' pairs
    compare by joining on the keys, whichever record a route put on the left."""
    extra = [c for c in ("kind", "label") if c in frame.columns]
    out = frame.select("rule", *[pl.col(c).cast(pl.String) for c in _PAIR], *extra)
    if not one_dataset:
        return out
    swap = (pl.col("left_partner") + pl.col("left_record_id")) > (
        pl.col("right_partner") + pl.col("right_record_id")
    )
    pairs = list(zip(_PAIR[:2], _PAIR[2:], strict=True))
    return out.select(
        "rule",
        *[pl.when(swap).then(pl.col(y)).otherwise(pl.col(x)).alias(x) for x, y in pairs],
        *[pl.when(swap).then(pl.col(x)).otherwise(pl.col(y)).alias(y) for x, y in pairs],
        *extra,
    )


def _by_rule(
    matches: dict[str, pl.DataFrame], truth: pl.DataFrame, one_dataset: dict[str, bool]
) -> Iterator[tuple[str, pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """Per rule: its flagged pairs, its truth cases and its decoys (with their ``label``)."""
    if "label" not in truth.columns:
        truth = truth.with_columns(label=pl.lit(None, pl.String))
    for rule, found in matches.items():
        od = one_dataset[rule]
        got = pair_keys(found, od).unique()
        t = pair_keys(truth.filter(pl.col("rule") == rule), od)
        cases = t.filter(pl.col("kind") == "case").select("rule", *_PAIR).unique()
        decoys = t.filter(pl.col("kind") == "decoy").unique(subset=["rule", *_PAIR])
        yield rule, got, cases, decoys


def accuracy(
    matches: dict[str, pl.DataFrame], truth: pl.DataFrame, one_dataset: dict[str, bool]
) -> pl.DataFrame:
    """Per rule: truth cases, found, true/false positives, recall, precision, decoys flagged.

    Pairs are compared on partners and record ids only (what a partner re-identifies);
    ``one_dataset`` says which rules compare a dataset with itself (unordered pairs).
    """
    rows = []
    for rule, got, cases, decoys in _by_rule(matches, truth, one_dataset):
        tp = got.join(cases, on=["rule", *_PAIR], how="semi").height
        n_dec = got.join(decoys, on=["rule", *_PAIR], how="semi").height
        rows.append(
            {
                "rule": rule,
                "cases": cases.height,
                "found": got.height,
                "true_pos": tp,
                "false_pos": got.height - tp,
                "recall": tp / cases.height if cases.height else 1.0,
                "precision": tp / got.height if got.height else 1.0,
                "decoys": decoys.height,
                "decoys_flagged": n_dec,
            }
        )
    return pl.DataFrame(rows)


def misses(
    matches: dict[str, pl.DataFrame], truth: pl.DataFrame, one_dataset: dict[str, bool]
) -> pl.DataFrame:
    """The pairs behind :func:`accuracy`'s figures that were wrong: every truth case a rule did
    not flag (``outcome`` "missed") and every pair it flagged that is not a case ("false",
    with the decoy's ``label`` where the pair was a planted hard negative).

    Why: a recall figure says how many; tuning to principles needs to see which.
    """
    out = []
    for _, got, cases, decoys in _by_rule(matches, truth, one_dataset):
        missed = cases.join(got, on=["rule", *_PAIR], how="anti")
        false = got.join(cases, on=["rule", *_PAIR], how="anti")
        false = false.join(decoys.select("rule", *_PAIR, "label"), on=["rule", *_PAIR], how="left")
        out.append(missed.with_columns(outcome=pl.lit("missed"), label=pl.lit(None, pl.String)))
        out.append(false.with_columns(outcome=pl.lit("false")))
    cols = ["rule", "outcome", "label", *_PAIR]
    if not out:
        return pl.DataFrame(schema={c: pl.String for c in cols})
    return pl.concat([o.select(cols) for o in out]).sort(cols, nulls_last=True)


def case_list_pairs(case_lists: list[Path], rules: list[Rule]) -> dict[str, pl.DataFrame]:
    """Per rule, the pairs the councils' case lists (``fraudmatch open``'s CSVs) show, with
    the rule's left dataset on the left: each row is a council's own record and the other
    record's council and id, so a pair across two councils is in both lists, once here (a
    rule comparing one dataset with itself may hold it in both orders, as :func:`accuracy`
    reads such a rule's pairs).

    Why: the route a council takes ends in its case list; scoring that, beside
    :func:`accuracy` on the engine's own matches, shows what a user would see.
    """
    cols = ["rule", "partner", "dataset", "record_id", "other_partner", "other_dataset",
            "other_record_id"]  # fmt: skip
    empty = pl.DataFrame(schema=dict.fromkeys(cols, pl.String))
    rows = pl.concat(
        [empty, *(pl.read_csv(p, infer_schema=False, columns=cols) for p in case_lists)]
    )
    mine, theirs = ("partner", "record_id"), ("other_partner", "other_record_id")
    found = {}
    for rule in rules:
        of_rule = rows.filter(pl.col("rule") == rule.name)
        sides = []
        for left, right, on in ((mine, theirs, "dataset"), (theirs, mine, "other_dataset")):
            sides.append(
                of_rule.filter(pl.col(on) == rule.left).select(
                    pl.lit(rule.name).alias("rule"),
                    *[pl.col(c).alias(a) for c, a in zip((*left, *right), _PAIR, strict=True)],
                )
            )
        found[rule.name] = pl.concat(sides).unique(maintain_order=True)
    return found


# --------------------------------------------------------------------------- the public route


@dataclass(frozen=True)
class Prepared:
    """One frame as a partner would send it: pseudonymised accepted rows, and the rejects."""

    frame: pl.DataFrame
    rejects: pl.DataFrame


@dataclass(frozen=True)
class Linked:
    """What :func:`link` found: one row per matched pair with its evidence, and the rejects.

    ``matches`` has ``left_record_id`` and ``right_record_id`` (your own ids), the partners,
    the blocking rule that proposed the pair, the match weight or probability, and the level
    each comparison reached. ``rejects`` holds, per side, every row or value refused with its
    reason (``row`` is the 1-based position in the frame you passed).
    """

    matches: pl.DataFrame
    rejects: dict[str, pl.DataFrame]
    result: RuleResult


def _spec(spec: Spec | Path | str | None) -> Spec:
    return spec if isinstance(spec, Spec) else load_spec(spec)


def _rule(rule: Rule | Path | str) -> Rule:
    return rule if isinstance(rule, Rule) else load_rule(rule)


def prepare_frame(
    frame: pl.DataFrame,
    dataset: str,
    *,
    key: bytes,
    period: str,
    spec: Spec | Path | str | None = None,
    partner: str = "partner",
    bloom: BloomParams = DEFAULT_BLOOM,
    date_format: str | None = None,
) -> Prepared:
    """Validate, normalise and pseudonymise one frame exactly as ``fraudmatch prepare`` does.

    ``frame`` has the dataset's columns by name (any type: they are read as text, as from
    a CSV); ``key`` is the 32-byte linkage key (equal values give equal tokens only under
    the same key). ``period`` is the period the frame is for (``2026-11``, as ``prepare
    --period``): what is derived from a date (an attainer's month of turning 18) is computed
    against its first day, never against the day this runs. The result has a ``partner``
    column first, as the hub's frames do. ``date_format`` (``dmy``, ``mdy`` or ``iso``) says
    which way round numeric dates are written, as a partner declares it; without it the
    dates must show it, and a date column whose dates all read either way is an error.
    """
    if len(key) != 32:
        raise ValueError(f"the linkage key must be 32 bytes, got {len(key)}")
    as_of = period_start(period)
    ds = _spec(spec).dataset(dataset)
    text = frame.select(pl.all().cast(pl.String))
    numbered = text.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    checked = validate(numbered, ds, source=f"the {dataset} frame", date_format=date_format)
    pseudo = pseudonymise(checked.accepted, ds, key, bloom, as_of=as_of)
    pseudo = pseudo.select(pl.lit(partner, pl.String).alias("partner"), pl.all())
    return Prepared(frame=pseudo, rejects=checked.rejects)


def link(
    left: pl.DataFrame,
    right: pl.DataFrame | None,
    rule: Rule | Path | str,
    *,
    spec: Spec | Path | str | None = None,
    cycle_date: date,
    key: bytes | None = None,
    partners: tuple[str, str] = ("left", "right"),
    bloom: BloomParams = DEFAULT_BLOOM,
    date_format: str | None = None,
) -> Linked:
    """Link two frames under a match rule and a data specification, pseudonymised.

    ``left`` holds the rule's left dataset and ``right`` its right one (``None`` for a rule
    that looks for duplicates within one frame). Both go through the council side (checked
    against ``spec``, by default the shipped specification; normalised; keyed tokens and
    Bloom encodings under ``key``, by default a fresh random key), then the hub's engine runs
    ``rule`` on the result. ``cycle_date`` is the date the rule's conditions are evaluated
    at, and its month the period both frames are prepared for (there is no default: a
    result must not depend on the day it is computed). The
    frames are told apart as ``partners``, so a rule scoped ``across_partners`` compares
    left with right. ``date_format`` is how both frames write numeric dates
    (:func:`prepare_frame`).
    """
    spec, rule = _spec(spec), _rule(rule)
    problems = [p for p in lint_rules([rule], spec, bloom) if p.severity == "error"]
    if problems:
        raise RuleError("; ".join(str(p) for p in problems))
    key = key if key is not None else secrets.token_bytes(32)
    sides = [("left", rule.left, left, partners[0])]
    if right is not None:
        sides.append(("right", rule.right, right, partners[1]))
    elif rule.left != rule.right:
        raise ValueError(f"{rule.name} links {rule.left} with {rule.right}: give both frames")
    period = cycle_date.strftime("%Y-%m")
    prepared = {
        side: prepare_frame(
            frame,
            dataset,
            key=key,
            period=period,
            spec=spec,
            partner=partner,
            bloom=bloom,
            date_format=date_format,
        )
        for side, dataset, frame, partner in sides
    }
    frames: dict[str, list[pl.DataFrame]] = {}
    for side, dataset, _, _ in sides:
        frames.setdefault(dataset, []).append(prepared[side].frame)
    stacked = {ds: pl.concat(parts, how="vertical") for ds, parts in frames.items()}
    result = run_rule(rule, stacked, cycle_date=cycle_date)
    rejects = {side: p.rejects for side, p in prepared.items()}
    return Linked(matches=result.matches, rejects=rejects, result=result)
