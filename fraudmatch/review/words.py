"""The evidence of a match in an analyst's words.

A comparison's level (``exact``, ``day_month_swapped``, ``else``) becomes a phrase ("same
bank account", "date of birth: day and month swapped"); a match decided by rule conditions
says what it matched on, one scored by the model explains its weights. Names not listed
here are shown with their underscores as spaces, never hidden.
"""

from __future__ import annotations

from collections.abc import Sequence

from fraudmatch.review.views import Evidence

THINGS = {
    "ni": "NI number",
    "ni_number": "NI number",
    "surname": "surname",
    "forenames": "forenames",
    "forename_form": "first forename",
    "given_name": "given name (first forename, as a known name)",
    "forename_sound": "sound of the first forename",
    "forename_initial": "initial of the first forename",
    "dob": "date of birth",
    "date_of_birth": "date of birth",
    "birth_year": "year of birth",
    "postcode": "postcode",
    "address": "address",
    "uprn": "property (UPRN)",
    "bank": "bank account",
    "account": "bank account",
    "invoice_number": "invoice number",
    "invoice_date": "invoice date",
    "amount": "amount",
    "supplier_amount": "supplier and amount",
    "left_initial": "initial",
    "right_initial": "initial",
    "surname_frequency": "surname, how common",
    "forenames_frequency": "forenames, how common",
    "first_forename_frequency": "first forename, how common",
}
LEVELS = {
    "else": "different",
    "null": "missing on one record",
    "very_close": "very close (a slip of a letter or two)",
    "close": "close",
    "similar": "similar",
    "day_month_swapped": "day and month swapped",
    "one_part_differs": "one of day, month or year differs",
    "year_only": "same year only",
    "sector": "same postcode sector",
    "district": "same postcode district",
    "line": "same first line and postcode",
    "within_ten": "within ten years",
    "left_initial": "only an initial on the first record",
    "right_initial": "only an initial on the second record",
    "formal": "one is a short form of the other",
    "left_middle": "middle name used as the first on the first record",
    "right_middle": "middle name used as the first on the second record",
    "first": "same first forename",
    "short_form": "one is a short form of the other (or the middle name used as the first)",
    "initial": "only an initial on one record",
    "common": "a common value (held by many other records)",
    "soundex": "the same soundex code only",
    "metaphone": "the same metaphone code only",
}
WEIGHTS_EXPLAINED = (
    "Each comparison adds its weight: how many times likelier its result is for two "
    "records of the same person than for two different people, as a power of two (a weight "
    "of 3 is 8 times likelier, -3 is 8 times less likely). The weights add up to the "
    "match's total."
)


def thing(comparison: str) -> str:
    return THINGS.get(comparison, comparison.replace("_", " "))


def in_words(comparison: str, level: str | None) -> str:
    """One comparison's result: "same bank account", "date of birth: day and month
    swapped", "postcode: missing on one record"."""
    name = thing(comparison)
    if level in ("exact", "same", "agree"):
        return f"same {name}"
    if level is None or level == "null":
        return f"{name}: {LEVELS['null']}"
    return f"{name}: {LEVELS.get(level, level.replace('_', ' '))}"


def agrees(level: str | None) -> bool:
    """The comparison found the two records alike at some level."""
    return level not in (None, "null", "else")


def matched_on(evidence: Sequence[Evidence]) -> str:
    """What a rule-decided match rests on: the comparisons that agreed, in words."""
    parts = [in_words(e.comparison, e.level) for e in evidence if agrees(e.level)]
    return "matched on: " + ("; ".join(parts) if parts else "the rule's conditions")


def probability_words(probability: float | None) -> str:
    if probability is None:
        return ""
    if probability >= 0.9995:
        return "match probability above 99.9%"
    return f"match probability {probability:.1%}"
