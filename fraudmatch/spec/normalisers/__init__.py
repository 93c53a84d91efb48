"""Column normalisers: raw cell text -> typed, comparable values plus a reason when invalid.

Every partner must turn the same person, address or bank account into the same bytes before
pseudonymisation, or keyed tokens never meet at the hub. So each normaliser is strict about
what it accepts, canonical in what it returns, idempotent, and never guesses (an impossible
date is rejected, not rolled over). Everything is a polars expression so a million-row extract
normalises without Python per row. The contract is in :mod:`.core`; one module per kind of
value; this package's ``__init__`` is the registry the data specification names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from fraudmatch.spec.normalisers.addresses import (
    address_institution,
    address_line,
    address_number,
    address_street,
    normalise_address,
)
from fraudmatch.spec.normalisers.amounts import normalise_amount
from fraudmatch.spec.normalisers.core import Normalised, Normaliser
from fraudmatch.spec.normalisers.dates import normalise_date
from fraudmatch.spec.normalisers.declared import OptionError, identifier_normaliser
from fraudmatch.spec.normalisers.identifiers import (
    normalise_account_number,
    normalise_code,
    normalise_ni_number,
    normalise_record_id,
    normalise_sort_code,
    normalise_text,
    normalise_uprn,
)
from fraudmatch.spec.normalisers.international import phone_normaliser, postal_code_normaliser
from fraudmatch.spec.normalisers.names import (
    formal_name,
    given_name,
    initials,
    letters,
    name_form,
    normalise_name,
    two_initials,
)
from fraudmatch.spec.normalisers.postcodes import normalise_postcode
from fraudmatch.spec.normalisers.short_forms import NICKNAMES, short_forms

__all__ = [
    "DECLARED",
    "NICKNAMES",
    "NORMALISERS",
    "Normalised",
    "OptionError",
    "build_normaliser",
    "address_line",
    "address_number",
    "address_institution",
    "address_street",
    "formal_name",
    "given_name",
    "name_form",
    "initials",
    "letters",
    "normalise_column",
    "short_forms",
    "two_initials",
]

NORMALISERS: dict[str, Normaliser] = {
    "record_id": normalise_record_id,
    "name": normalise_name,
    "ni_number": normalise_ni_number,
    "postcode": normalise_postcode,
    "date": normalise_date,
    "sort_code": normalise_sort_code,
    "account_number": normalise_account_number,
    "address": normalise_address,
    "text": normalise_text,
    "code": normalise_code,
    "uprn": normalise_uprn,
    "amount": normalise_amount,
}


# Normalisers a specification declares with options (``normaliser: {kind: ..., ...}``):
# each builds the normaliser from its options, or raises OptionError naming the bad one.
DECLARED: dict[str, Callable[[Mapping[str, Any]], Normaliser]] = {
    "identifier": identifier_normaliser,
    "postal_code": postal_code_normaliser,
    "phone": phone_normaliser,
}


def build_normaliser(normaliser: str, options: Mapping[str, Any] | None = None) -> Normaliser:
    """The normaliser a specification names, built from its options when it declares some."""
    if normaliser in DECLARED:
        return DECLARED[normaliser](options or {})
    if options:
        raise OptionError(sorted(options)[0], f"the {normaliser} normaliser takes no options")
    try:
        return NORMALISERS[normaliser]
    except KeyError:
        valid = ", ".join(sorted([*NORMALISERS, *DECLARED]))
        raise KeyError(f"unknown normaliser {normaliser!r}; valid names: {valid}") from None


def normalise_column(
    raw: pl.Expr, normaliser: str, options: Mapping[str, Any] | None = None
) -> Normalised:
    """Normalise a raw string column with the normaliser named in the data specification."""
    return build_normaliser(normaliser, options)(raw)
