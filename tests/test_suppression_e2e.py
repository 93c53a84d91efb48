"""Reviewed matches are not raised again: two cycles through the CLI, outcomes in between.

Cycle 1 runs on three councils' extracts. Analysts record outcomes on some matches. The
councils resubmit the same extracts for the next period under a NEW linkage key (keys may
change every cycle), one payroll record with a changed forename. Cycle 2 must keep the
reviewed matches out of what it distributes (but list them as suppressed, with the
reason), still raise the one under investigation, and raise the one whose evidence changed
with a note saying what changed.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from cli_steps import RULES, cycle, deliver, open_bundle_rows, prepare

from fraudmatch.cli import main
from fraudmatch.council.ingest import header_to_snake, read_extract
from fraudmatch.hub.runs import run_id_for
from fraudmatch.matching.rules import load_rules
from fraudmatch.review import outcomes as oc
from fraudmatch.review.suppress import suppress
from fraudmatch.sealing.keys import new_partnership_key
from fraudmatch.spec.specs import load_spec
from fraudmatch.synth import generate
from fraudmatch.synth.demo import make_parties

CYCLE1 = date(2026, 11, 1)
CYCLE2 = date(2026, 12, 1)
STABLE = {"exact", "else", "null", "left_initial", "right_initial", "formal", "sector",
          "district", "account", "sort_code", "left_middle", "right_middle",
          "within_ten", "common", "postcode", "address", "same", "soundex", "metaphone",
          "left_initials", "right_initials"}  # fmt: skip
"""Levels that come from token equality (``common``: how many records share a token), so a
new linkage key cannot move them (a Bloom Dice level near its threshold could move a little
with another key's bigram hashing)."""
_KINDS = ("fraud", "error", "no_issue", "under_investigation")
PAIR = ["rule", "left_partner", "left_record_id", "right_partner", "right_record_id"]


def run_frames(workspace: Path, when: date, folder: str) -> pl.DataFrame:
    files = sorted((workspace / "runs" / run_id_for(when) / folder).glob("*.parquet"))
    frames = [pl.read_parquet(p) for p in files]
    return pl.concat([f for f in frames if f.height], how="diagonal_relaxed")


def bundles(workspace: Path, parties, partners, when: date) -> pl.DataFrame:
    rows = []
    for partner in partners:
        (bundle,) = (workspace / "outbox" / partner).glob(f"*{run_id_for(when)}__v*.bundle")
        rows.append(open_bundle_rows(parties, partner, bundle))
    return pl.concat(rows, how="diagonal_relaxed")


def change_forename(source: Path, target_dir: Path, record_id: str) -> None:
    """Rewrite one extract as CSV with one record's forenames changed by a letter."""
    raw, _ = read_extract(source)
    raw = raw.drop("__row")
    names = {header_to_snake(c): c for c in raw.columns}
    rid, fore = names["record_id"], names["forenames"]
    assert raw.filter(pl.col(rid).str.strip_chars() == record_id).height == 1
    raw = raw.with_columns(
        pl.when(pl.col(rid).str.strip_chars() == record_id)
        .then(pl.col(fore).str.strip_chars() + "e")
        .otherwise(pl.col(fore))
        .alias(fore)
    )
    (target_dir / source.name).unlink()
    raw.write_csv(target_dir / f"{source.stem}.csv")


def test_suppress_without_outcomes_and_mirrored_pairs() -> None:
    m = pl.DataFrame(
        {"rule": ["r", "r"], "left_partner": ["a", "b"], "left_dataset": ["p", "p"],
         "left_record_id": ["1", "2"], "right_partner": ["b", "a"], "right_dataset": ["p", "p"],
         "right_record_id": ["2", "3"], "level_ni": ["exact", "exact"], "case_id": ["c1", "c2"]}
    )  # fmt: skip
    empty = suppress(m, pl.DataFrame(schema={"match_key": pl.String, **_OUTCOME_SCHEMA}))
    assert empty.raised.height == 2 and empty.count == 0
    assert empty.raised["note"].null_count() == 2
    # an outcome recorded on b/2 -> a/1 (the pair written the other way round)
    mirrored = {"rule": "r", "left_partner": "b", "left_dataset": "p", "left_record_id": "2",
                "right_partner": "a", "right_dataset": "p", "right_record_id": "1"}  # fmt: skip
    outcomes = pl.DataFrame(
        [{"match_key": oc.match_key(*mirrored.values()), "outcome": "no_issue",
          "analyst": "ann", "recorded_at": None, "evidence_hash": None,
          "evidence_labels": None, "same_entity": None, "amount": None}],
        schema={"match_key": pl.String, **_OUTCOME_SCHEMA},
    )  # fmt: skip
    hashed = suppress(m, outcomes.head(0)).raised["evidence_hash"][0]
    outcomes = outcomes.with_columns(pl.lit(hashed).alias("evidence_hash"))
    assert suppress(m, outcomes).count == 0  # a two-dataset rule: orientation is meaningful
    split = suppress(m, outcomes, one_dataset=True)
    assert split.count == 1 and split.by_outcome == {"no_issue": 1}
    assert split.raised["left_record_id"].to_list() == ["2"]


_OUTCOME_SCHEMA = {
    "outcome": pl.String, "analyst": pl.String, "recorded_at": pl.Datetime("us", "UTC"),
    "evidence_hash": pl.String, "evidence_labels": pl.String, "same_entity": pl.Boolean,
    "amount": pl.Float64,
}  # fmt: skip


@pytest.fixture
def harness(prefect_harness):
    return prefect_harness  # one Prefect test server per session (tests/conftest.py)


# No capsys here: Prefect's console log handler keeps the stream it first saw (see
# test_cycle_e2e.py). What the CLI printed is in the runs' summary.json and report.
def test_second_cycle_raises_no_reviewed_match_again(tmp_path, harness, monkeypatch) -> None:
    monkeypatch.delenv(oc.URL_ENV, raising=False)
    root = tmp_path
    synth = generate(root / "councils", partners=3, people=3_000, seed=3, cycle_date=CYCLE1)
    partners = synth.partners
    parties = make_parties(root, partners, list(load_spec().datasets))
    for partner in partners:
        prepare(parties, partner, root / "councils" / partner, root / "prepared1" / partner,
                "2026-11", parties.linkage_key_path)  # fmt: skip
    workspace = root / "ws"
    deliver(root / "prepared1", workspace, partners)

    # --- cycle 1: nobody has recorded anything (no outcomes database at all) ------------
    assert cycle(parties, workspace, CYCLE1) == 0
    assert not (workspace / "outcomes.sqlite").exists()
    first = run_frames(workspace, CYCLE1, "matches")
    assert {"match_key", "evidence_hash", "note"} <= set(first.columns)
    assert first["note"].null_count() == first.height

    # --- analysts record outcomes -------------------------------------------------------
    levels = [c for c in first.columns if c.startswith("level_")]
    stable = first.filter(
        pl.col("tier").is_in(["hard_match", "deterministic"])
        & pl.all_horizontal([pl.col(c).is_null() | pl.col(c).is_in(sorted(STABLE)) for c in levels])
    )
    # the pair whose evidence will change: same person by NI number and date of birth
    # (a hard match), exact forenames now; its payroll record's forename gets a letter more
    changing = (
        stable.filter(
            pl.col("rule").is_in(["payroll_to_housing_benefit", "council_tax_reduction_to_payroll"])
            & (pl.col("level_ni") == "exact")
            & (pl.col("level_dob") == "exact")
            & (pl.col("level_forenames") == "exact")
        )
        .sort(PAIR)
        .row(0, named=True)
    )
    side = "left" if changing["left_dataset"] == "payroll" else "right"
    payroll_partner, payroll_id = changing[f"{side}_partner"], changing[f"{side}_record_id"]
    touches = (
        (pl.col("left_partner") == payroll_partner) & (pl.col("left_record_id") == payroll_id)
    ) | ((pl.col("right_partner") == payroll_partner) & (pl.col("right_record_id") == payroll_id))
    others = stable.filter(~touches).unique("case_id").sort(PAIR)
    assert others.height >= 4, others
    picks = others.sample(4, seed=1).to_dicts()
    url = oc.default_url(workspace)
    run1 = run_id_for(CYCLE1)
    recorded = [
        ("fraud", 1200.0),
        ("no_issue", None),
        ("error", 300.0),
        ("under_investigation", None),
    ]
    for match, (outcome, amount) in zip(picks, recorded, strict=True):
        oc.record_outcome(url, match, outcome=outcome, analyst="alice", expected_version=0,
                          amount=amount, run_id=run1)  # fmt: skip
    oc.record_outcome(url, changing, outcome="fraud", analyst="bob", expected_version=0,
                      amount=5000.0, run_id=run1)  # fmt: skip
    closed, still_open = picks[:3], picks[3]
    assert oc.get_outcome(url, changing["match_key"]).evidence_labels["forenames"] == "exact"

    # too few labels to tune: refused, with a clear reason (exit code 1)
    tune_args = ["rules", "tune", changing["rule"], "--workspace", str(workspace),
                 "--partnership", str(parties.partnership_path), "--rules", str(RULES)]  # fmt: skip
    assert main(tune_args) == 1

    # --- the councils resubmit for 2026-12 under a new linkage key ----------------------
    linkage2 = new_partnership_key(root / "keys2" / "partnership.key")
    for partner in partners:
        folder = root / "councils2" / partner
        shutil.copytree(root / "councils" / partner, folder)
        if partner == payroll_partner:
            (extract,) = [p for p in folder.iterdir() if p.stem == "payroll"]
            change_forename(extract, folder, payroll_id)
        prepare(parties, partner, folder, root / "prepared2" / partner, "2026-12", linkage2)
    deliver(root / "prepared2", workspace, partners)

    # --- cycle 2 -----------------------------------------------------------------------
    assert cycle(parties, workspace, CYCLE2) == 0
    raised = run_frames(workspace, CYCLE2, "matches")
    gone = run_frames(workspace, CYCLE2, "suppressed")
    rows = bundles(workspace, parties, partners, CYCLE2)

    def pair_in(frame: pl.DataFrame, match: dict) -> pl.DataFrame:
        return frame.filter(pl.all_horizontal([pl.col(c) == match[c] for c in PAIR]))

    def in_bundles(match: dict) -> int:
        return rows.filter(
            (pl.col("rule") == match["rule"])
            & (pl.col("partner") == match["left_partner"])
            & (pl.col("record_id") == match["left_record_id"])
            & (pl.col("other_partner") == match["right_partner"])
            & (pl.col("other_record_id") == match["right_record_id"])
        ).height

    for match, (outcome, _) in zip(closed, recorded, strict=False):
        assert pair_in(raised, match).height == 0, match
        assert in_bundles(match) == 0, match
        kept = pair_in(gone, match)
        assert kept.height == 1, match
        assert kept["outcome"][0] == outcome
        assert kept["reason"][0].startswith(f"alice recorded '{outcome}' on ")

    again = pair_in(raised, still_open)
    assert again.height == 1 and again["note"][0].endswith("still open")
    assert in_bundles(still_open) == 1

    changed = pair_in(raised, changing)
    assert changed.height == 1
    note = changed["note"][0]
    assert note.startswith("evidence changed since bob recorded 'fraud' on ")
    assert "forenames was exact, now " in note
    assert in_bundles(changing) == 1
    with_note = rows.filter(pl.col("note").is_not_null() & pl.col("note").str.contains("bob"))
    assert with_note.height == 2  # both sides' partners see why it is back

    # matches nobody reviewed are raised again as before, without a note
    assert raised.filter(pl.col("note").is_null()).height >= first.height - 10

    summary = json.loads((workspace / "runs" / run_id_for(CYCLE2) / "summary.json").read_text())
    total = sum(r.get("suppressed", 0) for r in summary["rules"])
    assert total == 3
    assert sum(r.get("evidence_changed", 0) for r in summary["rules"]) == 1
    by = {}
    for r in summary["rules"]:
        for k, v in r.get("suppressed_by", {}).items():
            by[k] = by.get(k, 0) + v
    assert by == {"fraud": 1, "no_issue": 1, "error": 1}

    report = (workspace / "runs" / run_id_for(CYCLE2) / "report.html").read_text()
    assert "Suppressed: reviewed before, evidence unchanged" in report
    assert "Outcomes and estimated savings" in report
    suppressed_part = report.split("Suppressed: reviewed before")[1].split("<h3>")[0]
    assert suppressed_part.count("<tr><td>") == 3  # one row per closed outcome
    for match, (outcome, _) in zip(closed, recorded, strict=False):
        assert f'<tr><td>{match["rule"]}</td><td>{outcome}</td><td class="n">1</td></tr>' in (
            suppressed_part
        )
    again_rows = {changing["rule"]: [1, 0]}
    again_rows.setdefault(still_open["rule"], [0, 0])[1] = 1
    again_part = report.split("<h3>Raised again</h3>")[1].split("<h3>")[0]
    assert again_part.count("<tr><td>") == len(again_rows)
    for rule, (n_changed, n_open) in again_rows.items():
        assert (
            f'<tr><td>{rule}</td><td class="n">{n_changed}</td><td class="n">{n_open}</td></tr>'
            in again_part
        )

    # outcomes to date: the four alice recorded and bob's, valued at each rule's value per
    # confirmed (fraud or error) case; 1,200 + 300 + 5,000 recorded
    values = {r.name: r.value_per_case for r in load_rules(RULES)}
    entered = [*zip(picks, recorded, strict=True), (changing, ("fraud", 5000.0))]
    outcomes_part = report.split("Outcomes and estimated savings")[1].split("<h2>")[0]
    total_saving = 0.0
    for rule in sorted({m["rule"] for m, _ in entered}):
        mine = [(m, o, a) for m, (o, a) in entered if m["rule"] == rule]
        counts = [sum(o == k for _, o, _ in mine) for k in _KINDS]
        confirmed = len({m["case_id"] for m, o, _ in mine if o in ("fraud", "error")})
        value = values[rule]
        saving = None if value is None else float(value * confirmed)
        total_saving += saving or 0.0
        amounts = sum(a or 0.0 for _, _, a in mine)
        cells = [f"<td>{rule}</td>", *[f'<td class="n">{n}</td>' for n in (*counts, confirmed)]]
        cells += ["<td></td>" if value is None else f'<td class="n">{float(value):,.2f}</td>']
        cells += ["<td></td>" if saving is None else f'<td class="n">{saving:,.2f}</td>']
        cells += [f'<td class="n">{amounts:,.2f}</td>']
        assert "<tr>" + "".join(cells) + "</tr>" in outcomes_part, rule
    assert total_saving > 0
    total_row = f'<td class="n">{total_saving:,.2f}</td><td class="n">6,500.00</td></tr>'
    assert "<tr><td>total</td>" + "<td></td>" * 6 + total_row in outcomes_part
    assert "__tok" not in report and "https://" not in report
