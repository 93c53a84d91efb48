"""Turn a normalised extract into what may leave the partner: keyed tokens, CLKs, clear columns.

The hub matches records it cannot read. Every identifier becomes a keyed HMAC-SHA256 token
(UInt64: the first 8 bytes, big-endian), so equal normalised values meet at the hub while the
hub, without the partnership key, can neither reverse nor dictionary-attack them. Names and
addresses also get a Bloom-filter encoding (see :mod:`fraudmatch.spec.bloom`) for fuzzy scores,
names get keyed phonetic codes and dates keyed parts for blocking. Only what the data
specification lists leaves: every other input column is dropped.

Key domains. Each output is keyed with ``field_key(partnership_key, domain)`` (HKDF-SHA256),
so equal strings in different fields never give equal tokens, but the domain is the column
*name*, not the dataset, so ``surname`` in payroll meets ``surname`` in housing benefit:

===========================================  =============================================
output                                        domain
===========================================  =============================================
``{col}__tok``                                ``{col}``
``{col}__first__tok``, ``{col}__last__tok``,  ``{col}`` for names, so "SMITH" as the last
``{col}__initial__tok``,                      part of "OBRIEN SMITH" meets "SMITH" as a
``{col}__formal__tok``,                       first word or a whole surname elsewhere, the
``{col}__given__tok``,                        initial S of SOPHIE meets a first word S,
``{col}__given_near__tok``,
``{col}__initials__tok``,                     JIMMY's formal name meets a first word JAMES,
``{col}__slip1__tok`` ... ``slip10``          the initials "C E" meet a whole name "C E",
                                              and EVANS with its last letter left out
                                              (slip5) meets a whole surname EVAN
``{col}__line__tok``, ``{col}__street__tok``  ``{col}`` for addresses, so "BECK LANE" as
                                              the line of an address with no house number
                                              meets the street of "20 BECK LANE"
other extras, ``{col}__{x}__tok``             ``{col}__{x}`` (postcode sector, district;
                                              house number; a name's letters in order)
``{col}__swap__tok``,                         ``name__swap`` for every name column, so
``{col}__swap_first__tok``                    WINTER in one record's surname meets WINTER
                                              in another's forenames (columns transposed)
``{col}__bf*``                                ``{col}``, purpose ``bloom`` (its own key)
``{col}__metaphone`` / ``nysiis`` / ``soundex``  ``{col}__metaphone`` ... (one per algorithm)
``{col}__y``, ``{col}__m``, ``{col}__d``      ``{col}__y``, ``{col}__m``, ``{col}__d``
``{col}__dmswap``                             ``{col}``, like ``{col}__tok``, so
                                              ``l.dob__dmswap == r.dob__tok`` finds a swap
===========================================  =============================================

Speed. HMAC runs once per *distinct* value (a Python loop over a pre-keyed SHA-256 pair,
about 1 microsecond a value), so a million-row payroll costs one HMAC per distinct NI
number, not per cell. Each column is worked on one table of its distinct values (value plus
the extras the frame holds) that every method reads, and rows get all their outputs back by
one gather (:func:`_table`, :func:`_back`); a near-unique column (NI numbers) is worked row
by row instead, since deduplicating and gathering back a million near-distinct values costs
more than hashing the few repeats.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

import numpy as np
import polars as pl
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fraudmatch.sealing.keys import key_period
from fraudmatch.spec.bloom import DEFAULT_BLOOM, BloomParams, bloom_encode
from fraudmatch.spec.normalisers import (
    address_institution,
    address_line,
    address_number,
    address_street,
    formal_name,
    given_name,
    initials,
    letters,
    name_form,
    two_initials,
)
from fraudmatch.spec.normalisers.identifiers import NI_HALF
from fraudmatch.spec.normalisers.name_forms import FORM_EXTRAS
from fraudmatch.spec.normalisers.names import SWAP_EXTRAS
from fraudmatch.spec.normalisers.near_names import near_given_names
from fraudmatch.spec.normalisers.slips import SLIP_EXTRAS, slip_slot
from fraudmatch.spec.outputs import (
    CLEAR_TYPES,
    DATE_PAIRS,
    PHONETIC,
    TOKEN,
    method_columns,
    output_columns,
    string_extras,
)
from fraudmatch.spec.specs import ColumnSpec, DatasetSpec

__all__ = [
    "BloomParams",
    "KEY_BYTES",
    "field_key",
    "output_columns",
    "period_start",
    "pseudonymise",
    "token_series",
]

KEY_BYTES = 32
_PURPOSES = ("token", "bloom")
# Extras that share the whole value's key domain: first and last word of a name are names.
# The initial and the formal first name too: a record showing only "S" (first word S) meets
# SOPHIE's initial S, and JIMMY's formal name JAMES meets a first word JAMES. The given name
# (the known name the first word is) is a name too, and so are the initials ("C E" of
# CHRISTINE EMMA meets a whole name "C E").
# An address's line and street are addresses: "BECK LANE" written with no house number (its
# line) meets the street of "20 BECK LANE", so a missing number is no evidence either way.
# A name's forms (form1 ... form10: sounds) share one domain of their own, so that any slot
# of one record meets any slot of another.
_FORM_DOMAIN = "form"
# The swap extras of every name column share one domain, whatever the column: a surname's
# swap token meets a forename's (see SWAP_EXTRAS).
_SWAP_DOMAIN = "name__swap"
_SHARED_DOMAIN_EXTRAS = {
    "name": frozenset(
        {
            "first",
            "last",
            "initial",
            "formal",
            "given",
            "given_near",
            "initials",
            "two_initials",
            *SLIP_EXTRAS,
        }
    ),
    "address": frozenset({"line", "street"}),
}
ADULT_AGE = 18
# Methods worked on the rows themselves rather than on a table of distinct values.
_PER_ROW_METHODS = frozenset({"clear", "withheld", "date_parts", "adult_month"})
_ISO = "%Y-%m-%d"
_VALUE = "__value"
_CODE = "__code"
# Above this share of distinct values a column is worked row by row (see _table).
_PER_ROW_SHARE = 0.8


# --------------------------------------------------------------------------------------------
# Keys and tokens
# --------------------------------------------------------------------------------------------


def field_key(partnership_key: bytes, field: str, purpose: str = "token") -> bytes:
    """The 32-byte key of one field and purpose, derived with HKDF-SHA256.

    ``info`` names both, so a token key never equals a Bloom key of the same field and a
    leak of one field's key says nothing about another's.
    """
    if len(partnership_key) != KEY_BYTES:
        raise ValueError(
            f"the partnership key must be {KEY_BYTES} bytes, not {len(partnership_key)}"
        )
    if purpose not in _PURPOSES:
        raise ValueError(f"unknown key purpose {purpose!r} (expected one of {_PURPOSES})")
    if not field:
        raise ValueError("a field key needs a field name")
    info = f"fraudmatch/v1/{purpose}/{field}".encode()
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info)
    return hkdf.derive(partnership_key)


def _hmac64(messages: Iterable[bytes], key: bytes) -> np.ndarray:
    """First 8 bytes (big-endian) of HMAC-SHA256(key, m) for each message, as uint64.

    RFC 2104 spelled out with the inner and outer SHA-256 states keyed once and copied per
    message: byte-for-byte ``hmac.digest(key, m, "sha256")``, but the key is not re-padded
    and re-hashed for every value. Whole digests are joined and numpy keeps every fourth
    word, which saves a slice per value. Per million values: about 1.0 s, against 1.8 s for
    copies of a keyed ``hmac.new`` object and 2.6 s for ``hmac.digest``. (Hashing half in a
    helper ``python -I -S`` process was measured and lost: the helper's loop ran ~1.5x
    slower per value than this one and the two-core machine is rarely idle.)
    """
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(64, b"\0")
    inner_copy = hashlib.sha256(bytes(b ^ 0x36 for b in padded)).copy
    outer_copy = hashlib.sha256(bytes(b ^ 0x5C for b in padded)).copy
    digests: list[bytes] = []
    append = digests.append
    for message in messages:
        inner = inner_copy()
        inner.update(message)
        outer = outer_copy()
        outer.update(inner.digest())
        append(outer.digest())
    return np.frombuffer(b"".join(digests), dtype=">u8")[::4].astype(np.uint64)


def _as_strings(values: pl.Series) -> pl.Series:
    if values.dtype == pl.Null:
        return values.cast(pl.String)
    if values.dtype != pl.String:
        raise TypeError(f"tokens are taken of strings; {values.name!r} is {values.dtype}")
    return values


def _hash(values: pl.Series, key: bytes) -> pl.Series:
    """Token of every element of a null-free string series, repeats hashed again."""
    tokens = _hmac64(values.cast(pl.Binary).to_list(), key)
    return pl.Series(values.name, tokens, dtype=TOKEN)


def _mapped_tokens(
    columns: list[pl.Series], key: bytes, known: tuple[pl.Series, pl.Series] | None = None
) -> list[pl.Series]:
    """Tokens of several series in one key domain, each distinct string hashed once.

    ``known`` is a (distinct strings, their tokens) pair already hashed in this domain, so
    name parts equal to a whole name (most first and last words) are not hashed twice.
    """
    union = pl.concat([_as_strings(c).rename(_VALUE) for c in columns]).drop_nulls().unique()
    if known is None:
        lookup, tokens = union, _hash(union, key)
    else:
        fresh = union.filter(~union.is_in(known[0].implode()))
        lookup = pl.concat([known[0].rename(_VALUE), fresh])
        tokens = pl.concat([known[1], _hash(fresh, key)])
    return [
        _as_strings(c).replace_strict(lookup, tokens, default=None, return_dtype=TOKEN)
        for c in columns
    ]


def token_series(values: pl.Series, key: bytes) -> pl.Series:
    """UInt64 token of each value: HMAC-SHA256(key, utf-8 value)[:8], null where null.

    Each distinct value is hashed once and the tokens are mapped back, in row order.
    """
    return _mapped_tokens([values], key)[0].rename(values.name)


# --------------------------------------------------------------------------------------------
# The output schema
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Reading the normalised frame
# --------------------------------------------------------------------------------------------


def _value(frame: pl.DataFrame, col: ColumnSpec) -> pl.Series:
    """The normalised column, checked against its spec type (an all-null column is fine)."""
    series = frame.get_column(col.name)
    expected = CLEAR_TYPES[col.type]
    if series.dtype == expected:
        return series
    if series.dtype == pl.Null or (col.type == "number" and series.dtype.is_numeric()):
        return series.cast(expected)
    raise TypeError(
        f"column {col.name!r} should be normalised to {expected} ({col.type}), found {series.dtype}"
    )


def _derive_extra(value: pl.Series, suffix: str) -> pl.Series:
    """An extra the frame lacks, derived exactly as documented in the shipped datasets.yaml."""
    words = value.str.split(" ")
    if suffix in ("first", "swap_first"):
        return words.list.first()
    if suffix == "swap":
        return value
    if suffix == "last":
        return words.list.last()
    if suffix == "initial":
        return value.str.slice(0, 1)
    if suffix == "initials":
        return value.to_frame(_VALUE).select(initials(pl.col(_VALUE))).to_series()
    if suffix == "two_initials":
        return value.to_frame(_VALUE).select(two_initials(pl.col(_VALUE))).to_series()
    if suffix == "letters":
        return words.list.first().to_frame(_VALUE).select(letters(pl.col(_VALUE))).to_series()
    if suffix in FORM_EXTRAS:
        slot = FORM_EXTRAS.index(suffix) + 1
        return (
            words.list.first().to_frame(_VALUE).select(name_form(pl.col(_VALUE), slot)).to_series()
        )
    if suffix == "given_near":
        return near_given_names(words.list.first())
    if suffix in SLIP_EXTRAS:
        slot = SLIP_EXTRAS.index(suffix) + 1
        return value.to_frame(_VALUE).select(slip_slot(pl.col(_VALUE), slot)).to_series()
    if suffix in ("formal", "given"):
        derive = {"formal": formal_name, "given": given_name}[suffix]
        return words.list.first().to_frame(_VALUE).select(derive(pl.col(_VALUE))).to_series()
    if suffix == "district":
        return words.list.first()
    if suffix == "sector":
        return value.str.slice(0, value.str.len_chars() - 2)
    if suffix == "head":
        return value.str.slice(0, NI_HALF)
    if suffix == "tail":
        return value.str.slice(NI_HALF, 8 - NI_HALF)
    if suffix in ("line", "number", "street", "institution"):
        derive = {"line": address_line, "number": address_number, "street": address_street,
                  "institution": address_institution}  # fmt: skip
        return value.to_frame(_VALUE).select(derive[suffix](pl.col(_VALUE))).to_series()
    raise ValueError(f"extra column {value.name}__{suffix} is missing and cannot be derived")


def _keys(frame: pl.DataFrame, col: ColumnSpec, extras: list[str]) -> pl.DataFrame:
    """The value (as ``__value``) and every needed extra the frame holds, one row per row.

    An extra the frame holds is keyed with the value rather than assumed to be a function
    of it: a hand-built frame may hold anything there. Extras the frame lacks are derived
    later, per distinct value.
    """
    held = [x for x in extras if f"{col.name}__{x}" in frame.columns]
    return pl.DataFrame(
        [
            _value(frame, col).rename(_VALUE),
            *(_as_strings(frame.get_column(f"{col.name}__{x}")).rename(x) for x in held),
        ]
    )


def _table(keys: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series | None, bool]:
    """The rows to work the methods on, each frame row's table row, and if values are distinct.

    Normally one row per distinct non-null value, with the extras the frame holds; the codes
    are each frame row's table row (null where the value is null). The extras are checked
    to be a function of the value, as the normalisers make them; where they are not, the
    table has one row per distinct (value, extras) instead. When nearly every value is
    distinct (NI numbers, bank accounts) deduplicating and gathering back costs more than
    hashing the few repeats: the table is then every non-null row in order and the codes
    are ``None``. The flag says whether each value is in the table once.
    """
    has_nulls = keys.get_column(_VALUE).null_count() > 0
    present = keys.filter(pl.col(_VALUE).is_not_null()) if has_nulls else keys
    value = present.get_column(_VALUE)
    if value.approx_n_unique() > _PER_ROW_SHARE * max(value.len(), 1):
        return present, None, False
    if keys.width == 1:
        table = value.unique().to_frame()
        return table, _codes(keys, table, [_VALUE]), True
    table = present.filter(pl.col(_VALUE).is_first_distinct())
    codes = _codes(keys, table, [_VALUE])
    codes_lit = pl.lit(codes)
    same = (
        keys.lazy()
        .select(
            pl.col(_VALUE).is_null()
            | pl.all_horizontal(
                pl.col(x).eq_missing(pl.lit(table.get_column(x)).gather(codes_lit))
                for x in keys.columns[1:]
            )
        )
        .select(pl.all().all())
        .collect()
    )
    if same.item():
        return table, codes, True
    table = present.unique()
    return table, _codes(keys, table, keys.columns), False


def _codes(keys: pl.DataFrame, table: pl.DataFrame, on: list[str]) -> pl.Series:
    """Each key row's row number in the table (null where it has none), in row order."""
    numbered = table.select(on).with_row_index(_CODE)
    joined = keys.select(on).join(
        numbered, on=on, how="left", maintain_order="left", nulls_equal=True
    )
    return joined.get_column(_CODE)


