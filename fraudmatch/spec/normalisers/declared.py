"""Identifiers a partnership declares in its specification, without writing code.

A partnership that matches a dataset the shipped specification lacks usually brings an
identifier of its own: a permit number, a licence number, a foreign national identifier.
It declares its shape in the specification::

    permit_number:
      type: string
      normaliser: {kind: identifier, pattern: 'RP[0-9]{7}', check_digit: luhn}
      pseudonymise: [token]

The value is canonicalised first (case folded, separators removed) so that the same number
written by two systems gives one token, then checked against the pattern (the whole value
must match) and the check digit. Patterns use the regular-expression syntax of polars (the
Rust ``regex`` crate: no look-around or back-references), checked when the specification
loads so that a bad pattern names its column before any extract is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from fraudmatch.spec.normalisers.core import F, Normalised, Normaliser, bind, finish, let

__all__ = ["CHECK_DIGITS", "OptionError", "identifier_normaliser", "compile_pattern"]


class OptionError(ValueError):
    """A declared normaliser's option is invalid; ``key`` names the option."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def compile_pattern(pattern: Any, key: str = "pattern") -> str:
    """The anchored pattern, or :class:`OptionError` saying why polars cannot compile it."""
    if not isinstance(pattern, str) or not pattern:
        raise OptionError(key, f"expected a regular expression, got {pattern!r}")
    anchored = f"^(?:{pattern})$"
    try:
        pl.select(pl.lit("").str.contains(anchored))
    except pl.exceptions.PolarsError as exc:
        detail = str(exc).split("\n\nThis error occurred", 1)[0]
        raise OptionError(key, f"the pattern {pattern!r} does not compile: {detail}") from None
    return anchored


def _reversed_digits(value: pl.Expr) -> pl.Expr:
    """The value's digits, last first, as a list of integers (letters are ignored)."""
    digits = value.str.replace_all(r"[^0-9]", "").str.reverse()
    return digits.str.split("").list.eval(pl.element().cast(pl.Int64))


def luhn_ok(value: pl.Expr) -> pl.Expr:
    """Luhn (ISO/IEC 7812): payment cards, IMEIs and many permit and account numbers."""
    d = _reversed_digits(value)
    position = pl.int_range(pl.len())
    doubled = pl.element() * 2 - pl.when(pl.element() > 4).then(9).otherwise(0)
    total = d.list.eval(pl.when(position % 2 == 1).then(doubled).otherwise(pl.element()))
    return (d.list.len() >= 2) & (total.list.sum() % 10 == 0)


def mod11_ok(value: pl.Expr) -> pl.Expr:
    """Modulus 11 as the NHS number uses it: weights 2, 3, ... from the right, check digit
    11 - (sum mod 11), where 11 is 0 and 10 is never issued."""
    d = _reversed_digits(value)
    position = pl.int_range(pl.len())
    weighted = d.list.eval(pl.when(position > 0).then(pl.element() * (position + 1)).otherwise(0))
    check = (11 - weighted.list.sum() % 11) % 11
    return (d.list.len() >= 2) & (check != 10) & (check == d.list.first())


CHECK_DIGITS: dict[str, Callable[[pl.Expr], pl.Expr]] = {"luhn": luhn_ok, "mod11": mod11_ok}
_CASES = ("upper", "lower", "keep")
_DEFAULT_SEPARATORS = " -./"
_IDENTIFIER_OPTIONS = {"kind", "pattern", "check_digit", "case", "separators"}


def _option(options: Mapping[str, Any], key: str, default: Any, allowed: tuple[str, ...]) -> Any:
    value = options.get(key, default)
    if value not in allowed:
        raise OptionError(key, f"expected one of {', '.join(map(str, allowed))}, got {value!r}")
    return value


def identifier_normaliser(options: Mapping[str, Any]) -> Normaliser:
    """Build the normaliser a column declares (see the module docstring); options:

    ``pattern`` (required) the whole canonical value must match it; ``check_digit``
    ``luhn`` or ``mod11`` over the value's digits, the last digit being the check digit;
    ``case`` ``upper`` (default), ``lower`` or ``keep``; ``separators`` the characters
    dropped wherever they are (default space, hyphen, dot and slash).
    """
    unknown = sorted(set(options) - _IDENTIFIER_OPTIONS)
    if unknown:
        raise OptionError(
            unknown[0],
            f"unknown option; options: {', '.join(sorted(_IDENTIFIER_OPTIONS - {'kind'}))}",
        )
    if "pattern" not in options:
        raise OptionError("pattern", "missing: an identifier needs the pattern it must match")
    pattern = compile_pattern(options["pattern"])
    check = _option(options, "check_digit", None, (None, *CHECK_DIGITS))
    case = _option(options, "case", "upper", _CASES)
    separators = options.get("separators", _DEFAULT_SEPARATORS)
    if not isinstance(separators, str):
        raise OptionError("separators", f"expected the characters to drop, got {separators!r}")

    def normalise_identifier(raw: pl.Expr) -> Normalised:
        text = raw.str.strip_chars()
        text = {"upper": text.str.to_uppercase(), "lower": text.str.to_lowercase()}.get(case, text)
        if separators:
            text = text.str.replace_many(list(separators), [""] * len(separators))
        state = bind(raw, s=text)
        s = F("s")
        checks = [
            (s == "", "no characters left after removing separators"),
            (~s.str.contains(pattern), "identifier does not match the declared pattern"),
        ]
        if check is not None:
            state = let(state, ok=CHECK_DIGITS[check](s))
            checks.append((~F("ok"), f"identifier fails its {check} check digit"))
        return finish(state, s, checks)

    return normalise_identifier
