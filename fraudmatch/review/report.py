"""The run report: one self-contained HTML file an analyst opens first.

No scripts, fonts or images are fetched: charts are inline SVG, so the file opens on a
locked-down council laptop and can be archived with the run. It shows record ids and
evidence levels, never a token or key.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from fraudmatch.common.fsutil import atomic_path
from fraudmatch.sealing.bundles import LEAD_NOTICE

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1d2733;
max-width:72rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid
#ccd5df;padding-bottom:.2rem}h3{font-size:1rem;margin:.8rem 0 .3rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{padding:.25rem .6rem;border-bottom:1px
solid #e3e8ee;text-align:left;font-size:.9rem}td.n,th.n{text-align:right;font-variant-numeric:
tabular-nums}th{background:#f3f6f9}.notice{background:#fff6e0;border-left:4px solid #e0a100;
padding:.6rem 1rem}.muted{color:#5b6b7c}.grid{display:flex;flex-wrap:wrap;gap:1.5rem}
.risk-high{color:#b3261e;font-weight:600}.risk-medium{color:#a05a00}.risk-low{color:#3b6e2a}
svg text{font-family:inherit}
.matrix td{text-align:center}.matrix th{font-size:.75rem}.m-stored{color:#3b6e2a}
.m-quarantined{color:#b3261e;font-weight:700}.m-missing{color:#a05a00}
"""


RULE_COLUMNS = ("rule", "status", "matches", "cases", "suppressed", "raised again", "note")


DROP_COLUMNS = ("partner", "step", "file", "problem")


def drop_rows(summary: Mapping[str, Any]) -> list[list[object]]:
    """Every fetch and delivery failure of a run, and the files left in a drop for a later
    run, per partner (rows under :data:`DROP_COLUMNS`, terminal and report)."""
    collected = summary.get("collected") or {}
    rows: list[list[object]] = [
        [f["partner"], "fetch failed", f["name"], f["reason"]]
        for f in collected.get("fetch_failed", [])
    ]
    rows += [
        [f["partner"], "left for later", f["name"], f["reason"]]
        for f in collected.get("waiting", [])
    ]
    rows += [
        [b["partner"], "delivery failed", Path(str(b.get("path", ""))).name, b["delivery"][8:]]
        for b in summary.get("bundles", [])
        if str(b.get("delivery", "")).startswith("failed: ")
    ]
    return sorted(rows, key=lambda r: (str(r[0]), str(r[1])))


def rule_rows(summary: Mapping[str, Any]) -> list[list[object]]:
    """Per rule of a run summary, the row under :data:`RULE_COLUMNS` (terminal and report)."""
    return [
        [
            r["rule"],
            r["status"],
            r["matches"],
            r["cases"],
            int(r.get("suppressed", 0)),
            int(r.get("evidence_changed", 0)),
            r.get("reason", ""),
        ]
        for r in summary.get("rules", [])
    ]


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, int):
        return f'<td class="n">{value:,}</td>'
    if isinstance(value, float):
        return f'<td class="n">{value:,.2f}</td>'
    return f"<td>{_esc(value)}</td>"


