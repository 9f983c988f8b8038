"""Identifiers told by what stands around them, and the parts of a name found that were left behind.

These passes run in both modes, after the recognizers and the joining passes of :mod:`bot.phi.extend`
and :mod:`bot.phi.cues`:

- :func:`shaped` finds identifiers by their form and a cue, not by any list: initials written with dots
  ("J.R. called"), an initial and a surname before a credential or after a sign-off dash ("-- K. Black,
  LPN"), a writer's lower-case initials that end a note ("... after 2pm. -jk"), a numbered road ("Hwy 12",
  "Route 9", "I-80"), a day of the month after "on the", "since the" ("on the 21st"), and a residence's
  room after a place's name ("at <ORG>, rm 12");
- :func:`devices` keeps a medical device's rare brand and model beside a device word ("my Glucara 2 sensor");
- :func:`joined_names` runs a name found over the words that belong to it: a particle between two parts
  ("<NAME> dos <NAME>", "van der"), a nickname in quotes between forename and surname ("<NAME> 'Bud'
  <NAME>"), a weekday or a month word that is a forename or a surname beside a name found ("Dr. <NAME>
  Friday", "for April <NAME>"), a short abbreviated forename before one ("Wm. <NAME>"), and the generic
  head of a workplace or a landmark after a name ("<ORG> plant", "<NAME> grain elevator", "<LOCATION>
  SNF").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from bot.phi.lexicon import Lexicon
from bot.phi.names import STOP_WORDS

Span = tuple[int, int, str]
NAMED = frozenset(["PERSON", "ORG", "LOCATION", "REDACTED"])

# dotted forms that are words, not someone's initials ("e.g.", "a.m.", "U.S.")
# (and the credentials and clinical abbreviations written that way: "M.D.", "P.O.", "E.R."; a medical abbreviation
# list would take names' initials too: "P.K.", "J.D." are abbreviations there)
_DOTTED_WORDS = frozenset(["eg", "ie", "am", "pm", "us", "uk", "usa", "vs", "ps", "rsvp", "asap", "phd", "dds", "nb", "cc",
                           "md", "do", "rn", "np", "pa", "lpn", "od", "po", "er", "iv", "im", "pt", "ot", "prn", "bid",
                           "tid", "qid", "qd", "hs", "ac", "pc", "npo", "dc", "ad", "bc", "ce", "ok", "tv", "dna", "or",
                           "icu", "ed", "gi", "ent", "ob", "sob", "uti", "ems", "bp", "hr", "va", "st"])
_DOTTED = re.compile(r"(?<![\w.])(?:[A-Z]\.){2,3}(?![\w])")
CREDENTIALS = (r"M\.?D\.?|D\.?O\.|R\.?N\.?|N\.?P\.?|P\.?A\.?-?C?|Ph\.?D\.?|LPN|LVN|CNA|CMA|MA|FNP|MSW|LCSW|PharmD|"
               r"RPh|DDS|CNM|APRN|RD|PT|OT|DPT|BSN|MSN|DNP|RRT|CRNA")
# "K. Black, LPN", "-- T. Long": an initial and a capitalised surname before a credential or after a sign-off dash
_INITIAL_SIGNED = re.compile(
    rf"\b[A-Z]\.[ \t]?[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?(?=,?[ \t]+(?:{CREDENTIALS})\b)|"
    r"(?:(?<=[-–—~][ \t])|(?<=[-–—~]))[A-Z]\.[ \t]?[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?(?=[ \t]*(?:,|$))", re.MULTILINE)
# "... call back after 2pm. -tk", "thanks, -JR": two or three letters after a dash that end the text or a line
_SIGNOFF_INITIALS = re.compile(r"(?:^|(?<=\s))[-–—~]{1,2}[ \t]?([A-Za-z]{2,3})[ \t]*(?=\n|$)")
# a numbered road: "Hwy 50", "Highway 9", "Route 12", "Rte. 3", "I-80", "County Road 14", "SR 22", "Exit 7"
# (an interstate's "I-" only after a word of travel: "I-131" is iodine)
_ROAD = re.compile(r"(?:\b(?i:hwy|highway|route|rte|interstate|county\s+road|state\s+road|farm\s+road|exit)\.?[ \t]?-?|"
                   r"(?:(?<=\bon )|(?<=\boff )|(?<=\btake )|(?<=\btook )|(?<=\bvia )|(?<=\bfrom )|(?<=\bnear )|(?<=\bby )|"
                   r"(?<=\bthe )|(?<=\bto )|(?<=\bat ))I-)\d{1,4}[A-Za-z]?\b(?![.,/:]\d)")
# a day of the month with no month: "on the 21st", "since the 3rd", "appt on the 14th"
_ORDINAL_DAY = re.compile(
    r"\b(?i:on|since|by|until|till|before|after|from|through|thru|starting|for)[ \t]+(?i:the)[ \t]+"
    r"((?:[12]?\d|3[01])(?i:st|nd|rd|th))\b(?=[ \t]*(?:[,.;:!?)\n]|$|(?i:w/)|(?i:at|and|or|with|to|when|but|so|because|"
    r"in|of|if|please|then|-)\b))")
# a residence's room, unit or apartment after a place's name: "at <ORG>, rm 118", "<LOCATION> room 22"
_ROOM = re.compile(r"[ \t]*,?[ \t]*(?i:room|rm|unit|apt|apartment|suite|ste)\.?[ \t]*#?[ \t]*\d{1,4}[A-Za-z]?\b")


# a workplace's or a landmark's generic head after its name: "<ORG> plant", "<NAME> grain elevator"; the second set
# only after a word that says what kind ("<ORG> distribution center", "<NAME> parish hall")
_WORKPLACE_HEADS = frozenset(["plant", "warehouse", "factory", "mill", "mills", "elevator", "tower", "depot",
                              "refinery", "cannery", "foundry", "quarry", "dealership", "shipyard"])
_KIND_HEADS = _WORKPLACE_HEADS | {"center", "centre", "hall", "yard", "yards", "station", "site"}
_WORKPLACE_MIDDLES = frozenset(["grain", "water", "feed", "paper", "steel", "auto", "parish", "distribution",
                                "processing", "packing", "meat", "poultry", "lumber", "saw", "rail", "truck",
                                "fulfillment", "fulfilment", "assembly", "bottling", "power", "recycling"])
# the last digits of a number on file: "the number ending 4410", "card ending in 0923", "last 4 are 1187"
_ENDING = re.compile(r"\b(?i:ending(?:[ \t]+(?:in|with))?|last[ \t]+(?:4|four|3|three)(?:[ \t]+digits)?(?:[ \t]+(?:are|is|of))?)"
                     r"[ \t:#-]*(\d{3,6})\b")
# an account's name: "my username is jdoe_77", "login: BigSky4", "kakao id is ..."
_HANDLE = re.compile(r"\b(?i:user[ \t]?name|login|log-in|handle|screen[ \t]?name|gamertag|[a-z]+[ \t]+id)"
                     r"[ \t]*(?i:is|:|=|was)[ \t]*([A-Za-z0-9][\w.-]{2,40}[A-Za-z0-9])")
# a number in two dashed groups with a long or zero-led second group: "booking #2023-11807", "24-008812"
_DASHED_ID = re.compile(r"(?<![\w/.-])\d{1,4}-(?:0\d{4,7}|\d{5,8})(?![\w/]|[.-]\d)")
# a pet's name: "my dog Biscuit", "our cat named Pepper"
_PET = re.compile(r"\b(?i:my|our|his|her|their|the)[ \t]+(?i:dog|cat|puppy|kitten|horse|pony|pet|parrot|bird|rabbit|"
                  r"hamster|bunny|goat)[ \t]+(?:(?i:named|called)[ \t]+)?([A-Z][a-z'’-]+)\b")
# a workplace or a landmark, capitalised words before a generic head: "at the Acme plant", "past the old Cole grain elevator"
_HEADED_PLACE = re.compile(r"\b(?i:the|at|near|by|behind|past|from|of)[ \t]+(?:(?i:old|new|big)[ \t]+)?"
                           r"((?:[A-Z][\w'’&-]*[ \t]+){1,3}"
                           rf"(?:(?:{'|'.join(sorted(_WORKPLACE_HEADS))})|(?:{'|'.join(sorted(_WORKPLACE_MIDDLES))})[ \t]+"
                           rf"(?:{'|'.join(sorted(_KIND_HEADS))})))\b")


SIGN_OFF_ZIPF = 4.0  # a word this common ending a note is a word, not initials


def shaped(text: str, lex: Lexicon) -> list[Span]:
    """Identifiers told by their form and a cue (see the module docstring); the room after a place is
    :func:`joined_names`'s."""
    from wordfreq import zipf_frequency

    out: list[Span] = []
    for m in _DOTTED.finditer(text):
        bare = m.group(0).replace(".", "").lower()
        if bare not in _DOTTED_WORDS:
            out.append((m.start(), m.end(), "PERSON"))
    out += [(m.start(), m.end(), "PERSON") for m in _INITIAL_SIGNED.finditer(text)]
    for m in _SIGNOFF_INITIALS.finditer(text):
        w = m.group(1).lower()
        if w not in lex.abbreviations and w not in lex.clinical and w not in STOP_WORDS and \
                (m.group(1).isupper() or zipf_frequency(w, "en") < SIGN_OFF_ZIPF):  # "-tk", "- JR", not "-ok" or "- me"
            out.append((m.start(1), m.end(1), "PERSON"))
    out += [(m.start(), m.end(), "LOCATION") for m in _ROAD.finditer(text)]
    out += [(m.start(1), m.end(1), "DATE") for m in _ORDINAL_DAY.finditer(text)]
    out += [(m.start(1), m.end(1), "OTHER_ID") for m in _ENDING.finditer(text)]
    out += [(m.start(), m.end(), "OTHER_ID") for m in _DASHED_ID.finditer(text)]
    out += [(m.start(1), m.end(1), "PERSON") for m in _PET.finditer(text) if m.group(1).lower() not in STOP_WORDS]
    for m in _HANDLE.finditer(text):
        value = m.group(1)
        if re.search(r"[\d_]|[a-z][A-Z]", value) or value.lower() not in lex.safe:
            out.append((m.start(1), m.end(1), "OTHER_ID"))  # "jdoe_77", "BigSky": no word of the language
    for m in _HEADED_PLACE.finditer(text):
        if not all(w.lower() in lex.clinical for w in m.group(1).split() if w[0].isupper()):
            out.append((m.start(1), m.end(1), "ORG"))  # "the Acme plant", not "the Lasix pump"
    return out


