"""A YAML value with its key path, so each rule error names the file, key and expectation."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from fraudmatch.common.hints import did_you_mean
from fraudmatch.matching.rule_model import ColumnRef, RuleError


def hint(name: str, known: Iterable[str]) -> str:
    """A did-you-mean suffix for an unknown ``name``."""
    return did_you_mean(name, known)


@dataclass(frozen=True)
class Node:
    """A value in the YAML document with its key path, for error messages."""

    source: str
    path: str
    value: Any

    def fail(self, message: str) -> RuleError:
        return RuleError(f"{self.source}: {self.path or '<top>'}: {message}")

    def child(self, key: str | int) -> Node:
        sep = "" if not self.path else "."
        part = f"[{key}]" if isinstance(key, int) else f"{sep}{key}"
        value = self.value[key]
        return Node(self.source, f"{self.path}{part}", value)

    def mapping(self, required: Sequence[str], optional: Sequence[str] = ()) -> None:
        if not isinstance(self.value, dict):
            raise self.fail(f"expected a mapping with keys {', '.join(required)}, got {kind(self)}")
        known = [*required, *optional]
        for key in self.value:
            if key not in known:
                raise Node(self.source, self._sub(key), None).fail(
                    f"unknown key{hint(str(key), known)} (expected one of: {', '.join(known)})"
                )
        for key in required:
            if key not in self.value:
                raise Node(self.source, self._sub(key), None).fail("missing")

    def _sub(self, key: Any) -> str:
        return f"{self.path}.{key}" if self.path else str(key)

    def choice(self, key: str, choices: Sequence[str], expected: str) -> str:
        """The required ``key`` of this mapping, one of ``choices`` (``expected``: its keys)."""
        if not isinstance(self.value, dict):
            raise self.fail(f"expected a mapping with {expected}, got {kind(self)}")
        found = self.opt(key)
        if found is None:
            raise Node(self.source, self._sub(key), None).fail(
                f"missing (one of {', '.join(choices)})"
            )
        return found.str(choices)

    def opt(self, key: str) -> Node | None:
        if isinstance(self.value, dict) and key in self.value and self.value[key] is not None:
            return self.child(key)
        return None

    def str(self, choices: Sequence[str] | None = None) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.fail(f"expected a non-empty string, got {kind(self)}")
        if choices is not None and self.value not in choices:
            raise self.fail(
                f"expected one of {', '.join(choices)}, got {self.value!r}"
                + hint(self.value, choices)
            )
        return self.value

    def name(self) -> str:
        value = self.str()
        if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
            raise self.fail(f"expected a snake_case name (a-z, 0-9, _), got {value!r}")
        return value

    def number(self, *, minimum: float | None = None, maximum: float | None = None) -> float:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise self.fail(f"expected a number, got {kind(self)}")
        if minimum is not None and self.value < minimum:
            raise self.fail(f"expected a number >= {minimum}, got {self.value}")
        if maximum is not None and self.value > maximum:
            raise self.fail(f"expected a number <= {maximum}, got {self.value}")
        return float(self.value)

    def integer(self, *, minimum: int = 1) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.fail(f"expected a whole number, got {kind(self)}")
        if self.value < minimum:
            raise self.fail(f"expected a whole number >= {minimum}, got {self.value}")
        return self.value

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail(f"expected true or false, got {kind(self)}")
        return self.value

    def items(self) -> list[Node]:
        if not isinstance(self.value, list) or not self.value:
            raise self.fail(f"expected a non-empty list, got {kind(self)}")
        return [self.child(i) for i in range(len(self.value))]

    def pairs(self) -> list[tuple[str, Node]]:
        if not isinstance(self.value, dict) or not self.value:
            raise self.fail(f"expected a non-empty mapping, got {kind(self)}")
        return [(str(k), self.child(k)) for k in self.value]


def kind(node: Node) -> str:
    v = node.value
    if v is None:
        return "nothing"
    if isinstance(v, bool):
        return f"a boolean ({v})"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, str):
        return f"a string ({v!r})"
    return f"{type(v).__name__} ({v!r})"


def column_ref(node: Node) -> ColumnRef:
    if isinstance(node.value, dict):
        node.mapping(["left", "right"])
        return ColumnRef(node.child("left").str(), node.child("right").str())
    if not isinstance(node.value, str) or not node.value.strip():
        raise node.fail(f"expected a column name or {{left: .., right: ..}}, got {kind(node)}")
    return ColumnRef(node.value, node.value)


def column_refs(node: Node) -> tuple[ColumnRef, ...]:
    if isinstance(node.value, list):
        return tuple(column_ref(n) for n in node.items())
    return (column_ref(node),)


# --------------------------------------------------------------------------- sections


class YamlLoader(yaml.SafeLoader):
    """YAML with only true/false as booleans (YAML 1.2): ``on``, ``no``, ``yes`` stay text."""


YamlLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    YamlLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), [_first]
    )