def html_table(columns: Sequence[str], rows: Sequence[Sequence[object]], cls: str = "") -> str:
    """A plain HTML table; numbers right-aligned."""
    if not rows:
        return '<p class="muted">none</p>'
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def histogram_svg(values: Sequence[float], *, title: str, threshold: float | None = None) -> str:
    """Counts of match weights in bins, with the rule's threshold marked."""
    width, height, pad = 360, 150, 28
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return ""
    lo, hi = math.floor(min(finite)), math.ceil(max(finite))
    if hi == lo:
        hi = lo + 1
    bins = 24
    step = (hi - lo) / bins
    counts = [0] * bins
    for v in finite:
        counts[min(int((v - lo) / step), bins - 1)] += 1
    top = max(counts)
    bar_w = (width - 2 * pad) / bins
    bars = []
    for i, c in enumerate(counts):
        h = 0 if top == 0 else (height - 2 * pad) * c / top
        x, y = pad + i * bar_w, height - pad - h
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" '
            f'fill="#4a78a8"><title>{lo + i * step:.1f} to {lo + (i + 1) * step:.1f}: '
            f"{c}</title></rect>"
        )
    marks = ""
    if threshold is not None and lo <= threshold <= hi:
        x = pad + (threshold - lo) / (hi - lo) * (width - 2 * pad)
        marks = (
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{pad - 6}" y2="{height - pad}" '
            f'stroke="#b3261e" stroke-dasharray="3,2"/><text x="{x + 3:.1f}" y="{pad - 8}" '
            f'font-size="10" fill="#b3261e">threshold</text>'
        )
    axis = (
        f'<line x1="{pad}" x2="{width - pad}" y1="{height - pad}" y2="{height - pad}" '
        f'stroke="#5b6b7c"/><text x="{pad}" y="{height - 8}" font-size="10">{lo}</text>'
        f'<text x="{width - pad}" y="{height - 8}" font-size="10" text-anchor="end">{hi}</text>'
        f'<text x="{width / 2}" y="{height - 8}" font-size="10" text-anchor="middle">'
        "match weight</text>"
    )
    return (
        f'<figure><figcaption>{_esc(title)}</figcaption><svg class="histogram" '
        f'width="{width}" height="{height}" role="img" aria-label="{_esc(title)}">'
        f"{''.join(bars)}{marks}{axis}</svg></figure>"
    )


def waterfall_svg(evidence: Sequence[Mapping[str, Any]], *, prior: float | None, title: str) -> str:
    """How each comparison moved the match weight, from the prior to the total."""
    steps = [("prior", prior or 0.0)] + [
        (f"{e['comparison']}: {e['level']}", float(e["weight"] or 0.0)) for e in evidence
    ]
    running, spans = 0.0, []
    for label, w in steps:
        spans.append((label, running, running + w, w))
        running += w
    spans.append(("total", 0.0, running, running))
    lo = min(0.0, *(min(a, b) for _, a, b, _ in spans))
    hi = max(0.0, *(max(a, b) for _, a, b, _ in spans))
    hi = hi if hi > lo else lo + 1
    row_h, label_w, chart_w = 18, 190, 260
    height = row_h * len(spans) + 20

    def x(v: float) -> float:
        return label_w + (v - lo) / (hi - lo) * chart_w

    rows = []
    for i, (label, a, b, w) in enumerate(spans):
        y = 10 + i * row_h
        colour = "#1d2733" if label == "total" else ("#3b7d3a" if w >= 0 else "#b3261e")
        left, right = sorted((x(a), x(b)))
        rows.append(
            f'<text x="{label_w - 6}" y="{y + 12}" font-size="11" text-anchor="end">'
            f"{_esc(label)}</text>"
            f'<rect x="{left:.1f}" y="{y + 2}" width="{max(right - left, 1):.1f}" '
            f'height="{row_h - 5}" fill="{colour}"><title>{w:+.2f}</title></rect>'
            f'<text x="{right + 4:.1f}" y="{y + 12}" font-size="10">{w:+.1f}</text>'
        )
    zero = x(0.0)
    return (
        f'<figure><figcaption>{_esc(title)}</figcaption><svg class="waterfall" '
        f'width="{label_w + chart_w + 50}" height="{height}" role="img" '
        f'aria-label="{_esc(title)}"><line x1="{zero:.1f}" x2="{zero:.1f}" y1="4" '
        f'y2="{height - 6}" stroke="#8a99a8"/>{"".join(rows)}</svg></figure>'
    )


