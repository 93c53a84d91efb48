"""Partners' outcomes back to the hub: the case list a partner opens has outcome columns,
``fraudmatch outcomes return`` seals the filled-in list to the hub, collection verifies
and merges it (new versions for the partner's own changes, conflicts reported and never
written), the review app and the report's savings count it.
"""

from __future__ import annotations

from contextlib import contextmanager

import polars as pl
import pytest
from test_review_browser import ARGS, CHROMIUM
from test_review_support import review_world

from fraudmatch.cli import main as cli
from fraudmatch.council.open import find_extracts, open_bundle
from fraudmatch.hub.collect import collect
from fraudmatch.hub.runs import distribute
from fraudmatch.hub.workspace import open_workspace
from fraudmatch.matching.rules import load_rules
from fraudmatch.review import outcomes as oc
from fraudmatch.review.analysts import add_analyst
from fraudmatch.review.casework import Review
from fraudmatch.review.report import _outcomes_section
from fraudmatch.review.returns import KEY_COLUMNS, ReturnError, read_case_list, seal_return
from fraudmatch.sealing.keys import generate_party, load_private
from fraudmatch.sealing.seal import read_header
from fraudmatch.spec.partnership import load_partnership
from tests.servers import serve_app


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = review_world(tmp_path_factory, "returns")
    add_analyst(world.workspace, "alice", "alice-password-1")
    return world


@contextmanager
def served(world):
    from fraudmatch.review.web import create_app

    app = create_app(world.workspace, world.rules, users=None)
    with serve_app(app) as base:
        yield base


def _sign_in(page, base: str) -> None:
    """Sign in as the fraud unit's analyst alice and land on the case list."""
    page.goto(f"{base}/login")
    page.fill("#name", "alice")
    page.fill("#password", "alice-password-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/cases**")


@contextmanager
def browser_page():
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def _case_list(world, tmp_path, partner: str) -> pl.DataFrame:
    partnership = load_partnership(world.root / "partnership.yaml")
    ws = open_workspace(world.workspace, partnership)
    hub = load_private(world.root / "keys" / "hub" / "hub.private")
    rules = load_rules(world.rules)
    [bundle] = [b for b in distribute(ws, partnership, hub, world.run_id, rules, period="2026-11")
                if b.partner == partner]  # fmt: skip
    opened = open_bundle(
        bundle.path,
        partner=load_private(world.root / "keys" / partner / f"{partner}.private"),
        senders={partnership.hub.name: partnership.hub.public},
        extracts=find_extracts(world.root / "councils" / partner),
        out_dir=tmp_path / "opened",
    )
    return opened.cases, opened.csv_path


def _return(world, tmp_path, partner: str, case_list, name: str) -> None:
    out = tmp_path / f"sealed-{name}"
    assert cli(["outcomes", "return", "--partnership", str(world.root / "partnership.yaml"),
                "--key", str(world.root / "keys" / partner / f"{partner}.private"),
                "--period", "2026-11", "--out", str(out), str(case_list)]) == 0  # fmt: skip
    [sealed] = list(out.iterdir())
    header = read_header(sealed)
    assert (header.kind, header.sender, header.recipient) == ("outcomes", partner, "hub")
    inbox = world.workspace / "inbox" / partner
    inbox.mkdir(parents=True, exist_ok=True)
    sealed.rename(inbox / sealed.name)


def _collect(world):
    partnership = load_partnership(world.root / "partnership.yaml")
    hub = load_private(world.root / "keys" / "hub" / "hub.private")
    return collect(open_workspace(world.workspace, partnership), partnership, hub)


