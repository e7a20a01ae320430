import pytest


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a call and then what it scheduled for after its commit (the enqueued task, run at
    once by the ImmediateBackend): a test's transaction itself never commits."""

    def call(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return call
