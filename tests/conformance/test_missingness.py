"""Missingness as a property: a missing value is its comparison's null level, never evidence.

For each person rule, take the grid's same-person pair with every field equal and the hard
negatives whose difference lies in required fields (parent and child, twins, spouses,
namesakes), blank any subset of the optional fields (NI number, address, postcode) on
either side, and decide the pair with the engine's own tiers and the model the grid run
fitted (``conftest.py``): the records are ingested and pseudonymised as a partner would,
and compared inside the background population, so term frequencies are a run's.

- a same-person pair that was not vetoed is never vetoed once fields are blanked, and its
  match weight never rises (an agreeing field has weight >= 0, a blank one weight 0);
- a hard negative that was not flagged is never flagged once fields are blanked.

"doubles" (two NI numbers, all else equal) is left out on purpose: blanking an NI number
removes the only thing that tells them apart, which makes them the grid's same-person cell
"NI missing on one side", a match.
"""

from __future__ import annotations

from functools import cache

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraudmatch.council.ingest import ROW, validate
from fraudmatch.council.pseudonymise import pseudonymise
from fraudmatch.matching import score
from fraudmatch.matching.blocking import prepare_pair
from fraudmatch.matching.compare import Comparer, side_columns
from fraudmatch.matching.engine import _n_words, _selector_mask, _tier
from fraudmatch.spec.specs import load_spec
from tests.conformance.conftest import KEY, GridRun
from tests.conformance.grids import CYCLE, GRIDS, MATCH, PARTNERS, grid_of, raw_record
from tests.conformance.population import all_cells

OPTIONAL = ("ni_number", "address", "postcode")
_spec = cache(load_spec)
_NEGATIVES = ("parent and child", "twins", "spouses", "namesakes")


def _cases() -> list[tuple[str, int, bool]]:
    """(rule, cell index, is the same person) for every person rule."""
    out = []
    for grid in GRIDS:
        rule = grid.rule
        for k, cell in enumerate(all_cells()[rule]):
            if cell.expect == MATCH and cell.field == "all":
                out.append((rule, k, True))
            elif cell.field in _NEGATIVES:
                out.append((rule, k, False))
    return out


CASES = _cases()


def _optional(ds: str) -> list[str]:
    columns = _spec().dataset(ds).columns
    return [c.name for c in columns if c.name in OPTIONAL and not c.required]


def _subsets(fields: list[str]) -> list[tuple[str, ...]]:
    """Every subset, each sorted (as the strategy draws them)."""
    fields = sorted(fields)
    return [
        tuple(f for i, f in enumerate(fields) if mask >> i & 1) for mask in range(1 << len(fields))
    ]


def _pseudonymised(ds: str, rows: list[dict], partners: list[str]) -> pl.DataFrame:
    """Raw rows ingested and pseudonymised as a partner would (every one must be accepted)."""
    spec = _spec().dataset(ds)
    frame = pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String))
    frame = frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    result = validate(frame, spec, date_format="dmy")  # the grids write dates day-first
    assert result.accepted.height == len(rows), result.rejects.to_dicts()
    out = pseudonymise(result.accepted, spec, KEY, as_of=CYCLE)
    return out.select(pl.Series("partner", partners, pl.String), pl.all())


class Variants:
    """Every case's records under every blanking, pseudonymised in one batch per dataset."""

    def __init__(self) -> None:
        spec = _spec()
        rows: dict[str, tuple[list[dict], list[str]]] = {}
        self.index: dict[tuple[str, int, str, tuple[str, ...]], int] = {}
        for rule, k, _ in CASES:
            grid, cell = grid_of(rule), all_cells()[rule][k]
            for side, ds, person, extra, partner in (
                ("L", grid.left, cell.left, cell.left_extra, 0),
                ("R", grid.right, cell.right, cell.right_extra, cell.right_partner),
            ):
                batch, partners = rows.setdefault(ds, ([], []))
                for blank in _subsets(_optional(ds)):
                    self.index[(rule, k, side, blank)] = len(batch)
                    rid = f"prop-{rule}-{k}-{side}-{len(batch)}"
                    batch.append(
                        raw_record(ds, rid, person.copy(**dict.fromkeys(blank)), extra, spec)
                    )
                    partners.append(PARTNERS[partner])
        self.frames = {ds: _pseudonymised(ds, *batch) for ds, batch in rows.items()}


