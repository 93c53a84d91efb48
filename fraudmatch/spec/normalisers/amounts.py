"""Money amounts: pounds and pence from accounting-style text, rounded as an accountant does."""

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
# Amounts
# --------------------------------------------------------------------------------------------

_AMOUNT = (
    r"^(?<open>\()?(?<s1>[+-])?(?<cur1>£|GBP)?(?<s2>[+-])?"
    r"(?<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.(?<frac>[0-9]*))?"
    r"(?<cur2>£|GBP)?(?<close>\))?$"
)
# Brackets | signs | currency | pounds | decimals | bracket: parts that must then agree.
_AMOUNT_TEMPLATE = "${open}|${s1}${s2}|${cur1}${cur2}|${int}|${frac}|${close}"
# Whole pounds kept exact in Float64 with pence: 13 digits + 2 decimals < 2**53.
_AMOUNT_MAX_DIGITS = 13


def normalise_amount(raw: pl.Expr) -> Normalised:
    """Money in pounds as Float64 rounded half away from zero to the penny.

    Rounding is done on the decimal digits, not the float, so 1.005 is 1.01 as an accountant
    expects; accounting-style brackets mean a negative amount.
    """
    state = bind(raw, s=strip_all_space(F("raw").str.to_uppercase()))
    s = F("s")
    parts = pl.when(s.str.contains(_AMOUNT)).then(s.str.replace(_AMOUNT, _AMOUNT_TEMPLATE))
    state = let(state, parts=parts.str.split_exact("|", 5))
    bracket, sign, currency, pounds, decimals, close = (
        F("parts").struct.field(f"field_{i}") for i in range(6)
    )
    state = let(
        state,
        well_formed=(
            sign.is_in(["", "+", "-"])  # null when the pattern did not match
            & currency.is_in(["", "£", "GBP"])
            & ((bracket == "(") == (close == ")"))
            & ~((bracket == "(") & (sign != ""))
            & (pounds + decimals != "")
        ),
        negative=((bracket == "(") | (sign == "-")).fill_null(False),
        digits=pounds.str.replace_all(",", "", literal=True).str.replace(r"^0+", ""),
        milli=decimals.str.pad_end(3, "0").str.head(3).str.to_integer(strict=False),
    )
    fits = F("digits").str.len_chars() <= _AMOUNT_MAX_DIGITS
    whole = pl.when(fits).then(F("digits").str.to_integer(strict=False)).fill_null(0)
    milli = F("milli")
    state = let(state, pence=whole * 100 + milli // 10 + (milli % 10 >= 5).cast(pl.Int64))
    pence = F("pence")
    # A zero is never negative, so "-0" and "0" are one value (not -0.0 and 0.0).
    minus = pl.when(F("negative") & (pence != 0)).then(pl.lit("-")).otherwise(pl.lit(""))
    # Parsed from decimal text, the float is the nearest to the exact amount: pence / 100.0
    # may be computed as pence * 0.01, which makes 40.3 into 40.300000000000004.
    cents = (pence % 100).cast(pl.String).str.zfill(2)
    decimal = minus + (pence // 100).cast(pl.String) + "." + cents
    checks = [(~F("well_formed"), "not an amount"), (~fits, "amount too large")]
    return finish(state, decimal.cast(pl.Float64, strict=False), checks)


# --------------------------------------------------------------------------------------------
