"""UK postcodes: validated against Royal Mail's letter rules, with sector and district."""

from __future__ import annotations

import polars as pl

from fraudmatch.spec.normalisers.core import (
    F,
    Normalised,
    bind,
    finish,
    let,
    strip_all_space,
)

# --------------------------------------------------------------------------------------------

# Shape: outward A9, A99, A9A, AA9, AA99, AA9A, then inward 9AA (spaces removed), or GIR 0AA.
_POSTCODE_SHAPE = r"^(?:[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}|GIR0AA)$"
# Royal Mail letter rules: 1st not QVX, 2nd not IJZ, A9A 3rd in ABCDEFGHJKPSTUW, AA9A 4th in
# ABEHMNPRVWXY, inward letters not CIKMOV.
_POSTCODE_LETTERS = (
    r"^(?:(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r"[0-9][ABD-HJLNP-UW-Z]{2}|GIR0AA)$"
)


def normalise_postcode(raw: pl.Expr) -> Normalised:
    """Canonical 'OUTWARD INWARD' postcode, plus sector and district for blocking."""
    state = bind(raw, s=strip_all_space(F("raw").str.to_uppercase()))
    state = let(state, outward=F("s").str.head(-3), inward=F("s").str.tail(3))
    s, outward, inward = F("s"), F("outward"), F("inward")
    checks = [
        (~s.str.contains(_POSTCODE_SHAPE), "invalid postcode"),
        (
            ~s.str.contains(_POSTCODE_LETTERS),
            "invalid postcode: letter not used in that position",
        ),
    ]
    extras = {"sector": outward + " " + inward.str.head(1), "district": outward}
    return finish(state, outward + " " + inward, checks, extras)
