"""At a council: validate, keys, prepare, open, and synthetic extracts to try them on."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from fraudmatch.cli.common import (
    SPEC_HELP,
    command_spec,
    console,
    err_console,
    parse_date,
)
from fraudmatch.common.errors import USER_ERRORS
from fraudmatch.spec.date_formats import DATE_ORDERS


def _declared_format(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The date order and encoding to validate with: the options, else the partner's.

    ``--partner`` reads what the partnership file declares for that partner's dataset, so
    ``validate`` reads a file as ``prepare`` will.
    """
    date_format, encoding = args.date_format, args.encoding
    if args.partner:
        from fraudmatch.spec.partnership import load_partnership

        if not args.partnership:
            raise ValueError("--partner needs --partnership: the file that declares its formats")
        declared = load_partnership(args.partnership).partner(args.partner)
        declared_format = declared.format_for(args.dataset)
        date_format = date_format or declared_format.date_format
        encoding = encoding or declared_format.encoding
    return date_format, encoding


def cmd_validate(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import validation_tables
    from fraudmatch.council.ingest import ingest

    dataset = command_spec(args).dataset(args.dataset)
    date_format, encoding = _declared_format(args)
    result = ingest(args.file, dataset, date_format=date_format, encoding=encoding)
    rejects_path = args.rejects or Path(args.file).with_suffix(".rejects.csv")
    result.rejects.write_csv(rejects_path)
    for t in validation_tables(result):
        console.print(t)
    for w in result.warnings:
        console.print(f"[yellow]warning[/]: {w}")
    console.print(f"rejects report: {rejects_path}")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from fraudmatch.synth import population

    make = population(args.population)
    result = make(
        Path(args.out),
        partners=args.partners,
        people=args.people,
        seed=args.seed,
        cycle_date=args.cycle_date,
    )
    console.print(f"wrote {len(result.partners)} councils to {result.out_dir}")
    console.print(f"ground truth: {result.out_dir / 'truth'}")
    return 0


def cmd_keys_new(args: argparse.Namespace) -> int:
    from fraudmatch.sealing.keys import load_public, new_party

    private, public = new_party(args.name, Path(args.out))
    identity = load_public(public)
    console.print(f"private keys (keep, mode 0600): {private}")
    console.print(f"public keys (send to the partnership): {public}")
    console.print(f"fingerprint: {identity.fingerprint}")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from fraudmatch.sealing.keyring import rotate_party, rotated, schedule_yaml
    from fraudmatch.spec.partnership import load_partnership

    partnership = load_partnership(args.partnership)
    party = partnership.hub if args.name == partnership.hub.name else partnership.partner(args.name)
    private, public, identity = rotate_party(args.name, Path(args.out), args.start)
    schedule = rotated(party.keys, identity, args.start, args.overlap)
    console.print(
        f"new private keys (keep, mode 0600; never send): {private}\n"
        f"new public keys: {public}\nfingerprint: {identity.fingerprint}\n"
        "Keep the current .private file beside the new one while the previous key is valid "
        f"({schedule.keys[-2].describe()}): fraudmatch loads every {args.name}.*.private "
        "beside the key file it is given.\n"
        f"Replace the keys of {args.name!r} in {args.partnership} with these lines (in place of "
        "public_key/public_key_file or keys:), and send that file to every party; check the "
        "new fingerprint with them by phone:",
        markup=False,
    )
    console.print(schedule_yaml(schedule, indent=2), markup=False, soft_wrap=True)
    return 0


def cmd_keys_partnership(args: argparse.Namespace) -> int:
    from fraudmatch.sealing.keys import key_period, new_partnership_key, rotate_partnership_key

    if args.rotate is None:
        path = new_partnership_key(args.out)
        console.print(f"partnership linkage key (share with partners only, never the hub): {path}")
        return 0
    if args.start is None:
        raise ValueError("--rotate needs --from PERIOD: the first period the new key is used for")
    start = key_period(args.start)
    path, generation = rotate_partnership_key(args.rotate, args.out)
    console.print(
        f"linkage key generation {generation} (share with partners only, never the hub): {path}\n"
        f"keep {args.rotate} for periods before {start}. Add to partnership.yaml, after any "
        f"generations already listed, and send that file to every party, the hub included "
        f"(the key file goes to the partners only, never the hub):\n"
        f"linkage_key:\n  generations:\n    - {{generation: {generation}, from: {start}}}"
    )
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import prepare_table, validation_tables
    from fraudmatch.council.prepare import prepare_extract
    from fraudmatch.sealing.keyring import load_keyring
    from fraudmatch.sealing.keys import load_linkage_key
    from fraudmatch.spec.partnership import load_partnership

    partnership = load_partnership(args.partnership)
    spec = command_spec(args)
    keys = load_keyring(args.key)
    linkage = load_linkage_key(args.linkage_key)
    results, lines = [], []
    for extract in map(Path, args.extracts):
        try:
            if not extract.is_file():
                raise FileNotFoundError(
                    f"no such file: {extract}" + (" (a folder)" if extract.is_dir() else "")
                )
            result = prepare_extract(
                extract,
                dataset=args.dataset or extract.stem,
                period=args.period,
                partner=keys,
                partnership=partnership,
                linkage_key=linkage,
                out_dir=Path(args.out),
                spec=spec,
                max_rejected=args.max_rejected,
            )
        except USER_ERRORS as exc:  # this file is not sent; the others still are
            lines.append(f"not sent: {extract}: {exc}")
            continue
        for t in validation_tables(result.validation):
            console.print(t)
        for w in result.validation.warnings:  # how it was read: encoding, date order
            console.print(f"[yellow]warning[/]: {extract.name}: {w}")
        results.append(result)
        lines.append(f"sealed: {extract} -> {result.sealed_path}")
    if results:
        console.print(prepare_table(results))
    for line in lines:
        console.print(line, markup=False)
    unsent = len(args.extracts) - len(results)
    if unsent:
        err_console.print(f"{unsent} of {len(args.extracts)} file(s) not sent", markup=False)
    return 1 if unsent else 0


def cmd_open(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import table
    from fraudmatch.council.open import find_extracts, open_bundle
    from fraudmatch.sealing.keyring import load_keyring
    from fraudmatch.spec.partnership import load_partnership

    partnership = load_partnership(args.partnership)
    keys = load_keyring(args.key)
    extracts = find_extracts(Path(args.extracts))
    me = partnership.partners.get(keys.name)
    encodings = {ds: e for ds in extracts if me is not None and (e := me.format_for(ds).encoding)}
    for bundle in args.bundles:
        cases = open_bundle(
            Path(bundle),
            partner=keys,
            senders={partnership.hub.name: partnership.hub.keys},
            extracts=extracts,
            out_dir=Path(args.out),
            encodings=encodings,
        )
        console.print(f"{Path(bundle).name}: {cases.describe()}")
        if cases.superseded_by is not None:
            continue
        console.print(
            table(
                f"{keys.name}: cases in {Path(bundle).name}",
                cases.summary.columns,
                cases.summary.rows(),
            )
        )
        console.print(f"case list: {cases.csv_path}")
        console.print(f"           {cases.xlsx_path}")
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    from flows.submit import submit_flow
    from fraudmatch.cli.tables import table
    from fraudmatch.council.submit import SubmitIncomplete

    try:
        result = submit_flow(
            export_dir=str(args.export_dir),
            partnership=str(args.partnership),
            partner_key=str(args.key),
            linkage_key=str(args.linkage_key),
            drop=str(args.to) if args.to else None,
            period=args.period,
            operator=str(args.operator) if args.operator else None,
            force=args.force,
            spec=str(args.spec) if args.spec else None,
        )
        code = 0
    except SubmitIncomplete as exc:
        result, code = exc.result, 1
    rows = [
        [Path(item["extract"]).name, what, item.get("sealed") or item.get("reason", "")]
        for what in ("sent", "unchanged", "refused", "failed")
        for item in result[what]
    ]
    console.print(table("extracts", ["extract", "outcome", "sealed file or reason"], rows))
    return code


def cmd_fetch(args: argparse.Namespace) -> int:
    from fraudmatch.cli.tables import table
    from fraudmatch.common.drops import options_for
    from fraudmatch.council.submit import drop_of, fetch_and_open
    from fraudmatch.sealing.keyring import load_keyring
    from fraudmatch.spec.partnership import load_partnership

    partnership = load_partnership(args.partnership)
    keys = load_keyring(args.key)
    operator = args.operator or Path(args.partnership).resolve().parent / "operator.yaml"
    fetched, opened = fetch_and_open(
        drop_of(partnership, keys.name, "outbox", args.source),
        partnership=partnership,
        partner=keys,
        extracts=Path(args.extracts),
        out_dir=Path(args.out),
        options=options_for(operator if Path(operator).is_file() else None, keys.name),
    )
    rows = [[p.name, "fetched and opened", str(c.csv_path)] for p, c in opened]
    rows += [[name, "already fetched", ""] for name in fetched.already]
    rows += [[name, "left for later", why] for name, why in fetched.waiting]
    rows += [[name, "failed", why] for name, why in fetched.failed]
    console.print(
        table(f"{keys.name}: bundles", ["bundle", "outcome", "case list or reason"], rows)
    )
    return 1 if fetched.failed else 0


def _drop_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--partnership", type=Path, required=True, help="partnership.yaml")
    p.add_argument("--key", type=Path, required=True, help="this council's .private key file")
    p.add_argument(
        "--operator",
        type=Path,
        help="this council's drop options: host, port, user, key_file, known_hosts... "
        "(default: operator.yaml beside the partnership file, if any)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``fraudmatch`` parser."""

    p = sub.add_parser("validate", help="check an extract against the data specification")
    p.add_argument("--dataset", required=True, help="dataset name, e.g. payroll")
    p.add_argument("file", type=Path, help="the extract (CSV, XLSX or Parquet)")
    p.add_argument("--rejects", type=Path, help="where to write the rejects CSV")
    p.add_argument("--spec", type=Path, help=SPEC_HELP)
    p.add_argument(
        "--partnership", type=Path, help="partnership.yaml (for its spec:, and with --partner)"
    )
    p.add_argument(
        "--partner", help="read the file as partnership.yaml declares for this partner's dataset"
    )
    p.add_argument(
        "--date-format",
        choices=DATE_ORDERS,
        help="how numeric dates are written: dmy (25/03/1990), mdy (03/25/1990) or iso only "
        "(default: the partner's declaration, else what the dates show)",
    )
    p.add_argument(
        "--encoding", help="the CSV's encoding, e.g. cp1252 (default: declared, else detected)"
    )
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("synth", help="write synthetic council extracts with planted cases")
    p.add_argument("--partners", type=int, default=4)
    p.add_argument("--people", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--cycle-date", type=parse_date, default=date(2026, 11, 1))
    p.add_argument("--out", type=Path, required=True)
    p.add_argument(
        "--population",
        # fraudmatch.synth.POPULATIONS, written out: importing the package costs every
        # command a third of a second (tests/test_synth_populations.py keeps them equal)
        choices=("synth", "wild", "third", "fourth"),
        default="synth",
        help="synth (default), or wild: a second population written apart from synth's habits"
        " (per-council gaps, other name and address shapes, labelled hard negatives), or"
        " third: a third population written blind to the rules, or fourth: a fourth, also"
        " blind to the rules (Scottish, Northern Irish and metropolitan councils' habits)",
    )
    p.set_defaults(handler=cmd_synth)

    p = sub.add_parser("keys", help="make key pairs and the partnership linkage key")
    keys_sub = p.add_subparsers(dest="keys_command", required=True, metavar="KEYS_COMMAND")
    k = keys_sub.add_parser("new", help="a party's encryption and signing key pairs")
    k.add_argument("name", help="the party's name as in partnership.yaml, e.g. northmoor")
    k.add_argument("--out", type=Path, required=True, help="folder for NAME.private/.public")
    k.set_defaults(handler=cmd_keys_new)
    k = keys_sub.add_parser("rotate", help="a party's next key pair, and the lines to send")
    k.add_argument("name", help="the party's name as in partnership.yaml (hub or a partner)")
    k.add_argument("--partnership", type=Path, required=True, help="partnership.yaml")
    k.add_argument("--out", type=Path, required=True, help="folder of the party's key files")
    k.add_argument(
        "--from", dest="start", required=True, metavar="PERIOD", help="first period (YYYY-MM)"
    )
    k.add_argument(
        "--overlap",
        type=int,
        default=1,
        metavar="MONTHS",
        help="months from --from in which the previous key is still accepted (default 1)",
    )
    k.set_defaults(handler=cmd_keys_rotate)
    k = keys_sub.add_parser("partnership", help="the partners' shared linkage key")
    k.add_argument("--out", type=Path, required=True, help="file to write (mode 0600)")
    k.add_argument(
        "--rotate",
        type=Path,
        metavar="CURRENT",
        help="replace the secret: write the generation after CURRENT's (kept for old periods)",
    )
    k.add_argument(
        "--from", dest="start", metavar="PERIOD", help="with --rotate: first period (YYYY-MM)"
    )
    k.set_defaults(handler=cmd_keys_partnership)

    p = sub.add_parser("prepare", help="validate, pseudonymise and seal extracts for the hub")
    p.add_argument("extracts", nargs="+", type=Path, help="extract files (dataset from name)")
    p.add_argument("--dataset", help="dataset name (default: each file's name, e.g. payroll)")
    p.add_argument(
        "--period",
        required=True,
        help="the cycle's period, YYYY-MM (the month of the hub's cycle date): tokens are keyed "
        "for it, and the hub refuses a submission for another period",
    )
    p.add_argument("--partnership", type=Path, required=True, help="partnership.yaml")
    p.add_argument("--key", type=Path, required=True, help="this council's .private key file")
    p.add_argument("--linkage-key", type=Path, required=True, help="partnership linkage key")
    p.add_argument("--out", type=Path, required=True, help="folder for the sealed submissions")
    p.add_argument("--spec", type=Path, help=SPEC_HELP)
    p.add_argument(
        "--max-rejected", type=float, default=0.25, help="refuse above this share of rejects"
    )
    p.set_defaults(handler=cmd_prepare)

    p = sub.add_parser("open", help="verify, decrypt and re-identify a bundle from the hub")
    p.add_argument("bundles", nargs="+", type=Path, help="bundle files from the hub")
    p.add_argument("--partnership", type=Path, required=True, help="partnership.yaml")
    p.add_argument("--key", type=Path, required=True, help="this council's .private key file")
    p.add_argument("--extracts", type=Path, required=True, help="folder with the own extracts")
    p.add_argument("--out", type=Path, required=True, help="folder for the case lists")
    p.set_defaults(handler=cmd_open)

    p = sub.add_parser(
        "submit",
        help="prepare every new or changed extract of an export folder and deliver it to "
        "the hub's drop (folder, sftp:// or s3://)",
    )
    p.add_argument("export_dir", type=Path, help="folder the council's systems export to")
    _drop_options(p)
    p.add_argument("--linkage-key", type=Path, required=True, help="partnership linkage key")
    p.add_argument(
        "--period",
        required=True,
        help="the cycle's period, YYYY-MM (the month of the hub's cycle date)",
    )
    p.add_argument(
        "--to", type=str, help="the drop (default: the partnership's transport.inbox for us)"
    )
    p.add_argument("--force", action="store_true", help="send unchanged extracts again too")
    p.add_argument("--spec", type=Path, help=SPEC_HELP)
    p.set_defaults(handler=cmd_submit)

    p = sub.add_parser("fetch", help="fetch this council's new bundles from its drop, open them")
    _drop_options(p)
    p.add_argument(
        "--from",
        dest="source",
        type=str,
        help="the drop (default: the partnership's transport.outbox for us)",
    )
    p.add_argument("--extracts", type=Path, required=True, help="folder with the own extracts")
    p.add_argument("--out", type=Path, required=True, help="folder for bundles and case lists")
    p.set_defaults(handler=cmd_fetch)
