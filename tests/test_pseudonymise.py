"""Pseudonymisation: what leaves a partner, and that it links across partners but nowhere else.

Frames are built by hand in the shape the ingest step produces (normalised values plus the
``__first``/``__last`` and ``__sector``/``__district`` extras), independent of the normaliser.
"""

from __future__ import annotations

import hmac
import io
import random
from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudmatch.council.pseudonymise import (
    field_key,
    period_start,
    pseudonymise,
    token_series,
)
from fraudmatch.library import prepare_frame
from fraudmatch.spec.bloom import BloomParams
from fraudmatch.spec.normalisers import normalise_column
from fraudmatch.spec.normalisers.given_names import given_names
from fraudmatch.spec.outputs import output_columns
from fraudmatch.spec.specs import DatasetSpec, load_spec, parse_spec

SPEC = load_spec()
PAYROLL = SPEC.dataset("payroll")
KEY = bytes(range(32))
OTHER_KEY = bytes(range(100, 132))
SMALL = BloomParams(bits=128, hashes=4)

PEOPLE = [
    # surname, forenames, dob, ni, address, postcode, sort code, account
    (
        "OBRIEN SMITH",
        "JOSEPHINE ANNE",
        date(1980, 1, 31),
        "AB123456",
        "FLAT 2 14 VICTORIA ROAD LEEDS",
        "LS6 2QX",
        "401122",
        "31926819",
    ),
    (
        "WOJCIECHOWSKA",
        "KATARZYNA",
        date(1975, 6, 2),
        "CE987654",
        "221 BAKER STREET LONDON",
        "NW1 6XE",
        "608371",
        "55779911",
    ),
    (
        "MACPHERSON",
        "ALEXANDER",
        date(1990, 11, 11),
        "JG103759",
        "7 ORCHARD CLOSE HALIFAX",
        "HX1 5AB",
        "209988",
        "70412366",
    ),
    (
        "FITZGERALD",
        "SIOBHAN",
        date(1968, 3, 25),
        "PX556677",
        "THE OLD RECTORY CHURCH LANE YORK",
        "YO1 7HH",
        "309634",
        "12098734",
    ),
]


def name_extras(col: str) -> list[pl.Expr]:
    words = pl.col(col).str.split(" ")
    return [
        words.list.first().alias(f"{col}__first"),
        words.list.last().alias(f"{col}__last"),
    ]


def postcode_extras(col: str) -> list[pl.Expr]:
    pc = pl.col(col)
    return [
        pc.str.slice(0, pc.str.len_chars() - 2).alias(f"{col}__sector"),
        pc.str.split(" ").list.first().alias(f"{col}__district"),
    ]


def payroll_frame(people: list[tuple], prefix: str = "P") -> pl.DataFrame:
    """A normalised payroll frame, with an unlisted column that must not leave."""
    cols = ["surname", "forenames", "date_of_birth", "ni_number", "address", "postcode"]
    cols += ["sort_code", "account_number"]
    data = {c: [p[i] for p in people] for i, c in enumerate(cols)}
    frame = pl.DataFrame(
        {
            "record_id": [f"{prefix}{i}" for i in range(len(people))],
            **data,
            "job_title": ["CLERK"] * len(people),
            "start_date": [date(2020, 4, 1)] * len(people),
            "end_date": pl.Series([None] * len(people), dtype=pl.Date),
            "notes": ["SECRET NOTE"] * len(people),
        },
        schema_overrides={"date_of_birth": pl.Date},
    )
    return frame.with_columns(
        *name_extras("surname"), *name_extras("forenames"), *postcode_extras("postcode")
    )


def token_columns(frame: pl.DataFrame) -> list[str]:
    return [
        c for c, t in frame.schema.items() if t == pl.UInt64 and "__bf" not in c and c != "__bfn"
    ]


# --------------------------------------------------------------------------------------------
# Keys and tokens
# --------------------------------------------------------------------------------------------


def reference_token(key: bytes, value: str) -> int:
    return int.from_bytes(hmac.digest(key, value.encode("utf-8"), "sha256")[:8], "big")


def test_field_key_is_hkdf_per_field_and_purpose() -> None:
    a = field_key(KEY, "surname")
    assert len(a) == 32 and a == field_key(KEY, "surname")
    assert a != field_key(KEY, "forenames")
    assert a != field_key(KEY, "surname", "bloom")
    assert a != field_key(OTHER_KEY, "surname")
    with pytest.raises(ValueError, match="32 bytes"):
        field_key(KEY[:16], "surname")
    with pytest.raises(ValueError, match="purpose"):
        field_key(KEY, "surname", "other")


