"""Nothing dumps a conversation into a log: the servers' records are made safe when created, and what
reaches logs/ is grouped into records and strict-scrubbed as one unit."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.engine.runtime_files import ENGINE_TOOLS, logging_config
from bot.engine.tools import log_records
from bot.runtime.log_scrub import RecordGrouper, make_record_scrubber, read_records
from bot.settings import PROJECT_ROOT

PLANTED = ["Jordan", "Demo", "01/01/1980", "1980"]


def _record(msg: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return log_records.sanitize(logging.LogRecord("rasa.x", logging.ERROR, __file__, 1, msg, (), exc_info))


def _raise_with_body() -> BaseException:
    try:
        try:
            raise ValueError('500, body=\'{"request_body": {"slots": {"first_name": "Jordan Demo"}}}\'')
        except ValueError as inner:
            raise RuntimeError("Failed to execute custom action for Jordan") from inner
    except RuntimeError as outer:
        return outer


def test_exceptions_keep_types_and_places_but_no_message() -> None:
    record = _record("Encountered an exception while running action", _raise_with_body())
    text = logging.Formatter().format(record)
    assert "ValueError" in text and "RuntimeError" in text and "test_log_records.py" in text
    assert not any(p in text for p in PLANTED), text


def test_structlog_events_keep_the_event_and_lose_text_and_locals() -> None:
    event = {"event": "rest.message.received.failure", "level": "error", "text": "hi this is Jordan Demo",
             "exception": [{"exc_type": "ServiceUnavailable", "exc_value": "Jordan",
                            "frames": [{"filename": "rest.py", "lineno": 172, "name": "receive",
                                        "locals": {"tracker": "{'first_name': 'Jordan'}"}}]}]}
    for msg in (json.dumps(event), event):
        out = json.loads(_record(msg).getMessage())
        assert out["event"] == "rest.message.received.failure" and out["omitted"] == ["text"]
        assert out["exception"][0]["exc_type"] == "ServiceUnavailable"
        assert out["exception"][0]["frames"] == [{"file": "rest.py", "line": 172, "function": "receive"}]
        assert "Jordan" not in json.dumps(out)


def test_a_dump_is_cut() -> None:
    assert len(_record("tracker " + "x" * 50_000).getMessage()) < log_records.MAX_MESSAGE + 100


def test_record_grouping_keeps_a_traceback_with_its_line() -> None:
    grouper = RecordGrouper()
    lines = ["2026-11-30 08:00:00 ERROR rasa.core.processor  - Encountered an exception\n",
             "Traceback (most recent call last):\n", '  File "/a/b.py", line 3, in f\n', "ValueError: Rose\n",
             "Kowalski\n", "2026-11-30 08:00:01 WARNING rasa.x  - next\n"]
    records = [r for line in lines for r in grouper.feed(line)] + grouper.flush()
    assert records == ["".join(lines[:5]), lines[5]]


def test_read_records_flushes_when_the_child_goes_quiet() -> None:
    code = "import sys,time; print('first line'); print('  continued', flush=True); time.sleep(1); print('{\"a\": 1}')"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    records = list(read_records(proc.stdout, idle_s=0.2))
    assert records == ["first line\n  continued\n", '{"a": 1}\n']


@pytest.mark.slow
def test_a_record_is_scrubbed_as_one_unit_with_its_header_kept() -> None:
    scrub = make_record_scrubber(("Maple Street Family Medicine",))
    own = '{"ts": "2026-11-30T08:00:00Z", "level": "info", "event": "message.received", "conversation_id": "c1"}\n'
    assert scrub(own) == own
    record = ("2026-11-30 08:00:00 ERROR    rasa.core.processor  - failed for\nKATRINA\nBLAYLOCK dob march 3rd 1961,"
              " card 4000 1234 5678 9011\n")
    out = scrub(record)
    assert out.startswith("2026-11-30 08:00:00 ERROR    rasa.core.processor  - failed for\n")
    assert not any(p in out for p in ["KATRINA", "BLAYLOCK", "march", "1961", "9011"]), out
    assert out.endswith("\n") and out.count("\n") == record.count("\n")


@pytest.mark.slow
def test_the_engine_python_installs_it_from_the_logging_config(tmp_path: Path) -> None:
    """Rasa 3.6 itself, with the config `clinicbot up` passes: structlog's locals dump and the action
    server's 500 body (rasa-sdk answers a failed action with the whole request) leave no trace."""
    config = tmp_path / "engine-logging.yml"
    config.write_text(yaml.safe_dump(logging_config()))
    probe = f"""
import logging, sys
from rasa.utils.common import configure_logging_and_warnings
configure_logging_and_warnings(logging.WARNING, {str(config)!r})
import rasa.utils.io
rasa.utils.io.configure_colored_logging(logging.WARNING)
from rasa.utils.log_utils import configure_structlog
configure_structlog(logging.WARNING)
import structlog
from rasa.utils.endpoints import ClientResponseError
def receive(tracker, text):
    raise ClientResponseError(500, "Internal Server Error", '{{"request_body": {{"first_name": "Jordan Demo"}}}}')
try:
    receive({{"slots": {{"dob": "01/01/1980"}}}}, "hi this is Jordan Demo")
except Exception:
    structlog.get_logger().exception("rest.message.received.failure", text="hi this is Jordan Demo")
    logging.getLogger("rasa.core.processor").exception("Encountered an exception while running action")
print("factory installed:", getattr(logging.getLogRecordFactory(), "clinicbot_safe", False))
"""
    rasa_python = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
    proc = subprocess.run([str(rasa_python), "-c", probe], capture_output=True, text=True, timeout=180,
                          env={"PYTHONPATH": str(ENGINE_TOOLS), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    output = proc.stdout + proc.stderr
    assert "factory installed: True" in output, output[-2000:]
    assert "rest.message.received.failure" in output and "ClientResponseError" in output
    assert not any(p in output for p in PLANTED), output[-3000:]