class Decider:
    """One rule's cases under every blanking, compared inside the background population.

    The variant records follow the background rows; one comparer serves every pair, so an
    example costs one pair's comparison.
    """

    def __init__(self, run: GridRun, variants: Variants, rule_name: str) -> None:
        rule = run.rules[rule_name]
        self.rule, self.name, self.model = rule, rule_name, run.results[rule_name].model
        self.index = variants.index
        left = pl.concat([run.frames[rule.left], variants.frames[rule.left]])
        right = pl.concat([run.frames[rule.right], variants.frames[rule.right]])
        self.offset = {"L": run.frames[rule.left].height, "R": run.frames[rule.right].height}
        n_words = _n_words(rule, left)
        cl, cr = side_columns(rule.comparisons, n_words, bloom_words=False)
        lside, rside = prepare_pair(rule, left, right, cl, cr)
        self.comparer = Comparer(
            rule.comparisons, lside, rside, n_words=n_words, words=(left, right)
        )

    def __call__(self, k: int, blank_left: tuple[str, ...], blank_right: tuple[str, ...]) -> dict:
        """The pair's tier and match weight, with the given fields blanked on each side."""
        rows = []
        for side, blank in (("L", blank_left), ("R", blank_right)):
            i = self.index[(self.name, k, side, tuple(sorted(blank)))]
            rows.append(self.offset[side] + i)
        pairs = pl.DataFrame(
            {"li": [rows[0]], "ri": [rows[1]], "blocking_rule": [0]},
            schema={"li": pl.UInt32, "ri": pl.UInt32, "blocking_rule": pl.UInt8},
        )
        gammas = self.comparer.gammas(pairs)
        rule = self.rule
        if self.model is not None:
            scored = score.score(gammas, self.model)
            matched = pl.col("match_probability") >= (rule.scoring.threshold or 0.0)
        else:
            scored = gammas.with_columns(pl.lit(None, pl.Float64).alias("match_weight"))
            matched = _selector_mask(rule.scoring.match_when)
        tier = _tier(rule, matched).cast(pl.String).alias("tier")
        row = scored.with_columns(tier).row(0, named=True)
        return {"tier": row["tier"], "weight": row["match_weight"], "row": row}


_DECIDERS: dict[tuple[int, str], Decider] = {}


@cache
def _variants() -> Variants:
    return Variants()


def decider(run: GridRun, rule: str) -> Decider:
    """Built once per rule and grid run (a worker's session)."""
    key = (id(run), rule)
    if key not in _DECIDERS:
        _DECIDERS[key] = Decider(run, _variants(), rule)
    return _DECIDERS[key]


@st.composite
def _examples(draw):
    """A case and a subset of each side's optional fields to blank."""
    rule, k, same = draw(st.sampled_from(CASES))
    grid = grid_of(rule)
    left = draw(st.sets(st.sampled_from(_optional(grid.left))))
    right = draw(st.sets(st.sampled_from(_optional(grid.right))))
    return rule, k, same, tuple(sorted(left)), tuple(sorted(right))


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(example=_examples())
def test_blanking_fields_is_neutral(grid_run: GridRun, example) -> None:
    rule, k, same, blank_left, blank_right = example
    decide = decider(grid_run, rule)
    before, after = decide(k, (), ()), decide(k, blank_left, blank_right)
    where = f"{rule} cell {k}, blanked left {blank_left}, right {blank_right}: {after['row']}"
    if same:
        if before["tier"] != "vetoed":
            assert after["tier"] != "vetoed", where
        if before["weight"] is not None:
            assert after["weight"] <= before["weight"] + 1e-9, where
    elif before["tier"] in (None, "vetoed"):
        assert after["tier"] in (None, "vetoed"), where


def test_the_property_sees_every_person_rule() -> None:
    assert {rule for rule, _, _ in CASES} == {g.rule for g in GRIDS}
    assert any(same for _, _, same in CASES) and any(not same for _, _, same in CASES)
