"""The parties' command-line steps, shared by the end-to-end tests.

Each helper runs the real ``fraudmatch`` CLI (``cli.main``) as a council or the hub would.
"""

from __future__ import annotations

import glob
import re
import shlex
import shutil
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import polars as pl

from fraudmatch.cli import main
from fraudmatch.sealing.bundles import read_bundle
from fraudmatch.shipped import shipped_rules_dir
from fraudmatch.spec.partnership import load_partnership
from fraudmatch.synth.demo import DemoParties

RULES = shipped_rules_dir()
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "parking_permits"


def readme_commands() -> list[list[str]]:
    """The ``fraudmatch ...`` lines of the example's README, split as a shell would."""
    text = (EXAMPLE / "README.md").read_text()
    [block] = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    lines = [line for line in block.splitlines() if line.startswith("fraudmatch ")]
    return [shlex.split(line)[1:] for line in lines]


def expand_globs(args: list[str], folder: Path | None = None) -> list[str]:
    """Expand ``*`` arguments in ``folder`` (default: the current one), as the shell would."""
    return [m for a in args for m in (sorted(glob.glob(a, root_dir=folder)) if "*" in a else [a])]


def prepare(
    parties: DemoParties, partner: str, folder: Path, out: Path, period: str, linkage: Path
) -> None:
    """``fraudmatch prepare`` of every extract in a council's folder."""
    extracts = sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.endswith(".rejects.csv")
    )
    code = main(
        ["prepare", *map(str, extracts), "--period", period,
         "--partnership", str(parties.partnership_path),
         "--key", str(parties.partner_key_paths[partner]),
         "--linkage-key", str(linkage), "--out", str(out)]
    )  # fmt: skip
    assert code == 0


def deliver(prepared: Path, workspace: Path, partners: Iterable[str]) -> None:
    """Copy each council's sealed files into its inbox at the hub."""
    for partner in partners:
        target = workspace / "inbox" / partner
        target.mkdir(parents=True, exist_ok=True)
        for sealed in (prepared / partner).iterdir():
            shutil.copy(sealed, target / sealed.name)


def cycle(parties: DemoParties, workspace: Path, when: date) -> int:
    """``fraudmatch cycle`` at the hub for one cycle date."""
    return main(
        ["cycle", "--workspace", str(workspace),
         "--partnership", str(parties.partnership_path),
         "--hub-key", str(parties.hub_key_path),
         "--rules", str(RULES), "--cycle-date", when.isoformat()]
    )  # fmt: skip


def open_bundle_rows(parties: DemoParties, partner: str, bundle: Path) -> pl.DataFrame:
    """A council's bundle, verified and decrypted with its own key."""
    hub = load_partnership(parties.partnership_path).hub.public
    _, rows = read_bundle(bundle, partner=parties.partner_keys(partner), senders={"hub": hub})
    return rows
