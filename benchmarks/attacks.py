"""What a curious hub can read back from what it holds: two published attacks, measured.

    python benchmarks/attacks.py frequency [--people 20000]   # every token column
    python benchmarks/attacks.py bloom [--people 20000]       # name Bloom encodings

Both play the hub: it holds one cycle's pseudonymised extracts (a ``fraudmatch synth``
population, seed 1) and, as "public" knowledge, the plaintext frequencies of a realistic
population (an independent population from the same generator, seed 2, whose name lists
follow UK frequency shapes). The hub never has the key.

* **Frequency alignment** (e.g. Kuzu et al. 2011): rank the hub's tokens of a column by
  frequency, rank the public values by frequency, pair them rank for rank. Printed per
  dataset and column: the share of records whose token is paired with its true value.
  Deterministic keyed tokens keep frequencies, so a column with few, unevenly frequent
  values is read back; a column of near-unique values (NI numbers) is not. The date of birth
  is shown before (a lone day, month and year token, as sent until issue 14) and after (the
  day-month, month-year and day-year pairs sent now).
* **Bloom-filter pattern mining** (after Christen, Schnell, Vatsalan & Ranbaduge 2017,
  "Efficient cryptanalysis of Bloom filters for privacy-preserving record linkage"): align
  the most frequent encodings with the most frequent public names, learn from those guesses
  which bit positions each bigram sets (the AND of the encodings of guessed names holding
  the bigram), then decode every encoding by the public name whose predicted bits fit it
  best. Printed: the share of records whose name is recovered, by plain frequency alignment
  and by the pattern-mining decoder, at the partnership's parameters (1024 bits, 15 hashes).

The truth is only used to score. Tokens of the public population are made with the same
key purely as labels for "this value" (equal value, equal token), which stands for the
attacker knowing the public plaintext; the attack itself never reads a key or a truth.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fraudmatch.council.ingest import ingest  # noqa: E402
from fraudmatch.council.pseudonymise import (  # noqa: E402
    field_key,
    period_start,
    pseudonymise,
    token_series,
)
from fraudmatch.spec.bloom import DEFAULT_BLOOM, bigrams  # noqa: E402
from fraudmatch.spec.specs import load_spec  # noqa: E402
from fraudmatch.synth import generate  # noqa: E402

SPEC = load_spec()
_TOKEN_ENDINGS = ("__tok", "__metaphone", "__nysiis", "__soundex", "__dm", "__my", "__dy")
# the scheme sent before issue 14: one token per date part
_LONE_PARTS = {"y": "%Y", "m": "%m", "d": "%d"}


def population(folder: Path, people: int, seed: int, key: bytes) -> dict[str, pl.DataFrame]:
    """Per dataset, all partners' normalised rows side by side with what the hub gets."""
    generate(folder, partners=3, people=people, seed=seed)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    parts: dict[str, list[pl.DataFrame]] = {}
    for entry in manifest["files"]:
        ds = SPEC.dataset(entry["dataset"])
        normed = ingest(folder / entry["path"], ds).accepted
        as_of = period_start(manifest["cycle_date"][:7])  # prepared for the cycle's period
        hub = pseudonymise(normed, ds, key, as_of=as_of)
        plain = normed.select(
            pl.all().name.prefix("plain:")
        )  # the truth, kept apart from the hub's columns
        parts.setdefault(ds.name, []).append(pl.concat([hub, plain], how="horizontal"))
    return {name: pl.concat(frames, how="diagonal") for name, frames in parts.items()}


