"""Bloom Dice and string similarity: the costly comparisons, once per unique value pair.

Candidate pairs repeat the same value pairs many times over (every SMITH against every
SMYTH in a block), so these comparisons reduce a partition to its unique (left value,
right value) pairs, score those, and scatter the levels back to the pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

from fraudmatch.matching.rule_model import ColumnRef, Comparison
from fraudmatch.spec.bloom import dice_expr
from fraudmatch.spec.normalisers.slips import SLIP_EXTRAS, slip_pairs

EPS = 1e-9


def levels_expr(conds: Sequence[pl.Expr], null: pl.Expr, n: int) -> pl.Expr:
    """gamma = n-1-i for the first true condition i; -1 if ``null``; else 0."""
    chain = pl.when(null).then(pl.lit(-1, pl.Int8))
    for i, cond in enumerate(conds):
        chain = chain.when(cond.fill_null(False)).then(pl.lit(n - 1 - i, pl.Int8))
    return chain.otherwise(pl.lit(0, pl.Int8))


def bloom_key(comp: Comparison) -> ColumnRef:
    """The token that identifies a Bloom value (for unique-pair dedup): exact or __tok."""
    assert comp.column is not None
    return comp.exact or ColumnRef(comp.column.left + "__tok", comp.column.right + "__tok")


def bloom_words(comp: Comparison, n_words: int) -> tuple[list[str], list[str], str, str]:
    assert comp.column is not None
    c = comp.column
    lw = [f"{c.left}__bf{i}" for i in range(n_words)]
    rw = [f"{c.right}__bf{i}" for i in range(n_words)]
    return lw, rw, f"{c.left}__bfn", f"{c.right}__bfn"


DICE_CHUNK = 1 << 20
NONE = np.uint32(0xFFFFFFFF)  # "no value" in a dense value index


@dataclass(frozen=True)
class Words:
    """One side's distinct Bloom values, as numpy: what unique-pair Dice needs.

    ``row_value[i]`` is the dense index of row ``i``'s value (``NONE`` without a token);
    ``tokens``, ``words`` (one uint64 array per filter word) and ``ones`` (popcount, NaN
    when unknown) are per distinct value.
    """

    row_value: np.ndarray
    tokens: np.ndarray
    words: tuple[np.ndarray, ...]
    ones: np.ndarray

    @classmethod
    def build(
        cls, side: pl.DataFrame, source: pl.DataFrame | pl.LazyFrame, token: str, words, n: str
    ) -> Words:
        """From the rows' tokens (``side``) and the Bloom words of each distinct token.

        The words are read from ``source`` (the same rows, eager or a lazy scan) for the
        distinct tokens only: the hub never holds 16 words a row for millions of rows. A
        value's token and words both derive from it, so any row with the token has them.
        """
        tok = side.get_column(token)
        if tok.dtype == pl.Null or tok.null_count() == side.height:
            empty = np.empty(0, dtype=np.uint64)
            rows = np.full(side.height, NONE, dtype=np.uint32)
            return cls(rows, empty, tuple(empty for _ in words), np.empty(0))
        have = set(source.collect_schema().names())
        cols = [
            pl.col(c) if c in have else pl.lit(None, pl.UInt16 if c == n else pl.UInt64).alias(c)
            for c in (*words, n)
        ]
        if isinstance(source, pl.DataFrame):  # in memory: find one row per token, gather
            first = (
                source.select(pl.col(token).cast(tok.dtype).alias("__t"))
                .with_row_index("__r")
                .drop_nulls("__t")
                .unique("__t", keep="any")
                .sort("__t")
            )
            at, k = first.get_column("__r"), first.height
            table = first.select("__t").hstack(
                source.select(
                    pl.col(c).gather(at)
                    if c in have
                    else pl.repeat(None, k, dtype=pl.UInt16 if c == n else pl.UInt64).alias(c)
                    for c in (*words, n)
                )
            )
        else:  # a scan: one streaming pass, holding only the distinct values
            table = (
                source.select(pl.col(token).cast(tok.dtype).alias("__t"), *cols)
                .drop_nulls("__t")
                .unique("__t", keep="any")
                .sort("__t")
                .collect(engine="streaming")
            )
        index = table.select("__t", pl.int_range(0, table.height, dtype=pl.UInt32).alias("__i"))
        rows = (
            side.select(pl.col(token).alias("__t"))
            .join(index, on="__t", how="left", maintain_order="left")
            .get_column("__i")
            .fill_null(NONE)
            .to_numpy()
        )
        return cls(
            row_value=rows,
            tokens=table.get_column("__t").to_numpy(),
            words=tuple(table.get_column(w).fill_null(0).to_numpy() for w in words),
            ones=table.get_column(n).cast(pl.Float64).fill_null(float("nan")).to_numpy(),
        )


def tokenless(side: pl.DataFrame, table: Words, n: str) -> bool:
    """Whether some row has Bloom words (a popcount) but no token to look them up by."""
    if not side.height:
        return False
    has_words = side.get_column(n).is_not_null().to_numpy()
    return bool((has_words & (table.row_value == NONE)).any())


def dice_numpy(left: Words, right: Words, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dice of value pairs by dense index: word by word AND + popcount, in bounded chunks.

    Word-at-a-time 1-D gathers keep temporaries at 8 bytes per pair instead of gathering
    whole filters (128 bytes per side per pair).
    """
    out = np.empty(len(a), dtype=np.float64)
    for start in range(0, len(a), DICE_CHUNK):
        ca, cb = a[start : start + DICE_CHUNK], b[start : start + DICE_CHUNK]
        common = np.zeros(len(ca), dtype=np.uint32)
        for lw, rw in zip(left.words, right.words, strict=True):
            common += np.bitwise_count(lw[ca] & rw[cb])
        total = left.ones[ca] + right.ones[cb]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + DICE_CHUNK] = np.where(total > 0, 2.0 * common / total, np.nan)
    return out


