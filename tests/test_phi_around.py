"""Identifiers told by their context and the parts of a name left behind (bot/phi/around.py), transcripts'
speaker labels, and clinical values the scrubber used to take (times, readings in the hundreds, doses after a
drug, procedure codes, devices' brands). Example texts written for these tests.

These load spaCy, Presidio and the word lists, so they are marked slow.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.phi import Scrubber, get_scrubber

pytestmark = pytest.mark.slow
ALLOW = ("Maple Street Family Medicine", "Dr. Patel")


@pytest.fixture(scope="module", params=["strict", "preview"])
def scrubber(request: pytest.FixtureRequest) -> Iterator[Scrubber]:
    yield get_scrubber(ALLOW, request.param)


GONE = [
    # initials with dots, an initial and a surname before a credential, a writer's initials ending a note
    ("P.K. phoned about the refill of lisinopril", ["P.K."], ["lisinopril"]),
    ("Reviewed the chart, no changes. -- D. Rivers, RN", ["Rivers"], ["Reviewed the chart"]),
    ("Mother asked for a call back after 4pm. -mq", ["mq"], ["after 4pm"]),
    # numbered roads and exits
    ("lives out on Highway 61 past the bridge, then Route 7", ["61", "7"], []),
    # a day of the month with no month
    ("was seen in the ED on the 19th, ankle still swollen", ["19th"], ["ankle still swollen"]),
    # a residence's room after its name
    ("she lives at Birchwood Manor, rm 204 now", ["Birchwood", "204"], []),
    # particles, nicknames, abbreviated forenames, weekday and month words beside a name
    ("Lab result for Mariana Costa da Silva is ready", ["Mariana", "Costa", "Silva"], ["Lab result"]),
    ("resident Lionel 'Tank' Abernethy fell again", ["Lionel", "Tank", "Abernethy"], ["fell again"]),
    ("Intake: Wm. Harrington, 71, here for wound check", ["Wm", "Harrington"], ["wound check"]),
    ("Referral letter from Dr. Ines Friday about the MRI", ["Ines", "Friday"], ["MRI"]),
    # workplaces and landmarks with a generic head
    ("he works nights at the Brandt packing plant off the interstate", ["Brandt"], []),
    ("we are the house behind the Cortland water tower", ["Cortland"], []),
    ("discharged to Willow Bend SNF for therapy", ["Willow", "Bend", "SNF"], ["therapy"]),
    # numbers told by a cue: last digits on file, dashed ids, handles, pets
    ("call the number ending 7781 after lunch", ["7781"], []),
    ("case no. 21-0045817 was closed", ["21-0045817", "0045817"], []),
    ("my login is RedFox_1970 but it is locked", ["RedFox_1970"], []),
    ("our dog Waffles bit my hand yesterday, it is red", ["Waffles"], ["red"]),
    ("my nephew coaches youth soccer with the Ridgeview Rockets on weekends", ["Ridgeview", "Rockets"], []),
    # a large city of a country the town lists leave out (GeoNames, a million people or more)
    ("her brother flew in from Karachi and is staying with her", ["Karachi"], ["staying"]),
]


@pytest.mark.parametrize("text, gone, kept", GONE)
def test_identifiers_in_context_go(scrubber: Scrubber, text: str, gone: list[str], kept: list[str]) -> None:
    out = scrubber.scrub(text)
    for item in gone:
        assert item not in out, (item, out)
    for term in kept:
        assert term in out, (term, out)


KEPT = [
    # a transcript's speaker label is who speaks, not a name field; a capitalised name after it still goes
    ("Patient: hi, my sensor came off\nStaff: Any lows?\nPatient: two 58s after lunch\nStaff: Your name?\n"
     "Patient: Orla Brennigan", ["two 58s after lunch"], ["Orla", "Brennigan"]),
    ("Caller: I need my refill\nStaff: Which one?\nCaller: Xarelto 20\nStaff: ok", ["Xarelto 20"], []),
    # times, readings in the hundreds, doses after a drug's name, areas, procedure codes
    ("Voicemail left 7:41pm, sugars running 180s this week", ["7:41pm", "180s"], []),
    ("Taking Suboxone 4/1 daily, BSA 1.73m2", ["Suboxone 4/1", "1.73m2"], []),
    ("Billing: CPT 99213 denied, resubmit with modifier 25", ["99213"], []),
    # one lower-case everyday word is no entity of spaCy's; "a fall" or "took 2 Aleve." is no address
    ("left flank tenderness, stung by bee", ["flank", "bee"], []),
    ("Took 2 Aleve. Can Dr. Patel call me?", ["2 Aleve"], []),
    # a range is no identifier
    ("glucose 280-300 most mornings", ["280-300"], []),
    # iodine's I-131 is no interstate, ultrasound's "US 12" no road; an outline's "A. Hypertension," no initial;
    # a common word after a closing dash is no writer's initials; a floor and a dose are no day of the month
    ("Started I-131 therapy, US 12 weeks, CR 2 today", ["I-131", "US 12", "CR 2"], []),
    ("A. Hypertension, controlled on amlodipine", ["A. Hypertension"], []),
    ("Got the fax, all set -ok", ["-ok"], []),
    ("moved to the 3rd floor after the 2nd dose", ["3rd floor", "2nd dose"], []),
    # a medical device's rare brand and model beside a device word; a name in the same place still goes
    ("my Glucara 2 sensor fell off, CPAP (Somnex Vantrix 10) leaks, now on Insupod 4",
     ["Glucara 2 sensor", "Somnex Vantrix 10", "Insupod 4"], []),
    ("the Kowalski 3 sensor fell off", [], ["Kowalski"]),
]


@pytest.mark.parametrize("text, kept, gone", KEPT)
def test_clinical_content_stays(scrubber: Scrubber, text: str, kept: list[str], gone: list[str]) -> None:
    out = scrubber.scrub(text)
    for term in kept:
        assert term in out, (term, out)
    for item in gone:
        assert item not in out, (item, out)


def test_age_in_the_nineties_goes_in_strict() -> None:
    out = get_scrubber(ALLOW, "strict").scrub("lives alone, in her 90s, BP in the 130s")
    assert "90s" not in out and "130s" in out
