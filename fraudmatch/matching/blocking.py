"""Blocking: which record pairs are compared at all, made in bounded partitions.

Comparing every record with every other is quadratic, so a rule names several blocking
rules (equality on one or more columns); their candidate pairs are unioned. Block sizes are
counted BEFORE any pair is made, so one hot key (a shared dummy date of birth, a hostel's
postcode) is split by a secondary key or skipped and reported instead of exhausting memory.

Each pair remembers the first blocking rule that produced it. De-duplication needs no global
set of pairs: a pair made by rule ``i`` is dropped if an earlier rule ``j`` would also have
made it, i.e. both records share the same effective block id of rule ``j`` (the block ids
already reflect splits and skips). That keeps every partition independent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from fraudmatch.matching.rule_model import BlockingRule, ColumnRef, Rule

__all__ = [
    "BlockingPlan",
    "BlockingStats",
    "candidate_pairs",
    "HotBlock",
    "explain_blocking",
    "plan_blocking",
    "prepare_side",
    "sample_pairs",
]

ROW = "__row"
PARTNER = "__pc"
HOT_DETAIL = 25  # hot blocks described one by one per blocking rule and action; then a sum
_SEED = 0x5EED_B10C
_TOKEN_SUFFIXES = (
    "__tok", "__metaphone", "__nysiis", "__soundex", "__dm", "__my", "__dy", "__dmswap",
)  # fmt: skip


def block_col(i: int) -> str:
    return f"__b{i}"


@dataclass(frozen=True)
class HotBlock:
    """A block too large to compare whole: what happened to it and why."""

    blocking_rule: str
    key: str
    left_rows: int
    right_rows: int
    pairs: int
    action: str  # split | skipped | skipped_after_split | over_budget
    blocks: int = 1  # more than one: the smaller blocks beyond HOT_DETAIL, summed


@dataclass
class BlockingStats:
    """What blocking did, for the run report: per rule counts and every hot block."""

    rules: list[dict] = field(default_factory=list)
    hot: list[HotBlock] = field(default_factory=list)

    def hot_frame(self) -> pl.DataFrame:
        schema = {
            "blocking_rule": pl.String,
            "key": pl.String,
            "left_rows": pl.Int64,
            "right_rows": pl.Int64,
            "pairs": pl.Int64,
            "action": pl.String,
            "blocks": pl.Int64,
        }
        return pl.DataFrame([h.__dict__ for h in self.hot], schema=schema, orient="row")


def _absent_dtype(name: str) -> pl.DataType:
    if name.endswith(_TOKEN_SUFFIXES) or "__bf" in name and not name.endswith("__bfn"):
        return pl.UInt64()
    if name.endswith("__bfn"):
        return pl.UInt16()
    return pl.Null()


def prepare_side(frame: pl.DataFrame | pl.LazyFrame, columns: Sequence[str]) -> pl.DataFrame:
    """The columns a rule needs (plus partner and record_id); absent columns are null.

    A partner that did not supply a column sends it entirely null; a dataset that lacks it
    altogether is treated the same way rather than failing the run. An eager frame is only
    selected from, which shares its column buffers: nothing here copies a million rows. A
    lazy one is collected into contiguous columns once, here, so that blocking and the
    comparer (which need them contiguous for fast gathers) share these buffers instead of
    each making its own copy.
    """
    have = set(frame.collect_schema().names())
    wanted = list(dict.fromkeys(["partner", "record_id", *columns]))
    exprs = [
        pl.col(c) if c in have else pl.lit(None, dtype=_absent_dtype(c)).alias(c) for c in wanted
    ]
    if isinstance(frame, pl.DataFrame):
        return frame.select(exprs)
    return frame.select(exprs).collect().rechunk()


def _narrow(frame: pl.DataFrame, columns: Sequence[str], codes: pl.DataFrame) -> pl.DataFrame:
    """What blocking works on: key columns, a UInt32 row index and a UInt16 partner code.

    Kept apart from the wide frame (Bloom words and all): adding columns to a frame whose
    columns are chunked differently makes polars rechunk, i.e. copy, every column.
    """
    names = pl.Enum(codes.get_column("partner").to_list())
    return (
        frame.select(list(dict.fromkeys(["partner", *columns])))
        .rechunk()
        .with_columns(
            pl.int_range(0, pl.len(), dtype=pl.UInt32).alias(ROW),
            pl.col("partner").cast(names).to_physical().cast(pl.UInt16).alias(PARTNER),
        )
    )


def partner_codes(*frames: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """A UInt16 code per partner name, shared by both sides, so scope checks compare ints."""
    names = pl.concat([f.lazy().select("partner") for f in frames]).unique().collect()
    names = names.sort("partner")
    return names.with_row_index(PARTNER).with_columns(pl.col(PARTNER).cast(pl.UInt16))


def _key_hash(refs: Sequence[ColumnRef], side: str, frame: pl.DataFrame) -> pl.Expr:
    """UInt64 hash of the key columns; null when any is null (nulls never block)."""
    cols = [r.left if side == "left" else r.right for r in refs]
    fields = []
    for i, c in enumerate(cols):
        e = pl.col(c)
        if frame.schema[c] == pl.Null:
            e = e.cast(pl.UInt64)
        fields.append(e.alias(f"k{i}"))
    any_null = pl.any_horizontal([pl.col(c).is_null() for c in cols])
    return pl.when(~any_null).then(pl.struct(fields).hash(_SEED))


def _unify_key_types(refs: Sequence[ColumnRef], left: pl.DataFrame, right: pl.DataFrame):
    """Cast right key columns to the left's dtype so equal values hash equally."""
    casts = []
    for r in refs:
        lt, rt = left.schema[r.left], right.schema[r.right]
        if lt != rt and lt != pl.Null:
            casts.append(pl.col(r.right).cast(lt, strict=False))
    return right.with_columns(casts) if casts else right


