"""Write the bundled sample markets (data/sample/markets/): INVENTED listings, nothing copied.

`dvc repro` runs every stage on this sample, so it has to look like the real exports the
market configs read (conf/markets/{darkmatter,drughub,agora}.yaml) and give every later
stage something to find: all 14 taxonomy ids, four languages, market slang, Belgian and
Dutch vendors, vendors that migrate between markets, buyer feedback and sales counts.

Every vendor, title, description and comment is made up from the vocabularies below with a
seeded random generator, so the files are byte-identical on every run:

    python scripts/make_sample.py [--out data/sample/markets] [--seed 42]

Deliberate bad rows (one empty title, one exact duplicate) are planted in the DrugHub file
so that ingest's quarantine path runs in `dvc repro`; data/sample/README.md lists them.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import string
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "sample" / "markets"
LANGS = ("en", "nl", "fr", "de")

# Approximate exchange rates of the scrape dates (EUR -> currency); the sample is invented,
# so these only keep prices plausible. Agora prices are in BTC (EUR per BTC, early 2014).
EUR_TO = {"EUR": 1.0, "USD": 1.08, "GBP": 0.85, "CAD": 1.48}
EUR_PER_BTC = {"2014-01": 600.0, "2014-02": 480.0}
CURRENCY_OF = {"US": "USD", "UK": "GBP", "CA": "CAD", "CN": "USD", "IN": "USD", "": "USD"}
# origin price level: Belgian and Dutch supply is the cheapest in Europe
PRICE_LEVEL = {"BE": 0.85, "NL": 0.85, "DE": 1.0, "FR": 1.1, "ES": 1.0, "PL": 0.9, "UK": 1.15,
               "US": 1.3, "CA": 1.3, "CN": 0.7, "IN": 0.6}


@dataclass(frozen=True)
class Product:
    """One kind of goods: taxonomy id, how it is counted, typical offer sizes and names."""

    key: str
    tax: str
    unit: str  # g, pill, tab, vial, ml, pack, item
    sizes: tuple[float, ...]
    eur: float  # price of one unit at the smallest size
    names: dict[str, tuple[str, ...]]
    purity: tuple[int, int] | None = None
    doses: tuple[str, ...] = ()


def _p(key, tax, unit, sizes, eur, en, nl, fr, de, purity=None, doses=()) -> Product:
    return Product(key, tax, unit, tuple(sizes), eur,
                   {"en": tuple(en), "nl": tuple(nl), "fr": tuple(fr), "de": tuple(de)},
                   purity, tuple(doses))


PRODUCTS = {p.key: p for p in [
    _p("weed", "cannabis", "g", [1, 3.5, 5, 14, 28, 113], 9,
       ["Amnesia Haze", "White Widow", "OG Kush", "Lemon Haze"],
       ["wiet Amnesia Haze", "Nederwiet White Widow", "wiet Lemon Haze"],
       ["beuh Amnesia", "herbe Lemon Haze", "weed White Widow"],
       ["Gras Amnesia Haze", "Weed OG Kush", "Gras Lemon Haze"]),
    _p("hash", "cannabis", "g", [5, 10, 25, 50, 100], 7,
       ["Moroccan hash", "Afghan black hash", "Dry sift hash"],
       ["Marokkaanse hasj", "Afghaanse hasj"],
       ["shit marocain", "haschich afghan", "résine de cannabis"],
       ["Haschisch Marokko", "Afghan Haschisch", "Dry Sift Hasch"]),
    _p("edibles", "cannabis", "pack", [1, 5, 10], 15,
       ["THC gummies 10x10mg", "Space brownies 100mg THC"],
       ["THC snoepjes 10x10mg", "spacecake 100mg THC"],
       ["bonbons THC 10x10mg", "space cake 100mg THC"],
       ["THC Fruchtgummis 10x10mg", "Space Brownies 100mg THC"]),
    _p("cocaine", "cocaine", "g", [0.5, 1, 3.5, 5, 10, 28, 100], 65,
       ["Colombian cocaine", "Peruvian flake cocaine", "Bolivian cocaine", "fishscale coke"],
       ["cocaïne Colombia", "coke uit Peru", "Boliviaanse coke"],
       ["cocaïne colombienne", "coke péruvienne", "cocaïne écaille de poisson"],
       ["Kokain Kolumbien", "Koks aus Peru", "Bolivianisches Kokain"], purity=(78, 95)),
    _p("crack", "cocaine", "g", [0.5, 1, 3.5], 70,
       ["crack rocks", "crack cocaine"], ["crack"], ["galettes de crack", "crack"],
       ["Crack Steine"]),
    _p("xtc", "ecstasy", "pill", [10, 25, 50, 100, 1000], 3.5,
       ["XTC pills Blue Dolphin", "Pink Rabbit XTC", "Green Owl ecstasy pills"],
       ["XTC pillen Blauwe Dolfijn", "Roze Konijn XTC", "xtc pillen Groene Uil"],
       ["cachets d'ecstasy Dauphin Bleu", "XTC Lapin Rose", "ecstasy Hibou Vert"],
       ["XTC Pillen Blauer Delfin", "Rosa Hase XTC", "Ecstasy Pillen Grüne Eule"],
       doses=["180mg", "220mg", "250mg", "280mg"]),
    _p("mdma", "ecstasy", "g", [1, 5, 10, 25, 100], 22,
       ["MDMA crystals", "champagne MDMA", "MDMA rocks"],
       ["MDMA kristallen", "MDMA champagne kristal"],
       ["cristaux de MDMA", "MDMA champagne"], ["MDMA Kristalle", "Champagner MDMA"],
       purity=(82, 90)),
    _p("mda", "ecstasy", "g", [1, 5, 10], 30,
       ["MDA powder", "MDA crystals"], ["MDA poeder"], ["MDA en poudre"], ["MDA Pulver"]),
    _p("speed", "amphetamine", "g", [5, 10, 25, 50, 100, 1000], 6,
       ["amphetamine paste", "speed paste", "amphetamine sulphate"],
       ["speed pasta", "amfetamine pasta", "speed"], ["speed pâte", "amphétamine"],
       ["Speed Paste", "Amphetamin", "Pepp"], purity=(45, 75)),
    _p("meth", "methamphetamine", "g", [0.5, 1, 3.5, 7, 14, 28], 45,
       ["crystal meth", "Ice shards", "Tina crystal"], ["crystal meth", "ijs kristal meth"],
       ["méthamphétamine cristal", "crystal meth"], ["Crystal Meth", "Methamphetamin Kristall"],
       purity=(90, 98)),
    _p("ketamine", "dissociatives", "g", [1, 5, 10, 25, 100], 25,
       ["ketamine needles S-isomer", "ketamine shards", "K crystal"],
       ["ketamine naalden", "keta shards"], ["kétamine aiguilles", "kéta cristaux"],
       ["Ketamin Nadeln", "Keta Kristalle"]),
    _p("mxe", "dissociatives", "g", [1, 5], 40,
       ["MXE methoxetamine", "DXM powder"], ["DXM poeder"], ["MXE méthoxétamine"],
       ["DXM Pulver", "MXE"]),
    _p("heroin", "opioids", "g", [0.5, 1, 5, 10], 55,
       ["#4 heroin", "brown heroin", "Afghan heroin"], ["heroïne bruin", "Afghaanse heroïne"],
       ["héroïne brune", "héroïne afghane"], ["Heroin braun", "Afghanisches Heroin"]),
    _p("oxy", "opioids", "pill", [10, 20, 50, 100], 18,
       ["Oxycodone", "OxyContin"], ["Oxycodon"], ["Oxycodone"], ["Oxycodon"],
       doses=["80mg", "40mg", "30mg"]),
    _p("opioid_pill", "opioids", "pill", [30, 100, 200], 1.2,
       ["Tramadol", "Codeine phosphate"], ["Tramadol", "Codeïne"], ["Tramadol", "Codéine"],
       ["Tramadol", "Codein"], doses=["50mg", "100mg", "30mg"]),
    _p("lsd", "psychedelics", "tab", [1, 10, 25, 100], 8,
       ["LSD blotters", "LSD tabs Hofmann print"], ["LSD trips", "LSD blotters"],
       ["LSD buvards", "carton de LSD"], ["LSD Pappen", "LSD Trips"],
       doses=["100ug", "150µg", "200mcg", "250ug"]),
    _p("shrooms", "psychedelics", "g", [5, 10, 28, 100], 8,
       ["Golden Teacher mushrooms", "magic mushrooms", "psilocybe cubensis"],
       ["paddo's Golden Teacher", "truffels Mexicana", "paddenstoelen"],
       ["champignons magiques", "champis Golden Teacher"],
       ["Zauberpilze Golden Teacher", "Magic Mushrooms"]),
    _p("2cb", "psychedelics", "pill", [10, 25, 50, 100], 6,
       ["2C-B pills", "2C-B tabs"], ["2C-B pillen"], ["2C-B comprimés"], ["2C-B Pillen"],
       doses=["20mg", "25mg", "15mg"]),
    _p("dmt", "psychedelics", "g", [0.5, 1, 5], 90,
       ["DMT crystals", "N,N-DMT freebase"], ["DMT kristallen"], ["DMT cristaux"],
       ["DMT Kristalle"]),
    _p("mescaline", "psychedelics", "g", [1, 5], 60,
       ["mescaline HCl", "San Pedro mescaline extract"], ["mescaline"], ["mescaline"],
       ["Meskalin"]),
    _p("benzo", "benzodiazepines", "pill", [10, 30, 100, 500], 1.5,
       ["Xanax bars", "Valium diazepam", "Alprazolam"], ["Xanax", "Diazepam", "Valium"],
       ["Xanax alprazolam", "Valium diazépam", "Rivotril clonazépam"],
       ["Xanax", "Diazepam", "Rivotril"], doses=["2mg", "10mg", "1mg"]),
    _p("benzo_rc", "benzodiazepines", "pill", [20, 50, 100], 0.9,
       ["Etizolam", "Bromazolam", "Clonazolam"], ["Etizolam", "Bromazolam"],
       ["Étizolam", "Bromazolam"], ["Etizolam", "Bromazolam"], doses=["1mg", "2mg", "0.5mg"]),
    _p("adhd", "prescription", "pill", [10, 30, 100], 4,
       ["Adderall IR", "Ritalin methylphenidate", "Vyvanse"],
       ["Ritalin", "Methylfenidaat", "Dexamfetamine"], ["Ritaline méthylphénidate", "Adderall"],
       ["Ritalin", "Medikinet", "Elvanse"], doses=["30mg", "20mg", "10mg"]),
    _p("ed", "prescription", "pill", [10, 20, 50, 100], 1.2,
       ["Viagra sildenafil", "Cialis tadalafil", "Kamagra"], ["Viagra", "Kamagra"],
       ["Viagra sildénafil", "Cialis"], ["Viagra Sildenafil", "Cialis Tadalafil"],
       doses=["100mg", "50mg", "20mg"]),
    _p("rx_other", "prescription", "pill", [14, 28, 56, 100], 1,
       ["Pregabalin Lyrica", "Zolpidem", "Modafinil"], ["Pregabaline", "Zolpidem", "Modafinil"],
       ["Prégabaline Lyrica", "Zolpidem Stilnox", "Modafinil"],
       ["Pregabalin Lyrica", "Zolpidem", "Modafinil"], doses=["300mg", "10mg", "200mg"]),
    _p("weightloss", "prescription", "pill", [30, 60, 90], 1.5,
       ["Phentermine", "Sibutramine diet pills"], ["Phentermine afslankpillen"],
       ["Phentermine coupe-faim"], ["Phentermin Abnehmpillen"], doses=["37.5mg", "15mg"]),
    _p("steroid_inj", "steroids", "vial", [1, 5, 10], 35,
       ["Testosterone Enanthate", "Trenbolone Acetate", "Nandrolone Deca"],
       ["Testosteron Enanthaat", "Trenbolon"], ["Testostérone Énanthate", "Trenbolone"],
       ["Testosteron Enantat", "Trenbolon Acetat"], doses=["250mg/ml", "300mg/ml", "200mg/ml"]),
    _p("steroid_oral", "steroids", "pill", [50, 100, 200], 0.6,
       ["Anavar oxandrolone", "Dianabol", "Winstrol"], ["Anavar", "Dianabol"],
       ["Anavar oxandrolone", "Dianabol"], ["Anavar Oxandrolon", "Dianabol"],
       doses=["10mg", "25mg", "50mg"]),
    _p("sarms", "steroids", "pill", [30, 60, 90], 1,
       ["RAD-140 SARMs capsules", "Ostarine MK-2866"], ["RAD-140 SARMs capsules"],
       ["SARMs RAD-140 gélules"], ["SARMs RAD-140 Kapseln", "Ostarin MK-2866"],
       doses=["10mg", "20mg"]),
    _p("3mmc", "nps", "g", [1, 5, 10, 25, 100], 12,
       ["3-MMC crystals", "3-CMC"], ["3-MMC kristallen", "3-CMC"], ["3-MMC cristaux", "3-CMC"],
       ["3-MMC Kristalle", "3-CMC"], purity=(95, 99)),
    _p("4mmc", "nps", "g", [1, 5, 10, 50], 14,
       ["Mephedrone 4-MMC", "meow meow 4-MMC"], ["Mefedron 4-MMC"], ["Méphédrone 4-MMC"],
       ["Mephedron 4-MMC"]),
    _p("2fa", "nps", "g", [1, 5, 10], 15,
       ["2-FA powder", "2-FMA"], ["2-FA poeder"], ["2-FA poudre"], ["2-FA Pulver"]),
    _p("spice", "nps", "g", [1, 5, 10, 25], 10,
       ["Spice synthetic cannabinoid 5F-MDMB", "herbal incense K2"], ["spice kruidenmix"],
       ["spice cannabinoïde de synthèse"], ["Spice Kräutermischung", "K2 Räuchermischung"]),
    _p("ghb", "other_drug", "ml", [100, 250, 500, 1000], 0.12,
       ["GHB liquid", "GBL 99.9%"], ["GHB vloeibaar", "GBL 99,9%"], ["GHB liquide", "GBL 99,9%"],
       ["GHB flüssig", "GBL 99,9%"]),
    _p("poppers", "other_drug", "ml", [10, 25], 0.6,
       ["Poppers amyl nitrite"], ["Poppers"], ["Poppers nitrite d'amyle"], ["Poppers Amylnitrit"]),
    _p("kratom", "other_drug", "g", [50, 100, 250, 1000], 0.06,
       ["Kratom Red Bali powder", "Kratom Maeng Da"], ["Kratom poeder"], ["Kratom poudre"],
       ["Kratom Pulver"]),
    _p("tobacco", "other_drug", "pack", [1, 5, 10], 28,
       ["cigarettes carton (200 sticks)", "snus cans"], ["sigaretten slof (200 stuks)"],
       ["cartouche de cigarettes (200)"], ["Zigaretten Stange (200 Stück)"]),
    _p("guide", "non_drug", "item", [1], 8,
       ["OPSEC guide for beginners 2024", "How to buy crypto anonymously (guide)",
        "Complete Tails + PGP tutorial"],
       ["Handleiding PGP en Tails (Nederlands)", "Gids: anoniem bitcoin kopen"],
       ["Guide OPSEC complet en français", "Tutoriel PGP et Tails"],
       ["Anleitung: Anonym Bitcoin kaufen", "OPSEC Handbuch auf Deutsch"]),
    _p("ebook", "non_drug", "item", [1], 5,
       ["Growing cannabis indoors e-book", "The chemistry of psychedelics (ebook)"],
       ["E-book wiet kweken binnen"], ["Livre numérique culture en intérieur"],
       ["E-Book Indoor Anbau"]),
    _p("accounts", "non_drug", "item", [1], 6,
       ["Netflix premium account 1 year", "Spotify family lifetime"],
       ["Netflix account 12 maanden"], ["Compte Netflix premium 1 an"],
       ["Netflix Premium Konto 1 Jahr"]),
    _p("software", "non_drug", "item", [1], 12,
       ["Windows 11 Pro license key", "Office 2021 lifetime key"], ["Windows 11 Pro licentie"],
       ["Clé de licence Windows 11 Pro"], ["Windows 11 Pro Lizenzschlüssel"]),
    _p("fraud_docs", "non_drug", "item", [1], 25,
       ["ID card template pack (PSD)", "Utility bill template"],
       ["Sjabloon identiteitskaart (PSD)"], ["Modèle de facture (PSD)"],
       ["Vorlage Personalausweis (PSD)"]),
    _p("watches", "non_drug", "item", [1], 180,
       ["AAA replica diver watch", "Replica chronograph"], ["Replica horloge AAA"],
       ["Montre réplique AAA"], ["Replika Taucheruhr AAA"]),
    _p("paraphernalia", "non_drug", "item", [1], 15,
       ["Digital pocket scale 0.01g", "100 zip bags 5x7cm", "Reagent test kit (Marquis, Mecke)"],
       ["Digitale weegschaal 0,01g", "100 gripzakjes"], ["Balance de précision 0,01g"],
       ["Feinwaage 0,01g", "Reagenztest-Set Marquis"]),
]}

# The market's own category path for each kind of goods (None: the market has no place for it).
DARKMATTER_PATH = {
    "weed": "Cannabis > Buds/Flowers", "hash": "Cannabis > Hash", "edibles": "Cannabis > Edibles",
    "cocaine": "Stimulants > Cocaine", "crack": "Stimulants > Crack", "xtc": "Ecstasy > Pills",
    "mdma": "Ecstasy > MDMA", "mda": "Ecstasy > MDA", "speed": "Stimulants > Amphetamine",
    "meth": "Stimulants > Meth", "ketamine": "Dissociatives > Ketamine",
    "mxe": "Dissociatives > MXE", "heroin": "Opioids > Heroin", "oxy": "Opioids > OxyCodone",
    "opioid_pill": "Opioids > Pills", "lsd": "Psychedelics > LSD",
    "shrooms": "Psychedelics > Shrooms", "2cb": "Psychedelics > 2C-B",
    "dmt": "Psychedelics > DMT", "mescaline": "Psychedelics > Mescaline",
    "benzo": "Benzos > Pills", "benzo_rc": "Benzos > RC", "adhd": "Prescription > ADHD",
    "ed": "Prescription > ED Sex Meds", "rx_other": "Prescription > Other",
    "weightloss": "Other Drugs > Weight Loss", "steroid_inj": "Steroids > Injectable",
    "steroid_oral": "Steroids > Oral", "sarms": "Steroids > SARMS",
    "3mmc": "Stimulants > 3-MMC", "4mmc": "Stimulants > Mephedrone", "2fa": "Stimulants > 2-FA",
    "spice": "Cannabis > Synthetic", "ghb": "Dissociatives > GHB", "poppers": None,
    "kratom": None, "tobacco": "Other Drugs > Tabacco",
    "guide": "Guides/Tutorials > Security/Anonymity", "ebook": "Digital Products > E-Books",
    "accounts": "Digital Products > Other", "software": "Digital Products > Legit Software",
    "fraud_docs": "Fraud > Documents", "watches": "Legal Items > Jewelry",
    "paraphernalia": "Other Drugs > Paraphernalia",
}
DARKMATTER_DIGITAL = {"guide", "ebook", "accounts", "software", "fraud_docs"}
_DH = "Drugs » "
DRUGHUB_PATH = {
    "weed": _DH + "Cannabis - Buds and Flowers", "hash": _DH + "Cannabis - Hash",
    "edibles": _DH + "Cannabis - Edibles", "cocaine": _DH + "Stimulants - Cocaine",
    "crack": _DH + "Stimulants - Crack", "xtc": _DH + "Ecstasy - Pills",
    "mdma": _DH + "Ecstasy - MDMA", "mda": _DH + "Ecstasy - MDA",
    "speed": _DH + "Stimulants - Speed", "meth": _DH + "Stimulants - Meth",
    "ketamine": _DH + "Dissociatives - Ketamine", "mxe": _DH + "Dissociatives - Other",
    "heroin": _DH + "Opioids - Heroin", "oxy": _DH + "Opioids - Oxycodone",
    "opioid_pill": _DH + "Opioids - Pills", "lsd": _DH + "Psychedelics - LSD",
    "shrooms": _DH + "Psychedelics - Shrooms", "2cb": _DH + "Psychedelics - 2C-B",
    "dmt": _DH + "Psychedelics - DMT", "mescaline": _DH + "Psychedelics - Other",
    "benzo": _DH + "Benzos - Pills", "benzo_rc": _DH + "Benzos - RC",
    "adhd": _DH + "Stimulants - Adderall", "ed": _DH + "Sexual Enhancement",
    "rx_other": _DH + "Prescription Drugs", "weightloss": _DH + "Weight Loss",
    "steroid_inj": _DH + "Steroids", "steroid_oral": _DH + "Steroids", "sarms": _DH + "Steroids",
    "3mmc": _DH + "Stimulants - Other", "4mmc": _DH + "Stimulants - Mephedrone",
    "2fa": _DH + "Stimulants - Other", "spice": _DH + "Cannabis - Synthetic",
    "ghb": _DH + "Dissociatives - GHB", "poppers": _DH + "Other Drugs",
    "kratom": _DH + "Other Drugs", "tobacco": _DH + "Tobacco", "guide": None, "ebook": None,
    "accounts": "Online Business » Various Logins", "software": "Software » Commercial Software",
    "fraud_docs": "Services » Fake Documents (Digital)",
    "watches": "Forgeries / Counterfeits » Watches",
    "paraphernalia": _DH + "Paraphernalia - Other",
}
AGORA_PATH = {  # (cat, subcat, subsubcat); None levels are written as NA
    "weed": ("Drugs", "Cannabis", "Weed"), "hash": ("Drugs", "Cannabis", "Hash"),
    "edibles": ("Drugs", "Cannabis", "Edibles"), "cocaine": ("Drugs", "Stimulants", "Cocaine"),
    "crack": ("Drugs", "Stimulants", "Cocaine"), "xtc": ("Drugs", "Ecstasy", "Pills"),
    "mdma": ("Drugs", "Ecstasy", "MDMA"), "mda": ("Drugs", "Ecstasy", "MDA"),
    "speed": ("Drugs", "Stimulants", "Speed"), "meth": ("Drugs", "Stimulants", "Meth"),
    "ketamine": ("Drugs", "Disassociatives", "Ketamine"),
    "mxe": ("Drugs", "Disassociatives", "MXE"), "heroin": ("Drugs", "Opioids", None),
    "oxy": ("Drugs", "Opioids", None), "opioid_pill": ("Drugs", "Opioids", None),
    "lsd": ("Drugs", "Psychedelics", "LSD"), "shrooms": ("Drugs", "Psychedelics", "Mushrooms"),
    "2cb": ("Drugs", "Psychedelics", "2C"), "dmt": ("Drugs", "Psychedelics", "DMT"),
    "mescaline": ("Drugs", "Psychedelics", "Mescaline"), "benzo": ("Drugs", "Benzos", None),
    "benzo_rc": ("Drugs", "Benzos", None), "adhd": ("Drugs", "Stimulants", "Prescription"),
    "ed": ("Drugs", "Prescription", None), "rx_other": ("Drugs", "Prescription", None),
    "weightloss": ("Drugs", "Weight loss", None), "steroid_inj": ("Drugs", "Steroids", None),
    "steroid_oral": ("Drugs", "Steroids", None), "sarms": ("Drugs", "Steroids", None),
    "3mmc": ("Drugs", "RCs", None), "4mmc": ("Drugs", "RCs", None), "2fa": ("Drugs", "RCs", None),
    "spice": ("Drugs", "Cannabis", "Synthetics"), "ghb": ("Drugs", "Disassociatives", "GHB"),
    "poppers": ("Drugs", "Other", None), "kratom": ("Drugs", "Other", None),
    "tobacco": ("Tobacco", "Smoked", None), "guide": ("Information", "Guides", None),
    "ebook": ("Information", "eBooks", None), "accounts": ("Data", "Accounts", None),
    "software": ("Data", "Software", None), "fraud_docs": ("Forgeries", None, None),
    "watches": ("Counterfeits", "Watches", None),
    "paraphernalia": ("Drug paraphernalia", "Containers", None),
}


@dataclass(frozen=True)
class Vendor:
    """An invented vendor: where it ships from, its languages, goods, and its handle per market."""

    handle: str
    origins: tuple[str, ...]  # ISO-like codes; "" = no physical origin (digital goods)
    langs: tuple[str, ...]
    goods: tuple[str, ...]
    markets: dict[str, str] = field(default_factory=dict)


def _v(handle: str, origins: str, langs: str, goods: str, **markets: str | bool) -> Vendor:
    """`markets`: market -> True (same handle) or the handle used there (migration variants)."""
    return Vendor(handle, tuple(origins.split("+")), tuple(langs.split()), tuple(goods.split()),
                  {m: handle if h is True else h for m, h in markets.items()})


# About 10% of vendors ship from Belgium (three only from BE, two from NL+BE and BE+DE), and
# Belgian supply leans to ecstasy and amphetamine, as the CRYPTODRUG study found.
# Agora is 2014, DarkMatter and DrugHub 2024: handles on both sides are migrating vendors.
VENDORS = [
    _v("AntwerpXpress", "BE", "nl en", "xtc mdma speed cocaine", agora=True, darkmatter=True),
    _v("WaffleWorks", "BE", "nl fr en", "xtc speed weed 2cb", darkmatter=True,
       drughub="waffleworks"),
    _v("LiegeLabo", "BE", "fr en", "mdma speed xtc ketamine", agora=True,
       drughub="LiegeLabo_be"),
    _v("DeltaDirect", "NL+BE", "nl en", "xtc mdma speed 3mmc", darkmatter=True, drughub=True),
    _v("EifelExpress", "BE+DE", "de nl en", "speed weed hash cocaine", agora=True,
       darkmatter=True),
    _v("TulipTraders", "NL", "nl en", "weed hash xtc cocaine", agora=True,
       darkmatter="TulipTradersOfficial"),
    _v("GrachtenGoods", "NL", "nl en", "ketamine mdma 2cb lsd", darkmatter=True, drughub=True),
    _v("PolderPharma", "NL", "en nl", "benzo_rc rx_other ed", drughub=True),
    _v("ZeelandZen", "NL", "nl en", "shrooms lsd dmt mescaline", darkmatter=True, drughub=True),
    _v("HollandHerbal", "NL", "nl en", "weed hash shrooms", agora=True),
    _v("Kaaskop", "NL", "nl", "weed hash edibles", agora=True, drughub="Kaaskop_nl"),
    _v("MolenMDMA", "NL", "en nl", "mdma xtc mda", agora=True),
    _v("RotterdamRC", "NL", "en", "3mmc 4mmc 2fa", darkmatter=True, drughub=True),
    _v("GammaGarden", "NL", "nl en", "ghb poppers kratom", drughub=True, darkmatter=True),
    _v("DigitalDutchie", "", "nl en", "accounts software guide", darkmatter=True, drughub=True),
    _v("BerlinBlizzard", "DE", "de en", "cocaine crack ketamine", darkmatter=True, drughub=True),
    _v("SchwarzwaldShop", "DE", "de", "speed weed hash", darkmatter=True,
       agora="schwarzwaldshop"),
    _v("HanseHerbs", "DE", "de en", "weed edibles spice", drughub=True),
    _v("MunichMeds", "DE", "de en", "benzo opioid_pill rx_other", darkmatter=True),
    _v("BavarianBenzos", "DE", "de en", "benzo rx_other", agora=True),
    _v("KoelnKristall", "DE", "de", "meth speed", darkmatter=True),
    _v("RuhrRoids", "DE", "de en", "steroid_inj steroid_oral sarms", darkmatter=True,
       drughub=True),
    _v("ParaphernaliaPro", "DE", "de en", "paraphernalia", darkmatter=True, drughub=True),
    _v("LeMarchand", "FR", "fr", "hash weed cocaine", agora=True, darkmatter=True),
    _v("ParisPoudre", "FR", "fr en", "cocaine ketamine mdma", drughub=True),
    _v("MarseilleMeds", "FR", "fr", "benzo rx_other opioid_pill", drughub=True),
    _v("LyonLabs", "FR", "fr en", "lsd shrooms 2cb", darkmatter=True),
    _v("LondonLuxe", "UK", "en", "cocaine ketamine xtc", darkmatter=True, drughub=True),
    _v("ManchesterMagic", "UK", "en", "shrooms lsd dmt", drughub=True),
    _v("BritishBenzoBoss", "UK", "en", "benzo benzo_rc opioid_pill", darkmatter=True),
    _v("CockneyCannabis", "UK", "en", "weed hash edibles", agora=True, drughub=True),
    _v("SmokeSmuggler", "UK", "en", "tobacco", agora=True, darkmatter=True),
    _v("StarsAndStripesRx", "US", "en", "adhd oxy benzo", darkmatter=True, drughub=True),
    _v("WestCoastKush", "US", "en", "weed edibles hash", darkmatter=True,
       drughub="WestCoastKush420"),
    _v("OldTownOpium", "US", "en", "heroin oxy", agora=True),
    _v("MidwestMolly", "US", "en", "mdma xtc lsd", agora=True, darkmatter="midwestmolly"),
    _v("GulfCoastGear", "US", "en", "steroid_inj sarms steroid_oral", drughub=True),
    _v("ChiTownChems", "US", "en", "heroin oxy meth", darkmatter=True),
    _v("DesertTrips", "US", "en", "lsd shrooms dmt mescaline", agora=True),
    _v("CostaCoca", "ES", "en", "cocaine hash", darkmatter=True),
    _v("BarcelonaBuds", "ES", "en", "weed hash", agora=True, drughub=True),
    _v("MadridMeds", "ES", "en", "rx_other ed weightloss", darkmatter=True),
    _v("MapleMeds", "CA", "en fr", "oxy benzo heroin", drughub=True),
    _v("CanuckCrystal", "CA", "en fr", "meth cocaine", agora=True),
    _v("WarsawWhite", "PL", "en", "speed meth 3mmc", darkmatter=True),
    _v("ShenzhenChemCo", "CN", "en", "spice 2fa 4mmc benzo_rc", agora=True),
    _v("IndiaPharmaDirect", "IN", "en", "ed rx_other opioid_pill weightloss", darkmatter=True,
       drughub=True),
    _v("TorlandTrader", "Torland", "en", "weed cocaine xtc", agora=True),
    _v("GhostGoods", "Undeclared", "en", "benzo adhd", agora=True),
    _v("OpsecOracle", "", "en de fr", "guide ebook", agora=True, darkmatter=True),
    _v("FakeFactory", "CN", "en fr", "fraud_docs watches", drughub=True, darkmatter=True),
    _v("GuidesGalore", "", "en nl de", "guide ebook", darkmatter=True),
]

COUNTRY = {  # code -> (darkmatter spelling, agora spelling)
    "BE": ("Belgium", "Belgium"), "NL": ("Netherlands", "Netherlands"),
    "DE": ("Germany", "Germany"), "FR": ("France", "France"), "UK": ("United Kingdom", "UK"),
    "US": ("United States", "USA"), "ES": ("Spain", "Spain"), "CA": ("Canada", "Canada"),
    "PL": ("Poland", "Poland"), "CN": ("China", "China"), "IN": ("India", "India"),
    "Torland": ("", "Torland"), "Undeclared": ("", "Undeclared"), "": ("", "Internet"),
}
COUNTRY_IN = {  # code -> name in en, nl, fr, de (for descriptions and title tags)
    "BE": ("Belgium", "België", "la Belgique", "Belgien"),
    "NL": ("the Netherlands", "Nederland", "les Pays-Bas", "den Niederlanden"),
    "DE": ("Germany", "Duitsland", "l'Allemagne", "Deutschland"),
    "FR": ("France", "Frankrijk", "la France", "Frankreich"),
    "UK": ("the UK", "het VK", "le Royaume-Uni", "Großbritannien"),
    "US": ("the USA", "de VS", "les USA", "den USA"),
    "ES": ("Spain", "Spanje", "l'Espagne", "Spanien"),
    "CA": ("Canada", "Canada", "le Canada", "Kanada"),
    "PL": ("Poland", "Polen", "la Pologne", "Polen"),
    "CN": ("China", "China", "la Chine", "China"),
    "IN": ("India", "India", "l'Inde", "Indien"),
}
EU = {"BE", "NL", "DE", "FR", "ES", "PL"}
DARKMATTER_SHIP_TO = {
    "EU": ["Europe", "Worldwide", "Europe and 5 more", "Europe and 1 more", "Europe and 4 more"],
    "BE": ["Europe", "Worldwide", "Belgium and 3 more", "Europe and 5 more"],
    "DE": ["Germany and 39 more", "Europe", "Worldwide", "Germany"],
    "UK": ["United Kingdom", "Worldwide", "Europe and 1 more"],
    "US": ["United States", "United States and 2 more", "Worldwide"],
    "CA": ["Canada", "North America"],
    "": ["Worldwide"],
}
AGORA_SHIP_TO = ["Worldwide", "EU", "WORLDWIDE", "Europe", "Worldwide except Australia",
                 "EU except Scandinavia", "Benelux only", "USA"]

# --- text pieces per language -------------------------------------------------------------
EXTRAS = {
    "en": [" - TOP QUALITY", " - FREE SHIPPING", " [FE]", " - STEALTH", " EXPRESS",
           " ** BEST PRICE **", " (free shipping)", " | NO USA"],
    "nl": [" - Topkwaliteit", " - Gratis verzending", " | Beste prijs", " - snelle levering",
           " - Track & Trace"],
    "fr": [" - Qualité supérieure", " - Livraison gratuite", " | Meilleur prix",
           " - Envoi rapide", " - Envoi discret"],
    "de": [" - Beste Qualität", " - Kostenloser Versand", " | Top Preis",
           " - Schneller Versand", " - Diskreter Versand"],
}
PURITY = {"en": ["{p}%", "{p}% pure"], "nl": ["puur {p}%", "{p}% zuiver"],
          "fr": ["pure à {p}%", "{p}% de pureté"], "de": ["{p}% Reinheit", "{p}% rein"]}
ORIGIN_TAG = {"en": ["[{c}]", "SHIPS FROM {name}", "{c}->EU"],
              "nl": ["[{c}]", "verzending vanuit {name}"],
              "fr": ["[{c}]", "envoi depuis {name}"], "de": ["[{c}]", "Versand aus {name}"]}
PILL_WORDS = {"en": ["pills", "tabs", "pcs", "x"], "nl": ["stuks", "pillen"],
              "fr": ["comprimés", "cachets", "pilules"], "de": ["Stück", "Pillen", "Tabletten"]}
BLOTTER_WORDS = {"en": ["blotters", "tabs", "x"], "nl": ["trips", "blotters"],
                 "fr": ["buvards", "cartons"], "de": ["Pappen", "Trips"]}
GRAM_WORDS = {"en": ["g", "gr", " gram", "G"], "nl": [" gram", "gr", "g"],
              "fr": ["g", " grammes", " gr"], "de": ["g", " Gramm", "gr"]}
PACK_WORDS = {"en": "packs", "nl": "stuks", "fr": "paquets", "de": "Packungen"}
VIAL_WORDS = {"en": ("10ml vial", "x 10ml vials"), "nl": ("flesje 10ml", "flesjes van 10ml"),
              "fr": ("flacon 10ml", "flacons de 10ml"), "de": ("Ampulle 10ml", "Ampullen à 10ml")}
EXCLUSIONS = {
    "en": ["No shipping to USA, Canada, Australia.", "No ship to AUS/NZ.",
           "Not shipping to Scandinavia.", "Domestic only.", "EU only, no UK."],
    "nl": ["Wij verzenden niet naar Nederland.", "Geen verzending naar Scandinavië of Australië.",
           "Niet naar de VS.", "Alleen binnen de EU."],
    "fr": ["Pas d'envoi vers les USA.", "Pas d'envoi vers la France.",
           "Pas de livraison en Australie ni au Canada.", "Envoi en Europe uniquement."],
    "de": ["Kein Versand nach Skandinavien.", "Kein Versand in die USA und nach Australien.",
           "Nur innerhalb der EU.", "Kein Versand in die Schweiz."],
}
SHIPS_FROM = {"en": "Ships from {name} with tracking.", "nl": "Verzending vanuit {name}.",
              "fr": "Envoi depuis {name}.", "de": "Versand aus {name}."}
INTRO = {
    "en": ["High quality {name}, tested and weighed on calibrated scales.",
           "Our best {name}, restocked weekly.", "Lab tested {name}, consistent batches."],
    "nl": ["Topkwaliteit {name}, getest en afgewogen op geijkte weegschaal.",
           "Onze beste {name}, elke week vers binnen."],
    "fr": ["{name} de qualité supérieure, testé et pesé sur balance calibrée.",
           "Notre meilleur {name}, stock renouvelé chaque semaine."],
    "de": ["Hochwertiges {name}, getestet und auf geeichter Waage abgewogen.",
           "Unser bestes {name}, jede Woche frisch."],
}
STEALTH = {"en": "Vacuum sealed, stealth packaging, no signature needed.",
           "nl": "Vacuüm verpakt, discrete verzending, geen handtekening nodig.",
           "fr": "Emballage sous vide, envoi discret, sans signature.",
           "de": "Vakuumiert, diskreter Versand, keine Unterschrift nötig."}
FEEDBACK = {  # score -> comments per language (empty comments occur on the real market too)
    "good": {
        "en": ["Fast delivery, great stealth. Will order again.",
               "Product as described, weight was spot on.", "Arrived in 3 days, top quality",
               "Good comms, vendor sorted out a delay quickly", "Strong, split in half to be safe",
               ""],
        "nl": ["Snelle levering, goede stealth. Zeker een aanrader!",
               "Top kwaliteit, gewicht klopt",
               "Netjes verpakt, binnen 2 dagen binnen", "Wat langer onderweg maar prima spul"],
        "fr": ["Livraison rapide, très bon produit, merci !", "Qualité au top, poids exact",
               "Colis bien caché, reçu en 3 jours", "Un peu lent mais vendeur sérieux"],
        "de": ["Schnelle Lieferung, super Qualität, gerne wieder!", "Gewicht stimmt, Ware top",
               "Sehr diskret verpackt, danke", "Hat etwas gedauert, aber alles gut"],
    },
    "bad": {
        "en": ["Never arrived, vendor stopped answering", "Weight was short by 0.3g"],
        "nl": ["Nooit aangekomen", "Slechte kwaliteit, veel versneden"],
        "fr": ["Jamais reçu", "Qualité décevante, coupé"],
        "de": ["Nie angekommen", "Schlechte Qualität, gestreckt"],
    },
}
BUYER_TAGS = ["anon [0 deals]", "anon \xa0~5/5, 1~2 deals", "anon \xa0~5/5, 3~5 deals",
              "anon \xa0~5/5, 6~10 deals", "anon \xa0~4.8/5, 11~20 deals"]
UNIT_TOKEN = {"g": "gr", "pill": "pls", "tab": "tb", "vial": "pcs", "ml": "ml", "pack": "pks",
              "item": "pcs"}


# --- small formatting helpers ---------------------------------------------------------------
def num(value: float, lang: str = "en") -> str:
    """A quantity as vendors write it: no trailing zeros, decimal comma outside English."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang != "en" else text


