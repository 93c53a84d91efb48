"""The comparable linkage jobs the peers run (``benchmarks/peers.py``): data, cleaning, blocking.

The data is not generated here: the synthetic payroll and housing-benefit extracts come from
``benchmarks/scale.py`` (``generate``) and FEBRL4 from ``benchmarks/febrl.py``
(``load_febrl4``, ``truth_pairs``), exactly what fraudmatch is measured on. This module holds
what a Splink or recordlinkage user writes before linking (their normal use: clear data):

* cleaning — upper case, punctuation and spare spaces removed, dates parsed to ISO text, NI
  numbers without spaces or suffix, postcodes written ``OUTWARD INWARD``, and derived columns
  for blocking (first forename, its initial and its formal name for a known nickname,
  metaphone and soundex of the surname, the date of birth with day and month swapped, the
  birth year and month, postcode sector and district).
  fraudmatch's normalisers do the same work on its side (and are timed there too);
* blocking — the blocking rules of fraudmatch's own rule for the job
  (``benchmarks/scale_rule.yaml``, ``benchmarks/febrl/febrl4.yaml``), key for key, as
  ``(name, [(left column, right column), ...])``.

The formal-name table is fraudmatch's (``fraudmatch.spec.normalisers.short_forms()``: its own
common English short forms and the unambiguous ones of the public ``nicknames`` package), a
public list any user could paste in, given to the peers so that the comparison of F1 is about
the method, not about who knew SUE is SUSAN.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jellyfish
import polars as pl

# ------------------------------------------------------------------------------ blocking

Blocking = list[tuple[str, list[tuple[str, str]]]]


def _same(*cols: str) -> list[tuple[str, str]]:
    return [(c, c) for c in cols]


# benchmarks/scale_rule.yaml, key for key (fraudmatch's hot-block split of postcode+surname by
# first forename has no equivalent in the peers; the plain postcode+surname block is used)
SYNTHETIC_BLOCKING: Blocking = [
    ("ni_number", _same("ni")),
    ("dob_surname_sound", _same("dob", "surname_mp", "forename_initial")),
    ("dob_forename", _same("dob", "forename_formal", "postcode_district")),
    ("swapped_dob_surname_sound", [("dob_swap", "dob"), *_same("surname_mp", "forename_initial")]),
    ("postcode_surname", _same("postcode", "surname")),
    ("postcode_dob", _same("postcode", "dob")),
    ("names_birth_year", _same("surname", "forename_first", "birth_year", "birth_month")),
]

# benchmarks/febrl/febrl4.yaml, key for key
FEBRL_BLOCKING: Blocking = [
    ("soc_sec_id", _same("soc_sec_id")),
    ("dob", _same("dob")),
    ("names_sound", _same("given_name_sx", "surname_sx")),
    ("postcode_surname_sound", _same("postcode", "surname_mp")),
    ("postcode_street_number", _same("postcode", "street_number")),
    ("suburb_given_name", _same("suburb", "given_name_mp")),
    ("surname_street_number", _same("surname", "street_number")),
]

BLOCKING = {"synthetic": SYNTHETIC_BLOCKING, "febrl": FEBRL_BLOCKING}


# ------------------------------------------------------------------------------ cleaning


def _words(col: str) -> pl.Expr:
    """Upper-case words: punctuation to spaces, spaces collapsed and trimmed; '' -> null."""
    e = (
        pl.col(col)
        .str.to_uppercase()
        .str.replace_all(r"[^\p{L}\p{N} ]+", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    return pl.when(e == "").then(None).otherwise(e)


def _code(col: str) -> pl.Expr:
    """Upper-case letters and digits only; '' -> null."""
    e = pl.col(col).str.to_uppercase().str.replace_all(r"[^A-Z0-9]+", "")
    return pl.when(e == "").then(None).otherwise(e)


def _phonetic(s: pl.Series, fn) -> pl.Series:
    """A jellyfish code of each distinct value (once per value, not per row)."""
    u = s.drop_nulls().unique()
    table = dict(zip(u.to_list(), (fn(v) if v else None for v in u.to_list()), strict=True))
    return s.replace_strict(table, default=None, return_dtype=pl.String)


def _dob(col: str, formats: tuple[str, ...]) -> pl.Expr:
    parsed = [pl.col(col).str.strip_chars().str.to_date(f, strict=False) for f in formats]
    return pl.coalesce(parsed)


def clean_synthetic(raw: pl.DataFrame) -> pl.DataFrame:
    """A payroll or housing-benefit extract (``scale.generate``'s text) as the peers link it."""
    from fraudmatch.spec.normalisers import short_forms

    df = raw.select(
        "record_id",
        _words("surname").alias("surname"),
        _words("forenames").alias("forenames"),
        _dob("date_of_birth", ("%Y-%m-%d", "%d/%m/%Y")).alias("__dob"),
        _code("ni_number").str.slice(0, 8).alias("ni"),
        _code("postcode").alias("__pc"),
    )
    pc, d = pl.col("__pc"), pl.col("__dob")
    swappable = (d.dt.day() <= 12) & (d.dt.day() != d.dt.month())
    df = df.with_columns(
        pl.col("forenames").str.extract(r"^(\S+)").alias("forename_first"),
        (pc.str.slice(0, pc.str.len_chars() - 3) + " " + pc.str.slice(-3)).alias("postcode"),
        (pc.str.slice(0, pc.str.len_chars() - 2)).alias("postcode_sector"),
        pc.str.slice(0, pc.str.len_chars() - 3).alias("postcode_district"),
        pl.col("forenames").str.slice(0, 1).alias("forename_initial"),
        d.dt.to_string("%Y-%m-%d").alias("dob"),
        d.dt.year().cast(pl.String).alias("birth_year"),
        d.dt.month().cast(pl.String).alias("birth_month"),
        pl.when(swappable)
        .then(pl.date(d.dt.year(), d.dt.day(), d.dt.month()).dt.to_string("%Y-%m-%d"))
        .alias("dob_swap"),
    )
    df = df.with_columns(pl.col("forename_first").replace(short_forms()).alias("forename_formal"))
    return df.drop("__pc", "__dob").with_columns(
        _phonetic(df.get_column("surname"), jellyfish.metaphone).alias("surname_mp"),
        _phonetic(df.get_column("surname"), jellyfish.soundex).alias("surname_sx"),
    )


FEBRL_TEXT = ("given_name", "surname", "address_1", "address_2", "suburb")
FEBRL_CODES = ("street_number", "postcode", "state", "soc_sec_id")


def clean_febrl(raw: pl.DataFrame) -> pl.DataFrame:
    """A FEBRL4 file (``febrl.load_febrl4``'s text, dates already ISO) as the peers link it."""
    df = raw.select(
        "record_id",
        *[_words(c).alias(c) for c in FEBRL_TEXT],
        *[_code(c).alias(c) for c in FEBRL_CODES],
        _dob("date_of_birth", ("%Y-%m-%d",)).dt.to_string("%Y-%m-%d").alias("dob"),
    )
    return df.with_columns(
        _phonetic(df.get_column("given_name"), jellyfish.soundex).alias("given_name_sx"),
        _phonetic(df.get_column("given_name"), jellyfish.metaphone).alias("given_name_mp"),
        _phonetic(df.get_column("surname"), jellyfish.soundex).alias("surname_sx"),
        _phonetic(df.get_column("surname"), jellyfish.metaphone).alias("surname_mp"),
    )


CLEAN = {"synthetic": clean_synthetic, "febrl": clean_febrl}


def load_job(folder: Path) -> tuple[str, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The job name, left and right raw text frames, and the true pairs written by peers.py."""
    job = (folder / "job.txt").read_text().strip()
    left = pl.read_parquet(folder / "left.parquet")
    right = pl.read_parquet(folder / "right.parquet")
    truth = pl.read_parquet(folder / "truth.parquet")
    return job, left, right, truth


def peak_rss() -> int:
    """This process's peak resident memory in bytes since it started its program.

    ``VmHWM`` (the high-water mark of the process's own address space, new at ``exec``), not
    ``ru_maxrss``: Linux carries ``ru_maxrss`` across ``exec``, so a child forked from a parent
    holding the generated data would report the parent's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource  # not Linux: ru_maxrss (bytes on macOS)

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def score(found: pl.DataFrame, truth: pl.DataFrame) -> dict[str, int]:
    """TP, FP, FN of the found (left_record_id, right_record_id) pairs against the truth."""
    keys = ["left_record_id", "right_record_id"]
    found = found.select(keys).unique()
    tp = found.join(truth, on=keys, how="semi").height
    return {"matches": found.height, "tp": tp, "fp": found.height - tp, "fn": truth.height - tp}
