"""Fuzz the REST API from its own OpenAPI schema (schemathesis, through the WSGI app).

Every operation gets a few generated requests, valid and invalid, from an administrator's
token, against a base with a card in it. Each answer must not be a server error, must carry
a status code the schema documents for the operation, and a body that matches the schema.
The run is deterministic (fixed seed, no example database) and bounded so that it fits in
the suite on a small machine.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kartoteka.accounts.services import api_token_create
from kartoteka.clients.tests.factories import make_company, make_person

EXAMPLES_PER_OPERATION = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261123,
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,
            "database": "none",
        },
        "phases": {
            "coverage": {"enabled": False},
            "stateful": {"enabled": False},
        },
    }
)


# The schema as the server publishes it; requests go through the whole WSGI stack.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", get_wsgi_application(), config=CONFIG
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Like Django's test client: the real WSGI handler would close the database connection
    after each request (close_old_connections), and with it the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def cards(ada):
    # Something for the generated ids to hit besides 404s.
    return [make_person(ada), make_company(ada)]


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_its_schema_says(case, ada, cards):
    # A fresh token each time: a generated request may revoke the one it was given.
    _token, key = api_token_create(actor=ada, name="fuzz")
    case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
