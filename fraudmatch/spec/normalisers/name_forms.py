"""The names a known given name may stand for, by sound: KATE may be CATHERINE, LIAM WILLIAM.

Why: where a single-person discount holder's own register entry is not found at the address,
an entry there with the holder's surname is either another adult (the fraud) or the holder
registered under another form of the name. ``formal`` and ``given`` cannot tell these apart:
KATE, JILL and LIAM are names in their own right (twins KATE and CATHERINE are two people),
so neither writes them out. Here a name is not rewritten but related: the set of name sounds
it may be (its own, and those of every formal name it is a short form of), so that two names
whose sets share a sound may be one person's, and two whose sets share none (CHRISTINE and
KELLY, JOHN and JESSICA) are two people's.

The relation is one hop, never a closure (the nickname graph's closure joins a thousand names
into one), and sounds are metaphone codes so spellings meet (KATHERINE, CATHERINE: K0RN).
A name's first three letters are one of its forms too (``=ALI``): a short form no list
holds is most often the start of the name (ALI for ALISTAIR), and so is a name a council's
system cut short (CHRISTOPH).
It is permissive on purpose (JOHN and JANE sound alike): a wrong "may be" costs a lead, a
wrong "two people" tells a council a household has an adult it does not.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping

import jellyfish
import nicknames

from fraudmatch.spec.normalisers.given_names import given_names
from fraudmatch.spec.normalisers.short_forms import short_forms, stands_for

#: how many letters of a name's start are one of its forms
STEM = 3
#: how many sounds a name sends (``form1`` ... ``form10``); a name with more sends none, so it
#: is never read as another name (MARY, LISA and LEE stand for many)
FORM_SLOTS = 10
#: the name extras that hold them, one slot each
FORM_EXTRAS: tuple[str, ...] = tuple(f"form{i}" for i in range(1, FORM_SLOTS + 1))

# Names in their own right in Britain that are also used by people of another given name,
# where the package does not say so (it is an American genealogical list).
MAY_STAND_FOR: dict[str, tuple[str, ...]] = {
    "LIAM": ("WILLIAM",), "KIRSTY": ("CHRISTINE",), "KIRSTEN": ("CHRISTINE",),
    "SEAN": ("JOHN",), "SHAUN": ("JOHN",), "EOIN": ("JOHN",), "IAIN": ("JOHN",),
    "NANCY": ("ANNE", "ANN"), "SASHA": ("ALEXANDRA", "ALEXANDER"),
    "SANDY": ("ALEXANDER", "SANDRA"), "LEXI": ("ALEXANDRA",), "BELLA": ("ISABELLA",),
    "IZZY": ("ISABEL", "ISABELLA"), "EVIE": ("EVE", "EVELYN"), "ROSIE": ("ROSEMARY",),
    "ELLA": ("ELEANOR", "ELLEN"), "TESS": ("THERESA",), "TESSA": ("THERESA",),
    "ZAK": ("ZACHARY",), "ALFIE": ("ALFRED",), "ARCHIE": ("ARCHIBALD",), "GRACIE": ("GRACE",),
}  # fmt: skip


def sound(name: str) -> str:
    return jellyfish.metaphone(name)


def stem(name: str) -> str:
    """The name's first letters, marked apart from sounds (a sound is never ``=``...)."""
    return "=" + name[:STEM]


def form_table(
    triplets: Iterable[tuple[str, str, str]],
    known: Iterable[str],
    shorts: Mapping[str, str],
    ours: Mapping[str, tuple[str, ...]],
    slots: int = FORM_SLOTS,
) -> dict[str, tuple[str, ...]]:
    """Known name -> its forms, sorted: the sounds of the names it may be (itself included)
    and its stem, for names with at most ``slots`` of them."""
    formals_of = defaultdict(set, stands_for(triplets))
    for short, formals in ours.items():
        formals_of[short].update(formals)
    for short, formal in shorts.items():
        formals_of[short].add(formal)
    table = {}
    for name in known:
        sounds = {sound(n) for n in (name, *formals_of.get(name, ())) if n}
        sounds = tuple(sorted(sounds | {stem(name)}))
        if len(sounds) <= slots:
            table[name] = sounds
    return table


@functools.cache
def name_forms() -> dict[str, tuple[str, ...]]:
    """The table the ``form1`` ... ``form10`` extras read, built once per process."""
    return form_table(nicknames.name_triplets(), given_names(), short_forms(), MAY_STAND_FOR)


@functools.cache
def form_slot(slot: int) -> dict[str, str]:
    """Known name -> its ``slot``-th sound (1-based), for names with that many."""
    return {n: s[slot - 1] for n, s in name_forms().items() if len(s) >= slot}
