"""Phone numbers written as other countries write them, found with libphonenumber."""

from __future__ import annotations

import re

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts


class WorldPhoneRecognizer(LocalRecognizer):
    """Phone numbers written as other countries write them ("0161 496 0732", "07700 900 461", "+44 20 7946
    0958"), found with libphonenumber's matcher (the ``phonenumbers`` package Presidio depends on): a number
    libphonenumber holds valid, or a possible one written with a trunk "0" or a "+" and ten digits or more.
    The US shapes are :data:`PHONE_RULES`."""

    REGION = "GB"  # national numbers with a trunk 0; "+" numbers parse whatever the region
    _ip = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")

    def __init__(self, score: float = 0.7) -> None:
        self.score = score
        self.entity = "PHONE"
        super().__init__(supported_entities=["PHONE"], name="WorldPhoneRecognizer")

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        import phonenumbers

        if "PHONE" not in entities or sum(c.isdigit() for c in text) < 10:
            return []
        results = []
        for m in phonenumbers.PhoneNumberMatcher(text, self.REGION, leniency=phonenumbers.Leniency.POSSIBLE):
            raw = m.raw_string
            digits = sum(c.isdigit() for c in raw)
            if self._ip.fullmatch(raw):
                continue  # an IP address (IpRecognizer)
            if phonenumbers.is_valid_number(m.number) or (raw.lstrip("(")[:1] in ("0", "+") and digits >= 10):
                results.append(RecognizerResult(
                    entity_type="PHONE", start=m.start, end=m.end, score=self.score,
                    recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: "WorldPhoneRecognizer",
                                          RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
                ))
        return results