PARTICLES = frozenset(["da", "de", "del", "della", "di", "do", "dos", "das", "du", "van", "von", "der", "den", "ter",
                       "la", "le", "bin", "ibn", "al", "el", "y", "e", "ben", "bat", "mac", "st"])
CALENDAR_WORDS = frozenset(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
                            "february", "april", "may", "june", "july", "august", "september", "october",
                            "november", "december"])
# words before a weekday or a month that make it the date, not a name ("on Friday", "since June", "last May")
_DATE_BEFORE = frozenset(["on", "since", "by", "until", "till", "before", "after", "from", "next", "last", "this",
                          "every", "each", "of", "in", "through", "thru", "early", "late", "mid", "a", "the", "that",
                          "til", "and", "or", "to", "-"])
# facility abbreviations that head a name in capitals: "Maple Grove SNF", "Oak Hill ALF"
_FACILITY_HEADS = re.compile(r"[ \t]+(?:SNF|ALF|LTC|LTACH|AFH|ILF|NH|CCRC|ECF|ICF)\b")
# abbreviations with a dot that a name follows and that are no forename: titles, saints, suffixes, "Pt."
_NOT_FORENAMES = frozenset(["dr", "mr", "ms", "mrs", "st", "mt", "ft", "jr", "sr", "pt", "no", "vs", "re", "fx", "hx", "rx",
                            "tx", "dx", "sgt", "lt", "col", "gen", "cpt", "rev", "hon", "fr", "sis", "br", "pr", "ref"])
