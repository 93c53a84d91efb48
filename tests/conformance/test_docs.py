"""docs/rules.md shows every rule's conformance grid as the grid definitions state it."""

from __future__ import annotations

from tests.conformance.render import BEGIN, DOC, END, render, updated


def test_rules_md_shows_the_grids() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, "run: python -m tests.conformance.render"
    assert updated(text) == text, "docs/rules.md is out of date: python -m tests.conformance.render"


def test_every_rule_has_both_tables() -> None:
    section = render()
    for rule in ("payroll_to_creditors", "council_tax_spd_to_electoral_register"):
        part = section.split(f"### `{rule}`", 1)[1].split("### ", 1)[0]
        assert "Catches:" in part and "Never flags:" in part
