"""The `kartoteka` console script: Kartoteka's own commands, and every Django management
command besides (`kartoteka shell`, `kartoteka changepassword admin`, ...)."""

import os
import sys
from collections.abc import Sequence

# command -> (Django management command, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": (
        "run",
        "Set up (migrate, static files, first admin, demo data) and serve with the worker",
    ),
    "serve": ("serve", "Run the web server (gunicorn) only"),
    "worker": ("worker", "Run the background task worker and the reminders clock only"),
    "migrate": ("migrate", "Create or upgrade the database tables"),
    "createuser": ("createuser", "Create a user with a role and teams"),
    "demo": ("demo", "Load realistic demo cards (ru, uk, zh, en) with demo users"),
    "check": ("check_health", "Check configuration, database, migrations and search index"),
    "reindex": ("reindex", "Rebuild the search documents of all cards"),
    "backup": ("backup", "Back up the database and files (online); --verify checks one"),
    "restore": ("restore", "Restore a backup archive (stop the server and worker first)"),
    "bench": ("bench", "Generate N cards and measure search, list and card latency"),
    "import": ("import_clients", "Import clients from XLSX, CSV or vCard (dry run, resume, undo)"),
    "quality": ("quality", "Recompute the data-quality scores of the cards"),
    "audit": ("audit", "Verify the audit trail's hash chain, or prune it per retention"),
    "rotate-keys": ("rotate_keys", "Add a new encryption key and re-encrypt data and files"),
    "retention": ("retention", "Flag or anonymise cards inactive longer than the policy"),
    "consent": ("consent", "Erase health data whose consent was withdrawn and is due"),
}


def usage() -> str:
    lines = [
        "Usage: kartoteka <command> [options]",
        "",
        "Commands:",
        *(f"  {name:<11} {text}" for name, (_target, text) in COMMANDS.items()),
        "",
        "Any other Django management command works too, e.g. `kartoteka changepassword admin`.",
        "`kartoteka <command> --help` shows the options of one command.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.settings")
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return
    if args[0] == "--version":
        from importlib.metadata import version

        print(f"kartoteka {version('kartoteka')}")
        return
    name = args[0]
    target = COMMANDS[name][0] if name in COMMANDS else name
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kartoteka", target, *args[1:]])


if __name__ == "__main__":
    main()