def test_token_series_is_truncated_hmac_in_row_order() -> None:
    values = pl.Series("v", ["SMITH", None, "JONES", "SMITH", "", "ZOË"])
    key = field_key(KEY, "surname")
    out = token_series(values, key)
    assert out.dtype == pl.UInt64 and out.name == "v" and out.len() == values.len()
    expected = [None if v is None else reference_token(key, v) for v in values.to_list()]
    assert out.to_list() == expected
    assert token_series(pl.Series([None, None]), key).to_list() == [None, None]
    assert token_series(pl.Series([], dtype=pl.String), key).dtype == pl.UInt64
    with pytest.raises(TypeError):
        token_series(pl.Series([1, 2]), key)


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=30),
    field=st.sampled_from(["surname", "ni_number", "postcode__sector"]),
    key=st.binary(min_size=32, max_size=32),
)
def test_tokens_are_a_pure_function_of_key_field_and_value(
    values: list[str | None], field: str, key: bytes
) -> None:
    fk = field_key(key, field)
    whole = token_series(pl.Series(values, dtype=pl.String), fk).to_list()
    one_by_one = [token_series(pl.Series([v], dtype=pl.String), fk).item() for v in values]
    assert whole == one_by_one
    for value, token in zip(values, whole, strict=True):
        assert token == (None if value is None else reference_token(fk, value))


# --------------------------------------------------------------------------------------------
# Linking across partners, and only where intended
# --------------------------------------------------------------------------------------------


def test_partners_with_the_same_key_get_equal_tokens_and_filters() -> None:
    a = pseudonymise(payroll_frame(PEOPLE, "A"), PAYROLL, KEY)
    b = pseudonymise(payroll_frame(list(reversed(PEOPLE[:3])), "B"), PAYROLL, KEY)
    shared = [c for c in a.columns if c != "record_id"]
    # b's rows are people 2, 1, 0
    assert b.select(shared).reverse().equals(a.select(shared).head(3))
    assert a.get_column("record_id").to_list() == ["A0", "A1", "A2", "A3"]


def test_another_partnership_key_links_nothing() -> None:
    a = pseudonymise(payroll_frame(PEOPLE), PAYROLL, KEY)
    b = pseudonymise(payroll_frame(PEOPLE), PAYROLL, OTHER_KEY)
    tokens_a = {v for c in token_columns(a) for v in a.get_column(c).drop_nulls()}
    tokens_b = {v for c in token_columns(b) for v in b.get_column(c).drop_nulls()}
    assert tokens_a and not tokens_a & tokens_b
    for col in ("surname", "forenames", "address"):
        words = [f"{col}__bf{i}" for i in range(16)]
        assert all(
            ra != rb for ra, rb in zip(a.select(words).rows(), b.select(words).rows(), strict=True)
        )


def test_equal_values_in_different_fields_give_different_tokens() -> None:
    frame = payroll_frame(PEOPLE[:1]).with_columns(
        pl.lit("JAMES").alias(c) for c in ("surname", "forenames", "surname__first")
    )
    frame = frame.with_columns(
        pl.lit("JAMES").alias(c) for c in ("surname__last", "forenames__first", "forenames__last")
    )
    out = pseudonymise(frame, PAYROLL, KEY).row(0, named=True)
    assert out["surname__tok"] != out["forenames__tok"]
    assert out["surname__metaphone"] != out["forenames__metaphone"]
    assert (
        out["surname__bf0"] != out["forenames__bf0"] or out["surname__bf1"] != out["forenames__bf1"]
    )
    # Same-string date parts (month 05 and day 05) and postcode parts never collide either.
    dob = pseudonymise(
        payroll_frame([(*PEOPLE[0][:2], date(1980, 5, 5), *PEOPLE[0][3:])]), PAYROLL, KEY
    ).row(0, named=True)
    assert len({dob[f"date_of_birth__{p}"] for p in ("dm", "my", "dy")}) == 3
    assert (
        len({out["postcode__tok"], out["postcode__sector__tok"], out["postcode__district__tok"]})
        == 3
    )


def test_name_parts_share_the_column_domain() -> None:
    """SMITH as the last part of a double-barrelled surname meets SMITH anywhere else."""
    people = [(s, *PEOPLE[0][1:]) for s in ("OBRIEN SMITH", "SMITH", "SMITH JONES")]
    out = pseudonymise(payroll_frame(people), PAYROLL, KEY)
    smith = out.get_column("surname__tok")[1]
    assert out.get_column("surname__last__tok")[0] == smith
    assert out.get_column("surname__first__tok")[2] == smith
    assert out.get_column("surname__first__tok")[1] == smith == out["surname__last__tok"][1]
    assert out.get_column("surname__first__tok")[0] != smith


def test_initial_meets_a_first_word_that_is_only_the_initial() -> None:
    """A record showing only "S" meets SOPHIE's initial; SARAH's first word never does."""
    people = [(PEOPLE[0][0], f, *PEOPLE[0][2:]) for f in ("S", "SOPHIE LAUREN", "SARAH")]
    out = pseudonymise(payroll_frame(people), PAYROLL, KEY)
    first, initial = out["forenames__first__tok"], out["forenames__initial__tok"]
    assert first[0] == initial[0] == initial[1] == initial[2]
    assert first[2] != initial[1] and first[1] != initial[1]


