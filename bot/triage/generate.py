"""Variety on top of the hand-written triage messages: numbers, rambling, SMS shorthand (deterministic).

- ``vitals``: vital signs and meter readings as numbers ("O2 84", "pulse 38", "BP 210/125", "sugar 41",
  "temp 105"), each with a short hand-written context, labelled by the danger-zone rules below (ESI danger-zone
  vital signs; telephone-triage cut-offs), on both sides of every cut-off.
- ``ramble``: a short hand-written message set in the middle of a long one made of neutral sentences.
- ``sms``: a copy of a hand-written message in SMS shorthand with a typo.

Every generated item keeps its source's group, so it lands in the same split.
"""

from __future__ import annotations

import random
import re

from bot.triage.items import Item, group_of

# -- vital signs -------------------------------------------------------------------------------------------
_WHO = ["my", "my dad's", "my mom's", "my husband's", "my wife's", "grandma's", "grandpa's", "my son's",
        "my daughter's", "the patient's", "his", "her", "my partner's", "my uncle's", "my aunt's"]
_CALM = ["feels fine otherwise", "no other symptoms", "just checking if that's ok", "took it twice, same number",
         "is that normal?", "should I worry", "just wanted to report it", "it was the home machine",
         "other than that doing ok", "eating and drinking fine"]


def _o2(rng: random.Random) -> Item:
    value = rng.choice([78, 80, 82, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99])
    unit = rng.choice(["O2 {v}", "oxygen {v}%", "pulse ox says {v}", "sat {v}", "spo2 {v}", "o2 sat is {v}",
                       "oxygen level {v}", "the finger thing says {v}"]).format(v=value)
    short = rng.random() < 0.5
    context = rng.choice(["breathing fast", "lips look a bit gray", "can't finish a sentence",
                          "working hard to breathe", "very short of breath"] if short else [*_CALM, "has a cold"])
    text = f"{rng.choice(_WHO)} {unit}, {context}"
    if value < 90 or (value <= 91 and short):
        return Item(text, "emergency", "breathing" if short else "abnormal_vitals", "", "vitals")
    if value <= 93 or short:
        return Item(text, "urgent", "none", "", "vitals")
    return Item(text, "self_care", "none", "", "vitals")


def _pulse(rng: random.Random) -> Item:
    value = rng.choice([28, 32, 35, 38, 40, 42, 45, 48, 52, 58, 64, 72, 88, 96, 104, 112, 118, 124, 132, 140,
                        148, 155, 162, 170, 180, 190])
    unit = rng.choice(["pulse {v}", "heart rate {v}", "hr {v}", "pulse is {v}", "heart rate is {v} at rest",
                       "watch says heart rate {v}"]).format(v=value)
    symptoms = rng.random() < 0.55
    context = rng.choice(["dizzy and sweaty", "feels like passing out", "very weak and pale", "nearly fainted"]
                         if symptoms else [*_CALM, "sitting on the couch"])
    text = f"{rng.choice(_WHO)} {unit}, {context}"
    if value <= 40 or value >= 150 or (symptoms and (value < 50 or value >= 130)):
        return Item(text, "emergency", "abnormal_vitals", "", "vitals")
    if value < 50 or value >= 120 or symptoms:
        return Item(text, "urgent", "none", "", "vitals")
    return Item(text, "routine" if value >= 100 or value < 55 else "self_care", "none", "", "vitals")


def _bp(rng: random.Random) -> Item:
    sys_, dia = rng.choice([(72, 40), (78, 48), (84, 50), (92, 58), (104, 66), (118, 76), (132, 84), (146, 92),
                            (158, 98), (166, 102), (174, 106), (182, 112), (190, 114), (198, 118), (210, 125),
                            (220, 130), (236, 138)])
    unit = rng.choice(["BP {s}/{d}", "blood pressure {s}/{d}", "bp is {s} over {d}", "pressure {s}/{d}",
                       "cuff says {s}/{d}"]).format(s=sys_, d=dia)
    danger = rng.random() < 0.5
    if sys_ < 95:
        context = rng.choice(["dizzy and clammy", "nearly passed out standing up", "confused and cold"]
                             if danger else ["feels fine, always runs low", "no symptoms, is that ok"])
    elif sys_ >= 170:
        context = rng.choice(["with a pounding headache and blurry vision", "and chest pain", "and confused",
                              "and one arm feels weak", "and short of breath"] if danger else _CALM)
    else:
        context = rng.choice(["slight headache", "a little stressed"] if danger else _CALM)
    text = f"{rng.choice(_WHO)} {unit} {context}"
    if sys_ < 80 or (sys_ < 95 and danger) or (sys_ >= 180 and danger):
        return Item(text, "emergency", "abnormal_vitals", "", "vitals")
    if sys_ >= 180 or dia >= 110 or (sys_ >= 170 and danger):
        return Item(text, "urgent", "none", "", "vitals")
    return Item(text, "routine" if sys_ >= 140 or sys_ < 95 else "self_care", "none", "", "vitals")