def pr_curve_svg(
    curve: pl.DataFrame, *, score: str, threshold: float | None = None, title: str
) -> str:
    """Precision and recall among labelled matches against the threshold on ``score``."""
    if curve.height == 0:
        return ""
    width, height, pad = 380, 180, 32
    xs = curve["threshold"].to_list()
    lo, hi = min(xs), max(xs)
    if threshold is not None and math.isfinite(threshold):
        lo, hi = min(lo, threshold), max(hi, threshold)
    if hi <= lo:
        hi = lo + 1

    def x(v: float) -> float:
        return pad + (v - lo) / (hi - lo) * (width - 2 * pad)

    def y(v: float) -> float:
        return height - pad - v * (height - 2 * pad)

    lines = []
    for name, colour in (("precision", "#4a78a8"), ("recall", "#e07b00")):
        points = " ".join(
            f"{x(t):.1f},{y(v):.1f}" for t, v in zip(xs, curve[name].to_list(), strict=True)
        )
        lines.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{name}</title></polyline>"
        )
    mark = ""
    if threshold is not None and lo <= threshold <= hi:
        mark = (
            f'<line x1="{x(threshold):.1f}" x2="{x(threshold):.1f}" y1="{pad - 6}" '
            f'y2="{height - pad}" stroke="#b3261e" stroke-dasharray="3,2"/>'
            f'<text x="{x(threshold) + 3:.1f}" y="{pad - 8}" font-size="10" fill="#b3261e">'
            "current threshold</text>"
        )
    axis = (
        f'<line x1="{pad}" x2="{width - pad}" y1="{height - pad}" y2="{height - pad}" '
        f'stroke="#5b6b7c"/><line x1="{pad}" x2="{pad}" y1="{pad}" y2="{height - pad}" '
        f'stroke="#5b6b7c"/><text x="{pad}" y="{height - 10}" font-size="10">{lo:.3g}</text>'
        f'<text x="{width - pad}" y="{height - 10}" font-size="10" text-anchor="end">'
        f'{hi:.3g}</text><text x="{width / 2}" y="{height - 10}" font-size="10" '
        f'text-anchor="middle">threshold on {_esc(score)}</text>'
        f'<text x="{pad - 4}" y="{y(1.0) + 4:.1f}" font-size="10" text-anchor="end">1</text>'
        f'<text x="{pad - 4}" y="{y(0.0):.1f}" font-size="10" text-anchor="end">0</text>'
        f'<text x="{width - pad}" y="{pad - 14}" font-size="10" text-anchor="end" '
        'fill="#4a78a8">precision</text>'
        f'<text x="{width - pad}" y="{pad - 2}" font-size="10" text-anchor="end" '
        'fill="#e07b00">recall</text>'
    )
    return (
        f'<figure><figcaption>{_esc(title)}</figcaption><svg class="precision-recall" '
        f'width="{width}" height="{height}" role="img" aria-label="{_esc(title)}">'
        f"{''.join(lines)}{mark}{axis}</svg></figure>"
    )


_MARKS = {"stored": "✓", "duplicate": "=", "quarantined": "✗", "missing": "–"}


def _submission_matrix(files: list[Mapping[str, Any]], missing: list[Mapping[str, Any]]) -> str:
    """Partner × dataset grid: what arrived this cycle at a glance."""
    cells: dict[tuple[str, str], str] = {}
    for f in files:
        if f.get("dataset"):
            key = (str(f.get("partner")), str(f.get("dataset")))
            # a stored file wins over a duplicate or a refused one for the same cell
            if cells.get(key) != "stored":
                cells[key] = str(f.get("outcome"))
    for m in missing:
        cells.setdefault((str(m.get("partner")), str(m.get("dataset"))), "missing")
    if not cells:
        return '<p class="muted">no submissions</p>'
    partners = sorted({p for p, _ in cells})
    datasets = sorted({d for _, d in cells})
    head = "".join(f"<th>{_esc(d.replace('_', ' '))}</th>" for d in datasets)
    body = "".join(
        f"<tr><th>{_esc(p)}</th>"
        + "".join(
            f'<td class="m-{cells.get((p, d), "none")}" title="{_esc(cells.get((p, d), ""))}">'
            f"{_MARKS.get(cells.get((p, d), ''), '')}</td>"
            for d in datasets
        )
        + "</tr>"
        for p in partners
    )
    legend = " · ".join(f"{mark} {name}" for name, mark in _MARKS.items())
    return (
        f'<table class="matrix"><thead><tr><th></th>{head}</tr></thead><tbody>{body}'
        f'</tbody></table><p class="muted">{_esc(legend)}</p>'
    )


