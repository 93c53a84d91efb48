"""Normalisers a partnership declares: identifiers with a pattern and check digit, postal
codes and phone numbers of a country. Pinned examples, then properties for any input."""

from __future__ import annotations

import copy

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fraudmatch.spec.normalisers import OptionError, build_normaliser
from fraudmatch.spec.normalisers.international import PHONE_PLANS, POSTAL_CODES
from fraudmatch.spec.specs import SpecError, parse_spec

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(values: list[str | None], kind: str, **options) -> list[tuple[str | None, str | None]]:
    norm = build_normaliser(kind, options)(pl.col("raw"))
    frame = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    out = frame.select(norm.state.alias("s")).select(
        pl.col("s").struct.field("_value").alias("v"), pl.col("s").struct.field("_error")
    )
    return list(out.iter_rows())


# --------------------------------------------------------------------------- pinned


def test_an_nhs_number_with_mod11() -> None:
    got = run(["943 476 5919", "943-476-5918", "9434765910", None, "  "], "identifier",
              pattern="[0-9]{10}", check_digit="mod11")  # fmt: skip
    assert got == [
        ("9434765919", None),
        (None, "identifier fails its mod11 check digit"),
        (None, "identifier fails its mod11 check digit"),
        (None, None),
        (None, None),
    ]


def test_a_permit_number_with_letters_case_and_luhn() -> None:
    got = run(["rp 7992-7398-713", "RP79927398710", "XX79927398713", "//"], "identifier",
              pattern="RP[0-9]{11}", check_digit="luhn")  # fmt: skip
    assert got == [
        ("RP79927398713", None),
        (None, "identifier fails its luhn check digit"),
        (None, "identifier does not match the declared pattern"),
        (None, "no characters left after removing separators"),
    ]


def test_case_kept_and_own_separators() -> None:
    got = run(["ab_12", "AB 12"], "identifier", pattern="[a-z]{2}[0-9]{2}", case="keep",
              separators="_")  # fmt: skip
    assert got == [("ab12", None), (None, "identifier does not match the declared pattern")]


@pytest.mark.parametrize(
    ("country", "raw", "value"),
    [
        ("NL", "1234ab", "1234 AB"),
        ("IE", "d02 x285", "D02 X285"),
        ("CA", "k1a0b1", "K1A 0B1"),
        ("PL", "00950", "00-950"),
        ("US", "20500-0003", "20500"),
        ("GB", "sw1a1aa", "SW1A 1AA"),
        ("DE", "10117", "10117"),
    ],
)
def test_postal_codes_in_their_countrys_form(country: str, raw: str, value: str) -> None:
    assert run([raw], "postal_code", country=country) == [(value, None)]


def test_a_postal_code_of_another_shape_is_rejected_with_the_country() -> None:
    assert run(["SW1A 1AA"], "postal_code", country="NL") == [(None, "invalid postal code for NL")]


def test_phone_numbers_become_e164() -> None:
    raw = ["01632 960001", "+44 (0)1632 960001", "0044 1632-960001", "+33 1 23 45 67 89"]
    assert [v for v, _ in run(raw, "phone", country="GB")] == [
        "+441632960001", "+441632960001", "+441632960001", "+33123456789",
    ]  # fmt: skip
    assert run(["(202) 555-0143", "1 202 555 0143"], "phone", country="US") == [
        ("+12025550143", None),
        ("+12025550143", None),
    ]
    assert run(["123", "0800 FLOWERS"], "phone", country="GB") == [
        (None, "phone number has the wrong number of digits"),
        (None, "phone number has letters or symbols"),
    ]


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("kind", "options", "key", "message"),
    [
        ("identifier", {}, "pattern", "missing"),
        ("identifier", {"pattern": "[0-9"}, "pattern", "does not compile"),
        ("identifier", {"pattern": "(?<=A)1"}, "pattern", "look-around"),
        ("identifier", {"pattern": "A", "check_digit": "crc"}, "check_digit", "luhn, mod11"),
        ("identifier", {"pattern": "A", "case": "title"}, "case", "upper, lower, keep"),
        ("identifier", {"pattern": "A", "patern": "B"}, "patern", "unknown option"),
        ("postal_code", {"country": "XX"}, "country", "ISO 3166"),
        ("phone", {}, "country", "expected one of"),
        ("name", {"pattern": "A"}, "pattern", "takes no options"),
    ],
)
def test_bad_options_name_the_option(kind: str, options: dict, key: str, message: str) -> None:
    with pytest.raises(OptionError, match=message) as info:
        build_normaliser(kind, options)
    assert info.value.key == key


