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

try:  # imported once with the module (~0.5 s), not inside the first run's cases stage
    from scipy.sparse import coo_matrix as _coo  # noqa: F401
    from scipy.sparse.csgraph import connected_components as _cc  # noqa: F401
except ImportError:  # pragma: no cover
    pass

_SEP = "\x1f"
_DIGEST_SLICE = 250_000


def _node_key(side: str) -> pl.Expr:
    return pl.concat_str(
        [pl.col(f"{side}_partner"), pl.col(f"{side}_dataset"), pl.col(f"{side}_record_id")],
        separator=_SEP,
    )


def components(src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
    """Dense component label (0..C-1) per node 0..n-1, for undirected edges src-dst.

    Uses scipy's csgraph when installed; otherwise min-label propagation with pointer
    jumping in numpy, which converges in O(log diameter) rounds of whole-array operations.
    """
    try:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components
    except ImportError:  # pragma: no cover - exercised when scipy is absent
        return np.unique(_propagate(src, dst, n), return_inverse=True)[1].astype(np.int64)
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


def _digests(texts: pl.Series) -> pl.Series:
    """``_digest`` of each text, in slices: millions never become Python strings at once."""
    parts = [
        pl.Series([_digest(t) for t in texts.slice(o, _DIGEST_SLICE).to_list()], dtype=pl.String)
        for o in range(0, texts.len(), _DIGEST_SLICE)
    ]
    return pl.concat(parts) if parts else pl.Series([], dtype=pl.String)


def case_id(rule: str, members: list[str]) -> str:
    """Stable id of a case from the rule and its members (``partner\\x1fdataset\\x1fid``).

    The hashed text is each member as ``rule\\x1fpartner\\x1fdataset\\x1frecord_id``, sorted,
    joined by ``\\x1f``: documented so a case id can be recomputed outside fraudmatch.
    """
    return _digest(_SEP.join(sorted(f"{rule}{_SEP}{m}" for m in members)))


def assign_cases(
    matches: pl.DataFrame,
    rule: str | None = None,
    *,
    node_ids: tuple[np.ndarray, np.ndarray] | None = None,
) -> pl.DataFrame:
    """Add ``case_id`` (and ``case_size``, records in the case) to a matches frame.

    Needs ``left_/right_partner``, ``left_/right_dataset``, ``left_/right_record_id``, and a
    ``rule`` column unless ``rule`` is given (cases never span two rules). ``node_ids``
    (integer ids of the left and right record of each match, e.g. row indices) let the
    engine skip identifying records by their strings; the case id never depends on them.
    """
    n = matches.height
    if n == 0:
        return matches.with_columns(
            pl.lit(None, pl.String).alias("case_id"), pl.lit(None, pl.UInt32).alias("case_size")
        )
    frame = matches if rule is None else matches.with_columns(pl.lit(rule).alias("rule"))
    keys = pl.concat(
        [
            frame.select(pl.concat_str([pl.col("rule"), _node_key(side)], separator=_SEP))
            .to_series()
            .rename("__k")
            for side in ("left", "right")
        ]
    )
    if node_ids is None or rule is None:
        # a transient in-process hash only numbers the nodes; ids come from SHA-256 below
        ids = keys.hash(0x0CA5E).to_numpy()
    else:
        ids = np.concatenate([np.asarray(node_ids[0]), np.asarray(node_ids[1])]).astype(np.int64)
    uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    labels = components(inverse[:n], inverse[n:], len(uniq))
    per_edge = labels[inverse[:n]]
    size = np.bincount(labels)  # records per case
    pair = size[per_edge] == 2  # a case of one match: its text needs no grouping
    # one SHA-256 per case, never per pair: a hash that never changes with polars
    case_id = pl.repeat(None, n, dtype=pl.String, eager=True).rename("case_id")
    if pair.any():
        kl, kr = keys.slice(0, n).filter(pl.Series(pair)), keys.slice(n, n).filter(pl.Series(pair))
        two = (
            pl.DataFrame({"a": kl, "b": kr})
            .select(
                pl.when(pl.col("a") <= pl.col("b"))
                .then(pl.concat_str("a", "b", separator=_SEP))
                .otherwise(pl.concat_str("b", "a", separator=_SEP))
            )
            .to_series()
        )
        case_id = case_id.scatter(np.flatnonzero(pair), _digests(two))
    if not pair.all():
        big = np.flatnonzero(size[labels] > 2)
        nodes = pl.DataFrame({"__c": labels[big], "__k": keys.gather(first[big])})
        groups = (
            nodes.sort("__c", "__k")
            .group_by("__c", maintain_order=True)
            .agg(pl.col("__k").str.join(_SEP).alias("__text"))
        )
        groups = groups.select("__c", _digests(groups.get_column("__text")).alias("case_id"))
        lookup = pl.DataFrame({"__c": per_edge[~pair]}).join(
            groups, on="__c", how="left", maintain_order="left"
        )
        case_id = case_id.scatter(np.flatnonzero(~pair), lookup.get_column("case_id"))
    return matches.with_columns(
        case_id,
        pl.Series("case_size", size[per_edge].astype(np.uint32)),
    )
