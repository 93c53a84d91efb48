"""A surname one slip from another reads the Dice its slip gives, whatever the linkage key.

The Bloom estimate of a Dice depends on the key (bits two bigrams share by chance). One slip
in a short name puts the Dice exactly on a level's threshold for some lengths, so the level,
and the match, moved with the key; ``slip_dice`` reads those pairs' Dice from their slips.
"""

from __future__ import annotations

import hashlib
import hmac
import string

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudmatch.matching.compare import Comparer, label_expr
from fraudmatch.matching.rules import parse_rule
from fraudmatch.spec.bloom import BloomParams, bigrams, bloom_encode
from fraudmatch.spec.normalisers.slips import SLIP_EXTRAS, SLIP_LETTERS, slip_pairs, slip_slot

PARAMS = BloomParams()


def exact_dice(a: str, b: str) -> float:
    x, y = bigrams(a), bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y))


def slip_frame(values: list[str]) -> pl.DataFrame:
    """The values as their own tokens beside their slips (strings stand for tokens)."""
    v = pl.col("v")
    return pl.DataFrame({"v": values}).select(
        v.alias("tok"), *(slip_slot(v, i).alias(x) for i, x in enumerate(SLIP_EXTRAS, 1))
    )


def pairs(left: list[str], right: list[str]) -> dict[tuple[str, str], float]:
    got = slip_pairs(slip_frame(left), slip_frame(right), "tok")
    return {(a, b): d for a, b, d in got.iter_rows()}


def no_repeated_bigram(word: str) -> bool:
    padded = f"_{word}_"
    grams = [padded[i : i + 2] for i in range(len(padded) - 1)]
    return len(grams) == len(set(grams))


@st.composite
def one_slip(draw) -> tuple[str, str]:
    """A word of 2 to 10 letters and the same word with one slip: a letter changed, added
    or left out, or two neighbours swapped."""
    letters = draw(st.permutations(string.ascii_uppercase[:SLIP_LETTERS]))
    word = "".join(letters[: draw(st.integers(3, SLIP_LETTERS - 1))])  # letters all different
    i = draw(st.integers(0, len(word) - 1))
    letter = draw(st.sampled_from(string.ascii_uppercase[:8]))
    kind = draw(st.sampled_from(["changed", "added", "left out", "swapped"]))
    if kind == "changed":
        other = word[:i] + letter + word[i + 1 :]
    elif kind == "added":
        other = word[:i] + letter + word[i:]
    elif kind == "left out":
        other = word[:i] + word[i + 1 :]
    else:
        i = min(i, len(word) - 2)
        other = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word, other


@settings(max_examples=300, deadline=None)
@given(one_slip())
def test_a_slips_dice_is_the_exact_dice_of_the_two_words(pair: tuple[str, str]) -> None:
    """Whatever the word (its letters all different) and the slip, the pair is found both
    ways round and its Dice is the padded bigram sets' own, where the slip repeats no
    bigram (a letter changed to its neighbour's: ABC -> ABB keeps a doubled letter)."""
    a, b = pair
    if a == b or not no_repeated_bigram(b):
        return
    assert pairs([a], [b]) == {(a, b): exact_dice(a, b)}
    assert pairs([b], [a]) == {(b, a): exact_dice(a, b)}


def test_a_doubled_letter_left_out_keeps_every_other_bigram() -> None:
    """ALAN and ALLAN share all of ALAN's bigrams (only LL goes): 10/11, very close, where
    a single letter left out of five would be 8/11."""
    got = pairs(["ALAN", "RUSSEL", "ABA"], ["ALLAN", "RUSSELL", "AABA"])
    assert got == {(a, b): exact_dice(a, b) for a, b in
                   (("ALAN", "ALLAN"), ("RUSSEL", "RUSSELL"), ("ABA", "AABA"))}  # fmt: skip
    assert got[("ALAN", "ALLAN")] == 10 / 11


def test_words_more_than_one_slip_apart_or_too_long_are_not_read() -> None:
    got = pairs(["SMITH", "ABCDEFGHIJK", "DE SOUZA", "PORTER"], ["SMYTHE", "ABCDEFGHIJKL",
                "DE SOUZAA", "REPORT"])  # fmt: skip
    assert got == {}
    # one slip each: the four kinds, with the Dice the bigrams give
    got = pairs(["EVAN", "SIMS", "ANIELS", "PORTER"], ["EVANS", "SIME", "DANIELS", "PORETR"])
    assert got == {
        ("EVAN", "EVANS"): exact_dice("EVAN", "EVANS"),
        ("SIMS", "SIME"): 0.6,
        ("ANIELS", "DANIELS"): 0.8,
        ("PORTER", "PORETR"): exact_dice("PORTER", "PORETR"),
    }
    # two neighbouring places that are no swap (A -> B, B -> C) change as many bigrams
    assert pairs(["XAB"], ["XBC"]) == {("XAB", "XBC"): exact_dice("XAB", "XBC")}


