"""How each council's system writes a person's record: names, dates, NI numbers, addresses.

Why: the same person reaches the hub written five ways. Each council writes with its own
system's habits (all forenames or the first only, SINGH as surname, O NEILL, MCDONALD for
MACDONALD, GARCIA-LOPEZ or GARCIA, diacritics kept, folded or lost in Windows-1252, dates
unpadded or as Excel date cells, TN temporary references, tenement flats 2/1, no address
on a payroll), and each record may carry its own slips on top. Every habit or slip applied
to a record is named in its ``slips`` tag for truth/records.csv.
"""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import numpy as np

from fraudmatch.synth.fourth.councils import Council
from fraudmatch.synth.fourth.names import MOHAMMED, PARTICLE, C
from fraudmatch.synth.fourth.people import (
    APARTMENT,
    BASEMENT,
    COURT,
    FLATLETTER,
    FLATNUM,
    GROUND,
    NA,
    REAR,
    ROOMS,
    STREETS,
    TENEMENT,
    Homes,
    People,
)
from fraudmatch.synth.fourth.services import BB, CT, CTR, DC, HB, HT, PY, WL

EPOCH = date(1970, 1, 1)
TRANSLIT = {
    "OLEKSANDR": "OLEXANDR",
    "YULIIA": "YULIA",
    "NATALIIA": "NATALIA",
    "SERHIY": "SERGIY",
    "ANDRIY": "ANDRII",
    "MYKOLA": "MIKOLA",
    "DMYTRO": "DMITRO",
    "KOVALENKO": "KOWALENKO",
    "TETIANA": "TATIANA",
}
FADA = {
    "SEAN": "SEÁN",
    "SIOBHAN": "SIOBHÁN",
    "ROISIN": "RÓISÍN",
    "GRAINNE": "GRÁINNE",
    "SINEAD": "SINÉAD",
    "PADRAIG": "PÁDRAIG",
    "CIARAN": "CIARÁN",
}
NI_MISSING = {PY: 0.01, HB: 0.03, CTR: 0.05, HT: 0.3, WL: 0.5, DC: 0.3}
POSTCODE_OPTIONAL = (PY, WL, BB, CT, DC)


class Slips:
    """The tags of every habit or slip applied, per record."""

    def __init__(self, n: int) -> None:
        self.tags = np.full(n, "", dtype=object)

    def add(self, mask: np.ndarray, tag: str) -> None:
        t = self.tags[mask]
        self.tags[mask] = np.where(t == "", tag, t + "," + tag)


def _map(values: np.ndarray, fn) -> np.ndarray:
    """Apply a Python function once per distinct value (names repeat: few are distinct)."""
    uniq, inv = np.unique(values.astype(str), return_inverse=True)
    return np.array([fn(v) for v in uniq], dtype=object)[inv]


