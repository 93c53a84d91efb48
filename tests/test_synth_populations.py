"""Every test population is reachable by name from the library, the CLI and the benchmarks."""

from __future__ import annotations

import argparse

import pytest

from fraudmatch.cli import build_parser
from fraudmatch.synth import POPULATIONS, generate, population
from fraudmatch.synth.fourth import generate_fourth
from fraudmatch.synth.third import generate_third
from fraudmatch.synth.wild import generate_wild


def _choices(parser: argparse.ArgumentParser, command: str, option: str) -> tuple[str, ...]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    action = next(a for a in sub.choices[command]._actions if option in a.option_strings)
    return tuple(action.choices)


def test_each_name_gives_its_generator() -> None:
    makers = [population(name) for name in POPULATIONS]
    assert makers == [generate, generate_wild, generate_third, generate_fourth]


def test_an_unknown_name_says_which_exist() -> None:
    with pytest.raises(ValueError, match="unknown population 'fifth': one of synth, wild"):
        population("fifth")


def test_the_synth_command_offers_every_population() -> None:
    assert _choices(build_parser(), "synth", "--population") == POPULATIONS
