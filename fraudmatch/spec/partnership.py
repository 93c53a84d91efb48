"""The partnership: who takes part, their public keys, what each submits, and when.

Every party holds the same ``partnership.yaml``. It carries only public keys, so it can
be mailed around; the hub uses it to check that a file comes from a known partner for a
dataset that partner submits, and partners use it to check the hub's bundles.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fraudmatch.common.hints import did_you_mean
from fraudmatch.sealing.keyring import Keyring, KeySchedule
from fraudmatch.sealing.keys import PartyKeys, PublicIdentity, load_public
from fraudmatch.shipped import SHIPPED, shipped_rules_dir
from fraudmatch.spec.bloom import BloomParams
from fraudmatch.spec.date_formats import DATE_ORDERS

_TOP_KEYS = {
    "name",
    "hub",
    "partners",
    "schedule",
    "retention_days",
    "bloom",
    "engine",
    "transport",
    "spec",
    "rules",
    "linkage_key",
}
_KEY_ENTRY_KEYS = {"public_key", "public_key_file", "from", "until"}
_FORMAT_KEYS = {"date_format", "encoding"}
_PARTY_KEYS = {
    "name", "public_key", "public_key_file", "keys", "datasets", "description", *_FORMAT_KEYS
}  # fmt: skip
_DATASET_KEYS = {"name", *_FORMAT_KEYS}


class PartnershipError(ValueError):
    """The partnership file is invalid; the message names the file and key."""


@dataclass(frozen=True)
class ExtractFormat:
    """How a partner writes its extracts, where it says so; None: detected from the file.

    A declaration beats detection: an export whose dates all read either way (every day
    at most 12) cannot be told apart, and the partner's data officer knows the answer.
    """

    date_format: str | None = None  # iso | dmy | mdy
    encoding: str | None = None  # a Python codec name, e.g. cp1252

    def over(self, base: ExtractFormat) -> ExtractFormat:
        """This declaration, falling back to ``base`` (the partner's) where it is silent."""
        return ExtractFormat(
            date_format=self.date_format or base.date_format,
            encoding=self.encoding or base.encoding,
        )


@dataclass(frozen=True)
class Party:
    """A party of the partnership: its keys over time and, for a partner, what it submits."""

    name: str
    keys: KeySchedule
    datasets: tuple[str, ...] = ()
    description: str = ""
    # the partner's declared extract format, and per dataset where one differs
    extract_format: ExtractFormat = ExtractFormat()
    dataset_formats: Mapping[str, ExtractFormat] = field(default_factory=dict)

    def format_for(self, dataset: str) -> ExtractFormat:
        """The declared format of ``dataset``'s extract: the dataset's, else the partner's."""
        return self.dataset_formats.get(dataset, ExtractFormat()).over(self.extract_format)

    @property
    def public(self) -> PublicIdentity:
        """The newest key listed; period-aware code uses ``keys.current(period)``."""
        return self.keys.newest


@dataclass(frozen=True)
class Partnership:
    """A parsed ``partnership.yaml``."""

    name: str
    hub: Party
    partners: Mapping[str, Party]
    schedule_cron: str = "0 6 1 * *"
    timezone: str = "Europe/London"
    retention_days: int = 400
    bloom: Mapping[str, int] = field(default_factory=dict)
    engine: Mapping[str, Any] = field(default_factory=dict)
    # fsspec URLs with {partner}: where councils drop submissions and pick up bundles
    transport: Mapping[str, str] = field(default_factory=dict)
    # (first period YYYY-MM, generation) of each linkage key, oldest first; none: generation 1
    linkage_generations: tuple[tuple[str, int], ...] = ()
    source: str = "<memory>"
    # the partnership's data specification (extends the shipped one); None: the shipped one
    spec: Path | None = None
    # rule folders, in order; the shipped rules unless the file says otherwise
    rules: tuple[Path, ...] = field(default_factory=lambda: (shipped_rules_dir(),))

    def linkage_generation(self, period: str) -> int:
        """The linkage-key generation partners use for ``period`` (``linkage_key.generations``).

        Before the first listed generation (or with none listed) it is generation 1, the key
        every partnership starts with.
        """
        month = period[:7]
        in_force = [gen for start, gen in self.linkage_generations if start <= month]
        return in_force[-1] if in_force else 1

    def partner(self, name: str) -> Party:
        try:
            return self.partners[name]
        except KeyError:
            hint = did_you_mean(name, self.partners)
            raise KeyError(
                f"{name!r} is not a partner in {self.source}{hint} "
                f"(partners: {', '.join(self.partners)})"
            ) from None

    def senders(self) -> dict[str, KeySchedule]:
        """The keys of everyone who may sign a file, by name, each checked against the
        file's period when it is opened."""
        out = {p.name: p.keys for p in self.partners.values()}
        out[self.hub.name] = self.hub.keys
        return out

    def partner_senders(self) -> dict[str, KeySchedule]:
        """Only partners submit: the hub's own key is not a valid submission sender."""
        return {p.name: p.keys for p in self.partners.values()}

    def keys_to_hub(
        self, partner: PartyKeys | Keyring, period: str
    ) -> tuple[PartyKeys, PublicIdentity]:
        """A partner's private key to sign a file of ``period`` with, and the hub key to seal
        it to, as this file lists them for the period (they change when a party rotates its
        keys). From a keyring (what the CLI loads) the listed key for the period is chosen;
        one pair given is used as it is. A ValueError says which key is missing or invalid."""
        signer = partner
        if isinstance(partner, Keyring):
            signer = partner.for_period(self.partner(partner.name).keys, period)
        return signer, self.hub.keys.current(period)


def _extract_format(raw: Mapping[str, Any], path: str, source: str) -> ExtractFormat:
    """``date_format`` and ``encoding`` of a partner or one of its datasets, checked."""
    date_format, encoding = raw.get("date_format"), raw.get("encoding")
    if date_format is not None and date_format not in DATE_ORDERS:
        raise PartnershipError(
            f"{source}: {path}.date_format: expected one of {', '.join(DATE_ORDERS)} "
            f"(iso: 1990-03-25; dmy: 25/03/1990; mdy: 03/25/1990), not {date_format!r}"
        )
    if encoding is not None:
        try:
            codecs.lookup(str(encoding))
        except LookupError:
            raise PartnershipError(
                f"{source}: {path}.encoding: {encoding!r} is not a known encoding "
                "(e.g. utf-8, utf-8-sig, cp1252, latin-1)"
            ) from None
    return ExtractFormat(
        date_format=date_format, encoding=None if encoding is None else str(encoding)
    )


def _datasets(raw: Any, path: str, source: str) -> tuple[tuple[str, ...], dict[str, ExtractFormat]]:
    """``datasets: [payroll, {name: creditors, date_format: mdy}]``: names and their formats."""
    if not isinstance(raw, list):
        raise PartnershipError(f"{source}: {path}: expected a list of dataset names")
    names: list[str] = []
    formats: dict[str, ExtractFormat] = {}
    for i, entry in enumerate(raw):
        where = f"{path}[{i}]"
        if isinstance(entry, dict):
            unknown = set(entry) - _DATASET_KEYS
            if unknown:
                key = sorted(unknown)[0]
                raise PartnershipError(
                    f"{source}: {where}.{key}: unknown key{did_you_mean(key, _DATASET_KEYS)} "
                    f"(a dataset takes {', '.join(sorted(_DATASET_KEYS))})"
                )
            if not isinstance(entry.get("name"), str):
                raise PartnershipError(f"{source}: {where}.name: expected the dataset's name")
            formats[entry["name"]] = _extract_format(entry, where, source)
            entry = entry["name"]
        elif not isinstance(entry, str):
            raise PartnershipError(
                f"{source}: {where}: expected a dataset name, or a mapping such as "
                "{name: payroll, date_format: dmy, encoding: cp1252}"
            )
        names.append(entry)
    return tuple(names), formats


def _party(raw: Any, path: str, source: str, base: Path) -> Party:
    if not isinstance(raw, dict):
        raise PartnershipError(f"{source}: {path}: expected a mapping with name and public_key")
    unknown = set(raw) - _PARTY_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise PartnershipError(
            f"{source}: {path}.{key}: unknown key{did_you_mean(key, _PARTY_KEYS)}"
        )
    if "name" not in raw:
        raise PartnershipError(f"{source}: {path}.name: missing")
    keys = _party_keys(raw, path, source, base)
    datasets, formats = _datasets(raw.get("datasets", []), f"{path}.datasets", source)
    return Party(
        name=raw["name"],
        keys=keys,
        datasets=datasets,
        description=str(raw.get("description", "")),
        extract_format=_extract_format(raw, path, source),
        dataset_formats=formats,
    )


def _public_key(raw: dict, path: str, name: str, source: str, base: Path) -> PublicIdentity:
    """One key: inline ``public_key`` text or a ``public_key_file`` beside the partnership."""
    if "public_key" in raw:
        text = raw["public_key"]
    elif "public_key_file" in raw:
        key_path = Path(raw["public_key_file"])
        key_path = key_path if key_path.is_absolute() else base / key_path
        try:
            text = key_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PartnershipError(f"{source}: {path}.public_key_file: {exc}") from None
    else:
        raise PartnershipError(f"{source}: {path}: needs public_key or public_key_file")
    try:
        public = load_public(text)
    except ValueError as exc:
        raise PartnershipError(f"{source}: {path}.public_key: {exc}") from None
    if public.name != name:
        raise PartnershipError(
            f"{source}: {path}.public_key: the key belongs to {public.name!r}, not {name!r}"
        )
    return public


def _party_keys(raw: dict, path: str, source: str, base: Path) -> KeySchedule:
    """``public_key``/``public_key_file`` (one key, every period), or ``keys:``, a list of
    keys each with ``from`` (its first period) and optionally ``until`` (last accepted)."""
    name = raw["name"]
    if "keys" not in raw:
        return KeySchedule.single(_public_key(raw, path, name, source, base))
    if "public_key" in raw or "public_key_file" in raw:
        raise PartnershipError(
            f"{source}: {path}: give either keys or public_key/public_key_file, not both"
        )
    entries = raw["keys"]
    if not isinstance(entries, list) or not entries:
        raise PartnershipError(
            f"{source}: {path}.keys: expected a list such as "
            "[{public_key_file: keys/hub.public}, {public_key_file: keys/hub.2027-01.public, "
            "from: 2027-01}]"
        )
    parsed = []
    for i, entry in enumerate(entries):
        where = f"{path}.keys[{i}]"
        if not isinstance(entry, dict):
            raise PartnershipError(f"{source}: {where}: expected a mapping with public_key")
        unknown = set(entry) - _KEY_ENTRY_KEYS
        if unknown:
            key = sorted(unknown)[0]
            hint = did_you_mean(key, _KEY_ENTRY_KEYS)
            raise PartnershipError(f"{source}: {where}.{key}: unknown key{hint}")
        public = _public_key(entry, where, name, source, base)
        parsed.append((public, entry.get("from"), entry.get("until")))
    try:
        return KeySchedule.build(name, parsed)
    except ValueError as exc:
        raise PartnershipError(f"{source}: {path}.{exc}") from None


def _transport(raw: Any, source: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - {"inbox", "outbox"}:
        raise PartnershipError(
            f"{source}: transport: expected inbox and/or outbox URLs, e.g. "
            "inbox: sftp://host/drop/{partner}"
        )
    return {k: str(v) for k, v in raw.items()}


def _spec_path(raw: Any, source: str, base: Path) -> Path | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise PartnershipError(f"{source}: spec: expected the path of a specification file")
    path = Path(raw)
    return path if path.is_absolute() else base / path


def _rule_folders(raw: Any, source: str, base: Path) -> tuple[Path, ...]:
    """``rules: [shipped, ./rules]``: the shipped rules and/or the partnership's own."""
    if raw is None:
        return (shipped_rules_dir(),)
    entries = [raw] if isinstance(raw, str) else raw
    if not isinstance(entries, list) or not entries or not all(isinstance(e, str) for e in entries):
        raise PartnershipError(
            f"{source}: rules: expected a list of rule folders, e.g. [{SHIPPED}, ./rules]"
        )
    folders = []
    for i, entry in enumerate(entries):
        path = shipped_rules_dir() if entry == SHIPPED else Path(entry)
        path = path if path.is_absolute() else base / path
        if not path.is_dir():
            raise PartnershipError(f"{source}: rules[{i}]: {path} is not a folder of rules")
        folders.append(path)
    return tuple(folders)


def _linkage_generations(raw: Any, source: str) -> tuple[tuple[str, int], ...]:
    """``linkage_key: {generations: [{generation: 2, from: 2027-01}, ...]}``, checked."""
    if raw is None:
        return ()
    path = "linkage_key.generations"
    gens = raw.get("generations") if isinstance(raw, dict) and set(raw) <= {"generations"} else None
    if not isinstance(gens, list) or not gens:
        raise PartnershipError(
            f"{source}: {path}: expected a list such as [{{generation: 1, from: 2026-01}}]"
        )
    out: list[tuple[str, int]] = []
    for i, g in enumerate(gens):
        if not isinstance(g, dict) or set(g) != {"generation", "from"}:
            raise PartnershipError(f"{source}: {path}[{i}]: expected generation and from")
        gen, start = g["generation"], str(g["from"])
        if not isinstance(gen, int) or isinstance(gen, bool) or gen < 1:
            raise PartnershipError(f"{source}: {path}[{i}].generation: a whole number from 1")
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", start):
            raise PartnershipError(f"{source}: {path}[{i}].from: a period such as 2027-01")
        if out and (gen <= out[-1][1] or start <= out[-1][0]):
            raise PartnershipError(
                f"{source}: {path}[{i}]: generations must rise, each from a later period"
            )
        out.append((start, gen))
    return tuple(out)


def parse_partnership(data: Any, source: str = "<memory>", base: Path | None = None) -> Partnership:
    """Validate a parsed YAML document into a :class:`Partnership`."""
    base = base or Path.cwd()
    if not isinstance(data, dict):
        raise PartnershipError(f"{source}: expected a mapping with hub and partners")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise PartnershipError(f"{source}: {key}: unknown key{did_you_mean(key, _TOP_KEYS)}")
    if "hub" not in data:
        raise PartnershipError(f"{source}: hub: missing")
    hub = _party(data["hub"], "hub", source, base)
    partners: dict[str, Party] = {}
    for i, raw in enumerate(data.get("partners") or []):
        party = _party(raw, f"partners[{i}]", source, base)
        if party.name in partners or party.name == hub.name:
            raise PartnershipError(f"{source}: partners[{i}].name: {party.name!r} appears twice")
        partners[party.name] = party
    if not partners:
        raise PartnershipError(f"{source}: partners: at least one partner is needed")
    schedule = data.get("schedule") or {}
    retention = data.get("retention_days", 400)
    if not isinstance(retention, int) or retention < 1:
        raise PartnershipError(f"{source}: retention_days: expected a positive whole number")
    return Partnership(
        name=str(data.get("name", "partnership")),
        hub=hub,
        partners=partners,
        schedule_cron=str(schedule.get("cron", "0 6 1 * *")),
        timezone=str(schedule.get("timezone", "Europe/London")),
        retention_days=retention,
        bloom=dict(data.get("bloom") or {}),
        engine=dict(data.get("engine") or {}),
        transport=_transport(data.get("transport"), source),
        linkage_generations=_linkage_generations(data.get("linkage_key"), source),
        source=source,
        spec=_spec_path(data.get("spec"), source, base),
        rules=_rule_folders(data.get("rules"), source, base),
    )


def load_partnership(path: Path | str) -> Partnership:
    """Load ``partnership.yaml``; relative key-file paths resolve next to it."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PartnershipError(f"{path}: partnership file not found") from None
    except yaml.YAMLError as exc:
        raise PartnershipError(f"{path}: not valid YAML: {exc}") from None
    return parse_partnership(data, source=str(path), base=path.parent)


def bloom_params(partnership: Partnership) -> BloomParams:
    """The partnership's Bloom settings: every partner must encode alike to compare."""
    return BloomParams(**partnership.bloom) if partnership.bloom else BloomParams()