_QUOTED = re.compile(r"[ \t]+['‘\"“]([A-Z][\w'’-]*(?:[ \t][A-Z][\w'’-]*)?)['’\"”][ \t]+")


def joined_names(text: str, spans: Sequence[Span], lex: Lexicon) -> list[Span]:
    """A name found, run over its particles, nickname, weekday or month word, abbreviated forename and generic
    head (see the module docstring)."""
    out: list[Span] = []
    named = sorted(s for s in spans if s[2] in NAMED)
    for (s1, e1, k1), (s2, e2, _) in itertools.pairwise(named):
        gap = text[e1:s2]
        words = gap.split()
        if k1 == "PERSON" and words and len(words) <= 2 and all(w.lower() in PARTICLES for w in words) and \
                re.fullmatch(r"[ \t]+(?:\S+[ \t]+){1,2}", gap):
            out.append((s1, e2, "PERSON"))  # "<NAME> dos <NAME>", "<NAME> van der <NAME>"
        elif _QUOTED.fullmatch(gap) and k1 in ("PERSON", "ORG", "REDACTED"):
            out.append((s1, e2, "PERSON"))  # "<NAME> 'Bud' <NAME>": a nickname between the two
    for start, end, entity in named:
        out += _around_one(text, start, end, entity, lex)
    return out