def fold(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()


def lose(s: str) -> str:
    """A character Windows-1252 has no code for, written as '?' (Á survives, Ș does not)."""
    return s.encode("cp1252", errors="replace").decode("cp1252")


def _title(s: str) -> str:
    words = []
    for w in s.split(" "):
        t = "-".join(p[:1].upper() + p[1:].lower() for p in w.split("-"))
        t = "'".join(p[:1].upper() + p[1:] for p in t.split("'"))
        if t.startswith("Mac") and len(t) > 5:
            t = "Mac" + t[3:].capitalize()
        elif t.startswith("Mc") and len(t) > 3:
            t = "Mc" + t[2:].capitalize()
        words.append(t)
    return " ".join(words)


def _join(*parts: np.ndarray, sep: str = " ") -> np.ndarray:
    out = parts[0].astype(object)
    for p in parts[1:]:
        out = np.where(p == "", out, np.where(out == "", p, out + sep + p))
    return out


def render_dates(days: np.ndarray, style: str, pad: bool, rng) -> np.ndarray:
    """Dates as the council's system writes them; NA as an empty cell."""
    out = np.full(len(days), "", dtype=object)
    ok = days != NA
    uniq, inv = np.unique(days[ok], return_inverse=True)
    ds = [EPOCH + timedelta(days=int(d)) for d in uniq]
    if style == "iso" or style == "mixed":
        txt = np.array([d.isoformat() for d in ds], dtype=object)
    elif pad:
        txt = np.array([d.strftime("%d/%m/%Y") for d in ds], dtype=object)
    else:
        txt = np.array([f"{d.day}/{d.month}/{d.year}" for d in ds], dtype=object)
    out[ok] = txt[inv]
    if style == "mixed":  # a few cells typed by hand, day first, in the Excel sheet
        typed = ok & (rng.random(len(days)) < 0.05)
        uk = np.array([d.strftime("%d/%m/%Y") for d in ds], dtype=object)[inv]
        full = np.full(len(days), "", dtype=object)
        full[ok] = uk
        out[typed] = full[typed]
    return out


def names(rng, rec: dict, pe: People, councils: list[Council], slips: Slips):
    """Surname and forenames as each council writes them."""
    p, part = rec["pid"], rec["partner"]
    n = len(p)
    u = rng.random((16, n))
    cz = {
        f: np.array([getattr(c, f) for c in councils])[part]
        for f in (
            "mac_as_mc",
            "singh_surname",
            "drop_second_surname",
            "hyphen_double",
            "apostrophe",
            "forenames",
            "diacritics",
            "title_case",
        )
    }
    sur, sur2, mid = pe.surname[p].copy(), pe.surname2[p], pe.middle[p].copy()
    given, comm = pe.given[p].copy(), pe.comm[p]
    former = pe.former[p]
    m = (former != "") & (u[0] < 0.4)
    sur[m] = former[m]
    slips.add(m, "sn:deed_poll")
    m = np.isin(mid, ["SINGH", "KAUR"]) & (u[1] < cz["singh_surname"])
    sur[m], mid[m] = mid[m], ""
    slips.add(m, "sn:singh")
    barrel = pe.barrel[p]
    two = sur2 != ""
    # a Spanish second surname left out, or one part of a double-barrelled name
    drop = two & ~barrel & ((u[2] < cz["drop_second_surname"]) | (u[2] > 0.92))
    dropb = two & barrel & (u[2] < 0.2)
    sep = np.where(barrel | cz["hyphen_double"], "-", " ")
    sur = np.where(two & ~drop & ~dropb, sur + sep + sur2, sur)
    sur = np.where(dropb & (u[3] < 0.5), sur2, sur)
    slips.add(drop, "sn:one_surname")
    slips.add(dropb, "sn:barrel_part")
    m = np.char.startswith(sur.astype(str), "MAC") & (u[4] < cz["mac_as_mc"])
    sur[m] = _map(sur[m], lambda s: "MC" + s[3:])
    slips.add(m, "sn:mac_mc")
    apos = np.char.find(sur.astype(str), "'") >= 0
    style = np.where(u[5] < 0.15, np.where(u[6] < 0.5, "space", "drop"), cz["apostrophe"])
    sp, dr = apos & (style == "space"), apos & (style == "drop")
    sur[sp] = _map(sur[sp], lambda s: s.replace("'", " "))
    sur[dr] = _map(sur[dr], lambda s: s.replace("'", ""))
    slips.add(sp | dr, "sn:apostrophe")
    al = np.char.startswith(sur.astype(str), "AL-")
    v = u[7]
    for mask, fn, tag in (
        (al & (v < 0.3), lambda s: s.replace("AL-", "AL ", 1), "sn:al_space"),
        (al & (v >= 0.3) & (v < 0.45), lambda s: s.replace("AL-", "AL", 1), "sn:al_joined"),
        (al & (v >= 0.45) & (v < 0.55), lambda s: s[3:], "sn:al_dropped"),
    ):
        sur[mask] = _map(sur[mask], fn)
        slips.add(mask, tag)
    part_ = np.isin(sur, PARTICLE)
    m = part_ & (u[8] < 0.15)
    sur[m] = _map(sur[m], lambda s: s.replace(" ", ""))
    slips.add(m, "sn:particle_joined")
    m = part_ & (u[8] > 0.9)
    sur[m] = _map(sur[m], lambda s: s.split(" ")[-1])
    slips.add(m, "sn:particle_dropped")

    # forenames
    pref = pe.preferred[p]
    m = (pref != "") & (u[9] < 0.45)
    given[m] = pref[m]
    mid[m & (mid == pref)] = ""
    slips.add(m, "fn:preferred")
    moh = np.isin(given, MOHAMMED) & (u[10] < 0.2)
    given[moh] = np.array(MOHAMMED, dtype=object)[rng.integers(0, len(MOHAMMED), n)][moh]
    slips.add(moh & (given != pe.given[p]), "fn:spelling")
    tr = np.isin(given, list(TRANSLIT)) & (u[11] < 0.25)
    given[tr] = _map(given[tr], TRANSLIT.get)
    slips.add(tr, "fn:transliteration")
    tr = np.isin(sur, list(TRANSLIT)) & (u[11] > 0.8)
    sur[tr] = _map(sur[tr], TRANSLIT.get)
    slips.add(tr, "sn:transliteration")
    fa = (comm == C["ulster"]) & np.isin(given, list(FADA)) & (u[12] < 0.3)
    given[fa] = _map(given[fa], FADA.get)
    slips.add(fa, "fn:fada")
    viet = np.isin(mid, ["VAN", "THI"])
    keep_mid = np.select(
        [cz["forenames"] == "all", cz["forenames"] == "first"],
        [u[13] < 0.97, u[13] < 0.03],
        u[13] < 0.5,
    )
    slips.add((mid != "") & ~keep_mid, "fn:middle_dropped")
    mid = np.where(keep_mid, mid, "")
    fore = np.where(viet & (mid != ""), _join(mid, given), _join(given, mid))
    # generation markers: in the surname, in the forenames, or not written
    sfx = pe.suffix[p]
    on_sur = (sfx != "") & (u[14] < 0.45)
    on_fore = (sfx != "") & (u[14] >= 0.45) & (u[14] < 0.7)
    sur = np.where(on_sur, sur + " " + sfx, sur)
    fore = np.where(on_fore, fore + " " + sfx, fore)
    slips.add(on_sur, "sfx:surname")
    slips.add(on_fore, "sfx:forenames")
    # characters: kept (UTF-8), folded by the system, or lost in Windows-1252
    odd = _map(_join(sur, fore), lambda s: s != fold(s))
    odd = odd.astype(bool)
    dia = cz["diacritics"]
    fo = odd & (
        (dia == "fold") | ((dia == "lose") & (u[15] < 0.6)) | ((dia == "keep") & (u[15] < 0.2))
    )
    lo = odd & (dia == "lose") & ~fo
    for mask, fn, tag in ((fo, fold, "fn:folded"), (lo, lose, "fn:char_lost")):
        sur[mask], fore[mask] = _map(sur[mask], fn), _map(fore[mask], fn)
        slips.add(mask, tag)
    tc = cz["title_case"]
    sur[tc], fore[tc] = _map(sur[tc], _title), _map(fore[tc], _title)
    slips.add(tc, "name:title_case")
    return sur, fore


def birth_dates(rng, rec: dict, pe: People, councils: list[Council], slips: Slips) -> np.ndarray:
    """Dates of birth as written: an unknown birthday as the 1st, the 15th or 1 July; a
    legacy system's 1900-01-01 placeholder."""
    p, n = rec["pid"], len(rec["pid"])
    dob = pe.dob[p].copy()
    vague = pe.dob_vague[p]
    u = rng.random(n)
    if vague.any():
        d = np.array([EPOCH + timedelta(days=int(x)) for x in dob[vague]])
        v = u[vague]
        fixed = [
            (
                x.replace(day=1)
                if w < 0.45
                else x.replace(day=15)
                if w < 0.8
                else x.replace(month=7, day=1)
            )
            for x, w in zip(d, v, strict=True)
        ]
        dob[vague] = [(f - EPOCH).days for f in fixed]
        slips.add(vague, "dob:vague_day")
    rate = np.array([c.placeholder_dob for c in councils])[rec["partner"]]
    ph = rng.random(n) < rate
    dob[ph] = (date(1900, 1, 1) - EPOCH).days
    slips.add(ph, "dob:placeholder_1900")
    return dob


def ni_numbers(rng, rec: dict, pe: People, councils: list[Council], slips: Slips, dob):
    """NI numbers where the dataset and council hold them, in the council's style; a TN
    temporary reference where a claimant had none (blanked by the spec: listed apart)."""
    p, part, ds = rec["pid"], rec["partner"], rec["ds"]
    n = len(p)
    ni = pe.ni[p].copy()
    miss = np.zeros(n)
    for d, rate in NI_MISSING.items():
        per = np.array([c.ni_missing.get(_NAMES[d], rate) for c in councils])[part]
        miss = np.where(ds == d, per, miss)
    no_dc = np.array([not c.deceased_ni for c in councils])[part] & (ds == DC)
    gone = (rng.random(n) < miss) | no_dc | (ni == "")
    ni[gone] = ""
    slips.add(gone & (pe.ni[p] != "") & ~no_dc, "ni:missing")
    slips.add(no_dc, "ni:none_from_registrar")
    style = np.array([c.ni_style for c in councils])[part]
    sp = (style == "spaced-lower") & (ni != "")
    ni[sp] = _map(ni[sp], lambda s: f"{s[:2]} {s[2:4]} {s[4:6]} {s[6:8]} {s[8:]}".lower())
    ns = (style == "no-suffix") & (ni != "")
    ni[ns] = _map(ni[ns], lambda s: s[:8])
    slips.add(sp, "ni:spaced_lower")
    slips.add(ns, "ni:no_suffix")
    temp = np.array([c.temp_ni for c in councils])[part]
    tn = np.isin(ds, [HB, CTR, HT, WL]) & (rng.random(n) < temp)
    born = [EPOCH + timedelta(days=int(x)) for x in dob[tn]]
    sex = np.where(pe.female[p[tn]], "F", "M")
    ni[tn] = [f"TN{b:%d%m%y}{s}" for b, s in zip(born, sex, strict=True)]
    slips.add(tn, "ni:temporary_tn")
    return ni, tn


_NAMES = {
    PY: "payroll",
    HB: "housing_benefit",
    CTR: "council_tax_reduction",
    HT: "housing_tenants",
    WL: "housing_waiting_list",
    DC: "deceased",
}


def addresses(rng, rec: dict, pe: People, homes: Homes, councils: list[Council], slips: Slips):
    """Address and postcode as each council writes them."""
    p, part, ds, h = rec["pid"], rec["partner"], rec["ds"], rec["home"]
    n = len(p)
    u = rng.random((8, n))
    unit, val = homes.unit[h], homes.unit_val[h]
    num = homes.number[h].astype(str).astype(object)
    street = STREETS[homes.street[h]]
    road = num + " " + street
    court = homes.court[h]
    room = (p % 6 + 1).astype(str).astype(object)
    floor = np.array([v.split("/")[0] if "/" in v else "" for v in val], dtype=object)
    door = np.array([v.split("/")[1] if "/" in v else "" for v in val], dtype=object)
    line = np.select(
        [
            (unit == FLATNUM),
            (unit == FLATLETTER) & (u[0] < 0.25),
            (unit == FLATLETTER),
            (unit == GROUND) & (u[0] < 0.15),
            (unit == GROUND),
            (unit == BASEMENT),
            (unit == APARTMENT) & (u[0] < 0.3),
            (unit == APARTMENT),
            (unit == REAR),
            (unit == TENEMENT) & (u[0] < 0.5),
            (unit == TENEMENT) & (u[0] < 0.8),
            (unit == TENEMENT),
            (unit == ROOMS) & (u[0] < 0.5),
            (unit == COURT) & (u[0] < 0.6),
            (unit == COURT),
        ],
        [
            "FLAT " + val + ", " + road,
            num + val + " " + street,
            "FLAT " + val + ", " + road,
            "GFF " + road,
            "GROUND FLOOR FLAT, " + road,
            "BASEMENT FLAT, " + road,
            "APT " + val + ", " + road,
            "APARTMENT " + val + ", " + road,
            "REAR OF " + road,
            "FLAT " + val + ", " + road,
            road + " (" + val + ")",
            floor + "F" + door + ", " + road,
            "ROOM " + room + ", " + road,
            "FLAT " + val + " " + court + ", " + road,
            val + " " + court + ", " + street,
        ],
        road,
    )
    for kinds, tag in (
        ((FLATNUM, FLATLETTER, GROUND, BASEMENT, APARTMENT, REAR), "addr:flat"),
        ((TENEMENT,), "addr:tenement"),
        ((ROOMS,), "addr:hmo"),
        ((COURT,), "addr:sheltered_block"),
    ):
        slips.add(np.isin(unit, kinds), tag)
    co = u[1] < 0.01
    carer = _map(pe.surname[(p[co] * 7919) % len(pe)], fold)  # the person mail goes to
    line[co] = "C/O " + carer + ", " + line[co]
    slips.add(co, "addr:care_of")
    share = np.array([c.town_share for c in councils])[part]
    town = u[2] < share
    line = np.where(town, line + ", " + homes.town[h], line)
    title = np.array([c.title_case for c in councils])[part]
    line[title] = _map(line[title], _title)
    pc = homes.postcode[h].copy()
    wrong = u[3] < 0.02
    pc[wrong] = homes.other_side[h][wrong]
    slips.add(wrong, "pc:other_side_of_street")
    nospace = u[4] < np.array([c.pc_nospace for c in councils])[part]
    pc[nospace] = _map(pc[nospace], lambda s: s.replace(" ", ""))
    lower = u[5] < np.array([c.pc_lower for c in councils])[part]
    pc[lower] = _map(pc[lower], str.lower)
    slips.add(nospace, "pc:no_space")
    slips.add(lower, "pc:lower")
    optional = np.isin(ds, POSTCODE_OPTIONAL) & (u[6] < 0.05)
    pc[optional] = ""
    slips.add(optional, "pc:missing")
    none = (ds == PY) & ~np.array([c.payroll_address for c in councils])[part]
    line[none], pc[none] = "", ""
    slips.add(none, "addr:payroll_holds_none")
    return line, pc
