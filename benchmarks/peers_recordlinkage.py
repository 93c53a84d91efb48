"""recordlinkage on one of the peers jobs; run as a child by ``benchmarks/peers.py``.

    python benchmarks/peers_recordlinkage.py FOLDER     # prints one JSON line

Its standard unsupervised workflow, timed end to end from the raw text extracts: clean (the
same cleaning as Splink, ``peers_data``), pandas frames, an ``Index`` of one ``Block`` per
fraudmatch blocking rule (recordlinkage unions them), ``Compare`` features (Jaro-Winkler at a
0.85 threshold for names and address text, exact for the rest: binary, as the ECM classifier
needs), then ``ECMClassifier`` fitted and applied to the candidate pairs.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers_data import BLOCKING, CLEAN, load_job, peak_rss, score  # noqa: E402

JW = 0.85


def _pandas(frame: pl.DataFrame):
    """polars -> pandas without pyarrow (object columns; None is missing), record_id index."""
    import pandas as pd

    data = {c: frame.get_column(c).to_numpy() for c in frame.columns if c != "record_id"}
    return pd.DataFrame(data, index=pd.Index(frame.get_column("record_id").to_list()))


def _compare(job: str):
    import recordlinkage as rl

    c = rl.Compare()
    if job == "synthetic":
        c.string("surname", "surname", method="jarowinkler", threshold=JW, label="surname")
        c.string("forenames", "forenames", method="jarowinkler", threshold=JW, label="forenames")
        c.exact("forename_formal", "forename_formal", label="forename_formal")
        c.exact("dob", "dob", label="dob")
        c.exact("birth_year", "birth_year", label="birth_year")
        c.exact("ni", "ni", label="ni")
        c.exact("postcode", "postcode", label="postcode")
        c.exact("postcode_sector", "postcode_sector", label="postcode_sector")
    else:
        for col in ("given_name", "surname", "address_1", "address_2", "suburb"):
            c.string(col, col, method="jarowinkler", threshold=JW, label=col)
        for col in ("dob", "soc_sec_id", "street_number", "postcode", "state"):
            c.exact(col, col, label=col)
    return c


def run(folder: Path) -> dict:
    import recordlinkage as rl

    job, left_raw, right_raw, truth = load_job(folder)
    stages: dict[str, float] = {}
    t0 = clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = round(now - clock, 3)
        clock = now

    left, right = CLEAN[job](left_raw), CLEAN[job](right_raw)
    del left_raw, right_raw
    a, b = _pandas(left), _pandas(right)
    del left, right
    lap("clean")
    indexer = rl.Index()
    for _, keys in BLOCKING[job]:
        indexer.block(left_on=[lc for lc, _ in keys], right_on=[rc for _, rc in keys])
    pairs = indexer.index(a, b)
    lap("index")
    features = _compare(job).compute(pairs, a, b)
    lap("compare")
    ecm = rl.ECMClassifier(binarize=None)
    links = ecm.fit_predict(features)
    lap("ecm")
    wall = time.perf_counter() - t0
    peak = peak_rss()
    found = pl.DataFrame(
        {
            "left_record_id": [str(x) for x in links.get_level_values(0)],
            "right_record_id": [str(x) for x in links.get_level_values(1)],
        },
        schema={"left_record_id": pl.String, "right_record_id": pl.String},
    )
    return {
        "tool": "recordlinkage",
        "version": f"recordlinkage {rl.__version__}",
        "wall_s": wall,
        "stages": stages,
        "peak_rss": peak,
        "pairs": len(pairs),
        **score(found, truth),
    }


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]))))
