"""Appends from several connections at once keep one gapless, intact chain (the head row is
locked with SELECT ... FOR UPDATE; on SQLite every write transaction is IMMEDIATE anyway)."""

import threading

import pytest
from django.db import connection, connections

from kartoteka.audit import chain, services
from kartoteka.audit.models import AuditEvent

THREADS = 4
EACH = 15


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_the_chain_intact():
    if connection.vendor != "postgresql":
        pytest.skip("Needs several real connections to one database (PostgreSQL).")
    services.record("view")  # the head row exists before the race
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            barrier.wait()
            for n in range(EACH):
                services.record("view", object_type="clients.client", object_id=worker * 100 + n)
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    assert ids == list(range(1, THREADS * EACH + 2))
    result = chain.verify()
    assert result.intact
    assert result.checked == THREADS * EACH + 1
