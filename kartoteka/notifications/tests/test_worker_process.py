"""The real `kartoteka worker` process, as `kartoteka run` starts it: its clock enqueues the
reminders tick, the tick emails through a real SMTP server on loopback, and a worker killed
with SIGKILL and started again sends nothing twice.

The worker runs on its own SQLite file with the production settings (KARTOTEKA_* variables),
so this is the installation's path end to end, not the test settings'.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from kartoteka.notifications.tests.conftest import Inbox, free_port

ROOT = Path(__file__).resolve().parents[3]

SETUP = """
import datetime
from django.utils import timezone
from kartoteka.accounts.models import User
from kartoteka.tasks.models import Task
user = User.objects.create_user("worker-test", email="anna@example.test", language="ru",
                                time_zone="Asia/Shanghai", role="employee")
due = timezone.now() + datetime.timedelta(minutes=5)
for n in range(3):
    Task.objects.create(title=f"Позвонить {n}", assignee=user, created_by=user, due_at=due)
"""

REPORT = """
from kartoteka.notifications.models import Notification
print(",".join(Notification.objects.order_by("pk").values_list("email_status", flat=True)))
"""


FORCE_TICK = """
from kartoteka.notifications.models import Schedule
Schedule.objects.update(next_run_at="2000-01-01T00:00:00Z")
"""

TICKS = """
from django_tasks_db.models import DBTaskResult
print(DBTaskResult.objects.filter(status="SUCCESSFUL").count())
"""


def _successful_ticks(env: dict[str, str]) -> int:
    return int(_manage(env, "shell", "-c", TICKS).split()[-1])


def _env(data_dir: Path, smtp_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KARTOTEKA_")}
    env.update(
        DJANGO_SETTINGS_MODULE="kartoteka.settings",
        KARTOTEKA_DATA_DIR=str(data_dir),
        KARTOTEKA_SECRET_KEY="worker-test",
        KARTOTEKA_USE_SMTP="1",
        KARTOTEKA_SMTP_HOST="127.0.0.1",
        KARTOTEKA_SMTP_PORT=str(smtp_port),
        KARTOTEKA_SMTP_TLS="0",
        KARTOTEKA_LOG_LEVEL="WARNING",
    )
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    return done.stdout


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return predicate()


def _start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kartoteka",
            "worker",
            "--clock-interval",
            "0.5",
            "--interval",
            "0.2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        process_group=0,
    )


def test_the_worker_process_reminds_by_email_and_a_restart_sends_nothing_twice(tmp_path):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    env = _env(tmp_path, port)
    worker = None
    try:
        _manage(env, "migrate", "--verbosity", "0")
        _manage(env, "shell", "-c", SETUP)
        worker = _start_worker(env)
        assert _wait(lambda: len(inbox.messages) == 3, 60), "the worker sent no reminders"
        message = inbox.messages[0]
        assert message["Content-Language"] == "ru"
        assert "Позвонить" in message["Subject"]
        # Killed outright, as by the OOM killer or a power cut, and started again.
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        ticks = _successful_ticks(env)
        worker = _start_worker(env)
        # The restarted clock would tick within the minute; make the next tick due now.
        _manage(env, "shell", "-c", FORCE_TICK)
        assert _wait(lambda: _successful_ticks(env) > ticks, 60), "no tick after the restart"
        assert worker.poll() is None
        assert len(inbox.messages) == 3
        assert _manage(env, "shell", "-c", REPORT).split()[-1] == "sent,sent,sent"
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        controller.stop()


@pytest.mark.django_db
def test_kartoteka_worker_is_the_worker_with_the_clock():
    from django.core.management import get_commands

    from kartoteka.cli import COMMANDS
    from kartoteka.core.management.commands._processes import worker_command

    assert COMMANDS["worker"][0] == "worker"
    assert get_commands()["worker"] == "kartoteka.notifications"
    assert worker_command()[-1] == "worker"  # what `kartoteka run` starts beside gunicorn
