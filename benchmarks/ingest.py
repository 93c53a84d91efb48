"""Ingest + normalise throughput on a large synthetic payroll extract.

Generates synthetic councils (not timed), concatenates their payroll extracts into one
CSV of at least ``--rows`` rows, then times reading, validating and normalising it the
way ``fraudmatch validate`` does.

    .venv/bin/python benchmarks/ingest.py --rows 1000000
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table

from fraudmatch.council.ingest import ingest, read_extract
from fraudmatch.spec.specs import load_spec
from fraudmatch.synth import generate


def build_extract(folder: Path, rows: int, seed: int) -> Path:
    """A payroll CSV of ``rows`` rows, cut from synthetic councils' (messy) payroll."""
    # payroll is ~4% of residents; past 1M people, repeat rows with fresh ids instead
    people = min(max(20_000, rows * 20), 1_000_000)
    result = generate(folder / "synth", partners=10, people=people, seed=seed)
    frames = []
    for partner in result.partners:
        frame, _ = read_extract(result.files[partner]["payroll"])
        frames.append(frame.drop("__row"))
    extract = pl.concat(frames, how="diagonal_relaxed")
    while extract.height < rows:
        n = extract.height
        extract = pl.concat([extract, extract.with_columns(pl.col("record_id") + f"-{n}")])
    path = folder / "payroll.csv"
    extract.head(rows).write_csv(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    console = Console()
    payroll = load_spec().dataset("payroll")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        path = build_extract(Path(tmp), args.rows, args.seed)
        console.print(
            f"built {path.stat().st_size / 1e6:.0f} MB extract in "
            f"{time.perf_counter() - started:.1f} s (not timed below)"
        )
        t0 = time.perf_counter()
        frame, _ = read_extract(path)
        t1 = time.perf_counter()
        result = ingest(path, payroll)
        t2 = time.perf_counter()
    read_s, total_s = t1 - t0, t2 - t1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table = Table(title=f"ingest + normalise, payroll, {result.rows_read:,} rows")
    for col in ("step", "seconds", "rows/s"):
        table.add_column(col, justify="right" if col != "step" else "left")
    table.add_row("read CSV only", f"{read_s:.2f}", f"{frame.height / read_s:,.0f}")
    table.add_row(
        "read + validate + normalise", f"{total_s:.2f}", f"{result.rows_read / total_s:,.0f}"
    )
    console.print(table)
    console.print(
        f"accepted {result.accepted.height:,}, rejected {result.rows_rejected:,}, "
        f"values blanked {result.values_blanked:,}; peak RSS {peak_mb:,.0f} MB; "
        f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
