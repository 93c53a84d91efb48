"""fraudmatch beside Splink and recordlinkage: the same linkage job, the same data, one run.

The job (issue 7): synthetic payroll against housing benefit, "is this the same person", at
100,000 and 1,000,000 records a side (``benchmarks/scale.py``'s seeded generator: ~70% of
people on both, typos, nicknames, middle names, married surnames, day-month swaps, missing
and mistyped NI numbers, moves), and FEBRL4 (5,000 + 5,000, ``benchmarks/febrl.py``).

* fraudmatch runs in pseudonymised mode: each extract is validated and pseudonymised with a
  random key (timed, shown apart, and included in its end-to-end time), then the hub runs the
  rule (``benchmarks/scale_rule.yaml`` / ``benchmarks/febrl/febrl4.yaml``): blocking,
  comparisons, u sampling, EM, scoring;
* Splink 4 (DuckDB backend, ``benchmarks/peers_splink.py``) and recordlinkage
  (``benchmarks/peers_recordlinkage.py``) see the clear text (their normal use), clean it, block
  on the same keys as fraudmatch's rule (``benchmarks/peers_data.py``), compare and train their
  usual way (Splink: prior from deterministic rules, u by random sampling, m by EM per training
  blocking rule, predict at 0.9; recordlinkage: Jaro-Winkler/exact binary features, ECM).

Every tool runs in its own child process, so the peak memory shown is that tool's own
(``ru_maxrss`` of the child). Wall time is end to end from the raw text extracts (training
included); generating the data and reading it from disk are excluded for everyone. Precision,
recall and F1 are against the generator's person ids (FEBRL4: the record numbers).

    make bench-deps                                            # Splink, recordlinkage
    python benchmarks/peers.py                                 # 100k and 1M a side, FEBRL4
    python benchmarks/peers.py --sizes 100000 --no-febrl       # one size
    python benchmarks/peers.py --sizes '' --tools fraudmatch,splink   # FEBRL4 only, two tools

Timings on a shared machine drift 2-3x with other load: compare the ratios within one run,
not seconds across runs. The load average is printed before and after each table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
TOOLS = ("fraudmatch", "recordlinkage", "splink")
RUNNER = {
    "splink": HERE / "peers_splink.py",
    "recordlinkage": HERE / "peers_recordlinkage.py",
}


# ------------------------------------------------------------------------------ data


def write_synthetic(n: int, seed: int, folder: Path) -> float:
    """scale.py's extracts (text, with ``person``, which only fraudmatch's prepare drops)."""
    from scale import generate

    t = time.perf_counter()
    payroll, hb, truth = generate(n, seed)
    took = time.perf_counter() - t
    payroll.write_parquet(folder / "left.parquet")
    hb.write_parquet(folder / "right.parquet")
    truth.write_parquet(folder / "truth.parquet")
    (folder / "job.txt").write_text("synthetic\n")
    return took


def write_febrl(folder: Path) -> float:
    from febrl import load_febrl4, truth_pairs

    t = time.perf_counter()
    a, b = load_febrl4()
    took = time.perf_counter() - t
    a.write_parquet(folder / "left.parquet")
    b.write_parquet(folder / "right.parquet")
    truth_pairs(a, b).write_parquet(folder / "truth.parquet")
    (folder / "job.txt").write_text("febrl\n")
    return took


# ------------------------------------------------------------------------------ fraudmatch


def run_fraudmatch(folder: Path, seed: int) -> dict:
    """Pseudonymise both extracts (partner side) and run the rule (hub side), in this process."""
    from peers_data import load_job, peak_rss, score

    job, left, right, truth = load_job(folder)
    if job == "febrl":
        from febrl import key_from_seed
        from febrl import run as febrl_run

        del left, right
        out = febrl_run(key_from_seed(seed))  # loads FEBRL4 itself (its "load" is excluded)
        peak = peak_rss()
        pseudo, match = out.timings["validate_pseudonymise"], out.timings["match"]
        stats = out.result.stats
        found = out.result.matches
    else:
        from scale import CYCLE, RULE, prepare

        from fraudmatch.matching.engine import run_rule
        from fraudmatch.matching.rules import load_rule

        rule = load_rule(RULE)
        key = secrets.token_bytes(32)
        t = time.perf_counter()
        frames = {
            "payroll": prepare(left, "payroll", rule, key)[0],
            "housing_benefit": prepare(right, "housing_benefit", rule, key)[0],
        }
        pseudo = time.perf_counter() - t
        del left, right
        t = time.perf_counter()
        result = run_rule(rule, frames, cycle_date=CYCLE)
        match = time.perf_counter() - t
        peak = peak_rss()
        stats, found = result.stats, result.matches
    return {
        "tool": "fraudmatch",
        "version": "fraudmatch (this tree), pseudonymised",
        "wall_s": pseudo + match,
        "pseudonymise_s": pseudo,
        "stages": {"validate_pseudonymise": round(pseudo, 3), **stats["timings"]},
        "peak_rss": peak,
        "pairs": stats["pairs_compared"],
        **score(found, truth),
    }


# ------------------------------------------------------------------------------ driver


def run_tool(tool: str, folder: Path, seed: int, timeout: float | None) -> dict:
    """One tool in a child process; its JSON line back (or the failure)."""
    if tool == "fraudmatch":
        cmd = [sys.executable, __file__, "--child", str(folder), "--seed", str(seed)]
    else:
        cmd = [sys.executable, str(RUNNER[tool]), str(folder)]
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"tool": tool, "error": f"timed out after {timeout:g} s"}
    if proc.returncode:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return {"tool": tool, "error": f"exit {proc.returncode}:\n{tail}"}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["child_s"] = time.perf_counter() - t
    return out


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def report(title: str, rows: list[dict], console, load_before: str) -> None:
    from rich.table import Table

    fm = next((r for r in rows if r["tool"] == "fraudmatch" and "error" not in r), None)
    t = Table(title=title)
    for col in ("tool", "wall s", "of which pseudonymise s", "peak RSS MB", "candidate pairs",
                "matches", "precision", "recall", "F1", "fraudmatch time ÷ this"):  # fmt: skip
        t.add_column(col, justify="left" if col == "tool" else "right")
    for r in rows:
        if "error" in r:
            t.add_row(r["tool"], "failed", *[""] * 8)
            continue
        p = r["tp"] / max(r["matches"], 1)
        rc = r["tp"] / max(r["tp"] + r["fn"], 1)
        f1 = 2 * r["tp"] / max(2 * r["tp"] + r["fp"] + r["fn"], 1)
        ratio = f"{fm['wall_s'] / r['wall_s']:.3f}" if fm else "-"
        t.add_row(
            r["tool"],
            f"{r['wall_s']:.2f}",
            f"{r['pseudonymise_s']:.2f}" if "pseudonymise_s" in r else "-",
            f"{r['peak_rss'] / 1e6:,.0f}",
            f"{r['pairs']:,}",
            f"{r['matches']:,}",
            f"{p:.4f}",
            f"{rc:.4f}",
            f"{f1:.4f}",
            ratio,
        )
    console.print(t)
    console.print(f"load average before: {load_before}; after: {_load()}")
    for r in rows:
        if "error" in r:
            console.print(f"[red]{r['tool']} failed[/red]: {r['error']}")
        else:
            stages = ", ".join(f"{k} {v:.2f}" for k, v in r["stages"].items() if v >= 0.005)
            console.print(f"  {r['tool']} ({r['version']}) stages s: {stages}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000",
                    help="records a side, comma-separated ('' for none)")  # fmt: skip
    ap.add_argument("--febrl", action=argparse.BooleanOptionalAction, default=True,
                    help="also FEBRL4 (default yes; --no-febrl to skip)")  # fmt: skip
    ap.add_argument(
        "--tools", default=",".join(TOOLS), help="comma-separated, of " + ", ".join(TOOLS)
    )
    ap.add_argument("--seed", type=int, default=1, help="population seed (and FEBRL4 key)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per tool run")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the tools N times in turn, keep each one's fastest")  # fmt: skip
    ap.add_argument("--data", type=Path, default=None,
                    help="keep the generated extracts here and reuse them next time")  # fmt: skip
    ap.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(run_fraudmatch(args.child, args.seed)))
        return 0

    from rich.console import Console

    console = Console(width=150)  # the table is wider than a pipe's default 80 columns
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        ap.error(f"unknown tools: {', '.join(sorted(unknown))}")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    command = "python benchmarks/peers.py " + " ".join(sys.argv[1:] if argv is None else argv)
    console.print(f"command: {command.strip()}")
    console.print(
        f"machine: {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, polars {pl.__version__}; load average {_load()}"
    )
    jobs: list[tuple[str, str, object]] = [
        (f"synthetic payroll <-> housing benefit, {n:,} a side, seed {args.seed}",
         f"n{n}_seed{args.seed}", n)
        for n in sizes
    ]  # fmt: skip
    if args.febrl:
        jobs.append(("FEBRL4 (5,000 + 5,000)", "febrl4", "febrl"))
    with tempfile.TemporaryDirectory() as tmp:
        base = args.data or Path(tmp)
        for title, name, what in jobs:
            folder = base / name
            folder.mkdir(parents=True, exist_ok=True)
            if (folder / "job.txt").exists():
                console.print(f"{title}: reusing the extracts in {folder}")
            else:
                took = (
                    write_febrl(folder)
                    if what == "febrl"
                    else write_synthetic(what, args.seed, folder)
                )
                console.print(f"{title}: data made in {took:.1f} s (excluded from every timing)")
            load_before = _load()
            best: dict[str, dict] = {}
            for i in range(args.repeat):
                for tool in tools:
                    console.print(f"  running {tool} ({i + 1}/{args.repeat}) ...", style="dim")
                    r = run_tool(tool, folder, args.seed, args.timeout)
                    if (
                        tool not in best
                        or "error" in best[tool]
                        or ("error" not in r and r["wall_s"] < best[tool]["wall_s"])
                    ):
                        best[tool] = r
            rows = [best[t] for t in tools]
            report(title, rows, console, load_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