def thousands(n: int, lang: str) -> str:
    """`1.000` in Dutch and German, `1000` elsewhere."""
    return f"{n:,}".replace(",", ".") if lang in ("nl", "de") and n >= 1000 else str(n)


def mass_text(q: float, lang: str, rng: random.Random) -> str:
    if lang == "en" and q in (3.5, 14, 28, 113) and rng.random() < 0.7:
        return {3.5: rng.choice(["3.5g (eighth)", "eighth"]), 14: "half oz",
                28: rng.choice(["1 oz (zip)", "28g zip", "zip"]), 113: "QP (113g)"}[q]
    if q >= 1000:
        return {"en": "1 KG", "nl": "1 kilo", "fr": "1 kg", "de": "1 Kilo"}[lang]
    return num(q, lang) + rng.choice(GRAM_WORDS[lang])


def count_text(n: int, unit: str, lang: str, rng: random.Random) -> str:
    if unit == "vial":
        one, many = VIAL_WORDS[lang]
        return one if n == 1 else f"{n} {many}"
    if unit == "pack":
        return f"{n} {PACK_WORDS[lang]}" if n > 1 else ""
    if unit == "ml":
        return "1L" if n == 1000 else f"{n}ml"
    words = BLOTTER_WORDS if unit == "tab" else PILL_WORDS
    if unit == "pill" and lang == "en" and n in (30, 50, 100) and rng.random() < 0.35:
        return f"{n // 10} x 10 pills"
    word = rng.choice(words[lang])
    if word == "x":
        return f"{n}x"
    return f"{thousands(n, lang)} {word}"