def test_formal_name_meets_the_name_a_nickname_stands_for() -> None:
    people = [(PEOPLE[0][0], f, *PEOPLE[0][2:]) for f in ("JIMMY", "JAMES ROBERT", "JAMIE")]
    out = pseudonymise(payroll_frame(people), PAYROLL, KEY)
    formal, first = out["forenames__formal__tok"], out["forenames__first__tok"]
    assert formal[0] == formal[1] == first[1] != first[0]
    assert formal[2] == first[2] != formal[1]  # a name of its own is never rewritten


def test_given_name_is_the_known_name_and_shares_the_name_domain() -> None:
    """LAURA and LAUREN are two known names; TORI is VICTORIA's; a typo, an initial and a
    short form of several names are no known name (null, no evidence): never a token."""
    forenames = ("LAURA JANE", "LAUREN", "LUARA", "TORI", "VICTORIA", "S", "SAM")
    people = [(PEOPLE[0][0], f, *PEOPLE[0][2:]) for f in forenames]
    out = pseudonymise(payroll_frame(people), PAYROLL, KEY)
    given, first = out["forenames__given__tok"], out["forenames__first__tok"]
    assert given[0] == reference_token(field_key(KEY, "forenames"), "LAURA") == first[0]
    assert given[1] == first[1] != given[0]
    assert given[3] == given[4] == first[4] != first[3]
    assert [given[i] for i in (2, 5, 6)] == [None, None, None]


@settings(max_examples=25, deadline=None)
@given(
    forenames=st.lists(
        st.sampled_from(
            ["LAURA", "LAUREN", "LUARA", "JIMMY", "JAMES", "J", "SAM", "ANNE LEE", "DENUSE ROSE"]
        ),
        min_size=1,
        max_size=8,
    )
)
def test_given_tokens_are_the_tokens_of_the_known_name(forenames: list[str]) -> None:
    """Whatever the mix of rows, a given token is the forenames token of the known name the
    first word is, and null exactly where the word is no known name; a given_near token is
    the token of the name a slip stands for (DENUSE: DENISE, LUARA: LAURA), so it meets
    ``given``; a short form of several names (SAM) has none."""
    people = [(PEOPLE[0][0], f, *PEOPLE[0][2:]) for f in forenames]
    out = pseudonymise(payroll_frame(people), PAYROLL, KEY)
    key = field_key(KEY, "forenames")
    names = given_names()
    expected = [names.get(f.split()[0]) for f in forenames]
    want = [None if n is None else reference_token(key, n) for n in expected]
    assert out["forenames__given__tok"].to_list() == want
    near = {"LUARA": "LAURA", "DENUSE": "DENISE", "SAM": None}
    expected = [near[w] if w in near else names.get(w) for w in (f.split()[0] for f in forenames)]
    want = [None if n is None else reference_token(key, n) for n in expected]
    assert out["forenames__given_near__tok"].to_list() == want


def test_a_surnames_slips_meet_the_whole_surname_one_letter_shorter() -> None:
    """EVANS with its fifth letter left out is EVAN, keyed in the surname's own domain, so
    its slip token is EVAN's surname token; a word over ten letters, or of two words, sends
    no slips."""
    surnames = ["EVANS", "EVAN", "MACCONNGHAMHNA", "LLOYD JONES"]
    people = [(s, *PEOPLE[0][1:]) for s in surnames]
    out = pseudonymise(payroll_frame(people), PAYROLL, KEY)
    key = field_key(KEY, "surname")
    assert out["surname__slip5__tok"][0] == out["surname__tok"][1]
    assert out["surname__slip5__tok"][0] == reference_token(key, "EVAN")
    assert out["surname__slip1__tok"][0] == reference_token(key, "VANS")
    assert out["surname__slip5__tok"][1] is None  # EVAN has four letters
    slips = out.select(pl.col(f"surname__slip{i}__tok") for i in range(1, 11))
    assert slips.row(2) == slips.row(3) == (None,) * 10


def test_address_line_and_number_extras() -> None:
    """The same home written with "Flat" or a town meets on the line; next door never does."""
    addresses = ["FLAT 3 12 ELM ROAD NORTHMOOR", "3 12 ELM ROAD", "13 ELM ROAD", "12 ELM ROAD"]
    people = [(*PEOPLE[0][:4], a, *PEOPLE[0][5:]) for a in addresses]
    frame = payroll_frame(people)
    out = pseudonymise(frame, PAYROLL, KEY)
    line, number = out["address__line__tok"], out["address__number__tok"]
    assert line[0] == line[1] != line[2] and line[3] not in (line[0], line[2])
    assert number[0] == number[1] == number[3] != number[2]
    street = out["address__street__tok"]  # ELM ROAD, whatever the number
    assert street[0] == street[1] == street[2] == street[3] is not None
    assert out["address__tok"][0] != out["address__tok"][1]
    assert line[3] == reference_token(field_key(KEY, "address"), "12 ELM ROAD")
    # the line and the street share the address's domain: "ELM ROAD" with no house number
    # (its line) meets the street of "12 ELM ROAD"
    assert street[3] == reference_token(field_key(KEY, "address"), "ELM ROAD")
    # normalised extras given by the partner win over the derived ones (and equal them here)
    given = frame.with_columns(
        pl.Series("address__line", ["3 12 ELM ROAD", "3 12 ELM ROAD", "13 ELM ROAD", None]),
        pl.Series("address__number", ["12", "12", "13", None], dtype=pl.String),
    )
    again = pseudonymise(given, PAYROLL, KEY)
    assert again["address__line__tok"][:3].equals(line[:3])
    assert again["address__line__tok"][3] is None