def _collected_section(summary: Mapping[str, Any]) -> str:
    collected = summary.get("collected") or {}
    files = collected.get("files", [])
    missing = collected.get("missing", [])
    problems = [
        [f.get("partner"), f.get("file"), f.get("outcome"), f.get("dataset"), f.get("reason", "")]
        for f in files
        if f.get("outcome") != "stored"
    ]
    return (
        "<h2>Submissions</h2>"
        + _submission_matrix(files, missing)
        + "<h3>Refused or repeated files</h3>"
        + html_table(["partner", "file", "outcome", "dataset", "reason"], problems)
        + "<h3>Missing (expected, never received)</h3>"
        + html_table(["partner", "dataset"], [[m["partner"], m["dataset"]] for m in missing])
    )


def _rules_section(summary: Mapping[str, Any], rows: pl.DataFrame) -> str:
    out = "<h2>Matches per rule</h2>" + html_table(list(RULE_COLUMNS), rule_rows(summary))
    if rows.height:
        per_partner = (
            rows.group_by("partner", "rule")
            .agg(pl.col("case_id").n_unique().alias("cases"), pl.len().alias("records"))
            .sort("partner", "rule")
        )
        risk = rows.group_by("risk").agg(pl.col("case_id").n_unique().alias("cases")).sort("risk")
        out += "<h2>Cases per partner</h2>" + html_table(
            ["partner", "rule", "cases", "records"], per_partner.rows()
        )
        out += "<h2>Risk bands</h2>" + html_table(["risk", "cases"], risk.rows())
    return out


def _notes_table(matches: pl.DataFrame, limit: int = 100) -> str:
    """Reviewed matches raised again, with the note saying why."""
    if matches.height == 0 or "note" not in matches.columns:
        return html_table([], [])
    noted = matches.filter(pl.col("note").is_not_null()).sort("rule", "case_id").head(limit)
    rows = [
        [
            r["rule"],
            r["case_id"],
            f"{r['left_partner']}/{r['left_record_id']} ↔ "
            f"{r['right_partner']}/{r['right_record_id']}",
            r["note"],
        ]
        for r in noted.iter_rows(named=True)
    ]
    return html_table(["rule", "case", "records", "note"], rows)


def _suppressed_section(summary: Mapping[str, Any], matches: pl.DataFrame) -> str:
    rows = [
        [r["rule"], outcome, int(n)]
        for r in summary.get("rules", [])
        for outcome, n in sorted((r.get("suppressed_by") or {}).items())
    ]
    again = [
        [r["rule"], int(r.get("evidence_changed", 0)), int(r.get("still_open", 0))]
        for r in summary.get("rules", [])
        if r.get("evidence_changed") or r.get("still_open")
    ]
    return (
        "<h2>Suppressed: reviewed before, evidence unchanged</h2>"
        "<p class='muted'>Matches whose outcome an analyst already recorded are not raised "
        "again unless the evidence changed; they are kept in the run's suppressed folder.</p>"
        + html_table(["rule", "recorded outcome", "matches suppressed"], rows)
        + "<h3>Raised again</h3>"
        + html_table(["rule", "evidence changed", "still under investigation"], again)
        + "<h3>Reviewed matches raised again, and why</h3>"
        + _notes_table(matches)
    )


_CONFIRMED = ("fraud", "error")


