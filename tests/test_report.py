"""The run report: its structure pinned by a golden file, self-contained, no tokens.

The report is rendered from a fixed, hand-built run (summary, matches, case rows,
outcomes, precision/recall). Only its STRUCTURE is compared (headings, table headers,
figure captions, number of charts), not number formatting. To accept a deliberate change:

    UPDATE_GOLDEN=1 pytest tests/test_report.py
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import polars as pl

from fraudmatch.matching.tune import precision_recall
from fraudmatch.review.report import render_report
from fraudmatch.sealing.bundles import case_rows

GOLDEN = Path(__file__).parent / "golden" / "report_structure.txt"
RUN = "run-20261101"


class _Structure(HTMLParser):
    """Headings, table headers, figure captions and a count of SVG charts, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.svgs = 0
        self._tag: str | None = None
        self._text: list[str] = []
        self._headers: list[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("h1", "h2", "h3", "figcaption", "th"):
            self._tag, self._text = tag, []
        elif tag == "thead":
            self._headers = []
        elif tag == "svg":
            self.svgs += 1
            self.lines.append(f"svg {dict(attrs).get('class', '')}")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._tag:
            text = " ".join("".join(self._text).split())
            if tag == "th" and self._headers is not None:
                self._headers.append(text)
            elif tag != "th":
                self.lines.append(f"{tag} {text}")
            self._tag = None
        elif tag == "thead" and self._headers is not None:
            self.lines.append("table " + " | ".join(self._headers))
            self._headers = None

    def handle_data(self, data: str) -> None:
        if self._tag:
            self._text.append(data)


def structure(document: str) -> str:
    parser = _Structure()
    parser.feed(document)
    return "\n".join([*parser.lines, f"svg count {parser.svgs}"]) + "\n"


def fixed_run() -> dict:
    """A run of two rules over three councils, one of which sent nothing."""
    summary = {
        "run_id": RUN,
        "cycle_date": "2026-11-01",
        "collected": {
            "counts": {"stored": 3, "duplicate": 0, "quarantined": 1},
            "files": [
                {"partner": "northmoor", "file": "northmoor__payroll__2026-11.sealed",
                 "outcome": "stored", "dataset": "payroll", "reason": ""},
                {"partner": "northmoor", "file": "northmoor__housing_benefit__2026-11.sealed",
                 "outcome": "stored", "dataset": "housing_benefit", "reason": ""},
                {"partner": "eastvale", "file": "eastvale__payroll__2026-11.sealed",
                 "outcome": "stored", "dataset": "payroll", "reason": ""},
                {"partner": "eastvale", "file": "eastvale__deceased__2026-11.sealed",
                 "outcome": "quarantined", "dataset": "deceased",
                 "reason": "signature does not verify"},
            ],
            "missing": [{"partner": "southwold_bay", "dataset": "payroll"}],
        },
        "rules": [
            {"rule": "payroll_to_housing_benefit", "status": "matched", "matches": 3,
             "cases": 3, "reason": "", "suppressed": 2, "suppressed_by": {"fraud": 1,
             "no_issue": 1}, "evidence_changed": 1, "still_open": 1},
            {"rule": "payroll_to_payroll", "status": "matched", "matches": 1, "cases": 1,
             "reason": "", "suppressed": 0, "suppressed_by": {}, "evidence_changed": 0,
             "still_open": 0},
            {"rule": "blue_badge_to_deceased", "status": "skipped", "matches": 0,
             "cases": 0, "reason": "no submissions of blue_badge"},
        ],
        "bundles": [
            {"partner": p, "status": "written", "rows": n, "cases": c, "path": f"{p}.bundle"}
            for p, n, c in (("northmoor", 4, 3), ("eastvale", 3, 3), ("southwold_bay", 0, 0))
        ],
    }  # fmt: skip
    matches = pl.DataFrame(
        {
            "rule": ["payroll_to_housing_benefit"] * 3 + ["payroll_to_payroll"],
            "left_partner": ["northmoor", "eastvale", "eastvale", "northmoor"],
            "left_dataset": ["payroll"] * 4,
            "left_record_id": ["NM-PY1", "EV-PY2", "EV-PY3", "NM-PY4"],
            "right_partner": ["northmoor", "northmoor", "northmoor", "eastvale"],
            "right_dataset": ["housing_benefit"] * 3 + ["payroll"],
            "right_record_id": ["NM-HB1", "NM-HB2", "NM-HB3", "EV-PY4"],
            "blocking_rule": ["ni_number"] * 4,
            "tier": ["hard_match", "model", "model", "hard_match"],
            "match_weight": [21.5, 14.2, 9.8, 18.0],
            "match_probability": [1.0, 0.9999, 0.997, 0.99999],
            "level_ni": ["exact", "null", "exact", "exact"],
            "weight_ni": [9.1, 0.0, 9.1, 9.1],
            "level_dob": ["exact", "exact", "one_part_differs", "exact"],
            "weight_dob": [7.3, 7.3, 1.2, 7.3],
            "case_id": ["c1", "c2", "c3", "c4"],
            "case_size": [2, 2, 2, 2],
            "note": [None, "evidence changed since ann recorded 'fraud' on 2026-10-01: "
                     "ni was exact, now null", None, None],
        }
    )  # fmt: skip
    risk = {"payroll_to_housing_benefit": "high", "payroll_to_payroll": "medium"}
    rows = case_rows(matches, run_id=RUN, risk=risk)
    at = datetime(2026, 10, 1, 12, tzinfo=UTC)
    outcomes = pl.DataFrame(
        {
            "rule": ["payroll_to_housing_benefit"] * 4 + ["payroll_to_payroll"],
            "case_id": ["c1", "c5", "c6", "c7", "c4"],
            "outcome": ["fraud", "error", "no_issue", "under_investigation", "fraud"],
            "same_entity": [True, True, False, None, True],
            "amount": [2500.0, 300.0, None, None, None],
            "analyst": ["ann"] * 5,
            "recorded_at": [at] * 5,
        }
    )
    labelled = pl.DataFrame(
        {"match_probability": [0.99, 0.97, 0.96, 0.95, 0.93], "label": [True, True, False, True, False]}
    )  # fmt: skip
    tuning = {
        "payroll_to_housing_benefit": (
            precision_recall(labelled, "match_probability"),
            "match_probability",
            0.95,
        )
    }
    return {
        "summary": summary,
        "matches": matches,
        "rows": rows,
        "thresholds": {"payroll_to_payroll": 10.0},
        "priors": {"payroll_to_housing_benefit": -12.5, "payroll_to_payroll": -14.0},
        "outcomes": outcomes,
        "values": {"payroll_to_housing_benefit": 3000.0},
        "tuning": tuning,
    }


def render() -> str:
    run = fixed_run()
    return render_report(
        run["summary"],
        run["matches"],
        run["rows"],
        thresholds=run["thresholds"],
        priors=run["priors"],
        outcomes=run["outcomes"],
        values=run["values"],
        tuning=run["tuning"],
        top=3,
    )


def test_report_structure_matches_golden_file() -> None:
    got = structure(render())
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(got)
    assert GOLDEN.exists(), f"{GOLDEN} is missing; create it with UPDATE_GOLDEN=1"
    assert got == GOLDEN.read_text(), (
        "the report's structure changed; if on purpose, regenerate with UPDATE_GOLDEN=1"
    )


def test_report_is_deterministic_self_contained_and_shows_no_tokens() -> None:
    document = render()
    assert document == render()
    lower = document.lower()
    for banned in ("http://", "https://", "<script src", "<link", "__tok", "token", "__bf"):
        assert banned not in lower, banned
    assert "A match is a lead, not a finding" in document


def test_report_counts_suppressed_and_savings() -> None:
    document = render()
    # 2 confirmed cases (c1 fraud, c5 error) at 3,000 each; 2,800 recorded
    assert "6,000.00" in document and "2,800.00" in document
    assert "no_issue" in document  # a suppression reason
    assert "southwold_bay" in document  # the council that sent nothing


def test_report_without_matches_or_outcomes_still_renders() -> None:
    run = fixed_run()
    document = render_report(run["summary"], pl.DataFrame(), pl.DataFrame())
    text = structure(document)
    assert "h2 Outcomes and estimated savings" in text
    assert "Precision and recall" not in text