def _block_pairs(
    lc: pl.DataFrame, rc: pl.DataFrame, key: str, one_dataset: bool, scope: str
) -> pl.DataFrame:
    """Pairs per block from per-(block, partner) counts, respecting scope and dedup order.

    One join of the (small) count tables gives, per block, every (left partner, right
    partner) combination, from which totals, same-partner pairs and side sizes follow.
    """
    pr = f"{PARTNER}_r"
    prod = pl.col("n") * pl.col("n_r")
    if scope == "any" and not one_dataset:
        # one count row per block on each side: the join already is one row per block
        joined = lc.select(key, "n").join(rc.select(key, pl.col("n").alias("n_r")), on=key)
        return joined.select(
            key, pl.col("n").alias("nl"), pl.col("n_r").alias("nr"), prod.alias("pairs")
        ).filter(pl.col("pairs") > 0)
    blocks = (
        lc.join(rc, on=key, how="inner", suffix="_r")
        .group_by(key)
        .agg(
            prod.sum().alias("total"),
            prod.filter(pl.col(PARTNER) == pl.col(pr)).sum().alias("same"),
            (pl.col("n").sum() // pl.col(pr).n_unique()).alias("nl"),
            (pl.col("n_r").sum() // pl.col(PARTNER).n_unique()).alias("nr"),
        )
    )
    total, same = pl.col("total"), pl.col("same")
    if one_dataset:
        # left and right are the same rows: drop the diagonal (self pairs), halve (mirrors)
        total = (total - pl.col("nl")) // 2
        same = (same - pl.col("nl")) // 2
    pairs = {"any": total, "within_partner": same, "across_partners": total - same}[scope]
    return blocks.select(key, "nl", "nr", pairs.alias("pairs")).filter(pl.col("pairs") > 0)


def _counts(frame: pl.DataFrame, key: str, scope: str) -> pl.DataFrame:
    """Rows per (block, partner); for scope ``any`` partners do not matter (one count).

    numpy's sort-based unique, once per partner (a handful): on a million nearly distinct
    block ids it is several times faster than a hash group-by on two cores.
    """
    rows = frame.select(key, PARTNER).filter(pl.col(key).is_not_null())
    keys = rows.get_column(key).to_numpy()
    if scope == "any":
        groups = [(0, keys)]
    else:
        pc = rows.get_column(PARTNER).to_numpy()
        groups = [(int(p), keys[pc == p]) for p in np.unique(pc)]
    parts = []
    for partner, k in groups:
        u, n = np.unique(k, return_counts=True)
        parts.append(
            pl.DataFrame(
                {
                    key: pl.Series(u, dtype=rows.schema[key]),
                    PARTNER: pl.Series(np.full(len(u), partner), dtype=pl.UInt16),
                    "n": pl.Series(n, dtype=pl.Int64),
                }
            )
        )
    if not parts:
        return pl.DataFrame(schema={key: rows.schema[key], PARTNER: pl.UInt16, "n": pl.Int64})
    return pl.concat(parts)


def _describe_keys(
    frame: pl.DataFrame, key: str, refs: Sequence[ColumnRef], side: str, blocks: pl.DataFrame
) -> pl.DataFrame:
    cols = [r.left if side == "left" else r.right for r in refs]
    sample = (
        frame.join(blocks.select(key), on=key, how="semi")
        .group_by(key)
        .agg(pl.col(c).first() for c in cols)
    )
    desc = pl.concat_str(
        [pl.lit(f"{c}=") + pl.col(c).cast(pl.String).fill_null("∅") for c in cols], separator=", "
    )
    return sample.select(key, desc.alias("key"))


@dataclass
class BlockingPlan:
    """Narrow sides with effective block ids per blocking rule, partitions, what was counted.

    ``left``/``right`` hold the row index, partner code and ``__b{i}`` block ids;
    ``data_left``/``data_right`` the columns comparisons read, in the same row order.
    """

    rule: Rule
    left: pl.DataFrame
    right: pl.DataFrame
    stats: BlockingStats
    block_tables: list[pl.DataFrame]  # per blocking rule: block id, pairs, partition
    data_left: pl.DataFrame  # the wide frames comparisons gather from (row i = row i)
    data_right: pl.DataFrame

    def partitions(self) -> Iterator[pl.DataFrame]:
        """Candidate pairs (li, ri: UInt32, blocking_rule: UInt8) in bounded partitions."""
        rule = self.rule
        made = [0] * len(rule.blocking.rules)
        earlier_l = [self.left.get_column(block_col(j)) for j in range(len(made))]
        earlier_r = [self.right.get_column(block_col(j)) for j in range(len(made))]
        for i, table in enumerate(self.block_tables):
            key = block_col(i)
            if table.height == 0:
                continue
            lsides = self._split(self.left, table, key)
            own = _one_frame(self.rule, self.rule.blocking.rules[i])
            rsides = lsides if own else self._split(self.right, table, key)
            for pkey, lpart in sorted(lsides.items()):
                rpart = rsides.get(pkey)
                if rpart is None:
                    continue
                pairs = self._join(lpart, rpart, key, i, earlier_l, earlier_r)
                made[i] += pairs.height
                if pairs.height:
                    yield pairs
        for i, n in enumerate(made):
            self.stats.rules[i]["pairs_made"] = n

    @staticmethod
    def _split(side: pl.DataFrame, table: pl.DataFrame, key: str) -> dict:
        """Rows of each partition (only rows in a planned block; one partition: no join)."""
        rows = side.select(ROW, PARTNER, key)
        if table.get_column("__part").max() == 0:
            return {(0,): rows.filter(pl.col(key).is_not_null())}
        part = table.select(key, "__part")
        return rows.join(part, on=key, how="inner").partition_by("__part", as_dict=True)

    def _join(self, lpart, rpart, key, i, earlier_l, earlier_r) -> pl.DataFrame:
        rule = self.rule
        pairs = _scope_join(lpart, rpart, key, rule.scope)
        if _one_frame(rule, rule.blocking.rules[i]):
            pairs = pairs.filter(pl.col("li") < pl.col("ri"))
        elif rule.one_dataset:
            pairs = self._unordered(pairs, earlier_l[i], earlier_r[i])
        if i and pairs.height:
            li, ri = pairs.get_column("li"), pairs.get_column("ri")
            seen = pl.Series([False] * pairs.height)
            for j in range(i):
                a, b = earlier_l[j].gather(li), earlier_r[j].gather(ri)
                seen = seen | (a == b).fill_null(False)
                if rule.one_dataset and not _one_frame(rule, rule.blocking.rules[j]):
                    a, b = earlier_l[j].gather(ri), earlier_r[j].gather(li)
                    seen = seen | (a == b).fill_null(False)
            pairs = pairs.filter(~seen)
        return pairs.with_columns(pl.lit(i, dtype=pl.UInt8).alias("blocking_rule"))

    @staticmethod
    def _unordered(pairs: pl.DataFrame, lkey: pl.Series, rkey: pl.Series) -> pl.DataFrame:
        """A one-dataset rule's pairs from a left column against a right one, smaller row
        first: either record may play either side, so (i, j) is kept once, from the side
        order that found it (both orders found it: the one with i < j), never as (i, i)."""
        li, ri = pairs.get_column("li"), pairs.get_column("ri")
        mirror = (lkey.gather(ri) == rkey.gather(li)).fill_null(False)
        keep = (li < ri) | ((li > ri) & ~mirror)
        return pairs.filter(keep).select(
            pl.min_horizontal("li", "ri").alias("li"), pl.max_horizontal("li", "ri").alias("ri")
        )


def _one_frame(rule: Rule, br: BlockingRule) -> bool:
    """Whether one key column serves both sides: a one-dataset rule whose blocking rule reads
    the same columns on both (a left column against a right one needs a right key too)."""
    refs = (*br.on, *br.split_hot_by)
    return rule.one_dataset and all(r.left == r.right for r in refs)


def _scope_join(lpart: pl.DataFrame, rpart: pl.DataFrame, key: str, scope: str) -> pl.DataFrame:
    """Rows (li, ri) of one partition sharing a block id, only those the scope keeps.

    Joining on the block id alone and filtering by partner afterwards would build every
    same-block row pair first: a block of 2,000 rows of one partner and 3 of another makes
    4 million rows for 6,000 across-partner pairs, defeating ``block_ceiling`` and
    ``partition_pairs``. So within a partner the partner code is part of the join key, and
    across partners each left partner (a handful) is joined with the other partners' rows.
    A one-dataset rule still builds both orders of each pair (and the diagonal for
    ``within_partner``/``any``); the caller keeps ``li < ri``.
    """
    left = lpart.select(pl.col(ROW).alias("li"), PARTNER, key)
    right = rpart.select(pl.col(ROW).alias("ri"), PARTNER, key)
    if scope == "within_partner":
        return left.join(right, on=[key, PARTNER]).select("li", "ri")
    if scope == "across_partners":
        parts = [
            left.filter(pl.col(PARTNER) == p)
            .select("li", key)
            .join(right.filter(pl.col(PARTNER) != p).select("ri", key), on=key)
            .select("li", "ri")
            for p in left.get_column(PARTNER).unique().sort().to_list()
        ]
        if not parts:
            return pl.DataFrame(schema={"li": pl.UInt32, "ri": pl.UInt32})
        return pl.concat(parts)
    return left.select("li", key).join(right.select("ri", key), on=key).select("li", "ri")


def plan_blocking(rule: Rule, left: pl.DataFrame, right: pl.DataFrame) -> BlockingPlan:
    """Count blocks, split or skip hot ones, keep within the pair budget, assign partitions.

    ``left``/``right`` come from :func:`prepare_side` (for a one-dataset rule, the same
    frame twice). The plan's narrow frames get an effective block id ``__b{i}`` per
    blocking rule.
    """
    b = rule.blocking
    stats = BlockingStats()
    tables: list[pl.DataFrame] = []
    data_left, data_right = left, right
    lcols, rcols = blocking_columns(rule)
    if rule.one_dataset:
        codes = partner_codes(left)
        left = right = _narrow(left, list(dict.fromkeys([*lcols, *rcols])), codes)
    else:
        codes = partner_codes(left, right)
        left, right = _narrow(left, lcols, codes), _narrow(right, rcols, codes)
    for i, br in enumerate(b.rules):
        key = block_col(i)
        own = _one_frame(rule, br)
        right = right if own else _unify_key_types(br.on, left, right)
        left = left.with_columns(_key_hash(br.on, "left", left).alias(key))
        # a one-dataset rule's right side is the same rows; its key is the left one unless
        # the blocking rule reads other columns there
        right = right.with_columns(
            left.get_column(key) if own else _key_hash(br.on, "right", right).alias(key)
        )
        lc = _counts(left, key, rule.scope)
        rc = lc if own else _counts(right, key, rule.scope)
        blocks = _block_pairs(lc, rc, key, own, rule.scope)
        hot = blocks.filter(pl.col("pairs") > b.block_ceiling)
        if hot.height:
            left, right, blocks = _handle_hot(rule, br, i, left, right, blocks, hot, stats)
        tables.append(blocks)
        stats.rules.append(
            {
                "blocking_rule": br.name,
                "keys": ", ".join(str(r) for r in br.on),
                "blocks": blocks.height,
                "largest_block": int(blocks.get_column("pairs").max() or 0),
                "candidate_pairs": int(blocks.get_column("pairs").sum()),
                "pairs_made": None,
            }
        )
    left, right, tables = _enforce_budget(rule, left, right, tables, stats)
    tables = [_assign_partitions(t, block_col(i), b.partition_pairs) for i, t in enumerate(tables)]
    return BlockingPlan(
        rule=rule,
        left=left,
        right=right,
        stats=stats,
        block_tables=tables,
        data_left=data_left,
        data_right=data_right,
    )


def _handle_hot(rule, br: BlockingRule, i, left, right, blocks, hot, stats: BlockingStats):
    """Split hot blocks by the secondary key, or skip them; every one is reported."""
    key = block_col(i)
    own = _one_frame(rule, br)
    ceiling = rule.blocking.block_ceiling
    action = "split" if br.split_hot_by else "skipped"
    _record_hot(stats, br.name, action, left, key, br.on, hot)
    is_hot_l = pl.col(key).is_in(hot.get_column(key).implode())
    if br.split_hot_by:
        sub_l = _key_hash((*br.on, *br.split_hot_by), "left", left)
        left = left.with_columns(pl.when(is_hot_l).then(sub_l).otherwise(pl.col(key)).alias(key))
        if own:
            right = right.with_columns(left.get_column(key))
        else:
            right = _unify_key_types(br.split_hot_by, left, right)
            sub_r = _key_hash((*br.on, *br.split_hot_by), "right", right)
            right = right.with_columns(
                pl.when(is_hot_l).then(sub_r).otherwise(pl.col(key)).alias(key)
            )
        lc = _counts(left, key, rule.scope)
        rc = lc if own else _counts(right, key, rule.scope)
        blocks = _block_pairs(lc, rc, key, own, rule.scope)
        still = blocks.filter(pl.col("pairs") > ceiling)
        if still.height:
            refs = (*br.on, *br.split_hot_by)
            _record_hot(stats, br.name, "skipped_after_split", left, key, refs, still)
            hot = still
        else:
            return left, right, blocks
    drop = hot.get_column(key).implode()
    left = left.with_columns(_null_where(key, drop))
    right = right.with_columns(_null_where(key, drop))
    return left, right, blocks.filter(~pl.col(key).is_in(drop))


def _record_hot(
    stats: BlockingStats,
    name: str,
    action: str,
    left: pl.DataFrame,
    key: str,
    refs: Sequence[ColumnRef],
    blocks: pl.DataFrame,
) -> None:
    """Report the largest ``HOT_DETAIL`` blocks one by one and the rest as one sum.

    A pair budget far below a large population's needs can drop millions of small blocks:
    the report must still be one a person reads (and the run must not build an object
    per block).
    """
    blocks = blocks.sort("pairs", key, descending=[True, False])
    top = blocks.head(HOT_DETAIL)
    desc = top.join(_describe_keys(left, key, refs, "left", top), on=key, how="left")
    for row in desc.sort("pairs", key, descending=[True, False]).iter_rows(named=True):
        stats.hot.append(HotBlock(name, row["key"], row["nl"], row["nr"], row["pairs"], action))
    rest = blocks.slice(HOT_DETAIL)
    if rest.height:
        nl, nr, pairs = (int(rest.get_column(c).sum()) for c in ("nl", "nr", "pairs"))
        label = f"{rest.height:,} smaller blocks"
        stats.hot.append(HotBlock(name, label, nl, nr, pairs, action, blocks=rest.height))


def _null_where(key: str, ids: pl.Series | pl.Expr) -> pl.Expr:
    """The block id, nulled for the given blocks (skipped: their rows make no pairs here)."""
    return pl.when(pl.col(key).is_in(ids)).then(None).otherwise(pl.col(key)).alias(key)


def _enforce_budget(rule: Rule, left, right, tables, stats: BlockingStats):
    """Skip the largest blocks (any blocking rule) until the planned pairs fit the budget."""
    budget = rule.blocking.pair_budget
    total = sum(int(t.get_column("pairs").sum()) for t in tables)
    if total <= budget:
        return left, right, tables
    # the largest blocks go first; among equal ones, the block whose first record comes
    # first in the extracts: never the block ids' order, which follows the linkage key
    allb = pl.concat(
        [
            t.select(
                pl.lit(i, pl.UInt8).alias("i"), pl.col(block_col(i)).alias("k"), "nl", "nr", "pairs"
            ).join(_first_rows(left, block_col(i)), on="k", how="left")
            for i, t in enumerate(tables)
        ]
    ).sort(["pairs", "first", "i"], descending=[True, False, False], nulls_last=True)
    over = allb.with_columns(pl.col("pairs").cum_sum().alias("c"))
    # drop the largest blocks until the remainder fits
    excess = total - budget
    drop = over.filter((pl.col("c") - pl.col("pairs")) < excess)
    for i in range(len(tables)):
        key = block_col(i)
        names = rule.blocking.rules[i]
        d = drop.filter(pl.col("i") == i)
        if not d.height:
            continue
        ids = d.get_column("k").implode()
        _record_hot(stats, names.name, "over_budget", left, key, names.on, d.rename({"k": key}))
        left = left.with_columns(_null_where(key, ids))
        right = right.with_columns(_null_where(key, ids))
        tables[i] = tables[i].filter(~pl.col(key).is_in(ids))
        stats.rules[i]["candidate_pairs"] = int(tables[i].get_column("pairs").sum())
    return left, right, tables


def _first_rows(side: pl.DataFrame, key: str) -> pl.DataFrame:
    """Per block id, the first row holding it (rows keep the extracts' order)."""
    return (
        side.select(key, ROW)
        .drop_nulls(key)
        .group_by(key)
        .agg(pl.col(ROW).min().alias("first"))
        .rename({key: "k"})
    )


def _assign_partitions(table: pl.DataFrame, key: str, per_partition: int) -> pl.DataFrame:
    """Consecutive blocks (in a fixed order) share a partition until it holds enough pairs.

    The order is the block ids', so it changes with the linkage key; only the order of the
    candidate pairs does, never which pairs there are (estimation sorts what it sums).
    """
    table = table.sort(key)
    return table.with_columns(
        ((pl.col("pairs").cum_sum() - pl.col("pairs")) // per_partition).alias("__part")
    )


# --------------------------------------------------------------------------- random pairs


def sample_pairs(
    rule: Rule, left: pl.DataFrame, right: pl.DataFrame, n: int, seed: int
) -> pl.DataFrame:
    """``n`` random record pairs within the rule's scope (for estimating u), as (li, ri).

    Random pairs are almost all non-matches, which is exactly what u is: how often two
    unrelated records agree at each level by chance.
    """
    rng = np.random.default_rng(seed)
    lp = left.get_column(PARTNER).to_numpy()
    rp = right.get_column(PARTNER).to_numpy()
    empty = pl.DataFrame(schema={"li": pl.UInt32, "ri": pl.UInt32})
    if not len(lp) or not len(rp):
        return empty
    if rule.scope == "within_partner":
        parts_l = {int(p): np.flatnonzero(lp == p) for p in np.unique(lp)}
        parts_r = {int(p): np.flatnonzero(rp == p) for p in np.unique(rp)}
        common = sorted(set(parts_l) & set(parts_r))
        sizes = np.array([len(parts_l[p]) * len(parts_r[p]) for p in common], dtype=float)
        if not common or sizes.sum() == 0:
            return empty
        counts = rng.multinomial(n, sizes / sizes.sum())
        li_parts, ri_parts = [], []
        for p, k in zip(common, counts, strict=True):
            li_parts.append(parts_l[p][rng.integers(len(parts_l[p]), size=k)])
            ri_parts.append(parts_r[p][rng.integers(len(parts_r[p]), size=k)])
        li, ri = np.concatenate(li_parts), np.concatenate(ri_parts)
    else:
        factor = 1
        if rule.scope == "across_partners":
            share = 1.0 - sum(
                (lp == p).mean() * (rp == p).mean() for p in np.unique(np.concatenate([lp, rp]))
            )
            if share <= 0:
                return empty
            factor = int(np.ceil(1.2 / share))
        li = rng.integers(len(lp), size=n * factor)
        ri = rng.integers(len(rp), size=n * factor)
        if rule.scope == "across_partners":
            keep = lp[li] != rp[ri]
            li, ri = li[keep][:n], ri[keep][:n]
    if rule.one_dataset:
        keep = li != ri
        li, ri = li[keep], ri[keep]
    return pl.DataFrame(
        {"li": li.astype(np.uint32), "ri": ri.astype(np.uint32)},
        schema={"li": pl.UInt32, "ri": pl.UInt32},
    )


# --------------------------------------------------------------------------- explain


def blocking_columns(rule: Rule) -> tuple[list[str], list[str]]:
    """Columns the blocking rules read on each side."""
    lcols: list[str] = []
    rcols: list[str] = []
    for br in rule.blocking.rules:
        for ref in (*br.on, *br.split_hot_by):
            lcols.append(ref.left)
            rcols.append(ref.right)
    return list(dict.fromkeys(lcols)), list(dict.fromkeys(rcols))


def prepare_pair(
    rule: Rule,
    left: pl.DataFrame | pl.LazyFrame,
    right: pl.DataFrame | pl.LazyFrame,
    lcols: Sequence[str],
    rcols: Sequence[str],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Both sides with the columns the rule reads (one frame for a one-dataset rule)."""
    if rule.one_dataset:
        side = prepare_side(left, list(dict.fromkeys([*lcols, *rcols])))
        return side, side
    return prepare_side(left, lcols), prepare_side(right, rcols)


def explain_blocking(
    rule: Rule,
    left: pl.DataFrame | pl.LazyFrame,
    right: pl.DataFrame | pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """Per blocking rule: keys, blocks, largest blocks, candidate pairs, pairs new vs earlier.

    Runs the real plan (so hot-key handling is what a run would do) but only counts pairs.
    ``right`` defaults to ``left`` (a one-dataset rule).
    """
    right = left if right is None else right
    lcols, rcols = blocking_columns(rule)
    lside, rside = prepare_pair(rule, left, right, lcols, rcols)
    plan = plan_blocking(rule, lside, rside)
    for _ in plan.partitions():
        pass
    rows = []
    for i, st in enumerate(plan.stats.rules):
        top = plan.block_tables[i].sort("pairs", descending=True).get_column("pairs").head(5)
        hot = [h for h in plan.stats.hot if h.blocking_rule == st["blocking_rule"]]
        rows.append(
            {
                "blocking_rule": st["blocking_rule"],
                "keys": st["keys"],
                "blocks": st["blocks"],
                "largest_blocks": top.to_list(),
                "candidate_pairs": st["candidate_pairs"],
                "new_pairs": st["pairs_made"],
                "hot_blocks": sum(h.blocks for h in hot),
                "hot_pairs_skipped": sum(h.pairs for h in hot if h.action != "split"),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "blocking_rule": pl.String,
            "keys": pl.String,
            "blocks": pl.Int64,
            "largest_blocks": pl.List(pl.Int64),
            "candidate_pairs": pl.Int64,
            "new_pairs": pl.Int64,
            "hot_blocks": pl.Int64,
            "hot_pairs_skipped": pl.Int64,
        },
    )


def candidate_pairs(
    rule: Rule, left: pl.DataFrame | pl.LazyFrame, right: pl.DataFrame | pl.LazyFrame
) -> tuple[pl.DataFrame, BlockingPlan]:
    """All candidate pairs at once (li, ri, blocking_rule) and the plan: for tests and tools.

    The engine iterates ``plan.partitions()`` instead, so as not to hold every pair.
    """
    lcols, rcols = blocking_columns(rule)
    lside, rside = prepare_pair(rule, left, right, lcols, rcols)
    plan = plan_blocking(rule, lside, rside)
    parts = list(plan.partitions())
    schema = {"li": pl.UInt32, "ri": pl.UInt32, "blocking_rule": pl.UInt8}
    pairs = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    return pairs, plan
