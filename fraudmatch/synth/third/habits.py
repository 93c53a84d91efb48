"""Each council's way of keying people and places, and the slips its staff make.

A council's habits are fixed rates (one system writes surnames in capitals and folds
accents, another keeps initials on payroll, another spaces NI numbers), so the same person
looks different from one council to the next but consistently so within one. Every slip a
record receives is noted (the truth notes carry them) so a miss can be traced to its cause.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from fraudmatch.synth.third.names import NICKNAMES, TITLES_F, TITLES_M
from fraudmatch.synth.third.places import ABBREV, Dwellings

EPOCH = date(1970, 1, 1)

PY, HB, CTR, HT, WL, BB, CT, DC = range(8)
DATASET_NAMES = (
    "payroll",
    "housing_benefit",
    "council_tax_reduction",
    "housing_tenants",
    "housing_waiting_list",
    "blue_badge",
    "concessionary_travel",
    "deceased",
)
DS_CODE = ("PAY", "HB", "CTR", "TEN", "WL", "BB", "CTP", "DEC")


@dataclass(frozen=True)
class Style:
    """One council's habits (rates are per record unless said otherwise)."""

    fmt: str  # csv-utf8 | csv-utf8-bom | csv-cp1252 | xlsx
    crlf: bool
    dates: str  # iso | uk
    case: tuple[float, float, float, float, float]  # upper, title, as typed, lower, SURNAME+Title
    ascii_only: bool  # the system has no accented letters at all
    middle: float  # middle names kept in the forenames field
    middle_payroll: float
    initials: dict[int, float]  # dataset -> forenames written as initials only
    known_as: float  # someone known by their middle name is recorded by it
    nickname: float
    title: float  # "Mrs Jane" in the forenames field
    typo: float  # per name field
    swap: float  # surname and forenames in each other's columns
    spaces: float
    punct: float
    part: float  # one part only of a hyphenated or multi-word surname
    apostrophe: str  # keep | drop | space  (O'Neill, ONeill, O Neill)
    mc_space: float  # "Mc Donald"
    stale_surname: float  # maiden name kept on a record begun before the marriage
    dob_typo: float
    dob_placeholder: float  # day and month unknown, keyed 01/01
    invalid: float  # rows made unacceptable (impossible or blank required value)
    ni_missing: dict[int, float]
    ni_spaced: float
    ni_lower: float
    ni_typo: float
    flat_formats: tuple[tuple[str, float], ...]
    abbrev: float
    town: float
    seps: tuple[tuple[str, float], ...]
    addr_upper: bool
    number_comma: float  # "12, Elm Road"
    addr_missing: float  # where the address is optional
    pc_missing: float  # where the postcode is optional
    pc_nospace: float
    pc_lower: float
    uprn: float
    stale_address: float  # payroll, badge and pass records keep a mover's old address
    id_style: str
    sort_code: str  # dashes | plain | spaces
    extra_column: tuple[int, str] | None = None
    id_start: int = 1
    notes: dict[str, str] = field(default_factory=dict)


def _ni(hb, ctr, ht, wl, py, dc) -> dict[int, float]:
    return {HB: hb, CTR: ctr, HT: ht, WL: wl, PY: py, DC: dc}


