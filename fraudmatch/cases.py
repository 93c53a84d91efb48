"""Cases: matches that chain (the same person in three payrolls) grouped into one case.

Records are nodes (partner, dataset, record_id) and matches are edges; a case is a
connected component. The case id must survive the next cycle, when tokens (and so every
hub-side key) change: it is a SHA-256 of the rule name and the sorted member keys, which are
the partners' own record ids. SHA-256 rather than polars' hash because polars does not
promise its hash is stable across versions, and a case id printed in an analyst's notes
must still mean the same case next year.
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

__all__ = ["assign_cases", "case_id", "components"]

_SEP = "\x1f"


def _node_key(side: str) -> pl.Expr:
    return pl.concat_str(
        [pl.col(f"{side}_partner"), pl.col(f"{side}_dataset"), pl.col(f"{side}_record_id")],
        separator=_SEP,
    )


def components(src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
    """Component label per node (0..n-1) for undirected edges src-dst.

    Uses scipy's csgraph when installed; otherwise min-label propagation with pointer
    jumping in numpy, which converges in O(log diameter) rounds of whole-array operations.
    """
    try:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components
    except ImportError:  # pragma: no cover - exercised when scipy is absent
        return _propagate(src, dst, n)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def _propagate(src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
    """Min-label propagation: every node takes the smallest label among its neighbours."""
    labels = np.arange(n, dtype=np.int64)
    while True:
        lo = np.minimum(labels[src], labels[dst])
        new = labels.copy()
        np.minimum.at(new, src, lo)
        np.minimum.at(new, dst, lo)
        new = new[new]  # pointer jumping: follow the label's own label
        if np.array_equal(new, labels):
            return labels
        labels = new


def _digest(text: str) -> str:
    return "C" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def case_id(rule: str, members: list[str]) -> str:
    """Stable id of a case: rule name and sorted member keys (``partner\\x1fdataset\\x1fid``)."""
    return _digest(_SEP.join([rule, *sorted(members)]))


def assign_cases(matches: pl.DataFrame, rule: str | None = None) -> pl.DataFrame:
    """Add ``case_id`` (and ``case_size``, records in the case) to a matches frame.

    Needs ``left_/right_partner``, ``left_/right_dataset``, ``left_/right_record_id``, and a
    ``rule`` column unless ``rule`` is given (cases never span two rules).
    """
    if matches.height == 0:
        return matches.with_columns(
            pl.lit(None, pl.String).alias("case_id"), pl.lit(None, pl.UInt32).alias("case_size")
        )
    frame = matches if rule is None else matches.with_columns(pl.lit(rule).alias("rule"))
    edges = frame.select(
        pl.col("rule"), _node_key("left").alias("__a"), _node_key("right").alias("__b")
    )
    nodes = (
        pl.concat(
            [
                edges.select("rule", pl.col("__a").alias("__k")),
                edges.select("rule", pl.col("__b").alias("__k")),
            ]
        )
        .unique()
        .with_row_index("__n")
    )
    idx = edges.join(
        nodes.rename({"__k": "__a", "__n": "__na"}),
        on=["rule", "__a"],
        how="left",
        maintain_order="left",
    ).join(
        nodes.rename({"__k": "__b", "__n": "__nb"}),
        on=["rule", "__b"],
        how="left",
        maintain_order="left",
    )
    labels = components(
        idx.get_column("__na").to_numpy().astype(np.int64),
        idx.get_column("__nb").to_numpy().astype(np.int64),
        nodes.height,
    )
    nodes = nodes.with_columns(pl.Series("__c", labels))
    groups = (
        nodes.sort("__c", "__k")
        .group_by("__c", maintain_order=True)
        .agg(
            pl.concat_str(
                [pl.col("rule").first(), pl.col("__k").str.join(_SEP)], separator=_SEP
            ).alias("__text"),
            pl.len().cast(pl.UInt32).alias("case_size"),
        )
    )
    # one SHA-256 per case (output-sized, not per pair): a hash that never changes with polars
    ids = [_digest(t) for t in groups.get_column("__text").to_list()]
    groups = groups.with_columns(pl.Series("case_id", ids, dtype=pl.String)).select(
        "__c", "case_id", "case_size"
    )
    per_edge = (
        idx.select("__na")
        .join(
            nodes.select(pl.col("__n").alias("__na"), "__c"),
            on="__na",
            how="left",
            maintain_order="left",
        )
        .join(groups, on="__c", how="left", maintain_order="left")
    )
    return matches.with_columns(per_edge.get_column("case_id"), per_edge.get_column("case_size"))