def test_ni_number_halves_are_keyed_each_in_its_own_domain() -> None:
    """One character keyed wrong keeps one half's token; a half never meets the other half
    or the whole number (each has its own domain), and the halves go only where listed."""
    numbers = ["AB123456", "AB123486", "AB193456", "CE654321"]
    people = [(*PEOPLE[0][:3], ni, *PEOPLE[0][4:]) for ni in numbers]
    frame = payroll_frame(people)
    out = pseudonymise(frame, PAYROLL, KEY)
    head, tail = out["ni_number__head__tok"], out["ni_number__tail__tok"]
    assert head[0] == head[1] != head[2] and tail[0] == tail[2] != tail[1]
    assert head[3] not in head[:3].to_list() and tail[3] not in tail[:3].to_list()
    assert head[0] == reference_token(field_key(KEY, "ni_number__head"), "AB12")
    assert tail[0] == reference_token(field_key(KEY, "ni_number__tail"), "3456")
    plain = parse_spec(
        {
            "version": 1,
            "datasets": {
                "d": {
                    "columns": {
                        "record_id": {"type": "string", "required": True,
                                      "normaliser": "record_id", "pseudonymise": ["clear"]},
                        "ni_number": {"type": "string", "normaliser": "ni_number",
                                      "pseudonymise": ["token"]},
                    }
                }
            },
        }
    ).dataset("d")  # fmt: skip
    bare = pseudonymise(frame.select("record_id", "ni_number"), plain, KEY)
    assert not [c for c in bare.columns if "head" in c or "tail" in c]


def test_domain_is_the_column_name_not_the_dataset() -> None:
    hb = SPEC.dataset("housing_benefit")
    frame = payroll_frame(PEOPLE).with_columns(
        pl.lit("1").alias("uprn"),
        pl.lit(None, pl.Date).alias("claim_start_date"),
        pl.lit(None, pl.Date).alias("claim_end_date"),
    )
    pay = pseudonymise(frame, PAYROLL, KEY)
    ben = pseudonymise(frame, hb, KEY)
    for col in ("surname__tok", "forenames__bf3", "date_of_birth__dmswap", "ni_number__tok"):
        assert pay.get_column(col).equals(ben.get_column(col))


def test_date_parts_and_the_day_month_swap() -> None:
    dobs = [date(1975, 6, 2), date(1975, 2, 6), date(1980, 1, 31), date(1990, 11, 11)]
    people = [(*PEOPLE[0][:2], d, *PEOPLE[0][3:]) for d in dobs]
    out = pseudonymise(payroll_frame(people), PAYROLL, KEY)
    tok, swap = out.get_column("date_of_birth__tok"), out.get_column("date_of_birth__dmswap")
    assert swap[0] == tok[1] and swap[1] == tok[0]
    assert swap[2] is None  # day 31 cannot be a month
    assert swap[3] is None  # 11/11 swapped is itself
    assert out.get_column("date_of_birth__year").to_list() == [1975, 1975, 1980, 1990]
    assert out.schema["date_of_birth__year"] == pl.Int16
    dm, my, dy = (out.get_column(f"date_of_birth__{p}") for p in ("dm", "my", "dy"))
    assert dm[0] != dm[1] and my[0] != my[1] and dy[0] != dy[1]
    key = field_key(KEY, "date_of_birth")
    assert tok[0] == reference_token(key, "1975-06-02")
    assert my[0] == reference_token(field_key(KEY, "date_of_birth__my"), "1975-06")
    assert dm[0] == reference_token(field_key(KEY, "date_of_birth__dm"), "02-06")
    assert dy[0] == reference_token(field_key(KEY, "date_of_birth__dy"), "1975--02")
    # no lone day, month or year token leaves: counting would read them back
    assert not {"date_of_birth__y", "date_of_birth__m", "date_of_birth__d"} & set(out.columns)


def test_a_damaged_date_keeps_its_possible_parts() -> None:
    """1958-07-71 and 1958-13-04 are no dates, but their year and month (day) are evidence."""
    frame = payroll_frame([(*PEOPLE[0][:2], None, *PEOPLE[0][3:])] * 3).with_columns(
        pl.Series("date_of_birth__py", [1958, 1958, None], dtype=pl.Int16),
        pl.Series("date_of_birth__pm", [7, None, None], dtype=pl.Int16),
        pl.Series("date_of_birth__pd", [None, 4, None], dtype=pl.Int16),
    )
    out = pseudonymise(frame, PAYROLL, KEY)
    good = pseudonymise(
        payroll_frame(
            [(*PEOPLE[0][:2], d, *PEOPLE[0][3:]) for d in (date(1958, 7, 17), date(1958, 3, 4))]
        ),
        PAYROLL,
        KEY,
    )
    assert out.get_column("date_of_birth__tok").null_count() == 3
    assert out["date_of_birth__my"][0] == good["date_of_birth__my"][0]
    assert out["date_of_birth__dy"][1] == good["date_of_birth__dy"][1]
    assert out["date_of_birth__dm"].null_count() == 3
    assert out["date_of_birth__year"].to_list() == [1958, 1958, None]
    assert out.row(2, named=True)["date_of_birth__my"] is None


