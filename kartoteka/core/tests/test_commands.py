"""Command-line doors: createuser, the first-admin bootstrap, run's set-up, check, the
`kartoteka` script itself."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kartoteka import cli
from kartoteka.accounts.models import Team, User
from kartoteka.clients.models import Client
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.search.models import SearchEntry

STRONG = "correct-horse-battery-9"


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


# --- createuser -----------------------------------------------------------------------------


def test_createuser_with_role_and_new_teams(db):
    output = run(
        "createuser",
        "olga",
        "--role",
        "manager",
        "--team",
        "North",
        "--team",
        "Retail",
        "--email",
        "olga@example.com",
        "--password",
        STRONG,
    )

    user = User.objects.get(username="olga")
    assert user.role == User.Role.MANAGER
    assert user.email == "olga@example.com"
    assert user.check_password(STRONG)
    assert sorted(user.teams.values_list("name", flat=True)) == ["North", "Retail"]
    assert not user.is_superuser
    assert "Created" in output
    assert STRONG not in output
    channels = set(ObjectChange.objects.values_list("channel", flat=True))
    assert channels == {"cli"}
    assert ObjectChange.objects.filter(content_type__model="team").count() == 2


def test_createuser_joins_an_existing_team(north):
    run("createuser", "pavel", "--team", "North", "--password", STRONG)

    assert Team.objects.count() == 1
    assert list(User.objects.get(username="pavel").teams.all()) == [north]
    assert User.objects.get(username="pavel").role == User.Role.EMPLOYEE


@pytest.mark.parametrize("role", ["admin", "manager", "employee", "readonly"])
def test_createuser_every_role(db, role):
    run("createuser", f"user-{role}", "--role", role, "--password", STRONG)

    user = User.objects.get(username=f"user-{role}")
    assert user.role == role
    assert user.is_superuser == (role == "admin")


def test_createuser_bad_role_is_refused_and_nothing_created(db):
    with pytest.raises(CommandError, match=r"Unknown role 'boss'.*admin, manager"):
        run("createuser", "boss", "--role", "boss", "--team", "Board", "--password", STRONG)

    assert not User.objects.filter(username="boss").exists()
    assert not Team.objects.exists()
    assert not ObjectChange.objects.exists()


def test_createuser_refuses_an_existing_username(alice):
    with pytest.raises(CommandError, match="already exists"):
        run("createuser", "Alice", "--password", STRONG)

    assert User.objects.filter(username__iexact="alice").count() == 1


def test_createuser_refuses_a_weak_password(db):
    with pytest.raises(CommandError, match="Password refused"):
        run("createuser", "weak", "--password", "123")

    assert not User.objects.filter(username="weak").exists()


def test_createuser_invalid_email_creates_nothing(db):
    with pytest.raises(CommandError, match="email"):
        run("createuser", "mail", "--email", "not-an-email", "--team", "T", "--password", STRONG)

    assert not User.objects.filter(username="mail").exists()
    assert not Team.objects.exists()


def test_createuser_generates_and_prints_a_password(db):
    output = run("createuser", "gena")

    line = next(line for line in output.splitlines() if line.startswith("Password: "))
    password = line.split()[1]
    assert User.objects.get(username="gena").check_password(password)


# --- the first administrator -----------------------------------------------------------------


def test_first_admin_from_environment(db, monkeypatch):
    monkeypatch.setenv("KARTOTEKA_ADMIN_USERNAME", "boss")
    monkeypatch.setenv("KARTOTEKA_ADMIN_PASSWORD", STRONG)
    monkeypatch.setenv("KARTOTEKA_ADMIN_EMAIL", "boss@example.com")

    output = run("ensure_admin")

    user = User.objects.get()
    assert (user.username, user.email, user.role) == ("boss", "boss@example.com", "admin")
    assert user.check_password(STRONG)
    assert STRONG not in output
    assert ObjectChange.objects.get(object_id=user.pk).channel == "cli"


def test_first_admin_generated_password_is_printed_once(db, monkeypatch):
    for name in ("USERNAME", "PASSWORD", "EMAIL"):
        monkeypatch.delenv(f"KARTOTEKA_ADMIN_{name}", raising=False)

    first = run("ensure_admin")
    second = run("ensure_admin")

    user = User.objects.get()
    assert user.username == "admin"
    assert user.is_admin_role
    password = next(
        line.split("password:")[1].strip().rstrip("|").strip()
        for line in first.splitlines()
        if "password:" in line
    )
    assert user.check_password(password)
    assert "+---" in first
    assert "password" not in second.lower()
    assert User.objects.count() == 1


def test_no_first_admin_when_an_administrator_exists(ada, monkeypatch):
    monkeypatch.setenv("KARTOTEKA_ADMIN_USERNAME", "another")

    output = run("ensure_admin")

    assert not User.objects.filter(username="another").exists()
    assert "ada" in output


def test_run_setup_creates_admin_and_demo_once(db, monkeypatch, settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    monkeypatch.setenv("KARTOTEKA_DEMO", "1")
    monkeypatch.delenv("KARTOTEKA_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr("kartoteka.core.management.commands.run.DEMO_CARDS", 25)

    first = run("run", "--setup-only")
    second = run("run", "--setup-only")

    assert User.objects.filter(role="admin").count() == 1
    assert Client.objects.count() == 25
    assert first.count("password:") == 1
    assert "password:" not in second
    assert (tmp_path / "static" / "css").is_dir()


def test_run_setup_without_demo(db, monkeypatch, settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    monkeypatch.setenv("KARTOTEKA_DEMO", "0")

    run("run", "--setup-only")

    assert Client.objects.count() == 0
    assert User.objects.filter(role="admin").count() == 1


# --- check -------------------------------------------------------------------------------------


def test_check_passes_on_a_healthy_installation(ada):
    make_person(ada)

    output = run("check_health")

    assert "OK       search index" in output
    assert "All checks passed." in output


def test_check_reports_a_missing_search_document(ada):
    card = make_person(ada)
    SearchEntry.objects.filter(client=card).delete()
    out = StringIO()

    with pytest.raises(CommandError, match="Problems found: 1"):
        call_command("check_health", stdout=out, stderr=StringIO())

    assert "PROBLEM  search index: 1 cards but 0 search documents" in out.getvalue()


def test_reindex_makes_check_pass_again(ada):
    card = make_person(ada)
    SearchEntry.objects.filter(client=card).delete()

    run("reindex")

    assert "All checks passed." in run("check_health")


# --- the kartoteka script ---------------------------------------------------------------------


def test_help_lists_every_command(capsys):
    cli.main(["--help"])

    output = capsys.readouterr().out
    for name in ("run", "serve", "worker", "migrate", "createuser", "demo", "check", "bench"):
        assert f"  {name} " in output


def test_script_forwards_to_management_commands(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "django.core.management.execute_from_command_line", lambda argv: calls.append(argv)
    )

    cli.main(["check"])
    cli.main(["worker", "--batch"])
    cli.main(["changepassword", "admin"])

    assert calls == [
        ["kartoteka", "check_health"],
        ["kartoteka", "worker", "--batch"],
        ["kartoteka", "changepassword", "admin"],
    ]


def _kartoteka(data_dir: Path, *args: str, language: str = "en") -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KARTOTEKA_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env["KARTOTEKA_DATA_DIR"] = str(data_dir)
    env["KARTOTEKA_LANGUAGE"] = language
    return subprocess.run(
        [sys.executable, "-m", "kartoteka", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_exit_status_of_the_script(tmp_path):
    before = _kartoteka(tmp_path, "check")
    migrated = _kartoteka(tmp_path, "migrate", "-v0")
    after = _kartoteka(tmp_path, "check")

    assert before.returncode == 1
    assert "Migrations not applied" in before.stdout
    assert migrated.returncode == 0, migrated.stderr
    assert after.returncode == 0, after.stdout + after.stderr
    assert "All checks passed." in after.stdout


def test_command_line_speaks_the_business_language(tmp_path):
    migrated = _kartoteka(tmp_path, "migrate", "-v0")
    russian = _kartoteka(tmp_path, "check", language="ru")
    chinese = _kartoteka(tmp_path, "check", language="zh-hans")

    assert migrated.returncode == 0, migrated.stderr
    assert russian.returncode == 0, russian.stdout + russian.stderr
    assert "Все проверки пройдены." in russian.stdout
    assert "All checks passed." not in russian.stdout
    assert chinese.returncode == 0
    assert "All checks passed." not in chinese.stdout


def test_every_listed_command_exists():
    from django.core.management import get_commands

    from kartoteka.cli import COMMANDS, usage

    available = get_commands()
    missing = {
        name: target for name, (target, _text) in COMMANDS.items() if target not in available
    }

    assert missing == {}
    assert all(f"  {name} " in usage() for name in COMMANDS)
