"""Postal codes and phone numbers of a declared country, for datasets beyond the UK's.

A column declares its country in the specification::

    postcode: {type: string, normaliser: {kind: postal_code, country: NL}, pseudonymise: [token]}
    phone:    {type: string, normaliser: {kind: phone, country: GB}, pseudonymise: [token]}

Postal codes are checked against the country's shape and written in its usual form
("1234ab" -> "1234 AB" in the Netherlands). Phone numbers become E.164 ("+441632960001"):
the national trunk prefix is dropped and the country code added, so "01632 960001",
"+44 (0)1632 960001" and "0044 1632 960001" are one number. Only the number of digits is
checked (the national numbering plans change too often to pin here); a number written in
international form is kept whatever its country.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from fraudmatch.spec.normalisers.core import F, Normalised, Normaliser, bind, finish, let
from fraudmatch.spec.normalisers.declared import OptionError
from fraudmatch.spec.normalisers.postcodes import normalise_postcode

__all__ = ["PHONE_PLANS", "POSTAL_CODES", "phone_normaliser", "postal_code_normaliser"]

# Country -> (shape of the code without spaces or hyphens, with groups; canonical form).
POSTAL_CODES: dict[str, tuple[str, str]] = {
    "AT": (r"^([1-9][0-9]{3})$", "${1}"),
    "AU": (r"^([0-9]{4})$", "${1}"),
    "BE": (r"^([1-9][0-9]{3})$", "${1}"),
    "CA": (
        r"^([ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z])([0-9][ABCEGHJ-NPRSTV-Z][0-9])$",
        "${1} ${2}",
    ),
    "CH": (r"^([1-9][0-9]{3})$", "${1}"),
    "DE": (r"^([0-9]{5})$", "${1}"),
    "DK": (r"^([1-9][0-9]{3})$", "${1}"),
    "ES": (r"^((?:0[1-9]|[1-4][0-9]|5[0-2])[0-9]{3})$", "${1}"),
    "FI": (r"^([0-9]{5})$", "${1}"),
    "FR": (r"^([0-9]{5})$", "${1}"),
    "IE": (r"^([AC-FHKNPRTV-Y][0-9]{2}|D6W)([0-9AC-FHKNPRTV-Y]{4})$", "${1} ${2}"),
    "IT": (r"^([0-9]{5})$", "${1}"),
    "JP": (r"^([0-9]{3})([0-9]{4})$", "${1}-${2}"),
    "NL": (r"^([1-9][0-9]{3})([A-Z]{2})$", "${1} ${2}"),
    "NO": (r"^([0-9]{4})$", "${1}"),
    "NZ": (r"^([0-9]{4})$", "${1}"),
    "PL": (r"^([0-9]{2})([0-9]{3})$", "${1}-${2}"),
    "PT": (r"^([1-9][0-9]{3})([0-9]{3})$", "${1}-${2}"),
    "SE": (r"^([1-9][0-9]{2})([0-9]{2})$", "${1} ${2}"),
    # ZIP+4 is kept to its ZIP: systems write one or the other for the same address
    "US": (r"^([0-9]{5})(?:[0-9]{4})?$", "${1}"),
}


@dataclass(frozen=True)
class PhonePlan:
    """What a national number looks like: country code, trunk prefix, digits after them."""

    code: str
    trunk: str
    digits: tuple[int, int]
    international_prefix: str = "00"


PHONE_PLANS: dict[str, PhonePlan] = {
    "AT": PhonePlan("43", "0", (4, 13)),
    "AU": PhonePlan("61", "0", (9, 9), "0011"),
    "BE": PhonePlan("32", "0", (8, 9)),
    "CA": PhonePlan("1", "1", (10, 10), "011"),
    "CH": PhonePlan("41", "0", (9, 9)),
    "DE": PhonePlan("49", "0", (6, 13)),
    "DK": PhonePlan("45", "", (8, 8)),
    "ES": PhonePlan("34", "", (9, 9)),
    "FR": PhonePlan("33", "0", (9, 9)),
    "GB": PhonePlan("44", "0", (9, 10)),
    "IE": PhonePlan("353", "0", (7, 9)),
    "IT": PhonePlan("39", "", (6, 11)),
    "NL": PhonePlan("31", "0", (9, 9)),
    "NO": PhonePlan("47", "", (8, 8)),
    "PL": PhonePlan("48", "", (9, 9)),
    "PT": PhonePlan("351", "", (9, 9)),
    "SE": PhonePlan("46", "0", (7, 9)),
    "US": PhonePlan("1", "1", (10, 10), "011"),
}


def _country(options: Mapping[str, Any], known: Mapping[str, object], kind: str) -> str:
    unknown = sorted(set(options) - {"kind", "country"})
    if unknown:
        raise OptionError(unknown[0], f"unknown option; a {kind} takes only country")
    country = options.get("country")
    if not isinstance(country, str) or country.upper() not in known:
        raise OptionError(
            "country",
            f"expected one of {', '.join(sorted(known))} (ISO 3166 two-letter codes), "
            f"got {country!r}",
        )
    return country.upper()


def postal_code_normaliser(options: Mapping[str, Any]) -> Normaliser:
    """A postal code of ``country`` (GB: the full Royal Mail rules of ``postcode``)."""
    country = _country(options, {**POSTAL_CODES, "GB": ()}, "postal_code")
    if country == "GB":
        return lambda raw: _without_extras(normalise_postcode(raw))
    shape, canonical = POSTAL_CODES[country]

    def normalise_postal_code(raw: pl.Expr) -> Normalised:
        state = bind(raw, s=F("raw").str.to_uppercase().str.replace_all(r"[\s\p{Pd}]+", ""))
        s = F("s")
        checks = [(~s.str.contains(shape), f"invalid postal code for {country}")]
        return finish(state, s.str.replace(shape, canonical), checks)

    return normalise_postal_code


def _without_extras(norm: Normalised) -> Normalised:
    return Normalised(value=norm.value, error=norm.error, state=norm.state)


def phone_normaliser(options: Mapping[str, Any]) -> Normaliser:
    """A phone number as E.164, national numbers read as ``country``'s."""
    plan = PHONE_PLANS[_country(options, PHONE_PLANS, "phone")]
    low, high = plan.digits

    def normalise_phone(raw: pl.Expr) -> Normalised:
        # "(0)" after a country code is a trunk prefix written for people calling at home
        text = F("raw").str.strip_chars().str.replace_all(r"\(0\)", "")
        state = bind(raw, s=text.str.replace_all(r"[\s\p{Pd}.()/]+", ""))
        s = F("s")
        intl = (
            pl.when(s.str.starts_with("+"))
            .then(s.str.slice(1))
            .when(s.str.starts_with(plan.international_prefix))
            .then(s.str.slice(len(plan.international_prefix)))
        )
        national = s
        if plan.trunk:
            national = pl.when(s.str.starts_with(plan.trunk)).then(s.str.slice(len(plan.trunk)))
            national = national.otherwise(s)
        state = let(state, intl=intl, national=national)
        intl, national = F("intl"), F("national")
        own = intl.str.starts_with(plan.code)
        significant = pl.when(own).then(intl.str.slice(len(plan.code))).otherwise(national)
        state = let(state, nsn=significant, is_intl=intl.is_not_null())
        nsn, is_intl = F("nsn"), F("is_intl")
        foreign = is_intl & ~own.fill_null(False)
        wrong_length = (
            pl.when(foreign)
            .then(~intl.str.len_chars().is_between(8, 15))
            .otherwise(~nsn.str.len_chars().is_between(low, high))
        )
        checks = [
            (~s.str.contains(r"^\+?[0-9]+$"), "phone number has letters or symbols"),
            (wrong_length, "phone number has the wrong number of digits"),
        ]
        value = pl.when(foreign).then("+" + intl).otherwise("+" + plan.code + nsn)
        return finish(state, value, checks)

    return normalise_phone
