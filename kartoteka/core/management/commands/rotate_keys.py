"""`kartoteka rotate_keys`: a new encryption key, and everything encrypted moved onto it.

Appends a key to the key file (KARTOTEKA_ENCRYPTION_KEY_FILE), then re-encrypts, in batches,
every encrypted value (health notes, two-factor secrets) and every encrypted file (photos and
identity documents with their thumbnails). Safe to interrupt: `--no-new-key` finishes the job
(anything already on the current key is skipped). Old keys stay in the file, so nothing
becomes unreadable, until `--retire-old` removes them once nothing uses them.
"""

from functools import partial
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kartoteka.accounts import two_factor
from kartoteka.accounts.models import TwoFactorDevice
from kartoteka.care import health
from kartoteka.core import crypto, encrypted_files
from kartoteka.core.key_rotation import BATCH_SIZE, EncryptedColumn, rotate_column
from kartoteka.documents import crypto_files


def encrypted_columns() -> list[EncryptedColumn]:
    """Every database column holding core.crypto tokens (grep for crypto.encrypt)."""
    note_model, note_field, note_purpose = health.SEALED_COLUMN
    return [
        EncryptedColumn(_("health notes"), note_model, note_field, note_purpose),
        EncryptedColumn(
            _("two-factor secrets"), TwoFactorDevice, "secret_encrypted", two_factor.PURPOSE
        ),
    ]


class Command(BaseCommand):
    help = (
        "Add a new encryption key and re-encrypt every encrypted value and file with it "
        "(in batches, resumable). Old keys stay in the key file until --retire-old."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-new-key",
            action="store_true",
            help="Re-encrypt onto the current key without adding one (finishes a run).",
        )
        parser.add_argument(
            "--encrypt-existing",
            action="store_true",
            help="Also encrypt what was stored before encryption at rest (plaintext photos, "
            "identity documents, health notes).",
        )
        parser.add_argument(
            "--retire-old",
            action="store_true",
            help="Afterwards remove old keys from the key file; refused while anything uses them.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be re-encrypted."
        )
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        encrypt_plain = options["encrypt_existing"]
        columns = encrypted_columns()
        self.stdout.write(_("Key file: %(path)s") % {"path": crypto.key_file()})
        if options["dry_run"]:
            self._dry_run(columns, new_key=not options["no_new_key"], encrypt_plain=encrypt_plain)
            return
        if not options["no_new_key"]:
            new_id = crypto.add_key()
            self.stdout.write(
                _("Added key %(id)s; back up the key file now (it is not in the backups).")
                % {"id": new_id}
            )
        failed = 0
        try:
            for column in columns:
                outcome = rotate_column(
                    column,
                    encrypt_plain=encrypt_plain,
                    batch_size=options["batch_size"],
                    progress=partial(self._progress, column.label),
                )
                self._progress(column.label, outcome.done, outcome.failed, None)
                failed += outcome.failed
            failed += self._documents(encrypt_plain, options["batch_size"])
        except KeyboardInterrupt:
            raise CommandError(
                _("Interrupted. Run `kartoteka rotate_keys --no-new-key` to finish.")
            ) from None
        if failed:
            self.stderr.write(
                _(
                    "%(count)s items could not be decrypted and were left as they are (their "
                    "old key stays needed); the log and the card pages show which."
                )
                % {"count": failed}
            )
        if options["retire_old"]:
            self._retire(columns)

    def _progress(self, label: str, done: int, failed: int, total: int | None) -> None:
        if total is None:
            message = _("%(label)s: %(done)s re-encrypted, done") % {"label": label, "done": done}
        else:
            message = _("%(label)s: %(done)s of %(total)s re-encrypted") % {
                "label": label,
                "done": done,
                "total": total,
            }
        if failed:
            message += " " + _("(%(failed)s cannot be decrypted)") % {"failed": failed}
        self.stdout.write(message)

    def _documents(self, encrypt_plain: bool, batch_size: int) -> int:
        label = _("document files")
        current = crypto.current_key_id()
        pending = crypto_files.pending(current, encrypt_plain=encrypt_plain)
        total = pending.count()
        done = failed = 0
        last_pk = 0
        while True:
            batch = list(pending.filter(pk__gt=last_pk).order_by("pk")[:batch_size])
            if not batch:
                break
            for document in batch:
                try:
                    done += crypto_files.rewrite(document)
                except (encrypted_files.FileDecryptionError, OSError) as exc:
                    failed += 1
                    self.stderr.write(
                        _("Document %(pk)s: %(problem)s") % {"pk": document.pk, "problem": exc}
                    )
            last_pk = batch[-1].pk
            self._progress(label, done, failed, total)
        self._progress(label, done, failed, None)
        return failed

    def _usage(self, columns: list[EncryptedColumn], key_id: str) -> list[str]:
        found = [(column.label, column.using_key(key_id)) for column in columns]
        found.append((_("document files"), crypto_files.using_key(key_id)))
        return [f"{count} {label}" for label, count in found if count]

    def _retire(self, columns: list[EncryptedColumn]) -> None:
        keys, current = crypto.keyring()
        old = [key_id for key_id in keys if key_id != current]
        if not old:
            self.stdout.write(_("No old keys to retire."))
            return
        in_use = {key_id: self._usage(columns, key_id) for key_id in old}
        blocked = {key_id: usage for key_id, usage in in_use.items() if usage}
        if blocked:
            details = "; ".join(
                _("key %(id)s: %(usage)s") % {"id": key_id, "usage": ", ".join(usage)}
                for key_id, usage in blocked.items()
            )
            raise CommandError(
                _(
                    "Old keys are still in use, none retired (%(details)s). Run "
                    "`kartoteka rotate_keys --no-new-key` first; what cannot be decrypted "
                    "must be fixed or deleted."
                )
                % {"details": details}
            )
        crypto.retire_keys(set(old))
        self.stdout.write(_("Retired keys: %(ids)s.") % {"ids": ", ".join(old)})

    def _dry_run(
        self, columns: list[EncryptedColumn], *, new_key: bool, encrypt_plain: bool
    ) -> None:
        keys, current = crypto.keyring()
        # With a new key everything encrypted moves; otherwise only what is not on the current.
        target = "(new)" if new_key else current  # "(new)": no value can be on it yet
        for column in columns:
            count = column.pending(target, encrypt_plain=encrypt_plain).count()
            self.stdout.write(
                _("%(label)s: %(count)s to re-encrypt") % {"label": column.label, "count": count}
            )
        count = crypto_files.pending(target, encrypt_plain=encrypt_plain).count()
        self.stdout.write(
            _("%(label)s: %(count)s to re-encrypt") % {"label": _("document files"), "count": count}
        )
        for key_id in keys:
            if key_id != current:
                usage = self._usage(columns, key_id)
                self.stdout.write(
                    _("Key %(id)s: %(usage)s")
                    % {"id": key_id, "usage": ", ".join(usage) or _("unused, can be retired")}
                )
        self.stdout.write(_("Dry run: nothing was changed."))
