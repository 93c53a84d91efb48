"""A short name with each of its letters left out in turn: the hub's key-free view of a slip.

Why: the hub rates two surnames by the Dice of their Bloom encodings, an estimate whose
error (bits two bigrams share by chance) depends on the linkage key. A surname one slip from
another has a Dice that falls exactly on a level's threshold for some lengths (a letter
changed in a four-letter name is 0.6, ``close``; one left out of a seven-letter name, or
changed in a nine-letter one, is 0.8, ``very_close``), so under one key such a pair reached
the level and under another it did not, and the match moved with the key.

``slip1`` ... ``slip10``: the value with its first, second, ... letter left out, for a
single word of at most :data:`SLIP_LETTERS` letters (null for a longer word, a value of two
words or more, and past the word's end). They are keyed in the column's own domain, as the
whole value is, so that the hub sees two values one slip apart without reading either: a
letter changed leaves the same word at the same place, a letter added or left out leaves
one value whole, two neighbouring letters swapped the same word at neighbouring places. The
kind of slip and the word's length (how many slots it fills) then give the two values' Dice
exactly, whatever the key (:func:`slip_dice`). A longer word needs none: one slip in eleven
letters or more is Dice 0.83 or more, far from any level's threshold.
"""

from __future__ import annotations

import polars as pl

#: longest word that sends its slips (one slip in a longer word is Dice 0.83 or more)
SLIP_LETTERS = 10
#: the extras that hold them, one letter left out each
SLIP_EXTRAS: tuple[str, ...] = tuple(f"slip{i}" for i in range(1, SLIP_LETTERS + 1))


def slip_slot(value: pl.Expr, slot: int) -> pl.Expr:
    """``value`` with its ``slot``-th letter (1-based) left out; null past the word's end,
    for a word longer than :data:`SLIP_LETTERS` letters, and for two words or more."""
    n = value.str.len_chars()
    left_out = pl.concat_str([value.str.slice(0, slot - 1), value.str.slice(slot)])
    single = ~value.str.contains(" ", literal=True)
    return pl.when(single & (n <= SLIP_LETTERS) & (n >= slot)).then(left_out)


def slip_dice(kind: pl.Expr, letters: pl.Expr) -> pl.Expr:
    """The Dice of two padded bigram sets one slip apart (as
    :func:`~fraudmatch.spec.bloom.bigrams` makes them), from the slip's kind and
    ``letters``, the longer word's length n: a letter changed leaves n - 1 of n + 1 bigrams
    alike; one added or left out n - 1 of n + 1 and n, or all n where it is one of a
    doubled letter (ALAN, ALLAN: only LL goes); two neighbours swapped n - 2 of n + 1.
    Exact where the words' letters are all different, and for a doubled letter left out; a
    bigram repeated within a word (ANANAS) makes the sets smaller than this counts."""
    n = letters.cast(pl.Float64)
    return (
        pl.when(kind == "changed")
        .then((n - 1) / (n + 1))
        .when(kind == "added")
        .then(2 * (n - 1) / (2 * n + 1))
        .when(kind == "doubled")
        .then(2 * n / (2 * n + 1))
        .when(kind == "swapped")
        .then((n - 2) / (n + 1))
    )


def slip_pairs(left: pl.DataFrame, right: pl.DataFrame, token: str) -> pl.DataFrame:
    """Every (left token, right token) pair of different values one slip apart, with the
    two values' Dice (``__dice``).

    ``left`` / ``right``: one row per record (or value) with ``token`` (the whole value's
    token) and its slips' tokens ``slip1`` ... in the same key domain. A join on the slip
    tokens, no loop per value: the pairs that share one are one slip apart when the letter
    is left out at the same place (changed), one side's whole value is the other's slip
    (added or left out; of a doubled letter where the longer word's slip there equals its
    neighbour's), or the places are neighbours (two neighbouring letters swapped; a pair that
    meets so without a swap, XAB and XBC, differs in three bigrams each way too, so the same
    Dice holds). A letter moved further is left out, as it is no single slip.
    """
    slots = [c for c in left.columns if c != token]

    def long(frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.filter(pl.col(token).is_not_null()).unique(subset=[token])
        n = pl.sum_horizontal([pl.col(c).is_not_null() for c in slots])
        frame = frame.with_columns(n.cast(pl.Int32).alias("__n")).filter(pl.col("__n") > 0)
        whole = frame.select(
            pl.col(token).alias("__tok"), pl.col(token).alias("__slip"),
            pl.lit(0, pl.Int32).alias("__at"), pl.col("__n"), pl.lit(False).alias("__dbl"),
        )  # fmt: skip
        parts = frame.unpivot(
            slots, index=[token, "__n"], variable_name="__at", value_name="__slip"
        )
        parts = parts.drop_nulls("__slip").select(
            pl.col(token).alias("__tok"), pl.col("__slip"),
            pl.col("__at").str.strip_prefix("slip").cast(pl.Int32), pl.col("__n"),
        )  # fmt: skip
        # a doubled letter: leaving out either of the two leaves the same word
        slip = pl.col("__slip")
        beside = [slip.shift(s).over("__tok", order_by="__at") for s in (1, -1)]
        doubled = pl.any_horizontal([(slip == b).fill_null(False) for b in beside])
        return pl.concat([whole, parts.with_columns(doubled.alias("__dbl"))])

    met = long(left).join(long(right), on="__slip", suffix="_r")
    at_l, at_r = pl.col("__at"), pl.col("__at_r")
    n_l, n_r = pl.col("__n"), pl.col("__n_r")
    added = pl.when(pl.col("__dbl") | pl.col("__dbl_r")).then(pl.lit("doubled"))
    kind = (
        pl.when(((at_l == 0) & (at_r > 0)) | ((at_r == 0) & (at_l > 0)))
        .then(added.otherwise(pl.lit("added")))
        .when((at_l == at_r) & (n_l == n_r) & (at_l > 0))
        .then(pl.lit("changed"))
        .when(((at_l - at_r).abs() == 1) & (n_l == n_r) & (at_l > 0) & (at_r > 0))
        .then(pl.lit("swapped"))
    )
    return (
        met.filter(pl.col("__tok") != pl.col("__tok_r"))
        .with_columns(slip_dice(kind, pl.max_horizontal(n_l, n_r)).alias("__dice"))
        .drop_nulls("__dice")
        .group_by(pl.col("__tok").alias("__l"), pl.col("__tok_r").alias("__r"))
        .agg(pl.col("__dice").max())
    )