def _sugar(rng: random.Random) -> Item:
    value = rng.choice([28, 34, 38, 41, 45, 49, 52, 58, 63, 68, 74, 96, 128, 165, 210, 260, 310, 360, 420, 480,
                        540, 600])
    unit = rng.choice(["sugar {v}", "blood sugar {v}", "glucose {v}", "bs {v}", "meter says {v}", "cgm reading {v}",
                       "sugar is {v}"]).format(v=value)
    bad = rng.random() < 0.5
    if value < 70:
        context = rng.choice(["confused and sweaty, can't get her to drink juice", "won't wake up properly",
                              "slurring and shaky", "not making sense"] if bad
                             else ["had juice and now 110", "felt shaky, ate crackers, fine now"])
    elif value >= 250:
        context = rng.choice(["throwing up and breathing fast", "very drowsy and fruity breath",
                              "confused and vomiting"] if bad else ["really thirsty", "feels ok", *_CALM])
    else:
        context = rng.choice(["a bit tired", "feels ok", *_CALM])
    text = f"{rng.choice(_WHO)} {unit}, {context}"
    if bad and (value < 70 or value >= 250):
        return Item(text, "emergency", "diabetic_emergency", "", "vitals")
    if value < 55 or value >= 300:
        return Item(text, "urgent", "none", "", "vitals")
    return Item(text, "routine" if value >= 180 or value < 70 else "self_care", "none", "", "vitals")


def _temp(rng: random.Random) -> Item:
    value = rng.choice([94.2, 95.0, 99.1, 100.2, 100.4, 100.8, 101.3, 101.9, 102.4, 102.9, 103.3, 103.8, 104.1,
                        104.6, 105.0, 105.4, 106.0])
    baby = rng.random() < 0.3
    old = not baby and rng.random() < 0.2
    who = rng.choice(["3 week old", "6 week old", "2 month old", "10 week old"] if baby
                     else ["mom (84)", "92 year old grandpa", "dad, he's 79"] if old
                     else ["7 year old", "dad", "wife", "husband", "15 year old", "roommate"])
    context = rng.choice(["no other symptoms", "drinking ok", "a bit fussy", "achy", "has a cough"])
    text = f"{who} temp {value:g} {context}" if rng.random() < 0.5 else f"temp {value:g} in my {who}, {context}"
    if baby and value >= 100.4:
        return Item(text, "emergency", "infant_fever", "", "vitals")
    if value >= 105 or value < 95:
        return Item(text, "emergency", "environmental" if value < 95 else "other_emergency", "", "vitals")
    if value >= 103 or (old and value >= 100.4) or value == 95.0:
        return Item(text, "urgent", "none", "", "vitals")
    return Item(text, "routine" if baby else "self_care", "none", "", "vitals")


_VITALS = [_o2, _pulse, _bp, _sugar, _temp]

