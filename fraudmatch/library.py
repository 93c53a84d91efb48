"""The hub's view of a folder of synthetic extracts, without the sealing round trip.

Why: accuracy tests and benchmarks need exactly the frames the hub matches on (what
``collect.load_current`` returns after every partner ran ``prepare``), but sealing and
collecting add minutes and keys that say nothing about matching. This module runs the
same ingest and pseudonymise steps per extract and stacks them per dataset.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from fraudmatch.council.ingest import ingest
from fraudmatch.council.pseudonymise import pseudonymise
from fraudmatch.spec.bloom import DEFAULT_BLOOM, BloomParams
from fraudmatch.spec.specs import Spec, load_spec

__all__ = ["accuracy", "pseudonymised_frames", "truth_pairs"]


def pseudonymised_frames(
    synth_dir: Path | str,
    linkage_key: bytes,
    bloom: BloomParams = DEFAULT_BLOOM,
    spec: Spec | None = None,
) -> dict[str, pl.DataFrame]:
    """Per dataset, every partner's validated and pseudonymised extract, ``partner`` first.

    Reads the generator's ``manifest.json`` so partners and datasets come from what was
    written, not from a guess at the folder layout. Rejected rows are left out, as the
    hub never receives them.
    """
    synth_dir = Path(synth_dir)
    spec = spec or load_spec()
    manifest = json.loads((synth_dir / "manifest.json").read_text(encoding="utf-8"))
    parts: dict[str, list[pl.DataFrame]] = {}
    for entry in sorted(manifest["files"], key=lambda e: (e["dataset"], e["partner"])):
        ds = spec.dataset(entry["dataset"])
        accepted = ingest(synth_dir / entry["path"], ds).accepted
        frame = pseudonymise(accepted, ds, linkage_key, bloom)
        frame = frame.select(pl.lit(entry["partner"], pl.String).alias("partner"), pl.all())
        parts.setdefault(entry["dataset"], []).append(frame)
    return {ds: pl.concat(frames, how="vertical") for ds, frames in parts.items()}


def truth_pairs(synth_dir: Path | str) -> pl.DataFrame:
    """The generator's ``truth/cases.csv``: every pair a rule must flag (case) or leave (decoy)."""
    return pl.read_csv(Path(synth_dir) / "truth" / "cases.csv", infer_schema=False)  # ids stay text


_PAIR = ("left_partner", "left_record_id", "right_partner", "right_record_id")


def _pairs(frame: pl.DataFrame, one_dataset: bool) -> pl.DataFrame:
    """(rule, pair) keys; within one dataset the pair is unordered (smaller record first)."""
    extra = [c for c in ("kind",) if c in frame.columns]
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


def accuracy(
    matches: dict[str, pl.DataFrame], truth: pl.DataFrame, one_dataset: dict[str, bool]
) -> pl.DataFrame:
    """Per rule: truth cases, found, true/false positives, recall, precision, decoys flagged.

    Pairs are compared on partners and record ids only (what a partner re-identifies);
    ``one_dataset`` says which rules compare a dataset with itself (unordered pairs).
    """
    rows = []
    for rule, found in matches.items():
        od = one_dataset[rule]
        got = _pairs(found, od).unique()
        t = _pairs(truth.filter(pl.col("rule") == rule), od)
        cases = t.filter(pl.col("kind") == "case").drop("kind").unique()
        decoys = t.filter(pl.col("kind") == "decoy").drop("kind").unique()
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
