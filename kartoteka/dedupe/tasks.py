"""Background work of the duplicates app (django-tasks): the full scan."""

from django_tasks import task

from kartoteka.core.context import change_context


@task()
def duplicate_scan_task(scan_pk: int) -> None:
    """Run scan `scan_pk` (does nothing when it already ran)."""
    from kartoteka.dedupe import scan

    with change_context(channel="system", request_id=f"dedupe-scan-{scan_pk}"):
        scan.run_scan(scan_pk)
