"""The access export: data.json holds the card's data from every app, index.html the same for
people, and the documents' files are in the archive."""

import io
import json
import zipfile

import pytest

from kartoteka.care.models import HealthAccessLog
from kartoteka.privacy import access, services
from kartoteka.privacy.tests.data import give_health_access, rich_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich(ada):
    give_health_access(ada)
    return rich_card(ada, secret="Экспорт")


def test_json_holds_the_card_across_apps(rich, ada):
    card = rich["card"]
    before = HealthAccessLog.objects.filter(action="view").count()

    data = access.collect(card, ada)

    assert data["card"]["number"] == card.number
    assert data["card"]["notes"] == "заметка Экспорт"
    sections = data["sections"]
    assert {r["value"] for r in sections["clients.ContactPoint"]["rows"]} == {
        "+7 916 555-12-34",
        "экспорт@example.com",
    }
    assert sections["activities.Interaction"]["rows"][0]["content"] == "разговор Экспорт"
    assert sections["sales.Order"]["rows"][0]["notes"] == "заказ Экспорт"
    assert sections["sales.OrderLine"]["rows"][0]["total"] == str(rich["order"].lines.get().total)
    assert sections["finance.Invoice"]["rows"][0]["amount"] == "3000.00"
    assert sections["finance.Payment"]["rows"][0]["amount"] == "1200.00"
    assert sections["care.SurveyResponse"]["rows"][0]["summary"] == "отзыв Экспорт"
    assert sections["care.Recommendation"]["rows"][0]["text"] == "совет Экспорт"
    assert sections["care.HealthNote"]["rows"][0]["text"] == "аллергия Экспорт"
    assert "stored_text" not in sections["care.HealthNote"]["rows"][0]
    assert sections["consent.ConsentEvent"]["rows"][0]["evidence_reference"] == "анкета Экспорт"
    assert sections["tasks.Task"]["rows"][0]["notes"] == "задача Экспорт"
    assert len(sections["documents.Document"]["rows"]) == 2
    assert sections["core.ObjectChange"]["rows"]
    assert HealthAccessLog.objects.filter(action="view").count() == before + 1


def test_zip_has_json_html_and_the_files(rich, ada):
    archive = zipfile.ZipFile(io.BytesIO(services.subject_export(rich["card"], ada)))
    names = set(archive.namelist())

    contract = rich["contract"]
    assert {"data.json", "index.html"} <= names
    contract_name = f"documents/{contract.pk}-contract.pdf"
    assert contract_name in names
    assert archive.read(contract_name).endswith("% Экспорт".encode())
    assert f"documents/{rich['photo'].pk}-Экспорт.jpg" in names
    data = json.loads(archive.read("data.json"))
    assert set(data["files"]) == {n for n in names if n.startswith("documents/")}
    html = archive.read("index.html").decode()
    assert "аллергия Экспорт" in html
    assert "разговор Экспорт" in html
    assert "<!DOCTYPE html>" in html


def test_export_queries_do_not_grow_with_rows(ada, django_assert_max_num_queries):
    give_health_access(ada)
    small = rich_card(ada, secret="Один")["card"]
    with django_assert_max_num_queries(200) as one:
        access.collect(small, ada)
    baseline = len(one.captured_queries)
    assert baseline > 0
    big = rich_card(ada, secret="Два")
    for n in range(5):
        rich_card(ada, secret=f"Ещё{n}")
    from kartoteka.activities.services import interaction_create

    for n in range(5):
        interaction_create(actor=ada, client=big["card"], data={"kind": "note", "content": str(n)})

    with django_assert_max_num_queries(baseline):
        access.collect(big["card"], ada)
