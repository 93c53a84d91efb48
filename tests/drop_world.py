"""Three councils and a hub whose drops are remote, for the SFTP and S3 fault tests."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fraudmatch.council.prepare import prepare_extract
from fraudmatch.sealing.keys import load_partnership_key
from fraudmatch.shipped import shipped_rules_dir
from fraudmatch.spec.partnership import load_partnership
from fraudmatch.synth.demo import make_parties

PARTNERS = ("eastvale", "northmoor", "westfield")
SURNAMES = ("Okafor", "Lindqvist", "Brennan", "Achterberg", "Nakamura", "Oyelaran", "Farrow")
FORENAMES = ("Chidi", "Astrid", "Siobhan", "Pieter", "Haruto", "Funmi", "Gideon")


@dataclass
class DropWorld:
    root: Path
    parties: object
    partnership: Path
    operator: Path
    rules: Path
    names: dict[str, str] = field(default_factory=dict)  # each partner's first sealed file

    def sealed_name(self, partner: str) -> str:
        return self.names[partner]

    def write_operator(self, default: dict, partners: dict | None = None) -> None:
        doc = {"transport": {"default": default, "partners": partners or {}}}
        self.operator.write_text(yaml.safe_dump(doc, sort_keys=False))

    def sealed(self, partner: str, rows: int, period: str = "2026-11", tag: str = "") -> Path:
        """``partner``'s payroll of ``rows`` people (the first two shared by every council,
        so each gets cases), sealed for the hub."""
        lines = ["record_id,surname,forenames,date_of_birth"]
        lines += ["P1,Okafor,Chidi,1981-05-05", "P2,Lindqvist,Astrid,1990-12-24"]
        for i in range(rows - 2):
            surname = f"{SURNAMES[i % 7]}{partner[:3]}{i}"
            lines.append(
                f"{partner[0]}{i},{surname},{FORENAMES[i % 5]},19{50 + i % 50}-0{1 + i % 9}-1{i % 9}"
            )
        extract = self.root / "extracts" / partner / f"payroll{tag}.csv"
        extract.parent.mkdir(parents=True, exist_ok=True)
        extract.write_text("\n".join(lines) + "\n")
        staged = prepare_extract(
            extract,
            dataset="payroll",
            period=period,
            partner=self.parties.partner_keys(partner),
            partnership=load_partnership(self.partnership),
            linkage_key=load_partnership_key(self.parties.linkage_key_path),
            out_dir=self.root / "staged" / partner / (tag or "main"),
        )
        if not tag:
            self.names[partner] = staged.sealed_path.name
        return staged.sealed_path


def drop_world(root: Path, inbox: str, outbox: str) -> DropWorld:
    """The parties, a partnership whose drops are ``inbox``/``outbox`` and one rule."""
    parties = make_parties(root, list(PARTNERS), ["payroll"])
    data = yaml.safe_load(parties.partnership_path.read_text())
    data["transport"] = {"inbox": inbox, "outbox": outbox}
    parties.partnership_path.write_text(yaml.safe_dump(data, sort_keys=False, width=1000))
    rules = root / "rules"
    rules.mkdir()
    shutil.copy(shipped_rules_dir() / "payroll_to_payroll.yaml", rules)
    return DropWorld(root, parties, parties.partnership_path, root / "operator.yaml", rules)
