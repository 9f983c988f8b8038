"""Gateway processes for the scale tests: ``python -m bot.runtime.gateway`` started for real (no engine behind it:
the scheduler, leases and settings do not need one), their output kept in a log file per process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.settings import PROJECT_ROOT, Settings
from bot.store import Appointment, AppointmentType, Provider, session_scope
from bot.store.models import Patient
from tests.e2e.stack import free_port


@dataclass
class GatewayProcess:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def start_gateway(name: str, folder: Path, env: dict[str, str]) -> GatewayProcess:
    port = free_port()
    log = folder / f"{name}.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot.runtime.gateway", "--port", str(port)],
                                env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "CLINICBOT_SERVERS__RASA_PORT":
                                     str(free_port()), **env},
                                stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
    return GatewayProcess(name, port, proc, log)


def wait_up(gateway: GatewayProcess, timeout_s: float = 120) -> None:
    """Until the gateway answers HTTP (its /healthz says 503: there is no engine behind it)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert gateway.proc.poll() is None, gateway.output()[-3000:]
        try:
            if httpx.get(f"{gateway.url}/healthz", timeout=2).status_code in (200, 503):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(gateway.output()[-3000:])


def midday_zone() -> str:
    """A fixed-offset zone where it is early afternoon now, so reminders sent now are inside quiet hours."""
    offset = (14 - datetime.now(UTC).hour + 12) % 24 - 12
    return "Etc/GMT" + ("+" if offset <= 0 else "-") + str(abs(offset))


def add_patient_with_visit(settings: Settings, index: int, start: datetime) -> tuple[str, int]:
    """A new patient (phone and first name unique to ``index``) with a follow-up at ``start``, booked yesterday."""
    phone = f"+1444{index:07d}"
    with session_scope(settings.database_url) as session:
        patient = Patient(mrn=f"SC{index:07d}", first_name=f"Pat{index}", last_name="Scale",
                          date_of_birth=datetime(1980, 1, 1).date(), phone=phone)
        session.add(patient)
        kind = session.scalars(select(AppointmentType).where(AppointmentType.code == "follow_up")).one()
        provider = session.scalars(select(Provider).where(Provider.key == "patel")).one()
        session.flush()
        appointment = Appointment(patient_id=patient.id, provider_id=provider.id, appointment_type_id=kind.id,
                                  start=start, end=start + timedelta(minutes=20),
                                  created_at=datetime.now(UTC) - timedelta(days=1))
        session.add(appointment)
        session.flush()
        return phone, appointment.id