STYLES = (
    Style(  # ashworth_vale: an old mainframe, all capitals, no accents, tidy otherwise
        fmt="csv-utf8",
        crlf=False,
        dates="iso",
        case=(0.88, 0.1, 0.02, 0.0, 0.0),
        ascii_only=True,
        middle=0.7,
        middle_payroll=0.92,
        initials={PY: 0.02, HB: 0.01, CTR: 0.01, HT: 0.01, WL: 0.01, BB: 0.02, CT: 0.02, DC: 0},
        known_as=0.3,
        nickname=0.035,
        title=0.01,
        typo=0.015,
        swap=0.004,
        spaces=0.03,
        punct=0.01,
        part=0.25,
        apostrophe="drop",
        mc_space=0.0,
        stale_surname=0.7,
        dob_typo=0.012,
        dob_placeholder=0.0,
        invalid=0.004,
        ni_missing=_ni(0.25, 0.3, 0.3, 0.4, 0.03, 0.4),
        ni_spaced=0.1,
        ni_lower=0.0,
        ni_typo=0.002,
        flat_formats=(("Flat {f}, {n} {s}", 0.8), ("Flat {f} {n} {s}", 0.2)),
        abbrev=0.4,
        town=0.5,
        seps=((", ", 1.0),),
        addr_upper=True,
        number_comma=0.02,
        addr_missing=0.03,
        pc_missing=0.03,
        pc_nospace=0.1,
        pc_lower=0.0,
        uprn=0.9,
        stale_address=0.25,
        id_style="slash",
        sort_code="dashes",
    ),
    Style(  # merebrook: spreadsheets from several teams, title case, initials on payroll
        fmt="xlsx",
        crlf=False,
        dates="uk",
        case=(0.1, 0.6, 0.3, 0.0, 0.0),
        ascii_only=False,
        middle=0.4,
        middle_payroll=0.6,
        initials={PY: 0.3, HB: 0.03, CTR: 0.03, HT: 0.03, WL: 0.02, BB: 0.04, CT: 0.05, DC: 0.01},
        known_as=0.6,
        nickname=0.08,
        title=0.05,
        typo=0.025,
        swap=0.01,
        spaces=0.05,
        punct=0.02,
        part=0.15,
        apostrophe="keep",
        mc_space=0.1,
        stale_surname=0.6,
        dob_typo=0.02,
        dob_placeholder=0.005,
        invalid=0.006,
        ni_missing=_ni(0.35, 0.35, 0.4, 0.45, 0.05, 0.5),
        ni_spaced=0.4,
        ni_lower=0.05,
        ni_typo=0.002,
        flat_formats=(("{f}/{n} {s}", 0.5), ("{n} {s} Flat {f}", 0.3), ("Flat {f}, {n} {s}", 0.2)),
        abbrev=0.7,
        town=0.2,
        seps=(("\n", 0.7), (", ", 0.3)),
        addr_upper=False,
        number_comma=0.05,
        addr_missing=0.08,
        pc_missing=0.05,
        pc_nospace=0.15,
        pc_lower=0.05,
        uprn=0.0,
        stale_address=0.4,
        id_style="numeric",
        sort_code="plain",
        id_start=100_245,
    ),
    Style(  # pentre_afon: Windows-1252 CSV with CRLF, bilingual staff, mixed case
        fmt="csv-cp1252",
        crlf=True,
        dates="uk",
        case=(0.3, 0.2, 0.5, 0.0, 0.0),
        ascii_only=False,
        middle=0.55,
        middle_payroll=0.8,
        initials={PY: 0.05, HB: 0.05, CTR: 0.05, HT: 0.05, WL: 0.05, BB: 0.05, CT: 0.05, DC: 0.02},
        known_as=0.5,
        nickname=0.05,
        title=0.03,
        typo=0.02,
        swap=0.006,
        spaces=0.04,
        punct=0.03,
        part=0.3,
        apostrophe="space",
        mc_space=0.05,
        stale_surname=0.75,
        dob_typo=0.015,
        dob_placeholder=0.0,
        invalid=0.005,
        ni_missing=_ni(0.2, 0.25, 0.2, 0.35, 0.02, 0.3),
        ni_spaced=0.2,
        ni_lower=0.02,
        ni_typo=0.002,
        flat_formats=(("Flat {f} {n} {s}", 0.7), ("Fflat {f}, {n} {s}", 0.3)),
        abbrev=0.2,
        town=0.8,
        seps=((", ", 1.0),),
        addr_upper=False,
        number_comma=0.0,
        addr_missing=0.02,
        pc_missing=0.02,
        pc_nospace=0.05,
        pc_lower=0.0,
        uprn=0.5,
        stale_address=0.2,
        id_style="dash",
        sort_code="spaces",
        extra_column=(HT, "officer_notes"),
    ),
    Style(  # saltmarsh_bay: UTF-8 with BOM from a modern system, SURNAME in capitals
        fmt="csv-utf8-bom",
        crlf=False,
        dates="iso",
        case=(0.0, 0.5, 0.0, 0.0, 0.5),
        ascii_only=False,
        middle=0.8,
        middle_payroll=0.9,
        initials={PY: 0.01, HB: 0.01, CTR: 0.01, HT: 0.01, WL: 0.01, BB: 0.01, CT: 0.01, DC: 0},
        known_as=0.3,
        nickname=0.03,
        title=0.01,
        typo=0.01,
        swap=0.003,
        spaces=0.02,
        punct=0.005,
        part=0.1,
        apostrophe="keep",
        mc_space=0.0,
        stale_surname=0.5,
        dob_typo=0.008,
        dob_placeholder=0.0,
        invalid=0.003,
        ni_missing=_ni(0.3, 0.3, 0.35, 0.3, 0.04, 0.35),
        ni_spaced=0.0,
        ni_lower=0.0,
        ni_typo=0.001,
        flat_formats=(("Apartment {f}, {n} {s}", 0.4), ("Flat {f}, {n} {s}", 0.6)),
        abbrev=0.1,
        town=0.9,
        seps=((", ", 1.0),),
        addr_upper=False,
        number_comma=0.0,
        addr_missing=0.01,
        pc_missing=0.01,
        pc_nospace=0.25,
        pc_lower=0.05,
        uprn=0.95,
        stale_address=0.1,
        id_style="padded",
        sort_code="dashes",
    ),
    Style(  # kingsholm_fields: hand-keyed, lower case slips, initials on passes and badges
        fmt="csv-utf8",
        crlf=False,
        dates="uk",
        case=(0.4, 0.35, 0.05, 0.2, 0.0),
        ascii_only=True,
        middle=0.25,
        middle_payroll=0.5,
        initials={PY: 0.04, HB: 0.02, CTR: 0.02, HT: 0.03, WL: 0.03, BB: 0.1, CT: 0.15, DC: 0.01},
        known_as=0.5,
        nickname=0.06,
        title=0.04,
        typo=0.03,
        swap=0.012,
        spaces=0.06,
        punct=0.04,
        part=0.35,
        apostrophe="drop",
        mc_space=0.15,
        stale_surname=0.8,
        dob_typo=0.025,
        dob_placeholder=0.01,
        invalid=0.008,
        ni_missing=_ni(0.4, 0.4, 0.3, 0.4, 0.08, 0.45),
        ni_spaced=0.3,
        ni_lower=0.15,
        ni_typo=0.003,
        flat_formats=(
            ("Flat {f} {n} {s}", 0.4),
            ("{f}/{n} {s}", 0.3),
            ("{n} {s} Flat {f}", 0.3),
        ),
        abbrev=0.5,
        town=0.4,
        seps=((" ", 0.5), (", ", 0.5)),
        addr_upper=False,
        number_comma=0.03,
        addr_missing=0.1,
        pc_missing=0.08,
        pc_nospace=0.4,
        pc_lower=0.15,
        uprn=0.3,
        stale_address=0.35,
        id_style="check",
        sort_code="plain",
    ),
)


