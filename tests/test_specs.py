"""The data specification loads, covers DESIGN.md's datasets, and explains its own errors."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

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