def quantity_text(product: Product, q: float, lang: str, rng: random.Random) -> str:
    if product.unit == "item":
        return ""
    if product.unit == "g":
        return mass_text(q, lang, rng)
    return count_text(int(q), product.unit, lang, rng)


def offer_price_eur(product: Product, q: float, level: float) -> float:
    """Total price of `q` units: bulk is cheaper per unit."""
    base = product.sizes[0]
    return product.eur * q * (q / base) ** -0.15 * level


def fmt_money(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass
class Offer:
    """One generated listing before it is written in a market's format."""

    vendor: Vendor
    handle: str
    product: Product
    lang: str
    origin: str
    sizes: tuple[float, ...]  # one size, or the range a DarkMatter listing spans
    title: str
    name: str
    prices_eur: tuple[float, ...]
    purity: int | None


def make_title(
    product: Product, origin: str, q: float, lang: str, rng: random.Random
) -> tuple[str, str, int | None]:
    """(title, product name used, purity stated or None) in the vendor's language."""
    name = rng.choice(product.names[lang])
    parts = [name]
    if product.doses:
        parts.append(rng.choice(product.doses))
    purity = rng.randint(*product.purity) if product.purity else None
    if purity is not None and rng.random() < 0.75:
        parts.append(rng.choice(PURITY[lang]).format(p=purity))
    body = " ".join(parts)
    qty = quantity_text(product, q, lang, rng)
    if qty:
        body = rng.choice([f"{qty} {body}", f"{body} {qty}", f"{body} - {qty}"])
    if rng.random() < 0.5:
        body += rng.choice(EXTRAS[lang])
    if origin in COUNTRY_IN and rng.random() < 0.35:
        tag = rng.choice(ORIGIN_TAG[lang])
        where = COUNTRY_IN[origin][LANGS.index(lang)]
        tag = tag.format(c=origin, name=where.upper() if lang == "en" else where)
        body = f"{tag} {body}" if tag.startswith("[") or "->" in tag else f"{body} - {tag}"
    return body, name, purity


def make_offer(vendor: Vendor, handle: str, rng: random.Random, sizes: tuple[float, ...],
               product: Product) -> Offer:
    lang = vendor.langs[0] if rng.random() < 0.55 else rng.choice(vendor.langs)
    origin = rng.choice(vendor.origins)
    level = PRICE_LEVEL.get(origin, 1.0) * rng.uniform(0.85, 1.15)
    if product.tax in ("ecstasy", "amphetamine") and origin in ("BE", "NL"):
        level *= 0.85
    title, name, purity = make_title(product, origin, sizes[0], lang, rng)
    prices = tuple(offer_price_eur(product, q, level) for q in sizes)
    return Offer(vendor, handle, product, lang, origin, sizes, title, name, prices, purity)


def vendor_goods(vendor: Vendor, market: str) -> list[Product]:
    paths = {"darkmatter": DARKMATTER_PATH, "drughub": DRUGHUB_PATH, "agora": AGORA_PATH}[market]
    return [PRODUCTS[k] for k in vendor.goods if paths.get(k)]


def vendor_offers(vendor: Vendor, market: str, n: int, rng: random.Random,
                  ranged: bool = False) -> list[Offer]:
    """`n` listings of a vendor on one market, cycling through its goods."""
    goods = vendor_goods(vendor, market)
    handle = vendor.markets[market]
    offers = []
    for i in range(n):
        product = goods[i % len(goods)]
        sizes = product.sizes
        if ranged and len(sizes) > 1 and rng.random() < 0.7:
            lo = rng.randrange(0, len(sizes) - 1)
            hi = rng.randrange(lo + 1, len(sizes))
            chosen = sizes[lo:hi + 1]
        else:
            chosen = (rng.choice(sizes),)
        offers.append(make_offer(vendor, handle, rng, chosen, product))
    return offers


# --- DarkMatter (July 2024): four exports with different headers ------------------------------
def darkmatter_price(offer: Offer, currency: str) -> tuple[str, str]:
    """(`Price` as on the physical exports, `Price per unit` as on the partial export)."""
    rate = EUR_TO[currency]
    totals = [round(p * rate) for p in offer.prices_eur]
    per_unit = min(p * rate / q for p, q in zip(offer.prices_eur, offer.sizes, strict=True))
    token = UNIT_TOKEN[offer.product.unit]
    unit = f"{round(per_unit)} {currency} for 1{token}"
    span = f"{totals[0]}-{totals[-1]}" if len(totals) > 1 else str(totals[0])
    if offer.product.unit == "item":
        return f"{fmt_money(offer.prices_eur[0] * rate)} {currency}", ""
    return f"{span} {currency} / from {unit}", unit


def darkmatter_title(offer: Offer) -> str:
    if len(offer.sizes) == 1:
        return offer.title
    token = UNIT_TOKEN[offer.product.unit]
    return f"{num(offer.sizes[0])}-{num(offer.sizes[-1])}{token} x {offer.title}"


def darkmatter_rows(rng: random.Random) -> dict[str, list[list[str]]]:
    physical_77, physical_76, partial, digital = [], [], [], []
    for vendor in VENDORS:
        if "darkmatter" not in vendor.markets:
            continue
        for offer in vendor_offers(vendor, "darkmatter", rng.randint(3, 6), rng, ranged=True):
            currency = CURRENCY_OF.get(offer.origin, "EUR")
            price, per_unit = darkmatter_price(offer, currency)
            path = DARKMATTER_PATH[offer.product.key]
            title = darkmatter_title(offer)
            if offer.product.key in DARKMATTER_DIGITAL:
                digital.append([offer.title, offer.handle, path, price])
                continue
            ship_from = COUNTRY[offer.origin][0]
            region = offer.origin if offer.origin in DARKMATTER_SHIP_TO else (
                "EU" if offer.origin in EU else "")
            ship_to = rng.choice(DARKMATTER_SHIP_TO[region])
            row = [title, offer.handle, path, ship_from, ship_to, price]
            physical_77.append(row)
            if rng.random() < 0.3:  # seen the day before too, sometimes at another price
                before = replace(offer, prices_eur=tuple(p * rng.choice([1, 1, 1.05, 1.1])
                                                         for p in offer.prices_eur))
                physical_76.append([*row[:5], darkmatter_price(before, currency)[0]])
            if rng.random() < 0.3:  # the partial export of 2 July, with sales counts
                span = price.split(" / ")[0]
                partial.append([title, offer.handle, path, ship_from, ship_to,
                                str(rng.choice([0, 1, 1, 2, 3, 5, 8, 13, 27])), span, per_unit,
                                " Escrow MultiSig", "Shipping Stealth Quality Commo"])
    return {
        "darkmatter_physical_products_7_7.csv": [
            ["Name", "Vendor", "Category", "Ship From", "Ship To", "Price"], *physical_77],
        "darkmatter_physical_products_7_6.csv": [
            ["Name", "Vendor", "Category", "Ship From", "Ship To", "Price"], *physical_76],
        "darkmatter_partial_7_2.csv": [
            ["Product", "Vendor", "Category", "Ship From", "Ship To", "Sold", "Price Range",
             "Price per unit", "Payment Options", "Shipping"], *partial],
        "darkmatter_digital_products_7_7.csv": [["Name", "Vendor", "Category", "Price"], *digital],
    }


# --- DrugHub (October 2024): one export, price and currency apart --------------------------
def drughub_rows(rng: random.Random) -> list[list[str]]:
    rows = []
    for vendor in VENDORS:
        if "drughub" not in vendor.markets:
            continue
        for offer in vendor_offers(vendor, "drughub", rng.randint(3, 6), rng):
            currency = CURRENCY_OF.get(offer.origin, "EUR")
            price = offer.prices_eur[0] * EUR_TO[currency]
            price = round(price) - 0.01 if rng.random() < 0.3 and price > 5 else round(price, 1)
            rows.append([offer.title, DRUGHUB_PATH[offer.product.key], offer.handle, currency,
                         fmt_money(price)])
    rng.shuffle(rows)
    # planted bad rows (see data/sample/README.md): an empty title and an exact duplicate
    rows.insert(17, ["", DRUGHUB_PATH["weed"], "HanseHerbs", "EUR", "45"])
    rows.insert(40, list(rows[39]))
    return [["Product Name", "Category", "Vendor", "Currency", "Price"], *rows]


# --- Agora (January-February 2014): products pages and vendor description previews ----------
def page_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(10))