def _outcomes_section(outcomes: pl.DataFrame | None, values: Mapping[str, float]) -> str:
    head = (
        "<h2>Outcomes and estimated savings</h2><p class='muted'>Outcomes recorded to date, "
        "all cycles. Estimated savings: the rule's value per confirmed case (fraud or error) "
        "times confirmed cases; recorded amounts as the analysts entered them.</p>"
    )
    columns = ["rule", "fraud", "error", "no issue", "under investigation", "confirmed cases",
               "value per case", "estimated savings", "recorded amounts"]  # fmt: skip
    if outcomes is None or outcomes.height == 0:
        return head + html_table(columns, [])
    per_rule = (
        outcomes.group_by("rule")
        .agg(
            *[
                (pl.col("outcome") == o).sum().cast(pl.Int64).alias(o)
                for o in ("fraud", "error", "no_issue", "under_investigation")
            ],  # fmt: skip
            pl.col("case_id")
            .filter(pl.col("outcome").is_in(list(_CONFIRMED)))
            .n_unique()
            .cast(pl.Int64)
            .alias("confirmed"),
            pl.col("amount").sum().cast(pl.Float64).alias("amounts"),
        )
        .sort("rule")
    )
    rows, total_saving, total_amount = [], 0.0, 0.0
    for r in per_rule.iter_rows(named=True):
        value = values.get(r["rule"])
        saving = float(value * r["confirmed"]) if value is not None else None
        total_saving += saving or 0.0
        total_amount += r["amounts"] or 0.0
        rows.append(
            [
                r["rule"],
                r["fraud"],
                r["error"],
                r["no_issue"],
                r["under_investigation"],
                r["confirmed"],
                "" if value is None else float(value),
                "" if saving is None else saving,
                float(r["amounts"] or 0.0),
            ]  # fmt: skip
        )
    rows.append(["total", *[""] * 6, total_saving, total_amount])
    return head + html_table(columns, rows) + _sources(outcomes)


def _sources(outcomes: pl.DataFrame) -> str:
    """Where the outcomes above came from: hub analysts, or partners' returned case lists
    (recorded as ``<partner> (partner)``); both count in the savings."""
    if "analyst" not in outcomes.columns:
        return ""
    source = (
        pl.when(pl.col("analyst").str.contains(" (partner)", literal=True))
        .then(pl.col("analyst").str.split(" (partner)").list.first())
        .otherwise(pl.lit("hub analysts"))
    )
    per = (
        outcomes.group_by(source.alias("source"))
        .agg(
            pl.len().alias("outcomes"),
            pl.col("outcome").is_in(list(_CONFIRMED)).sum().alias("confirmed"),
            pl.col("amount").sum().cast(pl.Float64).alias("amounts"),
        )
        .sort("source")
    )
    return "<h3>Where the outcomes came from</h3>" + html_table(
        ["source", "outcomes", "fraud or error", "recorded amounts"],
        [[r["source"], r["outcomes"], r["confirmed"], float(r["amounts"] or 0.0)]
         for r in per.iter_rows(named=True)],
    )  # fmt: skip


def _tuning_section(tuning: Mapping[str, tuple[pl.DataFrame, str, float | None]]) -> str:
    charts = [
        pr_curve_svg(curve, score=score, threshold=threshold, title=f"{rule}: precision/recall")
        for rule, (curve, score, threshold) in sorted(tuning.items())
    ]
    charts = [c for c in charts if c]
    if not charts:
        return ""
    return (
        "<h2>Precision and recall from recorded outcomes</h2><p class='muted'>Among matches "
        "an analyst labelled as the same or different entity; <code>fraudmatch rules tune "
        "RULE</code> proposes new m probabilities from them.</p><div class='grid'>"
        + "".join(charts)
        + "</div>"
    )


def _weights_section(matches: pl.DataFrame, thresholds: Mapping[str, float]) -> str:
    if matches.height == 0 or "match_weight" not in matches.columns:
        return ""
    charts = []
    for (rule,), group in matches.group_by("rule", maintain_order=True):
        weights = group["match_weight"].drop_nulls().to_list()
        chart = histogram_svg(weights, title=str(rule), threshold=thresholds.get(str(rule)))
        if chart:
            charts.append(chart)
    if not charts:
        return ""
    return "<h2>Match weights per rule</h2><div class='grid'>" + "".join(charts) + "</div>"


