"""The forms a known given name may take (``form1`` ... ``form10``): one hop, by sound."""

from __future__ import annotations

from datetime import date

import polars as pl

from fraudmatch.council.pseudonymise import pseudonymise
from fraudmatch.spec.normalisers.name_forms import FORM_SLOTS, form_table, name_forms, sound, stem
from fraudmatch.spec.specs import load_spec

TRIPLETS = [
    ("katherine", "has_nickname", "kate"),
    ("katelyn", "has_nickname", "kate"),
    ("william", "has_nickname", "bill"),
    ("mary", "has_nickname", "polly"),
    ("paul", "has_nickname", "polly"),
    ("mary", "has_nickname", "molly"),
]
KNOWN = ["KATE", "CATHERINE", "BILL", "POLLY", "MOLLY", "KELLY", "LIAM", "JOHN", "JESSICA"]


def _may_be(table: dict[str, tuple[str, ...]], a: str, b: str) -> bool:
    return bool(set(table[a]) & set(table[b]))


def test_a_name_may_be_the_names_it_stands_for_and_their_spellings() -> None:
    table = form_table(TRIPLETS, KNOWN, {"BILL": "WILLIAM"}, {"LIAM": ("WILLIAM",)})
    assert table["KATE"] == tuple(sorted({sound("KATE"), sound("KATHERINE"), sound("KATELYN"),
                                          stem("KATE")}))  # fmt: skip
    assert _may_be(table, "KATE", "CATHERINE")  # KATHERINE and CATHERINE sound alike
    assert _may_be(table, "LIAM", "BILL")  # both may be WILLIAM: our list, the short forms
    assert _may_be(table, "POLLY", "MOLLY")  # both may be MARY
    assert not _may_be(table, "KELLY", "CATHERINE")
    assert not _may_be(table, "JOHN", "JESSICA")  # the same initial is not a form


def test_one_hop_only() -> None:
    """POLLY may be MARY or PAUL, MOLLY may be MARY; MOLLY may not be PAUL: no closure."""
    table = form_table(TRIPLETS, [*KNOWN, "PAUL"], {}, {})
    assert _may_be(table, "POLLY", "PAUL") and _may_be(table, "MOLLY", "POLLY")
    assert not _may_be(table, "MOLLY", "PAUL")


def test_a_name_with_more_forms_than_slots_sends_none() -> None:
    many = [(f"name{c}", "has_nickname", "kit") for c in "bcdfghjklmnpq"]
    table = form_table(many, ["KIT", "KATE"], {}, {}, slots=4)
    assert "KIT" not in table and "KATE" in table


def test_the_shipped_table_knows_british_forms() -> None:
    table = name_forms()
    for a, b in [("KATE", "CATHERINE"), ("JILL", "GILLIAN"), ("LIAM", "WILLIAM"),
                 ("MILLIE", "AMELIA"), ("ALI", "ALISTAIR"), ("JACK", "JOHN")]:  # fmt: skip
        assert _may_be(table, a, b), (a, b)
    for a, b in [("CHRISTINE", "KELLY"), ("JOHN", "JESSICA"), ("SUSAN", "STEPHEN")]:
        assert not _may_be(table, a, b), (a, b)
    assert max(len(v) for v in table.values()) <= FORM_SLOTS


def test_form_tokens_share_one_domain_across_slots() -> None:
    """KATE's and CATHERINE's forms meet in different slots, so every slot is keyed alike;
    an unknown word (a typo) sends none."""
    ds = load_spec().dataset("electoral_register")
    frame = pl.DataFrame(
        {
            "record_id": ["1", "2", "3", "4"],
            "surname": ["SMITH"] * 4,
            "forenames": ["KATE", "CATHERINE ANNE", "KELLY", "KTAE"],
            "address": ["1 ELM ROAD"] * 4,
            "postcode": ["LS1 1AA"] * 4,
            "uprn": [None] * 4,
            "date_of_birth": [None] * 4,
        },
        schema_overrides={"uprn": pl.String, "date_of_birth": pl.Date},
    )
    out = pseudonymise(frame, ds, b"k" * 32, as_of=date(2026, 11, 1))
    slots = [f"forenames__form{i}__tok" for i in range(1, FORM_SLOTS + 1)]
    forms = [set(filter(None, row)) for row in out.select(slots).rows()]
    assert forms[0] & forms[1] and not forms[0] & forms[2] and not forms[1] & forms[2]
    assert forms[3] == set()