def _around_one(text: str, start: int, end: int, entity: str, lex: Lexicon) -> list[Span]:
    out: list[Span] = []
    if entity == "PERSON":  # (not "sent to <REDACTED> Monday": a word no list knows may be a shop's)
        after = re.match(r"[ \t]([A-Z][a-z]+)\b(?![ \t]*(?:\d|the\b|[,.]?[ \t]*\d))", text[end:])
        if after and after.group(1).lower() in CALENDAR_WORDS:
            out.append((start, end + after.end(), "PERSON"))  # "Dr. <NAME> Sunday"
        before = re.search(r"(?:^|(?<=[\s(]))(?:(\S+)[ \t]+)?([A-Z][a-z]+)[ \t]$", text[max(0, start - 40) : start])
        if before and before.group(2).lower() in CALENDAR_WORDS and (
                before.group(1) is None or before.group(1).lower().strip(",.:;(") not in _DATE_BEFORE):
            out.append((start - len(before.group(2)) - 1, end, "PERSON"))  # "Rx for Sunday <NAME>"
    if entity in ("PERSON", "REDACTED"):
        # after a field's colon, a comma or a bracket, or opening a line: no sentence ends there
        abbreviated = re.search(r"(?:^|[:,(][ \t]*)([A-Z][a-z]{1,2})\.[ \t]$", text[max(0, start - 8) : start], re.MULTILINE)
        if abbreviated and abbreviated.group(1).lower() not in _NOT_FORENAMES:
            out.append((start - len(abbreviated.group(1)) - 2, end, "PERSON"))  # "Ma. <NAME>", "Wm. <NAME>"
    head = re.match(r"(?:[ \t]+([a-z]+))?[ \t]+([a-z]+)\b", text[end:])
    if head and ((head.group(1) is None and head.group(2) in _WORKPLACE_HEADS)
                 or (head.group(1) in _WORKPLACE_MIDDLES and head.group(2) in _KIND_HEADS)):
        out.append((start, end + head.end(), "ORG"))  # "<ORG> plant", "<NAME> grain elevator"
    elif head and head.group(1) in _WORKPLACE_HEADS:
        out.append((start, end + len(head.group(0)) - len(head.group(2)) - 1, "ORG"))  # "<ORG> warehouse by ..."
    facility = _FACILITY_HEADS.match(text, end)
    if facility:
        out.append((start, facility.end(), "ORG"))  # "<LOCATION> SNF"
        end = facility.end()
    if entity in ("ORG", "LOCATION", "REDACTED"):
        room = _ROOM.match(text, end)
        if room:
            out.append((end + len(room.group(0)) - len(room.group(0).lstrip(" \t,")), room.end(), "ADDRESS"))
    return out