def _top_cases_section(rows: pl.DataFrame, priors: Mapping[str, float], top: int) -> str:
    if rows.height == 0:
        return ""
    best = (
        rows.filter(pl.col("match_weight").is_not_null())
        .sort("match_weight", descending=True)
        .unique("case_id", keep="first", maintain_order=True)
        .head(top)
    )
    parts = ["<h2>Top cases: why they matched</h2>"]
    for r in best.iter_rows(named=True):
        title = (
            f"{r['case_id']} · {r['rule']} · {r['partner']}/{r['dataset']}/{r['record_id']} ↔ "
            f"{r['other_partner']}/{r['other_dataset']}/{r['other_record_id']}"
        )
        parts.append(waterfall_svg(r["evidence"] or [], prior=priors.get(r["rule"]), title=title))
    return "".join(parts)


def render_report(
    summary: Mapping[str, Any],
    matches: pl.DataFrame,
    rows: pl.DataFrame,
    *,
    thresholds: Mapping[str, float] | None = None,
    priors: Mapping[str, float] | None = None,
    top: int = 10,
    outcomes: pl.DataFrame | None = None,
    values: Mapping[str, float] | None = None,
    tuning: Mapping[str, tuple[pl.DataFrame, str, float | None]] | None = None,
) -> str:
    """The whole report as one HTML string.

    ``outcomes`` are the recorded outcomes (for savings), ``values`` each rule's value per
    confirmed case, ``tuning`` per rule the precision/recall curve from labelled matches.
    """
    title = f"fraudmatch run {summary.get('run_id', '')}"
    body = [
        f"<h1>{_esc(title)}</h1>",
        f"<p class='muted'>cycle date {_esc(summary.get('cycle_date', ''))}</p>",
        f"<p class='notice'>{_esc(LEAD_NOTICE)}</p>",
        _collected_section(summary),
        _rules_section(summary, rows),
        _suppressed_section(summary, matches),
        _outcomes_section(outcomes, values or {}),
        _tuning_section(tuning or {}),
        _weights_section(matches, thresholds or {}),
        _top_cases_section(rows, priors or {}, top),
    ]
    bundles = [
        [
            b["partner"],
            b["status"],
            b.get("version", 1),
            b["cases"],
            b["rows"],
            b.get("delivery") or "-",
        ]
        for b in summary.get("bundles", [])
    ]
    columns = ["partner", "status", "version", "cases", "rows", "delivery"]
    body.append("<h2>Bundles</h2>" + html_table(columns, bundles))
    body.append(
        "<h2>Drops: fetch and delivery problems</h2>"
        + html_table(list(DROP_COLUMNS), drop_rows(summary))
    )
    body.append(_retention_section(summary))
    return page(title, "".join(body))


def _retention_section(summary: Mapping[str, Any]) -> str:
    """What this cycle's retention pass deleted, from the catalogue's deletion log."""
    retention = summary.get("retention")
    if not retention:
        return ""
    rows = [
        [r["kind"], r["item"], str(r["stored_at"])[:10], r["reason"], r["rule"]]
        for r in retention.get("deleted", [])
    ]
    note = (
        f"Everything stored before {retention['cutoff']} ({retention['retention_days']} days "
        "before the cycle date) is deleted; outcomes and the audit trail stay, without "
        "evidence. Each deletion is in the catalogue's deletion log."
    )
    return (
        "<h2>Deleted under the retention period</h2>"
        f"<p class='muted'>{_esc(note)}</p>"
        + html_table(["what", "item", "stored", "why", "rule of the agreement"], rows)
    )


def page(title: str, body: str) -> str:
    """A self-contained HTML page with the report's style."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>" + body + "</body></html>"
    )


def write_report(path: Path, document: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(document, encoding="utf-8")
    return path
