"""Run with the ENGINE's Python (.venv-rasa): parse stdin lines with a trained model, one JSON per line.

Imports only Rasa and the standard library, never the project's packages.
Usage: python parse_batch.py MODEL_PATH FALLBACK_THRESHOLD < messages.txt
"""

import asyncio
import json
import sys


async def main(model_path: str, threshold: float) -> int:
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)
    out = sys.stdout
    for raw in sys.stdin:
        text = raw.rstrip("\r\n")
        if not text.strip():
            out.write(json.dumps({"text": text, "intent": None, "confidence": 0.0, "entities": [],
                                  "fallback": True}) + "\n")
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
        }) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], float(sys.argv[2]))))