def style_for(index: int) -> Style:
    """Councils beyond the fifth reuse a style with another record-id habit."""
    base = STYLES[index % len(STYLES)]
    if index < len(STYLES):
        return base
    ids = ("letters", "year", "numeric")[index % 3]
    return Style(**{**base.__dict__, "id_style": ids, "id_start": 5000 + 1000 * index})


# ---------------------------------------------------------------- small text slips

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGH: dict[str, str] = {}
for _r, _row in enumerate(_ROWS):
    for _i, _ch in enumerate(_row):
        near = _row[max(0, _i - 1) : _i] + _row[_i + 1 : _i + 2]
        if _r > 0:
            near += _ROWS[_r - 1][_i : _i + 2]
        if _r < 2:
            near += _ROWS[_r + 1][max(0, _i - 1) : _i + 1]
        _NEIGH[_ch] = near

_SPECIAL = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "ß": "ss"})


def fold_ascii(s: str) -> str:
    """What a system without accented letters stores: Wiśniewski -> Wisniewski."""
    if s.isascii():
        return s
    s = s.translate(_SPECIAL)
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def fold_cp1252(s: str) -> str:
    """Keep what Windows-1252 can hold (é, ô, Š), fold the rest (ł, ś, ż, ŷ)."""
    try:
        s.encode("cp1252")
        return s
    except UnicodeEncodeError:
        pass
    out = []
    for c in s:
        try:
            c.encode("cp1252")
            out.append(c)
        except UnicodeEncodeError:
            out.append(fold_ascii(c))
    return "".join(out)


