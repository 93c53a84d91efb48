"""``given_near``: the known given name a forename is, or the one a slip in it stands for."""

from __future__ import annotations

import string

import jellyfish
import nicknames
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudmatch.spec.normalisers.given_names import given_names
from fraudmatch.spec.normalisers.near_names import MIN_SLIP_LENGTH, near_given_names
from fraudmatch.spec.normalisers.short_forms import short_forms, stands_for

NAMES = given_names()
SHORT_FORMS = set(stands_for(nicknames.name_triplets())) | set(short_forms())
LONG_NAMES = sorted(n for n in NAMES if len(n) >= MIN_SLIP_LENGTH)


def reference(word: str | None) -> str | None:
    """By brute force: the word's given name, else the one known name in its own right (of
    four letters or more) one slip away by Damerau-Levenshtein distance, else null."""
    if word is None:
        return None
    if word in NAMES:
        return NAMES[word]
    if len(word) < MIN_SLIP_LENGTH or word in SHORT_FORMS:
        return None
    near = {
        g
        for n, g in NAMES.items()
        if n == g
        and len(n) >= MIN_SLIP_LENGTH - 1
        and jellyfish.damerau_levenshtein_distance(word, n) == 1
    }
    return next(iter(near)) if len(near) == 1 else None


def slip(name: str, kind: int, at: int, letter: str) -> str:
    """One keying slip in ``name``: a letter changed, added, left out, or two swapped."""
    i = at % len(name)
    if kind == 0:
        return name[:i] + letter + name[i + 1 :]
    if kind == 1:
        return name[:i] + letter + name[i:]
    if kind == 2:
        return name[:i] + name[i + 1 :]
    j = min(i, len(name) - 2)
    return name[:j] + name[j + 1] + name[j] + name[j + 2 :]


_SLIPPED = st.builds(
    slip,
    st.sampled_from(LONG_NAMES),
    st.integers(0, 3),
    st.integers(0, 30),
    st.sampled_from(string.ascii_uppercase),
)


@settings(max_examples=60, deadline=None)
@given(words=st.lists(st.one_of(_SLIPPED, st.sampled_from(LONG_NAMES), st.none()), max_size=6))
def test_given_near_is_the_one_known_name_one_slip_away(words: list[str | None]) -> None:
    """Whatever the batch (repeats, nulls, known names among slips), each word gets its
    given name, or the single given name one slip from it, or null: never a guess between
    two names, never a name two slips away."""
    out = near_given_names(pl.Series("w", words, dtype=pl.String)).to_list()
    assert out == [reference(w) for w in words]


def test_a_twins_typo_is_her_own_name_and_an_ambiguous_one_none() -> None:
    """ELLIA is one letter from ELLA and from ELLIE: no one name, so none. DENIS is a
    spelling of DENNIS (spellings.py)."""
    words = ["DENUSE", "DENIS", "LUARA", "ELLIA", "MICTHELL", "JOHM", "S", "OLUWASEUN", None]
    out = near_given_names(pl.Series("w", words, dtype=pl.String)).to_list()
    assert out == ["DENISE", "DENNIS", "LAURA", None, "MITCHELL", None, None, None, None]


def test_a_short_form_no_list_knows_is_no_slip_of_another_name() -> None:
    """RACH is RACHEL's, not a slip of RICH (RICHARD); NATE, EMMY, LAURIE, OLLIE likewise."""
    words = ["RACH", "NATE", "EMMY", "LAURIE", "BECKS", "OLLIE"]
    out = near_given_names(pl.Series("w", words, dtype=pl.String)).to_list()
    assert out == [None] * 6
