"""Background work of the quality app (django-tasks): bulk normalisation of a large base."""

from django_tasks import task

from kartoteka.core.context import change_context


@task()
def normalisation_task(run_pk: int) -> None:
    from kartoteka.quality import normalise

    with change_context(channel="system", request_id=f"normalisation-{run_pk}"):
        normalise.normalisation_run(run_pk=run_pk)