def _token(key: bytes, value: str | None) -> int | None:
    if value is None:
        return None
    return int.from_bytes(hmac.digest(key, value.encode(), hashlib.sha256)[:8], "big")


def _frame(names: list[str], key: bytes) -> pl.DataFrame:
    """Surnames as the hub holds them: token, slips' tokens and Bloom words, all keyed."""
    words = bloom_encode(pl.Series(names, dtype=pl.String), key, PARAMS)
    words = words.rename({f"w{i}": f"surname__bf{i}" for i in range(PARAMS.words)})
    words = words.rename({"n": "surname__bfn"})
    slips = slip_frame(names).drop("tok")
    toks = {"surname__tok": [_token(key, n) for n in names]}
    toks |= {f"surname__{x}__tok": [_token(key, s) for s in slips[x]] for x in SLIP_EXTRAS}
    schema = dict.fromkeys(toks, pl.UInt64)
    return pl.concat([words, pl.DataFrame(toks, schema=schema)], how="horizontal")


def _levels(slip_dice: bool, key: bytes, left: list[str], right: list[str]) -> list[str]:
    spec = {"name": "surname", "type": "bloom", "column": "surname", "exact": "surname__tok",
            "thresholds": {"very_close": 0.8, "close": 0.6}, "slip_dice": slip_dice}  # fmt: skip
    rule = parse_rule({
        "name": "t", "description": "test", "risk": "low", "dataset": "d",
        "blocking": [{"name": "b", "keys": "x"}], "comparisons": [spec],
        "scoring": {"model": "deterministic", "match_when": [{"surname": "else"}]},
    })  # fmt: skip
    comp = rule.comparisons[0]
    n = len(left)
    index = pl.DataFrame(
        {"li": range(n), "ri": range(n)}, schema={"li": pl.UInt32, "ri": pl.UInt32}
    )
    out = Comparer([comp], _frame(left, key), _frame(right, key)).gammas(index)
    return out.select(label_expr(comp)).to_series().to_list()


#: one slip each, on a level's threshold: a letter changed in four letters (0.6), one left
#: out of seven or changed in nine (0.8); and one well inside a level (EVAN, 0.73)
BOUNDARY = (["SIMS", "HALL", "ANIELS", "MACKINTOH", "EVAN"],
            ["SIME", "HILL", "DANIELS", "MACKINTOSH", "EVANS"])  # fmt: skip


def test_a_slips_level_is_the_same_under_every_key() -> None:
    """Under forty keys each pair reads the level its exact Dice is at; by the Bloom
    estimate alone the boundary pairs read one level under some keys and another under
    others (what moved a match with the key)."""
    keys = [k.to_bytes(2, "big") * 16 for k in range(40)]
    want = ["close", "close", "very_close", "very_close", "close"]
    assert all(_levels(True, key, *BOUNDARY) == want for key in keys)
    by_bloom = {tuple(_levels(False, key, *BOUNDARY)) for key in keys}
    assert len(by_bloom) > 1


def test_rules_check_names_the_extras_a_slip_dice_comparison_needs() -> None:
    """Where the data specification sends no slips for the surname (the electoral register),
    ``rules check`` says which extras to list, once per dataset, before any data is read;
    where it sends them (payroll), nothing."""
    from fraudmatch.matching.rules import lint_rules
    from fraudmatch.spec.specs import load_spec

    def rule(dataset: str):
        return parse_rule({
            "name": f"t_{dataset}", "description": "test", "risk": "low", "dataset": dataset,
            "blocking": [{"name": "b", "keys": "surname__tok"}],
            "comparisons": [{"name": "surname", "type": "bloom", "column": "surname",
                             "exact": "surname__tok", "thresholds": {"close": 0.6},
                             "slip_dice": True}],
            "scoring": {"model": "deterministic", "match_when": [{"surname": "close"}]},
        })  # fmt: skip

    problems = lint_rules([rule("electoral_register"), rule("payroll")], load_spec())
    slips = [p for p in problems if p.path.endswith("slip_dice")]
    assert len(slips) == 1
    assert "list slip1 ... slip10 in the extras of electoral_register.surname" in slips[0].message
