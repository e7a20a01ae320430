"""`kartoteka demo`: load realistic demo cards (Russian, Ukrainian, Chinese, American)."""

import random
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kartoteka.clients.demo import (
    CardGenerator,
    cards_bulk_create,
    cards_create_through_services,
    demo_staff_ensure,
    demo_tags_ensure,
    parse_locales,
)
from kartoteka.clients.management.commands._progress import ProgressBar
from kartoteka.core.context import change_context
from kartoteka.plans.demo import demo_plans_ensure
from kartoteka.tasks.demo import demo_tasks_ensure


def print_staff_password(stdout, password: str) -> None:
    """The demo users' password, once, in a box: it is never shown again."""
    lines = [
        "Demo users created (managers and employees in teams Москва, Київ, Shanghai):",
        "  smirnova, kuznetsov, orlova, bondarenko, shevchuk, wang.fang, li.wei, miller",
        f"  password for all of them: {password}",
        "Save it now: it is not shown again.",
    ]
    width = max(len(line) for line in lines) + 2
    stdout.write("+" + "-" * width + "+")
    for line in lines:
        stdout.write("| " + line.ljust(width - 1) + "|")
    stdout.write("+" + "-" * width + "+")


class Command(BaseCommand):
    help = "Load realistic demo cards in four locales, with demo users and teams."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=2000, help="Cards to create (2000).")
        parser.add_argument(
            "--locales",
            default="",
            help="Locales and weights, e.g. ru_RU:45,uk_UA:20,zh_CN:20,en_US:15 (the default).",
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed, for repeatable data."
        )
        parser.add_argument(
            "--through-services",
            action="store_true",
            help="Create every card with the full client_create service (slow, validates all).",
        )

    def handle(self, *args, **options) -> None:
        count = options["count"]
        if count < 0:
            raise CommandError(_("--count must be zero or more."))
        try:
            locales = parse_locales(options["locales"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        seed = options["seed"] if options["seed"] is not None else random.randrange(10**6)
        started = time.monotonic()
        with change_context(channel="cli"):
            staff = demo_staff_ensure()
            tag_ids = demo_tags_ensure()
            generator = CardGenerator(staff=staff, seed=seed, locales=locales)
            specs = generator.generate(count)
            if options["through_services"]:
                from kartoteka.accounts.models import User

                actor = User.objects.filter(role=User.Role.ADMIN, is_active=True).first()
                if actor is None:
                    raise CommandError(_("Create an administrator first: kartoteka createuser."))
                cards_create_through_services(specs, actor=actor)
            else:
                bar = ProgressBar(count, "Demo cards", self.stderr._out)
                cards_bulk_create(
                    specs, tag_ids=tag_ids, log_changes=True, progress=bar.update, batch_size=1000
                )
            demo_plans_ensure(staff)
            demo_tasks_ensure(staff)
        if staff.password:
            print_staff_password(self.stdout, staff.password)
        self.stdout.write(
            _("Created %(count)s demo cards in %(seconds)s s (seed %(seed)s).")
            % {
                "count": f"{count:,}",
                "seconds": f"{time.monotonic() - started:.1f}",
                "seed": seed,
            }
        )
