"""The grids' extracts: every grid cell inside its background population, as CSV files.

One population serves every grid (person rules, payroll and creditors, duplicate payments,
the single-person discount), so the engine, EM and term frequencies run once per session
and the hypothesis properties reuse the fitted models.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import polars as pl

from fraudmatch.spec.specs import Spec, load_spec
from tests.conformance import household_grids, record_grids
from tests.conformance.grids import CYCLE, PARTNERS, cell_id, extract_rows, grid_cells
from tests.conformance.record_grids import Rec, RecordCell

RECORD_GRIDS = (*record_grids.GRIDS, *household_grids.GRIDS)
_CELL_MAKERS = {**record_grids.CELLS, **household_grids.CELLS}
_BACKGROUNDS = (*record_grids.BACKGROUND, *household_grids.BACKGROUND)


@cache
def record_cells() -> dict[str, list[RecordCell]]:
    """Every record grid's cells, identities apart across rules."""
    return {g.rule: _CELL_MAKERS[g.rule](1000 * (i + 1)) for i, g in enumerate(RECORD_GRIDS)}


@cache
def all_cells() -> dict[str, list]:
    """Rule -> its cells (``grids.Cell`` or ``RecordCell``), under the shipped specification."""
    return {**grid_cells(), **record_cells()}


def _rows(spec: Spec) -> dict[tuple[str, str], list[dict]]:
    rows = extract_rows(spec)

    def put(rec: Rec, record_id: str) -> None:
        columns = spec.dataset(rec.dataset).column_names
        values = {**rec.values, "record_id": record_id}
        rows.setdefault((rec.dataset, PARTNERS[rec.partner]), []).append(
            {c: values.get(c) for c in columns}
        )

    for make in _BACKGROUNDS:
        for k, rec in enumerate(make()):
            put(rec, f"bg-{make.__name__[:6]}-{k}")
    for rule, cells in record_cells().items():
        for k, cell in enumerate(cells):
            put(cell.left, cell_id(rule, k, "L"))
            put(cell.right, cell_id(rule, k, "R"))
            for j, other in enumerate(cell.others):
                put(other, cell_id(rule, k, f"X{j}"))
    return rows


def write_extracts(out: Path, spec: Spec | None = None) -> Path:
    """The grids' extracts as CSV files with a manifest, as ``fraudmatch synth`` writes them.

    The manifest's cycle date is the period an attainer's month is sent against.
    """
    spec = spec or load_spec()
    files = []
    for (ds, partner), rows in sorted(_rows(spec).items()):
        path = out / partner / f"{ds}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String))
        frame.write_csv(path)
        # numeric dates are written day-first (a column of 1 April dates cannot show it)
        files.append(
            {"dataset": ds, "partner": partner, "path": f"{partner}/{ds}.csv", "dates": "uk"}
        )
    manifest = {"cycle_date": CYCLE.isoformat(), "files": files}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out
