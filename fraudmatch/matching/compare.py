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
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from fraudmatch.matching.rule_model import ColumnRef, Comparison
from fraudmatch.spec.bloom import dice_expr

__all__ = ["Comparer", "comparison_columns", "gamma_name", "label_expr", "side_columns"]

_EPS = 1e-9


def gamma_name(comp: Comparison | str) -> str:
    return f"gamma_{comp if isinstance(comp, str) else comp.name}"


def L(col: str) -> str:  # noqa: N802 - reads like the condition language's l.<col>
    return f"l__{col}"


def R(col: str) -> str:  # noqa: N802
    return f"r__{col}"


def _sfx(ref: ColumnRef, suffix: str) -> ColumnRef:
    return ColumnRef(ref.left + suffix, ref.right + suffix)


def _bloom_key(comp: Comparison) -> ColumnRef:
    """The token that identifies a Bloom value (for unique-pair dedup): exact or __tok."""
    assert comp.column is not None
    return comp.exact or _sfx(comp.column, "__tok")


def _bloom_words(comp: Comparison, n_words: int) -> tuple[list[str], list[str], str, str]:
    assert comp.column is not None
    c = comp.column
    lw = [f"{c.left}__bf{i}" for i in range(n_words)]
    rw = [f"{c.right}__bf{i}" for i in range(n_words)]
    return lw, rw, f"{c.left}__bfn", f"{c.right}__bfn"


_DICE_CHUNK = 1 << 20
_NONE = np.uint32(0xFFFFFFFF)  # "no value" in a dense value index


@dataclass(frozen=True)
class _Words:
    """One side's distinct Bloom values, as numpy: what unique-pair Dice needs.

    ``row_value[i]`` is the dense index of row ``i``'s value (``_NONE`` without a token);
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
    ) -> _Words:
        """From the rows' tokens (``side``) and the Bloom words of each distinct token.

        The words are read from ``source`` (the same rows, eager or a lazy scan) for the
        distinct tokens only: the hub never holds 16 words a row for millions of rows. A
        value's token and words both derive from it, so any row with the token has them.
        """
        tok = side.get_column(token)
        if tok.dtype == pl.Null or tok.null_count() == side.height:
            empty = np.empty(0, dtype=np.uint64)
            rows = np.full(side.height, _NONE, dtype=np.uint32)
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
            .fill_null(_NONE)
            .to_numpy()
        )
        return cls(
            row_value=rows,
            tokens=table.get_column("__t").to_numpy(),
            words=tuple(table.get_column(w).fill_null(0).to_numpy() for w in words),
            ones=table.get_column(n).cast(pl.Float64).fill_null(float("nan")).to_numpy(),
        )


def _tokenless(side: pl.DataFrame, table: _Words, n: str) -> bool:
    """Whether some row has Bloom words (a popcount) but no token to look them up by."""
    if not side.height:
        return False
    has_words = side.get_column(n).is_not_null().to_numpy()
    return bool((has_words & (table.row_value == _NONE)).any())


def _dice_numpy(left: _Words, right: _Words, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dice of value pairs by dense index: word by word AND + popcount, in bounded chunks.

    Word-at-a-time 1-D gathers keep temporaries at 8 bytes per pair instead of gathering
    whole filters (128 bytes per side per pair).
    """
    out = np.empty(len(a), dtype=np.float64)
    for start in range(0, len(a), _DICE_CHUNK):
        ca, cb = a[start : start + _DICE_CHUNK], b[start : start + _DICE_CHUNK]
        common = np.zeros(len(ca), dtype=np.uint32)
        for lw, rw in zip(left.words, right.words, strict=True):
            common += np.bitwise_count(lw[ca] & rw[cb])
        total = left.ones[ca] + right.ones[cb]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + _DICE_CHUNK] = np.where(total > 0, 2.0 * common / total, np.nan)
    return out


