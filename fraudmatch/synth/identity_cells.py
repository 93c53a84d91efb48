"""Identity cells of person records (names, dates of birth, NI numbers, addresses) and noise."""

from __future__ import annotations

import numpy as np
import polars as pl

from fraudmatch.synth.context import Ctx
from fraudmatch.synth.lexicon import load_lexicon
from fraudmatch.synth.styles import File, fmt_dates, letter_case, swap_letters, typo
from fraudmatch.synth.vocabulary import DATASETS

#: Share of rows whose optional NI number is left empty, by dataset.
_NI_MISSING = {
    "payroll": 0.05, "housing_benefit": 0.05, "council_tax_reduction": 0.1,
    "housing_tenants": 0.25, "housing_waiting_list": 0.35, "deceased": 0.2,
}  # fmt: skip


#: Identity noise, at most one per record so a record never loses all its identifiers.
_HARD = (
    ("none", 0.0), ("surname_typo", 0.008), ("surname_swap", 0.007), ("forename_typo", 0.008),
    ("forename_swap", 0.007), ("nickname", 0.05), ("initial", 0.02), ("dob_swap", 0.012),
    ("married_name", 0.004), ("temporary_ni", 0.004),
)  # fmt: skip


_HARD_P = np.array([p for _, p in _HARD])
_HARD_P[0] = 1 - _HARD_P.sum()


_H = {name: i for i, (name, _) in enumerate(_HARD)}


def person_cells(ctx: Ctx, f: File, w: pl.DataFrame) -> pl.DataFrame:
    """surname, forenames, date_of_birth and ni_number with realistic identity noise."""
    rng, st, h = f.rng, f.style, w.height
    lex = load_lexicon()
    cat = rng.choice(len(_HARD), h, p=_HARD_P)
    cat[w["protect"].to_numpy()] = 0
    u = [pl.col(f"_u{i}") for i in range(12)]
    titles_m = pl.Series(["Mr", "Mr.", "Dr", "MR"]).gather(rng.integers(0, 4, h))
    titles_f = pl.Series(["Mrs", "Ms", "Miss", "Dr.", "Mrs."]).gather(rng.integers(0, 5, h))
    w = w.with_columns(
        _cat=pl.Series(cat),
        _letter=pl.Series(list("abcdefghijklmnopqrstuvwxyz")).gather(rng.integers(0, 26, h)),
        _married=lex.surnames.gather(rng.choice(len(lex.surname_p), h, p=lex.surname_p)),
        _title=pl.when(pl.col("sex") == "M").then(titles_m).otherwise(titles_f),
    )
    cat_ = pl.col("_cat")
    free = ~pl.col("protect")
    sur = pl.col("surname")
    hy = sur.str.contains("-", literal=True)
    # Each step is materialised: nesting the expressions would grow them exponentially.
    w = w.with_columns(
        _sur=pl.when(hy & (u[0] < 0.25))
        .then(sur.str.replace("-", " ", literal=True))
        .when(hy & free & (cat_ == 0) & (u[0] < 0.33))
        .then(sur.str.split("-").list.first())
        .when(hy & free & (cat_ == 0) & (u[0] < 0.38))
        .then(sur.str.split("-").list.last())
        .otherwise(sur)
    )
    sur = pl.col("_sur")
    married_ok = (pl.col("sex") == "F") & pl.col("age").is_between(20, 70)
    w = w.with_columns(
        _sur=pl.when(cat_ == _H["surname_typo"])
        .then(typo(sur, u[1], pl.col("_letter")))
        .when(cat_ == _H["surname_swap"])
        .then(swap_letters(sur, u[1]))
        .when((cat_ == _H["married_name"]) & married_ok)
        .then(pl.col("_married"))
        .when(u[2] < 0.01)
        .then(sur + " ")
        .otherwise(sur)
    )
    first = pl.col("first")
    nick = pl.col("nicknames").list.get(
        (u[3] * pl.col("nicknames").list.len()).floor().cast(pl.Int64), null_on_oob=True
    )
    initial = first.str.slice(0, 1) + pl.when(u[4] < 0.3).then(pl.lit(".")).otherwise(pl.lit(""))
    w = w.with_columns(
        _f1=pl.when((cat_ == _H["nickname"]) & nick.is_not_null())
        .then(nick)
        .when(cat_ == _H["initial"])
        .then(initial)
        .when(cat_ == _H["forename_typo"])
        .then(typo(first, u[1], pl.col("_letter")))
        .when(cat_ == _H["forename_swap"])
        .then(swap_letters(first, u[1]))
        .otherwise(first),
        _mid=pl.when(pl.col("middle").is_null() | (u[5] < 0.3))
        .then(pl.lit(None, pl.String))
        .when(cat_ == _H["initial"])
        .then(pl.col("middle").str.slice(0, 1))
        .otherwise(pl.col("middle")),
    )
    w = w.with_columns(
        _fore=pl.when(pl.col("_mid").is_not_null())
        .then(pl.col("_f1") + " " + pl.col("_mid"))
        .otherwise(pl.col("_f1"))
    )
    fore = pl.col("_fore")
    w = w.with_columns(
        _fore=pl.when(u[6] < 0.04)
        .then(pl.col("_title") + " " + fore)
        .when(u[7] < 0.01)
        .then(" " + fore)
        .when(u[7] < 0.02)
        .then(fore.str.replace(" ", "  ", literal=True))
        .otherwise(fore)
    )
    w = w.with_columns(
        surname=letter_case(pl.col("_sur"), st.upper, u[8]),
        forenames=letter_case(pl.col("_fore"), st.upper, u[8]),
    )
    dob = pl.col("dob")
    swappable = (dob.dt.day() <= 12) & (dob.dt.day() != dob.dt.month())
    swapped = pl.date(dob.dt.year(), dob.dt.day(), dob.dt.month())
    allow = f.dataset not in ("electoral_register", "council_tax_disregards")
    dob_e = pl.when((cat_ == _H["dob_swap"]) & swappable & allow).then(swapped).otherwise(dob)
    w = w.with_columns(date_of_birth=fmt_dates(dob_e, st.dates, u[9]))
    if "ni_number" in DATASETS[f.dataset].columns:
        w = _ni_cells(f, w)
    return w