_FRACTION = re.compile(r"\d{1,2}/\d{1,2}")
_AREA = re.compile(r"\d+m[23]")
_DECADE = re.compile(r"\d{2,3}['’]?s")


def after_drug(text: str, start: int, lex: Lexicon) -> bool:
    """A rare clinical word (a drug's name, not "seen" or "since") stands just before ``start``."""
    from wordfreq import zipf_frequency

    before = re.search(r"([A-Za-z]{4,})[ \t]+$", text[max(0, start - 30) : start])
    return before is not None and before.group(1).lower() in lex.clinical and zipf_frequency(before.group(1).lower(), "en") < 3.0


def not_identifier(text: str, entity: str, start: int, end: int, lex: Lexicon) -> bool:
    """A recognizer's DATE that is a dose after a drug's name ("Suboxone 8/2", "Entresto 24/26"), a code that is the
    unit of a decimal ("1.73m2"), or a range of readings ("running 200s"; an age in the 90s is the strict pass's)."""
    span = text[start:end]
    if entity in ("DATE", "DOB") and _FRACTION.fullmatch(span):
        return after_drug(text, start, lex)
    if entity == "OTHER_ID" and _DECADE.fullmatch(span):
        return True
    return entity == "OTHER_ID" and bool(_AREA.fullmatch(span)) and bool(re.search(r"\d\.$", text[max(0, start - 2) : start]))


# A medical device's brand and model, told by the device word beside it: "my Vela 3 sensor", "CPAP (Nuvo
# Breeze 10)", "on Glidepod 5". The brand is a rare capitalised word that is no name and no place.
_DEVICE_NOUNS = (r"sensors?|pumps?|pods?|meters?|monitors?|cuff|inhalers?|pens?|mask|machine|reader|app|patch|patches|"
                 r"strips|cgm|device|receiver|transmitter|cartridges?|dressings?|nebulizer|glucometer")
_BRAND = r"[A-Z][A-Za-z]+(?:[ \t][A-Z][A-Za-z]+)?"
_MODEL = r"(?:[ \t](?:[A-Z]{0,2}\d{1,2}[A-Za-z]?|Plus|Pro|Mini|Max|X))?"
_DEVICE = re.compile(
    rf"(?i:\b(?:cgm|cpap|bipap|apap|pump|meter|monitor|glucometer|inhaler|nebulizer|sensor|device)[ \t]*\([ \t]*)"
    rf"(?P<a>{_BRAND}{_MODEL})[ \t]*\)|"
    rf"\b(?P<b>{_BRAND}{_MODEL})(?=[ \t]+(?i:{_DEVICE_NOUNS})\b)|"
    rf"(?i:\b(?:my|her|his|their|on|using|wearing|new)[ \t]+)(?P<c>[A-Z][A-Za-z]+[ \t](?:[A-Z]{{0,2}}\d{{1,2}}[A-Za-z]?))\b(?![.,/:-]\d)")
BRAND_ZIPF = 3.9  # a brand is a word this rare or rarer ("Libre" 2.9, "FreeStyle" 3.8; not "Guardian" or "Route")
RARE_ZIPF = 3.0  # and one of its words rarer still


def devices(text: str, lex: Lexicon) -> list[tuple[int, int]]:
    """Spans of medical devices' brands and models, kept as clinical content in both modes."""
    from wordfreq import zipf_frequency

    out = []
    for m in _DEVICE.finditer(text):
        group = next(g for g in ("a", "b", "c") if m.group(g))
        words = re.findall(r"[A-Za-z]+", m.group(group))
        brand = [w.lower() for w in words if w[0].isupper() and not re.fullmatch(r"[A-Z]{0,2}|Plus|Pro|Mini|Max", w)]
        if not brand or any(lex.is_name(w) or w in lex.places or w in STOP_WORDS for w in brand):
            continue
        zipfs = [zipf_frequency(w, "en") for w in brand]
        if max(zipfs) < BRAND_ZIPF and min(zipfs) < RARE_ZIPF:
            out.append(m.span(group))
    return out