def _back(keys: pl.DataFrame, outputs: pl.DataFrame, codes: pl.Series | None) -> pl.DataFrame:
    """The outputs of the table's rows on every frame row, in row order (see :func:`_table`)."""
    if codes is not None:
        return outputs.gather(codes)
    present = keys.get_column(_VALUE).is_not_null()
    if present.all():
        return outputs
    rows = present.arg_true()
    return pl.DataFrame(
        pl.repeat(None, keys.height, dtype=s.dtype, eager=True).rename(s.name).scatter(rows, s)
        for s in outputs.iter_columns()
    )


def _extra(table: pl.DataFrame, suffix: str) -> pl.Series:
    """The ``{suffix}`` extra of each table row: held by the frame, else derived from the value.

    Table rows all have a value, so an extra of a missing value never leaves.
    """
    if suffix in table.columns:
        return table.get_column(suffix)
    return _derive_extra(table.get_column(_VALUE), suffix)


# --------------------------------------------------------------------------------------------
# The methods, each worked on a column's table (see _table) and returning named outputs
# --------------------------------------------------------------------------------------------


def _token_columns(
    table: pl.DataFrame, col: ColumnSpec, key: bytes, distinct: bool
) -> list[pl.Series]:
    """``{col}__tok`` and one token per string extra, each in its key domain.

    The value is hashed as it stands (the table holds each non-null value once when
    ``distinct``); extras sharing its domain reuse those tokens.
    """
    value = table.get_column(_VALUE)
    tok = f"{col.name}__tok"
    whole = field_key(key, col.name)
    if col.type == "date":
        return [_hash(value.dt.to_string(_ISO), whole).alias(tok)]
    value = _as_strings(value.rename(col.name)).rename(_VALUE)  # an error names the column
    tokens = _hash(value, whole)
    extras = {x: _extra(table, x) for x in string_extras(col)}
    shared = [x for x in extras if x in _SHARED_DOMAIN_EXTRAS.get(col.normaliser, ())]
    known = (value, tokens) if distinct else None
    shared_tokens = _mapped_tokens([extras[x] for x in shared], whole, known) if shared else []
    out = [tokens.alias(tok)]
    for x, series in extras.items():
        if x in shared:
            token = shared_tokens[shared.index(x)]
        else:
            if x in SWAP_EXTRAS:
                domain = _SWAP_DOMAIN
            else:
                domain = f"{col.name}__{_FORM_DOMAIN if x in FORM_EXTRAS else x}"
            (token,) = _mapped_tokens([series], field_key(key, domain))
        out.append(token.alias(f"{col.name}__{x}__tok"))
    return out


