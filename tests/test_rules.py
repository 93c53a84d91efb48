"""The rule loader and linter: typed rules, and errors that say file, key path and fix."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from fraudmatch.matching.rules import RuleError, lint_rules, load_rule, load_rules, parse_rule
from fraudmatch.spec.bloom import BloomParams
from fraudmatch.spec.specs import load_spec

RULES = Path(__file__).parent / "rules"
SPEC = load_spec()
BASE = yaml.safe_load((RULES / "payroll_to_housing_benefit.yaml").read_text())


def test_example_rules_load_and_lint_clean() -> None:
    rules = load_rules(RULES)
    assert {r.name for r in rules} >= {
        "payroll_to_housing_benefit",
        "creditor_duplicate_payments",
        "council_tax_spd_to_electoral_register",
        "council_tax_disregard_in_force",
    }
    assert lint_rules(rules, SPEC, BloomParams()) == []
    assert lint_rules(RULES, SPEC) == []


def test_rule_model_is_typed_and_frozen() -> None:
    rule = load_rule(RULES / "payroll_to_housing_benefit.yaml")
    assert rule.left == "payroll" and rule.right == "housing_benefit" and not rule.one_dataset
    assert rule.risk == "high" and rule.value_per_case == 4300.0 and rule.scope == "any"
    surname = rule.comparison("surname")
    assert surname.labels == ("exact", "very_close", "close", "similar", "else")
    assert [surname.gamma(x) for x in surname.labels] == [4, 3, 2, 1, 0]
    assert surname.tf_column is not None and surname.tf_column.right == "surname__tok"
    veto = rule.scoring.veto[0]
    forenames = next(s for s in veto if s.comparison == "forenames")
    assert forenames.gammas == frozenset({0, 1})  # "<= similar": similar or else, not null
    assert rule.blocking.rules[3].split_hot_by[0].left == "forenames__first__tok"
    with pytest.raises(AttributeError):
        rule.name = "x"  # type: ignore[misc]
    dup = load_rule(RULES / "creditor_duplicate_payments.yaml")
    assert dup.one_dataset and dup.left == dup.right == "creditor_payments"
    ge = dup.scoring.match_when[1][1]
    assert ge.comparison == "invoice_date" and ge.gammas == frozenset({1, 2})


def mutate(path: str, value, *, delete: bool = False) -> dict:
    doc = copy.deepcopy(BASE)
    keys = path.split(".")
    node = doc
    for k in keys[:-1]:
        node = node[int(k)] if k.isdigit() else node[k]
    last = int(keys[-1]) if keys[-1].isdigit() else keys[-1]
    if delete:
        del node[last]
    elif isinstance(node, list) and last == len(node):
        node.append(value)
    else:
        node[last] = value
    return doc


def error_of(doc: dict, tmp_path: Path) -> str:
    path = tmp_path / "rule.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(RuleError) as exc:
        load_rule(path)
    return str(exc.value)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        # unknown keys, with did-you-mean
        (
            {**BASE, "descripton": "x"},
            "descripton: unknown key; did you mean 'description'?",
        ),
        (
            mutate("comparisons.1.treshold", 1),
            "comparisons[1].treshold: unknown key; did you mean 'thresholds'?",
        ),
        (
            mutate("blocking.rules.0.split_hot", "x"),
            "blocking.rules[0].split_hot: unknown key; did you mean 'split_hot_by'?",
        ),
        (mutate("scoring.thresold", 1), "scoring.thresold: unknown key; did you mean 'threshold'?"),
        # wrong types and values
        (mutate("risk", 5), "risk: expected a non-empty string, got int (5)"),
        (mutate("risk", "hihg"), "risk: expected one of high, medium, low, got 'hihg'"),
        (mutate("scope", "across"), "did you mean 'across_partners'?"),
        (mutate("blocking.pair_budget", "lots"), "blocking.pair_budget: expected a whole number"),
        (mutate("comparisons.0.type", "exakt"), "did you mean 'exact'?"),
        (
            mutate("comparisons.1.thresholds", {"a": 0.5, "b": 0.9}),
            "values must be strictly decreasing",
        ),
        (mutate("comparisons.1.thresholds", {"a": 1.5}), "expected a number <= 1.0, got 1.5"),
        (mutate("comparisons.1.thresholds", {"else": 0.5}), "'else' is implicit"),
        (mutate("comparisons.0.tf_adjust", "yes"), "tf_adjust: expected true or false"),
        (mutate("scoring.threshold", {"match_probability": 2}), "expected a number <= 1.0"),
        (mutate("internal", "no"), "internal: expected true or false, got a string ('no')"),
        (
            mutate(
                "comparisons.1",
                {
                    "name": "places",
                    "type": "spread",
                    "column": "address__street__tok",
                    "by": "postcode__district__tok",
                    "within": "home",
                    "levels": {"several": 2},
                },
            ),
            "comparisons[1].within: expected one of home_area, got 'home'; did you mean "
            "'home_area'?",
        ),
        # missing keys
        (mutate("scoring", None, delete=True), "scoring: missing"),
        (mutate("right", None, delete=True), "right: missing (give left and right datasets"),
        (mutate("comparisons.0.column", None, delete=True), "comparisons[0].column: missing"),
        (mutate("scoring.threshold", None, delete=True), "scoring.threshold: missing"),
        # references inside the rule
        (
            mutate("scoring.hard_match", [{"nino": "exact"}]),
            "scoring.hard_match[0].nino: unknown comparison; did you mean 'ni'?",
        ),
        (
            mutate("scoring.hard_match", [{"ni": "exect"}]),
            "unknown level 'exect' of comparison 'ni'; did you mean 'exact'?",
        ),
        (mutate("scoring.hard_match", [{"ni": "> exact"}]), "expected a level, '>= level'"),
        (
            mutate("comparisons.0.m", {"exact": 0.9}),
            "comparisons[0].m: give a probability for every level; missing else",
        ),
        (
            mutate("comparisons.0.m", {"exact": 0.9, "else": 0.1}),
            "comparisons[0].m: give both m and u to fix them (missing u)",
        ),
        # conditions are safe expressions
        (mutate("conditions", ["__import__('os')"]), "'__import__' is not allowed"),
        (mutate("conditions", ["os.system('rm')"]), "columns are written l.<column>"),
        (mutate("conditions", ["l.end_date >= :today"]), "unknown parameter ':today'"),
        (mutate("conditions", ["l.end_date >= ; DROP TABLE x"]), "unexpected text at ';"),
        (mutate("conditions", ["l.end_date >="]), "not a valid expression"),
        (mutate("conditions", ["1 = 1"]), "must refer to l.<column> or r.<column>"),
        (mutate("conditions", ["l.end_date > SELECT"]), "'SELECT' is not allowed"),
        (mutate("exclude", [{"rule": "other", "sde": "left"}]), "did you mean 'side'?"),
    ],
)
def test_loader_errors_name_file_path_and_fix(doc: dict, expected: str, tmp_path: Path) -> None:
    message = error_of(doc, tmp_path)
    assert message.startswith(str(tmp_path / "rule.yaml") + ": ")
    assert expected in message


def test_yaml_on_and_no_are_not_booleans(tmp_path: Path) -> None:
    doc = mutate("blocking.rules.0", {"name": "ni", "on": "ni_number__tok"})
    message = error_of(doc, tmp_path)
    assert "blocking.rules[0].on: unknown key" in message  # not "True: unknown key"


def test_dataset_and_left_right_are_exclusive(tmp_path: Path) -> None:
    assert "give either dataset" in error_of({**BASE, "dataset": "payroll"}, tmp_path)


def test_load_rules_checks_names_and_exclusions(tmp_path: Path) -> None:
    a = {**BASE, "exclude": [{"rule": "payrol_helper"}]}
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(a, sort_keys=False))
    with pytest.raises(RuleError, match="exclude\\[0\\].rule: unknown rule 'payrol_helper'"):
        load_rules(tmp_path)
    b = {**BASE, "name": "payroll_helper", "exclude": [{"rule": "payroll_to_housing_benefit"}]}
    a["exclude"] = [{"rule": "payroll_helper"}]
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(a, sort_keys=False))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(b, sort_keys=False))
    with pytest.raises(RuleError, match="rules exclude each other"):
        load_rules(tmp_path)
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(BASE, sort_keys=False))
    with pytest.raises(RuleError, match="already defined in"):
        load_rules(tmp_path)


def lint_one(doc: dict) -> list[str]:
    return [str(p) for p in lint_rules([parse_rule(doc, "r.yaml")], SPEC, BloomParams())]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            mutate("comparisons.0.column", "ni_number_tok"),
            "r.yaml: comparisons[0].column: unknown column 'ni_number_tok' in the pseudonymised"
            " payroll; did you mean 'ni_number__tok'?",
        ),
        (
            mutate("blocking.rules.1.keys", ["date_of_birth", "surname__metaphone"]),
            "r.yaml: blocking.rules[1].keys: unknown column 'date_of_birth' in the pseudonymised"
            " payroll; did you mean 'date_of_birth__my'?",
        ),
        (
            mutate("comparisons.1.column", "surnam"),
            "comparisons[1].column: unknown column 'surnam' in the pseudonymised payroll (no"
            " Bloom encoding); did you mean 'surname'?",
        ),
        (
            mutate("comparisons.3.column", "date_of_death"),
            "comparisons[3].column: unknown column 'date_of_death' in the pseudonymised payroll"
            " (no date parts)",
        ),
        (mutate("right", "housing_benfit"), "right: unknown dataset 'housing_benfit'; did you"),
        (
            mutate("conditions", ["l.end_dte IS NULL"]),
            "conditions[0]: unknown column l.end_dte in the pseudonymised payroll; did you mean"
            " 'end_date'?",
        ),
        (
            mutate(
                "comparisons.5",
                {"name": "job", "type": "date_diff", "column": "job_title", "levels": {"same": 0}},
            ),
            "column 'job_title' of payroll is not a date",
        ),
        (
            mutate(
                "comparisons.5",
                {
                    "name": "places",
                    "type": "spread",
                    "column": "address__line__tok",
                    "by": "postcode__district__tok",
                    "across": ["electoral_registr"],
                    "levels": {"several": 2},
                },  # fmt: skip
            ),
            "comparisons[5].across[0]: unknown dataset 'electoral_registr'; did you mean "
            "'electoral_register'?",
        ),
        (
            mutate(
                "comparisons.5",
                {
                    "name": "places",
                    "type": "spread",
                    "column": "address__line__tok",
                    "by": "postcode__district__tok",
                    "across": ["creditor_payments"],
                    "levels": {"several": 2},
                },  # fmt: skip
            ),
            "comparisons[5].across[0]: unknown column 'address__line__tok' in the pseudonymised"
            " creditor_payments",
        ),
    ],
)
def test_lint_names_unknown_columns(doc: dict, expected: str) -> None:
    problems = lint_one(doc)
    assert any(expected in p for p in problems), problems


def test_lint_accepts_partner_and_record_id() -> None:
    doc = mutate("blocking.rules.0.keys", ["partner", "record_id"])
    assert lint_one(doc) == []


def test_explain_blocking_from_a_rule() -> None:
    import polars as pl

    from fraudmatch.matching.blocking import explain_blocking

    rule = load_rule(RULES / "creditor_duplicate_payments.yaml")
    frame = pl.DataFrame(
        {
            "partner": ["a", "a", "a", "b"],
            "record_id": ["1", "2", "3", "4"],
            "supplier_id": ["S", "S", "S", "S"],
            "amount": [5.0, 5.0, 6.0, 5.0],
        }
    )
    table = explain_blocking(rule, frame)
    assert table.select("blocking_rule", "candidate_pairs", "new_pairs").rows() == [
        ("supplier_amount", 1, 1)
    ]


def _warnings(doc: dict) -> list[str]:
    problems = lint_rules([parse_rule(doc, "r.yaml")], SPEC, BloomParams())
    assert all(p.severity == "warning" for p in problems), problems
    return [f"{p.path}: {p.message}" for p in problems]


def test_check_warns_on_a_veto_that_fires_on_a_missing_value() -> None:
    doc = mutate("scoring.veto", [{"ni": "null", "postcode": "!= exact"}])
    got = _warnings(doc)
    assert any(w.startswith("scoring.veto[0].ni: the veto fires when ni is missing") for w in got)
    assert any(w.startswith("scoring.veto[0].postcode: the veto fires when postcode is missing")
               for w in got)  # fmt: skip
    # positive disagreement only: a different NI number is a veto the principles allow
    assert _warnings(mutate("scoring.veto", [{"ni": "else"}])) == []


def test_check_lets_a_common_name_stay_undecided_where_the_home_is_missing() -> None:
    """An undecided that fires on a missing value warns, unless it rests on a common value."""
    doc = mutate("scoring.undecided", [{"postcode": ["else", "null"]}])
    assert any(
        w.startswith("scoring.undecided[0].postcode: the undecided fires when postcode is missing")
        for w in _warnings(doc)
    )
    doc["comparisons"].append(
        {"name": "surname_frequency", "type": "frequency", "column": "surname__tok",
         "levels": {"common": 0.01}, "m": {"common": 0.5, "else": 0.5},
         "u": {"common": 0.5, "else": 0.5}}
    )  # fmt: skip
    doc["scoring"]["undecided"] = [{"surname_frequency": "common", "postcode": ["else", "null"]}]
    assert _warnings(doc) == []
    # a frequency level that a missing or rare value also meets is no common value
    doc["scoring"]["undecided"] = [{"surname_frequency": "!= common", "postcode": "null"}]
    assert any("the undecided fires when postcode is missing" in w for w in _warnings(doc))


def test_check_warns_on_the_frauds_own_signature_used_against_it() -> None:
    doc = mutate("scope", "across_partners")
    doc["scoring"]["veto"] = [{"postcode": "!= exact", "dob": "exact"}]
    got = _warnings(doc)
    assert any("this fraud makes postcode differ (two homes)" in w for w in got)
    assert any(w.startswith("comparisons[") and "the model weighs postcode" in w for w in got)
    # the same veto where the rule says the fraud's signature is something else
    doc["signature"] = ["uprn"]
    assert not any("two homes" in w or "model weighs" in w for w in _warnings(doc))


def test_check_warns_when_every_combination_needs_a_field_that_may_be_missing() -> None:
    doc = yaml.safe_load((RULES / "creditor_duplicate_payments.yaml").read_text())
    assert _warnings(doc) == []  # requires: [invoice_number]
    del doc["requires"]
    assert _warnings(doc) == [
        "scoring.match_when: every combination needs invoice_number, which a record may leave "
        "empty: a record without it can never match; add a combination for it missing"
    ]


def test_datasets_a_spread_looks_in_are_inputs_but_not_required() -> None:
    """payroll_to_creditors counts where a street line is found over the register and the
    other address datasets: a new register submission makes it match again (an input), but
    a partnership without a register still runs it (not required)."""
    from fraudmatch.hub.runs import rule_datasets
    from fraudmatch.shipped import shipped_rules_dir

    rules = {r.name: r for r in load_rules(shipped_rules_dir())}
    rule = rules["payroll_to_creditors"]
    assert rule_datasets(rule, rules) == ["payroll", "creditors"]
    looked_up = rule_datasets(rule, rules, looked_up=True)
    assert looked_up[:2] == ["payroll", "creditors"]
    assert {"electoral_register", "housing_tenants", "deceased"} <= set(looked_up)


def test_either_names_alternatives_a_clause_stands_for(tmp_path: Path) -> None:
    """A clause naming a set of alternatives is one clause per alternative, each with the
    clause's other selectors; a misnamed set or a value other than 'any' is refused."""
    doc = copy.deepcopy(BASE)
    doc["scoring"]["either"] = {"no_home": [{"postcode": "null"}, {"postcode": "district"}]}
    doc["scoring"]["hard_match"] = [{"no_home": "any", "ni": "exact"}, {"dob": "exact"}]
    rule = parse_rule(doc)
    clauses = [{(s.comparison, s.text) for s in c} for c in rule.scoring.hard_match]
    assert clauses == [
        {("postcode", "null"), ("ni", "exact")},
        {("postcode", "district"), ("ni", "exact")},
        {("dob", "exact")},
    ]
    bad = copy.deepcopy(doc)
    bad["scoring"]["hard_match"][0]["no_home"] = "exact"
    assert "{no_home: any}" in error_of(bad, tmp_path)
    bad = copy.deepcopy(doc)
    bad["scoring"]["either"] = {"ni": [{"postcode": "null"}]}
    assert "a name of its own" in error_of(bad, tmp_path)
    bad = copy.deepcopy(doc)
    bad["scoring"]["hard_match"][0] = {"no_hom": "any"}
    assert "no_home" in error_of(bad, tmp_path)  # the hint names the set
