"""Bloom-filter encodings: exact bit layout, keying, nulls, and how well Dice separates typos.

The separation test prints its numbers (run with ``-s``): it is the evidence that the hub
can tell "SMYTH" from an unrelated surname without seeing either.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import random
import statistics

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudmatch.spec.bloom import BloomParams, bigrams, bloom_encode, dice_expr, word_names

PARAMS = BloomParams()
KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))

# 200 common surnames in England and Wales, as the name normaliser writes them.
SURNAMES = """
SMITH JONES WILLIAMS TAYLOR BROWN DAVIES EVANS WILSON THOMAS JOHNSON ROBERTS ROBINSON THOMPSON
WRIGHT WALKER WHITE EDWARDS HUGHES GREEN HALL LEWIS HARRIS CLARKE PATEL JACKSON WOOD TURNER
MARTIN COOPER HILL WARD MORRIS MOORE CLARK LEE KING BAKER HARRISON MORGAN ALLEN JAMES SCOTT
PHILLIPS WATSON DAVIS PARKER PRICE BENNETT YOUNG GRIFFITHS MITCHELL KELLY COOK CARTER RICHARDSON
BAILEY COLLINS BELL SHAW MURPHY MILLER COX RICHARDS KHAN MARSHALL ANDERSON SIMPSON ELLIS ADAMS
SINGH BEGUM WILKINSON FOSTER CHAPMAN POWELL WEBB ROGERS GRAY MASON ALI HUNT HUSSAIN CAMPBELL
MATTHEWS OWEN PALMER HOLMES MILLS BARNES KNIGHT LLOYD BUTLER RUSSELL BARKER FISHER STEVENS
JENKINS MURRAY DIXON HARVEY GRAHAM PEARSON AHMED FLETCHER WALSH KAUR GIBSON HOWARD ANDREWS
STEWART ELLIOTT REYNOLDS SAUNDERS PAYNE FOX FORD PEARCE DAY BROOKS WEST LAWRENCE COLE ATKINSON
BRADLEY SPENCER GILL DAWSON BALL BURTON OBRIEN WATTS ROSE BOOTH PERRY RYAN GRANT WELLS
ARMSTRONG FRANCIS REES HAYES HART HUDSON NEWMAN BARRETT WEBSTER HUNTER GREGORY CARR LOWE PAGE
MARSH RILEY DUNN WOODS PARSONS BERRY STONE REID HOLLAND HAWKINS HARDING PORTER ROBERTSON NEWTON
OLIVER REED KENNEDY WILLIAMSON BIRD GARDNER SHAH DEAN LANE COOKE BATES HENDERSON PARRY BURGESS
BISHOP WALTON BURNS NICHOLSON SHEPHERD ROSS CROSS LONG FREEMAN WARREN NICHOLLS HAMILTON BYRNE
SUTTON MCDONALD YATES HODGSON ROBSON CURTIS HOPKINS OCONNOR HARPER COLEMAN WATKINS MOSS
""".split()[:200]
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
NAMED_TYPOS = [
    ("SMITH", "SMYTH", "substitution"),
    ("JONES", "JOENS", "transposition"),
    ("THOMPSON", "THOMSON", "deletion"),
    ("THOMSON", "THOMPSON", "insertion"),
    ("WILLIAMS", "WILLAIMS", "transposition"),
    ("RICHARDSON", "RICHARSON", "deletion"),
]


def one_typo_variants(name: str, rng: random.Random) -> list[tuple[str, str]]:
    """A substitution, transposition, insertion and deletion inside the name."""
    i = rng.randrange(1, len(name) - 1)
    out = [
        ("substitution", name[:i] + rng.choice(LETTERS.replace(name[i], "")) + name[i + 1 :]),
        ("insertion", name[:i] + rng.choice(LETTERS) + name[i:]),
        ("deletion", name[:i] + name[i + 1 :]),
    ]
    if name[i] != name[i + 1]:
        out.append(("transposition", name[:i] + name[i + 1] + name[i] + name[i + 2 :]))
    return [(kind, typo) for kind, typo in out if typo != name]


def reference_bits(value: str, key: bytes, params: BloomParams) -> set[int]:
    """The documented encoding in plain Python: double hashing from one HMAC per bigram."""
    bits: set[int] = set()
    for gram in bigrams(value):
        digest = hmac.new(key, gram.encode(), hashlib.sha256).digest()
        h1 = int.from_bytes(digest[:8], "big")
        h2 = int.from_bytes(digest[8:16], "big") | 1
        bits |= {(h1 + i * h2) % params.bits for i in range(params.hashes)}
    return bits


def bits_of(row: tuple, params: BloomParams) -> set[int]:
    return {w * 64 + b for w in range(params.words) for b in range(64) if row[w] >> b & 1}


def pair_dice(left: list[str], right: list[str], key: bytes = KEY_A) -> list[float]:
    """Dice of each (left[i], right[i]) pair through bloom_encode and dice_expr."""
    lw = bloom_encode(pl.Series(left), key, PARAMS)
    rw = bloom_encode(pl.Series(right), key, PARAMS)
    pairs = pl.concat(
        [lw.rename(lambda c: f"l_{c}"), rw.rename(lambda c: f"r_{c}")], how="horizontal"
    )
    expr = dice_expr(
        [pl.col(c) for c in word_names("l_w", PARAMS)],
        pl.col("l_n"),
        [pl.col(c) for c in word_names("r_w", PARAMS)],
        pl.col("r_n"),
    )
    return pairs.select(expr.alias("dice")).get_column("dice").to_list()


def test_params() -> None:
    assert PARAMS.bits == 1024 and PARAMS.words == 16 and PARAMS.hashes == 15
    assert BloomParams(bits=128, hashes=3).words == 2
    for bad in ({"bits": 1000}, {"bits": 0}, {"hashes": 0}, {"bits": 64, "hashes": 65}):
        with pytest.raises(ValueError):
            BloomParams(**bad)


def test_bigrams_are_padded_per_word() -> None:
    assert bigrams("SMITH") == {"_S", "SM", "MI", "IT", "TH", "H_"}
    assert bigrams("OBRIEN SMITH") == bigrams("OBRIEN") | bigrams("SMITH")
    assert bigrams("A") == {"_A", "A_"}


def test_encoding_matches_the_documented_layout() -> None:
    values = ["SMITH", "OBRIEN SMITH", "A", "12 HIGH STREET LEEDS", "ZOË"]
    for params in (PARAMS, BloomParams(bits=192, hashes=3)):
        out = bloom_encode(pl.Series(values), KEY_A, params)
        assert out.columns == [*word_names("w", params), "n"]
        assert out.schema["n"] == pl.UInt16
        assert all(out.schema[c] == pl.UInt64 for c in word_names("w", params))
        for value, row in zip(values, out.iter_rows(), strict=True):
            expected = reference_bits(value, KEY_A, params)
            assert bits_of(row, params) == expected
            assert row[-1] == len(expected)


def test_row_order_nulls_and_blanks() -> None:
    values = pl.Series(["JONES", None, "SMITH", "", "JONES", "  "])
    out = bloom_encode(values, KEY_A, PARAMS)
    assert out.height == values.len()
    assert out.row(0) == out.row(4)
    assert out.row(0) != out.row(2)
    for i in (1, 3, 5):
        assert all(v is None for v in out.row(i))
    empty = bloom_encode(pl.Series([], dtype=pl.String), KEY_A, PARAMS)
    assert empty.height == 0 and empty.columns == [*word_names("w", PARAMS), "n"]
    nulls = bloom_encode(pl.Series([None, None]), KEY_A, PARAMS)
    assert nulls.null_count().row(0) == (2,) * (PARAMS.words + 1)


def test_same_key_same_words_other_key_different() -> None:
    names = SURNAMES[:50]
    a = bloom_encode(pl.Series(names), KEY_A, PARAMS)
    partner = bloom_encode(pl.Series(list(reversed(names))), KEY_A, PARAMS).reverse()
    assert a.equals(partner)
    b = bloom_encode(pl.Series(names), KEY_B, PARAMS)
    assert all(ra != rb for ra, rb in zip(a.iter_rows(), b.iter_rows(), strict=True))
    # Under another key the same name's filter is as unrelated as a random name's.
    across = [
        2 * len(bits_of(x, PARAMS) & bits_of(y, PARAMS)) / (x[-1] + y[-1])
        for x, y in zip(a.iter_rows(), b.iter_rows(), strict=True)
    ]
    print(f"\nsame names, different keys: mean Dice {statistics.mean(across):.3f}")
    assert statistics.mean(across) < 0.2


def test_dice_separates_one_typo_from_unrelated_names() -> None:
    assert len(SURNAMES) == len(set(SURNAMES)) == 200
    rng = random.Random(20240601)
    typos = [(n, t, kind) for n in SURNAMES for kind, t in one_typo_variants(n, rng)]
    typo_dice = pair_dice([n for n, _, _ in typos], [t for _, t, _ in typos])
    pairs = list(itertools.combinations(SURNAMES, 2))
    random_dice = pair_dice([a for a, _ in pairs], [b for _, b in pairs])
    named = pair_dice([a for a, _, _ in NAMED_TYPOS], [b for _, b, _ in NAMED_TYPOS])
    assert pair_dice(SURNAMES, SURNAMES) == [1.0] * 200

    def pct(xs: list[float], p: float) -> float:
        return statistics.quantiles(xs, n=100, method="inclusive")[int(p) - 1]

    by_kind = {
        kind: statistics.mean(d for (_, _, k), d in zip(typos, typo_dice, strict=True) if k == kind)
        for kind in ("substitution", "transposition", "insertion", "deletion")
    }
    threshold = 0.55
    missed = sum(d < threshold for d in typo_dice) / len(typo_dice)
    false_alarms = sum(d >= threshold for d in random_dice) / len(random_dice)
    print(f"\nBloom {PARAMS}: Dice over {len(typos)} one-typo pairs, {len(pairs)} random pairs")
    for (a, b, kind), d in zip(NAMED_TYPOS, named, strict=True):
        print(f"  {a:>10} / {b:<10} {kind:<13} {d:.3f}")
    print("  typo pairs:   " + ", ".join(f"{k} {v:.3f}" for k, v in by_kind.items()))
    print(
        f"  typo pairs:   mean {statistics.mean(typo_dice):.3f} median "
        f"{statistics.median(typo_dice):.3f} p5 {pct(typo_dice, 5):.3f} min {min(typo_dice):.3f}"
    )
    print(
        f"  random pairs: mean {statistics.mean(random_dice):.3f} median "
        f"{statistics.median(random_dice):.3f} p95 {pct(random_dice, 95):.3f} "
        f"p99 {pct(random_dice, 99):.3f} max {max(random_dice):.3f}"
    )
    top = sorted(zip(random_dice, pairs, strict=True), reverse=True)[:4]
    print("  highest random pairs: " + ", ".join(f"{a}/{b} {d:.2f}" for d, (a, b) in top))
    print(
        f"  at Dice >= {threshold}: typos missed {missed:.1%}, random pairs kept {false_alarms:.2%}"
    )
    # Short names lose half their bigrams to one transposition (JONES/JOENS shares _J JO S_
    # of six), so exact-bigram Dice is 0.5 there; the encoding must not lose more than that.
    floors = [0.65, 0.48, 0.80, 0.80, 0.70, 0.85]
    for (a, b, _), d, floor in zip(NAMED_TYPOS, named, floors, strict=True):
        assert d >= floor, (a, b, d)
    assert statistics.mean(typo_dice) >= 0.70
    assert statistics.median(typo_dice) >= 0.72
    assert statistics.mean(random_dice) <= 0.16
    assert pct(random_dice, 95) <= 0.37
    assert statistics.median(typo_dice) > pct(random_dice, 99) + 0.2
    assert missed <= 0.10 and false_alarms <= 0.01


def random_words(rng: random.Random, n: int, words: int) -> list[list[int | None]]:
    rows = []
    for _ in range(n):
        if rng.random() < 0.1:
            rows.append([None] * words)
        else:
            density = rng.random()
            rows.append(
                [sum(1 << b for b in range(64) if rng.random() < density) for _ in range(words)]
            )
    return rows


def test_dice_expr_equals_python_reference() -> None:
    rng = random.Random(5)
    params = BloomParams(bits=256, hashes=4)
    w = params.words
    left, right = random_words(rng, 300, w), random_words(rng, 300, w)
    data: dict[str, list[int | None]] = {}
    for side, rows in (("l", left), ("r", right)):
        for i in range(w):
            data[f"{side}_w{i}"] = [r[i] for r in rows]
        data[f"{side}_n"] = [
            None if r[0] is None else sum(x.bit_count() for x in r)  # type: ignore[union-attr]
            for r in rows
        ]
    frame = pl.DataFrame(data).with_columns(
        pl.col("^[lr]_w.*$").cast(pl.UInt64), pl.col("^[lr]_n$").cast(pl.UInt16)
    )
    expr = dice_expr(
        [pl.col(f"l_w{i}") for i in range(w)],
        pl.col("l_n"),
        [pl.col(f"r_w{i}") for i in range(w)],
        pl.col("r_n"),
    )
    got = frame.select(expr.alias("d")).get_column("d")
    assert got.dtype == pl.Float64
    for lrow, rrow, d in zip(left, right, got.to_list(), strict=True):
        if lrow[0] is None or rrow[0] is None:
            assert d is None
            continue
        common = sum((a & b).bit_count() for a, b in zip(lrow, rrow, strict=True))  # type: ignore[operator]
        total = sum(a.bit_count() for a in lrow) + sum(b.bit_count() for b in rrow)  # type: ignore[union-attr]
        assert d == (None if total == 0 else pytest.approx(2 * common / total, abs=1e-12))


def test_dice_expr_needs_matching_words() -> None:
    with pytest.raises(ValueError):
        dice_expr([pl.col("a")], pl.col("n"), [], pl.col("m"))


names = st.one_of(
    st.none(),
    st.text(alphabet=LETTERS + " 0123456789", max_size=60),
)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(names, max_size=20), bits=st.sampled_from([64, 128, 1024]))
def test_popcount_bounds_and_nulls(values: list[str | None], bits: int) -> None:
    params = BloomParams(bits=bits, hashes=min(20, bits))
    out = bloom_encode(pl.Series(values, dtype=pl.String), KEY_A, params)
    assert out.height == len(values)
    for value, row in zip(values, out.iter_rows(), strict=True):
        if value is None or not value.split():
            assert all(v is None for v in row)
            continue
        n = row[-1]
        assert 0 < n <= params.bits
        assert n == len(bits_of(row, params))
        assert n <= params.hashes * len(bigrams(value))


def test_chunks_and_repeats_do_not_change_the_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """Distinct values are encoded a chunk at a time with a growing bigram table; chunk
    boundaries (and values repeated across rows) must not show in the words."""
    import fraudmatch.spec.bloom as bloom

    values = pl.Series(["SMITH", "OBRIEN SMITH", None, "A", "", "SMITH", "ZOË", "12 HIGH ST"] * 3)
    whole = bloom_encode(values, KEY_A, PARAMS)
    monkeypatch.setattr(bloom, "_CHUNK", 2)
    assert bloom_encode(values, KEY_A, PARAMS).equals(whole)
    for value, row in zip(values.to_list(), whole.iter_rows(), strict=True):
        if value and value.split():
            assert bits_of(row, PARAMS) == reference_bits(value, KEY_A, PARAMS)


def test_distinct_values_encode_the_same_without_deduplicating_again() -> None:
    values = pl.Series(["Okafor", "Lindqvist", "", "  ", "O'Neil", "Smith-Jones"], dtype=pl.String)
    assert bloom_encode(values, KEY_A, PARAMS, distinct=True).equals(
        bloom_encode(values, KEY_A, PARAMS)
    )