def _bloom_columns(
    table: pl.DataFrame, col: ColumnSpec, key: bytes, params: BloomParams, distinct: bool
) -> list[pl.Series]:
    value = table.get_column(_VALUE).cast(pl.String)
    encoded = bloom_encode(value, field_key(key, col.name, "bloom"), params, distinct=distinct)
    words = [encoded.get_column(f"w{i}").alias(f"{col.name}__bf{i}") for i in range(params.words)]
    return [*words, encoded.get_column("n").alias(f"{col.name}__bfn")]


def _phonetic_columns(table: pl.DataFrame, col: ColumnSpec, key: bytes) -> list[pl.Series]:
    """Keyed metaphone, NYSIIS and soundex of the first word, coded per distinct word.

    The first word (the ``__first`` extra, else derived) because that is what survives
    a partner recording "OBRIEN SMITH" where another has "OBRIEN".
    """
    words = _extra(table, "first")
    distinct = words.drop_nulls().unique()
    plain = distinct.to_list()
    out = []
    for algo, code in PHONETIC.items():
        codes = pl.Series([c or None for c in map(code, plain)], dtype=pl.String)
        (tokens,) = _mapped_tokens([codes], field_key(key, f"{col.name}__{algo}"))
        token = words.replace_strict(distinct, tokens, default=None, return_dtype=TOKEN)
        out.append(token.alias(f"{col.name}__{algo}"))
    return out


