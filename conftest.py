"""Shared pytest fixtures: the scenario users and clients for every app's tests.

alice (employee, team North) owns cards; bob is her teammate (employee, North); charlie is an
outsider (employee, team South); mallory is North's manager; rita is read-only in North;
ada is an administrator.
"""

import pytest
from django.test import Client as DjangoClient

from kartoteka.accounts.models import Team, User
from kartoteka.accounts.services import api_token_create, user_create


@pytest.fixture
def north(db) -> Team:
    return Team.objects.create(name="North")


@pytest.fixture
def south(db) -> Team:
    return Team.objects.create(name="South")


def _user(username: str, role: str, teams: list[Team]) -> User:
    return user_create(
        actor=None,
        username=username,
        password="pass-" + username,
        role=role,
        teams=teams,
        first_name=username.title(),
    )


@pytest.fixture
def ada(db) -> User:
    return _user("ada", User.Role.ADMIN, [])


@pytest.fixture
def alice(north) -> User:
    return _user("alice", User.Role.EMPLOYEE, [north])


@pytest.fixture
def bob(north) -> User:
    return _user("bob", User.Role.EMPLOYEE, [north])


@pytest.fixture
def charlie(south) -> User:
    return _user("charlie", User.Role.EMPLOYEE, [south])


@pytest.fixture
def mallory(north) -> User:
    return _user("mallory", User.Role.MANAGER, [north])


@pytest.fixture
def rita(north) -> User:
    return _user("rita", User.Role.READ_ONLY, [north])


@pytest.fixture
def users(ada, alice, bob, charlie, mallory, rita) -> dict[str, User]:
    return {u.username: u for u in (ada, alice, bob, charlie, mallory, rita)}


@pytest.fixture
def web_client_for():
    """A logged-in Django test client for a user."""

    def make(user: User) -> DjangoClient:
        client = DjangoClient()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_client_for(db):
    """A Django test client sending `Authorization: Bearer <token>` for a user."""

    def make(user: User) -> DjangoClient:
        _token, key = api_token_create(actor=user, name="tests")
        return DjangoClient(headers={"Authorization": f"Bearer {key}"})

    return make
