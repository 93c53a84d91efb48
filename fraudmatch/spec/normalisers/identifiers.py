"""Identifiers and reference numbers: record ids, NI numbers, bank details, UPRNs, codes.

Each is canonical (separators dropped, case folded) so that the same number written by two
systems gives the same token, and strict: a value of the wrong shape is rejected with a reason.
"""

from __future__ import annotations

import polars as pl

from fraudmatch.spec.normalisers.core import (
    F,
    Normalised,
    bind,
    collapse_spaces,
    finish,
    fold,
    let,
    strip_all_space,
)

# --------------------------------------------------------------------------------------------
# record_id and text
# --------------------------------------------------------------------------------------------


def normalise_record_id(raw: pl.Expr) -> Normalised:
    """Trim only: the id is the partner's own key for re-identification, so it must round-trip."""
    return finish(bind(raw), F("raw").str.strip_chars())


def normalise_text(raw: pl.Expr) -> Normalised:
    """Free text kept for people to read (job titles, reasons): tidy, never rejected."""
    return finish(bind(raw), collapse_spaces(F("raw").str.to_uppercase()))


# --------------------------------------------------------------------------------------------
# NI number
# --------------------------------------------------------------------------------------------

# HMRC: never issued as prefixes (administrative, temporary TN, or reserved ZZ).
_NINO_BAD_PREFIXES = ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ")


#: where the NI number stem is cut in two for its ``head`` and ``tail`` extras
NI_HALF = 4


def normalise_ni_number(raw: pl.Expr) -> Normalised:
    """NI number stem (2 letters, 6 digits) without the A-D suffix.

    The suffix does not identify the person and is often left off, so matching on the stem
    keeps AB123456C and AB123456 together. Extras ``head`` and ``tail``, the stem's first and
    last four characters: one character keyed wrong (AB123456 for AB128456) leaves one of
    them agreeing, so a rule can tell a slip from two people's numbers (which differ in
    both halves but by a chance of about one in ten thousand).
    """
    state = bind(raw, s=F("raw").str.to_uppercase().str.replace_all(r"[\s\-.]+", ""))
    s = F("s")
    prefix = s.str.slice(0, 2)
    bad_prefix = (
        prefix.str.contains(r"^(?:[DFIQUV].|.[DFIQUVO])$")
        | prefix.is_in(_NINO_BAD_PREFIXES)
    )  # fmt: skip
    checks = [
        (
            ~s.str.contains(r"^[A-Z]{2}[0-9]{6}[A-Z]?$"),
            "invalid NI number: must be 2 letters, 6 digits and an optional letter",
        ),
        (bad_prefix, "invalid NI number: prefix not issued"),
        (s.str.contains(r"^.{8}[^A-D]$"), "invalid NI number: suffix must be A, B, C or D"),
    ]
    extras = {"head": s.str.slice(0, NI_HALF), "tail": s.str.slice(NI_HALF, 8 - NI_HALF)}
    return finish(state, s.str.slice(0, 8), checks, extras)


# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Bank details and other identifiers
# --------------------------------------------------------------------------------------------

# Spaces, any dash (Excel turns hyphens into en dashes) and dots separate digit groups.
_DIGIT_SEPARATORS = r"[\s\p{Pd}.]+"


def normalise_sort_code(raw: pl.Expr) -> Normalised:
    """Six digits, separators dropped: 12-34-56 and 123456 are one sort code."""
    state = bind(raw, s=F("raw").str.replace_all(_DIGIT_SEPARATORS, ""))
    s = F("s")
    checks = [
        (~s.str.contains(r"^[0-9]+$"), "sort code must contain only digits"),
        (s.str.len_chars() != 6, "sort code must have 6 digits"),
    ]
    return finish(state, s, checks)


def normalise_account_number(raw: pl.Expr) -> Normalised:
    """Eight digits; seven-digit accounts are left-padded with 0 as UK banks do."""
    state = bind(raw, s=F("raw").str.replace_all(_DIGIT_SEPARATORS, ""))
    s = F("s")
    checks = [
        (~s.str.contains(r"^[0-9]+$"), "account number must contain only digits"),
        (~s.str.len_chars().is_in([7, 8]), "account number must have 7 or 8 digits"),
    ]
    return finish(state, s.str.zfill(8), checks)


def normalise_uprn(raw: pl.Expr) -> Normalised:
    """UPRN as digits without leading zeros (the register's own form; at most 12 digits).

    A trailing '.0' is accepted because spreadsheets read as text render numbers that way.
    """
    state = bind(raw, s=strip_all_space(F("raw")))
    state = let(state, digits=F("s").str.replace(r"\.0+$", "").str.replace(r"^0+", ""))
    s, digits = F("s"), F("digits")
    checks = [
        (~s.str.contains(r"^[0-9]+(?:\.0+)?$"), "UPRN must contain only digits"),
        (digits == "", "UPRN must not be zero"),
        (digits.str.len_chars() > 12, "UPRN must have at most 12 digits"),
    ]
    return finish(state, digits, checks)


def normalise_code(raw: pl.Expr) -> Normalised:
    """Reference numbers (badge, pass, company, VAT, invoice): letters and digits only.

    Punctuation and spacing in such numbers vary by system, never by meaning.
    """
    state = bind(raw, code=fold(F("raw")).str.replace_all(r"[^A-Z0-9]+", ""))
    code = F("code")
    return finish(state, code, [(code == "", "no letters or digits in the code")])
