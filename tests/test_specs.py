"""The data specification loads, covers DESIGN.md's datasets, and explains its own errors."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from fraudmatch.spec.bloom import BloomParams
from fraudmatch.spec.outputs import output_columns
from fraudmatch.spec.specs import DEFAULT_SPEC_PATH, SpecError, load_spec, parse_spec

DATASETS = {
    "payroll",
    "housing_benefit",
    "council_tax_reduction",
    "council_tax_spd",
    "council_tax_disregards",
    "electoral_register",
    "blue_badge",
    "concessionary_travel",
    "deceased",
    "housing_tenants",
    "housing_waiting_list",
    "creditors",
    "creditor_payments",
}


def raw() -> dict:
    return yaml.safe_load(DEFAULT_SPEC_PATH.read_text())


def test_shipped_spec_has_every_dataset_with_required_columns() -> None:
    spec = load_spec()
    assert set(spec.datasets) == DATASETS
    assert spec.dataset("payroll").required == [
        "record_id",
        "surname",
        "forenames",
        "date_of_birth",
    ]
    assert spec.dataset("creditor_payments").required == [
        "record_id",
        "supplier_id",
        "invoice_date",
        "amount",
    ]


def test_identifiers_never_travel_clear() -> None:
    identifying = {"name", "ni_number", "postcode", "address", "sort_code", "account_number"}
    for ds in load_spec().datasets.values():
        for col in ds.columns:
            if col.normaliser in identifying and ds.name != "creditor_payments":
                assert "clear" not in col.pseudonymise, (ds.name, col.name)
    reason = load_spec().dataset("council_tax_disregards").column("disregard_reason")
    assert reason.withheld


def test_a_dataset_can_be_added_in_yaml(tmp_path: Path) -> None:
    data = raw()
    data["datasets"]["library_members"] = {
        "description": "People with a library card.",
        "columns": {
            "record_id": {
                "type": "string",
                "required": True,
                "normaliser": "record_id",
                "pseudonymise": ["clear"],
            },
            "surname": {"type": "string", "normaliser": "name", "pseudonymise": ["token"]},
        },
    }
    path = tmp_path / "datasets.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_spec(path).dataset("library_members").column_names == ["record_id", "surname"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["datasets"]["payroll"]["columns"]["surname"].update(normalizer="name"),
            "datasets.payroll.columns.surname.normalizer: unknown key; did you mean 'normaliser'?",
        ),
        (
            lambda d: d["datasets"]["payroll"]["columns"]["surname"].update(type="str"),
            "datasets.payroll.columns.surname.type: expected one of string, date, number",
        ),
        (
            lambda d: d["datasets"]["payroll"]["columns"]["surname"].update(pseudonymise=["hash"]),
            "datasets.payroll.columns.surname.pseudonymise: expected methods from",
        ),
        (
            lambda d: d["datasets"]["payroll"]["columns"]["start_date"].update(
                pseudonymise=["bloom"]
            ),
            "'bloom' does not apply to a date",
        ),
        (
            lambda d: d["datasets"]["payroll"]["columns"].pop("record_id"),
            "every dataset needs a record_id column",
        ),
        (
            lambda d: d["datasets"]["payroll"]["columns"]["surname"].update(
                extras=["first", "sound"]
            ),
            "datasets.payroll.columns.surname.extras: 'sound' is not an extra of the name "
            "normaliser (its extras: first, last, initial, formal, given, initials, two_initials, letters, form1 ... form10, swap, swap_first, given_near, slip1 ... slip10)",
        ),
        (
            lambda d: d["datasets"]["payroll"]["columns"]["surname"].update(extras="first"),
            "datasets.payroll.columns.surname.extras: expected a list of extras from first",
        ),
    ],
)
def test_errors_name_file_and_key_path(mutate, message: str) -> None:
    data = copy.deepcopy(raw())
    mutate(data)
    with pytest.raises(SpecError) as info:
        parse_spec(data, source="x/datasets.yaml")
    assert str(info.value).startswith("x/datasets.yaml: ")
    assert message in str(info.value)


def test_unknown_dataset_suggests_the_nearest() -> None:
    with pytest.raises(KeyError, match="did you mean 'housing_tenants'"):
        load_spec().dataset("housing_tenant")


# --------------------------------------------------------------------------- extending


RID = {"type": "string", "required": True, "normaliser": "record_id", "pseudonymise": ["clear"]}


def extension(**datasets: dict) -> dict:
    return {"version": 1, "extends": "shipped", "datasets": datasets}


def test_an_extension_adds_datasets_and_columns_to_the_shipped_spec() -> None:
    spec = parse_spec(
        extension(
            parking_permits={
                "description": "Residents' parking permits.",
                "columns": {
                    "record_id": RID,
                    "surname": {"type": "string", "normaliser": "name", "pseudonymise": ["token"]},
                },
            },
            electoral_register={
                "columns": {
                    "phone": {"type": "string", "normaliser": "code", "pseudonymise": ["token"]}
                }
            },
        ),
        source="p/spec.yaml",
    )
    shipped = load_spec()
    assert set(spec.datasets) == DATASETS | {"parking_permits"}
    register = spec.dataset("electoral_register")
    assert register.column_names == [*shipped.dataset("electoral_register").column_names, "phone"]
    assert register.description == shipped.dataset("electoral_register").description
    assert spec.dataset("payroll") == shipped.dataset("payroll")
    assert spec.fingerprint != shipped.fingerprint


def test_an_extension_cannot_redefine_a_shipped_column() -> None:
    surname = {"type": "string", "normaliser": "text", "pseudonymise": ["clear"]}
    with pytest.raises(SpecError, match="p/spec.yaml: datasets.payroll.columns.surname: already"):
        parse_spec(extension(payroll={"columns": {"surname": surname}}), source="p/spec.yaml")


def test_extends_names_only_the_shipped_spec() -> None:
    data = extension(x={"columns": {"record_id": RID}})
    data["extends"] = "./other.yaml"
    with pytest.raises(SpecError, match="extends: expected 'shipped'"):
        parse_spec(data, source="p/spec.yaml")


def test_the_fingerprint_ignores_descriptions_but_not_meaning() -> None:
    data = copy.deepcopy(raw())
    base = parse_spec(data).fingerprint
    data["datasets"]["payroll"]["description"] = "reworded"
    assert parse_spec(data).fingerprint == base == load_spec().fingerprint
    data["datasets"]["payroll"]["columns"]["job_title"]["pseudonymise"] = ["withheld"]
    assert parse_spec(data).fingerprint != base
    assert base.startswith("sha256:") and len(base) == len("sha256:") + 16


def test_the_partnership_names_its_spec_and_rule_folders(tmp_path: Path) -> None:
    from fraudmatch.shipped import shipped_rules_dir
    from fraudmatch.spec.partnership import PartnershipError, parse_partnership
    from fraudmatch.spec.specs import resolve_spec
    from fraudmatch.synth.demo import make_parties

    parties = make_parties(tmp_path / "p", ["northmoor"], ["payroll"])
    data = yaml.safe_load(parties.partnership_path.read_text())
    (tmp_path / "rules").mkdir()
    (tmp_path / "spec.yaml").write_text(
        yaml.safe_dump(extension(parking_permits={"columns": {"record_id": RID}}))
    )
    partnership = parse_partnership(
        {**data, "spec": "spec.yaml", "rules": ["shipped", "./rules"]}, base=tmp_path
    )
    assert partnership.spec == tmp_path / "spec.yaml"
    assert partnership.rules == (shipped_rules_dir(), tmp_path / "rules")
    assert "parking_permits" in resolve_spec(partnership).datasets
    assert "parking_permits" not in resolve_spec(partnership, DEFAULT_SPEC_PATH).datasets
    assert parse_partnership(data, base=tmp_path).rules == (shipped_rules_dir(),)
    with pytest.raises(PartnershipError, match=r"rules\[1\]: .*nope is not a folder of rules"):
        parse_partnership({**data, "rules": ["shipped", "nope"]}, base=tmp_path)


def test_every_column_the_hub_reads_in_clear_says_why() -> None:
    """Data minimisation: a clear column is there because a rule or the analyst needs it."""
    spec = load_spec()
    missing = [
        f"{ds.name}.{col.name}"
        for ds in spec.datasets.values()
        for col in ds.columns
        if col.needs_why and len(col.why.strip()) < 20
    ]
    assert not missing, f"clear columns without a why: {missing}"
    # and nothing personal is clear: names, dates of birth, identifiers, addresses
    personal = {"name", "ni_number", "postcode", "address", "sort_code", "account_number", "uprn"}
    for ds in spec.datasets.values():
        for col in ds.columns:
            if col.normaliser in personal or col.name == "date_of_birth":
                assert "clear" not in col.pseudonymise, f"{ds.name}.{col.name} travels clear"


def test_a_column_sends_only_the_extras_it_lists() -> None:
    """Data minimisation: a surname sends its first and last word, its letters in order
    (for a slip, CHNADLER) and its slips where a person rule reads them, never its initial
    (26 tokens, read back by counting) nor the given name or initials no rule reads; where
    no rule reads the slips (the electoral register), it sends none."""
    spec = load_spec()
    payroll = spec.dataset("payroll")
    surname = next(c for c in payroll.columns if c.name == "surname")
    assert surname.extras == ("first", "last", "letters", *(f"slip{i}" for i in range(1, 11)))
    register = next(c for c in spec.dataset("electoral_register").columns if c.name == "surname")
    assert register.extras == ("first", "last", "letters")
    outputs = output_columns(payroll, BloomParams())
    assert {"surname__first__tok", "surname__last__tok", "surname__letters__tok"} <= set(outputs)
    assert not [c for c in outputs if c.startswith(("surname__initial", "surname__given"))]
    assert "forenames__initial__tok" in outputs  # the forenames still send every extra
    creditors = output_columns(spec.dataset("creditors"), BloomParams())
    assert not [c for c in creditors if c.startswith("supplier_name__") and c.endswith("__tok")
                and c != "supplier_name__tok"]  # fmt: skip
    data = copy.deepcopy(raw())
    data["datasets"]["payroll"]["columns"]["surname"].pop("extras", None)
    every = parse_spec(data, source="x").dataset("payroll")
    assert next(c for c in every.columns if c.name == "surname").extras[-1] == "letters"


def test_name_forms_leave_only_where_listed() -> None:
    """A forename's ten form tokens are read by the single-person discount helpers alone:
    the discount and the register list them, every other dataset sends its forenames'
    other extras without them, and a column with no ``extras:`` does not send them either."""
    spec = load_spec()
    forms = {f"forenames__form{i}__tok" for i in range(1, 11)}
    for ds in spec.datasets.values():
        outputs = set(output_columns(ds, BloomParams()))
        if ds.name in ("council_tax_spd", "electoral_register"):
            assert forms <= outputs, ds.name
        else:
            assert not {c for c in outputs if "__form" in c and "__formal" not in c}, ds.name
    places = {ds.name for ds in spec.datasets.values()
              if "address__institution__tok" in output_columns(ds, BloomParams())}  # fmt: skip
    assert places == {"deceased"}  # whether an address is a hospital: the deceased rules'
    data = copy.deepcopy(raw())
    data["datasets"]["electoral_register"]["columns"]["forenames"].pop("extras")
    register = parse_spec(data, source="x").dataset("electoral_register")
    assert not {
        c for c in output_columns(register, BloomParams()) if "__form" in c and "__formal" not in c
    }