def btc(eur: float, date: str) -> str:
    return f"{eur / EUR_PER_BTC[date[:7]]:.8f}".rstrip("0")


def feedback_block(rng: random.Random, langs: tuple[str, ...]) -> str:
    """The `feedback` cell as the Agora pages hold it: `Feedbacks:` then one block per review."""
    n = rng.choice([0, 0, 1, 1, 2, 3, 4, 6])
    if n == 0:
        return "\n    Feedbacks:\n    No feedbacks found.\n"
    blocks = []
    for _ in range(n):
        good = rng.random() < 0.88
        score = "5/5" if good and rng.random() < 0.85 else (
            rng.choice(["4/5", "3/5"]) if good else rng.choice(["0/5", "1/5", "2/5"]))
        lang = rng.choice(langs) if rng.random() < 0.6 else rng.choice(LANGS)
        text = rng.choice(FEEDBACK["good" if good else "bad"][lang])
        blocks.append(
            "\n                \n                    " + score + "\n                    " + text
            + "\n                    \n\n                    " + f"{rng.randint(0, 9)} days ago"
            + "\n                    " + rng.choice(BUYER_TAGS) + "\n                \n            "
        )
    return "\n    Feedbacks:\n    \n        \n            " + "".join(blocks) + "\n        \n    \n"


