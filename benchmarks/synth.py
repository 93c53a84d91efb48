"""Throughput of the synthetic councils generator: people per second for 1,000,000 people.

Usage: python benchmarks/synth.py [--people N] [--partners N] [--out DIR] [--keep]
Writes to a temporary directory (removed afterwards unless --keep or --out).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from fraudmatch.synth import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--partners", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the temporary output")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="fraudmatch-synth-"))
    start = time.perf_counter()
    result = generate(out, partners=args.partners, people=args.people, seed=args.seed)
    seconds = time.perf_counter() - start
    rows = sum(sum(c.values()) for c in result.row_counts.values())
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"synth: {args.people:,} people, {args.partners} partners, {rows:,} rows, "
        f"{size / 1e6:,.0f} MB in {seconds:.1f} s"
    )
    print(
        f"synth: {args.people / seconds:,.0f} people/s, {rows / seconds:,.0f} rows/s, "
        f"peak memory {peak:,.0f} MB"
    )
    if args.out is None and not args.keep:
        shutil.rmtree(out)
    else:
        print(f"synth: output in {out}")


if __name__ == "__main__":
    main()
