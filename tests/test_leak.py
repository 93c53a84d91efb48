"""No personal value reaches the hub in clear: a whole cycle, then every hub file searched.

Councils prepare a small synthetic population through the CLI, the hub runs the cycle, and
every raw value of every name, date of birth, identifier and address column of the extracts
(as typed and as normalised; dates also as ISO and DD/MM/YYYY) is looked for in every file
the hub wrote: store, runs, reports, catalogue, logs, quarantine, and Prefect's own
database and logs. Parquet, DuckDB and zipped files (XLSX) are read as their text, since a
compressed copy would hide a value from a byte search. Sealed files are encrypted bytes.

A personal value found inside a value of a column the hub is meant to read in clear (a
surname that is also a job title, a date of birth that is also a claim's start date) proves
nothing and is left out. What is left must be found nowhere, as a whole word. The search is
one Aho-Corasick pass per file (polars' ``extract_many``), so it stays fast.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from cli_steps import cycle, deliver, prepare
from prefect.settings import get_current_settings

from fraudmatch.council.ingest import ingest, read_extract
from fraudmatch.spec.specs import DatasetSpec, load_spec
from fraudmatch.synth import generate
from fraudmatch.synth.demo import make_parties

CYCLE = date(2026, 11, 1)
SPEC = load_spec()
# Shorter values (an initial, a two-digit house number) say nothing about a person alone.
MIN_LENGTH = 4
# A sealed file is ciphertext: random bytes spell a given 4-letter word between two
# non-letters about once in 4 GB, and with thousands of names over megabytes of sealed
# payload one turns up now and then (PUGH did, in a clean-clone run). A value of 8 or more
# characters never does by chance, and a payload left unencrypted shows plenty of those
# (NI numbers, dates, addresses), so only those are looked for in sealed files.
MIN_LENGTH_SEALED = 8
SENT_AS_ITSELF = "clear"


def personal_columns(ds: DatasetSpec) -> list[str]:
    """Columns whose values must never reach the hub: tokenised, encoded, withheld or derived.

    Only a column sent as itself (``clear``) is readable. One that sends a derivation in
    clear (``adult_month``: the first month an attainer is 18 all through) is personal all
    the same: the electoral register's date of birth was left out of this search, and its
    values were even let through as clear ones, while it was the column issue 14 found in
    clear.
    """
    return [c.name for c in ds.columns if SENT_AS_ITSELF not in c.pseudonymise]


def clear_columns(ds: DatasetSpec) -> list[str]:
    return [c.name for c in ds.columns if SENT_AS_ITSELF in c.pseudonymise]


def _date_forms(text: str, parsed: date | None) -> set[str]:
    forms = {text}
    if parsed is not None:
        forms |= {parsed.isoformat(), parsed.strftime("%d/%m/%Y")}
    return forms


def extract_values(folder: Path) -> tuple[dict[str, set[str]], set[str]]:
    """Per ``dataset.column``, the personal values as typed and normalised; and clear values."""
    personal: dict[str, set[str]] = {}
    clear: set[str] = set()
    for path in sorted(folder.iterdir()):
        if path.stem not in SPEC.datasets or ".rejects" in path.name:
            continue
        ds = SPEC.dataset(path.stem)
        raw, _ = read_extract(path)
        normed = ingest(path, ds).accepted
        for name in personal_columns(ds):
            col = ds.column(name)
            values: set[str] = set()
            typed = raw.get_column(name).drop_nulls().str.strip_chars() if name in raw else None
            typed_list = typed.to_list() if typed is not None else []
            if col.type == "date":
                done = normed.get_column(name).drop_nulls().to_list()
                for text in typed_list:
                    values |= _date_forms(text, None)
                for parsed in done:
                    values |= _date_forms(parsed.isoformat(), parsed)
            else:
                values |= set(typed_list)
                values |= set(normed.get_column(name).drop_nulls().cast(pl.String).to_list())
            personal.setdefault(f"{ds.name}.{name}", set()).update(values)
        for name in clear_columns(ds):
            if name in raw.columns:
                clear |= set(raw.get_column(name).drop_nulls().str.strip_chars().to_list())
            if name in normed.columns:
                clear |= set(normed.get_column(name).drop_nulls().cast(pl.String).to_list())
    return personal, clear


def _texts(path: Path) -> Iterator[str]:
    """The text a file holds, decoded the way a reader of it would see it."""
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
        yield "\n".join(",".join(map(str, row)) for row in frame.iter_rows())
        return
    if path.suffix == ".duckdb":
        con = duckdb.connect(str(path), read_only=True)
        try:
            for (table,) in con.execute(
                "SELECT table_name FROM information_schema.tables"
            ).fetchall():
                rows = con.execute(f'SELECT * FROM "{table}"').fetchall()
                yield "\n".join(",".join(map(str, row)) for row in rows)
        finally:
            con.close()
        return
    data = path.read_bytes()
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                yield archive.read(member).decode("utf-8", "replace")
        return
    yield data.decode("utf-8", "replace")


def hub_files(workspace: Path) -> list[Path]:
    """Everything the hub wrote: its workspace, and Prefect's home and database."""
    settings = get_current_settings()
    roots = [workspace, Path(settings.home)]
    url = settings.server.database.connection_url
    secret = url.get_secret_value() if url is not None else ""
    db = re.sub(r"^sqlite\+aiosqlite:///", "", secret)
    if db and db != secret:
        roots.append(Path(db).parent)
    files = {p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()}
    return sorted(files)


