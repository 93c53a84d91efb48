"""Every comparison level, one table row per level (null included)."""

from __future__ import annotations

import zlib
from datetime import date

import polars as pl
import pytest

from fraudmatch.matching.compare import Comparer, label_expr
from fraudmatch.matching.rules import Comparison, RuleError, parse_rule
from fraudmatch.spec.bloom import BloomParams, bloom_encode

KEY = b"k" * 32
PARAMS = BloomParams()


def comparison(spec: dict) -> Comparison:
    rule = {
        "name": "t",
        "description": "test",
        "risk": "low",
        "dataset": "d",
        "blocking": [{"name": "b", "keys": "x"}],
        "comparisons": [{"name": "c", **spec}],
        "scoring": {"model": "deterministic", "match_when": [{"c": "else"}]},
    }
    return parse_rule(rule).comparisons[0]


def tok(value) -> int | None:
    return None if value is None else zlib.crc32(str(value).encode()) + 1


def run(comp: Comparison, left: pl.DataFrame, right: pl.DataFrame) -> list[tuple[int, str]]:
    """Compare row i of left with row i of right; (gamma, label) per row."""
    n = left.height
    for frame in (left, right):
        frame.insert_column(0, pl.Series("__row", range(n), dtype=pl.UInt32))
    pairs = pl.DataFrame(
        {"li": range(n), "ri": range(n)}, schema={"li": pl.UInt32, "ri": pl.UInt32}
    )
    out = Comparer([comp], left, right, n_words=PARAMS.words).gammas(pairs)
    out = out.with_columns(label_expr(comp))
    return list(zip(out["gamma_c"].to_list(), out["level_c"].to_list(), strict=True))


