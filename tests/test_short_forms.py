"""The forename short-form mapping behind the ``formal`` name extra: the package's curated list
narrowed to safe entries, our hand-written British ones kept, and nothing that merges two names
people are given in their own right."""

from __future__ import annotations

import nicknames
import polars as pl

from fraudmatch.spec.normalisers import formal_name
from fraudmatch.spec.normalisers.given_names import given_names, known_given_names
from fraudmatch.spec.normalisers.short_forms import (
    NICKNAMES,
    NOT_SHORT_FORMS,
    derive_short_forms,
    merge_short_forms,
    short_forms,
)
from fraudmatch.spec.normalisers.spellings import written_out

TOY = [
    ("samuel", "has_nickname", "sam"),
    ("samantha", "has_nickname", "sam"),  # SAM: two formal names
    ("henry", "has_nickname", "harry"),
    ("harry", "has_nickname", "hal"),  # HARRY has nicknames of its own: a name in its own right
    ("sarah", "has_nickname", "sara"),  # a spelling, not a short form
    ("victoria", "has_nickname", "tori"),
    ("victoria", "is_translation_of:en-sp", "vic"),  # not a nickname row
    ("junior", "has_nickname", "j.r."),  # not a word
    ("al", "has_nickname", "alberto"),  # longer than its "formal" name
]


def test_derive_keeps_only_one_formal_name_short_and_not_a_name_of_its_own() -> None:
    assert derive_short_forms(TOY) == {"TORI": "VICTORIA", "HAL": "HARRY"}


def test_merge_ours_win_exclusions_drop_and_no_chains() -> None:
    derived = {"TORI": "VICTORIA", "BILL": "ROBERT", "LOUISE": "LOUISA", "MARK": "MARCUS"}
    derived |= {"HAL": "HARRY", "HARRY": "HENRY", "BOBO": "BOB"}
    ours = {"BILL": "WILLIAM", "LOU": "LOUISE", "BOB": "ROBERT"}
    merged = merge_short_forms(ours, derived, {"MARK"})
    # BILL: ours; LOUISE is one of our formal names; MARK excluded; BOBO -> BOB is a chain
    assert merged == {
        "TORI": "VICTORIA", "BILL": "WILLIAM", "LOU": "LOUISE", "BOB": "ROBERT", "HARRY": "HENRY",
    }  # fmt: skip
    assert "HAL" not in merged  # HAL -> HARRY -> HENRY would be a chain


def test_mapping_is_final_upper_case_and_keeps_every_hand_written_entry() -> None:
    mapping = short_forms()
    assert mapping is short_forms()  # built once
    assert all(k.isalpha() and k.isupper() and v.isupper() for k, v in mapping.items())
    assert not set(mapping.values()) & set(mapping)
    assert {k: mapping[k] for k in NICKNAMES} == NICKNAMES
    assert len(mapping) > 3 * len(NICKNAMES)


def test_every_added_short_form_stands_for_one_formal_name_in_the_package() -> None:
    namer = nicknames.NickNamer()
    formal_names = {n.upper() for n in namer.nickname_lookup}
    for short, formal in short_forms().items():
        if short in NICKNAMES:
            continue
        assert {c.upper() for c in namer.canonicals_of(short)} == {formal}, short
        assert short not in formal_names, short
        assert short not in NOT_SHORT_FORMS, short


def test_every_exclusion_is_one_the_package_would_otherwise_map() -> None:
    derived = derive_short_forms(nicknames.name_triplets())
    assert NOT_SHORT_FORMS <= set(derived)


def test_ambiguous_short_forms_stay_as_written() -> None:
    for short in ("SAM", "SAMMY", "CHRIS", "JO", "ALEX", "KAY", "SALLY", "NED", "NATE", "POLLY"):
        assert short not in short_forms(), short


def test_names_in_their_own_right_stay_as_written() -> None:
    own = ("JAMIE", "JACK", "HARRY", "KATE", "AMY", "NELL", "ELLA", "CHARLIE", "ARCHIE")
    own += ("MARK", "LAURA", "LEAH", "TOBY", "TILLY", "FELIX", "EVAN", "NEIL", "ROY", "NOAH")
    for name in own:
        assert name not in short_forms(), name


