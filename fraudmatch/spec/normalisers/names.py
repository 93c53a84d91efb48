"""Person and supplier names: titles dropped, accents folded, first/last/initial/formal extras."""

from __future__ import annotations

import polars as pl

from fraudmatch.spec.normalisers.core import (
    F,
    Normalised,
    bind,
    collapse_spaces,
    drop_words,
    finish,
    fold,
    let,
)

# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

# Titles, honorifics and post-nominals that are never anyone's name: removed anywhere.
NAME_TITLES: frozenset[str] = frozenset(
    {
        "MR", "MRS", "MS", "MISS", "MX", "MSTR", "DR", "PROF", "REV", "REVD", "RT", "HON",
        "CAPT", "CLLR", "JR", "JNR", "SR", "SNR", "ESQ", "II", "III", "MBE", "OBE", "CBE",
        "KBE", "DBE", "BEM", "QC", "KC", "PHD",
    }
)  # fmt: skip

# Titles that are also real surnames (Lord, Lady, Sir, Dame, Master): removed only as leading
# words with a name after them, so "Lord Smith" -> SMITH but a surname cell "Lord" stays LORD.
NAME_LEADING_TITLES: frozenset[str] = frozenset({"SIR", "DAME", "LORD", "LADY", "MASTER"})

_NO_NAME = "no name left after removing titles and punctuation"


# Common English short forms of a forename, to the name they stand for. Only unambiguous ones:
# SAM (SAMUEL, SAMANTHA), CHRIS, JO, STEVE, ALEX... are left as written, and so are short
# forms that are given names in their own right (JACK, HARRY, CHARLIE, JAMIE, KATE, AMY...),
# so that twins JAMES and JAMIE never meet.
NICKNAMES: dict[str, str] = {
    "ANDY": "ANDREW", "DREW": "ANDREW", "TONY": "ANTHONY", "BEN": "BENJAMIN",
    "BENNY": "BENJAMIN", "BOB": "ROBERT", "BOBBY": "ROBERT", "ROB": "ROBERT",
    "ROBBIE": "ROBERT", "CHUCK": "CHARLES", "DAN": "DANIEL", "DANNY": "DANIEL",
    "DAVE": "DAVID", "DAVY": "DAVID", "ED": "EDWARD", "EDDIE": "EDWARD", "TED": "EDWARD",
    "TEDDY": "EDWARD", "FRED": "FREDERICK", "GEOFF": "GEOFFREY", "GREG": "GREGORY",
    "JIM": "JAMES", "JIMMY": "JAMES", "JOHNNY": "JOHN", "JOE": "JOSEPH", "JOEY": "JOSEPH",
    "KEN": "KENNETH", "KENNY": "KENNETH", "LEN": "LEONARD", "LENNY": "LEONARD",
    "MATT": "MATTHEW", "MATTY": "MATTHEW", "MIKE": "MICHAEL", "MICK": "MICHAEL",
    "MICKY": "MICHAEL", "MIKEY": "MICHAEL", "NICK": "NICHOLAS", "PADDY": "PATRICK",
    "PETE": "PETER", "PHIL": "PHILIP", "RAY": "RAYMOND", "RICH": "RICHARD",
    "RICK": "RICHARD", "RICKY": "RICHARD", "DICK": "RICHARD", "RON": "RONALD",
    "RONNIE": "RONALD", "STU": "STUART", "TOM": "THOMAS", "TOMMY": "THOMAS",
    "TIM": "TIMOTHY", "BILL": "WILLIAM", "BILLY": "WILLIAM", "WILL": "WILLIAM",
    "WILLIE": "WILLIAM", "ALF": "ALFRED", "ALEC": "ALEXANDER", "XANDER": "ALEXANDER",
    "KIT": "CHRISTOPHER", "DOUG": "DOUGLAS", "LARRY": "LAWRENCE", "NORM": "NORMAN",
    "REG": "REGINALD", "SID": "SIDNEY", "TERRY": "TERENCE", "VIC": "VICTOR",
    "WALLY": "WALTER", "ABBY": "ABIGAIL", "ABBIE": "ABIGAIL", "BECKY": "REBECCA",
    "BECCA": "REBECCA", "LIZ": "ELIZABETH", "LIZZIE": "ELIZABETH", "LIZZY": "ELIZABETH",
    "BETTY": "ELIZABETH", "BESS": "ELIZABETH", "LIBBY": "ELIZABETH", "CATHY": "CATHERINE",
    "CATH": "CATHERINE", "KATHY": "KATHERINE", "CHRISSIE": "CHRISTINE", "DEB": "DEBORAH",
    "DEBBIE": "DEBORAH", "DOT": "DOROTHY", "DOTTIE": "DOROTHY", "FLO": "FLORENCE",
    "GILL": "GILLIAN", "JACKIE": "JACQUELINE", "JEN": "JENNIFER", "JENNY": "JENNIFER",
    "JESS": "JESSICA", "JESSIE": "JESSICA", "JUDY": "JUDITH", "LOTTIE": "CHARLOTTE",
    "LOU": "LOUISE", "MAGGIE": "MARGARET", "PEGGY": "MARGARET", "MANDY": "AMANDA",
    "PAM": "PAMELA", "PATSY": "PATRICIA", "TRISH": "PATRICIA", "TRICIA": "PATRICIA",
    "PENNY": "PENELOPE", "SUE": "SUSAN", "SUSIE": "SUSAN", "SUZY": "SUSAN", "VAL": "VALERIE",
    "VICKY": "VICTORIA", "VICKI": "VICTORIA", "GINNY": "VIRGINIA", "HATTIE": "HARRIET",
    "SOPH": "SOPHIE", "STEPH": "STEPHANIE",
}  # fmt: skip


def _clean_name(raw: pl.Expr) -> pl.Expr:
    words = collapse_spaces(fold(raw).str.replace_all(r"[^\p{L}\p{N}]+", " "))
    words = drop_words(words, NAME_TITLES)
    leading = "|".join(sorted(NAME_LEADING_TITLES))
    return words.str.replace(f"^(?:(?:{leading}) )+", "")


def normalise_name(raw: pl.Expr) -> Normalised:
    """Person or supplier name as upper-case words, with first and last word as extras.

    The extras let O'BRIEN-SMITH meet both OBRIEN SMITH and SMITH: hyphenated and
    double-barrelled surnames are recorded inconsistently across councils. ``initial`` (the
    first letter) lets "S" meet SOPHIE: a record that shows only an initial has a first word
    equal to the other record's initial. ``formal`` is the first word with a common short form
    written out (:data:`NICKNAMES`: JIMMY -> JAMES), so a nickname meets its name.
    """
    state = bind(raw, name=_clean_name(F("raw")))
    state = let(state, first=F("name").str.extract(r"^([^ ]+)"))
    name = F("name")
    return finish(
        state,
        name,
        [(name == "", _NO_NAME)],
        {
            "first": F("first"),
            "last": name.str.extract(r"([^ ]+)$"),
            "initial": name.str.slice(0, 1),
            "formal": formal_name(F("first")),
        },
    )


def formal_name(first_word: pl.Expr) -> pl.Expr:
    """A name's first word with a known short form written out (BILL -> WILLIAM)."""
    return first_word.replace(NICKNAMES)
