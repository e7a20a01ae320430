"""Moving encrypted values onto the current key (core.crypto), for `kartoteka rotate_keys`.

Works on one column at a time, in batches by primary key, each batch in its own transaction:
an interrupted run loses nothing and a new run goes on where it stopped, because a value
already on the current key is never touched again. A row changed by someone else between
read and write is left to them (the UPDATE matches the old value only). A value that cannot
be decrypted is counted and left as it is, so the old key it needs is never retired.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models, transaction

from kartoteka.core import crypto

BATCH_SIZE = 500


@dataclass(frozen=True)
class EncryptedColumn:
    """A text column holding `kt1.` tokens (core.crypto) sealed for `purpose`."""

    label: str  # what the progress line calls the rows ("health notes")
    model: type[models.Model]
    field: str
    purpose: str

    @property
    def rows(self) -> models.QuerySet:
        # Every row, whatever a default manager hides: an archived row keeps its key in use.
        return self.model._base_manager.exclude(**{self.field: ""})

    def pending(self, key_id: str, *, encrypt_plain: bool) -> models.QuerySet:
        """Rows not yet on key `key_id` (with `encrypt_plain`, plaintext rows too)."""
        rows = self.rows.exclude(**{f"{self.field}__startswith": crypto.token_prefix(key_id)})
        if not encrypt_plain:
            rows = rows.filter(**{f"{self.field}__startswith": crypto.PREFIX + "."})
        return rows

    def using_key(self, key_id: str) -> int:
        return self.rows.filter(
            **{f"{self.field}__startswith": crypto.token_prefix(key_id)}
        ).count()


@dataclass
class Outcome:
    done: int = 0
    failed: int = 0


def rotate_column(
    column: EncryptedColumn,
    *,
    encrypt_plain: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int, int], None] | None = None,
) -> Outcome:
    """Re-encrypt every value of `column` under the current key (plaintext ones too with
    `encrypt_plain`). `progress(done, failed, total)` is called after each batch."""
    current = crypto.current_key_id()
    pending = column.pending(current, encrypt_plain=encrypt_plain)
    total = pending.count()
    outcome = Outcome()
    last_pk = 0
    while True:
        batch = list(
            pending.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", column.field)[:batch_size]
        )
        if not batch:
            return outcome
        with transaction.atomic():
            for pk, value in batch:
                try:
                    if crypto.is_encrypted(value):
                        new_value = crypto.reencrypt(value, purpose=column.purpose)
                    else:
                        new_value = crypto.encrypt(value, purpose=column.purpose)
                except crypto.DecryptionError:
                    outcome.failed += 1
                    continue
                outcome.done += column.model._base_manager.filter(
                    pk=pk, **{column.field: value}
                ).update(**{column.field: new_value})
        last_pk = batch[-1][0]
        if progress is not None:
            progress(outcome.done, outcome.failed, total)
