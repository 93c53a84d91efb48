"""Comparisons: turn candidate pairs into levels (``gamma_<name>``, Int8), vectorised.

Levels run from ``n-1`` (best, e.g. exact) down to 0 (``else``); -1 is the null level (a
side is missing), which the scorer counts neither for nor against. Token, date-part,
hierarchy, date and numeric comparisons are polars expressions over gathered columns named
``l__<col>``/``r__<col>``. Bloom Dice and string similarity are costlier, so they run once per
UNIQUE (left value, right value) pair in the partition and are joined back: candidate pairs
repeat the same name pairs many times over (every SMITH against every SMYTH in a block).
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import polars as pl

from fraudmatch.matching.placeholders import (
    placeholder_flag,
    placeholder_table,
    with_placeholder_flags,
)
from fraudmatch.matching.rule_model import MIN_COMMON_RECORDS, ColumnRef, Comparison
from fraudmatch.matching.similarity import (
    EPS,
    Words,
    bloom_key,
    bloom_words,
    dice_levels,
    levels_expr,
    slip_columns,
    slip_table,
    string_gamma,
    tokenless,
    unique_pair_gamma,
)

__all__ = [
    "Comparer",
    "comparison_columns",
    "gamma_name",
    "label_expr",
    "side_columns",
    "spread_table",
]

# What a date_parts comparison reads (see fraudmatch.council.pseudonymise): the whole date,
# the three pairs of parts, the day-month swap and the clear year.
DATE_PART_SUFFIXES = ("__tok", "__dm", "__my", "__dy", "__dmswap", "__year")


def gamma_name(comp: Comparison | str) -> str:
    return f"gamma_{comp if isinstance(comp, str) else comp.name}"


def L(col: str) -> str:  # noqa: N802 - reads like the condition language's l.<col>
    return f"l__{col}"


def R(col: str) -> str:  # noqa: N802
    return f"r__{col}"


def _sfx(ref: ColumnRef, suffix: str) -> ColumnRef:
    return ColumnRef(ref.left + suffix, ref.right + suffix)


def comparison_columns(comp: Comparison) -> list[ColumnRef]:
    """Columns gathered per pair (as ``l__``/``r__``) for a comparison."""
    if comp.type in ("exact", "hierarchy", "shared"):
        refs = [ref for keys in comp.keys for ref in keys] + list(comp.slips)
        if comp.placeholder_records is not None:  # whose council's placeholder it is
            refs.append(ColumnRef("partner", "partner"))
    elif comp.type == "bloom":
        refs = [bloom_key(comp)]
        assert comp.column is not None
        refs.append(_sfx(comp.column, "__bfn"))
        refs += [ref for alternatives in comp.forms for ref in alternatives]
        refs += [ref for alternatives, _ in comp.forms_as for ref in alternatives]
    elif comp.type == "date_parts":
        assert comp.column is not None
        refs = [_sfx(comp.column, s) for s in DATE_PART_SUFFIXES]
        if comp.placeholder is not None:  # whose council's placeholder each record's is
            refs.append(ColumnRef("partner", "partner"))
    elif comp.type in ("shown", "count"):
        assert comp.column is not None
        refs = [comp.column]  # the other side names record_id (see rule_loader)
    elif comp.type == "spread" and comp.within is not None:
        # per pair: which record lacks the place, and whose area the other's place is in
        assert comp.column is not None and comp.by is not None
        refs = [comp.column, comp.by, ColumnRef("partner", "partner")]
    else:
        assert comp.column is not None
        refs = [comp.column]
    tf = comp.tf_column
    if tf is not None:
        refs.append(tf)
    return list(dict.fromkeys(refs))


_bloom_word_columns = bloom_words


def side_columns(
    comps: Sequence[Comparison], n_words: int, *, bloom_words: bool = True
) -> tuple[list[str], list[str]]:
    """Every column the comparisons read on each side (gathered or looked up).

    ``bloom_words=False`` leaves out the Bloom words, which :class:`Comparer` reads per
    distinct token from its word sources instead of per row.
    """
    left: list[str] = []
    right: list[str] = []
    for comp in comps:
        for ref in comparison_columns(comp):
            left.append(ref.left)
            right.append(ref.right)
        if comp.type == "spread" and comp.by is not None:  # read per side, not per pair
            left.append(comp.by.left)
            right.append(comp.by.right)
        if comp.type == "bloom" and comp.slip_dice:  # read per side, not per pair
            ls, rs = slip_columns(comp)
            left += ls
            right += rs
        if comp.type == "bloom" and bloom_words:  # the flag shadows the function here
            lw, rw, ln, rn = _bloom_word_columns(comp, n_words)
            left += [*lw, ln]
            right += [*rw, rn]
    return list(dict.fromkeys(left)), list(dict.fromkeys(right))


def _eq(ref: ColumnRef) -> pl.Expr:
    return pl.col(L(ref.left)) == pl.col(R(ref.right))


def _both(ref: ColumnRef) -> pl.Expr:
    return pl.col(L(ref.left)).is_not_null() & pl.col(R(ref.right)).is_not_null()


def _hierarchy_expr(comp: Comparison, placeholder: pl.Expr | None = None) -> pl.Expr:
    """The first level whose keys all agree; null where no level's keys are all shown, or
    (``slips``) where the values differ but a part of them agrees: a keying slip on one
    record is no evidence either way, like a value left out. ``placeholder``: either
    record's value is its council's placeholder (``placeholder_records``), no identifier:
    null too."""
    conds = [pl.all_horizontal([_eq(r) for r in keys]) for keys in comp.keys]
    comparable = [pl.all_horizontal([_both(r) for r in keys]) for keys in comp.keys]
    unknown = ~pl.any_horizontal(comparable)
    if placeholder is not None:
        unknown = unknown | placeholder
    if comp.slips:
        slip = pl.any_horizontal([_eq(r).fill_null(False) for r in comp.slips])
        unknown = unknown | (slip & ~pl.any_horizontal(conds).fill_null(False))
    return levels_expr(conds, unknown, comp.n_levels)


def _shared_expr(comp: Comparison) -> pl.Expr:
    """``shared`` where any slot of one record equals any slot of the other; null where
    either record has none (a name with no known forms says nothing)."""
    (refs,) = comp.keys
    left = [pl.col(L(r.left)) for r in refs]
    right = [pl.col(R(r.right)) for r in refs]
    agree = pl.any_horizontal([(a == b).fill_null(False) for a in left for b in right])
    none = pl.all_horizontal([c.is_null() for c in left]) | pl.all_horizontal(
        [c.is_null() for c in right]
    )
    return levels_expr([agree], none, comp.n_levels)


def _shown_expr(comp: Comparison) -> pl.Expr:
    """``shown`` where the record on ``side`` has a value in the column; never null."""
    assert comp.column is not None
    col = L(comp.column.left) if comp.side == "left" else R(comp.column.right)
    return levels_expr([pl.col(col).is_not_null()], pl.lit(False), comp.n_levels)


def _date_parts_expr(comp: Comparison, placeholder: pl.Expr | None = None) -> pl.Expr:
    """Date-of-birth levels from tokens that counting cannot read back.

    Two of year, month and day agreeing is one of the pair tokens (day-month, month-year,
    day-year) agreeing. A damaged date (1958-07-71) has no whole-date token but keeps the
    pairs its possible parts make, so it still agrees or disagrees: the comparison is null
    only when no token or year is comparable at all. ``placeholder``: either record's day
    and month is its council's placeholder for an unknown birthday, so years that agree
    with no pair agreeing are ``day_month_unknown``, not two parts that differ.
    """
    assert comp.column is not None
    tok, dm, my, dy, swap, year = (_sfx(comp.column, s) for s in DATE_PART_SUFFIXES)
    pairs = [_eq(p).fill_null(False) for p in (dm, my, dy)]
    swapped = (pl.col(L(swap.left)) == pl.col(R(tok.right))) | (
        pl.col(R(swap.right)) == pl.col(L(tok.left))
    )
    known = {
        "exact": _eq(tok),
        "day_month_swapped": swapped,
        "one_part_differs": pl.any_horizontal(pairs),
        "day_month_unknown": _eq(year) & (pl.lit(False) if placeholder is None else placeholder),
        "year_only": _eq(year),
    }
    comparable = pl.any_horizontal(_both(r) for r in (tok, dm, my, dy, year))
    return levels_expr([known[x] for x in comp.levels], ~comparable, comp.n_levels)


def _diff_expr(comp: Comparison) -> pl.Expr:
    assert comp.column is not None
    lc, rc = pl.col(L(comp.column.left)), pl.col(R(comp.column.right))
    if comp.type == "date_diff":
        diff = (lc.cast(pl.Date) - rc.cast(pl.Date)).dt.total_days().abs().cast(pl.Float64)
    else:
        diff = (lc.cast(pl.Float64) - rc.cast(pl.Float64)).abs()
    conds = [diff <= t + EPS for t in comp.thresholds]
    return levels_expr(conds, ~_both(comp.column), comp.n_levels)


def _with_forms(comp: Comparison, wide: pl.DataFrame, gamma: pl.Series) -> pl.Series:
    """Bloom levels with the form levels: a pair below every Dice threshold (``else``) whose
    form tokens agree (one record shows the other's initial, short form or middle name)
    reaches the form level, best first. A form read at a Dice level (``forms_as``: two
    letters swapped) lifts a pair below that level to it, whatever Dice said (a slip in a
    short name may keep it "close" or leave it below every threshold). The null level stays
    null."""
    n_forms = len(comp.forms)
    g = pl.col("__g")
    for alternatives, level in comp.forms_as:
        agree = pl.any_horizontal([_eq(r).fill_null(False) for r in alternatives])
        g = (
            pl.when(agree & (g < comp.gamma(level)))
            .then(pl.lit(comp.gamma(level), pl.Int8))
            .otherwise(g)
        )
    chain = pl.when(g != 0).then(g)
    for i, alternatives in enumerate(comp.forms):
        agree = pl.any_horizontal([_eq(r).fill_null(False) for r in alternatives])
        chain = chain.when(agree).then(pl.lit(n_forms - i, pl.Int8))
    expr = chain.otherwise(pl.lit(0, pl.Int8)).cast(pl.Int8)
    refs = [r for a in comp.forms for r in a] + [r for a, _ in comp.forms_as for r in a]
    frame = wide.select(*{L(r.left) for r in refs}, *{R(r.right) for r in refs})
    return frame.with_columns(gamma.alias("__g")).select(expr.alias(gamma.name)).to_series()


Frame = pl.DataFrame | pl.LazyFrame


#: a council's home area: the fewest places (postcode districts) that together hold this
#: share of its records with a place. Its residents' records lie there by definition; the
#: few elsewhere are people who moved out, suppliers and staff living further away.
HOME_AREA_SHARE = 0.95


def spread_table(comp: Comparison, sources: Sequence[tuple[Frame, str, str]]) -> pl.DataFrame:
    """In how many places each value is found: distinct ``by`` values per ``column`` value.

    ``sources``: (frame, value column, by column) per dataset read (a rule's two sides and
    its ``across`` datasets). A record without the value or without a place says nothing
    of where the value is, so it is not counted.

    With ``within: home_area`` the frames also carry ``partner`` and the table is per
    council, value and place in that council's home area (:data:`HOME_AREA_SHARE`): how
    many places of the area the value is found in. A value found only outside a council's
    area has no row for it.
    """
    assert comp.column is not None
    cols = ["partner"] if comp.within is not None else []
    parts = [
        f.lazy().select(*cols, pl.col(col).alias("__v"), pl.col(by).alias("__by"))
        for f, col, by in sources
    ]
    found = pl.concat(parts, how="vertical_relaxed").drop_nulls()
    value = R(comp.column.right)
    if comp.within is None:
        return (
            found.select("__v", "__by")
            .unique()
            .group_by("__v")
            .agg(pl.len().alias("__places"))
            .rename({"__v": value})
            .collect()
        )
    assert comp.by is not None
    counts = found.group_by("partner", "__by").agg(pl.len().alias("__n"))
    # a place is in the area while the places holding more records than it hold less than
    # the share; places holding as many records are in or out together, so which of them
    # is in never depends on the order of their tokens (that is, on the key)
    tiers = (
        counts.group_by("partner", "__n")
        .agg(pl.col("__n").sum().alias("__held"))
        .sort("partner", "__n", descending=[False, True])
        .with_columns(__share=pl.col("__held") / pl.col("__held").sum().over("partner"))
        .with_columns(__before=pl.col("__share").cum_sum().over("partner") - pl.col("__share"))
        .filter(pl.col("__before") < HOME_AREA_SHARE - EPS)
    )
    area = counts.join(tiers, on=["partner", "__n"], how="semi").select("partner", "__by")
    places = found.select("__v", "__by").unique().join(area, on="__by")
    return (
        places.with_columns(__places=pl.len().over("partner", "__v"))
        .rename({"__v": value, "__by": R(comp.by.right)})
        .collect()
    )


def _gathered(comps: Sequence[Comparison]) -> tuple[list[str], list[str]]:
    """The per-pair columns of each side: what the comparisons read, with each placeholder
    flag in place of the council (read once per record, not per pair)."""
    left: list[str] = []
    right: list[str] = []
    for comp in comps:
        flag = placeholder_flag(comp)
        for ref in comparison_columns(comp):
            if flag is None or ref.left != "partner":
                left.append(ref.left)
                right.append(ref.right)
        if flag is not None:
            left.append(flag)
            right.append(flag)
    return list(dict.fromkeys(left)), list(dict.fromkeys(right))


def label_expr(comp: Comparison) -> pl.Expr:
    """``level_<name>``: the label an analyst reads, from the gamma."""
    g = pl.col(gamma_name(comp))
    chain = pl.when(g.is_null()).then(pl.lit("null"))
    for gamma, label in comp.label_of().items():
        chain = chain.when(g == gamma).then(pl.lit(label))
    return chain.otherwise(pl.lit(None, pl.String)).alias(f"level_{comp.name}")


class Comparer:
    """Computes every comparison of a rule over partitions of pairs.

    Built once per rule so per-side lookup tables (Bloom words per distinct token, token
    frequencies for TF adjustment) are made once, not per partition.
    """

    def __init__(
        self,
        comparisons: Sequence[Comparison],
        left: pl.DataFrame,
        right: pl.DataFrame,
        *,
        n_words: int = 16,
        workers: int = 1,
        words: tuple[pl.DataFrame | pl.LazyFrame, pl.DataFrame | pl.LazyFrame] | None = None,
        spread: Mapping[str, pl.DataFrame] | None = None,
        placeholders: Mapping[str, pl.DataFrame] | None = None,
    ) -> None:
        """``left``/``right``: the rows pairs index into, with the columns comparisons read.

        ``words``: where the Bloom words are (the same rows, eager or lazy), when ``left``
        and ``right`` were selected without them (``side_columns(..., bloom_words=False)``).
        ``spread``: per ``spread`` comparison, its :func:`spread_table` over more datasets
        than the two sides (the engine's, from the rule's ``across``); else the two sides'.
        ``placeholders``: per ``date_parts`` comparison with a ``placeholder``, its
        :func:`placeholder_table` over every dataset loaded (the engine's); else the two
        sides'.
        """
        self.comparisons = tuple(comparisons)
        self.left, self.right = left, right
        self._word_src = words or (left, right)
        self._rows_cache: dict[tuple[int, tuple[str, ...]], pl.DataFrame] = {}
        self.n_words = n_words
        self.workers = workers
        self.gather_left, self.gather_right = _gathered(self.comparisons)
        # the per-pair columns, contiguous: gathering from many-chunk columns (as read from
        # parquet) is several times slower, and these few columns are cheap to copy once;
        # with each record's placeholder flags, read once per record rather than per pair
        tables = dict(placeholders or {})
        for comp in self.comparisons:
            if comp.type == "date_parts" and comp.placeholder and comp.name not in tables:
                assert comp.column is not None
                sides = [(left, comp.column.left + "__dm")]
                sides += [(right, comp.column.right + "__dm")] if right is not left else []
                tables[comp.name] = placeholder_table(comp, sides)
        self._gl = with_placeholder_flags(left, self.comparisons, tables, "left")
        self._gl = self._gl.select(self.gather_left).rechunk()
        self._gr = self._gl
        if right is not left:
            self._gr = with_placeholder_flags(right, self.comparisons, tables, "right")
            self._gr = self._gr.select(self.gather_right).rechunk()
        self._words: dict[str, tuple[Words, Words]] = {}
        self._tf: dict[str, pl.DataFrame] = {}
        self._freq: dict[str, pl.DataFrame] = {}
        self._spread: dict[str, pl.DataFrame] = dict(spread or {})
        self._slips: dict[str, pl.DataFrame] = {}
        for comp in self.comparisons:
            if comp.type == "bloom" and comp.slip_dice:
                self._slips[comp.name] = slip_table(comp, left, right)
            if comp.type == "spread" and comp.name not in self._spread:
                assert comp.column is not None and comp.by is not None
                sides = [(left, comp.column.left, comp.by.left)]
                sides += [(right, comp.column.right, comp.by.right)] if right is not left else []
                self._spread[comp.name] = spread_table(comp, sides)
            if comp.tf_column is not None:
                self._tf[comp.name] = self._tf_table(comp.tf_column.right)
            if comp.type == "frequency":
                assert comp.column is not None
                self._freq[comp.name] = self._tf_table(comp.column.right, counts=True)
            if comp.type == "count":
                self._freq[comp.name] = self._count_table(comp)

    # ---------------------------------------------------------------- tables

    def _tf_table(self, col: str, *, counts: bool = False) -> pl.DataFrame:
        """Relative frequency of each token on the right side (the population searched).

        The frequency stands for the chance that another record holds the value by chance.
        Where a dataset is matched with itself, the left record is one of the right side's
        records but never its own candidate: it is left out of the count (a surname held by
        one person on two records is 1 in n-1 others, not 2 in n), so a value the left
        record alone brought is not counted as common.
        """
        vals = self.right.select(pl.col(col).alias(R(col))).drop_nulls()
        own = 1 if self.right is self.left else 0
        n = max(vals.height - own, 1)
        count = (pl.len() - own).clip(lower_bound=1)
        aggs = [(count / n).alias("__tf")] + ([count.alias("__n")] if counts else [])
        return vals.group_by(R(col)).agg(aggs)

    def _count_table(self, comp: Comparison) -> pl.DataFrame:
        """How many records of the comparison's side hold each value (the record included)."""
        assert comp.column is not None
        if comp.side == "left":
            frame, name = self.left, L(comp.column.left)
            col = comp.column.left
        else:
            frame, name = self.right, R(comp.column.right)
            col = comp.column.right
        vals = frame.select(pl.col(col).alias(name)).drop_nulls()
        return vals.group_by(name).agg(pl.len().alias("__n"))

    def _word_tables(self, comp: Comparison) -> tuple[Words, Words]:
        """Per side, the distinct Bloom values of a comparison (built once per rule)."""
        if comp.name not in self._words:
            key = bloom_key(comp)
            lw, rw, ln, rn = bloom_words(comp, self.n_words)
            wl, wr = self._word_src
            left = Words.build(self.left, wl, key.left, lw, ln)
            same = self.right is self.left and wr is wl and key.left == key.right
            right = left if same else Words.build(self.right, wr, key.right, rw, rn)
            self._words[comp.name] = (left, right)
        return self._words[comp.name]

    def only(self, names: Collection[str]) -> Comparer:
        """A view computing only the comparisons named: the tables built so far are shared.

        The engine compares every candidate pair on the comparisons that weigh, and the
        rest (the decision clauses' inputs) only on the pairs those clauses can change.
        """
        out = copy.copy(self)
        out.comparisons = tuple(c for c in self.comparisons if c.name in names)
        out.gather_left, out.gather_right = _gathered(out.comparisons)
        return out

    def portable(self) -> Comparer:
        """A copy holding only what :meth:`gammas` reads: what is shipped to Dask workers.

        The per-rule tables (Bloom values, term frequencies) are built here, once, so no
        worker rebuilds them per partition. The side frames shrink to the per-pair columns;
        a Bloom comparison's words per row are kept only if some row has words but no
        token (the row-wise fallback), which pseudonymised extracts never have. The copy
        computes exactly the gammas this one does.
        """
        left_keep: list[str] = []
        right_keep: list[str] = []
        for comp in self.comparisons:
            if comp.type != "bloom":
                continue
            lt, rt = self._word_tables(comp)
            lw, rw, ln, rn = bloom_words(comp, self.n_words)
            if tokenless(self.left, lt, ln) or tokenless(self.right, rt, rn):
                left_keep += [*lw, ln]
                right_keep += [*rw, rn]
        out = copy.copy(self)
        out.left = self._row_columns(0, list(dict.fromkeys(left_keep)))
        out.right = (
            out.left
            if self.right is self.left
            else self._row_columns(1, list(dict.fromkeys(right_keep)))
        )
        out._word_src, out._rows_cache = (out.left, out.right), {}
        out._words, out._tf, out._freq = dict(self._words), dict(self._tf), dict(self._freq)
        out._spread, out._slips = dict(self._spread), dict(self._slips)
        return out

    def _row_columns(self, side: int, cols: list[str]) -> pl.DataFrame:
        """Columns per row of one side, from its rows or else its word source (collected)."""
        rows = self.left if side == 0 else self.right
        if all(c in rows.columns for c in cols):
            return rows.select(cols)
        key = (side, tuple(cols))
        if key not in self._rows_cache:  # rare (values without tokens): read once per rule
            src = self._word_src[side]
            have = set(src.collect_schema().names())
            exprs = [pl.col(c) if c in have else pl.lit(None, pl.UInt64).alias(c) for c in cols]
            self._rows_cache[key] = src.lazy().select(exprs).collect()
        return self._rows_cache[key]

    # ---------------------------------------------------------------- per partition

    def gather(
        self,
        pairs: pl.DataFrame,
        left_cols: Sequence[str] | None = None,
        right_cols: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """Pairs plus ``l__<col>``/``r__<col>`` (by default, the columns comparisons read)."""
        li, ri = pairs.get_column("li"), pairs.get_column("ri")
        lcols = self.gather_left if left_cols is None else list(dict.fromkeys(left_cols))
        rcols = self.gather_right if right_cols is None else list(dict.fromkeys(right_cols))
        lsrc = self._gl if left_cols is None else self.left
        rsrc = self._gr if right_cols is None else self.right
        # one select per side: polars gathers the columns in parallel, not one by one
        left = lsrc.select([pl.col(c).gather(li).alias(L(c)) for c in lcols])
        right = rsrc.select([pl.col(c).gather(ri).alias(R(c)) for c in rcols])
        return pl.concat([pairs, left, right], how="horizontal")

    def gammas(self, pairs: pl.DataFrame) -> pl.DataFrame:
        """``pairs`` (li, ri, ...) plus ``gamma_<name>`` per comparison and ``tf_<name>``."""
        wide = self.gather(pairs)
        wide = wide.with_columns(self._expression_gammas())
        wide = self._similarity_gammas(wide)
        wide, tf_cols = self._with_term_frequencies(wide)
        keep = [*pairs.columns, *(gamma_name(c) for c in self.comparisons), *tf_cols]
        return wide.select(keep)

    @staticmethod
    def _either_flag(comp: Comparison) -> pl.Expr | None:
        """Either record's value is its council's placeholder (None: the comparison has none)."""
        flag = placeholder_flag(comp)
        return None if flag is None else pl.col(L(flag)) | pl.col(R(flag))

    def _expression_gammas(self) -> list[pl.Expr]:
        """The comparisons that are plain polars expressions over the gathered columns."""
        exprs = []
        for comp in self.comparisons:
            if comp.type in ("exact", "hierarchy"):
                exprs.append(_hierarchy_expr(comp, self._either_flag(comp)).alias(gamma_name(comp)))
            elif comp.type == "shown":
                exprs.append(_shown_expr(comp).alias(gamma_name(comp)))
            elif comp.type == "shared":
                exprs.append(_shared_expr(comp).alias(gamma_name(comp)))
            elif comp.type == "date_parts":
                exprs.append(
                    _date_parts_expr(comp, self._either_flag(comp)).alias(gamma_name(comp))
                )
            elif comp.type in ("date_diff", "numeric"):
                exprs.append(_diff_expr(comp).alias(gamma_name(comp)))
        return exprs

    def _similarity_gammas(self, wide: pl.DataFrame) -> pl.DataFrame:
        """Bloom Dice and string similarity, each over its unique value pairs."""
        for comp in self.comparisons:
            if comp.type == "bloom":
                wide = wide.with_columns(self._bloom_gamma(comp, wide).alias(gamma_name(comp)))
            elif comp.type == "string":
                wide = wide.with_columns(self._string_gamma(comp, wide).alias(gamma_name(comp)))
            elif comp.type == "frequency":
                wide = wide.with_columns(self._frequency_gamma(comp, wide).alias(gamma_name(comp)))
            elif comp.type == "count":
                wide = wide.with_columns(self._count_gamma(comp, wide).alias(gamma_name(comp)))
            elif comp.type == "spread":
                wide = wide.with_columns(self._spread_gamma(comp, wide).alias(gamma_name(comp)))
        return wide

    def _frequency_gamma(self, comp: Comparison, wide: pl.DataFrame) -> pl.Series:
        """How common the value both records share is: the first level whose minimum share
        of the right side's records it reaches (held by at least ``MIN_COMMON_RECORDS`` other
        records); ``else`` where it is rarer or the values differ, null where one is missing.
        With ``of: each``, the commoner of the two records' own values, agreeing or not.
        """
        assert comp.column is not None
        lc, rc = L(comp.column.left), R(comp.column.right)
        table = self._freq[comp.name]
        freq = wide.select(lc, rc).join(table, on=rc, how="left", maintain_order="left")
        null = pl.col(lc).is_null() | pl.col(rc).is_null()
        if comp.of == "each":  # the left value looked up among the right side's too
            left = table.rename({rc: lc, "__tf": "__tf_l", "__n": "__n_l"})
            freq = freq.join(left, on=lc, how="left", maintain_order="left")
            share = pl.max_horizontal(pl.col("__tf").fill_null(0), pl.col("__tf_l").fill_null(0))
            n = pl.max_horizontal(pl.col("__n").fill_null(0), pl.col("__n_l").fill_null(0))
            conds = [(n >= MIN_COMMON_RECORDS) & (share >= t - EPS) for t in comp.thresholds]
            return freq.select(levels_expr(conds, null, comp.n_levels)).to_series()
        same = (pl.col(lc) == pl.col(rc)) & (pl.col("__n") >= MIN_COMMON_RECORDS)
        conds = [same & (pl.col("__tf") >= t - EPS) for t in comp.thresholds]
        return freq.select(levels_expr(conds, null, comp.n_levels)).to_series()

    def _count_gamma(self, comp: Comparison, wide: pl.DataFrame) -> pl.Series:
        """How many records of its side hold the value the ``side`` record shows: the first
        level whose minimum count it reaches, ``else`` below; null where it shows none."""
        assert comp.column is not None
        col = L(comp.column.left) if comp.side == "left" else R(comp.column.right)
        found = wide.select(col).join(
            self._freq[comp.name], on=col, how="left", maintain_order="left"
        )
        conds = [pl.col("__n") >= t - EPS for t in comp.thresholds]
        return found.select(levels_expr(conds, pl.col(col).is_null(), comp.n_levels)).to_series()

    def _spread_gamma(self, comp: Comparison, wide: pl.DataFrame) -> pl.Series:
        """In how many places the value both records share is found: the first level whose
        minimum number of places it reaches; ``else`` where it is found in fewer or the
        values differ, null where one is missing."""
        assert comp.column is not None
        lc, rc = L(comp.column.left), R(comp.column.right)
        table = self._spread[comp.name]
        null = pl.col(lc).is_null() | pl.col(rc).is_null()
        same = pl.col(lc) == pl.col(rc)
        if comp.within is not None:
            return self._home_area_gamma(comp, wide, table, null, same)
        found = wide.select(lc, rc).join(table, on=rc, how="left", maintain_order="left")
        conds = [same & (pl.col("__places") >= t - EPS) for t in comp.thresholds]
        return found.select(levels_expr(conds, null, comp.n_levels)).to_series()

    @staticmethod
    def _home_area_gamma(
        comp: Comparison, wide: pl.DataFrame, table: pl.DataFrame, null: pl.Expr, same: pl.Expr
    ) -> pl.Series:
        """``within: home_area``: for a pair where exactly one record has no place, the
        places of the home area of that record's council where the shared value is found,
        provided the other record's place is one of them (else "several": the value names
        a place outside the area, and the missing place would have said which). Null where
        both or neither record show a place: there is nothing to read the area for."""
        assert comp.column is not None and comp.by is not None
        lc, rc = L(comp.column.left), R(comp.column.right)
        lb, rb = L(comp.by.left), R(comp.by.right)
        lack_left = pl.col(lb).is_null()
        keys = wide.select(
            lc,
            rc,
            (lack_left != pl.col(rb).is_null()).alias("__one_missing"),
            pl.when(lack_left).then(pl.col(L("partner"))).otherwise(pl.col(R("partner")))
            .alias("partner"),
            pl.coalesce(lb, rb).alias(rb),
        )  # fmt: skip
        found = keys.join(table, on=["partner", rc, rb], how="left", maintain_order="left")
        places = pl.col("__places").fill_null(np.iinfo(np.int32).max)
        conds = [same & (places >= t - EPS) for t in comp.thresholds]
        missing = null | ~pl.col("__one_missing")
        return found.select(levels_expr(conds, missing, comp.n_levels)).to_series()

    def _with_term_frequencies(self, wide: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
        """``tf_<name>``: the right-side frequency of the top-level token, where TF is on."""
        tf_cols = []
        for comp in self.comparisons:
            if comp.name in self._tf:
                assert comp.tf_column is not None
                col = R(comp.tf_column.right)
                wide = wide.join(self._tf[comp.name], on=col, how="left", maintain_order="left")
                wide = wide.rename({"__tf": f"tf_{comp.name}"})
                tf_cols.append(f"tf_{comp.name}")
        return wide, tf_cols

    def _bloom_gamma(self, comp: Comparison, wide: pl.DataFrame) -> pl.Series:
        """Dice levels, once per unique (left value, right value) pair (``similarity``).

        Pairs where a side has Bloom words but no token fall back to a per-pair lookup.
        """
        lt, rt = self._word_tables(comp)
        li = wide.get_column("li").to_numpy()
        ri = wide.get_column("ri").to_numpy()
        gamma, has = unique_pair_gamma(comp, lt, rt, li, ri, self._slips.get(comp.name))
        out = pl.Series(gamma_name(comp), gamma, dtype=pl.Int8)
        assert comp.column is not None
        ln, rn = L(comp.column.left + "__bfn"), R(comp.column.right + "__bfn")
        rowwise = np.flatnonzero(
            ~has
            & wide.get_column(ln).is_not_null().to_numpy()
            & wide.get_column(rn).is_not_null().to_numpy()
        )
        if len(rowwise):
            out = out.scatter(rowwise, self._rowwise_gamma(comp, li[rowwise], ri[rowwise]))
        if comp.forms or comp.forms_as:
            out = _with_forms(comp, wide, out)
        return out

    def _rowwise_gamma(self, comp: Comparison, li: np.ndarray, ri: np.ndarray) -> pl.Series:
        """Dice levels from each pair's own words (values without a token: rare)."""
        lw, rw, lnn, rnn = bloom_words(comp, self.n_words)
        lis, ris = pl.Series(li, dtype=pl.UInt32), pl.Series(ri, dtype=pl.UInt32)
        w = len(lw)
        lsrc, rsrc = self._row_columns(0, [*lw, lnn]), self._row_columns(1, [*rw, rnn])
        words = pl.DataFrame(
            [lsrc.get_column(c).gather(lis).alias(f"__l{i}") for i, c in enumerate([*lw, lnn])]
            + [rsrc.get_column(c).gather(ris).alias(f"__r{i}") for i, c in enumerate([*rw, rnn])]
        )
        scored = dice_levels(
            comp,
            words,
            [f"__l{i}" for i in range(w)],
            [f"__r{i}" for i in range(w)],
            f"__l{w}",
            f"__r{w}",
        )
        return scored.get_column("__g")

    def _string_gamma(self, comp: Comparison, wide: pl.DataFrame) -> pl.Series:
        assert comp.column is not None
        lc, rc = pl.col(L(comp.column.left)), pl.col(R(comp.column.right))
        return string_gamma(comp, lc, rc, wide, self.workers)