def _ni_cells(f: File, w: pl.DataFrame) -> pl.DataFrame:
    """NI numbers: sometimes missing, spaced or lower case; rarely a temporary 'TN' number."""
    u = pl.col("_u10")
    ni = pl.col("ni")
    shown = pl.col("show_ni") if "show_ni" in w.columns else pl.lit(True)
    missing = (~pl.col("keep_ni") & (u < _NI_MISSING.get(f.dataset, 0.2))) | ~shown | ni.is_null()
    tn = (
        (pl.col("_cat") == _H["temporary_ni"])
        & pl.col("_can_blank")
        & ~pl.col("keep_ni")
        & ~missing
    )
    spaced = pl.concat_str(
        [
            ni.str.slice(0, 2),
            ni.str.slice(2, 2),
            ni.str.slice(4, 2),
            ni.str.slice(6, 2),
            ni.str.slice(8, 1),
        ],
        separator=" ",
    )
    temp = "TN" + pl.col("dob").dt.strftime("%d%m%y") + pl.col("sex")
    v = pl.col("_u11")
    return w.with_columns(
        ni_number=pl.when(tn)
        .then(temp)
        .when(missing)
        .then(pl.lit(None, dtype=pl.String))
        .when(v < 0.2)
        .then(spaced)
        .when(v < 0.23)
        .then(ni.str.to_lowercase())
        .otherwise(ni),
        _bl_ni_number=tn,
    )


def address_cells(f: File, w: pl.DataFrame) -> pl.DataFrame:
    """Address line, postcode and UPRN as people type them: Rd/Road, Flat prefixes, case."""
    st = f.style
    u = [pl.col(f"_u{i}") for i in range(12)]
    stype = pl.when(u[0] < 0.2).then(pl.col("stype_abbr")).otherwise(pl.col("stype"))
    core = pl.col("number").cast(pl.String) + " " + pl.col("street") + " " + stype
    unit = pl.when(pl.col("kind") == "business").then(pl.lit("Unit")).otherwise(pl.lit("Flat"))
    flat = pl.col("flat").cast(pl.String)
    line = (
        pl.when(pl.col("flat").is_null())
        .then(core)
        .when(u[1] < 0.55)
        .then(unit + " " + flat + ", " + core)
        .when(u[1] < 0.8)
        .then(unit + " " + flat + " " + core)
        .when(u[1] < 0.9)
        .then(flat + ", " + core)
        .otherwise(core)
    )
    line = pl.when(u[2] < 0.03).then(line + ", " + pl.col("town")).otherwise(line)
    line = pl.when(pl.lit(st.upper) | (u[3] < 0.02)).then(line.str.to_uppercase()).otherwise(line)
    pc = pl.col("postcode")
    pc = (
        pl.when(u[4] < 0.10)
        .then(pc.str.replace(" ", "", literal=True))
        .when(u[4] < 0.15)
        .then(pc.str.to_lowercase())
        .when(u[4] < 0.17)
        .then(pc.str.replace(" ", "  ", literal=True))
        .otherwise(pc)
    )
    shown = pl.col("show_address") if "show_address" in w.columns else pl.lit(True)
    nfa = (pl.col("nfa") & pl.col("_can_blank")) if "nfa" in w.columns else pl.lit(False)
    none = pl.lit(None, dtype=pl.String)
    return w.with_columns(
        address=pl.when(nfa).then(pl.lit("No Fixed Abode")).when(shown).then(line).otherwise(none),
        postcode=pl.when(nfa).then(pl.lit("ZZ99 3VZ")).when(shown).then(pc).otherwise(none),
        uprn=pl.when(u[5] < 0.1).then(none).otherwise(pl.col("uprn")),
        _bl_postcode=nfa,
    )
