"""``make demo``: a whole cycle on synthetic councils, on one machine.

Plays every party in turn: the councils generate and prepare extracts, the hub runs the
cycle, each council opens its bundle. Each step is the same library call the CLI makes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml

from fraudmatch.cli.common import make_console
from fraudmatch.sealing.keys import PartyKeys, load_private, new_partnership_key, new_party
from fraudmatch.shipped import shipped_rules_dir
from fraudmatch.spec.specs import load_spec

console = make_console(stderr=False)
HUB = "hub"
DEFAULT_RULES = shipped_rules_dir()


@dataclass
class DemoParties:
    """Where the demo keeps each party's keys and the shared partnership file."""

    root: Path
    partnership_path: Path
    linkage_key_path: Path
    hub_key_path: Path
    partner_key_paths: dict[str, Path]

    def partner_keys(self, name: str) -> PartyKeys:
        return load_private(self.partner_key_paths[name])

    def hub_keys(self) -> PartyKeys:
        return load_private(self.hub_key_path)


def partnership_document(
    publics: dict[str, Path], partners: Sequence[str], datasets: Sequence[str], name: str
) -> dict:
    """A partnership.yaml document with inline public keys."""
    return {
        "name": name,
        "hub": {"name": HUB, "public_key": publics[HUB].read_text()},
        "partners": [
            {"name": p, "public_key": publics[p].read_text(), "datasets": list(datasets)}
            for p in partners
        ],
        "schedule": {"cron": "0 6 1 * *", "timezone": "Europe/London"},
        "retention_days": 400,
    }


def make_parties(root: Path, partners: Sequence[str], datasets: Sequence[str]) -> DemoParties:
    """Key pairs for the hub and each partner, the linkage key, and partnership.yaml."""
    keys_dir = root / "keys"
    publics: dict[str, Path] = {}
    privates: dict[str, Path] = {}
    for party in [HUB, *partners]:
        (keys_dir / party).mkdir(parents=True, exist_ok=True)
        private, public = new_party(party, keys_dir / party)
        privates[party], publics[party] = private, public
    (keys_dir / "partners-only").mkdir(parents=True, exist_ok=True)
    linkage = new_partnership_key(keys_dir / "partners-only" / "partnership.key")
    doc = partnership_document(publics, partners, datasets, "Demo joint fraud partnership")
    path = root / "partnership.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, width=1000))
    return DemoParties(
        root=root,
        partnership_path=path,
        linkage_key_path=linkage,
        hub_key_path=privates[HUB],
        partner_key_paths={p: privates[p] for p in partners},
    )


def step(title: str, command: str) -> None:
    console.rule(f"[bold]{title}")
    console.print(f"[dim]$ {command}[/]")


