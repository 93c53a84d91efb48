"""Name pools for a mixed UK population, and the ways people's names get shortened.

The pools come partly from Faker's locales and partly from hand lists, because Faker has no
Welsh locale, gives Polish surnames without their feminine forms, and has no British
Pakistani or Bangladeshi names. Each pool carries weights falling with rank, so that common
names are common (namesakes arise by themselves) and rare ones rare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faker import Faker

# Culture groups a household's names are drawn from. Codes are internal.
GROUPS = ("GB", "WL", "IE", "PL", "SA", "IN", "NG", "PT", "RO", "CN", "NL")

# Default share of each group in an English council, and in a Welsh one.
GROUP_WEIGHTS_ENGLAND = (0.70, 0.03, 0.05, 0.04, 0.05, 0.04, 0.03, 0.02, 0.02, 0.015, 0.005)
GROUP_WEIGHTS_WALES = (0.44, 0.42, 0.03, 0.03, 0.02, 0.02, 0.015, 0.01, 0.01, 0.01, 0.005)

# Share of people with a middle name, and with a second one, per group.
MIDDLE_RATE = {
    "GB": 0.62,
    "WL": 0.6,
    "IE": 0.55,
    "PL": 0.12,
    "SA": 0.3,
    "IN": 0.3,
    "NG": 0.78,
    "PT": 0.6,
    "RO": 0.25,
    "CN": 0.2,
    "NL": 0.5,
}

_GB_OLD_M = (
    "John William George Arthur Albert Frederick Ernest Harold Kenneth Ronald Dennis Stanley "
    "Leslie Norman Roy Raymond Peter Robert Alan Derek Donald Bernard Gordon Walter Cyril "
    "Clifford Edward Thomas Charles Henry Douglas Eric Leonard Brian Geoffrey Michael James "
    "Richard Trevor Colin Malcolm"
).split()
_GB_OLD_F = (
    "Margaret Dorothy Joan Jean Patricia Mary Elizabeth Barbara Sheila Doreen Eileen Irene "
    "Kathleen Brenda Betty Audrey Joyce Edna Winifred Gladys Marjorie Vera Phyllis Evelyn Iris "
    "Maureen Valerie Shirley Sylvia Pauline Catherine Florence Hilda Ivy Elsie Ethel Mabel Rita "
    "Beryl Peggy"
).split()
_GB_YOUNG_M = (
    "Oliver Jack Harry Jacob Charlie Thomas George Oscar James William Noah Alfie Joshua Leo "
    "Archie Ethan Freddie Logan Mason Riley Harvey Lucas Isaac Max Jayden Tyler Kai Reuben "
    "Theo Dylan Callum Connor Bradley Kieran Liam Jake Luke Aaron Adam Daniel"
).split()
_GB_YOUNG_F = (
    "Olivia Amelia Isla Ava Emily Isabella Mia Poppy Ella Lily Sophie Grace Chloe Jessica Ruby "
    "Evie Millie Freya Phoebe Megan Holly Ellie Lucy Katie Bethany Abigail Paige Courtney "
    "Chantelle Jade Leah Kayleigh Shannon Zoe Lauren Amber Molly Daisy Charlotte Erin"
).split()
# Classic formal names, so that short forms (Bill, Peggy, Kate) have something to shorten.
_GB_CLASSIC_M = (
    "William Robert Richard James John Thomas Anthony Michael Edward Christopher Alexander "
    "Daniel Joseph Samuel Stephen Matthew Andrew Nicholas Peter David Jonathan Charles Henry "
    "Frederick Timothy Benjamin Gerald Lawrence Patrick Francis"
).split()
_GB_CLASSIC_F = (
    "Margaret Catherine Katherine Elizabeth Jennifer Susan Patricia Deborah Rebecca Victoria "
    "Alexandra Frances Mary Helen Dorothy Christine Caroline Josephine Jacqueline Pamela "
    "Abigail Samantha Kimberley Theresa Judith Rosemary"
).split()

_WL_M = (
    "Dafydd Rhys Gareth Gethin Iwan Emyr Huw Llewelyn Llŷr Meirion Owain Rhodri Tomos Aled "
    "Alun Bryn Cai Dylan Elis Geraint Gwilym Hywel Ieuan Ioan Osian Siôn Steffan Trefor Wyn "
    "Idris Islwyn Glyn Emrys Deiniol Gruffydd Berwyn Dewi Eifion Griff Llion"
).split()
_WL_F = (
    "Angharad Bethan Carys Cerys Eirlys Elin Ffion Glenys Gwen Gwenllian Heledd Lowri Manon "
    "Mared Megan Nerys Non Rhian Rhiannon Seren Siân Sioned Catrin Eleri Mali Nia Olwen Delyth "
    "Myfanwy Gwyneth Llinos Tegan Branwen Enfys Awen"
).split()
_WL_SUR = (
    "Jones Williams Davies Evans Thomas Roberts Hughes Lewis Morgan Griffiths Edwards Owen Price "
    "Pritchard Powell Parry Rees Jenkins Lloyd Bowen Vaughan Prosser Pugh Prys Llywelyn "
    "Gruffudd Gwyn Wynne Meredith Probert Bevan Howells Watkins Humphreys Prydderch Cadwaladr "
    "Ellis Morris Ifans Llewellyn"
).split() + ["ap Rhys", "ap Gwilym", "ab Owain", "ap Dafydd", "Lloyd-Jones", "Rhys-Evans"]

_IE_FADA_M = "Seán Pádraig Eoin Ciarán Dónal Tadhg Oisín Éamon Cathal Ruairí Colm Darragh".split()
_IE_FADA_F = "Siobhán Máire Niamh Aoife Róisín Caoimhe Sinéad Órla Gráinne Eimear Clíodhna".split()

_PL_SUR = (
    "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański "
    "Woźniak Dąbrowski Kozłowski Jankowski Mazur Wojciechowski Kwiatkowski Krawczyk Kaczmarek "
    "Piotrowski Grabowski Zając Pawłowski Michalski Król Wieczorek Jabłoński Wróbel Majewski "
    "Olszewski Stępień Malinowski Jaworski Adamczyk Dudek Nowicki Pawlak Górski Witkowski "
    "Walczak Sikora Baran Rutkowski Michalak Szewczyk Ostrowski Tomaszewski Pietrzak Zalewski "
    "Jakubowski Zawadzki Sadowski Bąk Chmielewski Włodarczyk Czarnecki Sawicki Sokołowski "
    "Kubiak Szczepański Wilk Lis Wysocki Kaźmierczak Głowacki Ziółkowski Przybylski"
).split()

_SA_M = (
    "Mohammed Muhammad Mohammad Abdul Imran Tariq Asif Zahid Shahid Kamran Adnan Bilal Usman "
    "Hamza Zain Ayaan Ibrahim Yusuf Rashid Mushtaq Nadeem Sajid Faisal Junaid Arif Shafiq "
    "Rizwan Waqar Naveed Jamil"
).split() + ["Mohammed Ali", "Abdul Karim", "Mohammed Asif"]
_SA_F = (
    "Fatima Ayesha Zainab Maryam Amina Nazia Shazia Rukhsana Samina Parveen Nasreen Farzana "
    "Shabana Yasmin Rubina Saima Aisha Hafsa Noor Khadija Salma Sultana Rehana Shamima Hasina "
    "Tahmina Rumana"
).split()
_SA_SUR = (
    "Khan Hussain Ahmed Ali Akhtar Iqbal Mahmood Rashid Shah Malik Butt Qureshi Chaudhry "
    "Choudhury Rahman Uddin Miah Islam Hoque Ullah Aziz Javed Sheikh Mirza Anwar Bashir "
    "Siddique Hussein Mahmud"
).split()
SA_WIFE_SUR = ("Begum", "Bibi", "Akhtar", "Kausar")

_IN_SUR_TOP = "Patel Singh Sharma Shah Mistry Gill Sandhu Kumar Parmar Chauhan Sidhu".split()

_NG_M_EN = "John Emmanuel Samuel David Daniel Peter Michael Joseph Victor Godwin Festus".split()
_NG_F_EN = "Grace Blessing Precious Mercy Patience Esther Ruth Joy Comfort Favour Gift".split()

_PT_SUR_EXTRA = ["da Silva", "dos Santos", "de Souza", "de Oliveira", "da Costa", "Silva Santos"]

_RO_M_EXTRA = "Ionuț Mihai Andrei Florin Cătălin Gheorghe".split()

_CN_SUR = "Wong Chan Cheung Lee Li Lam Ng Chen Wang Zhang Liu Yang Huang Ho Tang Leung Lau".split()
_CN_M = "Wei Jun Hao Ming Kevin Michael Kenneth Ka Wai Chi Keung Xiaoming Jian Tony".split()
_CN_F = "Mei Hui Jing Xin Amy Jenny Grace Wing Yan Ling Xiaoli Fang Cindy".split()
_CN_TWO = ["Ka Wai", "Mei Ling", "Chi Keung", "Wing Yan"]

_NL_M = "Jan Pieter Joost Bram Sander Thijs Ruud Maarten".split()
_NL_F = "Sanne Femke Anouk Lieke Marieke Ingrid Ilse".split()
_NL_SUR = [
    "van der Berg",
    "van Dijk",
    "de Vries",
    "van den Broek",
    "de Jong",
    "van Leeuwen",
    "Bakker",
    "Visser",
    "van der Meer",
]

# Formal name -> the short forms and anglicised forms clerks and people write instead.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will", "Billy", "Liam"),
    "Margaret": ("Peggy", "Maggie", "Meg", "Margo"),
    "Catherine": ("Kate", "Cathy", "Katie"),
    "Katherine": ("Kate", "Kathy", "Katie"),
    "Elizabeth": ("Liz", "Beth", "Betty", "Lizzie"),
    "Robert": ("Bob", "Rob", "Bobby", "Robbie"),
    "Richard": ("Rich", "Dick", "Richie"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "John": ("Jack", "Johnny"),
    "Thomas": ("Tom", "Tommy"),
    "Anthony": ("Tony",),
    "Michael": ("Mike", "Mick", "Mickey"),
    "Edward": ("Ted", "Eddie", "Ed"),
    "Jennifer": ("Jenny", "Jen"),
    "Susan": ("Sue", "Susie"),
    "Patricia": ("Pat", "Trish", "Patsy"),
    "Christopher": ("Chris",),
    "Christine": ("Chris", "Chrissie"),
    "Alexander": ("Alex", "Sandy"),
    "Alexandra": ("Alex", "Sandra"),
    "Daniel": ("Dan", "Danny"),
    "Joseph": ("Joe", "Joey"),
    "Samuel": ("Sam", "Sammy"),
    "Samantha": ("Sam", "Sammy"),
    "Stephen": ("Steve",),
    "Steven": ("Steve",),
    "Matthew": ("Matt",),
    "Andrew": ("Andy", "Drew"),
    "Deborah": ("Debbie", "Debs"),
    "Rebecca": ("Becky", "Becca"),
    "Victoria": ("Vicky", "Tori"),
    "Nicholas": ("Nick", "Nicky"),
    "Peter": ("Pete",),
    "David": ("Dave", "Davy"),
    "Jonathan": ("Jon", "Jonny"),
    "Charles": ("Charlie", "Chas"),
    "Henry": ("Harry", "Hal"),
    "Frances": ("Fran",),
    "Francis": ("Frank",),
    "Mary": ("Molly", "Polly", "Mae"),
    "Helen": ("Nell",),
    "Dorothy": ("Dot", "Dolly"),
    "Frederick": ("Fred", "Freddie"),
    "Benjamin": ("Ben", "Benny"),
    "Timothy": ("Tim",),
    "Kenneth": ("Ken", "Kenny"),
    "Ronald": ("Ron", "Ronnie"),
    "Leonard": ("Len", "Lenny"),
    "Gerald": ("Gerry",),
    "Lawrence": ("Larry", "Laurie"),
    "Patrick": ("Pat", "Paddy"),
    "Josephine": ("Jo", "Josie"),
    "Jacqueline": ("Jackie",),
    "Pamela": ("Pam",),
    "Judith": ("Judy",),
    "Kimberley": ("Kim",),
    "Theresa": ("Tess", "Terri"),
    "Abigail": ("Abbie", "Abby"),
    "Caroline": ("Carrie", "Caz"),
    "Raymond": ("Ray",),
    "Donald": ("Don",),
    "Albert": ("Bert", "Albie"),
    "Arthur": ("Art",),
    "Winifred": ("Winnie",),
    "Llewelyn": ("Llew",),
    "Gwenllian": ("Gwen",),
    "Dafydd": ("Dai", "David"),
    "Gruffydd": ("Griff", "Gruff"),
    "Ieuan": ("Ifan",),
    "Rhiannon": ("Rhi",),
    "Pádraig": ("Patrick", "Paddy"),
    "Seán": ("Sean", "John"),
    "Siobhán": ("Siobhan", "Joan"),
    "Máire": ("Maire", "Mary"),
    "Małgorzata": ("Gosia", "Margaret"),
    "Katarzyna": ("Kasia", "Kate"),
    "Aleksandra": ("Ola", "Alex"),
    "Wojciech": ("Wojtek",),
    "Bartłomiej": ("Bartek",),
    "Grzegorz": ("Greg",),
    "Krzysztof": ("Chris", "Krzysiek"),
    "Tomasz": ("Tom", "Tomek"),
    "Piotr": ("Peter", "Piotrek"),
    "Paweł": ("Paul",),
    "Jakub": ("Kuba", "Jacob"),
    "Michał": ("Michael",),
    "Agnieszka": ("Agnes", "Aga"),
    "Mohammed": ("Mohammad", "Muhammad", "Mohd"),
    "Muhammad": ("Mohammed", "Mohd"),
    "Mohammad": ("Mohammed", "Muhammad"),
    "Oluwaseun": ("Seun",),
    "Olumide": ("Mide",),
    "Adebayo": ("Bayo",),
    "Oluwatobi": ("Tobi",),
    "Chukwuemeka": ("Emeka",),
}

# Same-initial or sound-alike pairs parents give twins.
TWIN_PAIRS = (
    ("Ella", "Ellie"),
    ("Harry", "Harvey"),
    ("Luke", "Lucas"),
    ("Megan", "Morgan"),
    ("Jack", "Jake"),
    ("Daniel", "Damian"),
    ("Mia", "Maya"),
    ("Aaron", "Adam"),
    ("Jacob", "Joshua"),
    ("Emily", "Emma"),
    ("Lily", "Lucy"),
    ("Oliver", "Owen"),
    ("Sophie", "Sarah"),
    ("Ryan", "Reece"),
    ("Chloe", "Courtney"),
)

TITLES_M = ("Mr", "Mr", "Mr", "Dr", "Rev")
TITLES_F = ("Mrs", "Miss", "Ms", "Mrs", "Dr")


@dataclass(frozen=True)
class Pool:
    """Names and their sampling probabilities (rank-weighted)."""

    names: np.ndarray
    p: np.ndarray

    def draw(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """k names, common ones more often."""
        return self.names[rng.choice(len(self.names), size=k, p=self.p)]


def _pool(names, rng: np.random.Generator, head: tuple[str, ...] = (), skew: float = 0.9) -> Pool:
    """Rank weights 1/(r+4)^skew over a shuffled list, with `head` names forced to the top."""
    seen: dict[str, None] = {}
    for n in list(head) + list(rng.permutation(np.array(list(names), dtype=object))):
        if n and n not in seen:
            seen[n] = None
    arr = np.array(list(seen), dtype=object)
    w = 1.0 / (np.arange(len(arr)) + 4.0) ** skew
    return Pool(arr, w / w.sum())


def _person_provider(locale: str):
    fake = Faker(locale)
    return next(p for p in fake.get_providers() if "person" in type(p).__module__)


def polish_feminine(surname: str) -> str:
    """Kowalski -> Kowalska: Polish adjectival surnames agree with the bearer's sex."""
    for end, fem in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
        if surname.endswith(end):
            return surname[: -len(end)] + fem
    return surname


