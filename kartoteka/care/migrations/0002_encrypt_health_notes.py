"""Encrypt the text of health notes stored before encryption at rest (core.crypto, purpose
"health-note"). Idempotent: values already sealed ("kt1." tokens) are left as they are.
Reversing decrypts them again (it needs the key file that sealed them)."""

from django.db import migrations

PURPOSE = "health-note"  # as care.health seals it; frozen here on purpose
BATCH = 500


def _rewrite(apps, *, seal: bool) -> None:
    from kartoteka.core import crypto

    note_model = apps.get_model("care", "HealthNote")
    rows = note_model.objects.all()
    rows = (
        rows.exclude(stored_text__startswith="kt1.")
        if seal
        else rows.filter(stored_text__startswith="kt1.")
    )
    last_pk = 0
    while True:  # in batches by primary key, so memory stays flat on a large base
        batch = list(rows.filter(pk__gt=last_pk).order_by("pk").only("pk", "stored_text")[:BATCH])
        if not batch:
            return
        for note in batch:
            if seal:
                note.stored_text = crypto.encrypt(note.stored_text, purpose=PURPOSE)
            else:
                note.stored_text = crypto.decrypt(note.stored_text, purpose=PURPOSE)
        note_model.objects.bulk_update(batch, ["stored_text"])
        last_pk = batch[-1].pk


def encrypt_notes(apps, schema_editor) -> None:
    _rewrite(apps, seal=True)


def decrypt_notes(apps, schema_editor) -> None:
    _rewrite(apps, seal=False)


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]

    operations = [migrations.RunPython(encrypt_notes, decrypt_notes, elidable=False)]
