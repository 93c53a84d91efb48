"""Every shipped rule against its conformance grid, through the real path.

The grid cells (``grids.py`` for the person rules, ``record_grids.py`` and
``household_grids.py`` for the others) and their background populations are written as
partners' CSV extracts, ingested and pseudonymised as a council would, and every rule runs
through the engine once (``conftest.py``); each cell's pair must be matched or never
matched as the cell says.
"""

from __future__ import annotations

import pytest

from fraudmatch.matching.engine import RuleResult
from fraudmatch.shipped import shipped_rules_dir
from tests.conformance.grids import GRIDS, MATCH, cell_id
from tests.conformance.known import KNOWN_CELLS, KNOWN_SHORT
from tests.conformance.population import RECORD_GRIDS, all_cells, record_cells


def flagged_pairs(result: RuleResult) -> set[tuple[str, str]]:
    m = result.matches
    pairs = set(zip(m["left_record_id"].to_list(), m["right_record_id"].to_list(), strict=True))
    if result.rule.one_dataset:
        pairs |= {(b, a) for a, b in pairs}
    return pairs


def outcomes(rule: str, result: RuleResult) -> list[tuple[object, bool]]:
    """(cell, flagged) for every cell of the rule's grid."""
    flagged = flagged_pairs(result)
    return [
        (cell, (cell_id(rule, k, "L"), cell_id(rule, k, "R")) in flagged)
        for k, cell in enumerate(all_cells()[rule])
    ]


def test_every_shipped_rule_has_a_grid() -> None:
    names = {p.stem for p in shipped_rules_dir().glob("*.yaml")}
    helpers = {  # internal: exercised through the single-person-discount grid
        "council_tax_disregard_in_force",
        "council_tax_spd_holder_registered",
        "council_tax_spd_holder_unclear",
        "council_tax_spd_holder_named",
        "council_tax_spd_holder_variant",
    }
    assert names - helpers == set(all_cells())


def test_every_grid_record_reaches_the_hub(grid_run) -> None:
    """No cell's record was rejected at ingest: a rejected record would pass a never-cell."""
    ids = {
        rid for frame in grid_run.frames.values() for rid in frame.get_column("record_id").to_list()
    }
    missing = [
        (rule, k)
        for rule, cells in all_cells().items()
        for k, cell in enumerate(cells)
        if not {cell_id(rule, k, "L"), cell_id(rule, k, "R")} <= ids
    ]
    assert not missing


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(g.rule, marks=pytest.mark.xfail(strict=True, reason=KNOWN_SHORT[g.rule]))
        if g.rule in KNOWN_SHORT
        else g.rule
        for g in GRIDS
    ],
)
def test_rule_keeps_its_grid(grid_run, rule: str) -> None:
    """Every cell but those ``known.py`` lists (each its own strict xfail below)."""
    wrong = [
        f"{cell.group}: {cell.field}, {cell.variant}: expected {cell.expect}, "
        f"{'flagged' if got else 'not flagged'}"
        for cell, got in outcomes(rule, grid_run.results[rule])
        if got != (cell.expect == MATCH) and (rule, cell.field, cell.variant) not in KNOWN_CELLS
    ]
    assert not wrong, f"{rule}:\n" + "\n".join(wrong)


_PERSON_RULES = {g.rule for g in GRIDS}


@pytest.mark.parametrize(
    ("rule", "field", "variant"),
    [
        pytest.param(
            *key,
            id=f"{key[0]}[{key[1]}: {key[2]}]",
            marks=pytest.mark.xfail(strict=True, reason=why),
        )  # fmt: skip
        for key, why in KNOWN_CELLS.items()
        if key[0] in _PERSON_RULES
    ],
)
def test_known_person_cell(grid_run, rule: str, field: str, variant: str) -> None:
    """A person-rule cell the rule does not keep yet: strict, so a fix fails loudly."""
    found = [
        (cell, got)
        for cell, got in outcomes(rule, grid_run.results[rule])
        if (cell.field, cell.variant) == (field, variant)
    ]
    assert found, f"{rule}: no cell {field}, {variant}"
    for cell, got in found:
        assert got == (cell.expect == MATCH), f"{rule}: {field}, {variant}"


def _record_params() -> list:
    out = []
    for rule, cells in record_cells().items():
        for k, cell in enumerate(cells):
            reason = KNOWN_CELLS.get((rule, cell.field, cell.variant))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(
                pytest.param(rule, k, id=f"{rule}[{cell.field}: {cell.variant}]", marks=marks)
            )
    return out


@pytest.mark.parametrize(("rule", "k"), _record_params())
def test_cell(grid_run, rule: str, k: int) -> None:
    cell = record_cells()[rule][k]
    got = (cell_id(rule, k, "L"), cell_id(rule, k, "R")) in flagged_pairs(grid_run.results[rule])
    assert got == (cell.expect == MATCH), (
        f"{rule}: {cell.field}, {cell.variant}: expected {cell.expect}, "
        f"{'flagged' if got else 'not flagged'}"
    )


@pytest.mark.parametrize("rule", [g.rule for g in RECORD_GRIDS])
def test_nothing_else_is_flagged(grid_run, rule: str) -> None:
    """Deterministic rules flag no pair but a cell's own: the background is all legitimate."""
    cells = record_cells()[rule]
    expected = {(cell_id(rule, k, "L"), cell_id(rule, k, "R")) for k in range(len(cells))}
    stray = flagged_pairs(grid_run.results[rule]) - expected
    stray -= {(b, a) for a, b in expected}
    assert not stray, sorted(stray)[:10]