def with_lone_parts(frame: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """The old date-of-birth tokens (lone year, month, day), to show what they gave away."""
    col = "plain:date_of_birth"
    if col not in frame.columns:
        return frame
    return frame.with_columns(
        token_series(
            frame.get_column(col).dt.strftime(fmt), field_key(key, f"date_of_birth__{part}")
        ).alias(f"date_of_birth__{part} (before)")
        for part, fmt in _LONE_PARTS.items()
    )


def aligned_share(target: pl.Series, public: pl.Series) -> float:
    """Share of the target's non-null records whose token rank-aligns to its own label."""
    t = target.drop_nulls().value_counts(sort=True, name="n")
    if t.height == 0:
        return float("nan")
    p = public.drop_nulls().value_counts(sort=True, name="n")
    n = min(t.height, p.height)
    guess = t.head(n).get_column(target.name) == p.head(n).get_column(public.name)
    return float(t.head(n).get_column("n").filter(guess).sum() / t.get_column("n").sum())


def frequency(people: int) -> pl.DataFrame:
    key = secrets.token_bytes(32)
    with tempfile.TemporaryDirectory() as tmp:
        target = population(Path(tmp) / "target", people, 1, key)
        public = population(Path(tmp) / "public", people, 2, key)
    rows = []
    for name, frame in sorted(target.items()):
        frame, ref = with_lone_parts(frame, key), with_lone_parts(public[name], key)
        for col in frame.columns:
            tokenised = col.endswith(_TOKEN_ENDINGS) or col.endswith("(before)")
            if not tokenised or col.startswith("plain:") or col not in ref.columns:
                continue
            series = frame.get_column(col)
            rows.append(
                {
                    "dataset": name,
                    "column": col,
                    "records": series.drop_nulls().len(),
                    "distinct": series.drop_nulls().n_unique(),
                    "re-identified": round(aligned_share(series, ref.get_column(col)), 4),
                }
            )
    return pl.DataFrame(rows)


# ------------------------------------------------------------------------------- Bloom


def _bits(frame: pl.DataFrame, col: str) -> np.ndarray:
    """The filters of a Bloom column as a (rows, bits) boolean array."""
    words = (
        frame.select(f"{col}__bf{i}" for i in range(DEFAULT_BLOOM.words))
        .to_numpy()
        .astype(np.uint64)
    )
    as_bytes = np.ascontiguousarray(words).view(np.uint8).reshape(len(frame), -1)
    return np.unpackbits(as_bytes, axis=1, bitorder="little").astype(bool)


def bloom_attack(target: pl.DataFrame, public: pl.DataFrame, col: str, top: int = 150) -> dict:
    """Frequency alignment and pattern-mining decoding of one name column's encodings."""
    truth = target.get_column(f"plain:{col}")
    keep = truth.is_not_null()
    target, truth = target.filter(keep), truth.filter(keep)
    bits = _bits(target, col)
    # distinct encodings with their counts (equal names give equal encodings)
    _, first, inverse, counts = np.unique(
        np.packbits(bits, axis=1), axis=0, return_index=True, return_inverse=True,
        return_counts=True,
    )  # fmt: skip
    inverse = inverse.ravel()
    order = np.argsort(-counts, kind="stable")
    names = public.get_column(f"plain:{col}").drop_nulls().value_counts(sort=True, name="n")
    ranked = names.get_column(f"plain:{col}").to_list()
    # 1. plain frequency alignment of whole encodings
    guess = np.full(len(counts), None, dtype=object)
    for rank, enc in enumerate(order[: len(ranked)]):
        guess[enc] = ranked[rank]
    truth_list = truth.to_list()
    freq_ok = np.mean([guess[inverse[i]] == truth_list[i] for i in range(len(truth_list))])
    # 2. pattern mining: bigram positions from the top aligned guesses
    enc_bits = bits[first]
    positions: dict[str, np.ndarray] = {}
    holders: dict[str, list[int]] = {}
    for enc in order[:top]:
        if guess[enc] is None:
            continue
        for gram in bigrams(guess[enc]):
            holders.setdefault(gram, []).append(enc)
    for gram, encs in holders.items():
        if len(encs) >= 3:
            positions[gram] = np.logical_and.reduce(enc_bits[encs], axis=0)
    candidates = [n for n in ranked if bigrams(n) and all(g in positions for g in bigrams(n))]
    if not candidates:
        return {"column": col, "frequency": freq_ok, "pattern_mining": 0.0, "candidates": 0}
    predicted = np.array(
        [np.logical_or.reduce([positions[g] for g in bigrams(n)], axis=0) for n in candidates]
    ).astype(np.float32)
    observed = enc_bits.astype(np.float32)
    inter = observed @ predicted.T
    union = observed.sum(1)[:, None] + predicted.sum(1)[None, :] - inter
    best = np.argmax(inter / np.maximum(union, 1), axis=1)
    decoded = np.array(candidates, dtype=object)[best]
    mined_ok = np.mean([decoded[inverse[i]] == truth_list[i] for i in range(len(truth_list))])
    return {
        "column": col,
        "records": len(truth_list),
        "distinct": len(counts),
        "frequency alignment": round(float(freq_ok), 4),
        "pattern mining": round(float(mined_ok), 4),
        "bigrams learnt": len(positions),
        "candidates": len(candidates),
    }


def bloom(people: int) -> pl.DataFrame:
    key = secrets.token_bytes(32)
    with tempfile.TemporaryDirectory() as tmp:
        target = population(Path(tmp) / "target", people, 1, key)
        public = population(Path(tmp) / "public", people, 2, key)
    rows = []
    for dataset in ("payroll", "housing_benefit", "electoral_register"):
        for col in ("surname", "forenames"):
            rows.append({"dataset": dataset, **bloom_attack(target[dataset], public[dataset], col)})
    return pl.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("attack", choices=["frequency", "bloom"])
    parser.add_argument("--people", type=int, default=20_000)
    args = parser.parse_args()
    start = time.perf_counter()
    table = frequency(args.people) if args.attack == "frequency" else bloom(args.people)
    with pl.Config(tbl_rows=-1, tbl_width_chars=160, fmt_str_lengths=60):
        print(table)
    if args.attack == "frequency":
        worst = table.sort("re-identified", descending=True).head(5)
        print("highest shares re-identified:")
        print(worst)
    print(f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