@dataclass(frozen=True)
class NamePools:
    """Per group: forenames by sex and birth cohort, and surnames."""

    first: dict[tuple[str, int, int], Pool]  # (group, sex 0=m 1=f, cohort 0 old 1 mid 2 young)
    surname: dict[str, Pool]
    by_initial: dict[tuple[int, str], np.ndarray]  # (sex, letter) -> British forenames


def build_pools(seed: int) -> NamePools:
    """Draw every pool once, deterministically for the seed."""
    rng = np.random.default_rng(seed + 7919)
    Faker.seed(seed)
    gb = _person_provider("en_GB")
    ie = _person_provider("en_IE")
    ga = _person_provider("ga_IE")
    pl = _person_provider("pl_PL")
    inn = _person_provider("en_IN")
    yo = _person_provider("yo_NG")
    ig = _person_provider("ig_NG")
    pt = _person_provider("pt_PT")
    ro = _person_provider("ro_RO")

    first: dict[tuple[str, int, int], Pool] = {}
    gb_mid_m = list(gb.first_names_male) + _GB_CLASSIC_M
    gb_mid_f = list(gb.first_names_female) + _GB_CLASSIC_F
    cohorts_m = (_GB_OLD_M + _GB_CLASSIC_M, gb_mid_m, _GB_YOUNG_M)
    cohorts_f = (_GB_OLD_F + _GB_CLASSIC_F, gb_mid_f, _GB_YOUNG_F)
    for c in range(3):
        first["GB", 0, c] = _pool(cohorts_m[c], rng)
        first["GB", 1, c] = _pool(cohorts_f[c], rng)
        first["WL", 0, c] = _pool(_WL_M + cohorts_m[c][:20], rng)
        first["WL", 1, c] = _pool(_WL_F + cohorts_f[c][:20], rng)
        first["IE", 0, c] = _pool(list(ie.first_names_male) + _IE_FADA_M * 3, rng)
        first["IE", 1, c] = _pool(list(ie.first_names_female) + _IE_FADA_F * 3, rng)
        first["PL", 0, c] = _pool(list(pl.first_names_male) + list(NICK_PL_M), rng)
        first["PL", 1, c] = _pool(list(pl.first_names_female) + list(NICK_PL_F), rng)
        first["SA", 0, c] = _pool(_SA_M, rng, head=("Mohammed", "Muhammad"))
        first["SA", 1, c] = _pool(_SA_F, rng)
        first["IN", 0, c] = _pool(inn.first_names_male, rng)
        first["IN", 1, c] = _pool(inn.first_names_female, rng)
        ng_m = list(yo.first_names_male) + list(ig.first_names_male) + _NG_M_EN * 3
        ng_f = list(yo.first_names_female) + list(ig.first_names_female) + _NG_F_EN * 3
        first["NG", 0, c] = _pool(ng_m + ["Oluwaseun", "Adebayo", "Chukwuemeka"], rng)
        first["NG", 1, c] = _pool(ng_f, rng)
        first["PT", 0, c] = _pool(pt.first_names_male, rng)
        first["PT", 1, c] = _pool(pt.first_names_female, rng)
        first["RO", 0, c] = _pool(list(ro.first_names_male) + _RO_M_EXTRA, rng)
        first["RO", 1, c] = _pool(ro.first_names_female, rng)
        first["CN", 0, c] = _pool(_CN_M + _CN_TWO[:1] + _CN_TWO[2:3], rng)
        first["CN", 1, c] = _pool(_CN_F + _CN_TWO[1:2] + _CN_TWO[3:], rng)
        first["NL", 0, c] = _pool(_NL_M, rng)
        first["NL", 1, c] = _pool(_NL_F, rng)

    gb_sur = list(gb.last_names)
    head_gb = ("Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson")
    ga_sur = [s for s in ga.last_names if s.startswith(("Ó ", "Mac ", "Ua "))]
    surname = {
        "GB": _pool(gb_sur + ["Smith-Jones", "Bowes-Lyon", "Fortescue-Smythe"], rng, head=head_gb),
        "WL": _pool(_WL_SUR, rng, head=("Jones", "Williams", "Davies", "Evans")),
        "IE": _pool(list(ie.last_names) + ga_sur[:200], rng, skew=0.7),
        "PL": _pool(_PL_SUR, rng, head=("Nowak", "Kowalski")),
        "SA": _pool(_SA_SUR, rng, head=("Khan", "Hussain", "Ahmed", "Ali")),
        "IN": _pool(list(inn.last_names) + _IN_SUR_TOP, rng, head=_IN_SUR_TOP[:3]),
        "NG": _pool(list(yo.last_names) + list(ig.last_names), rng),
        "PT": _pool(list(pt.last_names) + _PT_SUR_EXTRA, rng, head=("Silva", "da Silva")),
        "RO": _pool(list(ro.last_names), rng),
        "CN": _pool(_CN_SUR, rng, head=("Wong", "Chan", "Li")),
        "NL": _pool(_NL_SUR, rng),
    }
    by_initial: dict[tuple[int, str], np.ndarray] = {}
    for sex, lists in ((0, _GB_YOUNG_M + gb_mid_m), (1, _GB_YOUNG_F + gb_mid_f)):
        for n in sorted(set(lists)):
            by_initial.setdefault((sex, n[0]), [])
            by_initial[sex, n[0]].append(n)  # type: ignore[union-attr]
    by_initial = {k: np.array(v, dtype=object) for k, v in by_initial.items()}
    return NamePools(first, surname, by_initial)


NICK_PL_M = ("Wojciech", "Bartłomiej", "Grzegorz", "Krzysztof", "Tomasz", "Piotr", "Paweł")
NICK_PL_F = ("Małgorzata", "Katarzyna", "Aleksandra", "Agnieszka")