def agora_from_to(offer: Offer, rng: random.Random, style: str) -> tuple[str, str | None]:
    """(`from`, `to`) cells; January pages kept line breaks, February ones were flattened."""
    if len(offer.vendor.origins) > 1:
        where = " & ".join(COUNTRY[o][1] for o in offer.vendor.origins)
    else:
        where = COUNTRY[offer.origin][1]
        if where == "Undeclared":
            where = "Undeclared;)"
    to = rng.choice(AGORA_SHIP_TO) if rng.random() < 0.5 else None
    if style == "jan":
        return f"\n       {where}\n    \n    ", (f"{to}\n    " if to else None)
    if to and rng.random() < 0.5:
        return f" From: {where} To: {to} ", None
    return (f" From: {where} " if rng.random() < 0.5 else f" {where} "), (
        f"{to}\n    " if to else None)


def price_table(offer: Offer, rng: random.Random) -> str:
    """`10g - 70 EUR / 25g - 160 EUR`, in the vendor's own notation."""
    product, lang = offer.product, offer.lang
    sizes = product.sizes[:3] + product.sizes[3:][-1:]  # the small offers and the bulk one
    level = offer.prices_eur[0] / offer_price_eur(product, offer.sizes[0], 1.0)
    cur = "EUR" if offer.origin in EU else "GBP" if offer.origin == "UK" else "USD"
    entries = []
    for q in sizes:
        amount = round(offer_price_eur(product, q, level) * EUR_TO[cur])
        qty = (num(q, lang) + "g") if product.unit == "g" else (
            f"{thousands(int(q), lang)} {'stuks' if lang == 'nl' else PILL_WORDS[lang][0]}"
            if product.unit in ("pill", "tab") else quantity_text(product, q, lang, rng))
        money = {"USD": f"${amount}", "GBP": f"£{amount}"}.get(cur) or rng.choice(
            [f"{thousands(amount, lang)} EUR", f"{thousands(amount, lang)}€"])
        entries.append(f"{qty} - {money}")
    return rng.choice([" / ", " | "]).join(entries)