def spec_with(normaliser: object) -> dict:
    rid = {"type": "string", "required": True, "normaliser": "record_id", "pseudonymise": ["clear"]}
    column = {"type": "string", "normaliser": normaliser, "pseudonymise": ["token"]}
    return {"datasets": {"permits": {"columns": {"record_id": rid, "permit_number": column}}}}


def test_a_pattern_that_does_not_compile_names_the_file_and_column() -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(spec_with({"kind": "identifier", "pattern": "RP[0-9"}), source="p/spec.yaml")
    message = str(info.value)
    assert message.startswith(
        "p/spec.yaml: datasets.permits.columns.permit_number.normaliser.pattern: "
        "the pattern 'RP[0-9' does not compile"
    )


def test_the_declared_options_are_part_of_the_columns_meaning() -> None:
    declared = {"kind": "identifier", "pattern": "RP[0-9]{7}", "check_digit": "luhn"}
    spec = parse_spec(spec_with(declared))
    column = spec.dataset("permits").column("permit_number")
    assert (column.normaliser, column.options_dict) == (
        "identifier",
        {"pattern": "RP[0-9]{7}", "check_digit": "luhn"},
    )
    other = copy.deepcopy(declared)
    other["check_digit"] = "mod11"
    assert parse_spec(spec_with(other)).fingerprint != spec.fingerprint
    with pytest.raises(SpecError, match=r"permit_number.normaliser.kind: missing"):
        parse_spec(spec_with({"pattern": "A"}))


# --------------------------------------------------------------------------- properties


def luhn_digit(payload: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # doubled once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def mod11_digit(payload: str) -> str | None:
    total = sum(int(ch) * (i + 2) for i, ch in enumerate(reversed(payload)))
    check = (11 - total % 11) % 11
    return None if check == 10 else str(check)


PAYLOAD = st.text(alphabet="0123456789", min_size=1, max_size=15)


@PROPERTY
@given(PAYLOAD, st.sampled_from(["luhn", "mod11"]), st.data())
def test_a_valid_number_passes_and_any_one_digit_changed_fails(payload, scheme, data) -> None:
    if scheme == "mod11":
        payload = payload[:9]  # weight 11 is 0 mod 11: mod 11 guards numbers up to 10 digits
    check = luhn_digit(payload) if scheme == "luhn" else mod11_digit(payload)
    if check is None:
        return  # mod 11 never issues a number whose check would be 10
    number = payload + check
    assert run([number], "identifier", pattern="[0-9]+", check_digit=scheme) == [(number, None)]
    i = data.draw(st.integers(0, len(number) - 1))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != number[i]]))
    changed = number[:i] + new + number[i + 1 :]
    assert run([changed], "identifier", pattern="[0-9]+", check_digit=scheme) == [
        (None, f"identifier fails its {scheme} check digit")
    ]


CELL = st.one_of(
    st.none(), st.text(max_size=20), st.from_regex(r"[+0-9 ()-]{0,18}", fullmatch=True)
)
DECLARED = [
    ("identifier", {"pattern": "[A-Z]{0,2}[0-9]{2,10}"}),
    ("identifier", {"pattern": "[0-9]+", "check_digit": "luhn"}),
    *[("postal_code", {"country": c}) for c in sorted(POSTAL_CODES)],
    *[("phone", {"country": c}) for c in sorted(PHONE_PLANS)],
]


@PROPERTY
@given(st.lists(CELL, max_size=12), st.sampled_from(DECLARED))
@example(["\x1f", "\u2028"], DECLARED[0])  # blank to Python, not to the normalisers, and back
def test_idempotent_and_a_value_xor_a_reason(cells, declared) -> None:
    kind, options = declared
    first = run(cells, kind, **options)
    for (value, error), cell in zip(first, cells, strict=True):
        assert value is None or error is None
        # blank as the normalisers judge it (regex \s: Unicode White_Space, which, unlike
        # Python's str.strip, leaves the control characters \x1c-\x1f alone)
        blank = cell is None or all(c.isspace() and c not in "\x1c\x1d\x1e\x1f" for c in cell)
        assert not (blank and (value or error))
        if error is not None:
            assert cell not in error or len(cell) < 3  # a reason never quotes the value
    again = run([v for v, _ in first], kind, **options)
    assert [v for v, _ in again] == [v for v, _ in first]
    assert all(e is None for v, e in again if v is not None)


@PROPERTY
@given(
    st.from_regex(r"[1-9][0-9]{9}", fullmatch=True),
    st.sampled_from(["0", "+44", "0044", "+44 (0)"]),
)
def test_a_uk_number_in_any_written_form_is_one_value(number, prefix) -> None:
    spaced = " ".join([number[:4], number[4:]])
    [(value, error)] = run([prefix + spaced], "phone", country="GB")
    assert (value, error) == ("+44" + number, None)