def _date_part_columns(frame: pl.DataFrame, col: ColumnSpec, key: bytes) -> list[pl.Series]:
    """Tokens of the date, its part pairs and its day-month swap, and the clear year.

    Worked per row from the frame, not the distinct-value table, because a damaged date
    (1958-07-71) has no value but keeps its possible parts (``{col}__py``/``pm``/``pd``
    from the date normaliser) as partial evidence: here the month-year pair and the year.
    A pair is sent only where it could be part of a real date (no 30 February). The swap
    exists only when the day could be a month (day <= 12) and differs from the month:
    otherwise no other date could have been keyed in by swapping.
    """
    name = col.name
    value = _value(frame, col).rename(_VALUE)
    d = pl.col(_VALUE)
    y = pl.coalesce(d.dt.year(), pl.col("py"))
    m = pl.coalesce(d.dt.month().cast(pl.Int32), pl.col("pm"))
    day = pl.coalesce(d.dt.day().cast(pl.Int32), pl.col("pd"))
    # the longest month m can have (29 for February, whatever the year)
    longest = pl.when(m == 2).then(29).when(m.is_in([4, 6, 9, 11])).then(30).otherwise(31)
    swappable = (d.dt.day() <= 12) & (d.dt.day() != d.dt.month())
    swapped = pl.date(d.dt.year(), pl.min_horizontal(d.dt.day(), 12), d.dt.month())

    def two(e: pl.Expr) -> pl.Expr:
        return e.cast(pl.String).str.zfill(2)

    text = pl.DataFrame([value, *_possible_parts(frame, col)]).select(
        d.dt.to_string(_ISO).alias("tok"),
        pl.when(day <= longest).then(pl.format("{}-{}", two(day), two(m))).alias("dm"),
        pl.format("{}-{}", y, two(m)).alias("my"),
        pl.format("{}--{}", y, two(day)).alias("dy"),
        pl.when(swappable).then(swapped).dt.to_string(_ISO).alias("dmswap"),
        y.cast(pl.Int16).alias("year"),
    )
    whole = field_key(key, name)
    tok, swap = _mapped_tokens([text.get_column("tok"), text.get_column("dmswap")], whole)
    out = {"tok": tok, "dmswap": swap, "year": text.get_column("year")}
    for pair in DATE_PAIRS:
        (out[pair],) = _mapped_tokens([text.get_column(pair)], field_key(key, f"{name}__{pair}"))
    return [out[p].alias(f"{name}__{p}") for p in ("tok", *DATE_PAIRS, "dmswap", "year")]


