"""Starting and supervising the web server and the task worker."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from django.core.exceptions import ImproperlyConfigured

DEFAULT_BIND = "127.0.0.1:8000"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be at least 1, got {value}")
    return value


def bind_address() -> str:
    return os.environ.get("KARTOTEKA_BIND", "").strip() or DEFAULT_BIND


def web_workers() -> int:
    """KARTOTEKA_WEB_WORKERS, default 2: enough for a small team on a small machine, and
    each process holds its own memory. Raise it towards 2 x cores + 1 for more users."""
    return _env_int("KARTOTEKA_WEB_WORKERS", 2)


def web_threads() -> int:
    return _env_int("KARTOTEKA_WEB_THREADS", 4)


def gunicorn_command(bind: str | None = None, workers: int | None = None) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "kartoteka.wsgi:application",
        "--bind",
        bind or bind_address(),
        "--workers",
        str(workers or web_workers()),
        "--worker-class",
        "gthread",
        "--threads",
        str(web_threads()),
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "--graceful-timeout",
        "10",
        # No control socket in the home directory: nothing here uses it, and two
        # installations on one machine would fight over it.
        "--no-control-socket",
    ]


def worker_command() -> list[str]:
    return [sys.executable, "-m", "kartoteka", "worker"]


def url_for(bind: str) -> str:
    host, _sep, port = bind.rpartition(":")
    if not host or bind.startswith("unix:"):
        return bind
    if host in ("0.0.0.0", "", "[::]"):
        host = "127.0.0.1"
    return f"http://{host}:{port}/"


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    return env


def supervise(commands: dict[str, Sequence[str]], stderr: TextIO, grace: float = 15.0) -> int:
    """Run the commands side by side until one stops or this process gets SIGINT/SIGTERM;
    then stop the others with SIGTERM (SIGKILL after `grace` seconds).

    Children get process groups of their own, so Ctrl-C reaches them once, through here,
    and every child shuts down the same way whatever stopped the whole.
    """
    stop = {"signal": 0}

    def on_signal(signum, frame) -> None:
        stop["signal"] = signum

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    running: dict[str, subprocess.Popen] = {}
    try:
        for name, command in commands.items():
            running[name] = subprocess.Popen(command, env=child_env(), process_group=0)
        exit_code = 0
        while not stop["signal"]:
            ended = [(name, child) for name, child in running.items() if child.poll() is not None]
            if ended:
                name, child = ended[0]
                exit_code = child.returncode or 1
                stderr.write(f"The {name} stopped (exit status {child.returncode}); stopping.\n")
                break
            time.sleep(0.3)
        return exit_code
    finally:
        children = list(running.values())
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in children:
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