def test_phonetic_codes_of_the_first_word() -> None:
    people = [(s, *PEOPLE[0][1:]) for s in ("SMITH", "SMYTH", "SMITH JONES", "JONES")]
    frame = payroll_frame(people)
    out = pseudonymise(frame, PAYROLL, KEY)
    sdx = out.get_column("surname__soundex")
    assert sdx[0] == sdx[1] == sdx[2] != sdx[3]
    assert out.get_column("surname__metaphone")[0] == out.get_column("surname__metaphone")[2]
    # Without the __first extra the first word is taken from the value itself.
    derived = pseudonymise(frame.drop("surname__first"), PAYROLL, KEY)
    assert derived.equals(out)


def test_a_date_column_with_token_gets_one_token_in_the_date_domain() -> None:
    spec = parse_spec(
        {
            "datasets": {
                "x": {
                    "columns": {
                        "record_id": {
                            "type": "string",
                            "required": True,
                            "normaliser": "record_id",
                            "pseudonymise": ["clear"],
                        },
                        "date_of_birth": {
                            "type": "date",
                            "normaliser": "date",
                            "pseudonymise": ["token"],
                        },
                    }
                }
            }
        }
    ).dataset("x")
    frame = pl.DataFrame({"record_id": ["1", "2"], "date_of_birth": [date(1975, 6, 2), None]})
    out = pseudonymise(frame, spec, KEY)
    assert out.columns == ["record_id", "date_of_birth__tok"]
    parts = pseudonymise(
        payroll_frame([(*PEOPLE[0][:2], date(1975, 6, 2), *PEOPLE[0][3:])]), PAYROLL, KEY
    )
    assert out.get_column("date_of_birth__tok").to_list() == [parts["date_of_birth__tok"][0], None]


# --------------------------------------------------------------------------------------------
# Schema, minimum data, determinism
# --------------------------------------------------------------------------------------------


def random_value(rng: random.Random, normaliser: str) -> str:
    upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    word = lambda: "".join(rng.choices(upper, k=rng.randint(2, 9)))  # noqa: E731
    if normaliser == "name":
        return " ".join(word() for _ in range(rng.randint(1, 3)))
    if normaliser == "postcode":
        return f"{word()[:2]}{rng.randint(1, 20)} {rng.randint(0, 9)}{word()[:2]}"
    if normaliser == "address":
        return f"{rng.randint(1, 300)} {word()} ROAD {word()}"
    if normaliser in ("ni_number",):
        return f"{word()[:2]}{rng.randint(0, 999999):06d}"
    digits = {"sort_code": 6, "account_number": 8, "uprn": 12}
    if normaliser in digits:
        return "".join(rng.choices("0123456789", k=digits[normaliser]))
    return word()


def random_frame(dataset: DatasetSpec, rows: int, seed: int) -> pl.DataFrame:
    """A normalised frame for any dataset of the spec, with extras and ~20% nulls."""
    rng = random.Random(seed)
    data: dict[str, pl.Series] = {}
    for col in dataset.columns:
        nullable = not col.required

        def maybe(value: object, nullable: bool = nullable) -> object:
            return None if nullable and rng.random() < 0.2 else value

        if col.type == "date":
            values = [
                maybe(date(1940, 1, 1) + timedelta(days=rng.randint(0, 30000))) for _ in range(rows)
            ]
            data[col.name] = pl.Series(values, dtype=pl.Date)
        elif col.type == "number":
            data[col.name] = pl.Series(
                [maybe(rng.uniform(-1e4, 1e4)) for _ in range(rows)], dtype=pl.Float64
            )
        else:
            values = [maybe(random_value(rng, col.normaliser)) for _ in range(rows)]
            data[col.name] = pl.Series(values, dtype=pl.String)
    frame = pl.DataFrame(data).with_columns(pl.lit("IGNORED").alias("unlisted"))
    for col in dataset.columns:
        if col.normaliser == "name":
            frame = frame.with_columns(name_extras(col.name))
        elif col.normaliser == "postcode":
            frame = frame.with_columns(postcode_extras(col.name))
    return frame


@pytest.mark.parametrize("name", sorted(SPEC.datasets))
def test_schema_equals_output_columns_for_every_dataset(name: str) -> None:
    dataset = SPEC.dataset(name)
    for rows, bloom in ((40, SMALL), (40, BloomParams()), (0, BloomParams())):
        frame = random_frame(dataset, rows, seed=len(name))
        out = pseudonymise(frame, dataset, KEY, bloom, as_of=date(2026, 11, 1))
        expected = output_columns(dataset, bloom)
        assert out.schema == pl.Schema(expected)
        assert out.height == frame.height
    assert "unlisted" not in out.columns
    for col in dataset.columns:
        if col.withheld:
            assert not [c for c in out.columns if c == col.name or c.startswith(f"{col.name}__")]
    # Column order: spec order, then method order (electoral register: parts, then clear).
    if name == "electoral_register":
        assert list(expected)[-7:] == [
            "date_of_birth__tok",
            "date_of_birth__dm",
            "date_of_birth__my",
            "date_of_birth__dy",
            "date_of_birth__dmswap",
            "date_of_birth__year",
            "date_of_birth__adult_from",
        ]


