"""Forename short forms and the one formal name each stands for (SALLY is not one: SARAH or
SALVADOR), so that the ``formal`` name extra lets TORI meet VICTORIA.

Two sources: our own hand-written list (:data:`NICKNAMES`), chosen for British usage, and the
curated English list of the ``nicknames`` package (Apache-2.0), narrowed by the rules in
:func:`derive_short_forms`. Where the two disagree ours wins.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping

import jellyfish
import nicknames

# Common English short forms of a forename, to the name they stand for. Only unambiguous ones:
# SAM (SAMUEL, SAMANTHA), CHRIS, JO, STEVE, ALEX... are left as written, and so are short
# forms that are given names in their own right (JACK, HARRY, CHARLIE, JAMIE, KATE, AMY...),
# so that twins JAMES and JAMIE never meet. These win over the package, which lists several
# formal names for some of them (BILL: ROBERT, WILLIAM, WILLIS; JIM has nicknames of its own;
# ROBBIE: ROBERTA; RAY, TIM and TRISH are formal names there) where British usage has one.
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

# Short forms the package gives one formal name for that British usage does not rewrite.
# The package is an American genealogical list and marks a name as a name in its own right
# only when it lists nicknames for it, so these are kept as written by hand:
# - given names in their own right in Britain (like JAMIE and KATE above): two people called
#   MARK and MARCUS, LAURA and LAURINDA, LEAH and ASHLEY, ARCHIE and ARCHIBALD must not meet;
# - a boy's and a girl's name (FELIX: FELICIA, EVAN: EVANGELINE, ALFY: ALFREDA, ZADIE: ISAIAH);
# - a short form that in Britain stands for another name too (DANI: DANIEL, ANDI: ANDREW, JEM:
#   JEREMY, AGA: AGNIESZKA, RICKIE: RICHARD, NITA: ANITA, NAZ, KAM, VAN), or for a name the
#   package spells otherwise (MOLLIE: MARY, MARGO and PEGGIE: MARGARET, ELENOR: ELEANOR), or a
#   spelling of another name (NICHOLE: NICOLE, BRIANA: BRIANNA);
# - English words and surnames (DAY, WEST, GREEN, LITTLE...): in a forename field more likely
#   a misplaced surname than a short form.
NOT_SHORT_FORMS: frozenset[str] = frozenset(
    {
        # given names in their own right
        "AMY", "ARCHIE", "BASIL", "BELA", "CALLIE", "CONNIE", "CORA", "ERICA", "ERICKA",
        "ERIKA", "FAY", "GARRY", "GEORGIA", "GINA", "GRETA", "HEIDI", "HONOR", "JAYE", "JODI",
        "JOY", "KARA", "KARI", "KENJI", "KENJ", "LAURA", "LEA", "LEAH", "LEXI", "LILA", "LOLA",
        "LOREN", "LORI", "MAISIE", "MARC", "MARK", "MICAH", "MONA", "NEIL", "NIEL", "NOAH",
        "NOEL", "NORAH", "OLA", "PERCY", "RALPH", "REA", "RHETT", "RIAN", "ROSS", "ROY",
        "SAUL", "SHELLEY", "TILLY", "TOBY", "TRACI", "TRACIE", "TRACY", "VERNA", "VERNON",
        # a boy's name and a girl's name
        "ALFY", "DARRY", "DRE", "EVAN", "FEL", "FELI", "FELIX", "RAFA", "ZADIE",
        # another name in British usage, or the formal name spelt otherwise
        "AGA", "ANDI", "ARI", "BRIANA", "BURT", "DANI", "ELENOR", "JEM", "KAM", "MARGO",
        "METTA", "MINA", "MOLLIE", "NADA", "NAZ", "NICHOLE", "NICKEY", "NITA", "PEGGIE", "REN",
        "RICKIE", "VAN",
        # English words and surnames
        "CHARM", "CHAT", "COURT", "CRATE", "DAY", "DUTCH", "DUTY", "FALL", "FATE", "FIELD",
        "GAY", "GREEN", "HAM", "HOP", "KILL", "LEFT", "LEVY", "LIFE", "LINK", "LITTLE", "MOCK",
        "ONE", "PINK", "SEE", "SIS", "TICK", "WASH", "WEBB", "WEST", "WOOD",
    }
)  # fmt: skip


def stands_for(triplets: Iterable[tuple[str, str, str]]) -> dict[str, set[str]]:
    """Short form -> the formal names it stands for, from the package's ``(formal,
    "has_nickname", short)`` rows (upper-cased); the package's formal names are the values."""
    out: defaultdict[str, set[str]] = defaultdict(set)
    for formal, relationship, short in triplets:
        if relationship == "has_nickname":
            out[short.strip().upper()].add(formal.strip().upper())
    return dict(out)


def derive_short_forms(triplets: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    """Short form -> formal name from ``(formal, "has_nickname", short)`` rows, safe ones only.

    A short form is kept when it stands for exactly one formal name (SAM, CHRIS, JO and KAY
    stand for several), is not itself listed as a formal name with nicknames of its own (a
    name in its own right: HARRY, JAMIE, CHARLIE), is shorter than the formal name and not a
    spelling of it (SARA, KELLI: they sound the same), and is a plain word of letters.
    """
    formals_of = stands_for(triplets)
    has_own = set().union(*formals_of.values())
    kept: dict[str, str] = {}
    for short, formals in formals_of.items():
        if len(formals) != 1 or short in has_own or not short.isalpha():
            continue
        (formal,) = formals
        if len(short) >= len(formal) or _spelt_alike(short, formal):
            continue
        kept[short] = formal
    return kept


def _spelt_alike(a: str, b: str) -> bool:
    """Two spellings of one name (SARA SARAH, BRIANA BRYANNA), not a short form of it."""
    if jellyfish.levenshtein_distance(a, b) <= 1:
        return True
    return jellyfish.metaphone(a) == jellyfish.metaphone(b)


def merge_short_forms(
    ours: Mapping[str, str], derived: Mapping[str, str], not_short: Iterable[str]
) -> dict[str, str]:
    """Our entries over the derived ones, less those British usage keeps, with no chains.

    A derived short form is dropped when it is one of our formal names (LOUISE), is kept as
    written (:data:`NOT_SHORT_FORMS`), or would be written out to a name that is itself a short
    form (a chain, X -> TONY), so that every value is final.
    """
    drop = set(not_short) | set(ours.values())
    merged = {s: f for s, f in derived.items() if s not in drop}
    merged.update(ours)
    return {s: f for s, f in merged.items() if s in ours or f not in merged}


@functools.cache
def short_forms() -> dict[str, str]:
    """The mapping the ``formal`` extra uses, built once from the package's data and ours."""
    derived = derive_short_forms(nicknames.name_triplets())
    return merge_short_forms(NICKNAMES, derived, NOT_SHORT_FORMS)