# -- rambling ----------------------------------------------------------------------------------------------
_OPENERS = [
    "Hi, sorry to bother you on a busy day.", "Hello, this is a bit of a long one, sorry.", "Good morning.",
    "Hey it's me again, from last week.", "Not sure if this is the right number to text but here goes.",
    "Hi there, hope your week is going ok.", "Hello doctor's office,", "ok so long story,",
    "So I wasn't going to message but my sister said I should.", "Hi, quick question, well maybe not so quick.",
]
_FILLER = [
    "We just got back from my in-laws' place and the drive was four hours.",
    "I have been meaning to call about my refill too but that can wait.",
    "The weather has been awful here and the kids have been stuck inside all week.",
    "My insurance changed in January so I'm not sure what you have on file.",
    "I work nights so sorry for the odd hour.", "We had pizza for dinner, nothing unusual.",
    "Also the portal won't let me log in, it keeps saying my password expired.",
    "My husband says I worry too much, and maybe that's true.",
    "I tried calling earlier but the line was busy.", "Our dog has been sick too, but that's a different story.",
    "I'm typing this on my phone so sorry for typos.", "We moved here in the spring so we're still new to the clinic.",
    "I also need to reschedule my physical at some point.", "Work has been crazy and I haven't slept much.",
    "My mom always said not to bother the doctor over little things.",
    "I read a bunch of stuff online and now I'm more confused.", "She has her recital on Saturday too.",
    "We were at the park most of the afternoon.", "The pharmacy was out of the brand we usually get.",
    "I'm at my daughter's house this week helping with the baby.",
]
_CLOSERS = [
    "Anyway what do you think?", "Let me know, thanks.", "Thanks for reading all this.", "Sorry for the novel.",
    "Should I bring him in or what?", "Thank you so much.", "Please advise.", "thx",
    "Call me back when you can.", "Anyway, sorry, just let me know what to do.",
]


def _ramble(core: Item, rng: random.Random) -> Item:
    before = rng.sample(_FILLER, rng.randint(1, 2))
    after = rng.sample([f for f in _FILLER if f not in before], rng.randint(1, 2))
    core_text = core.text if core.text[-1:] in ".!?" else core.text + "."
    parts = [rng.choice(_OPENERS), *before, core_text[0].upper() + core_text[1:], *after, rng.choice(_CLOSERS)]
    return Item(" ".join(parts), core.level, core.category, core.group, "ramble")


# -- SMS shorthand -----------------------------------------------------------------------------------------
_SHORT = {"you": "u", "your": "ur", "are": "r", "with": "w", "because": "bc", "please": "pls", "tonight": "2nite",
          "today": "2day", "tomorrow": "tmrw", "about": "abt", "really": "rly", "right now": "rn", "before": "b4",
          "for": "4", "to": "2", "and": "n", "people": "ppl", "though": "tho", "don't": "dont", "can't": "cant",
          "i'm": "im", "won't": "wont", "doesn't": "doesnt", "isn't": "isnt", "hours": "hrs", "minutes": "mins",
          "know": "kno", "what": "wat", "think": "thk", "something": "smth", "someone": "sum1", "probably": "prob"}


def _sms(item: Item, rng: random.Random) -> Item:
    text = item.text.lower().replace("’", "'")
    for long, short in _SHORT.items():
        if rng.random() < 0.6:
            text = re.sub(rf"\b{re.escape(long)}\b", short, text)
    text = re.sub(r"[.,;!?]+(\s|$)", r" \1" if rng.random() < 0.5 else r"\1", text).strip()
    words = text.split()
    long_words = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    if long_words:
        i = rng.choice(long_words)
        j = rng.randrange(1, len(words[i]) - 1)
        w = words[i]
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if rng.random() < 0.5 else w[:j] + w[j + 1:]
    return Item(" ".join(words), item.level, item.category, item.group, "sms")


def generated(hand: list[Item], *, seed: int = 7, vitals: int = 320, ramble_share: float = 0.12,
              sms_share: float = 0.12) -> list[Item]:
    """The generated items for these hand-written ones (same seed, same items)."""
    rng = random.Random(seed)
    out: list[Item] = []
    seen = {i.group for i in hand}
    while len([i for i in out if i.source == "vitals"]) < vitals:
        item = rng.choice(_VITALS)(rng)
        group = group_of(item.text)
        if group not in seen:
            seen.add(group)
            out.append(Item(item.text, item.level, item.category, group, "vitals"))
    for item in hand:
        words = len(item.text.split())
        if words <= 25 and rng.random() < ramble_share:
            out.append(_ramble(item, rng))
        if words <= 40 and rng.random() < sms_share:
            copy = _sms(item, rng)
            if copy.text != item.text.lower():
                out.append(copy)
    return out