def test_adult_month_follows_the_period_not_the_day_it_runs() -> None:
    """An attainer's first month of being 18 is sent against the first day of the period the
    submission is for: the same extract prepared for two periods sends different things,
    whatever today is, and no period at all is refused rather than read as today."""
    register = SPEC.dataset("electoral_register")
    frame = random_frame(register, 5, seed=5).with_columns(
        pl.Series(
            "date_of_birth",
            [date(2009, 3, 20), date(1980, 1, 1), None, date(2009, 4, 1), date(2008, 2, 29)],
            dtype=pl.Date,
        )  # turns 18 on 2027-03-20; an adult; no date shown; on 2027-04-01; on 2026-03-01
    )
    months = {
        period: pseudonymise(frame, register, KEY, SMALL, as_of=period_start(period))[
            "date_of_birth__adult_from"
        ].to_list()
        for period in ("2025-11", "2027-03-20", "2027-04")
    }
    # 18 all through April 2027; 18 on 1 April itself; 29 February's 18th birthday is 1 March
    assert months["2025-11"] == [date(2027, 4, 1), None, None, date(2027, 4, 1), date(2026, 3, 1)]
    assert months["2027-03-20"] == [date(2027, 4, 1), None, None, date(2027, 4, 1), None]
    assert months["2027-04"] == [None] * 5  # 18 on or before 2027-04-01: nothing sent
    assert period_start("2027-03-20") == date(2027, 3, 1)
    with pytest.raises(ValueError, match="adult_month.*period"):
        pseudonymise(frame, register, KEY, SMALL)
    pseudonymise(payroll_frame(PEOPLE), PAYROLL, KEY)  # nothing derived from a date: no need


def test_adult_month_reads_a_damaged_date_of_birth_as_late_as_its_parts_allow() -> None:
    """An impossible date of birth keeps its possible parts, and the attainer's month is read
    from the latest real date they allow: born in 2009 (month 13) is a minor on any 2026
    cycle date, never "no date, so an adult"; born in February 2008 on the 31st is 18 by
    March 2026 whatever the day. No year: nothing to read, as for a missing date."""
    register = SPEC.dataset("electoral_register")
    raw = ["2009-13-30", "2008-02-31", "2008-11-31", "0000-13-45", "2009-05-03"]
    parsed = pl.DataFrame({"raw": raw}).select(
        **{
            f"date_of_birth{'' if k == 'value' else '__' + k}": e
            for k, e in (
                ("value", normalise_column(pl.col("raw"), "date").value),
                *normalise_column(pl.col("raw"), "date").extras.items(),
            )
        }
    )
    frame = random_frame(register, len(raw), seed=9).drop("date_of_birth").hstack(parsed)
    got = pseudonymise(frame, register, KEY, SMALL, as_of=date(2026, 11, 1))
    # 2009-12-30 -> 18 on 2027-12-30; 2008-02-29 -> 1 March 2026, an adult (nothing sent);
    # 2008-11-30 -> 18 on 2026-11-30; no year; a real date as before
    assert got["date_of_birth__adult_from"].to_list() == [
        date(2028, 1, 1),
        None,
        date(2026, 12, 1),
        None,
        date(2027, 6, 1),
    ]
    assert parsed["date_of_birth"].null_count() == 4  # the damaged dates are still rejected


def test_output_columns_for_payroll() -> None:
    cols = output_columns(PAYROLL, SMALL)
    slips = [f"surname__slip{i}__tok" for i in range(1, 11)]
    assert [c for c in cols if c.startswith("surname__slip")] == slips
    cols = {c: t for c, t in cols.items() if c not in slips}
    assert list(cols)[:11] == [  # the surname sends only the extras it lists
        "record_id",
        "surname__tok",
        "surname__first__tok",
        "surname__last__tok",
        "surname__letters__tok",
        "surname__bf0",
        "surname__bf1",
        "surname__bfn",
        "surname__metaphone",
        "surname__nysiis",
        "surname__soundex",
    ]
    assert [c for c in cols if c.startswith("address")] == [
        "address__tok",
        "address__line__tok",
        "address__number__tok",
        "address__street__tok",
        "address__bf0",
        "address__bf1",
        "address__bfn",
    ]
    assert [c for c in cols if c.startswith("postcode")] == [
        "postcode__tok",
        "postcode__sector__tok",
        "postcode__district__tok",
    ]
    assert cols["surname__bfn"] == pl.UInt16 and cols["job_title"] == pl.String
    assert cols["start_date"] == pl.Date and cols["record_id"] == pl.String


