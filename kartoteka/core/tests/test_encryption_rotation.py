"""`kartoteka rotate_keys`: values and files written under key 1 are moved to a new key, old
keys retired only when nothing needs them, an interrupted run finishes, plaintext from before
encryption gets encrypted, and a value that does not decrypt is shown as such, not as a 500.
"""

import hashlib
import pathlib
import re
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse

from kartoteka.accounts import two_factor
from kartoteka.accounts.models import TwoFactorDevice
from kartoteka.care import health
from kartoteka.care.models import HealthNote
from kartoteka.clients.tests.factories import make_person
from kartoteka.core import crypto, encrypted_files
from kartoteka.core.management.commands import rotate_keys
from kartoteka.documents.models import Document
from kartoteka.documents.selectors import document_file
from kartoteka.documents.services import document_upload
from kartoteka.documents.tests.files import jpeg_bytes, pdf_bytes, upload

pytestmark = pytest.mark.django_db

NOTES = ["Аллергия на латекс", "Астма, ингалятор с собой", "Не переносит лидокаин"]
ID_PDF = pdf_bytes().replace(b"%%EOF", b"(CANARY-ID-555)\n%%EOF")


@pytest.fixture(autouse=True)
def key_file(tmp_path, settings):
    settings.KARTOTEKA_ENCRYPTION_KEY_FILE = tmp_path / "keys"
    return tmp_path / "keys"


def give_health_consent(card) -> None:
    try:
        from kartoteka.consent.tests.factories import give_health_consent as give
    except ImportError:  # no consent gate in this build
        return
    give(card)


@pytest.fixture
def card(alice):
    card = make_person(alice, last_name="Ротационная")
    give_health_consent(card)
    return card


@pytest.fixture
def world(ada, alice, card):
    """Values and files written under key 1."""
    notes = [
        health.health_note_create(actor=ada, client=card, kind="allergy", text=text)[0]
        for text in NOTES
    ]
    device = two_factor.enrolment_start(actor=ada)
    totp_secret = two_factor.secret(device)
    photo = document_upload(
        actor=alice, client=card, uploaded=upload("a.jpg", jpeg_bytes()), kind="photo"
    )
    passport = document_upload(
        actor=alice, client=card, uploaded=upload("id.pdf", ID_PDF), kind="identity"
    )
    contract = document_upload(
        actor=alice, client=card, uploaded=upload("c.pdf", pdf_bytes()), kind="contract"
    )
    with document_file(photo) as plain:
        photo_bytes = plain.read()
    return {
        "notes": notes,
        "device": device,
        "totp": totp_secret,
        "photo": photo,
        "photo_bytes": photo_bytes,
        "passport": passport,
        "contract": contract,
    }


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=out)
    return out.getvalue()


def stored_notes() -> list[str]:
    return list(HealthNote.objects.order_by("pk").values_list("stored_text", flat=True))


def test_everything_moves_to_the_new_key_and_the_old_one_is_retired(ada, card, world, key_file):
    old_names = {
        world["photo"].file.name,
        world["photo"].thumbnail.name,
        world["passport"].file.name,
    }
    assert all(value.startswith("kt1.1.") for value in stored_notes())

    output = rotate("--retire-old", "--batch-size", "2")

    assert "Added key 2" in output
    assert "health notes: 2 of 3 re-encrypted" in output  # a progress line per batch
    assert "health notes: 3 re-encrypted, done" in output
    assert "document files: 2 re-encrypted, done" in output
    assert "Retired keys: 1." in output
    assert set(crypto.keyring()[0]) == {"2"}
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert all(value.startswith("kt1.2.") for value in stored_notes())
    assert [text for _note, text in health.health_notes_for(user=ada, client=card)] == NOTES
    device = TwoFactorDevice.objects.get(pk=world["device"].pk)
    assert crypto.token_key_id(device.secret_encrypted) == "2"
    assert two_factor.secret(device) == world["totp"]

    photo = Document.objects.get(pk=world["photo"].pk)
    passport = Document.objects.get(pk=world["passport"].pk)
    contract = Document.objects.get(pk=world["contract"].pk)
    assert (photo.key_id, passport.key_id, contract.key_id) == ("2", "2", "")
    with default_storage.open(passport.file.name) as stored:
        assert encrypted_files.file_key_id(stored) == "2"
    with document_file(passport) as plain:
        assert plain.read() == ID_PDF
    with document_file(photo) as plain:
        assert plain.read() == world["photo_bytes"]
    with document_file(photo, thumbnail=True) as plain:
        assert plain.read().startswith(b"\xff\xd8\xff")
    assert not any(default_storage.exists(name) for name in old_names)  # old copies removed
    with document_file(contract) as plain:
        assert plain.read() == pdf_bytes()


