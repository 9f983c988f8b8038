"""The triage model's labels: four levels and the red-flag categories it names, with what each means.

The categories are DESIGN.md's red flags plus the Emergency Severity Index's level 1-2 criteria and the adult
and paediatric telephone-triage protocols' "call 911 / go to the ED now" dispositions, as a checklist:

- ESI 1 (immediate life-saving intervention): unresponsive, not breathing or gasping, pulseless, severe
  respiratory distress, SpO2 < 90, anaphylaxis, status seizure, major trauma, hypoglycaemia with altered
  mental status -> ``unresponsive``, ``breathing``, ``anaphylaxis``, ``seizure``, ``major_trauma``,
  ``diabetic_emergency``, ``abnormal_vitals``.
- ESI 2 (high risk, confused/lethargic/disoriented, severe pain or distress, danger-zone vital signs):
  chest pain suspicious for ACS, stroke signs, suicidal or homicidal, overdose, sepsis signs, ectopic or
  pregnancy bleeding, testicular torsion, acute vision loss or chemical eye injury, severe abdominal pain in
  an older adult, thunderclap headache, fever with stiff neck or purple rash, heavy bleeding, high-risk head
  injury, major burns, heat stroke or hypothermia, aortic dissection or a cold pulseless limb, severe
  dehydration -> the rest of the list below.
- Telephone-triage emergency dispositions (adult and paediatric): the same, plus fever in a baby under
  3 months, a child who is limp or will not wake, mental-health crisis (psychosis, danger to others).

Each category has a one-line label for staff and a verbalizer: the word whose first token the model's LM
head scores at the answer position (first tokens are unique; checked when the model loads).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["emergency", "urgent", "routine", "self_care"]
LEVELS: tuple[Level, ...] = ("emergency", "urgent", "routine", "self_care")
RANK: dict[str, int] = {"self_care": 0, "routine": 1, "urgent": 2, "emergency": 3}
# The level words the model scores (the first token of each, with its leading space).
LEVEL_WORDS: dict[str, str] = {"emergency": " emergency", "urgent": " urgent", "routine": " routine",
                               "self_care": " self"}


@dataclass(frozen=True)
class Category:
    id: str
    label: str  # for staff
    word: str  # verbalizer: its first token is the category's logit


CATEGORIES: tuple[Category, ...] = (
    Category("chest_pain", "Chest pain with warning signs", " chest"),
    Category("stroke", "Possible stroke signs", " stroke"),
    Category("breathing", "Severe trouble breathing", " breathing"),
    Category("anaphylaxis", "Possible severe allergic reaction", " allergy"),
    Category("bleeding", "Severe bleeding", " bleeding"),
    Category("suicide", "Suicidal thoughts or self-harm", " suicide"),
    Category("overdose", "Overdose or poisoning", " overdose"),
    Category("unresponsive", "Person unresponsive or collapsed", " collapse"),
    Category("seizure", "Seizure", " seizure"),
    Category("infant_fever", "Fever in a baby under 3 months", " infant"),
    Category("pregnancy_bleeding", "Pregnancy with heavy bleeding or severe pain", " pregnancy"),
    Category("worst_headache", "Sudden or worst-ever headache", " headache"),
    Category("altered_mental_status", "Sudden confusion or hard to wake", " confusion"),
    Category("sepsis", "Possible sepsis (infection with danger signs)", " sepsis"),
    Category("severe_abdominal_pain", "Severe abdominal pain with danger signs", " abdomen"),
    Category("head_injury", "Head injury with danger signs", " head"),
    Category("major_trauma", "Major injury", " trauma"),
    Category("diabetic_emergency", "Very low or very high blood sugar with symptoms", " diabetes"),
    Category("abnormal_vitals", "Dangerous vital signs", " pulse"),
    Category("severe_dehydration", "Severe dehydration", " dehydration"),
    Category("meningitis", "Possible meningitis (fever, stiff neck, rash)", " meningitis"),
    Category("burns", "Serious burn", " burns"),
    Category("eye_emergency", "Eye emergency (sudden vision loss, chemical, injury)", " eye"),
    Category("mental_health_crisis", "Mental-health crisis", " crisis"),
    Category("environmental", "Heat stroke, hypothermia, drowning, electric shock or a dangerous bite", " heat"),
    Category("testicular_torsion", "Sudden severe testicle pain", " testicular"),
    Category("aortic_or_vascular", "Possible aortic or blood-vessel emergency", " aorta"),
    Category("other_emergency", "Other emergency", " other"),
    Category("none", "No red flag", " none"),
)
CATEGORY_IDS: tuple[str, ...] = tuple(c.id for c in CATEGORIES)
EMERGENCY_CATEGORIES: tuple[str, ...] = tuple(c for c in CATEGORY_IDS if c != "none")
CATEGORY_LABELS: dict[str, str] = {c.id: c.label for c in CATEGORIES}

# Which fixed emergency answer a category gets (bot.triage.red_flags.emergency_message):
# 988 for a suicide or mental-health crisis, Poison Control (and 911) for an overdose, 911 otherwise.
CRISIS_LINE = frozenset({"suicide", "mental_health_crisis"})
POISON = frozenset({"overdose"})


def more_urgent(a: str, b: str) -> str:
    """The more urgent of two levels."""
    return a if RANK[a] >= RANK[b] else b
