"""Name pools of the communities the fourth population's councils serve, and how each names
its children.

Why: rules tuned on Faker-style British names meet here the naming customs councils in
Glasgow, Belfast, Birmingham, Leeds and east London see every day: Somali and Arabic names
whose surname is a father's or grandfather's given name (so a father and his children have
different surnames), Sikh SINGH and KAUR, Spanish double surnames, Vietnamese VAN and THI,
Ghanaian day names fixed by the weekday of birth, Romanian and Ukrainian diacritics, Scots
MAC and MC, Ulster O' prefixes, and clusters of very common names (MOHAMMED, KAUR, NGUYEN)
that make namesakes frequent. The first names of each list are drawn most often.
"""

from __future__ import annotations

import numpy as np

COMMUNITIES = (
    "english",
    "scottish",
    "ulster",
    "muslim_sa",
    "somali",
    "arab",
    "sikh",
    "latin",
    "viet",
    "ghana",
    "east_eu",
)
C = {c: i for i, c in enumerate(COMMUNITIES)}

_BRIT_M = (
    "DAVID JOHN PAUL MARK JAMES ANDREW STEVEN PETER MICHAEL ROBERT JACK OLIVER HARRY "
    "GEORGE THOMAS DANIEL LEWIS RYAN KEVIN GARY"
)
_BRIT_F = (
    "SUSAN KAREN JULIE SARAH EMMA LISA CLAIRE HELEN AMY CHLOE JESSICA LAUREN REBECCA "
    "NICOLA JOANNE DEBORAH MARGARET PATRICIA JEAN GILLIAN"
)