def agora_description(offer: Offer, rng: random.Random) -> str:
    """A description preview: the title, then about 200 characters of text, cut off with ' ...'."""
    lang = offer.lang
    parts = []
    if offer.product.unit != "item":
        parts.append(price_table(offer, rng) + ".")
    if offer.origin in COUNTRY_IN:
        parts.append(SHIPS_FROM[lang].format(name=COUNTRY_IN[offer.origin][LANGS.index(lang)]))
    if rng.random() < 0.7:
        parts.append(rng.choice(EXCLUSIONS[lang]))
    if offer.purity is not None:
        parts.append(rng.choice(PURITY[lang]).format(p=offer.purity) + ".")
    parts.append(rng.choice(INTRO[lang]).format(name=offer.name))
    parts.append(STEALTH[lang])
    body = " ".join(parts)
    if len(body) > 200:
        body = body[:200] + " ..."
    return f"{offer.title} {body}"


def agora_files(rng: random.Random) -> dict[str, list[list[str | None]]]:
    jan_dates, feb_dates = ["2014-01-01", "2014-01-09", "2014-01-16"], ["2014-02-02", "2014-02-05"]
    header = ["list", "date", "vendor", "product", "price", "cat", "subcat", "subsubcat",
              "feedback", "from", "to"]
    jan, feb, previews = [header], [header], [["date", "vendor", "product", "description",
                                               "price", "from", "to"]]
    for vendor in VENDORS:
        if "agora" not in vendor.markets:
            continue
        for offer in vendor_offers(vendor, "agora", rng.randint(3, 6), rng):
            pid = page_id(rng)
            cat = list(AGORA_PATH[offer.product.key])
            langs = (offer.lang,)
            # a listing page is seen on one or two January crawls and often again in February
            seen = [("jan", d) for d in sorted(rng.sample(jan_dates, rng.choice([1, 1, 1, 2])))]
            if rng.random() < 0.6:
                seen.append(("feb", rng.choice(feb_dates)))
            for style, date in seen:
                frm, to = agora_from_to(offer, rng, style)
                row = [f"{date}__{pid}.html", date, offer.handle, offer.title,
                       btc(offer.prices_eur[0], date), *cat, feedback_block(rng, langs), frm, to]
                (jan if style == "jan" else feb).append(row)
            date = rng.choice(["2014-01-01", "2014-01-16"])
            origin = COUNTRY[offer.origin][1] if offer.vendor.origins[0] else None
            if origin == "Undeclared":
                origin = rng.choice(["Undeclared", "undeclared"])
            previews.append([date, offer.handle, offer.title, agora_description(offer, rng),
                             btc(offer.prices_eur[0], date), origin,
                             rng.choice(["Worldwide", "EU", "WORLDWIDE", None])])
    return {"products-2014-01-01.csv": jan, "products-2014-02-01.csv": feb,
            "vendorall_0114.csv": previews}