def _pattern(value: str) -> re.Pattern[str]:
    # whole words only: "12345678" inside a longer number or "HILL" inside "HILLSIDE" is not
    # it, nor the fraction of a number: Prefect's database holds tens of thousands of
    # timestamps with microseconds ("14:18:36.401162"), where any six-digit sort code turns
    # up by chance (the two found there in an earlier session were such fractions)
    return re.compile(rf"(?<![0-9A-Za-z])(?<!\d\.){re.escape(value)}(?![0-9A-Za-z])")


def _found_in(values: set[str], text: str) -> set[str]:
    """The values found in ``text`` as whole words (:func:`_pattern`): one Aho-Corasick pass
    (polars' ``extract_many``) finds the candidates, and only those get their pattern."""
    if not values or not text:
        return set()
    patterns = pl.Series(sorted(values))
    found = pl.Series([text]).str.extract_many(patterns.implode(), overlapping=True)[0].to_list()
    return {v for v in set(found) if _pattern(v).search(text)}


@pytest.fixture(scope="module")
def cycle_run(tmp_path_factory: pytest.TempPathFactory, prefect_harness) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("leak")
    synth = generate(root / "councils", partners=2, people=600, seed=14, cycle_date=CYCLE)
    parties = make_parties(root, synth.partners, list(SPEC.datasets))
    inbox = root / "prepared"
    for partner in synth.partners:
        prepare(
            parties, partner, root / "councils" / partner, inbox / partner, "2026-11",
            parties.linkage_key_path,
        )  # fmt: skip
    workspace = root / "hub"
    deliver(inbox, workspace, synth.partners)
    assert cycle(parties, workspace, CYCLE) == 0
    return root / "councils", workspace


def test_no_personal_value_in_any_file_the_hub_wrote(cycle_run: tuple[Path, Path]) -> None:
    councils, workspace = cycle_run
    personal: dict[str, set[str]] = {}
    clear: set[str] = set()
    for folder in sorted(p for p in councils.iterdir() if p.is_dir() and p.name != "truth"):
        values, allowed = extract_values(folder)
        clear |= allowed
        for column, found in values.items():
            personal.setdefault(column, set()).update(found)
    long_enough = {v for values in personal.values() for v in values if len(v) >= MIN_LENGTH}
    in_clear = _found_in(long_enough, "\n".join(clear))
    searched = {
        column: {v for v in values if len(v) >= MIN_LENGTH and v not in in_clear}
        for column, values in personal.items()
    }
    assert sum(map(len, searched.values())) > 3_000  # the search is not vacuous
    assert any(c.endswith(".date_of_birth") and v for c, v in searched.items())
    # the attainers' dates of birth, the one date the hub reads a derivation of, are searched
    assert searched.get("electoral_register.date_of_birth")
    files = hub_files(workspace)
    assert any(p.suffix == ".parquet" for p in files) and any("runs" in p.parts for p in files)
    column_of: dict[str, list[str]] = {}
    for column, values in searched.items():
        for v in values:
            column_of.setdefault(v, []).append(column)
    sealed_search = {v for v in column_of if len(v) >= MIN_LENGTH_SEALED}
    assert len(sealed_search) > 1_000  # a payload in clear would not go unseen
    leaks: list[str] = []
    for path in files:
        values = sealed_search if path.suffix == ".sealed" else set(column_of)
        hits = sorted(_found_in(values, "\n".join(_texts(path))))
        by_column: dict[str, list[str]] = {}
        for v in hits:
            for column in column_of[v]:
                by_column.setdefault(column, []).append(v)
        leaks += [f"{path}: {c}: {len(v)} values, e.g. {v[:3]}" for c, v in by_column.items()]
    assert not leaks, "personal values in clear at the hub:\n" + "\n".join(leaks)


def test_a_sort_code_is_found_as_a_value_but_not_as_a_timestamp_s_microseconds() -> None:
    """The search the leak test runs on Prefect's database, which it no longer spares."""
    pattern = _pattern("401162")
    assert pattern.search('{"sort_code": "401162"}') and pattern.search("\x00401162\x01")
    assert not pattern.search("2026-12-05 14:18:36.401162") and not pattern.search("0.401162")
    assert not pattern.search("94011625") and not pattern.search("A401162")