def period_start(period: str) -> date:
    """The first day of a submission's period (``2026-11`` and ``2026-11-30`` give
    2026-11-01): the date an ``adult_month`` column is computed against."""
    return date.fromisoformat(f"{key_period(period)}-01")


def _adult_month_column(frame: pl.DataFrame, col: ColumnSpec, as_of: date) -> pl.Series:
    """``{col}__adult_from``: the first day of the first month a person is 18 all through
    (the 18th birthday itself where it falls on the 1st), only where that birthday is after
    ``as_of``.

    The single-person-discount rule needs "18 or over on the cycle date", not a date of
    birth: someone already 18 on ``as_of`` (the first day of the submission's period, before
    any cycle date) is sent nothing, which the rule reads as an adult, and an attainer is
    sent the coarsest grain that answers the question: a month, which answers it exactly for
    a cycle date on the 1st (someone turning 18 on the cycle date is an adult that day) and
    never calls a minor an adult on any other.

    An impossible date (2009-13-30) still has its possible parts (``{col}__py``/``pm``/
    ``pd``): the latest real date they allow stands for it (the year's last month, the
    month's last day where those are unknown), so a register entry born in 2009 is a minor
    on a 2026 cycle date whatever its month; the rule never reads an adult from a date that
    may be a minor's. With no year there is nothing to read, as for a missing date.
    """
    d = pl.DataFrame([_value(frame, col).rename(_VALUE), *_possible_parts(frame, col)])
    d = d.select(_latest_possible())
    # the 18th birthday itself, for the comparison with as_of (29 February -> 1 March)
    birthday = pl.col(_VALUE).dt.offset_by(f"{ADULT_AGE}y")
    adult_from = (
        pl.when(birthday.dt.day() == 1)
        .then(birthday)
        .otherwise(birthday.dt.month_start().dt.offset_by("1mo"))
    )
    out = d.select(
        pl.when(birthday > pl.lit(as_of)).then(adult_from).alias(f"{col.name}__adult_from")
    )
    return out.to_series()


