"""Keyed Bloom-filter encodings (CLKs) of names and addresses, and their Dice similarity.

The hub must score "SMITH" against "SMYTH" without ever seeing either. Each value becomes a
set of padded character bigrams ("_SMITH_" -> _S SM MI IT TH H_; each word of a multi-word
value on its own), and each bigram sets ``hashes`` bits of a ``bits``-bit filter at
positions only the key holders can compute (Schnell, Bachteler & Reiher 2009). Similar values
share bigrams, hence bits, so the Dice coefficient of two filters tracks the Dice coefficient
of the two bigram sets, while the filter itself is useless without the partnership key.

Positions use double hashing from one HMAC-SHA256 per distinct bigram: ``h1`` and ``h2`` are
the first two big-endian 64-bit words of the digest, ``h2`` forced odd so that with a
power-of-two ``bits`` (the default) the ``hashes`` positions are all distinct, and position
``i`` is ``(h1 + i * h2) mod bits``. Bit ``p`` is bit ``p % 64`` (least significant first) of
word ``p // 64``.

Nothing runs in Python per record: the HMAC runs once per distinct bigram (a few thousand
at most), distinct values are exploded into bigrams in polars, each bigram row picks its
mask and numpy ORs each value's run of masks (``reduceat``), then values are joined back
to the rows.

Why ``bits = 1024, hashes = 15`` (``python benchmarks/pseudonymise.py --choose-bloom``: 200
common surnames, 777 one-typo variants, all 19,900 pairs of different surnames, 200 addresses
with one-letter typos; means over 3 keys):

======  =====  =====  =====  ======  =====  =============  ======  ======  ======
hashes  fill   typo   rand   rand99  err    1-bigram bits  a.fill  a.typo  a.rand
======  =====  =====  =====  ======  =====  =============  ======  ======  ======
2       0.013  0.717  0.069  0.429   0.012  75.3%          0.049   0.927   0.245
10      0.065  0.726  0.117  0.461   0.015  19.4%          0.221   0.935   0.366
15      0.096  0.732  0.147  0.476   0.016  7.0%           0.313   0.939   0.435
20      0.126  0.738  0.173  0.490   0.018  2.1%           0.394   0.943   0.496
30      0.183  0.748  0.224  0.517   0.019  0.2%           0.529   0.951   0.602
======  =====  =====  =====  ======  =====  =============  ======  ======  ======

(fill: share of bits set, which is also the Dice two unrelated filters reach by chance;
typo / rand: mean Dice; err: balanced error at the best threshold; 1-bigram bits: share of
set bits only one bigram of the vocabulary sets, i.e. bits a frequency analysis reads off
directly; ``a.``: addresses.) Quality barely moves with ``hashes`` (err 0.012 -> 0.019: the
bigram sets themselves limit it, JONES/JOENS share half their bigrams whatever the encoding),
while the bits that betray a single bigram fall fast. 15 is where that share drops under 10%
while the chance floor of names stays under 0.10 of the Dice scale.

Addresses (~35 bigrams against ~7 for a surname) use the same parameters: their fill is 31%,
unrelated addresses average 0.44 against 0.94 for a one-letter typo (balanced error about
0.0001), and one shape for every Bloom column keeps the schema, ``dice_expr`` and the
rules linter simple. More hashes would push address filters towards half full, where
unrelated addresses start to look alike by chance.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import numpy as np
import polars as pl

__all__ = [
    "DEFAULT_BLOOM",
    "BloomParams",
    "bigrams",
    "bloom_encode",
    "dice_expr",
    "word_names",
]

_ID = "__bf_id"
_BIGRAM = "__bf_bigram"
_MASK = "__bf_mask"
# Distinct values encoded per polars pass; bounds the exploded (value, bigram, words) frame
# to a few hundred MB even for addresses (~35 bigrams each).
_CHUNK = 50_000


@dataclass(frozen=True)
class BloomParams:
    """Size of each filter and bits set per bigram (the same for every Bloom column)."""

    bits: int = 1024
    hashes: int = 15

    def __post_init__(self) -> None:
        if self.bits <= 0 or self.bits % 64 or self.bits > 32768:
            raise ValueError(f"bits must be a positive multiple of 64 up to 32768, not {self.bits}")
        if not 1 <= self.hashes <= self.bits:
            raise ValueError(f"hashes must be between 1 and bits, not {self.hashes}")

    @property
    def words(self) -> int:
        """Number of UInt64 words per filter."""
        return self.bits // 64


DEFAULT_BLOOM = BloomParams()


def word_names(prefix: str, params: BloomParams) -> list[str]:
    """Column names of the filter words: ``{prefix}0`` .. ``{prefix}{W-1}``."""
    return [f"{prefix}{i}" for i in range(params.words)]


def bigrams(value: str) -> set[str]:
    """The padded bigram set of a value, in pure Python (the reference for tests and docs)."""
    out: set[str] = set()
    for word in value.split():
        padded = f"_{word}_"
        out.update(padded[i : i + 2] for i in range(len(padded) - 1))
    return out


def _bigram_masks(grams: list[str], key: bytes, params: BloomParams) -> np.ndarray:
    """One row of ``words`` UInt64 bit masks per bigram: the ``hashes`` positions it sets."""
    masks = np.zeros((len(grams), params.words), dtype=np.uint64)
    base = hmac.new(key, digestmod=hashlib.sha256)
    steps = np.arange(params.hashes, dtype=object)
    for row, gram in enumerate(grams):
        mac = base.copy()
        mac.update(gram.encode("utf-8"))
        digest = mac.digest()
        h1 = int.from_bytes(digest[:8], "big")
        h2 = int.from_bytes(digest[8:16], "big") | 1
        positions = np.asarray((h1 + steps * h2) % params.bits, dtype=np.int64)
        np.bitwise_or.at(
            masks[row],
            positions // 64,
            np.left_shift(np.uint64(1), (positions % 64).astype(np.uint64)),
        )
    return masks


def _explode_bigrams(distinct: pl.DataFrame, value: str) -> pl.DataFrame:
    """(id, bigram) for every bigram of every value, in value order: words padded with ``_``.

    Repeats within a value are kept: OR-ing a mask twice is harmless, and de-duplicating
    would shuffle the rows, which makes the later group-by several times slower.
    """
    words = (
        distinct.select(pl.col(_ID), pl.col(value).str.split(" ").alias("w"))
        .explode("w")
        .filter(pl.col("w").str.len_chars() > 0)
        .select(pl.col(_ID), pl.concat_str(pl.lit("_"), pl.col("w"), pl.lit("_")).alias("w"))
    )
    grams = (
        words.with_columns(pl.int_ranges(0, pl.col("w").str.len_chars() - 1).alias("o"))
        .explode("o")
        .select(pl.col(_ID), pl.col("w").str.slice(pl.col("o"), 2).alias(_BIGRAM))
    )
    return grams


def _encode_distinct(
    distinct: pl.DataFrame, value: str, key: bytes, params: BloomParams
) -> pl.DataFrame:
    """Filter words and popcount for each distinct non-null value (columns: value, words, n).

    Values without a bigram (empty, blank) get no row. Each chunk of distinct values is
    exploded into (value, bigram) rows in value order; every bigram gets a column in a mask
    array (one row per filter word) that grows as chunks bring bigrams not seen before, and
    numpy ORs each value's run of masks word by word with ``reduceat``: three times faster
    than a polars group-by over the words, and no exploded frame of words is built.
    """
    index = pl.DataFrame(schema={_BIGRAM: pl.String, _MASK: pl.UInt32})
    masks = np.zeros((params.words, 0), dtype=np.uint64)
    values: list[pl.Series] = []
    words: list[list[np.ndarray]] = [[] for _ in range(params.words)]
    for chunk in distinct.iter_slices(_CHUNK):
        grams = _explode_bigrams(chunk, value)
        new = grams.select(pl.col(_BIGRAM).unique().sort()).join(index, on=_BIGRAM, how="anti")
        if new.height:
            fresh = _bigram_masks(new.get_column(_BIGRAM).to_list(), key, params)
            masks = np.concatenate([masks, fresh.T], axis=1)
            numbers = pl.int_range(index.height, index.height + new.height, dtype=pl.UInt32)
            index = pl.concat([index, new.select(pl.col(_BIGRAM), numbers.alias(_MASK))])
        rows = grams.join(index, on=_BIGRAM, how="left", maintain_order="left")
        ids = rows.get_column(_ID).to_numpy()
        if not ids.size:
            continue
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        mask_rows = rows.get_column(_MASK).to_numpy()
        for word, out in zip(masks, words, strict=True):
            out.append(np.bitwise_or.reduceat(word.take(mask_rows), starts))
        values.append(distinct.get_column(value).gather(ids[starts]))
    columns = [
        pl.Series(name, np.concatenate(w) if w else [], dtype=pl.UInt64)
        for name, w in zip(word_names("w", params), words, strict=True)
    ]
    popcount = sum(np.bitwise_count(c.to_numpy()).astype(np.uint16) for c in columns)
    return pl.DataFrame(
        [
            pl.concat(values) if values else pl.Series(value, [], pl.String),
            *columns,
            pl.Series("n", popcount if values else [], dtype=pl.UInt16),
        ]
    )


def bloom_encode(
    values: pl.Series, key: bytes, params: BloomParams, *, distinct: bool = False
) -> pl.DataFrame:
    """Encode each value as a keyed CLK: columns ``w0..w{W-1}`` (UInt64) and ``n`` (UInt16).

    One row per input value, in order. Null, empty or blank values give null words and a
    null ``n``: they carry no bigrams, and an all-zero filter would wrongly score Dice 0
    against everything instead of "unknown". Each distinct value is encoded once;
    ``distinct=True`` says the values are already distinct (pseudonymisation works per
    distinct value), which skips deduplicating them again.
    """
    value = "__bf_value"
    values = values.cast(pl.String).rename(value)
    present = values.drop_nulls()
    if not distinct:
        present = present.unique()
    encoded = _encode_distinct(present.to_frame().with_row_index(_ID), value, key, params)
    out = values.to_frame().join(encoded, on=value, how="left", maintain_order="left")
    return out.drop(value)


def dice_expr(
    left_words: list[pl.Expr],
    left_n: pl.Expr,
    right_words: list[pl.Expr],
    right_n: pl.Expr,
) -> pl.Expr:
    """Dice coefficient ``2 |L & R| / (|L| + |R|)`` of two filters, as a Float64 expression.

    Null when either side is null (nothing to compare), so a missing name never counts as a
    disagreement; pure polars, so it runs over millions of candidate pairs without Python.
    """
    if len(left_words) != len(right_words) or not left_words:
        raise ValueError("dice_expr needs the same, non-zero number of words on both sides")
    common = pl.sum_horizontal(
        (lw & rw).bitwise_count_ones() for lw, rw in zip(left_words, right_words, strict=True)
    ).cast(pl.Float64)
    total = left_n.cast(pl.Float64) + right_n.cast(pl.Float64)
    return pl.when(total > 0).then(2.0 * common / total).otherwise(None)