def run(
    out: Path,
    *,
    partners: int,
    people: int,
    seed: int,
    cycle_date: date,
    rules_dir: Path = DEFAULT_RULES,
) -> int:
    from fraudmatch.cli.tables import prepare_table
    from fraudmatch.council.prepare import prepare_extract
    from fraudmatch.sealing.keys import load_linkage_key
    from fraudmatch.spec.partnership import load_partnership
    from fraudmatch.synth import generate

    started = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    period = cycle_date.strftime("%Y-%m")

    extracts = out / "councils"
    step(
        "1. councils export their extracts (synthetic, with planted cases)",
        f"fraudmatch synth --partners {partners} --people {people} --seed {seed} --out {extracts}",
    )
    synth = generate(extracts, partners=partners, people=people, seed=seed, cycle_date=cycle_date)
    console.print(f"{len(synth.partners)} councils: {', '.join(synth.partners)}")

    step("2. every party makes keys; partners share a linkage key", "fraudmatch keys new NAME")
    datasets = list(load_spec().datasets)
    parties = make_parties(out, synth.partners, datasets)
    partnership = load_partnership(parties.partnership_path)
    linkage = load_linkage_key(parties.linkage_key_path)
    console.print(f"partnership: {parties.partnership_path}")

    from fraudmatch.hub.workspace import open_workspace

    workspace = open_workspace(out / "workspace", partnership)
    step(
        "3. each council validates, pseudonymises and seals its extracts",
        "fraudmatch prepare --partnership partnership.yaml --key KEY --linkage-key KEY "
        f"--period {period} --out OUTBOX EXTRACTS...",
    )
    for partner in synth.partners:
        keys = parties.partner_keys(partner)
        results = []
        for extract in sorted((extracts / partner).iterdir()):
            if extract.name.endswith(".rejects.csv"):
                continue
            results.append(
                prepare_extract(
                    extract,
                    dataset=extract.stem,
                    period=period,
                    partner=keys,
                    partnership=partnership,
                    linkage_key=linkage,
                    out_dir=workspace.inbox(partner),
                    rejects_path=out / "rejects" / partner / f"{extract.stem}.rejects.csv",
                )
            )
        console.print(prepare_table(results, title=f"{partner}: sealed for the hub"))

    step(
        "4. the hub collects, matches and distributes (one Prefect flow run)",
        "fraudmatch cycle --partnership partnership.yaml --hub-key hub.private "
        f"--cycle-date {cycle_date}",
    )
    from flows.cycle import cycle_flow
    from fraudmatch.cli.tables import cycle_tables

    summary = cycle_flow(
        workspace=str(workspace.root),
        partnership=str(parties.partnership_path),
        hub_key=str(parties.hub_key_path),
        rules_dir=str(rules_dir),
        cycle_date=cycle_date,
    )
    for t in cycle_tables(summary):
        console.print(t)

    step(
        "5. each council opens its bundle and gets its own case list",
        "fraudmatch open --partnership partnership.yaml --key KEY --extracts DIR --out DIR BUNDLE",
    )
    from fraudmatch.cli.tables import table
    from fraudmatch.council.open import open_bundle

    case_lists = []
    senders = {partnership.hub.name: partnership.hub.keys}
    for bundle in summary["bundles"]:
        partner = bundle["partner"]
        cases = open_bundle(
            Path(bundle["path"]),
            partner=parties.partner_keys(partner),
            senders=senders,
            extracts={p.stem: p for p in (extracts / partner).iterdir() if p.is_file()},
            out_dir=out / "case-lists" / partner,
        )
        console.print(
            table(f"{partner}: cases by rule", cases.summary.columns, cases.summary.rows())
        )
        case_lists.append((partner, cases.xlsx_path))

    later = _past_retention(partnership.retention_days)
    step(
        f"6. {partnership.retention_days + 1} days later: the next cycle deletes what is past "
        "the agreed retention period",
        f"fraudmatch cycle ... --cycle-date {later}   (or: fraudmatch retention --dry-run)",
    )
    from fraudmatch.cli.tables import retention_table

    second = cycle_flow(
        workspace=str(workspace.root),
        partnership=str(parties.partnership_path),
        hub_key=str(parties.hub_key_path),
        rules_dir=str(rules_dir),
        cycle_date=later,
    )
    console.print(retention_table(second["retention"]))

    elapsed = time.perf_counter() - started
    console.rule("[bold]done")
    console.print(f"extracts and ground truth: {extracts}")
    console.print(f"rejects reports (stay with each council): {out / 'rejects'}")
    console.print(f"hub workspace: {workspace.root}")
    console.print(f"[bold]match report: {summary['report']}[/]")
    console.print(f"next cycle's report, with the deletions: {second['report']}")
    for partner, path in case_lists:
        console.print(f"case list for {partner}: {path}")
    console.print(f"finished in {elapsed:.1f} s")
    return 0


def _past_retention(days: int) -> date:
    """A cycle date past the retention of everything stored today (the hub dates what it
    stores by its own clock, so the clock moves from today, not from the cycle date)."""
    return date.today() + timedelta(days=days + 1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fraudmatch.synth.demo", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument("--partners", type=int, default=4)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cycle-date", type=date.fromisoformat, default=date(2026, 11, 1))
    args = parser.parse_args(argv)
    return run(
        args.out,
        partners=args.partners,
        people=args.people,
        seed=args.seed,
        cycle_date=args.cycle_date,
    )


if __name__ == "__main__":
    sys.exit(main())