def _possible_parts(frame: pl.DataFrame, col: ColumnSpec) -> list[pl.Series]:
    """``py``, ``pm``, ``pd``: the parts of a damaged date that are possible on their own
    (``{col}__py`` ... from the date normaliser; all null where the frame has none)."""
    out = []
    for p in ("py", "pm", "pd"):
        held = f"{col.name}__{p}"
        if held in frame.columns:
            out.append(frame.get_column(held).cast(pl.Int32).rename(p))
        else:
            out.append(pl.Series(p, [None] * frame.height, dtype=pl.Int32))
    return out


def _latest_possible() -> pl.Expr:
    """The date itself, else the latest real date its possible parts allow (null without a
    year): a damaged date of birth read so that nobody is older than they may be."""
    y, m, day = pl.col("py"), pl.col("pm").fill_null(12), pl.col("pd")
    month_end = pl.date(y, m, 1).dt.month_end()
    # the day where the month has it (30 of a month unknown: 30 December), else its last day
    back = (month_end.dt.day().cast(pl.Int32) - day).clip(lower_bound=0).fill_null(0)
    latest = month_end - pl.duration(days=back)
    return pl.coalesce(pl.col(_VALUE), latest).alias(_VALUE)


def _needed_extras(col: ColumnSpec) -> list[str]:
    """Extras a column's methods read: the token extras, and the first word for phonetics."""
    needed = list(string_extras(col)) if "token" in col.pseudonymise else []
    if "phonetic" in col.pseudonymise and "first" not in needed:
        needed.append("first")
    return needed


