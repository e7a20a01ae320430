"""Old export files are deleted by the worker; the record of the export stays."""

import datetime

from django.core.files.storage import default_storage
from django.utils import timezone

from kartoteka.exports import services
from kartoteka.exports.models import Export


def test_files_older_than_the_limit_are_deleted_and_records_kept(alice, cards, settings):
    settings.KARTOTEKA_EXPORT_KEEP_DAYS = 7
    old = services.export_create(actor=alice, format="csv")
    fresh = services.export_create(actor=alice, format="xlsx")
    Export.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=8))
    old_name = old.file.name

    removed = services.exports_expire()
    again = services.exports_expire()

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (removed, again) == (1, 0)
    assert not old.file
    assert old.file_size == 0
    assert old.row_count == 4
    assert not default_storage.exists(old_name)
    assert fresh.file
    assert default_storage.exists(fresh.file.name)


def test_zero_keeps_every_file(alice, cards, settings):
    settings.KARTOTEKA_EXPORT_KEEP_DAYS = 0
    export = services.export_create(actor=alice, format="csv")
    Export.objects.filter(pk=export.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=400)
    )

    assert services.exports_expire() == 0
    export.refresh_from_db()
    assert export.file


def test_the_worker_clock_runs_the_cleanup_daily(
    alice, cards, settings, django_capture_on_commit_callbacks
):
    from kartoteka.notifications import scheduler

    settings.KARTOTEKA_EXPORT_KEEP_DAYS = 1
    export = services.export_create(actor=alice, format="csv")
    Export.objects.filter(pk=export.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        first = scheduler.enqueue_due(now=now)
        later = scheduler.enqueue_due(now=now + datetime.timedelta(hours=23))

    export.refresh_from_db()
    assert "exports_expire" in first
    assert "exports_expire" not in later
    assert not export.file
