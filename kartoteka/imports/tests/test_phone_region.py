"""A file from another country: phones without a country code read as that country's."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kartoteka.clients.models import ContactPoint
from kartoteka.imports import services
from kartoteka.imports.models import Import
from kartoteka.imports.tests import files

UA_ROWS = [
    ["Прізвище", "Ім'я", "Телефон"],
    ["Шевченко", "Тарас", "067 123 45 67"],
    ["Коваленко", "Олена", "(050) 765-43-21"],
]


def _upload(user) -> Import:
    data = files.csv_bytes(UA_ROWS)
    return services.import_upload(actor=user, file=SimpleUploadedFile("ua.csv", data))


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def start(user, job, **config):
        services.import_configure(actor=user, job=job, **config)
        with django_capture_on_commit_callbacks(execute=True):
            services.import_start(actor=user, job=job)
        return Import.objects.get(pk=job.pk)

    return start


def test_ukrainian_numbers_with_the_region_chosen(alice, run, settings):
    settings.KARTOTEKA_PHONE_REGION = "RU"

    job = run(alice, _upload(alice), phone_region="ua")

    assert job.phone_region == "UA"
    assert (job.created_count, job.error_count) == (2, 0)
    assert set(ContactPoint.objects.values_list("normalized", flat=True)) == {
        "+380671234567",
        "+380507654321",
    }


def test_same_file_read_as_russian_numbers_reports_the_rows(alice, run, settings):
    settings.KARTOTEKA_PHONE_REGION = "RU"

    job = run(alice, _upload(alice))

    assert job.phone_region == ""
    assert job.error_count == 2
    assert not ContactPoint.objects.filter(normalized__startswith="+380").exists()


def test_unknown_region_is_refused_per_field(alice):
    job = _upload(alice)

    with pytest.raises(ValidationError) as caught:
        services.import_configure(actor=alice, job=job, phone_region="XX")

    assert "phone_region" in caught.value.message_dict
    assert Import.objects.get(pk=job.pk).phone_region == ""


def test_mapping_screen_and_api_offer_the_region(alice, web_client_for, api_client_for):
    job = _upload(alice)

    page = web_client_for(alice).get(reverse("imports:detail", args=[job.pk])).content.decode()
    patched = api_client_for(alice).patch(
        f"/api/v1/imports/{job.pk}", {"phone_region": "CN"}, content_type="application/json"
    )
    refused = api_client_for(alice).patch(
        f"/api/v1/imports/{job.pk}", {"phone_region": "ZZ"}, content_type="application/json"
    )

    assert 'name="phone_region"' in page
    assert "(+380)" in page
    assert patched.status_code == 200
    assert patched.json()["phone_region"] == "CN"
    assert refused.status_code == 422
    assert Import.objects.get(pk=job.pk).phone_region == "CN"
