"""Known given names, for the ``given`` name extra: which name a first forename is, if any.

Twins share a surname, a date of birth and a home, and are told apart by their forenames
alone. Two forenames that are string-similar (ANNE and LEANNE, LAURA and LAUREN) may be a
keying slip of one name or two names; only knowing the names tells which. The ``given``
extra is the first forename when it is a known given name, with a known short form written
out (TORI -> VICTORIA, as the ``formal`` extra does), and null otherwise: an unknown word, an
initial, a typo (LUARA) or a short form of several names (SAM: SAMUEL or SAMANTHA) names no
one given name, so it is no evidence either way. Two records whose ``given`` values differ
show two different names, which a rule may read as disagreement (the twins veto).

The dictionary: the formal names of the ``nicknames`` package, the formal names our short
forms stand for (:data:`~fraudmatch.spec.normalisers.short_forms.NICKNAMES`) and our own
list of given names common in Britain (:data:`BRITISH_GIVEN_NAMES`). The package is an
American genealogical list that also calls a short form of several names (CHRIS, SAM, ALEX,
LOU) a formal name when it lists nicknames for it, so a name the package lists as a short
form of two or more names is known only where our own list holds it (JAMES, EMMA, HARRY).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

import nicknames

from fraudmatch.spec.normalisers.short_forms import short_forms, stands_for
from fraudmatch.spec.normalisers.spellings import SPELLINGS, spelling_table, written_out

# Given names common in Britain, of every generation and of the communities councils serve,
# full forms and the short forms that are names in their own right (JACK, HARRY, JAMIE,
# KATE, ELLIE: the short-form list keeps them as written, so twins JAMES and JAMIE are two
# names). Never a short form of several names (SAM, CHRIS, ALEX, JO, PAT, NICKY, OLLIE):
# those say no one name.
BRITISH_GIVEN_NAMES: frozenset[str] = frozenset(
    {
        # men
        "AARON", "ABDUL", "ADAM", "ADRIAN", "AHMED", "AIDAN", "AIDEN", "ALAN", "ALBERT",
        "ALEXANDER", "ALFIE", "ALFRED", "ALI", "ALISTAIR", "ALLAN", "ANDREW", "ANGUS",
        "ANTHONY", "ARCHIE", "ARTHUR", "ASHLEY", "BARRY", "BENJAMIN", "BERNARD", "BILAL",
        "BRADLEY", "BRANDON", "BRIAN", "BRUCE", "CALLUM", "CAMERON", "CARL", "CHARLES",
        "CHARLIE", "CHRISTIAN", "CHRISTOPHER", "CIARAN", "CLIFFORD", "COLIN", "CONNOR",
        "CRAIG", "DAFYDD", "DALE", "DAMIAN", "DAMIEN", "DANIEL", "DARREN", "DAVID", "DEAN",
        "DECLAN", "DENNIS", "DEREK", "DOMINIC", "DONALD", "DOUGLAS", "DUNCAN", "DYLAN",
        "EDWARD", "ELLIOT", "ELLIOTT", "EOIN", "ERIC", "ETHAN", "EUAN", "EWAN", "FINLAY",
        "FINLEY", "FRANCIS", "FRANK", "FRASER", "FREDDIE", "FREDERICK", "GARETH", "GARY",
        "GAVIN", "GEOFFREY", "GEORGE", "GERALD", "GLEN", "GLENN", "GORDON", "GRAHAM",
        "GRANT", "GREGORY", "HAMISH", "HARRISON", "HARRY", "HARVEY", "HASSAN", "HAYDEN",
        "HENRY", "HUGH", "HUGO", "IAIN", "IAN", "IBRAHIM", "IMRAN", "ISAAC", "JACK", "JACOB",
        "JAKE", "JAMES", "JAMIE", "JASON", "JAYDEN", "JEFFREY", "JEREMY", "JOEL", "JOHN",
        "JONATHAN", "JORDAN", "JOSEPH", "JOSHUA", "JULIAN", "KARL", "KEITH", "KENNETH",
        "KEVIN", "KIERAN", "KRZYSZTOF", "KYLE", "LEE", "LEO", "LEON", "LEONARD", "LEWIS",
        "LIAM", "LOGAN", "LOUIS", "LUCAS", "LUKE", "MALCOLM", "MAREK", "MARK", "MARTIN",
        "MASON", "MATTHEW", "MAX", "MICHAEL", "MOHAMMAD", "MOHAMMED", "MUHAMMAD", "NATHAN",
        "NEIL", "NICHOLAS", "NIGEL", "NOAH", "NORMAN", "OLIVER", "OMAR", "OSCAR", "OWEN",
        "PATRICK", "PAUL", "PAWEL", "PETER", "PHILIP", "PHILLIP", "PIOTR", "RAYMOND",
        "REECE", "RHYS", "RICHARD", "RILEY", "ROBERT", "RODNEY", "ROGER", "RONALD", "ROSS",
        "ROY", "RUSSELL", "RYAN", "SAMUEL", "SANJAY", "SCOTT", "SEAN", "SEBASTIAN", "SHANE",
        "SHAUN", "SIMON", "STANLEY", "STEPHEN", "STEVEN", "STUART", "TERENCE", "THEODORE",
        "THOMAS", "TIMOTHY", "TOBY", "TOMASZ", "TREVOR", "TYLER", "VICTOR", "VINCENT",
        "WALTER", "WAYNE", "WILLIAM", "YUSUF", "ZACHARY", "ZAIN",
        # women
        "ABIGAIL", "ADELE", "AGNES", "AGNIESZKA", "AILSA", "AISHA", "ALEXANDRA", "ALICE",
        "ALISON", "AMANDA", "AMBER", "AMELIA", "AMY", "ANGELA", "ANITA", "ANN", "ANNA",
        "ANNE", "ANNETTE", "AOIFE", "AVA", "BARBARA", "BEATRICE", "BETHAN", "BETHANY",
        "BEVERLEY", "BRENDA", "BRIDGET", "CAITLIN", "CAROL", "CAROLE", "CAROLINE",
        "CATHERINE", "CERYS", "CHANTELLE", "CHARLENE", "CHARLOTTE", "CHELSEA", "CHERYL",
        "CHLOE", "CHRISTINA", "CHRISTINE", "CIARA", "CLAIRE", "CLARA", "CLARE", "COURTNEY",
        "DANIELLE", "DAWN", "DEBORAH", "DEBRA", "DENISE", "DIANA", "DIANE", "DONNA",
        "DOREEN", "DORIS", "DOROTHY", "EILEEN", "EILIDH", "ELAINE", "ELEANOR", "ELIZABETH",
        "ELLA", "ELLEN", "ELLIE", "ELSIE", "EMILY", "EMMA", "ERIN", "ESTHER", "EVA", "EVE",
        "EVELYN", "FATIMA", "FAYE", "FIONA", "FLORENCE", "FRANCES", "FREYA", "GAIL",
        "GEMMA", "GEORGIA", "GERALDINE", "GILLIAN", "GLADYS", "GLORIA", "GRACE", "GWEN",
        "HANNAH", "HARRIET", "HAYLEY", "HAZEL", "HEATHER", "HELEN", "HOLLY", "IMOGEN",
        "IRENE", "ISABEL", "ISABELLA", "ISABELLE", "ISLA", "ISOBEL", "IVY", "JACQUELINE",
        "JADE", "JANE", "JANET", "JANICE", "JASMINE", "JEAN", "JENNIFER", "JESSICA",
        "JILL", "JOAN", "JOANNA", "JOANNE", "JODIE", "JOSEPHINE", "JOYCE", "JUDITH",
        "JULIA", "JULIE", "JUNE", "KAREN", "KATARZYNA", "KATE", "KATHERINE", "KATHLEEN",
        "KATHRYN", "KATIE", "KAYLEIGH", "KELLY", "KERRY", "KIRSTY", "LAURA", "LAUREN",
        "LEAH", "LEANNE", "LESLEY", "LILY", "LINDA", "LISA", "LOIS", "LORRAINE", "LOUISE",
        "LUCY", "LYDIA", "LYNN", "LYNNE", "MADELEINE", "MAGDALENA", "MANDEEP", "MARGARET",
        "MARIA", "MARIAM", "MARIE", "MARION", "MARJORIE", "MARTHA", "MARY", "MAUREEN",
        "MEGAN", "MELANIE", "MELISSA", "MIA", "MICHELLE", "MILLIE", "MOLLY", "MONICA",
        "MORAG", "NADIA", "NAOMI", "NATALIE", "NATASHA", "NIAMH", "NICOLA", "NICOLE",
        "NORA", "NORMA", "OLIVIA", "ORLA", "PAMELA", "PATRICIA", "PAULA", "PAULINE",
        "PENELOPE", "PHOEBE", "PHYLLIS", "POPPY", "PRIYA", "RACHEL", "REBECCA", "REBEKAH",
        "RHIANNON", "ROSE", "ROSEMARY", "RUBY", "RUTH", "SALLY", "SAMANTHA", "SANDRA",
        "SARA", "SARAH", "SCARLETT", "SHARON", "SHEILA", "SHIRLEY", "SIAN", "SIOBHAN",
        "SOPHIA", "SOPHIE", "STACEY", "STELLA", "STEPHANIE", "SUSAN", "SUZANNE", "SYLVIA",
        "TANYA", "TERESA", "THERESA", "TRACEY", "TRACY", "VALERIE", "VANESSA", "VERA",
        "VICTORIA", "VIOLET", "WENDY", "YVONNE", "ZARA", "ZOE",
        # other spellings of a name (parents choose them): known, so never null, and written
        # as the first of their group by the extras (spellings.py: STEWART -> STUART)
        "ALLEN", "ALLISON", "ANDREA", "CAROLYN", "GRAEME", "HAILEY", "JAYNE", "KATRINA",
        "KERRIE", "LESLIE", "LINDSAY", "LINDSEY", "LYNDA", "MATHEW", "MAXINE",
        "NEALE", "SHAWN", "STEWART", "SUSANNE", "VIVIEN", "VIVIENNE",
        # common in Britain and missing above (one name each, never a short form of several)
        "ADA", "AIMEE", "ANTONY", "ASHLEIGH", "BRETT", "BRYAN", "CARLY", "CLIVE", "CONOR",
        "DENIS", "FRANCESCA", "GARRY", "GEORGINA", "GERARD", "GUY", "HILARY", "HOLLIE", "JAY",
        "JEMMA", "JENNA", "LEIGH", "MARC", "MARTYN", "MOHAMED", "MORGAN", "PAIGE", "RACHAEL",
        "ROBIN", "SHANNON",
        # among the commonest names given in England and Wales since 2000 and missing above;
        # diminutives that stand for one longer name (TILLY, REGGIE, ALBIE, THEO, ROSIE) are
        # left to the short forms, so that they meet that name instead of telling it apart;
        # so are other spellings of a name already here (AYESHA for AISHA, MARYAM for MARIAM)
        "ANNABELLE", "ARIA", "ARLO", "AURORA", "BONNIE", "EMILIA", "ESME", "HAFSA", "HARPER",
        "KEIRA", "LUNA", "LYLA", "MAYA", "RORY", "SIENNA", "WILLOW", "YASMIN",
        # a girl's name made from a boy's (twins are named so: DANIEL and DANIELA), known so
        # that it tells the twins apart instead of reading as a typo of the boy's name
        "ADRIANA", "DANIELA", "DANIELLA", "ERICA", "GABRIELA", "JULIANA", "MARTINA",
        "MICHAELA", "PHILIPPA", "SIMONE",
        # West African names common in Britain (Ghanaian and Nigerian families), known so that
        # twins GIFTY and GRACE are two names: English virtue and Christian names, Igbo and
        # Yoruba names, and the Akan day names (a child's name for the weekday of birth:
        # KOFI, Friday; twins share it, and two day names are two weekdays, two people)
        "EMMANUEL", "GODFRED", "GODWIN", "GIFTY", "COMFORT", "MERCY", "BLESSING", "PRECIOUS",
        "FAVOUR", "DORCAS", "CHIDI", "CHIOMA", "NGOZI", "CHINEDU", "EMEKA", "OBINNA",
        "ADEBAYO", "FOLAKE", "TUNDE", "KWADWO", "KWABENA", "KWAKU", "YAW",
        "KOFI", "KWAME", "KWASI", "ADWOA", "ABENA", "AKUA", "YAA", "AFUA", "AMA", "AKOSUA",
        # Welsh: the councils of Wales are partners too
        "ALED", "ANGHARAD", "ARWEL", "BERWYN", "CARYS", "CATRIN", "DELYTH", "EFA", "ELERI",
        "ELIN", "ELIS", "EMYR", "FFION", "GETHIN", "GLYN", "GWYNETH", "HAF", "HEDD", "HUW",
        "IEUAN", "IFAN", "IOAN", "IWAN", "LLEWELYN", "LOWRI", "MALI", "MARED", "MEIRION",
        "NERYS", "NIA", "OSIAN", "OWAIN", "SEREN", "SION", "SIONED", "TEGAN", "TOMOS", "TREFOR",
    }
)  # fmt: skip


def known_given_names(
    triplets: Iterable[tuple[str, str, str]], shorts: Mapping[str, str], ours: Iterable[str]
) -> frozenset[str]:
    """The known given names: the package's formal names, less those it also lists as a
    short form of two or more names (SAM, CHRIS, ALEX: known only where ``ours`` holds
    them), with the formal names ``shorts`` write out and our own list.
    """
    formals_of = stands_for(triplets)
    formals = set().union(*formals_of.values())
    several = {name for name, names in formals_of.items() if len(names) >= 2}
    known = {f for f in formals - several if f.isalpha()}
    return frozenset(known | set(shorts.values()) | set(ours))


@functools.cache
def given_names() -> dict[str, str]:
    """Word -> the given name it is: a known name itself, a known short form written out,
    a spelling of a name written as its group writes it (:mod:`.spellings`).

    Built once per process. A word that is neither is not in it (the extra is null).
    """
    shorts = short_forms()
    spelt = spelling_table(SPELLINGS)
    known = known_given_names(nicknames.name_triplets(), shorts, BRITISH_GIVEN_NAMES | set(spelt))
    written = written_out()
    return {name: written.get(name, name) for name in known | set(shorts)}