def test_dry_run_counts_and_changes_nothing(world, key_file):
    before_keys, before_notes = key_file.read_text(), stored_notes()

    output = rotate("--dry-run")

    assert "health notes: 3 to re-encrypt" in output
    assert "two-factor secrets: 1 to re-encrypt" in output
    assert "document files: 2 to re-encrypt" in output
    assert "Dry run: nothing was changed." in output
    assert key_file.read_text() == before_keys
    assert stored_notes() == before_notes


def test_an_interrupted_run_finishes_without_another_key(world, monkeypatch):
    calls = []

    def interrupt(self, label, done, failed, total):
        calls.append(label)
        if len(calls) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(rotate_keys.Command, "_progress", interrupt)
    with pytest.raises(CommandError, match="--no-new-key"):
        rotate("--batch-size", "1")
    assert sorted(crypto.token_key_id(v) for v in stored_notes()) == ["1", "1", "2"]
    monkeypatch.undo()

    output = rotate("--no-new-key", "--retire-old")

    assert "Added key" not in output
    assert "health notes: 2 of 2 re-encrypted" in output  # the one done is skipped
    assert set(crypto.keyring()[0]) == {"2"}
    assert all(crypto.token_key_id(value) == "2" for value in stored_notes())


def test_plaintext_from_before_encryption_is_encrypted_on_request(ada, alice, card):
    note, _text = health.health_note_create(actor=ada, client=card, kind="allergy", text="Старое")
    HealthNote.objects.filter(pk=note.pk).update(stored_text="Старое")  # as before migration
    name = default_storage.save(f"documents/{card.pk}/legacy", ContentFile(jpeg_bytes()))
    legacy = Document.objects.create(
        client=card,
        kind="photo",
        file=name,
        original_name="old.jpg",
        content_type="image/jpeg",
        size=len(jpeg_bytes()),
        sha256=hashlib.sha256(jpeg_bytes()).hexdigest(),
    )

    rotate("--no-new-key")  # without --encrypt-existing, plaintext stays
    assert HealthNote.objects.get(pk=note.pk).stored_text == "Старое"
    assert Document.objects.get(pk=legacy.pk).key_id == ""

    output = rotate("--no-new-key", "--encrypt-existing")

    assert "document files: 1 re-encrypted, done" in output
    assert HealthNote.objects.get(pk=note.pk).stored_text.startswith("kt1.1.")
    assert health.health_note_get(user=ada, client=card, pk=note.pk)[1] == "Старое"
    legacy.refresh_from_db()
    assert legacy.key_id == "1"
    assert not default_storage.exists(name)  # the plaintext copy is gone
    with default_storage.open(legacy.file.name) as stored:
        assert encrypted_files.is_encrypted(stored.read())
    with document_file(legacy) as plain:
        assert plain.read() == jpeg_bytes()


def test_a_tampered_value_blocks_retiring_and_reads_as_undecryptable(
    ada, card, world, web_client_for, api_client_for, key_file
):
    victim = world["notes"][1]
    token = HealthNote.objects.get(pk=victim.pk).stored_text
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    HealthNote.objects.filter(pk=victim.pk).update(stored_text=flipped)

    with pytest.raises(CommandError, match=r"still in use.*key 1: 1 health notes"):
        rotate("--retire-old")
    assert set(crypto.keyring()[0]) == {"1", "2"}  # nothing retired
    assert HealthNote.objects.get(pk=victim.pk).stored_text == flipped  # left for a human

    page = web_client_for(ada).get(reverse("care:client-care", args=[card.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "This note cannot be decrypted" in html
    assert NOTES[0] in html
    assert NOTES[2] in html
    listed = api_client_for(ada).get(f"/api/v1/clients/{card.pk}/health-notes")
    assert listed.status_code == 200
    texts = [item["text"] for item in listed.json()]
    assert texts[0] == NOTES[0]
    assert texts[1].startswith("This note cannot be decrypted")
    card_page = web_client_for(ada).get(card.get_absolute_url())
    assert card_page.status_code == 200


def test_retiring_with_nothing_to_retire_says_so(world):
    assert "No old keys to retire." in rotate("--no-new-key", "--retire-old")


def test_every_encrypted_column_is_rotated():
    """Whoever starts encrypting a new column adds it to rotate_keys.encrypted_columns."""
    root = pathlib.Path(crypto.__file__).resolve().parents[1]
    writers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "tests" not in path.parts
        and "migrations" not in path.parts
        and re.search(r"crypto\.(encrypt|encrypt_bytes)\(", path.read_text(encoding="utf-8"))
    )
    assert writers == ["accounts/two_factor.py", "care/health.py", "core/key_rotation.py"]
    purposes = {column.purpose for column in rotate_keys.encrypted_columns()}
    assert purposes == {health.PURPOSE, two_factor.PURPOSE}