def _column_outputs(
    frame: pl.DataFrame, col: ColumnSpec, key: bytes, bloom: BloomParams, as_of: date | None
) -> list[pl.Series]:
    """Every output of one column, in method order.

    All methods work on one table of the column's distinct values (see :func:`_table`),
    joined back to the rows once, instead of one join over every row per method.
    """
    for method in col.pseudonymise:
        method_columns(col, method, bloom)  # refuses an unknown method before any work
    worked = [m for m in col.pseudonymise if m not in _PER_ROW_METHODS]
    outputs: dict[str, list[pl.Series]] = {}
    if worked:
        keys = _keys(frame, col, _needed_extras(col))
        table, codes, distinct = _table(keys)
        for method in worked:
            if method == "token":
                series = _token_columns(table, col, key, distinct)
            elif method == "bloom":
                series = _bloom_columns(table, col, key, bloom, distinct)
            elif method == "phonetic":
                series = _phonetic_columns(table, col, key)
            outputs[method] = series
        back = _back(keys, pl.DataFrame([s for m in worked for s in outputs[m]]), codes)
        outputs = {m: [back.get_column(s.name) for s in outputs[m]] for m in worked}
    out: list[pl.Series] = []
    for method in col.pseudonymise:
        if method == "clear":
            out.append(_value(frame, col))
        elif method == "date_parts":
            out += _date_part_columns(frame, col, key)
        elif method == "adult_month":
            assert as_of is not None  # pseudonymise refuses a missing one up front
            out.append(_adult_month_column(frame, col, as_of))
        elif method != "withheld":
            out += outputs[method]
    return out


def _check_columns(frame: pl.DataFrame, columns: Iterable[ColumnSpec], dataset: str) -> None:
    missing = [c.name for c in columns if not c.withheld and c.name not in frame.columns]
    if missing:
        raise ValueError(f"the normalised {dataset} frame lacks the columns {', '.join(missing)}")


def pseudonymise(
    frame: pl.DataFrame,
    dataset: DatasetSpec,
    key: bytes,
    bloom: BloomParams = DEFAULT_BLOOM,
    *,
    as_of: date | None = None,
) -> pl.DataFrame:
    """What leaves the partner for one normalised extract, in the order of :func:`output_columns`.

    ``key`` is the 32-byte linkage key of the submission's period (see
    :func:`fraudmatch.sealing.keys.cycle_linkage_key`). Rows keep their order; the same
    frame and key always give the same output. Columns the specification does not list (and
    withheld ones) are dropped. ``as_of`` is the first day of the submission's period
    (:func:`period_start`): an ``adult_month`` column sends nothing for anyone already 18
    on it. A dataset with such a column needs it; there is no default (not today: what is
    sent must depend on the period the submission is for, not on the day it is prepared).
    """
    if len(key) != KEY_BYTES:
        raise ValueError(f"the partnership key must be {KEY_BYTES} bytes, not {len(key)}")
    _check_columns(frame, dataset.columns, dataset.name)
    needs_date = [c.name for c in dataset.columns if "adult_month" in c.pseudonymise]
    if needs_date and as_of is None:
        raise ValueError(
            f"{dataset.name}.{needs_date[0]} is sent as adult_month, which needs the first "
            "day of the submission's period (as_of=period_start(period))"
        )
    series: list[pl.Series] = []
    for col in dataset.columns:
        series += _column_outputs(frame, col, key, bloom, as_of)
    out = pl.DataFrame(series)
    expected = output_columns(dataset, bloom)
    if out.schema != pl.Schema(expected):
        raise AssertionError(f"pseudonymised schema {out.schema} differs from {expected}")
    return out