def comparison_columns(comp: Comparison) -> list[ColumnRef]:
    """Columns gathered per pair (as ``l__``/``r__``) for a comparison."""
    if comp.type in ("exact", "hierarchy"):
        refs = [ref for keys in comp.keys for ref in keys]
    elif comp.type == "bloom":
        refs = [_bloom_key(comp)]
        assert comp.column is not None
        refs.append(_sfx(comp.column, "__bfn"))
    elif comp.type == "date_parts":
        assert comp.column is not None
        refs = [_sfx(comp.column, s) for s in ("__tok", "__y", "__m", "__d", "__dmswap")]
    else:
        assert comp.column is not None
        refs = [comp.column]
    tf = comp.tf_column
    if tf is not None:
        refs.append(tf)
    return list(dict.fromkeys(refs))


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
        if comp.type == "bloom" and bloom_words:
            lw, rw, ln, rn = _bloom_words(comp, n_words)
            left += [*lw, ln]
            right += [*rw, rn]
    return list(dict.fromkeys(left)), list(dict.fromkeys(right))


def _levels_expr(conds: Sequence[pl.Expr], null: pl.Expr, n: int) -> pl.Expr:
    """gamma = n-1-i for the first true condition i; -1 if ``null``; else 0."""
    chain = pl.when(null).then(pl.lit(-1, pl.Int8))
    for i, cond in enumerate(conds):
        chain = chain.when(cond.fill_null(False)).then(pl.lit(n - 1 - i, pl.Int8))
    return chain.otherwise(pl.lit(0, pl.Int8))


def _eq(ref: ColumnRef) -> pl.Expr:
    return pl.col(L(ref.left)) == pl.col(R(ref.right))


def _both(ref: ColumnRef) -> pl.Expr:
    return pl.col(L(ref.left)).is_not_null() & pl.col(R(ref.right)).is_not_null()


def _hierarchy_expr(comp: Comparison) -> pl.Expr:
    conds = [pl.all_horizontal([_eq(r) for r in keys]) for keys in comp.keys]
    comparable = [pl.all_horizontal([_both(r) for r in keys]) for keys in comp.keys]
    return _levels_expr(conds, ~pl.any_horizontal(comparable), comp.n_levels)


def _date_parts_expr(comp: Comparison) -> pl.Expr:
    assert comp.column is not None
    tok, y, m, d, swap = (_sfx(comp.column, s) for s in ("__tok", "__y", "__m", "__d", "__dmswap"))
    agree = (
        _eq(y).fill_null(False).cast(pl.Int8)
        + _eq(m).fill_null(False).cast(pl.Int8)
        + _eq(d).fill_null(False).cast(pl.Int8)
    )
    swapped = (pl.col(L(swap.left)) == pl.col(R(tok.right))) | (
        pl.col(R(swap.right)) == pl.col(L(tok.left))
    )
    known = {
        "exact": _eq(tok),
        "day_month_swapped": swapped,
        "one_part_differs": agree >= 2,
        "year_only": _eq(y),
    }
    return _levels_expr([known[x] for x in comp.levels], ~_both(tok), comp.n_levels)


