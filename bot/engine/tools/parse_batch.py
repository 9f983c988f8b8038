"""Run with the ENGINE's Python (.venv-rasa): parse stdin lines with a trained model, one JSON per line.

Imports only Rasa and the standard library, never the project's packages.
Usage: python parse_batch.py MODEL_PATH FALLBACK_THRESHOLD < messages.txt
Each line out: {"text", "intent", "confidence", "entities", "fallback", "ranking": [[intent, confidence], ...]}.
"""

import asyncio
import json
import sys


async def main(model_path: str, threshold: float) -> int:
    # Rasa and its libraries print to stdout; keep stdout for our JSON lines only, and keep
    # Rasa's structured debug events (which quote the message text) switched off.
    out = sys.stdout
    sys.stdout = sys.stderr
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)
    agent = Agent.load(model_path)
    for raw in sys.stdin:
        text = raw.rstrip("\r\n")
        if not text.strip():
            out.write(json.dumps({"text": text, "intent": None, "confidence": 0.0, "entities": [],
                                  "fallback": True, "ranking": []}) + "\n")
            out.flush()
            continue
        result = await agent.parse_message(text)
        ranking = [r for r in result.get("intent_ranking", []) if r.get("name") != "nlu_fallback"]
        top = ranking[0] if ranking else (result.get("intent") or {})
        entities = [
            {k: e.get(k) for k in ("entity", "value", "start", "end")}
            for e in result.get("entities", [])
        ]
        out.write(json.dumps({
            "text": text,
            "intent": top.get("name"),
            "confidence": round(float(top.get("confidence") or 0.0), 4),
            "entities": entities,
            "fallback": (result.get("intent") or {}).get("name") == "nlu_fallback"
            or float(top.get("confidence") or 0.0) < threshold,
            # the classifier's top intents, so a confidence-and-margin rule can be measured offline
            "ranking": [[r.get("name"), round(float(r.get("confidence") or 0.0), 4)] for r in ranking[:5]],
        }) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], float(sys.argv[2]))))