def identifier_strings(frame: pl.DataFrame) -> set[str]:
    """Every raw identifier string in a payroll frame (and the UK spelling of its dates)."""
    columns = ["surname", "forenames", "ni_number", "address", "postcode", "sort_code"]
    columns += ["account_number", "surname__first", "surname__last", "forenames__first"]
    columns += ["forenames__last", "postcode__sector", "postcode__district"]
    found = {v for c in columns for v in frame.get_column(c).drop_nulls().to_list()}
    for d in frame.get_column("date_of_birth").drop_nulls().to_list():
        found |= {d.isoformat(), d.strftime("%d/%m/%Y"), d.strftime("%Y%m%d")}
    return found


@pytest.mark.parametrize("compression", ["uncompressed", "zstd"])
def test_no_clear_identifier_leaves(compression: str) -> None:
    frame = payroll_frame(PEOPLE)
    out = pseudonymise(frame, PAYROLL, KEY)
    secrets = identifier_strings(frame) | {"SECRET NOTE"}
    assert {c for c, t in out.schema.items() if t == pl.String} == {"record_id", "job_title"}
    for col, dtype in out.schema.items():
        if dtype == pl.String:
            for value in out.get_column(col).drop_nulls():
                assert not any(s in value for s in secrets), (col, value)
    assert not [c for c, t in out.schema.items() if t == pl.Date and c == "date_of_birth"]
    buffer = io.BytesIO()
    out.write_parquet(buffer, compression=compression)
    raw = buffer.getvalue()
    leaked = sorted(s for s in secrets if len(s) >= 4 and s.encode() in raw)
    assert not leaked


def test_deterministic_and_row_order_preserved() -> None:
    frame = random_frame(PAYROLL, 200, seed=3)
    first = pseudonymise(frame, PAYROLL, KEY, SMALL)
    assert first.equals(pseudonymise(frame, PAYROLL, KEY, SMALL))
    order = list(range(frame.height))
    random.Random(1).shuffle(order)
    shuffled = pseudonymise(frame[order], PAYROLL, KEY, SMALL)
    assert shuffled.equals(first[order])


def test_null_in_null_out() -> None:
    frame = random_frame(PAYROLL, 3, seed=9)
    optional = [c.name for c in PAYROLL.columns if not c.required]
    frame = frame.with_columns(pl.lit(None, frame.schema[c]).alias(c) for c in optional)
    frame = frame.with_columns(
        pl.lit(None, pl.String).alias(c) for c in ("postcode__sector", "postcode__district")
    )
    out = pseudonymise(frame, PAYROLL, KEY, SMALL)
    # a name whose first word is no known given name (random text) has no given token
    nulls = [
        c
        for c in out.columns
        if out.get_column(c).null_count() == out.height
        and not c.endswith(("__given__tok", "__given_near__tok"))
        and "__slip" not in c  # a short surname leaves its last slips empty
    ]
    produced_by_optional = [
        c for c in out.columns if any(c == o or c.startswith(f"{o}__") for o in optional)
    ]
    assert sorted(nulls) == sorted(produced_by_optional)
    # All-null columns of Null dtype (as a reader may give) behave the same.
    untyped = frame.with_columns(pl.lit(None).alias(c) for c in optional)
    assert pseudonymise(untyped, PAYROLL, KEY, SMALL).equals(out)


def test_bad_input_is_refused_with_the_column_named() -> None:
    frame = payroll_frame(PEOPLE)
    with pytest.raises(ValueError, match="ni_number"):
        pseudonymise(frame.drop("ni_number"), PAYROLL, KEY)
    with pytest.raises(TypeError, match="date_of_birth"):
        pseudonymise(frame.with_columns(pl.col("date_of_birth").cast(pl.String)), PAYROLL, KEY)
    with pytest.raises(ValueError, match="32 bytes"):
        pseudonymise(frame, PAYROLL, KEY[:31])
    # A withheld column may be absent: it never leaves anyway.
    disregards = SPEC.dataset("council_tax_disregards")
    rf = random_frame(disregards, 5, seed=2)
    assert pseudonymise(rf.drop("disregard_reason"), disregards, KEY, SMALL).equals(
        pseudonymise(rf, disregards, KEY, SMALL)
    )


OPTIONAL = [c.name for c in PAYROLL.columns if not c.required]


@settings(max_examples=25, deadline=None)
@given(
    mask=st.lists(
        st.lists(st.booleans(), min_size=len(OPTIONAL), max_size=len(OPTIONAL)),
        min_size=1,
        max_size=8,
    )
)
def test_a_missing_value_never_becomes_a_token(mask: list[list[bool]]) -> None:
    frame = random_frame(PAYROLL, len(mask), seed=len(mask))
    blank = pl.DataFrame(mask, schema=OPTIONAL, orient="row")
    frame = frame.with_columns(
        pl.when(blank.get_column(c)).then(None).otherwise(pl.col(c)).alias(c) for c in OPTIONAL
    )
    out = pseudonymise(frame, PAYROLL, KEY, SMALL)
    for col in OPTIONAL:
        derived = [c for c in out.columns if c == col or c.startswith(f"{col}__")]
        missing = frame.get_column(col).is_null()
        for c in derived:
            assert out.filter(missing).get_column(c).null_count() == int(missing.sum()), c


