"""Synthetic councils: a population, each council's 13 extracts, planted fraud and its truth.

Why: the engine can only be tested, tuned and demonstrated on data whose answers are known.
Real extracts cannot leave a council, so this package invents a population in households,
draws each council's datasets from its own residents at realistic rates, plants fraud cases
and near-miss decoys for every rule, then writes the files the way councils really export
them (encodings, header styles, date formats, typos) while keeping the un-noised truth aside.

The stages, in the order `generate` runs them:

- `vocabulary`, `lexicon`, `days`: fixed word lists, datasets, rules, and date helpers;
- `context` (`Ctx.build`): the world, from `population` (people in households, names,
  identifiers) and `addresses` (streets, postcodes, UPRNs);
- `records` and `suppliers`: each council's datasets drawn from its own residents;
- `planting`, `plant_spd`, `plant_money`: fraud cases and near-miss decoys for every rule;
- `truth`: record ids and every pair each rule should flag;
- `emit`, `identity_cells`, `service_cells`, `damage`, `styles`: the cells of each file,
  with the noise and invalid rows of real extracts;
- `writers`: the files, the truth and the manifest.

Everything is vectorised with numpy and polars: loops run over datasets, partners and case
kinds, never over people or records. One seed gives byte-identical output.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

from fraudmatch.synth.context import Ctx
from fraudmatch.synth.days import day_number
from fraudmatch.synth.emit import emit_all
from fraudmatch.synth.planting import plant_all
from fraudmatch.synth.records import natural_records
from fraudmatch.synth.truth import assign_record_ids, truth_cases
from fraudmatch.synth.vocabulary import DATASETS, PARTNERS, RULES, DatasetSpec
from fraudmatch.synth.writers import SynthResult, write_all

__all__ = [
    "DATASETS",
    "PARTNERS",
    "POPULATIONS",
    "RULES",
    "DatasetSpec",
    "SynthResult",
    "generate",
    "population",
]

#: The test populations, each a generator of its own: synth (this package), wild (written
#: apart from synth's habits), third and fourth (written blind to the rules).
POPULATIONS: tuple[str, ...] = ("synth", "wild", "third", "fourth")


def generate(
    out_dir: Path,
    *,
    partners: int = 4,
    people: int = 20_000,
    seed: int = 1,
    cycle_date: date = date(2026, 11, 1),
) -> SynthResult:
    """Write N councils' extracts for a population of `people`, plus the truth files."""
    if not 1 <= partners <= len(PARTNERS):
        raise ValueError(f"partners must be between 1 and {len(PARTNERS)}, got {partners}")
    if people < 500:
        raise ValueError(f"people must be at least 500, got {people}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    out_dir = Path(out_dir)
    ctx = Ctx.build(people=people, n_partners=partners, seed=seed, cycle=day_number(cycle_date))
    natural_records(ctx)
    plant_all(ctx)
    assign_record_ids(ctx)
    cases = truth_cases(ctx)
    emitted, invalid, blanked = emit_all(ctx, cases)
    return write_all(ctx, out_dir, emitted, cases, invalid, blanked, cycle_date)


def population(name: str) -> Callable[..., SynthResult]:
    """The generator of population ``name`` (one of :data:`POPULATIONS`), each called as
    :func:`generate` is. Imported on demand: the others are thousands of lines a command
    that writes one population need not load."""
    if name not in POPULATIONS:
        raise ValueError(f"unknown population {name!r}: one of {', '.join(POPULATIONS)}")
    if name == "synth":
        return generate
    module = importlib.import_module(f"fraudmatch.synth.{name}")
    return getattr(module, f"generate_{name}")
