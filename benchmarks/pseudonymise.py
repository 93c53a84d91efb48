"""Pseudonymisation throughput, and the measurement behind the Bloom-filter parameters.

    python benchmarks/pseudonymise.py                 # 1,000,000 synthetic payroll rows
    python benchmarks/pseudonymise.py --rows 200000
    python benchmarks/pseudonymise.py --choose-bloom  # Dice quality vs hashes per bigram

The synthetic frame has the shape the ingest step produces (normalised values plus the name
and postcode extras) and realistic cardinalities, because the cost is per *distinct* value:
~5k surnames (1% double-barrelled, so ~14k distinct values), ~1k first names (15% with a
middle name, ~26k distinct forenames), ~300k addresses, ~100k postcodes, ~20k dates of birth,
and a distinct NI number and bank account for every row. The report splits the time by
method so it is clear where a faster HMAC or a cheaper Bloom step would pay off.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import random
import string
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fraudmatch.council import pseudonymise as ps  # noqa: E402
from fraudmatch.spec.bloom import (  # noqa: E402
    BloomParams,
    _bigram_masks,
    bloom_encode,
    dice_expr,
    word_names,
)
from fraudmatch.spec.specs import load_spec  # noqa: E402

VOWELS = "AEIOU"
ONSETS = ["B", "BR", "C", "CH", "CL", "D", "F", "G", "GR", "H", "J", "K", "L", "M", "N", "P"]
ONSETS += ["PR", "R", "S", "SH", "ST", "T", "TH", "W", "WH", "Y"]
CODAS = ["", "N", "R", "S", "T", "LL", "RD", "NS", "CK", "LT", "SON", "TON", "LEY", "MAN", "FORD"]
STREET_TYPES = ["ROAD", "STREET", "LANE", "AVENUE", "CLOSE", "DRIVE", "WAY", "GARDENS", "COURT"]
NI_PREFIX_LETTERS = "ABCEGHJKLMNPRSTWXYZ"


# --------------------------------------------------------------------------------------------
# Synthetic normalised payroll
# --------------------------------------------------------------------------------------------


def _words(rng: np.random.Generator, count: int, syllables: tuple[int, int]) -> list[str]:
    """``count`` distinct upper-case pseudo-words built from English-looking syllables."""
    out: set[str] = set()
    while len(out) < count:
        n = int(rng.integers(syllables[0], syllables[1] + 1))
        word = "".join(
            ONSETS[rng.integers(len(ONSETS))] + VOWELS[rng.integers(5)] for _ in range(n)
        )
        out.add(word + CODAS[rng.integers(len(CODAS))])
    return sorted(out)


def _zipf_pick(rng: np.random.Generator, pool: list[str], rows: int) -> np.ndarray:
    """Draw with a Zipf-like skew, as real name frequencies are."""
    weights = 1.0 / np.arange(1, len(pool) + 1) ** 0.9
    idx = rng.choice(len(pool), size=rows, p=weights / weights.sum())
    return np.asarray(pool, dtype=object)[idx]


def _ni_numbers(rng: np.random.Generator, rows: int) -> list[str]:
    """Distinct NI number stems (two prefix letters, six digits)."""
    pairs = [a + b for a in NI_PREFIX_LETTERS for b in NI_PREFIX_LETTERS if b != "O"]
    ids = rng.choice(len(pairs) * 1_000_000, size=rows, replace=False)
    return [f"{pairs[i // 1_000_000]}{i % 1_000_000:06d}" for i in ids.tolist()]


def synthetic_payroll(rows: int, seed: int = 1) -> pl.DataFrame:
    """A normalised payroll frame (values and extras) with realistic cardinalities."""
    rng = np.random.default_rng(seed)
    surnames = _words(rng, 5_000, (1, 3))
    first_names = _words(rng, 1_000, (1, 2))
    surname = _zipf_pick(rng, surnames, rows)
    barrelled = rng.random(rows) < 0.01
    surname[barrelled] = [
        f"{a} {b}"
        for a, b in zip(
            surname[barrelled], _zipf_pick(rng, surnames, int(barrelled.sum())), strict=True
        )
    ]
    forenames = _zipf_pick(rng, first_names, rows)
    middle = rng.random(rows) < 0.15
    forenames[middle] = [
        f"{a} {b}"
        for a, b in zip(
            forenames[middle], _zipf_pick(rng, first_names[:40], int(middle.sum())), strict=True
        )
    ]
    streets = _words(rng, 3_000, (1, 3))
    towns = _words(rng, 60, (2, 3))
    address_pool = [
        f"{int(rng.integers(1, 200))} {streets[rng.integers(len(streets))]} "
        f"{STREET_TYPES[rng.integers(len(STREET_TYPES))]} {towns[rng.integers(len(towns))]}"
        for _ in range(300_000)
    ]
    letters = np.array(list(string.ascii_uppercase))
    postcode_pool = [
        f"{''.join(letters[rng.integers(26, size=2)])}{rng.integers(1, 30)} "
        f"{rng.integers(10)}{''.join(letters[rng.integers(26, size=2)])}"
        for _ in range(100_000)
    ]
    birth = rng.integers(-7300, 12_800, size=rows)  # 1950 .. 2005
    frame = pl.DataFrame(
        {
            "record_id": [f"E{i:07d}" for i in range(rows)],
            "surname": surname.tolist(),
            "forenames": forenames.tolist(),
            "date_of_birth": pl.Series(birth, dtype=pl.Int32).cast(pl.Date),
            "ni_number": _ni_numbers(rng, rows),
            "address": np.asarray(address_pool, dtype=object)[rng.integers(300_000, size=rows)],
            "postcode": np.asarray(postcode_pool, dtype=object)[rng.integers(100_000, size=rows)],
            "sort_code": [
                f"{x:06d}"
                for x in rng.integers(0, 1_000_000, size=500)[rng.integers(500, size=rows)]
            ],
            "account_number": [
                f"{x:08d}" for x in rng.choice(100_000_000, size=rows, replace=False)
            ],
            "job_title": np.asarray(_words(rng, 200, (2, 3)), dtype=object)[
                rng.integers(200, size=rows)
            ],
            "start_date": pl.Series(rng.integers(10_000, 20_000, size=rows), dtype=pl.Int32).cast(
                pl.Date
            ),
            "end_date": pl.Series([None] * rows, dtype=pl.Date),
        }
    )
    words = lambda c: pl.col(c).str.split(" ")  # noqa: E731
    return frame.with_columns(
        words("surname").list.first().alias("surname__first"),
        words("surname").list.last().alias("surname__last"),
        words("forenames").list.first().alias("forenames__first"),
        words("forenames").list.last().alias("forenames__last"),
        pl.col("postcode")
        .str.slice(0, pl.col("postcode").str.len_chars() - 2)
        .alias("postcode__sector"),
        words("postcode").list.first().alias("postcode__district"),
    )


# --------------------------------------------------------------------------------------------
# Throughput
# --------------------------------------------------------------------------------------------


def _timed(store: dict[str, float], label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            store[label] += time.perf_counter() - start

    return wrapper


def run_throughput(rows: int, seed: int) -> None:
    t0 = time.perf_counter()
    frame = synthetic_payroll(rows, seed)
    print(f"generated {rows:,} normalised payroll rows in {time.perf_counter() - t0:.1f}s")
    cardinality = {
        c: frame.get_column(c).n_unique()
        for c in (
            "surname",
            "forenames",
            "address",
            "postcode",
            "ni_number",
            "account_number",
            "date_of_birth",
        )
    }
    print("distinct values: " + ", ".join(f"{c} {n:,}" for c, n in cardinality.items()))
    spent: dict[str, float] = defaultdict(float)
    parts = {
        "tokens": "_token_columns",
        "bloom": "_bloom_columns",
        "phonetic": "_phonetic_columns",
        "date parts": "_date_part_columns",
        "tables": "_table",  # each column's distinct values (one per column)
        "gather": "_back",  # every output of a column back onto the rows at once
        "hmac": "_hmac64",  # inside tokens, phonetic and date parts
    }
    hashed = 0
    originals = {name: getattr(ps, name) for name in parts.values()}

    def counting_hmac(messages: list[bytes], key: bytes) -> np.ndarray:
        nonlocal hashed
        hashed += len(messages)
        return originals["_hmac64"](messages, key)

    for label, name in parts.items():
        fn = counting_hmac if name == "_hmac64" else originals[name]
        setattr(ps, name, _timed(spent, label, fn))
    try:
        key = os.urandom(32)
        start, cpu = time.perf_counter(), time.process_time()
        out = ps.pseudonymise(frame, load_spec().dataset("payroll"), key)
        total, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        for name, fn in originals.items():
            setattr(ps, name, fn)
    print(
        f"pseudonymised {rows:,} rows in {total:.2f}s: {rows / total:,.0f} rows/s "
        f"({cpu:.2f} CPU-s, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    print(f"output: {out.width} columns, {out.estimated_size('mb'):.0f} MB in memory")
    for label in list(parts)[:-1]:
        print(f"  {label:<11} {spent[label]:6.2f}s  {spent[label] / total:6.1%}")
    other = total - sum(v for k, v in spent.items() if k != "hmac")
    print(f"  {'other':<11} {other:6.2f}s  {other / total:6.1%}")
    print(
        f"  of which HMAC-SHA256 over {hashed:,} distinct values: {spent['hmac']:.2f}s "
        f"({spent['hmac'] / total:.1%}, {spent['hmac'] / max(hashed, 1) * 1e6:.2f} us each)"
    )


# --------------------------------------------------------------------------------------------
# Choosing the number of hashes per bigram
# --------------------------------------------------------------------------------------------


def _test_module() -> Any:
    """tests/test_bloom.py, for its surname list and typo generator (one source of truth)."""
    spec = importlib.util.spec_from_file_location("test_bloom", ROOT / "tests" / "test_bloom.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dice(left: list[str], right: list[str], key: bytes, params: BloomParams) -> np.ndarray:
    lw = bloom_encode(pl.Series(left), key, params).rename(lambda c: f"l_{c}")
    rw = bloom_encode(pl.Series(right), key, params).rename(lambda c: f"r_{c}")
    expr = dice_expr(
        [pl.col(c) for c in word_names("l_w", params)],
        pl.col("l_n"),
        [pl.col(c) for c in word_names("r_w", params)],
        pl.col("r_n"),
    )
    both = pl.concat([lw, rw], how="horizontal")
    return both.select(expr).to_series().to_numpy()


def _single_bigram_bits(grams: set[str], key: bytes, params: BloomParams) -> float:
    """Share of the bits the vocabulary sets that exactly one bigram sets: bits that betray it."""
    masks = _bigram_masks(sorted(grams), key, params)
    bits = np.unpackbits(masks.view(np.uint8), axis=1, bitorder="little")
    owners = bits.sum(axis=0)
    return float((owners == 1).sum() / max(1, (owners > 0).sum()))


def _addresses(rng: random.Random, count: int) -> list[str]:
    streets = ["HIGH", "CHURCH", "STATION", "VICTORIA", "GREEN", "MANOR", "PARK", "QUEENS", "MILL"]
    streets += ["KINGS", "SCHOOL", "GRANGE", "WESTFIELD", "ALBERT", "ORCHARD", "BEECH", "OAK"]
    towns = ["LEEDS", "BRADFORD", "WAKEFIELD", "HALIFAX", "HUDDERSFIELD", "HARROGATE", "YORK"]
    out: set[str] = set()
    while len(out) < count:
        street = f"{rng.choice(streets)} {rng.choice(STREET_TYPES)}"
        a = f"{rng.randint(1, 250)} {street} {rng.choice(towns)}"
        out.add(f"FLAT {rng.randint(1, 30)} {a}" if rng.random() < 0.2 else a)
    return sorted(out)


def _address_typo(address: str, rng: random.Random) -> str:
    while True:
        i = rng.randrange(len(address))
        if address[i].isalpha():
            letters = string.ascii_uppercase.replace(address[i], "")
            return address[:i] + rng.choice(letters) + address[i + 1 :]


def run_choose_bloom(bits: int, hashes: list[int], keys: int) -> None:
    tb = _test_module()
    names: list[str] = tb.SURNAMES
    rng = random.Random(20240601)
    typos = [(n, t) for n in names for _, t in tb.one_typo_variants(n, rng)]
    pairs = list(itertools.combinations(names, 2))
    addresses = _addresses(rng, 200)
    address_typos = [(a, _address_typo(a, rng)) for a in addresses]
    address_pairs = list(itertools.combinations(addresses, 2))
    vocab = set().union(*(tb.bigrams(n) for n in names))
    print(
        f"{len(names)} surnames ({len(vocab)} distinct bigrams), {len(typos)} one-typo pairs, "
        f"{len(pairs)} random pairs; {len(addresses)} addresses; bits={bits}, {keys} keys"
    )
    header = (
        f"{'hashes':>6} {'fill':>6} {'typo':>6} {'rand':>6} {'rand95':>6} {'rand99':>6} "
        f"{'err':>6} {'1-bigram bits':>13} | {'a.fill':>6} {'a.typo':>6} {'a.rand':>6}"
    )
    print(header)
    for k in hashes:
        params = BloomParams(bits=bits, hashes=k)
        rows = []
        for seed in range(keys):
            key = bytes([seed + 1]) * 32
            n = bloom_encode(pl.Series(names), key, params).get_column("n").to_numpy()
            typo = _dice([a for a, _ in typos], [b for _, b in typos], key, params)
            rand = _dice([a for a, _ in pairs], [b for _, b in pairs], key, params)
            thresholds = np.linspace(0, 1, 201)
            err = min(((typo < t).mean() + (rand >= t).mean()) / 2 for t in thresholds)
            an = bloom_encode(pl.Series(addresses), key, params).get_column("n").to_numpy()
            atypo = _dice([a for a, _ in address_typos], [b for _, b in address_typos], key, params)
            arand = _dice([a for a, _ in address_pairs], [b for _, b in address_pairs], key, params)
            rows.append(
                (
                    n.mean() / bits,
                    typo.mean(),
                    rand.mean(),
                    np.percentile(rand, 95),
                    np.percentile(rand, 99),
                    err,
                    _single_bigram_bits(vocab, key, params),
                    an.mean() / bits,
                    atypo.mean(),
                    arand.mean(),
                )
            )
        m = np.mean(rows, axis=0)
        print(
            f"{k:>6} {m[0]:6.3f} {m[1]:6.3f} {m[2]:6.3f} {m[3]:6.3f} {m[4]:6.3f} {m[5]:6.3f} "
            f"{m[6]:13.1%} | {m[7]:6.3f} {m[8]:6.3f} {m[9]:6.3f}"
        )
    print(
        "fill: mean share of bits set (also the Dice two unrelated filters reach by chance); "
        "typo/rand: mean Dice;\nerr: balanced error at the best threshold; 1-bigram bits: "
        "share of set bits that only one bigram sets; a.*: addresses"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--choose-bloom", action="store_true", help="measure Dice vs hashes")
    parser.add_argument("--bits", type=int, default=1024)
    parser.add_argument("--hashes", type=int, nargs="+", default=[2, 5, 8, 10, 12, 15, 20, 30])
    parser.add_argument("--keys", type=int, default=3, help="keys to average over")
    args = parser.parse_args()
    if args.choose_bloom:
        run_choose_bloom(args.bits, args.hashes, args.keys)
    else:
        run_throughput(args.rows, args.seed)


if __name__ == "__main__":
    main()