def typo(s: str, rng: np.random.Generator) -> str:
    """One keying slip: a letter dropped, doubled, swapped with the next, or a neighbour."""
    letters = [i for i, c in enumerate(s) if c.isalpha()]
    if len(letters) < 4:
        return s
    i = letters[int(rng.integers(1, len(letters)))] if rng.random() < 0.9 else letters[0]
    op = rng.random()
    if op < 0.3:
        return s[:i] + s[i + 1 :]
    if op < 0.5:
        return s[:i] + s[i] + s[i:]
    if op < 0.75 and i + 1 < len(s) and s[i + 1].isalpha() and s[i + 1] != s[i]:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    near = _NEIGH.get(s[i].lower(), "")
    if not near:
        return s[:i] + s[i + 1 :]
    c = near[int(rng.integers(len(near)))]
    return s[:i] + (c.upper() if s[i].isupper() else c) + s[i + 1 :]


def _case(s: str, mode: int, surname: bool) -> str:
    if mode == 0:
        return s.upper()
    if mode == 1:
        return s.title()
    if mode == 3:
        return s.lower()
    if mode == 4:
        return s.upper() if surname else s.title()
    return s


def _pick(u: float, weights) -> int:
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if u < acc:
            return i
    return len(weights) - 1


# ---------------------------------------------------------------- names


def render_name(
    st: Style,
    ds: int,
    first: str,
    middle: str,
    surname: str,
    sex: int,
    known_by_middle: bool,
    guard: bool,
    rng: np.random.Generator,
    flags: list[str],
) -> tuple[str, str]:
    """Surname and forenames as this council keys them for this record."""
    u = rng.random(16)
    mids = middle.split() if middle else []
    fn = first
    if known_by_middle and mids and not guard and u[0] < st.known_as:
        fn, mids = mids[0], mids[1:]
        flags.append("fn:known-as-middle")
    elif not guard and u[1] < st.nickname and fn in NICKNAMES:
        opts = NICKNAMES[fn]
        fn = opts[int(rng.integers(len(opts)))]
        flags.append("fn:short-form")
    keep_mid = u[2] < (st.middle_payroll if ds == PY else st.middle)
    words = [fn] + (mids if keep_mid else [])
    if not guard and u[3] < st.initials.get(ds, 0):
        dot = "." if u[4] < 0.3 else ""
        forenames = " ".join(w[0] + dot for w in " ".join(words).split())
        flags.append("fn:initials")
    else:
        forenames = " ".join(words)
        if len(words) > 1:
            flags.append("fn:with-middle")
    if u[5] < st.title:
        titles = TITLES_F if sex == 1 else TITLES_M
        forenames = f"{titles[int(rng.integers(len(titles)))]} {forenames}"
        flags.append("fn:title")
    if u[6] < st.typo and len(forenames) > 3:
        forenames = typo(forenames, rng)
        flags.append("fn:typo")

    sn = surname
    parts = [p for p in sn.replace("-", " ").split() if p]
    particles = {"van", "der", "den", "de", "da", "dos", "ap", "ab", "mac", "ó", "ua"}
    if len(parts) > 1 and u[7] < st.part:
        real = [p for p in parts if p.lower() not in particles]
        if real and (("-" in sn) or len(real) > 1):
            sn = real[0] if u[8] < 0.5 else real[-1]
            flags.append("sn:one-part")
    if "'" in sn and st.apostrophe != "keep":
        sn = sn.replace("'", "" if st.apostrophe == "drop" else " ")
        flags.append("sn:apostrophe")
    if sn.startswith("Mc") and len(sn) > 3 and u[9] < st.mc_space:
        sn = "Mc " + sn[2:]
        flags.append("sn:mc-space")
    if u[10] < st.typo and len(sn) > 3:
        sn = typo(sn, rng)
        flags.append("sn:typo")

    mode = _pick(u[11], st.case)
    sn, forenames = _case(sn, mode, True), _case(forenames, mode, False)
    if st.ascii_only:
        sn, forenames = fold_ascii(sn), fold_ascii(forenames)
    elif st.fmt == "csv-cp1252":
        sn, forenames = fold_cp1252(sn), fold_cp1252(forenames)
    if u[12] < st.spaces:
        r = rng.random()
        if r < 0.4:
            forenames = forenames.replace(" ", "  ", 1) if " " in forenames else forenames + " "
        elif r < 0.7:
            sn = " " + sn
        else:
            sn = sn + "  "
        flags.append("spaces")
    if u[13] < st.punct:
        if rng.random() < 0.5:
            forenames += "." if rng.random() < 0.5 else ","
        else:
            sn += "."
        flags.append("punct")
    if u[14] < st.swap:
        sn, forenames = forenames, sn
        flags.append("swapped-columns")
    return sn, forenames


