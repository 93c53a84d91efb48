"""Spellings of one given name (ANN and ANNE, STEVEN and STEPHEN), written one way.

Two councils spell one person's name differently far more often than parents give twins
two spellings of one name. Twins are named alike in other ways: a boy's and a girl's name
one letter apart (PAUL and PAULA, FRANCIS and FRANCES) or two names of one sound (ELLA and
ELLIE). So the twins vetoes read the known given name (the ``given`` extra) as the
partition that matters, whatever the forenames' Dice: two records whose given names differ
show two names, however alike as strings, while two spellings of one name are one name.
This list says which known names are spellings of one name; the ``formal`` and ``given``
extras write each as the first of its group.

Only same-sex spellings of one name in British usage; never a boy's and a girl's name
(FRANCIS and FRANCES, LESLIE and LESLEY), never two names that share a root but are given
as two (ELLA and ELLIE, LOUISE and LOUISA, SOPHIE and SOPHIA, ISABELLA and ISABELLE,
JOANNE and JOANNA, SIAN and SION).
"""

from __future__ import annotations

import functools

from fraudmatch.spec.normalisers.short_forms import short_forms

#: Groups of spellings of one given name; the first is how the extras write the group.
SPELLINGS: tuple[tuple[str, ...], ...] = (
    # men
    ("AIDAN", "AIDEN"), ("ALAN", "ALLAN", "ALLEN"), ("ANTHONY", "ANTONY"), ("BRIAN", "BRYAN"),
    ("CARL", "KARL"), ("CONNOR", "CONOR"), ("DAMIAN", "DAMIEN"), ("DENNIS", "DENIS"),
    ("ELLIOT", "ELLIOTT"), ("EUAN", "EWAN"), ("FINLAY", "FINLEY"), ("GARY", "GARRY"),
    ("GEOFFREY", "JEFFREY"), ("GLEN", "GLENN"), ("GRAHAM", "GRAEME"), ("IAN", "IAIN"),
    ("MARK", "MARC"), ("MARTIN", "MARTYN"), ("MATTHEW", "MATHEW"),
    ("MOHAMMED", "MOHAMMAD", "MUHAMMAD", "MOHAMED"), ("NEIL", "NEAL", "NEALE"),
    ("PHILIP", "PHILLIP"), ("SEAN", "SHAUN", "SHAWN"), ("STEVEN", "STEPHEN"),
    ("STUART", "STEWART"),
    # women
    ("ALISON", "ALLISON"), ("ANNE", "ANN"), ("CAROL", "CAROLE"),
    ("CATHERINE", "KATHERINE", "KATHRYN", "CATHRYN", "KATHARINE", "CATHARINE"),
    ("CLARE", "CLAIRE"), ("DEBORAH", "DEBRA"), ("GEMMA", "JEMMA"), ("HAYLEY", "HAILEY"),
    ("HOLLY", "HOLLIE"), ("ISABEL", "ISOBEL"), ("JANE", "JAYNE"), ("KERRY", "KERRIE"),
    ("LINDA", "LYNDA"), ("LINDSAY", "LINDSEY"), ("LYNN", "LYNNE"), ("RACHEL", "RACHAEL"),
    ("REBECCA", "REBEKAH"), ("SARAH", "SARA"), ("SUZANNE", "SUSANNE"),
    ("TERESA", "THERESA"), ("TRACEY", "TRACY", "TRACIE"), ("VIVIEN", "VIVIENNE"),
    ("ZOE", "ZOEY"),
)  # fmt: skip


def spelling_table(groups: tuple[tuple[str, ...], ...]) -> dict[str, str]:
    """Every spelling -> the first of its group (the first maps to itself)."""
    table: dict[str, str] = {}
    for group in groups:
        for name in group:
            if name in table:
                raise ValueError(f"{name} is in two spelling groups")
            table[name] = group[0]
    return table


@functools.cache
def written_out() -> dict[str, str]:
    """Word -> the name as the ``formal`` extra writes it: a short form written out
    (:func:`~fraudmatch.spec.normalisers.short_forms.short_forms`), then any spelling of a
    name as the first of its group (KATHY -> KATHERINE -> CATHERINE, STEPHEN -> STEVEN).
    Built once per process; a word in neither is not in it (written as it is)."""
    spelt = spelling_table(SPELLINGS)
    out = {short: spelt.get(formal, formal) for short, formal in short_forms().items()}
    out.update({name: first for name, first in spelt.items() if name != first})
    return out
