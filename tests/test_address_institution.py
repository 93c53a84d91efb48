"""Whether an address is a hospital, hospice or care home (the ``institution`` extra)."""

from __future__ import annotations

import polars as pl

from fraudmatch.spec.normalisers import address_institution


def test_an_institution_is_a_hospital_or_care_home_not_a_street_named_after_one() -> None:
    addresses = {
        "ROYAL NORTHMOOR INFIRMARY 26 RUSSELL STREET": True,
        "BEECHWOOD CARE HOME 76 PRIMROSE TERRACE": True,
        "ST MARYS HOSPICE": True,
        "TY HAFAN RESIDENTIAL HOME FERN AVENUE": True,
        "YSBYTY GWYNEDD PENRHOSGARNEDD": True,
        "ST MARYS HOSPITAL HOSPITAL ROAD": True,
        "23 HOSPITAL LANE": False,
        "4 INFIRMARY ROAD": False,
        "12 ELM ROAD": False,
        "CARE HOME": True,
    }
    frame = pl.DataFrame({"a": list(addresses)})
    got = frame.select(address_institution(pl.col("a"))).to_series().to_list()
    assert [g is not None for g in got] == list(addresses.values())


def test_a_home_before_a_saint_is_still_a_home() -> None:
    """ "ST ANDREWS ROAD" after a care home's name is read as STREET ANDREWS ROAD by the
    address normaliser: the home is still an institution."""
    frame = pl.DataFrame({"a": ["SAINT ANNES NURSING HOME STREET ANDREWS ROAD"]})
    assert frame.select(address_institution(pl.col("a"))).item() == "INSTITUTION"
