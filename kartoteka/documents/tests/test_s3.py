"""Documents in an S3-compatible bucket (KARTOTEKA_S3_BUCKET).

The bucket is a real S3 HTTP server on loopback (moto's server mode), reached over HTTP by
boto3 exactly as a MinIO or cloud bucket would be: what is tested is that files land in the
bucket, privately, and go out only through Kartoteka's permission-checked views.
"""

import datetime
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config
from django.core.management import call_command
from django.urls import reverse
from moto.server import ThreadedMotoServer

from kartoteka.clients.tests.factories import make_person
from kartoteka.core import encrypted_files
from kartoteka.documents.models import Document
from kartoteka.documents.services import document_upload
from kartoteka.documents.tests.files import jpeg_bytes, pdf_bytes, upload

pytestmark = pytest.mark.django_db

BUCKET = "kartoteka-files"
KEYS = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **KEYS).create_bucket(
        Bucket=BUCKET
    )
    yield endpoint
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": KEYS["aws_access_key_id"],
                "secret_key": KEYS["aws_secret_access_key"],
                "location": "kartoteka",
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
                "addressing_style": "path",
            },
        },
    }
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
        **KEYS,
    )


def _objects(client) -> dict[str, bytes]:
    listing = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {
        item["Key"]: client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        for item in listing
    }


def test_uploads_go_to_the_bucket_and_come_back_only_through_the_views(
    s3_storage, s3_endpoint, alice, charlie, web_client_for
):
    card = make_person(alice)
    contract = document_upload(
        actor=alice,
        client=card,
        uploaded=upload("Договор.pdf", pdf_bytes()),
        kind="contract",
        dated_on=datetime.date(2026, 3, 1),
    )
    photo = document_upload(
        actor=alice, client=card, uploaded=upload("IMG_1.jpg", jpeg_bytes(gps=True)), kind="photo"
    )

    stored = _objects(s3_storage)
    contract = Document.objects.get(pk=contract.pk)
    assert stored[f"kartoteka/{contract.file.name}"] == pdf_bytes()
    photo_key = f"kartoteka/{Document.objects.get(pk=photo.pk).file.name}"
    assert b"Exif" not in stored[photo_key]  # re-encoded before it left the machine
    assert any(key.startswith("kartoteka/") and "thumb" in key for key in stored)

    # Nothing in the bucket is readable without credentials.
    anonymous = requests.get(f"{s3_endpoint}/{BUCKET}/{photo_key}", timeout=10)
    assert anonymous.status_code == 403

    owner = web_client_for(alice).get(reverse("documents:download", args=[contract.pk]))
    assert owner.status_code == 200
    assert b"".join(owner.streaming_content) == pdf_bytes()
    outsider = web_client_for(charlie).get(reverse("documents:download", args=[contract.pk]))
    assert outsider.status_code == 404


def test_photos_and_identity_documents_are_ciphertext_in_the_bucket(
    s3_storage, alice, web_client_for, tmp_path, settings
):
    settings.KARTOTEKA_ENCRYPTION_KEY_FILE = tmp_path / "keys"
    canary = b"CANARY-passport-in-the-bucket"
    passport_pdf = pdf_bytes().replace(b"%%EOF", b"(" + canary + b")\n%%EOF")
    card = make_person(alice)
    passport = document_upload(
        actor=alice, client=card, uploaded=upload("id.pdf", passport_pdf), kind="identity"
    )
    photo = document_upload(
        actor=alice, client=card, uploaded=upload("face.jpg", jpeg_bytes()), kind="photo"
    )

    stored = _objects(s3_storage)
    web = web_client_for(alice)
    for document in (passport, photo):
        document = Document.objects.get(pk=document.pk)
        key = f"kartoteka/{document.file.name}"
        assert stored[key].startswith(b"KTENC")  # encrypted before it left the machine
        assert canary not in stored[key]
        assert b"%PDF" not in stored[key]
        assert b"\xff\xd8\xff" not in stored[key]
        response = web.get(reverse("documents:download", args=[document.pk]))
        assert response.status_code == 200
        served = b"".join(response.streaming_content)
        assert (
            served == passport_pdf if document.pk == passport.pk else served[:3] == b"\xff\xd8\xff"
        )
    assert stored[f"kartoteka/{Document.objects.get(pk=photo.pk).thumbnail.name}"].startswith(
        b"KTENC"
    )

    # Key rotation rewrites the objects in the bucket and removes the old ones.
    old_keys = {
        f"kartoteka/{name}"
        for document in Document.objects.filter(client=card)
        for name in (document.file.name, document.thumbnail.name)
        if name
    }
    call_command("rotate_keys", "--retire-old", stdout=io.StringIO())
    rotated = _objects(s3_storage)
    assert not old_keys & set(rotated)
    passport = Document.objects.get(pk=passport.pk)
    assert passport.key_id == "2"
    sealed = io.BytesIO(rotated[f"kartoteka/{passport.file.name}"])
    assert encrypted_files.file_key_id(sealed) == "2"
    response = web.get(reverse("documents:download", args=[passport.pk]))
    assert b"".join(response.streaming_content) == passport_pdf


def test_production_settings_select_the_bucket_from_the_environment(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KARTOTEKA_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env |= {
        "KARTOTEKA_DATA_DIR": str(tmp_path),
        "KARTOTEKA_S3_BUCKET": "crm-files",
        "KARTOTEKA_S3_ENDPOINT_URL": "https://storage.example.ru",
        "KARTOTEKA_S3_ACCESS_KEY": "AK",
        "KARTOTEKA_S3_SECRET_KEY_FILE": str(tmp_path / "secret"),
    }
    (tmp_path / "secret").write_text("from-a-file\n", encoding="utf-8")
    code = (
        "import django; django.setup();"
        "from django.core.files.storage import storages;"
        "s = storages['default'];"
        "print(type(s).__name__, s.bucket_name, s.endpoint_url, s.secret_key, s.default_acl,"
        " s.location)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "kartoteka.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "S3Storage",
        "crm-files",
        "https://storage.example.ru",
        "from-a-file",
        "private",
        "kartoteka",
    ]
