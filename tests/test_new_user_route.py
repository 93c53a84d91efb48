"""The route a new user takes, on extracts written apart from the rules: the third
population's files (CSV in UTF-8, with a BOM and in Windows-1252, XLSX, ISO and day-first
dates) through ``fraudmatch prepare`` with nothing declared, ``cycle`` and ``open``, give
every council exactly the pairs the library route finds under the same linkage key.

Why: the benchmarks score the library route; a council sees its case list. A file read
another way (a date order detected wrongly, an encoding, a spreadsheet's cells) or a case
lost on the way to a council would show here as a pair one route has and the other not.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from cli_steps import RULES, cycle, deliver, prepare

from fraudmatch.cli import main
from fraudmatch.library import case_list_pairs, pair_keys, pseudonymised_frames, truth_pairs
from fraudmatch.matching.engine import run_rules
from fraudmatch.matching.rules import load_rules
from fraudmatch.sealing.keys import load_linkage_key
from fraudmatch.spec.specs import load_spec
from fraudmatch.synth.demo import make_parties
from fraudmatch.synth.third import generate_third

CYCLE, PERIOD = date(2026, 11, 1), "2026-11"


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory, prefect_harness) -> dict:
    root = tmp_path_factory.mktemp("new-user")
    councils = root / "councils"
    synth = generate_third(councils, partners=5, people=3_000, seed=5, cycle_date=CYCLE)
    parties = make_parties(root, synth.partners, list(load_spec().datasets))
    for partner in synth.partners:
        prepare(parties, partner, councils / partner, root / "prepared" / partner, PERIOD,
                parties.linkage_key_path)  # fmt: skip
    workspace = root / "workspace"
    deliver(root / "prepared", workspace, synth.partners)
    assert cycle(parties, workspace, CYCLE) == 0
    lists: list[Path] = []
    for partner in synth.partners:
        out = root / "case-lists" / partner
        code = main(
            ["open", *map(str, sorted((workspace / "outbox" / partner).glob("*.bundle"))),
             "--partnership", str(parties.partnership_path),
             "--key", str(parties.partner_key_paths[partner]),
             "--extracts", str(councils / partner), "--out", str(out)]
        )  # fmt: skip
        assert code == 0
        lists += sorted(out.glob("*.cases.csv"))
    # the library route: the same extracts, the same period key, the hub's sampling seed
    key = load_linkage_key(parties.linkage_key_path).for_period(PERIOD)
    frames = pseudonymised_frames(councils, key)
    rules = [
        r for r in load_rules(RULES)
        if {r.left, r.right} <= set(frames) and not r.exclude and not r.internal
    ]  # fmt: skip
    library = run_rules(rules, frames, cycle_date=CYCLE)
    return {
        "cli": case_list_pairs(lists, rules),
        "library": {n: r.matches for n, r in library.items()},
        "rules": rules,
        "truth": truth_pairs(councils),
    }


def _pairs(frame: pl.DataFrame, one: bool) -> set[tuple[str, ...]]:
    return set(pair_keys(frame, one).select(pl.exclude("rule", "kind", "label")).rows())


def test_every_council_sees_what_the_library_route_finds(routes: dict) -> None:
    assert len(routes["rules"]) >= 9  # the nine person rules the third population feeds
    for rule in routes["rules"]:
        cli = _pairs(routes["cli"][rule.name], rule.one_dataset)
        library = _pairs(routes["library"][rule.name], rule.one_dataset)
        assert cli == library, (rule.name, sorted(cli - library), sorted(library - cli))


def test_the_route_finds_the_planted_cases(routes: dict) -> None:
    """Not a figure to tune to (benchmarks/accuracy.py has those): a floor that a file read
    wrongly (every date of one council lost, say) would break."""
    truth = routes["truth"].filter(pl.col("kind") == "case")
    found = planted = 0
    for rule in routes["rules"]:
        cases = _pairs(truth.filter(pl.col("rule") == rule.name), rule.one_dataset)
        found += len(cases & _pairs(routes["cli"][rule.name], rule.one_dataset))
        planted += len(cases)
    assert planted >= 20
    assert found >= 0.85 * planted, (found, planted)