def unique_pair_gamma(
    comp: Comparison,
    lt: Words,
    rt: Words,
    li: np.ndarray,
    ri: np.ndarray,
    known: pl.DataFrame | None = None,
):
    """Dice levels of pairs whose two values both have a token; -1 elsewhere.

    Equal tokens are equal values (the top level, no lookup); the other pairs are reduced to
    unique (left value, right value) index pairs in numpy, scored, and scattered back.
    ``known``: value pairs whose Dice is known without the Bloom estimate (``__l``, ``__r``
    tokens, ``__dice``: one slip apart, :func:`~fraudmatch.spec.normalisers.slips.slip_pairs`),
    read instead of it. Returns the levels and the mask of pairs that had both tokens.
    """
    a, b = lt.row_value[li], rt.row_value[ri]
    has = (a != NONE) & (b != NONE)
    gamma = np.full(len(li), -1, dtype=np.int8)
    hi, hj = np.flatnonzero(has), None
    if len(hi):
        same = lt.tokens[a[hi]] == rt.tokens[b[hi]]
        gamma[hi[same]] = comp.n_levels - 1
        hj = hi[~same]
    if hj is not None and len(hj):
        keys = (a[hj].astype(np.uint64) << np.uint64(32)) | b[hj].astype(np.uint64)
        uniq, inverse = np.unique(keys, return_inverse=True)
        ua, ub = (uniq >> np.uint64(32)).astype(np.intp), (uniq & 0xFFFFFFFF).astype(np.intp)
        dice = dice_numpy(lt, rt, ua, ub)
        if known is not None and known.height:
            dice = _known_dice(dice, lt.tokens[ua], rt.tokens[ub], known)
        count = np.zeros(len(uniq), dtype=np.int8)
        for t in comp.thresholds:
            count += dice >= t - EPS
        count = np.where(count > 0, count + len(comp.forms), 0).astype(np.int8)  # above forms
        gamma[hj] = np.where(np.isnan(dice), -1, count)[inverse]
    return gamma, has


def _known_dice(
    dice: np.ndarray, left: np.ndarray, right: np.ndarray, known: pl.DataFrame
) -> np.ndarray:
    """``dice`` with the value pairs ``known`` holds replaced by their known Dice."""
    dtype = known.schema["__l"]
    pairs = pl.DataFrame({"__l": pl.Series(left).cast(dtype), "__r": pl.Series(right).cast(dtype)})
    found = pairs.join(known, on=["__l", "__r"], how="left", maintain_order="left")
    slip = found.get_column("__dice").to_numpy()
    return np.where(np.isnan(slip), dice, slip)


