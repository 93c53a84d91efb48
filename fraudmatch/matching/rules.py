"""Match rules: one import for the typed model, the YAML loader and the linter.

The pieces live in ``rule_model`` (dataclasses), ``rule_node``/``rule_loader`` (strict YAML
parsing with key-path errors) and ``rule_lint`` (checks against the data specification);
callers keep importing from here.
"""

from __future__ import annotations

from fraudmatch.matching.conditions import Condition
from fraudmatch.matching.rule_lint import dataset_columns, lint_rules
from fraudmatch.matching.rule_loader import load_rule, load_rules, order_rules, parse_rule
from fraudmatch.matching.rule_model import (
    ALWAYS_PRESENT,
    COMPARISON_TYPES,
    DATE_PART_LEVELS,
    Blocking,
    BlockingRule,
    ColumnRef,
    Comparison,
    Exclusion,
    LevelSelector,
    Problem,
    Rule,
    RuleError,
    Scoring,
)

__all__ = [
    "ALWAYS_PRESENT",
    "COMPARISON_TYPES",
    "DATE_PART_LEVELS",
    "Blocking",
    "BlockingRule",
    "ColumnRef",
    "Comparison",
    "Condition",
    "Exclusion",
    "LevelSelector",
    "Problem",
    "Rule",
    "RuleError",
    "Scoring",
    "dataset_columns",
    "lint_rules",
    "load_rule",
    "load_rules",
    "order_rules",
    "parse_rule",
]
