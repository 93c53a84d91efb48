"""An independent scan: after a whole cycle, is any raw personal value anywhere at the hub?

    python benchmarks/hub_scan.py --people 5000 --partners 3 --population wild
    python benchmarks/hub_scan.py --workspace HUB --councils COUNCILS   # scan a finished run

Without ``--workspace`` it plays every party through the command line on extracts the
project's tests never use (by default the *wild* population, seed 7): ``fraudmatch synth``,
the parties' keys, ``fraudmatch prepare`` at each council, the sealed files into the hub's
inbox, ``fraudmatch cycle`` with Prefect's home and database inside the hub's folder. Then it
reads every extract as the council typed it and as normalised, and takes as personal every
value of every column the hub must not read in clear: every spec column that is tokenised,
encoded or withheld, *and* every column of the raw file the spec does not know (an email or
phone column a council left in is dropped by ``prepare``: the scan checks that it was).
Dates are looked for as typed, as ISO and as DD/MM/YYYY. Every file under the hub's folder is
searched (Parquet, DuckDB and zipped files read as their text, the rest as bytes) for each
value as a whole word; values of four characters or fewer, and values that are also a value
of a column the hub reads in clear (a surname that is a job title), are left out, as in
``tests/test_leak.py``, whose file readers this script reuses.

Printed: the values searched per column, the files scanned, and every hit as file, column,
count and examples. Exit status 1 when anything was found.

It also lists the keyed token columns of few distinct values at the hub (``--small``,
default under 1000), the ones a frequency count could read back (see
``benchmarks/attacks.py frequency`` and docs/threat-model.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_leak import MIN_LENGTH, _date_forms, _pattern, _texts  # noqa: E402

from fraudmatch.council.ingest import ingest, read_extract  # noqa: E402
from fraudmatch.spec.specs import load_spec  # noqa: E402
from fraudmatch.synth.demo import make_parties  # noqa: E402

SPEC = load_spec()
_META = {"__row"}


def _cli(*args: str, env: dict[str, str]) -> None:
    run = "import sys; from fraudmatch.cli import main; sys.exit(main(sys.argv[1:]))"
    cmd = [sys.executable, "-c", run, *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:1])} failed ({done.returncode}):\n{done.stderr}")


def run_cycle(root: Path, people: int, partners: int, population: str, seed: int) -> Path:
    """Every party's steps through the CLI; returns the councils' folder (hub is root/hub)."""
    env = {**os.environ, "PREFECT_HOME": str(root / "hub" / "prefect")}
    # a loaded machine starts the temporary Prefect server slowly
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "300")
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = (
        f"sqlite+aiosqlite:///{root / 'hub' / 'prefect' / 'prefect.db'}"
    )
    councils = root / "councils"
    _cli("synth", "--population", population, "--people", str(people),
         "--partners", str(partners), "--seed", str(seed), "--cycle-date", "2026-11-01",
         "--out", str(councils), env=env)  # fmt: skip
    names = sorted(p.name for p in councils.iterdir() if p.is_dir() and p.name != "truth")
    parties = make_parties(root / "parties", names, list(SPEC.datasets))
    for partner in names:
        extracts = sorted(
            str(p) for p in (councils / partner).iterdir() if not p.name.endswith(".rejects.csv")
        )
        out = root / "prepared" / partner
        _cli("prepare", *extracts, "--period", "2026-11",
             "--partnership", str(parties.partnership_path),
             "--key", str(parties.partner_key_paths[partner]),
             "--linkage-key", str(parties.linkage_key_path), "--out", str(out),
             env=env)  # fmt: skip
        inbox = root / "hub" / "inbox" / partner
        inbox.mkdir(parents=True, exist_ok=True)
        for sealed in out.iterdir():
            shutil.copy(sealed, inbox / sealed.name)
    _cli("cycle", "--workspace", str(root / "hub"),
         "--partnership", str(parties.partnership_path),
         "--hub-key", str(parties.hub_key_path), "--cycle-date", "2026-11-01", env=env)  # fmt: skip
    return councils


def raw_values(councils: Path) -> tuple[dict[str, set[str]], set[str]]:
    """Per ``dataset.column``, the values the hub must not read; and the clear values."""
    personal: dict[str, set[str]] = {}
    clear: set[str] = set()
    for folder in sorted(p for p in councils.iterdir() if p.is_dir() and p.name != "truth"):
        for path in sorted(folder.iterdir()):
            if path.stem not in SPEC.datasets or ".rejects" in path.name:
                continue
            ds = SPEC.dataset(path.stem)
            raw, _ = read_extract(path)
            normed = ingest(path, ds).accepted
            known = {c.name for c in ds.columns}
            for name in raw.columns:
                if name in _META:
                    continue
                col = ds.column(name) if name in known else None
                typed = set(raw.get_column(name).drop_nulls().str.strip_chars().to_list())
                if col is not None and "clear" in col.pseudonymise:
                    clear |= typed
                    if name in normed.columns:
                        clear |= set(normed.get_column(name).drop_nulls().cast(pl.String))
                    continue
                values = set(typed)
                if col is not None and col.type == "date":
                    for text in typed:
                        values |= _date_forms(text, None)
                    for parsed in normed.get_column(name).drop_nulls().to_list():
                        values |= _date_forms(parsed.isoformat(), parsed)
                elif name in normed.columns:
                    values |= set(normed.get_column(name).drop_nulls().cast(pl.String))
                label = f"{ds.name}.{name}" + ("" if col is not None else " (not in spec)")
                personal.setdefault(label, set()).update(values)
    return personal, clear


def prefect_vocabulary(values: set[str]) -> set[str]:
    """Those of ``values`` that Prefect's own package text holds as a word.

    Prefect's database stores its block schemas with their documentation and examples
    ("Allow Field Overrides", "Microsoft Power Automate", ``{"name": "Ford"}``): a surname
    found there, and in Prefect's source, was written by Prefect, not by a council.
    """
    import prefect

    package = Path(prefect.__file__).parent
    text = "\n".join(
        p.read_text(errors="replace") for p in package.rglob("*") if p.suffix in {".py", ".json"}
    )
    return {v for v in values if _pattern(v).search(text)}


def scan(hub: Path, councils: Path) -> tuple[dict[str, int], int, list[str]]:
    personal, clear = raw_values(councils)
    clear_text = "\n".join(clear)
    searched = {
        column: {v for v in values if len(v) >= MIN_LENGTH and not _pattern(v).search(clear_text)}
        for column, values in personal.items()
    }
    column_of: dict[str, list[str]] = {}
    for column, values in searched.items():
        for v in values:
            column_of.setdefault(v, []).append(column)
    patterns = pl.Series(sorted(column_of)).implode()
    files = sorted(p for p in hub.rglob("*") if p.is_file())
    hits: list[str] = []
    prefect_home = hub / "prefect"
    for path in files:
        text = "\n".join(_texts(path))
        found = pl.Series([text]).str.extract_many(patterns, overlapping=True)[0].to_list()
        present = {v for v in set(found) if _pattern(v).search(text)}
        if present and path.is_relative_to(prefect_home):
            ours = prefect_vocabulary(present)
            if ours:
                rel = path.relative_to(hub)
                print(f"  (left out in {rel}: Prefect's own words {sorted(ours)})")
            present -= ours
        by_column: dict[str, list[str]] = {}
        for v in sorted(present):
            for column in column_of[v]:
                by_column.setdefault(column, []).append(v)
        rel = path.relative_to(hub)
        hits += [f"{rel}: {c}: {len(v)} values, e.g. {v[:3]}" for c, v in by_column.items()]
    return {c: len(v) for c, v in searched.items()}, len(files), hits


def small_token_columns(hub: Path, limit: int) -> list[tuple[str, str, int, int]]:
    """(dataset, column, rows, distinct) of every keyed token column under ``limit`` values."""
    out: list[tuple[str, str, int, int]] = []
    for name in SPEC.datasets:
        paths = sorted((hub / "store").glob(f"*/{name}/*.parquet"))
        if not paths:
            continue
        frame = pl.concat([pl.read_parquet(p) for p in paths], how="diagonal_relaxed")
        for col in frame.columns:
            if frame[col].dtype != pl.UInt64 or "__bf" in col:
                continue
            values = frame[col].drop_nulls()
            if values.len() and values.n_unique() < limit:
                out.append((name, col, values.len(), values.n_unique()))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--partners", type=int, default=3)
    parser.add_argument("--population", choices=["synth", "wild"], default="wild")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workspace", type=Path, help="scan this hub folder, run nothing")
    parser.add_argument("--councils", type=Path, help="the extracts behind --workspace")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    parser.add_argument("--small", type=int, default=1000)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.workspace is not None:
        if args.councils is None:
            parser.error("--workspace needs --councils")
        hub, councils = args.workspace, args.councils
        return _report(hub, councils, args.small, started)
    root = args.keep or Path(tempfile.mkdtemp(prefix="hub-scan-"))
    try:
        councils = run_cycle(root, args.people, args.partners, args.population, args.seed)
        return _report(root / "hub", councils, args.small, started)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


def _report(hub: Path, councils: Path, small: int, started: float) -> int:
    counts, files, hits = scan(hub, councils)
    print(f"values searched: {sum(counts.values()):,} in {len(counts)} columns")
    for column, n in sorted(counts.items()):
        print(f"  {column}: {n:,}")
    print(f"files scanned under {hub}: {files}")
    print(f"raw personal values found: {len(hits)} file/column pairs")
    for line in hits:
        print(f"  {line}")
    print(f"keyed token columns with fewer than {small} distinct values at the hub:")
    for dataset, col, rows, distinct in small_token_columns(hub, small):
        print(f"  {dataset}.{col}: {distinct} distinct over {rows:,} rows")
    print(f"({time.perf_counter() - started:.0f} s)")
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