def test_partner_outcomes_come_back_and_merge(world, tmp_path) -> None:
    partner = world.partners[0]
    cases, csv = _case_list(world, tmp_path, partner)
    assert {"outcome", "amount", "comment", "investigator"} <= set(cases.columns)
    # three rows of three different cases (a match within one partner has two rows)
    cases = cases.with_row_index("_i")
    first = cases.unique("case_id", keep="first", maintain_order=True)["_i"][:3].to_list()
    assert len(first) == 3
    review = Review(world.workspace, world.rules)
    url = review.url
    # a hub analyst already recorded 'no issue' on the third row's match
    third = cases.row(first[2], named=True)
    hub_match = next(
        m for m in review.case(world.run_id, third["case_id"]).matches
        if third["record_id"] in (m.left.record_id, m.right.record_id)
    )  # fmt: skip
    review.record(world.run_id, third["case_id"], hub_match.key, outcome="no_issue",
                  analyst="alice", expected_version=0)  # fmt: skip
    # the investigator fills in three rows (one is the hub's), typing as people do
    at = pl.col("_i")
    filled = cases.with_columns(
        pl.when(at == first[0]).then(pl.lit("Fraud"))
        .when(at == first[1]).then(pl.lit("no issue"))
        .when(at == first[2]).then(pl.lit("fraud"))
        .otherwise(pl.lit(None)).alias("outcome"),
        pl.when(at == first[0]).then(pl.lit("£1,200.50")).otherwise(None)
        .alias("amount"),
        pl.lit("checked at home").alias("comment"),
        pl.lit("jsmith").alias("investigator"),
    )  # fmt: skip
    filled = filled.drop("_i")
    filled_csv = tmp_path / "filled.csv"
    filled.write_csv(filled_csv)
    _return(world, tmp_path, partner, filled_csv, "first")
    result = _collect(world)
    [done] = [f for f in result.files if f.outcome == "outcomes returned"]
    assert done.rows == 3 and "2 outcome(s) saved" in done.reason and "1 conflict" in done.reason
    saved = oc.current_outcomes(url)
    mine = saved.filter(pl.col("analyst") == f"{partner} (partner): jsmith")
    assert mine.height == 2 and sorted(mine["outcome"]) == ["fraud", "no_issue"]
    assert 1200.5 in mine["amount"].to_list()
    # the hub analyst's outcome is untouched, the conflict is in the audit trail in words
    assert oc.get_outcome(url, hub_match.key).outcome == "no_issue"
    trail = oc.audit_trail(url)
    merge = trail.filter(pl.col("action") == "outcomes returned")
    assert merge.height == 1 and merge["analyst"][0] == f"{partner} (partner)"
    assert "alice recorded 'no_issue'" in merge["detail"][0]
    # a later return changing its own outcome is a new version; an identical one changes nothing
    again = filled.with_row_index("_i").with_columns(
        pl.when(at == first[1]).then(pl.lit("error")).otherwise(pl.col("outcome"))
        .alias("outcome")
    )  # fmt: skip
    again_csv = tmp_path / "again.csv"
    again.drop("_i").write_csv(again_csv)
    _return(world, tmp_path, partner, again_csv, "second")
    [done] = [f for f in _collect(world).files if f.outcome == "outcomes returned"]
    assert "1 outcome(s) saved" in done.reason and "1 unchanged" in done.reason
    versions = oc.current_outcomes(url).filter(pl.col("outcome") == "error")["version"]
    assert versions.to_list() == [2]
    assert not list((world.workspace / "inbox" / partner).glob("*.outcomes"))
    # the run report's savings count both sources, and say which is which
    section = _outcomes_section(oc.current_outcomes(url), {})
    assert "Where the outcomes came from" in section
    assert partner in section and "hub analysts" in section
    # and an analyst sees the partner's outcome on the case page, in a real browser
    first_case = filled.row(first[0], named=True)["case_id"]
    with served(world) as base, browser_page() as page:
        _sign_in(page, base)
        page.goto(f"{base}/cases/{world.run_id}/{first_case}")
        current = " ".join(page.locator("p.current").all_text_contents())
        assert f"{partner} (partner): jsmith" in current and "£1200.50" in current
        page.goto(f"{base}/audit")
        assert "outcomes returned" in page.text_content("#audit")