def test_no_two_common_british_given_names_meet() -> None:
    """Names registered in their own right (boys' and girls') keep distinct formal names.
    Spellings of one name are one (KATHERINE and CATHERINE: test_normalise)."""
    names = """JAMES JAMIE JACK JOHN HARRY HENRY CHARLIE CHARLES ARCHIE ARCHIBALD OLIVER OLLIE
    ALFIE ALFRED GEORGE GEORGIA LEWIS LOUIS MARK MARCUS NEIL CORNELIUS ROY LEROY NOAH TOBY TOBIAS
    FELIX FELICITY FELICIA EVAN EVANGELINE RALPH RAPHAEL ROSS SAUL SOLOMON ERIC ERICA FREDERICA
    LAURA LAUREN LAURINDA LEAH ASHLEY AMY AMELIA KATE KATIE CATHERINE KAY ELLA ELLEN
    HELEN HELENA NELL ELLIE ELEANOR TILLY MATILDA SOPHIE SOPHIA MOLLY MARY MAISIE MARGARET ROSIE
    ROSE LILY LILLIAN MILLIE EMILY EVIE EVA POLLY PAULINE SALLY SARAH TRACY THERESA GINA REGINA
    LOLA DOLORES CONNIE CONSTANCE LEXI ALEXIS JOSH JOSHUA SAM SAMUEL SAMANTHA NATHAN NATHANIEL
    EDWARD EDMUND EDWIN VICTORIA VICTOR JODIE JOANNA JOANNE""".split()
    formal = pl.Series(names).to_frame("n").select(formal_name(pl.col("n"))).to_series()
    seen: dict[str, str] = {}
    for name, f in zip(names, formal, strict=True):
        assert seen.setdefault(f, name) == name, (name, seen[f], f)


def test_formal_name_writes_out_known_short_forms_in_one_expression() -> None:
    words = ["TORI", "DICKIE", "JEZ", "SEB", "KEV", "FLICK", "BILL", "SAM", None]
    out = pl.DataFrame({"w": words}).select(formal_name(pl.col("w"))).to_series().to_list()
    expected = ["VICTORIA", "RICHARD", "JEREMY", "SEBASTIAN", "KEVIN", "FELICITY", "WILLIAM"]
    assert out == [*expected, "SAM", None]


# --------------------------------------------------------------------------------------------
# Known given names (the ``given`` extra)
# --------------------------------------------------------------------------------------------


def test_known_given_names_drop_the_package_names_that_are_short_forms_of_several() -> None:
    toy = [
        ("samuel", "has_nickname", "sam"),
        ("samantha", "has_nickname", "sam"),
        ("sam", "has_nickname", "sammy"),  # SAM has nicknames of its own: a "formal" name
        ("harry", "has_nickname", "hal"),
        ("henry", "has_nickname", "harry"),
        ("harold", "has_nickname", "harry"),  # HARRY: a short form of two names
        ("victoria", "has_nickname", "tori"),
    ]
    known = known_given_names(toy, {"TORI": "VICTORIA"}, {"LAURA"})
    # SAM and HARRY stand for several names; the package's other formal names, the formal
    # names our short forms stand for and our own list stay
    assert known == {"SAMUEL", "SAMANTHA", "HENRY", "HAROLD", "VICTORIA", "LAURA"}
    assert "HARRY" in known_given_names(toy, {}, {"HARRY"})  # our list says it is a name


def test_given_names_write_short_forms_out_and_know_no_ambiguous_one() -> None:
    names = given_names()
    assert names is given_names()  # built once
    assert {k: names[k] for k in short_forms()} == {k: written_out()[k] for k in short_forms()}
    assert names["LAURA"] == "LAURA" and names["LAUREN"] == "LAUREN"
    assert names["ANNE"] == "ANNE" and names["LEANNE"] == "LEANNE"
    for word in ("SAM", "CHRIS", "ALEX", "JO", "STEVE", "LUARA", "S"):
        assert word not in names
    assert all(v in names and names[v] == v for v in names.values())  # final, like formal