MALE = {
    "english": _BRIT_M,
    "scottish": (
        "CALLUM EWAN FRASER HAMISH IAIN ALASDAIR RORY ANGUS CRAIG GRAEME DOUGLAS ALISTAIR "
        "STUART GORDON NEIL KENNETH DUNCAN "
    )
    + _BRIT_M,
    "ulster": (
        "SEAN CIARAN PADRAIG DECLAN EOIN CONOR DERMOT CATHAL SEAMUS PATRICK BRENDAN NOEL KIERAN "
    )
    + _BRIT_M,
    "muslim_sa": (
        "MOHAMMED MUHAMMAD MOHAMMAD MOHAMED IMRAN TARIQ ASIF ZAHID SAJID KHALID ADNAN "
        "BILAL HAMZA USMAN"
    ),
    "somali": (
        "MOHAMED ABDI HASSAN ALI AHMED OMAR YUSUF IBRAHIM FARAH ISMAIL ABDIRAHMAN WARSAME "
        "JAMA MAHAMUD NUUR"
    ),
    "arab": "MOHAMMED AHMED ALI OMAR KHALED YOUSSEF HUSSEIN MAHMOUD SAMI TAREK NABIL HASSAN KARIM",
    "sikh": (
        "GURPREET HARPREET MANDEEP JASWINDER KULDEEP SUKHWINDER PARAMJIT BALJIT AMARJIT "
        "RAJINDER GURDEEP HARJIT RANJIT"
    ),
    "latin": (
        "JUAN CARLOS JOSE LUIS ALEJANDRO DIEGO ANDRES MIGUEL JAVIER SANTIAGO PEDRO RAFAEL FERNANDO"
    ),
    "viet": "MINH HUNG DUNG TUAN THANH NAM DUC HIEU QUANG LONG KHANH BAO",
    "ghana": (
        "EMMANUEL SAMUEL ISAAC GODFRED EBENEZER DANIEL KENNETH FRANCIS PRINCE RICHARD GEORGE JOSEPH"
    ),
    "east_eu": (
        "ANDREI MIHAI \u0218TEFAN BOGDAN ALEXANDRU OLEKSANDR MYKOLA DMYTRO ANDRIY SERHIY "
        "VASYL ION GHEORGHE CRISTIAN"
    ),
}
FEMALE = {
    "english": _BRIT_F,
    "scottish": "EILIDH MORAG AILSA CATRIONA KIRSTY FIONA MAIRI ISLA SHONA LORRAINE MHAIRI ISHBEL "
    + _BRIT_F,
    "ulster": "SIOBHAN NIAMH AOIFE ROISIN CAOIMHE ORLA GRAINNE DEIRDRE BRONAGH SINEAD CIARA "
    + _BRIT_F,
    "muslim_sa": (
        "FATIMA AYESHA NAZIA SHAZIA RUKHSANA SAMINA NASREEN ZAINAB AMINA SADIA HUMAIRA IQRA"
    ),
    "somali": "HODAN FADUMO AMINA HAWA SAHRA IFRAH NIMCO ASHA FARHIYA KHADRA SAGAL MARYAN UBAH",
    "arab": "FATIMA MARIAM NOUR LAYLA HANA RANIA SARA YASMIN REEM DINA AMAL SALMA",
    "sikh": (
        "GURPREET HARPREET MANDEEP JASWINDER KULDEEP SUKHWINDER PARAMJIT BALJIT AMARJIT "
        "RAJINDER MANPREET JASPREET"
    ),
    "latin": "MARIA CARMEN ANA LUCIA VALENTINA CAMILA SOFIA DANIELA PAULA ISABEL ROSA GABRIELA",
    "viet": "MAI LAN HOA LINH HUONG ANH PHUONG THAO NGOC TRANG HANH YEN",
    "ghana": (
        "GRACE PRISCILLA EUNICE FELICIA PATIENCE COMFORT VICTORIA MERCY GIFTY DORCAS JOYCE ESTHER"
    ),
    "east_eu": (
        "IOANA ELENA MIHAELA ANDREEA C\u0102T\u0102LINA OKSANA YULIIA NATALIIA TETIANA "
        "IRYNA OLENA ROXANA ALINA"
    ),
}
SURNAMES = {
    "english": (
        "SMITH JONES TAYLOR BROWN WILSON WALKER WRIGHT THOMPSON ROBINSON WOOD HALL GREEN "
        "HUGHES EDWARDS CLARKE JACKSON TURNER HILL WARD MOORE"
    ),
    "scottish": (
        "MACDONALD MCLEOD MACKENZIE MACLEAN MCINTOSH MCGREGOR CAMPBELL STEWART ROBERTSON "
        "FRASER MURRAY REID PATERSON DOCHERTY SUTHERLAND MACKAY MCCALLUM"
    ),
    "ulster": (
        "KELLY WILSON DOHERTY MCCANN O'NEILL CAMPBELL QUINN MCLAUGHLIN HAMILTON GRAHAM "
        "O'DONNELL MCCARTNEY MCGUINNESS O'HARE O'KANE O'REILLY"
    ),
    "muslim_sa": "HUSSAIN KHAN AHMED IQBAL AKHTAR MAHMOOD ALI RASHID SHAH BUTT MALIK RAZA",
    "somali": "",  # a Somali surname is a forefather's given name: see MALE["somali"]
    "arab": "AL-HASHIMI AL-SAYED AL-MASRI HADDAD KHOURY AL-AMIN AL-JABOURI NASSER AL-ZUBAIDI SALEH",
    "sikh": "SANDHU GILL DHILLON SIDHU GREWAL BAINS JOHAL SAHOTA BASRA CHAHAL",
    "latin": (
        "GARCIA RODRIGUEZ GONZALEZ FERNANDEZ LOPEZ MARTINEZ SANCHEZ PEREZ GOMEZ DIAZ "
        "TORRES RAMIREZ FLORES"
    ),
    "viet": "NGUYEN TRAN LE PHAM HOANG HUYNH PHAN VU VO DANG BUI DO",
    "ghana": "MENSAH OWUSU BOATENG ASANTE OSEI APPIAH ADJEI AMOAH OFORI DARKO AGYEMAN ANANE",
    "east_eu": (
        "\u0218ERBAN POPESCU IONESCU CONSTANTIN DUMITRU ST\u0102NESCU B\u0102LAN "
        "KOVALENKO SHEVCHENKO BONDARENKO TKACHENKO MELNYK KRAVCHUK"
    ),
}
# The second given name of a South Asian Muslim man written with MOHAMMED ("MOHAMMED ASIF"):
MUSLIM_SECOND = "ALI ASIF IQBAL TARIQ IMRAN ARIF SAJID AMJAD NADEEM SHAHID ZUBAIR AKRAM".split()
WOMEN_SA = ("BEGUM", "BIBI")
# Ghanaian day names by weekday of birth (Monday first), male and female
DAY_MALE = ("KWADWO", "KWABENA", "KWAKU", "YAW", "KOFI", "KWAME", "KWASI")
DAY_FEMALE = ("ADWOA", "ABENA", "AKUA", "YAA", "AFUA", "AMA", "AKOSUA")
# English second surnames of a double-barrelled name, and Dutch or French particles
BARREL = "JONES WILLIAMS SMYTHE DAVIES CLARKE HOWARD".split()
PARTICLE = ("VAN DER BERG", "VAN DEN BOSCH", "DE LA COUR", "DE SOUZA", "VAN DYKE")
# Spelling variants a clerk may key for the same man's name
MOHAMMED = ("MOHAMMED", "MUHAMMAD", "MOHAMMAD", "MOHAMED", "MOHAMMAD", "MOHD")


def pool(text: str) -> np.ndarray:
    return np.array(text.split(), dtype=object)


def zipf_pick(rng: np.random.Generator, n_items: int, size: int, a: float = 0.9) -> np.ndarray:
    """Indices skewed to the first items: common names are common, so namesakes are too."""
    w = 1.0 / np.arange(1, n_items + 1) ** a
    return rng.choice(n_items, size=size, p=w / w.sum())


def draw_given(rng: np.random.Generator, comm: np.ndarray, female: np.ndarray) -> np.ndarray:
    """A given name per person from its community and sex."""
    out = np.empty(len(comm), dtype=object)
    for name, i in C.items():
        for fem, table in ((False, MALE), (True, FEMALE)):
            m = (comm == i) & (female == fem)
            if m.any():
                p = pool(table[name])
                out[m] = p[zipf_pick(rng, len(p), int(m.sum()))]
    return out


def draw_surname(rng: np.random.Generator, comm: np.ndarray) -> np.ndarray:
    """A family surname per person (a forefather's name for Somali families)."""
    out = np.empty(len(comm), dtype=object)
    for name, i in C.items():
        m = comm == i
        if m.any():
            p = pool(SURNAMES[name] or MALE[name])
            out[m] = p[zipf_pick(rng, len(p), int(m.sum()), 0.7)]
    return out