def test_a_return_is_checked_before_it_leaves(world, tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    pl.DataFrame({"case_id": ["C1"], "outcome": ["fraud"]}).write_csv(bad)
    with pytest.raises(ReturnError, match="no column run_id"):
        read_case_list(bad)
    partner = world.partners[1]
    cases, _ = _case_list(world, tmp_path, partner)
    typo = cases.head(2).with_columns(
        pl.lit("frod").alias("outcome"), pl.lit("lots").alias("amount")
    )
    path = tmp_path / "typo.csv"
    typo.write_csv(path)
    with pytest.raises(ReturnError, match=r"row 2: outcome 'frod'.*row 2: amount 'lots'"):
        read_case_list(path)
    # the XLSX a person fills in reads the same as the CSV
    filled = cases.head(3).with_columns(
        pl.Series("outcome", ["No Issue", None, "under_investigation"], pl.String)
    )
    xlsx = tmp_path / "filled.xlsx"
    filled.drop(c for c, t in filled.schema.items() if isinstance(t, pl.List)).write_excel(
        xlsx, worksheet="cases"
    )
    read = read_case_list(xlsx)
    assert read["outcome"].to_list() == ["no_issue", "under_investigation"]
    assert set(read.columns) == {*KEY_COLUMNS, "outcome", "amount", "comment", "investigator"}
    # rows about another partner's records never leave the council
    other = world.partners[2]
    ok = cases.head(1).with_columns(
        pl.lit("fraud").alias("outcome"), pl.lit(other).alias("partner")
    )
    foreign = tmp_path / "foreign.csv"
    ok.write_csv(foreign)
    keys = load_private(world.root / "keys" / partner / f"{partner}.private")
    hub = load_partnership(world.root / "partnership.yaml").hub.public
    with pytest.raises(ReturnError, match="another partner's records"):
        seal_return(foreign, tmp_path / "out", council=keys, hub=hub, period="2026-11")
    assert not (tmp_path / "out").exists()


def test_forged_unsigned_or_altered_returns_are_refused(world, tmp_path) -> None:
    partner = world.partners[1]
    cases, _ = _case_list(world, tmp_path, partner)
    url = Review(world.workspace, world.rules).url
    before = oc.current_outcomes(url)
    untouched = cases.filter(~pl.col("case_id").is_in(before["case_id"].to_list()))
    row = untouched.head(1).with_columns(
        pl.lit("fraud").alias("outcome"), pl.lit("forged: not ours").alias("comment")
    )
    filled = tmp_path / "filled.csv"
    row.write_csv(filled)
    hub = load_partnership(world.root / "partnership.yaml").hub.public
    inbox = world.workspace / "inbox" / partner
    inbox.mkdir(parents=True, exist_ok=True)
    # forged: sealed to the hub in the partner's name, signed with someone else's key
    forged, _ = seal_return(filled, tmp_path / "forged", council=generate_party(partner),
                            hub=hub, period="2026-11")  # fmt: skip
    forged.rename(inbox / "forged.outcomes")
    # unsigned: the filled-in list itself, named like a return
    (inbox / "unsigned.outcomes").write_bytes(filled.read_bytes())
    # altered: the partner's own sealed return, one byte changed on the way
    keys = load_private(world.root / "keys" / partner / f"{partner}.private")
    genuine, _ = seal_return(filled, tmp_path / "genuine", council=keys, hub=hub,
                             period="2026-11")  # fmt: skip
    data = bytearray(genuine.read_bytes())
    data[-40] ^= 0x01
    (inbox / "altered.outcomes").write_bytes(bytes(data))

    result = _collect(world)
    refused = {f.file: f for f in result.files if f.file.endswith(".outcomes")}
    assert set(refused) == {"forged.outcomes", "unsigned.outcomes", "altered.outcomes"}
    assert {f.outcome for f in refused.values()} == {"quarantined"}
    assert "verify" in refused["forged.outcomes"].reason
    assert not list(inbox.glob("*.outcomes"))
    # nothing merged: the store is as it was
    after = oc.current_outcomes(url)
    assert after.height == before.height
    assert not after["analyst"].str.starts_with(f"{partner} (partner)").any()
    trail = oc.audit_trail(url).filter(pl.col("action") == "outcomes return refused")
    assert trail.height == 3 and set(trail["analyst"]) == {"hub collection"}
    # and the fraud unit sees it, in a real browser: no outcome on the case, the refusals
    # in the audit trail in words
    case_id = row["case_id"][0]
    with served(world) as base, browser_page() as page:
        _sign_in(page, base)
        page.goto(f"{base}/cases/{world.run_id}/{case_id}")
        current = " ".join(page.locator("p.current").all_text_contents())
        assert "No outcome recorded yet" in current and "(partner)" not in current
        page.goto(f"{base}/audit")
        audit = " ".join(page.text_content("#audit").split())
        assert audit.count("outcomes return refused") == 3
        assert (
            f"refused forged.outcomes in {partner}'s inbox (claims to be from {partner})" in audit
        )
        assert "refused unsigned.outcomes" in audit and "(no readable sender)" in audit
        assert audit.count("nothing was merged") == 3
        assert "forged: not ours" not in page.content()