# --------------------------------------------------------------------------------------------
# Every way of working a column gives the same output
# --------------------------------------------------------------------------------------------


def repeated_frame(seed: int) -> pl.DataFrame:
    """A payroll frame with repeats (as real extracts have), nulls and extras as the frame holds."""
    base = random_frame(PAYROLL, 40, seed=seed)
    return pl.concat([base, base.sample(120, with_replacement=True, seed=seed)])


@pytest.mark.parametrize("seed", [1, 2])
def test_per_row_and_per_distinct_work_agree(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether a column is worked per distinct value and gathered back or row by row (the
    choice follows its share of distinct values) changes the speed, never a token."""
    import fraudmatch.council.pseudonymise as ps

    frame = repeated_frame(seed)
    monkeypatch.setattr(ps, "_PER_ROW_SHARE", 2.0)  # always per distinct value
    distinct = pseudonymise(frame, PAYROLL, KEY, SMALL)
    monkeypatch.setattr(ps, "_PER_ROW_SHARE", -1.0)  # always row by row
    per_row = pseudonymise(frame, PAYROLL, KEY, SMALL)
    assert distinct.equals(per_row)
    one_by_one = pl.concat([pseudonymise(frame[i : i + 1], PAYROLL, KEY, SMALL) for i in (0, 7)])
    assert per_row[[0, 7]].equals(one_by_one)


def test_extras_that_are_not_a_function_of_the_value_are_keyed_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A frame may hold anything in an extra: rows with the same value but another first
    word must each get the tokens of their own extras."""
    import fraudmatch.council.pseudonymise as ps

    frame = payroll_frame([PEOPLE[0], PEOPLE[0], PEOPLE[1]])
    frame = frame.with_columns(
        pl.Series("surname__first", ["OBRIEN", "OTHER", None]),
        pl.Series("surname__last", ["SMITH", "SMITH", "WOJCIECHOWSKA"]),
    )
    monkeypatch.setattr(ps, "_PER_ROW_SHARE", 2.0)
    out = pseudonymise(frame, PAYROLL, KEY, SMALL)
    first = out.get_column("surname__first__tok")
    sk = field_key(KEY, "surname")
    assert first.to_list() == [reference_token(sk, "OBRIEN"), reference_token(sk, "OTHER"), None]
    assert out["surname__tok"][0] == out["surname__tok"][1]
    assert out["surname__metaphone"][0] != out["surname__metaphone"][1]
    monkeypatch.setattr(ps, "_PER_ROW_SHARE", -1.0)
    assert pseudonymise(frame, PAYROLL, KEY, SMALL).equals(out)


def test_swap_tokens_let_transposed_names_meet_and_nothing_else() -> None:
    """WINTER | RITA (surname | forenames) and RITA | WINTER meet on the swap extras, which
    both name columns key in one domain; the columns' own tokens never meet across them."""
    rows = {
        "record_id": ["1", "2"],
        "surname": ["WINTER", "RITA"],
        "forenames": ["RITA MAY", "WINTER"],
        "date_of_birth": ["1943-11-07", "1943-11-07"],
        "date_of_death": ["2025-01-02", "2025-01-02"],
    }
    out = prepare_frame(pl.DataFrame(rows), "deceased", key=KEY, period="2026-11").frame
    a, b = out.row(0, named=True), out.row(1, named=True)
    assert a["surname__swap_first__tok"] == b["forenames__swap_first__tok"]  # WINTER
    assert a["forenames__swap_first__tok"] == b["surname__swap__tok"]  # RITA
    assert a["surname__swap__tok"] == b["forenames__swap__tok"]  # WINTER, whole
    assert a["forenames__swap__tok"] != b["surname__swap__tok"]  # RITA MAY is not RITA
    assert a["surname__tok"] != b["forenames__tok"]  # the columns' own domains stay apart
    assert a["surname__swap__tok"] != a["surname__tok"]
    # only where a dataset lists them: payroll sends no swap token
    assert not [c for c in output_columns(PAYROLL) if "__swap" in c]


def test_two_initials_are_the_first_two_words_initials_in_the_name_domain() -> None:
    """MEI LING JING's first two initials meet MEI LING's initials; JONATHAN MARK's never
    meet JONATHAN JEREMY's; a single word has none."""
    rows = {
        "record_id": ["1", "2", "3", "4", "5"],
        "surname": ["YANG"] * 5,
        "forenames": ["MEI LING JING", "MEI LING", "JONATHAN MARK", "JONATHAN JEREMY", "MEI"],
        "date_of_birth": ["1942-05-28"] * 5,
        "date_of_death": ["2025-01-02"] * 5,
    }
    out = prepare_frame(pl.DataFrame(rows), "deceased", key=KEY, period="2026-11").frame
    two, whole = out["forenames__two_initials__tok"], out["forenames__initials__tok"]
    assert two[0] == two[1] == whole[1] != whole[0]
    assert two[2] != two[3]
    assert two[4] is None and whole[4] is None