# --- writers ----------------------------------------------------------------------------------
def write_plain_csv(path: Path, rows: list[list[str]], newline: str) -> None:
    """Quote-when-needed CSV, as the DWData exports are written (DrugHub with CRLF)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def write_r_csv(path: Path, rows: list[list[str | None]]) -> None:
    """R `write.csv` style of the Agora files: text quoted, prices bare, missing as bare NA."""
    def cell(value: str | None, column: str) -> str:
        if value is None:
            return "NA"
        if column == "price":
            return value
        return '"' + value.replace('"', '""') + '"'
    header = rows[0]
    lines = [",".join(f'"{h}"' for h in header)]
    lines += [",".join(cell(v, c) for v, c in zip(row, header, strict=True)) for row in rows[1:]]
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


def generate(out: Path, seed: int = 42) -> dict[str, int]:
    """Write all sample market files under `out`; returns rows per file."""
    rng = random.Random(seed)
    counts = {}
    folder = out / "darkmatter"
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in darkmatter_rows(rng).items():
        write_plain_csv(folder / name, rows, "\n")
        counts[f"darkmatter/{name}"] = len(rows) - 1
    folder = out / "drughub"
    folder.mkdir(parents=True, exist_ok=True)
    rows = drughub_rows(rng)
    write_plain_csv(folder / "drughub_full_scrape_digitalandphysical.csv", rows, "\r\n")
    counts["drughub/drughub_full_scrape_digitalandphysical.csv"] = len(rows) - 1
    folder = out / "agora"
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in agora_files(rng).items():
        write_r_csv(folder / name, rows)
        counts[f"agora/{name}"] = len(rows) - 1
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    counts = generate(args.out, args.seed)
    for name, n in counts.items():
        print(f"{n:5d}  {args.out / name}")
    print(f"{sum(counts.values()):5d}  rows in all")


if __name__ == "__main__":
    main()