def _diff_expr(comp: Comparison) -> pl.Expr:
    assert comp.column is not None
    lc, rc = pl.col(L(comp.column.left)), pl.col(R(comp.column.right))
    if comp.type == "date_diff":
        diff = (lc.cast(pl.Date) - rc.cast(pl.Date)).dt.total_days().abs().cast(pl.Float64)
    else:
        diff = (lc.cast(pl.Float64) - rc.cast(pl.Float64)).abs()
    conds = [diff <= t + _EPS for t in comp.thresholds]
    return _levels_expr(conds, ~_both(comp.column), comp.n_levels)


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
    ) -> None:
        """``left``/``right``: the rows pairs index into, with the columns comparisons read.

        ``words``: where the Bloom words are (the same rows, eager or lazy), when ``left``
        and ``right`` were selected without them (``side_columns(..., bloom_words=False)``).
        """
        self.comparisons = tuple(comparisons)
        self.left, self.right = left, right
        self._word_src = words or (left, right)
        self._rows_cache: dict[tuple[int, tuple[str, ...]], pl.DataFrame] = {}
        self.n_words = n_words
        self.workers = workers
        refs = [r for c in self.comparisons for r in comparison_columns(c)]
        self.gather_left = list(dict.fromkeys(r.left for r in refs))
        self.gather_right = list(dict.fromkeys(r.right for r in refs))
        # the per-pair columns, contiguous: gathering from many-chunk columns (as read from
        # parquet) is several times slower, and these few columns are cheap to copy once
        self._gl = left.select(self.gather_left).rechunk()
        self._gr = self._gl if right is left else right.select(self.gather_right).rechunk()
        self._words: dict[str, tuple[_Words, _Words]] = {}
        self._tf: dict[str, pl.DataFrame] = {}
        for comp in self.comparisons:
            if comp.tf_column is not None:
                self._tf[comp.name] = self._tf_table(comp.tf_column.right)

    # ---------------------------------------------------------------- tables

    def _tf_table(self, col: str) -> pl.DataFrame:
        """Relative frequency of each token on the right side (the population searched)."""
        vals = self.right.select(pl.col(col).alias(R(col))).drop_nulls()
        n = max(vals.height, 1)
        return vals.group_by(R(col)).agg((pl.len() / n).alias("__tf"))

    def _word_tables(self, comp: Comparison) -> tuple[_Words, _Words]:
        """Per side, the distinct Bloom values of a comparison (built once per rule)."""
        if comp.name not in self._words:
            key = _bloom_key(comp)
            lw, rw, ln, rn = _bloom_words(comp, self.n_words)
            wl, wr = self._word_src
            left = _Words.build(self.left, wl, key.left, lw, ln)
            same = self.right is self.left and wr is wl and key.left == key.right
            right = left if same else _Words.build(self.right, wr, key.right, rw, rn)
            self._words[comp.name] = (left, right)
        return self._words[comp.name]

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
            lw, rw, ln, rn = _bloom_words(comp, self.n_words)
            if _tokenless(self.left, lt, ln) or _tokenless(self.right, rt, rn):
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
        out._words, out._tf = dict(self._words), dict(self._tf)
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
        exprs = []
        for comp in self.comparisons:
            if comp.type in ("exact", "hierarchy"):
                exprs.append(_hierarchy_expr(comp).alias(gamma_name(comp)))
            elif comp.type == "date_parts":
                exprs.append(_date_parts_expr(comp).alias(gamma_name(comp)))
            elif comp.type in ("date_diff", "numeric"):
                exprs.append(_diff_expr(comp).alias(gamma_name(comp)))
        wide = wide.with_columns(exprs)
        for comp in self.comparisons:
            if comp.type == "bloom":
                wide = wide.with_columns(self._bloom_gamma(comp, wide).alias(gamma_name(comp)))
            elif comp.type == "string":
                wide = wide.with_columns(self._string_gamma(comp, wide).alias(gamma_name(comp)))
        tf_cols = []
        for comp in self.comparisons:
            if comp.name in self._tf:
                assert comp.tf_column is not None
                col = R(comp.tf_column.right)
                wide = wide.join(self._tf[comp.name], on=col, how="left", maintain_order="left")
                wide = wide.rename({"__tf": f"tf_{comp.name}"})
                tf_cols.append(f"tf_{comp.name}")
        keep = [c for c in pairs.columns] + [gamma_name(c) for c in self.comparisons] + tf_cols
        return wide.select(keep)

    def _bloom_gamma(self, comp: Comparison, wide: pl.DataFrame) -> pl.Series:
        """Dice levels, computed once per unique (left value, right value) pair.

        Values are identified by their token: equal tokens are equal values (the top
        level, no lookup); the other pairs are reduced to unique (left value, right value)
        index pairs in numpy, scored, and scattered back. Pairs where a side has Bloom
        words but no token fall back to a per-pair lookup by row.
        """
        lt, rt = self._word_tables(comp)
        li = wide.get_column("li").to_numpy()
        ri = wide.get_column("ri").to_numpy()
        a, b = lt.row_value[li], rt.row_value[ri]
        has = (a != _NONE) & (b != _NONE)
        gamma = np.full(len(li), -1, dtype=np.int8)
        hi, hj = np.flatnonzero(has), None
        if len(hi):
            same = lt.tokens[a[hi]] == rt.tokens[b[hi]]
            gamma[hi[same]] = comp.n_levels - 1
            hj = hi[~same]
        if hj is not None and len(hj):
            keys = (a[hj].astype(np.uint64) << np.uint64(32)) | b[hj].astype(np.uint64)
            uniq, inverse = np.unique(keys, return_inverse=True)
            dice = _dice_numpy(
                lt, rt, (uniq >> np.uint64(32)).astype(np.intp), (uniq & 0xFFFFFFFF).astype(np.intp)
            )
            count = np.zeros(len(uniq), dtype=np.int8)
            for t in comp.thresholds:
                count += dice >= t - _EPS
            gamma[hj] = np.where(np.isnan(dice), -1, count)[inverse]
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
        return out

    def _rowwise_gamma(self, comp: Comparison, li: np.ndarray, ri: np.ndarray) -> pl.Series:
        """Dice levels from each pair's own words (values without a token: rare)."""
        lw, rw, lnn, rnn = _bloom_words(comp, self.n_words)
        lis, ris = pl.Series(li, dtype=pl.UInt32), pl.Series(ri, dtype=pl.UInt32)
        w = len(lw)
        lsrc, rsrc = self._row_columns(0, [*lw, lnn]), self._row_columns(1, [*rw, rnn])
        words = pl.DataFrame(
            [lsrc.get_column(c).gather(lis).alias(f"__l{i}") for i, c in enumerate([*lw, lnn])]
            + [rsrc.get_column(c).gather(ris).alias(f"__r{i}") for i, c in enumerate([*rw, rnn])]
        )
        scored = self._dice_levels(
            comp,
            words,
            [f"__l{i}" for i in range(w)],
            [f"__r{i}" for i in range(w)],
            f"__l{w}",
            f"__r{w}",
        )
        return scored.get_column("__g")

    @staticmethod
    def _dice_level_expr(comp: Comparison) -> pl.Expr:
        """Level from ``__dice`` (null or NaN: the null level)."""
        top = 1 if comp.exact is not None else 0
        n = comp.n_levels
        d = pl.col("__dice")
        chain = pl.when(d.is_null() | d.is_nan()).then(pl.lit(-1, pl.Int8))
        for i, t in enumerate(comp.thresholds):
            chain = chain.when(d >= t - _EPS).then(pl.lit(n - 1 - top - i, pl.Int8))
        return chain.otherwise(pl.lit(0, pl.Int8))

    def _dice_levels(self, comp, frame, lw, rw, ln, rn) -> pl.DataFrame:
        dice = dice_expr([pl.col(c) for c in lw], pl.col(ln), [pl.col(c) for c in rw], pl.col(rn))
        frame = frame.with_columns(dice.alias("__dice"))
        return frame.with_columns(self._dice_level_expr(comp).alias("__g"))

    def _string_gamma(self, comp: Comparison, wide: pl.DataFrame) -> pl.Series:
        """Levenshtein distance or ratio over unique (left, right) strings, via cpdist."""
        assert comp.column is not None
        lc, rc = L(comp.column.left), R(comp.column.right)
        pairs = wide.select(
            pl.col(lc).cast(pl.String).alias("__a"), pl.col(rc).cast(pl.String).alias("__b")
        )
        uniq = pairs.drop_nulls().unique()
        if comp.metric == "ratio":
            scorer, better = fuzz.ratio, "high"
        else:
            scorer, better = Levenshtein.distance, "low"
        if uniq.height:
            scores = process.cpdist(
                uniq.get_column("__a").to_list(),
                uniq.get_column("__b").to_list(),
                scorer=scorer,
                workers=self.workers,
            )
            uniq = uniq.with_columns(pl.Series("__s", np.asarray(scores, dtype=np.float64)))
        else:
            uniq = uniq.with_columns(pl.lit(None, pl.Float64).alias("__s"))
        s = pl.col("__s")
        conds = [(s <= t + _EPS) if better == "low" else (s >= t - _EPS) for t in comp.thresholds]
        uniq = uniq.with_columns(
            _levels_expr(conds, s.is_null(), comp.n_levels).alias("__g")
        ).select("__a", "__b", "__g")
        out = pairs.join(uniq, on=["__a", "__b"], how="left", maintain_order="left")
        return out.select(pl.col("__g").fill_null(-1).cast(pl.Int8)).to_series()
