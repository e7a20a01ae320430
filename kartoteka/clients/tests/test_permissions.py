import pytest

from kartoteka.clients import permissions
from kartoteka.clients.tests.factories import make_person

# role -> (view, change, archive) for a card alice is responsible for, in team North.
EXPECTED = {
    "ada": (True, True, True),
    "mallory": (True, True, True),
    "alice": (True, True, True),
    "bob": (True, True, False),
    "rita": (True, False, False),
    "charlie": (False, False, False),
}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_card_rights_per_role(users, username):
    card = make_person(users["alice"])
    user = users[username]

    rights = (
        permissions.can_view_client(user, card),
        permissions.can_change_client(user, card),
        permissions.can_archive_client(user, card),
    )

    assert rights == EXPECTED[username]


@pytest.mark.parametrize(
    ("username", "expected"),
    [("ada", True), ("mallory", True), ("alice", True), ("charlie", True), ("rita", False)],
)
def test_who_may_create(users, username, expected):
    assert permissions.can_create_client(users[username]) is expected


def test_inactive_and_anonymous_users_have_no_rights(users):
    from django.contrib.auth.models import AnonymousUser

    card = make_person(users["alice"])
    users["alice"].is_active = False

    assert permissions.can_view_client(users["alice"], card) is False
    assert permissions.can_view_client(AnonymousUser(), card) is False
    assert permissions.can_create_client(AnonymousUser()) is False


def test_assignment_rules(users, north, south):
    alice, bob, charlie, mallory = (users[n] for n in ("alice", "bob", "charlie", "mallory"))

    assert permissions.can_assign(alice, responsible=alice, team_id=north.pk)
    assert not permissions.can_assign(alice, responsible=bob, team_id=north.pk)
    assert not permissions.can_assign(alice, responsible=alice, team_id=south.pk)
    assert permissions.can_assign(mallory, responsible=bob, team_id=north.pk)
    assert not permissions.can_assign(mallory, responsible=charlie, team_id=None)
    assert permissions.can_assign(users["ada"], responsible=charlie, team_id=north.pk)