def dice_level_expr(comp: Comparison) -> pl.Expr:
    """Level from ``__dice`` (null or NaN: the null level)."""
    top = 1 if comp.exact is not None else 0
    n = comp.n_levels
    d = pl.col("__dice")
    chain = pl.when(d.is_null() | d.is_nan()).then(pl.lit(-1, pl.Int8))
    for i, t in enumerate(comp.thresholds):
        chain = chain.when(d >= t - EPS).then(pl.lit(n - 1 - top - i, pl.Int8))
    return chain.otherwise(pl.lit(0, pl.Int8))


def dice_levels(comp: Comparison, frame: pl.DataFrame, lw, rw, ln, rn) -> pl.DataFrame:
    """``frame`` plus ``__g``: Dice levels from Bloom words in its columns, pair by pair."""
    dice = dice_expr([pl.col(c) for c in lw], pl.col(ln), [pl.col(c) for c in rw], pl.col(rn))
    frame = frame.with_columns(dice.alias("__dice"))
    return frame.with_columns(dice_level_expr(comp).alias("__g"))


def string_gamma(comp: Comparison, left: pl.Expr, right: pl.Expr, wide: pl.DataFrame, workers: int):
    """Levenshtein (or Damerau) distance or ratio over unique (left, right) strings, via
    ``cpdist``. Damerau–Levenshtein counts two neighbouring characters swapped (a keying
    slip: 1032 for 1023) as one edit, where Levenshtein counts two."""
    pairs = wide.select(left.cast(pl.String).alias("__a"), right.cast(pl.String).alias("__b"))
    uniq = pairs.drop_nulls().unique()
    if comp.metric == "ratio":
        scorer, better = fuzz.ratio, "high"
    elif comp.metric == "damerau":
        scorer, better = DamerauLevenshtein.distance, "low"
    else:
        scorer, better = Levenshtein.distance, "low"
    if uniq.height:
        scores = process.cpdist(
            uniq.get_column("__a").to_list(),
            uniq.get_column("__b").to_list(),
            scorer=scorer,
            workers=workers,
        )
        uniq = uniq.with_columns(pl.Series("__s", np.asarray(scores, dtype=np.float64)))
    else:
        uniq = uniq.with_columns(pl.lit(None, pl.Float64).alias("__s"))
    s = pl.col("__s")
    conds = [(s <= t + EPS) if better == "low" else (s >= t - EPS) for t in comp.thresholds]
    uniq = uniq.with_columns(levels_expr(conds, s.is_null(), comp.n_levels).alias("__g")).select(
        "__a", "__b", "__g"
    )
    out = pairs.join(uniq, on=["__a", "__b"], how="left", maintain_order="left")
    return out.select(pl.col("__g").fill_null(-1).cast(pl.Int8)).to_series()


def slip_columns(comp: Comparison) -> tuple[list[str], list[str]]:
    """Per side, the exact token and the slips' tokens a ``slip_dice`` comparison reads."""
    assert comp.column is not None and comp.exact is not None
    c = comp.column
    left = [comp.exact.left, *(f"{c.left}__{x}__tok" for x in SLIP_EXTRAS)]
    right = [comp.exact.right, *(f"{c.right}__{x}__tok" for x in SLIP_EXTRAS)]
    return left, right


def slip_table(comp: Comparison, left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    """The value pairs one slip apart across the two sides, with their Dice (``__l``,
    ``__r`` tokens, ``__dice``): read instead of the Bloom estimate, so a slip's level does
    not depend on the key."""
    (ltok, *lslips), (rtok, *rslips) = slip_columns(comp)

    def side(frame: pl.DataFrame, tok: str, slips: list[str]) -> pl.DataFrame:
        names = [pl.col(s).alias(x) for s, x in zip(slips, SLIP_EXTRAS, strict=True)]
        return frame.select(pl.col(tok).alias("__token"), *names)

    return slip_pairs(side(left, ltok, lslips), side(right, rtok, rslips), "__token")