# ---------------------------------------------------------------- dates


def day_to_date(day: int) -> date:
    return EPOCH + timedelta(days=int(day))


def fmt_ymd(y: int, m: int, d: int, style: str) -> str:
    return f"{d:02d}/{m:02d}/{y:04d}" if style == "uk" else f"{y:04d}-{m:02d}-{d:02d}"


def _valid(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
        return True
    except ValueError:
        return False


def render_dob(
    st: Style, day: int, rng: np.random.Generator, flags: list[str], invalid: str
) -> str:
    """The date of birth as keyed: mostly right, sometimes slipped, rarely impossible."""
    t = day_to_date(day)
    y, m, d = t.year, t.month, t.day
    if invalid == "dob-blank":
        return ""
    if invalid == "dob-impossible":
        r = rng.random()
        if r < 0.4:
            y2, m2, d2 = y, 2, 30 + int(rng.integers(0, 2))
        elif r < 0.7:
            y2, m2, d2 = y, 13, d
        else:
            y2, m2, d2 = y, m, 32 + int(rng.integers(0, 7))
        return fmt_ymd(y2, m2, d2, st.dates)
    u = rng.random(3)
    if u[0] < st.dob_typo:
        r = u[1]
        if r < 0.35 and d <= 12 and m <= 12 and d != m:
            m, d = d, m
            flags.append("dob:day-month-swapped")
        elif r < 0.65:
            which = int(rng.integers(3))
            for _ in range(10):
                if which == 0:
                    y2, m2, d2 = y, m, (d // 10) * 10 + int(rng.integers(10))
                elif which == 1:
                    y2, m2, d2 = y, (m // 10) * 10 + int(rng.integers(10)), d
                else:
                    y2, m2, d2 = (y // 10) * 10 + int(rng.integers(10)), m, d
                if (y2, m2, d2) != (y, m, d) and _valid(y2, m2, d2):
                    y, m, d = y2, m2, d2
                    flags.append("dob:digit")
                    break
        elif r < 0.9:
            y += 1 if u[2] < 0.5 else -1
            if not _valid(y, m, d):
                d = 28
            flags.append("dob:year-1")
        else:
            y += 10 if u[2] < 0.5 else -10
            if not _valid(y, m, d):
                d = 28
            flags.append("dob:year-10")
    elif u[0] < st.dob_typo + st.dob_placeholder:
        m, d = 1, 1
        flags.append("dob:placeholder-0101")
    return fmt_ymd(y, m, d, st.dates)


def render_days(days: np.ndarray, style: str) -> np.ndarray:
    """Plain dates, -1 blank, in the council's style."""
    out = np.full(len(days), "", dtype=object)
    ok = days >= 0
    iso = np.datetime_as_string(days[ok].astype("datetime64[D]"), unit="D").astype(object)
    if style == "uk":
        iso = np.array([f"{s[8:10]}/{s[5:7]}/{s[0:4]}" for s in iso], dtype=object)
    out[ok] = iso
    return out


# ---------------------------------------------------------------- NI numbers


def render_ni(
    st: Style, ds: int, ni: str, force: bool, rng: np.random.Generator, flags: list[str]
) -> str:
    """Present or not at the council's rate for the dataset, spaced or lower-cased sometimes."""
    if not ni:
        return ""
    u = rng.random(4)
    if not force and u[0] < st.ni_missing.get(ds, 0.3):
        flags.append("ni:missing")
        return ""
    if not force and u[1] < st.ni_typo:
        k = 2 + int(rng.integers(6))
        ni = ni[:k] + str((int(ni[k]) + 1 + int(rng.integers(8))) % 10) + ni[k + 1 :]
        flags.append("ni:typo")
    if u[2] < st.ni_spaced:
        ni = f"{ni[:2]} {ni[2:4]} {ni[4:6]} {ni[6:8]} {ni[8:]}"
    if u[3] < st.ni_lower:
        ni = ni.lower()
    return ni


# ---------------------------------------------------------------- addresses


def render_address(
    st: Style, dw: Dwellings, i: int, rng: np.random.Generator
) -> tuple[str, str, str]:
    """Address line(s), postcode and UPRN as the council holds them."""
    u = rng.random(10)
    street = str(dw.street[i])
    last = street.rsplit(" ", 1)
    if len(last) == 2 and last[1] in ABBREV and u[0] < st.abbrev:
        opts = ABBREV[last[1]]
        street = f"{last[0]} {opts[int(rng.integers(len(opts)))]}"
    num, flat, hn = int(dw.number[i]), int(dw.flat[i]), str(dw.house_name[i])
    if flat:
        fmts = st.flat_formats
        f = fmts[_pick(u[1], [w for _, w in fmts])][0]
        line = f.format(f=flat, n=num, s=street)
    elif hn:
        sep = ", " if u[2] < 0.6 else " "
        line = f"{hn}{sep}{num} {street}" if num else f"{hn}{sep}{street}"
    elif num:
        line = f"{num}, {street}" if u[3] < st.number_comma else f"{num} {street}"
    else:
        line = street
    if u[4] < st.town:
        sep = st.seps[_pick(u[5], [w for _, w in st.seps])][0]
        line = f"{line}{sep}{dw.town[i]}"
    if st.addr_upper:
        line = line.upper()
    if st.ascii_only:
        line = fold_ascii(line)
    elif st.fmt == "csv-cp1252":
        line = fold_cp1252(line)
    pc = str(dw.postcode[i])
    if u[6] < st.pc_nospace:
        pc = pc.replace(" ", "")
    if u[7] < st.pc_lower:
        pc = pc.lower()
    uprn = str(int(dw.uprn[i])) if u[8] < st.uprn else ""
    return line, pc, uprn


# ---------------------------------------------------------------- record ids


def record_ids(st: Style, ds: int, k: int, rng: np.random.Generator) -> list[str]:
    """k distinct ids in the council's own style for one extract."""
    steps = rng.integers(1, 9, k)
    seq = st.id_start + np.cumsum(steps)
    code = DS_CODE[ds]
    if st.id_style == "slash":
        return [f"{code}/{s:07d}" for s in seq]
    if st.id_style == "numeric":
        return [str(int(s) + ds * 1_000_000) for s in seq]
    if st.id_style == "dash":
        yy = rng.integers(12, 27, k)
        return [f"{code[0]}{y:02d}-{s:06d}" for y, s in zip(yy, seq, strict=True)]
    if st.id_style == "padded":
        return [f"{s:08d}" for s in seq]
    if st.id_style == "check":
        letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
        return [f"KF{code}{s}{letters[(s * 7) % len(letters)]}" for s in seq]
    if st.id_style == "letters":
        return [f"{code.lower()}-{s:x}" for s in seq]
    return [f"{2000 + s % 27}/{s:06d}" for s in seq]
