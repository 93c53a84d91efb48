"""Person and supplier names: titles dropped, accents folded, first/last/initial/formal/given
extras."""

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
from fraudmatch.spec.normalisers.given_names import given_names
from fraudmatch.spec.normalisers.name_forms import form_slot
from fraudmatch.spec.normalisers.spellings import written_out

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

#: The whole name and its first word again, keyed in one domain every name column shares
#: (not the column's own), so a surname written in the forenames column (RITA | WINTER for
#: WINTER | RITA) meets the other record's forenames: a partner's extract with the two
#: columns transposed on some rows. Sent only where a column lists them.
SWAP_EXTRAS: tuple[str, ...] = ("swap", "swap_first")


def _clean_name(raw: pl.Expr) -> pl.Expr:
    words = collapse_spaces(fold(raw).str.replace_all(r"[^\p{L}\p{N}]+", " "))
    words = drop_words(words, NAME_TITLES)
    leading = "|".join(sorted(NAME_LEADING_TITLES))
    words = words.str.replace(f"^(?:(?:{leading}) )+", "")
    # Mc and Mac written apart (MC QUAID, MAC DONALD) are the name written together, as
    # councils record it either way. Not O (O BRIEN): in a forenames cell "O" may be an
    # initial; O'BRIEN with its apostrophe is OBRIEN already
    return words.str.replace_all(r"(^| )(MC|MAC) (\p{L}{2,})", "${1}${2}${3}")


def normalise_name(raw: pl.Expr) -> Normalised:
    """Person or supplier name as upper-case words, with first and last word as extras.

    The extras let O'BRIEN-SMITH meet both OBRIEN SMITH and SMITH: hyphenated and
    double-barrelled surnames are recorded inconsistently across councils. ``initial`` (the
    first letter) lets "S" meet SOPHIE: a record that shows only an initial has a first word
    equal to the other record's initial. ``formal`` is the first word with a common short form
    written out (:func:`~fraudmatch.spec.normalisers.short_forms.short_forms`: JIMMY -> JAMES,
    TORI -> VICTORIA), so a nickname meets its name. ``given`` is the given name the first
    word is (:func:`given_name`): the formal name where the word is a known given name or
    short form, else null (an unknown word, an initial, a typo), so that two known names
    that differ (LAURA, LAUREN) tell twins apart while a typo (LUARA) is no evidence.
    ``initials`` (:func:`initials`) lets "C E" meet CHRISTINE EMMA on both initials;
    ``two_initials`` (:func:`two_initials`) are those of the first two words only.
    ``letters`` (:func:`letters`) lets a first word with two letters swapped (CHNADLER,
    MICTHELL) meet the word itself, which Bloom bigrams rate low in a short name.
    The swap extras (:data:`SWAP_EXTRAS`), like the name forms, are derived where the value
    is tokenised: they are the name and its first word again, under another key.
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
            "given": given_name(F("first")),
            "initials": initials(name),
            "two_initials": two_initials(name),
            "letters": letters(F("first")),
        },
    )


def letters(first_word: pl.Expr) -> pl.Expr:
    """The first word's letters in alphabetical order: CHANDLER and CHNADLER -> ACDEHLNR.

    Two neighbouring letters swapped is the commonest keying slip, and in a short name it
    changes half the bigrams a Bloom encoding holds (PORETR and PORTER: Dice 0.4), so the
    slip looks like another name. The letters in order are the same for both; they are the
    same for an anagram too (MARY, MYRA), which a rule tells apart by the given names.
    """
    return first_word.str.split("").list.sort().list.join("")


def initials(name: pl.Expr) -> pl.Expr:
    """The first letter of every word, space-separated, where a name has two words or more.

    CHRISTINE EMMA -> "C E", which equals the whole name of a record that shows only the
    initials ("C E"): two initials that agree say more than one. Null for a single word, whose
    initial is the ``initial`` extra already.
    """
    words = name.str.split(" ")
    letters = words.list.eval(pl.element().str.slice(0, 1)).list.join(" ")
    return pl.when(words.list.len() >= 2).then(letters).otherwise(None)


def two_initials(name: pl.Expr) -> pl.Expr:
    """The first letters of the first two words, where a name has two words or more.

    MEI LING JING -> "M L", as MEI LING's initials: a third forename shown on one record
    only is no disagreement, while a second forename that differs ("J M" and "J J") is.
    Null for a single word.
    """
    return initials(name.str.split(" ").list.head(2).list.join(" "))


def formal_name(first_word: pl.Expr) -> pl.Expr:
    """A name's first word with a known short form written out (BILL -> WILLIAM) and a
    spelling of a name written as its group writes it (STEPHEN -> STEVEN: see
    :mod:`~fraudmatch.spec.normalisers.spellings`).

    One vectorised replace over the mapping built once per process (no per-row Python).
    """
    return first_word.replace(written_out())


def given_name(first_word: pl.Expr) -> pl.Expr:
    """The known given name a name's first word is, a short form written out; else null.

    LAURA -> LAURA, TORI -> VICTORIA, LUARA (a typo), S (an initial) and SAM (SAMUEL or
    SAMANTHA) -> null: see :mod:`~fraudmatch.spec.normalisers.given_names`.
    """
    return first_word.replace_strict(given_names(), default=None, return_dtype=pl.String)


def name_form(first_word: pl.Expr, slot: int) -> pl.Expr:
    """The ``slot``-th sound (1-based) of the names a known given name may be; else null.

    KATE -> KT, K0RN (CATHERINE, KATHERINE), KTLN (KATELYN): see
    :mod:`~fraudmatch.spec.normalisers.name_forms`. Sent only where a column lists the
    ``form`` extras: the discount holder under another form of the name.
    """
    return first_word.replace_strict(form_slot(slot), default=None, return_dtype=pl.String)