def token_frames(cases: list[tuple], cols: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    left = pl.DataFrame(
        {c: [tok(case[0][i]) for case in cases] for i, c in enumerate(cols)},
        schema=dict.fromkeys(cols, pl.UInt64),
    )
    right = pl.DataFrame(
        {c: [tok(case[1][i]) for case in cases] for i, c in enumerate(cols)},
        schema=dict.fromkeys(cols, pl.UInt64),
    )
    return left, right


def test_exact_token_levels() -> None:
    cases = [
        (("A",), ("A",), 1, "exact"),
        (("A",), ("B",), 0, "else"),
        (("A",), (None,), -1, "null"),
    ]
    left, right = token_frames(cases, ["ni__tok"])
    got = run(comparison({"type": "exact", "column": "ni__tok"}), left, right)
    assert got == [(c[2], c[3]) for c in cases]


def test_exact_with_slips_reads_one_half_agreeing_as_no_evidence() -> None:
    """An NI number one character apart (one half agrees) is null, like one left out;
    numbers that differ in both halves are two people's (else)."""
    cases = [
        (("AB123456", "AB12", "3456"), ("AB123456", "AB12", "3456"), 1, "exact"),
        (("AB123456", "AB12", "3456"), ("AB123486", "AB12", "3486"), -1, "null"),
        (("AB123456", "AB12", "3456"), ("AB193456", "AB19", "3456"), -1, "null"),
        (("AB123456", "AB12", "3456"), ("CE654321", "CE65", "4321"), 0, "else"),
        (("AB123456", "AB12", "3456"), (None, None, None), -1, "null"),
    ]
    cols = ["ni__tok", "ni__head__tok", "ni__tail__tok"]
    left, right = token_frames(cases, cols)
    spec = {"type": "exact", "column": "ni__tok", "slips": ["ni__head__tok", "ni__tail__tok"]}
    comp = comparison(spec)
    assert [r.left for r in comp.slips] == cols[1:]
    assert run(comp, left, right) == [(c[2], c[3]) for c in cases]
    with pytest.raises(RuleError, match="slips"):
        comparison({"type": "hierarchy", "levels": {"exact": "ni__tok"}, "slips": ["x"]})


def test_exact_with_placeholder_records_reads_a_shared_value_as_no_identifier() -> None:
    """An NI number five records of one council share (AB123456, written for an unknown
    number) identifies no one: null for a pair with a record showing it there, while the
    same value held by fewer records of another council still agrees."""
    values = [("a", "AB123456"), ("b", "AB123456"), ("b", "CE111111"), ("a", "JK222222")]
    pairs = [(0, 1), (1, 0), (2, 2), (3, 3), (3, 1)]
    rows = values + [("a", "AB123456")] * 4 + [("b", "CE111111")]
    frame = pl.DataFrame(
        {"__row": range(len(rows)), "partner": [p for p, _ in rows],
         "ni__tok": [tok(v) for _, v in rows]},
        schema={"__row": pl.UInt32, "partner": pl.String, "ni__tok": pl.UInt64},
    )  # fmt: skip
    comp = comparison({"type": "exact", "column": "ni__tok", "placeholder_records": 5})
    assert comp.placeholder_records == 5
    index = pl.DataFrame(
        {"li": [a for a, _ in pairs], "ri": [b for _, b in pairs]},
        schema={"li": pl.UInt32, "ri": pl.UInt32},
    )
    for left, right in ((frame, frame), (frame, frame.clone())):  # one dataset, or two
        out = Comparer([comp], left, right).gammas(index).with_columns(label_expr(comp))
        assert out["level_c"].to_list() == ["null", "null", "exact", "exact", "else"]
    with pytest.raises(RuleError, match="one column"):
        comparison({"type": "exact", "column": ["a", "b"], "placeholder_records": 5})


POSTCODE_CASES = [
    # (left pc, sector, district), (right ...), gamma, label
    (("LS1 1AA", "LS1 1", "LS1"), ("LS1 1AA", "LS1 1", "LS1"), 3, "exact"),
    (("LS1 1AA", "LS1 1", "LS1"), ("LS1 1AB", "LS1 1", "LS1"), 2, "sector"),
    (("LS1 1AA", "LS1 1", "LS1"), ("LS1 2AB", "LS1 2", "LS1"), 1, "district"),
    (("LS1 1AA", "LS1 1", "LS1"), ("M1 2AB", "M1 2", "M1"), 0, "else"),
    (("LS1 1AA", "LS1 1", "LS1"), (None, None, None), -1, "null"),
]


def test_hierarchy_levels() -> None:
    cols = ["postcode__tok", "postcode__sector__tok", "postcode__district__tok"]
    left, right = token_frames(POSTCODE_CASES, cols)
    comp = comparison(
        {"type": "hierarchy", "levels": {"exact": cols[0], "sector": cols[1], "district": cols[2]}}
    )
    assert run(comp, left, right) == [(c[2], c[3]) for c in POSTCODE_CASES]


def test_hierarchy_level_of_several_columns() -> None:
    cases = [
        (("12", "345"), ("12", "345"), 2, "account"),
        (("12", "345"), ("12", "999"), 1, "sort_code"),
        (("12", "345"), ("77", "345"), 0, "else"),
        ((None, None), ("77", "345"), -1, "null"),
    ]
    left, right = token_frames(cases, ["sc", "acc"])
    comp = comparison(
        {"type": "hierarchy", "levels": {"account": ["sc", "acc"], "sort_code": "sc"}}
    )
    assert run(comp, left, right) == [(c[2], c[3]) for c in cases]


_DOB_COLUMNS = ("dob__tok", "dob__dm", "dob__my", "dob__dy", "dob__dmswap", "dob__year")


def _date_parts(
    values: list[date | tuple[int | None, int | None, int | None] | None],
) -> pl.DataFrame:
    """Date-of-birth tokens as pseudonymise makes them; a tuple is a damaged date's parts."""

    def parts(d: date | tuple | None) -> dict:
        if d is None:
            return dict.fromkeys(_DOB_COLUMNS)
        real = isinstance(d, date)
        y, m, day = (d.year, d.month, d.day) if real else d
        return {
            "dob__tok": tok(d.isoformat()) if real else None,
            "dob__dm": tok(f"dm{day}-{m}") if day and m and (day <= 29 or m != 2) else None,
            "dob__my": tok(f"my{m}-{y}") if m and y else None,
            "dob__dy": tok(f"dy{day}-{y}") if day and y else None,
            "dob__dmswap": tok(f"{y}-{day:02d}-{m:02d}") if real and day <= 12 else None,
            "dob__year": y,
        }

    schema = {**dict.fromkeys(_DOB_COLUMNS, pl.UInt64), "dob__year": pl.Int16}
    return pl.DataFrame([parts(v) for v in values], schema=schema)


DOB_CASES = [
    (date(1980, 3, 7), date(1980, 3, 7), 4, "exact"),
    (date(1980, 3, 7), date(1980, 7, 3), 3, "day_month_swapped"),
    (date(1980, 3, 7), date(1980, 3, 8), 2, "one_part_differs"),
    (date(1980, 3, 7), date(1981, 3, 7), 2, "one_part_differs"),
    (date(1980, 3, 7), date(1980, 11, 7), 2, "one_part_differs"),
    (date(1980, 3, 7), date(1980, 11, 20), 1, "year_only"),
    (date(1980, 3, 7), date(1975, 11, 20), 0, "else"),
    (date(1980, 3, 7), None, -1, "null"),
    # damaged dates keep their possible parts: 1958-07-71 and 1958-13-04
    ((1958, 7, None), date(1958, 7, 17), 2, "one_part_differs"),
    ((1958, None, 4), date(1958, 3, 4), 2, "one_part_differs"),
    ((1958, 7, None), date(1958, 8, 17), 1, "year_only"),
    ((1958, 7, None), date(1985, 7, 17), 0, "else"),
]


def test_date_parts_levels() -> None:
    left = _date_parts([c[0] for c in DOB_CASES])
    right = _date_parts([c[1] for c in DOB_CASES])
    got = run(comparison({"type": "date_parts", "column": "dob"}), left, right)
    assert got == [(c[2], c[3]) for c in DOB_CASES]


def test_date_parts_subset_of_levels() -> None:
    left = _date_parts([c[0] for c in DOB_CASES])
    right = _date_parts([c[1] for c in DOB_CASES])
    comp = comparison({"type": "date_parts", "column": "dob", "levels": ["exact", "year_only"]})
    assert [g for g, _ in run(comp, left, right)] == [2, 1, 1, 0, 1, 1, 0, -1, 1, 1, 1, 0]


def _dates_with_partner(rows: list[tuple[str, date]]) -> pl.DataFrame:
    frame = _date_parts([d for _, d in rows])
    return frame.with_columns(pl.Series("partner", [p for p, _ in rows], dtype=pl.String))


def _spread_days(partner: str, n: int, year: int = 1960) -> list[tuple[str, date]]:
    """n ordinary birthdays spread over the year (none on 1 January)."""
    return [(partner, date(year + i % 40, 1 + i % 12, 2 + i * 7 % 27)) for i in range(n)]


def test_a_councils_placeholder_birthday_reads_as_day_month_unknown() -> None:
    """01/01 written for an unknown birthday (30 of one council's 430 records on each side,
    counted together) makes years that agree ``day_month_unknown``; a real 1 January
    (another council, two records), a placeholder in extracts too small to tell (8 and 8),
    or years that differ do not."""
    cases = [
        (("a", date(1970, 1, 1)), ("b", date(1970, 6, 18)), "day_month_unknown"),
        (("b", date(1970, 6, 18)), ("a", date(1970, 1, 1)), "day_month_unknown"),
        (("a", date(1970, 1, 1)), ("b", date(1975, 6, 18)), "else"),
        (("a", date(1970, 3, 7)), ("b", date(1970, 11, 20)), "year_only"),
        (("a", date(1970, 5, 5)), ("b", date(1970, 1, 1)), "year_only"),
        (("c", date(1970, 1, 1)), ("b", date(1970, 6, 18)), "year_only"),
        (("a", date(1970, 1, 1)), ("b", date(1970, 1, 1)), "exact"),
        (("a", date(1970, 1, 1)), ("b", date(1970, 1, 18)), "one_part_differs"),
    ]
    others = [
        *_spread_days("a", 400),
        *[("a", date(1950 + i, 1, 1)) for i in range(30)],
        *_spread_days("c", 20),
        *[("c", date(1950 + i, 1, 1)) for i in range(8)],
        *_spread_days("b", 400),
        *[("b", date(1950 + i, 1, 1)) for i in range(2)],
    ]
    left = _dates_with_partner([c[0] for c in cases] + others)
    right = _dates_with_partner([c[1] for c in cases] + others)
    for frame in (left, right):
        frame.insert_column(0, pl.Series("__row", range(frame.height), dtype=pl.UInt32))
    n = len(cases)
    pairs = pl.DataFrame(
        {"li": range(n), "ri": range(n)}, schema={"li": pl.UInt32, "ri": pl.UInt32}
    )
    comp = comparison({"type": "date_parts", "column": "dob", "placeholder": 2.5})
    assert "day_month_unknown" in comp.levels
    out = Comparer([comp], left, right).gammas(pairs).with_columns(label_expr(comp))
    assert out["level_c"].to_list() == [c[2] for c in cases]
    # without a placeholder the level does not exist, and naming it asks for one
    assert "day_month_unknown" not in comparison({"type": "date_parts", "column": "dob"}).levels
    with pytest.raises(RuleError, match="placeholder"):
        comparison({"type": "date_parts", "column": "dob", "levels": ["day_month_unknown"]})


BLOOM_CASES = [
    ("SMITH", "SMITH", 4, "exact"),
    ("JOHNSTONE", "JOHNSTON", 3, "high"),  # bigram Dice 0.84
    ("SMITH", "SMYTH", 2, "mid"),  # 0.67
    ("SMITH", "SMIHT", 1, "low"),  # 0.50
    ("SMITH", "JONES", 0, "else"),
    ("SMITH", None, -1, "null"),
    (None, None, -1, "null"),
]


def _bloom_frame(names: list[str | None], *, drop_token_row: int | None = None) -> pl.DataFrame:
    words = bloom_encode(pl.Series(names, dtype=pl.String), KEY, PARAMS)
    words = words.rename({f"w{i}": f"surname__bf{i}" for i in range(PARAMS.words)})
    words = words.rename({"n": "surname__bfn"})
    toks = pl.Series("surname__tok", [tok(n) for n in names], dtype=pl.UInt64)
    if drop_token_row is not None:
        toks = toks.scatter(drop_token_row, None)
    return words.with_columns(toks)


BLOOM_SPEC = {
    "type": "bloom",
    "column": "surname",
    "exact": "surname__tok",
    "thresholds": {"high": 0.8, "mid": 0.6, "low": 0.4},
}


def test_bloom_levels() -> None:
    left = _bloom_frame([c[0] for c in BLOOM_CASES])
    right = _bloom_frame([c[1] for c in BLOOM_CASES])
    assert run(comparison(BLOOM_SPEC), left, right) == [(c[2], c[3]) for c in BLOOM_CASES]


def test_bloom_without_token_falls_back_to_row_words() -> None:
    # row 2 (SMITH/SMYTH) loses its left token: Dice is then computed from the row's words
    left = _bloom_frame([c[0] for c in BLOOM_CASES], drop_token_row=2)
    right = _bloom_frame([c[1] for c in BLOOM_CASES])
    got = run(comparison(BLOOM_SPEC), left, right)
    assert got[2] == (2, "mid")


def test_bloom_without_exact_level() -> None:
    spec = {k: v for k, v in BLOOM_SPEC.items() if k != "exact"}
    left = _bloom_frame([c[0] for c in BLOOM_CASES])
    right = _bloom_frame([c[1] for c in BLOOM_CASES])
    got = run(comparison(spec), left, right)
    assert [g for g, _ in got] == [3, 3, 2, 1, 0, -1, -1]  # identical values: the top level


@pytest.mark.parametrize(
    ("spec", "lvals", "rvals", "expected"),
    [
        (
            {"type": "date_diff", "column": "d", "levels": {"same_day": 0, "week": 7, "month": 31}},
            [date(2026, 1, 1)] * 5,
            [date(2026, 1, 1), date(2025, 12, 25), date(2026, 1, 30), date(2026, 3, 1), None],
            [(3, "same_day"), (2, "week"), (1, "month"), (0, "else"), (-1, "null")],
        ),
        (
            {"type": "numeric", "column": "d", "levels": {"exact": 0, "close": 1.0}},
            [100.0, 100.0, 100.0, None],
            [100.0, 99.5, 102.0, 1.0],
            [(2, "exact"), (1, "close"), (0, "else"), (-1, "null")],
        ),
        (
            {"type": "string", "column": "d", "levels": {"exact": 0, "one": 1, "two": 2}},
            ["INV100", "INV100", "INV100", "INV100", None],
            ["INV100", "INV101", "INV122", "XYZ999", "INV100"],
            [(3, "exact"), (2, "one"), (1, "two"), (0, "else"), (-1, "null")],
        ),
        (
            {"type": "string", "column": "d", "metric": "ratio", "levels": {"high": 90, "mid": 70}},
            ["ACME SUPPLIES LTD", "ACME SUPPLIES LTD", "ACME SUPPLIES LTD", None],
            ["ACME SUPPLIES LTD.", "ACME SUPPLY LIMITED", "ZENITH", "X"],
            [(2, "high"), (1, "mid"), (0, "else"), (-1, "null")],
        ),
        (  # two neighbouring characters swapped is one slip to Damerau, two to Levenshtein
            {
                "type": "string",
                "column": "d",
                "metric": "damerau",
                "levels": {"exact": 0, "one": 1},
            },
            ["INV1023", "INV1023", "INV1023", "INV1023"],
            ["INV1023", "INV1032", "INV1024", "INV3021"],
            [(2, "exact"), (1, "one"), (1, "one"), (0, "else")],
        ),
        (
            {"type": "string", "column": "d", "levels": {"exact": 0, "one": 1}},
            ["INV1023"],
            ["INV1032"],
            [(0, "else")],
        ),
    ],
    ids=[
        "date_diff",
        "numeric",
        "string_levenshtein",
        "string_ratio",
        "string_damerau",
        "string_levenshtein_transposition",
    ],
)
def test_clear_value_levels(spec, lvals, rvals, expected) -> None:
    left = pl.DataFrame({"d": lvals})
    right = pl.DataFrame({"d": rvals})
    assert run(comparison(spec), left, right) == expected


def test_string_similarity_runs_on_unique_pairs() -> None:
    """10k pairs of 2 distinct value pairs: results are joined back row for row."""
    left = pl.DataFrame({"d": ["INV100", "INV100"] * 5000})
    right = pl.DataFrame({"d": ["INV101", "INV999"] * 5000})
    got = run(comparison({"type": "string", "column": "d", "levels": {"one": 1}}), left, right)
    assert got[:4] == [(1, "one"), (0, "else")] * 2 and len(got) == 10000


def test_term_frequency_of_right_token() -> None:
    cases = [(("A",), ("A",)), (("B",), ("B",)), (("C",), ("A",)), (("D",), ("A",))]
    left, right = token_frames(cases, ["s__tok"])
    comp = comparison({"type": "exact", "column": "s__tok", "tf_adjust": True})
    n = left.height
    for frame in (left, right):
        frame.insert_column(0, pl.Series("__row", range(n), dtype=pl.UInt32))
    pairs = pl.DataFrame(
        {"li": range(n), "ri": range(n)}, schema={"li": pl.UInt32, "ri": pl.UInt32}
    )
    out = Comparer([comp], left, right).gammas(pairs)
    assert out["tf_c"].to_list() == [0.75, 0.25, 0.75, 0.75]


def _forenames_frame(names: list[str | None]) -> pl.DataFrame:
    frame = _bloom_frame(names)
    first = [None if n is None else n.split()[0] for n in names]
    nick = {"JIMMY": "JAMES"}
    return frame.with_columns(
        pl.Series("first__tok", [tok(f) for f in first], dtype=pl.UInt64),
        pl.Series("initial__tok", [tok(f and f[0]) for f in first], dtype=pl.UInt64),
        pl.Series("formal__tok", [tok(f and nick.get(f, f)) for f in first], dtype=pl.UInt64),
    )


FORMS_SPEC = {
    **BLOOM_SPEC,
    "forms": {
        "short_form": ["formal__tok"],
        "initial": [
            {"left": "first__tok", "right": "initial__tok"},
            {"left": "initial__tok", "right": "first__tok"},
        ],
    },
}


def test_bloom_forms_sit_between_dice_and_else() -> None:
    """A short form or an initial is weak agreement (below every Dice level), not else."""
    cases = [
        ("SMITH", "SMITH", 6, "exact"),
        ("SMITH", "SMYTH", 4, "mid"),  # Dice levels shift above the two form levels
        ("SMITH", "SMIHT", 3, "low"),
        ("JAMES", "JIMMY", 2, "short_form"),
        ("J", "JAMES", 1, "initial"),
        ("JAMES", "J", 1, "initial"),
        ("JAMES", "PETER", 0, "else"),
        ("JAMES", None, -1, "null"),
    ]
    left = _forenames_frame([c[0] for c in cases])
    right = _forenames_frame([c[1] for c in cases])
    assert run(comparison(FORMS_SPEC), left, right) == [(c[2], c[3]) for c in cases]


def test_frequency_levels_say_how_common_the_shared_value_is() -> None:
    """Common: the value both hold is at least the share of the right side's records, and
    held by at least five other records; a rare value, two values or a missing one is not."""
    left_vals = ["SMITH", "RARE", "SMITH", None] + ["X"] * 16
    right_vals = ["SMITH", "RARE", "JONES", "SMITH"] + ["SMITH"] * 6 + ["Y"] * 10
    left = pl.DataFrame({"s__tok": [tok(v) for v in left_vals]}, schema={"s__tok": pl.UInt64})
    right = pl.DataFrame({"s__tok": [tok(v) for v in right_vals]}, schema={"s__tok": pl.UInt64})
    comp = comparison(
        {"type": "frequency", "column": "s__tok", "levels": {"very": 0.3, "common": 0.1}}
    )
    got = run(comp, left, right)[:4]
    # SMITH: 8 of 20 right records (0.4); RARE: 1 of 20
    assert got == [(2, "very"), (0, "else"), (0, "else"), (-1, "null")]


def test_frequency_of_each_is_the_commoner_of_the_two_records_own_values() -> None:
    """``of: each``: SMIITH beside SMITH is as common as SMITH (a slip of a common surname
    is no rare name); two rare spellings are rare; a missing one is null."""
    left_vals = ["SMIITH", "SMITH", "RARE", "RAARE", None] + ["X"] * 15
    right_vals = ["SMITH", "SMIITH", "RAARE", "RARE", "SMITH"] + ["SMITH"] * 5 + ["Y"] * 10
    left = pl.DataFrame({"s__tok": [tok(v) for v in left_vals]}, schema={"s__tok": pl.UInt64})
    right = pl.DataFrame({"s__tok": [tok(v) for v in right_vals]}, schema={"s__tok": pl.UInt64})
    comp = comparison(
        {"type": "frequency", "of": "each", "column": "s__tok", "levels": {"common": 0.1}}
    )
    assert comp.of == "each"
    # SMITH: 7 of 20 right records; SMIITH, RARE, RAARE: 1 each
    assert run(comp, left, right)[:5] == [
        (1, "common"), (1, "common"), (0, "else"), (0, "else"), (-1, "null")
    ]  # fmt: skip
    shared = comparison({"type": "frequency", "column": "s__tok", "levels": {"common": 0.1}})
    again = left.drop("__row"), right.drop("__row")  # run() numbered the rows
    assert shared.of == "shared" and run(shared, *again)[0] == (0, "else")
    with pytest.raises(RuleError, match="shared, each"):
        comparison({"type": "frequency", "of": "both", "column": "s__tok", "levels": {"c": 0.1}})


def test_term_frequency_leaves_out_the_record_itself_within_one_dataset() -> None:
    """Matched with itself, a value's frequency counts the other records only: A held by two
    records of four is 1 in the 3 others for either of them."""
    frame = pl.DataFrame({"s__tok": [tok(v) for v in "AABC"]}, schema={"s__tok": pl.UInt64})
    frame.insert_column(0, pl.Series("__row", range(4), dtype=pl.UInt32))
    comp = comparison({"type": "exact", "column": "s__tok", "tf_adjust": True})
    pairs = pl.DataFrame({"li": [0], "ri": [1]}, schema={"li": pl.UInt32, "ri": pl.UInt32})
    out = Comparer([comp], frame, frame).gammas(pairs)
    assert out["tf_c"].to_list() == pytest.approx([1 / 3])


def test_spread_levels_say_in_how_many_places_the_shared_value_is_found() -> None:
    """A line found in two districts (on either side) is "several"; found in one, or two
    different lines, is else; a missing line is null. Records without a district are not
    places: they say nothing of where the line is."""
    lines = ["12 ELM", "3 OAK", "12 ELM", "9 ASH", None]
    left = pl.DataFrame(
        {"line": [tok(v) for v in lines], "district": [tok(d) for d in ["A", "A", "A", "B", "C"]]},
        schema={"line": pl.UInt64, "district": pl.UInt64},
    )
    right = pl.DataFrame(
        {
            "line": [tok(v) for v in ["12 ELM", "3 OAK", "3 OAK", "9 ASH", "9 ASH"]],
            "district": [tok(d) for d in ["B", None, None, None, "B"]],
        },
        schema={"line": pl.UInt64, "district": pl.UInt64},
    )
    comp = comparison({"type": "spread", "column": "line", "by": "district",
                       "levels": {"several": 2}})  # fmt: skip
    # 12 ELM: A (left) and B (right); 3 OAK: A only; 12 ELM vs 3 OAK differ; 9 ASH: B only
    assert run(comp, left, right) == [
        (1, "several"),
        (0, "else"),
        (0, "else"),
        (0, "else"),
        (-1, "null"),
    ]


def test_spread_counts_places_in_the_datasets_it_is_given() -> None:
    """The engine passes places found across more datasets (a rule's ``across``): a line
    that both sides show in one district is "several" once another dataset has it in a
    second."""
    from fraudmatch.matching.compare import spread_table

    comp = comparison({"type": "spread", "column": "line", "by": "district",
                       "levels": {"several": 2}})  # fmt: skip
    side = pl.DataFrame(
        {"line": [tok("12 ELM")], "district": [tok("A")]},
        schema={"line": pl.UInt64, "district": pl.UInt64},
    )
    register = pl.DataFrame(
        {"line": [tok("12 ELM"), tok("12 ELM")], "district": [tok("B"), None]},
        schema={"line": pl.UInt64, "district": pl.UInt64},
    ).lazy()
    assert run(comp, side.clone(), side.clone()) == [(0, "else")]
    table = spread_table(comp, [(side, "line", "district"), (register, "line", "district")])
    left, right = side.clone(), side.clone()
    for frame in (left, right):
        frame.insert_column(0, pl.Series("__row", [0], dtype=pl.UInt32))
    pairs = pl.DataFrame({"li": [0], "ri": [0]}, schema={"li": pl.UInt32, "ri": pl.UInt32})
    out = Comparer([comp], left, right, spread={"c": table}).gammas(pairs)
    assert out["gamma_c"].to_list() == [1]


def _home_area_frames(rows: list[tuple]) -> pl.DataFrame:
    """(partner, street, district) rows as the hub holds them (tokens)."""
    return pl.DataFrame(
        {
            "partner": [r[0] for r in rows],
            "street": [tok(r[1]) for r in rows],
            "district": [tok(r[2]) for r in rows],
        },
        schema={"partner": pl.String, "street": pl.UInt64, "district": pl.UInt64},
    )


def test_spread_within_home_area_reads_a_missing_place_as_the_councils_own() -> None:
    """A record without a district is read as of a place in its own council's area: the
    street counts as one place when the other record's district is in that area and the
    street is found in no other district of it, wherever else it is found; the other
    record's district outside the area is "several" (the missing place would have said
    which); both or neither record showing a district is null."""
    from fraudmatch.matching.compare import spread_table

    comp = comparison({"type": "spread", "column": "street", "by": "district",
                       "within": "home_area", "levels": {"several": 2}})  # fmt: skip
    # council A lives in district A1 (and a little in A2), council B in B1; ELM ROAD runs
    # through A1 and B1, OAK ROAD through A1 and A2 (both in A's area)
    register = _home_area_frames(
        [("a", f"S{i}", "A1") for i in range(60)]
        + [("a", f"T{i}", "A2") for i in range(30)]
        + [("a", "X", "B1")]  # one record of A's outside its area
        + [("b", f"U{i}", "B1") for i in range(60)]
        + [("a", "ELM ROAD", "A1"), ("b", "ELM ROAD", "B1")]
        + [("a", "OAK ROAD", "A1"), ("a", "OAK ROAD", "A2")]
    )
    left = _home_area_frames(
        [("b", "ELM ROAD", "A1"), ("a", "ELM ROAD", "B1"), ("a", "OAK ROAD", "A1"),
         ("a", "ELM ROAD", "A1"), ("a", "ELM ROAD", "A1"), ("a", "ELM ROAD", None)]
    )  # fmt: skip
    right = _home_area_frames(
        [("a", "ELM ROAD", None), ("a", "ELM ROAD", None), ("a", "OAK ROAD", None),
         ("a", "ELM ROAD", "A1"), ("b", "ELM ROAD", None), ("b", "ELM ROAD", None)]
    )  # fmt: skip
    table = spread_table(comp, [(register, "street", "district")])
    n = left.height
    for frame in (left, right):
        frame.insert_column(0, pl.Series("__row", range(n), dtype=pl.UInt32))
    pairs = pl.DataFrame(
        {"li": range(n), "ri": range(n)}, schema={"li": pl.UInt32, "ri": pl.UInt32}
    )
    out = Comparer([comp], left, right, spread={"c": table}).gammas(pairs)
    assert out.with_columns(label_expr(comp))["level_c"].to_list() == [
        "else",  # A's record has no district; ELM ROAD is at A1 only in A's area: one place
        "several",  # the other's district B1 is outside A's area
        "several",  # OAK ROAD runs through two districts of A's area
        "null",  # both show a district: nothing to read an area for
        "several",  # B's record has none; the other's A1 is outside B's area
        "null",  # neither shows one
    ]


def test_home_area_takes_places_holding_as_many_records_together() -> None:
    """Two places holding as many of a council's records are both in its home area or both
    out, whatever their tokens (the key) sort them: A1 holds 94% of council A's records, A2
    and A3 3% each, so both are in (the places before them hold less than 95%)."""
    from fraudmatch.matching.compare import spread_table

    comp = comparison({"type": "spread", "column": "street", "by": "district",
                       "within": "home_area", "levels": {"several": 2}})  # fmt: skip
    register = _home_area_frames(
        [("a", f"S{i}", "A1") for i in range(94)]
        + [("a", "ELM ROAD", "A2"), ("a", "T1", "A2"), ("a", "T2", "A2")]
        + [("a", "OAK ROAD", "A3"), ("a", "U1", "A3"), ("a", "U2", "A3")]
    )
    left = _home_area_frames([("a", "ELM ROAD", "A2"), ("a", "OAK ROAD", "A3")])
    right = _home_area_frames([("a", "ELM ROAD", None), ("a", "OAK ROAD", None)])
    table = spread_table(comp, [(register, "street", "district")])
    for frame in (left, right):
        frame.insert_column(0, pl.Series("__row", range(2), dtype=pl.UInt32))
    pairs = pl.DataFrame({"li": [0, 1], "ri": [0, 1]}, schema={"li": pl.UInt32, "ri": pl.UInt32})
    out = Comparer([comp], left, right, spread={"c": table}).gammas(pairs)
    assert out.with_columns(label_expr(comp))["level_c"].to_list() == ["else", "else"]


def test_a_form_read_as_a_dice_level_lifts_a_slip_to_it() -> None:
    """Two letters swapped (``letters__tok`` agree) are read as the ``high`` Dice level,
    whatever Dice said: below every threshold (PORETR) or at a lower one (CHNADLER). A pair
    already at or above that level keeps its own, and different letters change nothing."""
    names = [("PORTER", "PORETR"), ("CHANDLER", "CHNADLER"), ("SMITH", "SMITH"), ("SMITH", "JONES")]

    def frame(side: int) -> pl.DataFrame:
        values = [pair[side] for pair in names]
        return _bloom_frame(values).with_columns(
            pl.Series("letters__tok", [tok("".join(sorted(v))) for v in values], dtype=pl.UInt64)
        )

    spec = {**BLOOM_SPEC, "forms": {"slip": {"as": "high", "columns": ["letters__tok"]}}}
    comp = comparison(spec)
    assert comp.levels == ("exact", "high", "mid", "low")  # no level of its own
    got = run(comp, frame(0), frame(1))
    assert got == [(3, "high"), (3, "high"), (4, "exact"), (0, "else")]
    plain = run(comparison(BLOOM_SPEC), frame(0), frame(1))
    assert plain[0][1] != "high" and plain[1][1] != "high"  # what Dice alone says


def test_a_form_read_as_an_unknown_level_is_refused() -> None:
    spec = {**BLOOM_SPEC, "forms": {"slip": {"as": "nearly", "columns": ["letters__tok"]}}}
    with pytest.raises(RuleError, match="nearly"):
        comparison(spec)


def test_shared_slots_agree_on_any_value_either_side_holds() -> None:
    """``shared``: any slot of one record equal to any slot of the other (KATE's forms hold
    CATHERINE's sound in its second slot, CATHERINE's in its first); no slot in common is
    ``else``; a record with no slot filled says nothing (null), whatever the other holds."""
    cols = ["f1__tok", "f2__tok", "f3__tok"]
    cases = [
        ((("=KAT", "K0RN", "KT")), ("=CAT", "K0RN", None), 1, "shared"),
        ((("=CHR", "XRSTN", None)), ("=KEL", "KL", None), 0, "else"),
        ((("=JOH", "JN", None)), (None, None, None), -1, "null"),
        (((None, None, None)), ("=JOH", "JN", None), -1, "null"),
        ((("=ALI", "AL", None)), ("ALSTR", "=ALI", None), 1, "shared"),
    ]
    left, right = token_frames(cases, cols)
    comp = comparison({"type": "shared", "columns": cols})
    assert comp.levels == ("shared",)
    assert run(comp, left, right) == [(c[2], c[3]) for c in cases]


def test_shared_needs_its_columns() -> None:
    with pytest.raises(RuleError, match="columns"):
        comparison({"type": "shared", "column": "f1__tok"})


def test_shown_reads_one_side_only_and_is_never_null() -> None:
    """``shown``: the right record has a value in the column (the death record's address is
    a hospital), whatever the left holds; the left side names record_id, never read."""
    comp = comparison({"type": "shown", "side": "right", "column": "care__tok"})
    assert comp.levels == ("shown",) and comp.column.left == "record_id"
    left = pl.DataFrame({"record_id": ["a", "b", "c"]})
    right = pl.DataFrame({"care__tok": [tok("INSTITUTION"), None, tok("INSTITUTION")]},
                         schema={"care__tok": pl.UInt64})  # fmt: skip
    assert run(comp, left, right) == [(1, "shown"), (0, "else"), (1, "shown")]


def test_shown_needs_a_side() -> None:
    with pytest.raises(RuleError, match="side"):
        comparison({"type": "shown", "column": "care__tok"})
    with pytest.raises(RuleError, match="left, right"):
        comparison({"type": "shown", "side": "both", "column": "care__tok"})


def test_count_is_how_many_records_of_its_side_show_the_value() -> None:
    """``count``: how many right records hold the postcode the right record shows (ten deaths
    at a hospital's postcode, one at a home's), whatever the left holds; null where the
    record shows none."""
    comp = comparison(
        {"type": "count", "side": "right", "column": "pc__tok", "levels": {"many": 3}}
    )
    assert comp.levels == ("many",) and comp.column.left == "record_id"
    postcodes = ["HOSP", "HOME", None, "HOSP", "HOSP", "HOME"]
    left = pl.DataFrame({"record_id": [str(i) for i in range(len(postcodes))]})
    right = pl.DataFrame({"pc__tok": [tok(p) for p in postcodes]}, schema={"pc__tok": pl.UInt64})
    assert run(comp, left, right) == [
        (1, "many"), (0, "else"), (-1, "null"), (1, "many"), (1, "many"), (0, "else")
    ]  # fmt: skip


def test_count_needs_a_side_and_whole_counts_best_first() -> None:
    with pytest.raises(RuleError, match="side"):
        comparison({"type": "count", "column": "pc__tok", "levels": {"many": 3}})
    with pytest.raises(RuleError, match="decreasing"):
        comparison(
            {"type": "count", "side": "left", "column": "pc__tok", "levels": {"a": 3, "b": 5}}
        )
    with pytest.raises(RuleError):
        comparison({"type": "count", "side": "left", "column": "pc__tok", "levels": {"a": 1}})
