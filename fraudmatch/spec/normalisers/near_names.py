"""The known given name a forename is, or the one a keying slip in it leaves: DENUSE -> DENISE.

Twins are told apart by their given names (``given``), but a typo is no known name, so a
twin whose forename was keyed wrong (DENUSE for DENISE, beside her twin DENIS) gives the
twins veto nothing to read, and the model, seeing two similar forenames, one surname, one
birth date and one home, flags the pair. ``given_near`` reads the typo as the name it
stands for where exactly one known name is one slip away: one letter changed, added or
left out, or two neighbouring letters swapped. Where two known names are one slip away
(ELLIA: ELLA and ELLIE) or none is, it is null, as ``given`` is for an unknown word: no
evidence either way. A known name is its own ``given_near``. Only a word of five letters
or more that neither the nicknames list nor ours knows as a short form is read as a slip,
and only as a slip of a name in its own right, never of a short form: a short form is one
letter from another name as often as not (RACH from RICH, NATE from KATE, OLLIE from
ELLIE, LAURIE from LAWRIE), and it stands for its own name (RACHEL, NATHAN, OLIVER, LAURA),
not the one a slip would make of it.

Found without a loop per word: the known names and the words each meet the other on their
"one letter left out" variants (a symmetric deletion join); a pair that shares one is one
slip apart when the letter is left out at the same place (changed), one side left whole
(added or left out), or at neighbouring places with the two letters swapped.
"""

from __future__ import annotations

import functools

import nicknames
import polars as pl

from fraudmatch.spec.normalisers.given_names import given_names
from fraudmatch.spec.normalisers.names import given_name
from fraudmatch.spec.normalisers.short_forms import short_forms, stands_for

#: shortest word read as a slip of a known name (a shorter one is left null)
MIN_SLIP_LENGTH = 5

_W, _N, _G = "__word", "__name", "__given"


def _variants(frame: pl.DataFrame, col: str) -> pl.DataFrame:
    """Each word with every "one letter left out" form and itself: (word, at, variant); ``at``
    is the place left out, the word's length for the word itself."""
    n = pl.col(col).str.len_chars()
    at = pl.int_ranges(0, n + 1).alias("at")
    out = frame.with_columns(at).explode("at")
    a = pl.col("at")
    variant = pl.col(col).str.slice(0, a) + pl.col(col).str.slice(a + 1)
    return out.with_columns(variant.alias("variant"), n.alias("len"))


@functools.cache
def _short_forms() -> frozenset[str]:
    """Every word the nicknames list or ours knows as a short form (SAM, OLLIE, NATE)."""
    return frozenset(stands_for(nicknames.name_triplets())) | frozenset(short_forms())


@functools.cache
def _known_variants() -> pl.DataFrame:
    """The known names in their own right (no short forms), by variant."""
    own = [name for name, given in given_names().items() if name == given]
    known = pl.DataFrame({_N: own, _G: own}, schema={_N: pl.String, _G: pl.String})
    known = known.filter(pl.col(_N).str.len_chars() >= MIN_SLIP_LENGTH - 1)
    return _variants(known, _N).select(_N, _G, "at", "len", "variant")


def near_given_names(words: pl.Series) -> pl.Series:
    """Per word: its given name, or the one known given name a slip in it stands for."""
    frame = words.rename(_W).to_frame().with_row_index("__row")
    distinct = (
        frame.select(pl.col(_W).unique())
        .drop_nulls()
        .with_columns(given_name(pl.col(_W)).alias(_G))
    )
    unknown = distinct.filter(
        pl.col(_G).is_null()
        & ~pl.col(_W).is_in(list(_short_forms()))
        & (pl.col(_W).str.len_chars() >= MIN_SLIP_LENGTH)
    ).select(_W)
    cand = _variants(unknown, _W).join(_known_variants(), on="variant", suffix="_n")
    wa, na, wl, nl = pl.col("at"), pl.col("at_n"), pl.col("len"), pl.col("len_n")
    w, n = pl.col(_W), pl.col(_N)
    changed = (wa == na) & (wl == nl) & (wa < wl)
    added = (wa < wl) & (na == nl) & (wl == nl + 1)
    left_out = (wa == wl) & (na < nl) & (nl == wl + 1)
    lo = pl.min_horizontal(wa, na)
    swapped = (
        (wl == nl)
        & ((wa - na).abs() == 1)
        & (w.str.slice(lo, 1) == n.str.slice(lo + 1, 1))
        & (w.str.slice(lo + 1, 1) == n.str.slice(lo, 1))
    )
    slips = cand.filter(changed | added | left_out | swapped)
    one = (
        slips.group_by(_W)
        .agg(pl.col(_G).unique())
        .filter(pl.col(_G).list.len() == 1)
        .select(_W, pl.col(_G).list.first().alias("__slip"))
    )
    table = distinct.join(one, on=_W, how="left").select(_W, pl.coalesce(_G, "__slip").alias(_G))
    out = frame.join(table, on=_W, how="left").sort("__row")
    return out.get_column(_G).rename(words.name)
