"""A web process gets ready before its first request: what requests read on first use is
loaded, and the process's objects are frozen out of the cycle collector's way."""

import gc
import importlib
import io

import pytest

from kartoteka.core import warmup


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_process_ready_loads_and_freezes(unfrozen):
    from kartoteka.search.text import variants

    variants.cache_clear()

    warmup.process_ready()

    assert gc.get_freeze_count() > 10_000
    assert gc.isenabled()
    assert variants.cache_info().currsize > 0  # the transliteration tables were used


def test_a_failing_warm_up_still_freezes(unfrozen, monkeypatch, caplog):
    def broken():
        raise LookupError("a table is missing")

    monkeypatch.setattr(warmup, "_warm", broken)

    warmup.process_ready()

    assert gc.get_freeze_count() > 0
    assert "Warm-up failed" in caplog.text


def test_the_wsgi_application_is_ready_and_answers(unfrozen, db, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    import kartoteka.wsgi

    module = importlib.reload(kartoteka.wsgi)
    responses = []

    def start_response(status, headers):
        responses.append(status)

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/accounts/login/",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
    }
    body = b"".join(module.application(environ, start_response))

    assert gc.get_freeze_count() > 10_000
    assert responses == ["200 OK"]
    assert b"<form" in body
