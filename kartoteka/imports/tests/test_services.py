import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from kartoteka.clients import services as client_services
from kartoteka.clients.models import Client, ContactPoint
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.models import ObjectChange
from kartoteka.imports import engine, services
from kartoteka.imports.models import Import, ImportedCard, ImportRowError
from kartoteka.imports.tests import files
from kartoteka.search.models import SearchEntry


def upload(user, data: bytes, name: str = "clients.csv", **options) -> Import:
    return services.import_upload(actor=user, file=SimpleUploadedFile(name, data), **options)


@pytest.fixture
def run(committed):
    def start(user, job: Import, **config) -> Import:
        if config:
            services.import_configure(actor=user, job=job, **config)
        committed(services.import_start, actor=user, job=job)
        return Import.objects.get(pk=job.pk)

    return start


def test_upload_detects_format_and_maps_russian_columns(alice):
    job = upload(alice, files.russian_excel_csv())

    assert (job.format, job.encoding, job.delimiter) == ("csv", "cp1251", ";")
    assert job.mapping == {
        "0": "full_name",
        "1": "phone",
        "2": "email",
        "3": "inn",
        "4": "company",
        "5": "position",
        "6": "birth_date",
    }
    assert job.status == Import.Status.UPLOADED
    assert job.responsible == alice
    assert Client.objects.count() == 0


def test_upload_maps_chinese_columns(alice):
    job = upload(alice, files.chinese_excel_csv())

    assert job.mapping == {
        "0": "full_name", "1": "phone", "2": "email", "3": "company", "4": "position",
        "5": "uscc",
    }  # fmt: skip


def test_run_creates_cards_as_client_create_would(alice, north, run):
    job = upload(alice, files.russian_excel_csv())

    job = run(alice, job)

    assert job.status == Import.Status.DONE
    assert (job.created_count, job.error_count, job.processed_rows) == (3, 0, 3)
    ivanov = Client.objects.get(last_name="Иванов")
    assert (ivanov.first_name, ivanov.middle_name) == ("Иван", "Иванович")
    assert ivanov.display_name == "Иванов Иван Иванович"
    assert ivanov.workplace == "ООО Ромашка"
    assert str(ivanov.birth_date) == "1980-02-01"
    assert ivanov.responsible == alice
    assert ivanov.team == north
    assert ivanov.created_by == alice
    assert sorted(ivanov.contacts.values_list("kind", "value", "normalized", "is_primary")) == [
        ("email", "ivanov@mail.ru", "ivanov@mail.ru", True),
        ("phone", "+7 916 123-45-67", "+79161234567", True),
    ]
    sber = Client.objects.get(inn=files.INN_COMPANY)
    assert sber.kind == Client.Kind.COMPANY
    assert sber.legal_name == "ПАО Сбербанк"
    # Findable at once, by the same document the services write.
    from kartoteka.search.indexing import build_document

    entry = SearchEntry.objects.get(client=ivanov)
    assert entry.document == build_document(ivanov, list(ivanov.contacts.order_by("pk")))
    # Numbers continue the counter, and the next card made by hand follows them.
    numbers = sorted(Client.objects.values_list("number", flat=True))
    assert numbers == [1, 2, 3]
    manual = client_services.client_create(actor=alice, data={"last_name": "Ручной"})
    assert manual.number == 4
    change = ObjectChange.objects.get(
        content_type__model="client", object_id=ivanov.pk, action="create"
    )
    assert change.actor == alice
    assert change.message == f"import #{job.pk}"
    assert change.after["last_name"] == "Иванов"
    assert ImportedCard.objects.filter(job=job, action="created").count() == 3


def test_dry_run_reports_errors_per_row_in_the_users_language(alice, committed):
    rows = [
        ["ФИО", "Телефон", "E-mail", "ИНН"],
        ["Иванов Иван", "+7 916 123-45-67", "ivanov@mail.ru", ""],
        ["Петров Пётр", "12345", "petrov@", "7707083894"],
        ["", "", "", ""],
        ["", "+7 916 000-00-01", "", ""],
    ]
    job = upload(alice, files.russian_excel_csv(rows))

    with translation.override("ru"):
        committed(services.import_check, actor=alice, job=job)
    job.refresh_from_db()

    assert job.status == Import.Status.CHECKED
    assert job.dry_run == {
        "rows": 3, "valid": 1, "errors": 2, "create": 1, "update": 0, "skip": 0
    }  # fmt: skip
    errors = list(ImportRowError.objects.filter(job=job, is_dry_run=True))
    assert [(e.row, e.header, e.value, e.code) for e in errors] == [
        (3, "ИНН", "7707083894", "invalid_inn"),
        (3, "Телефон", "12345", "invalid_phone"),
        (3, "E-mail", "petrov@", "invalid_email"),
        (5, "ФИО", "", "name_required"),
    ]
    assert "ИНН" in errors[0].message
    assert "контрольн" in errors[0].message.lower()
    assert Client.objects.count() == 0  # a dry run writes no card


def test_rows_with_errors_are_skipped_and_reported(alice, run):
    rows = [["ФИО", "Телефон"], ["Иванов Иван", "+79161234567"], ["Петров Пётр", "12345"]]
    job = upload(alice, files.russian_excel_csv(rows))

    job = run(alice, job)

    assert (job.created_count, job.error_count) == (1, 1)
    error = ImportRowError.objects.get(job=job, is_dry_run=False)
    assert (error.row, error.header, error.value) == (3, "Телефон", "12345")
    assert not Client.objects.filter(last_name="Петров").exists()


def test_second_run_of_the_same_file_changes_nothing(alice, run):
    first = run(alice, upload(alice, files.russian_excel_csv()))
    state = list(Client.objects.order_by("pk").values())
    contacts = list(ContactPoint.objects.order_by("pk").values())
    changes = ObjectChange.objects.count()

    second = run(alice, upload(alice, files.russian_excel_csv()))

    assert first.created_count == 3
    assert (second.created_count, second.updated_count, second.unchanged_count) == (0, 0, 3)
    assert list(Client.objects.order_by("pk").values()) == state
    assert list(ContactPoint.objects.order_by("pk").values()) == contacts
    assert ObjectChange.objects.count() == changes


def test_matching_card_is_updated_and_undo_restores_it(alice, run, committed):
    existing = client_services.client_create(
        actor=alice,
        data={"last_name": "Иванов", "first_name": "Иван", "position": "инженер"},
        contacts=[{"kind": "phone", "value": "+7 916 123-45-67"}],
    )
    job = upload(alice, files.russian_excel_csv())

    job = run(alice, job)

    assert (job.created_count, job.updated_count) == (2, 1)
    existing.refresh_from_db()
    assert existing.position == "директор"
    assert existing.middle_name == "Иванович"
    assert sorted(existing.contacts.values_list("normalized", flat=True)) == [
        "+79161234567",
        "ivanov@mail.ru",
    ]
    record = ImportedCard.objects.get(job=job, action="updated")
    assert record.before["fields"]["position"] == "инженер"

    committed(services.import_undo, actor=alice, job=job)

    job.refresh_from_db()
    assert job.status == Import.Status.UNDONE
    assert list(Client.objects.values_list("pk", flat=True)) == [existing.pk]
    existing.refresh_from_db()
    assert (existing.position, existing.middle_name) == ("инженер", "")
    assert list(existing.contacts.values_list("normalized", flat=True)) == ["+79161234567"]
    assert SearchEntry.objects.count() == 1
    assert (
        ObjectChange.objects.filter(action="delete", message=f"undo of import #{job.pk}").count()
        == 2
    )


@pytest.mark.parametrize(
    ("on_match", "created", "updated", "skipped", "cards"),
    [("skip", 2, 0, 1, 3), ("create", 3, 0, 0, 4)],
)
def test_on_match_skip_or_create(alice, on_match, created, updated, skipped, cards, run):
    client_services.client_create(
        actor=alice,
        data={"last_name": "Иванов"},
        contacts=[{"kind": "email", "value": "ivanov@mail.ru"}],
    )
    job = upload(alice, files.russian_excel_csv())

    job = run(alice, job, on_match=on_match)

    assert (job.created_count, job.updated_count, job.skipped_count) == (created, updated, skipped)
    assert Client.objects.count() == cards


def test_match_by_card_number_and_registration_number(alice, run):
    company = client_services.client_create(
        actor=alice, data={"kind": "company", "legal_name": "Сбер", "inn": files.INN_COMPANY}
    )
    person = client_services.client_create(actor=alice, data={"last_name": "Старый"})
    rows = [
        ["Номер карты", "Наименование", "ИНН", "Фамилия", "Должность"],
        [str(person.number), "", "", "Новый", "кассир"],
        ["", "ПАО Сбербанк", files.INN_COMPANY, "", ""],
    ]
    job = upload(alice, files.csv_bytes(rows))

    job = run(alice, job)

    assert (job.created_count, job.updated_count) == (0, 2)
    person.refresh_from_db()
    company.refresh_from_db()
    assert (person.last_name, person.position) == ("Новый", "кассир")
    assert company.legal_name == "ПАО Сбербанк"


def test_invisible_cards_are_not_matched(alice, charlie, run):
    client_services.client_create(
        actor=charlie,
        data={"last_name": "Чужой"},
        contacts=[{"kind": "email", "value": "ivanov@mail.ru"}],
    )
    job = upload(alice, files.russian_excel_csv())

    job = run(alice, job)

    assert (job.created_count, job.updated_count) == (3, 0)
    assert Client.objects.get(last_name="Чужой").position == ""


def test_same_client_twice_in_a_file_makes_one_card(alice, run):
    rows = [
        ["ФИО", "Телефон", "E-mail"],
        ["Иванов Иван", "+7 916 123-45-67", ""],
        ["Иванов Иван", "8 916 123 45 67", "ivanov@mail.ru"],
    ]
    job = upload(alice, files.csv_bytes(rows))

    job = run(alice, job, match_by=["phone", "email"])

    assert Client.objects.count() == 1
    card = Client.objects.get()
    assert sorted(card.contacts.values_list("kind", flat=True)) == ["email", "phone"]


def test_vcard_import_and_xlsx_import(alice, run):
    vcard_job = run(alice, upload(alice, files.iphone_vcard_30(), "contacts.vcf"))
    xlsx_job = run(alice, upload(alice, files.xlsx_bytes_merged_header(), "clients.xlsx"))

    assert vcard_job.created_count == 2
    elena = Client.objects.get(last_name="Смирнова")
    assert elena.workplace == "ООО Вектор Отдел продаж"
    assert elena.contacts.filter(kind="phone").count() == 2
    assert elena.contacts.filter(kind="email").count() == 2
    assert "интересуется оптовыми поставками" in elena.notes
    assert xlsx_job.created_count == 2
    sidorov = Client.objects.get(last_name="Сидоров")
    assert sidorov.inn == files.INN_COMPANY
    assert sorted(sidorov.contacts.filter(kind="phone").values_list("normalized", flat=True)) == [
        "+74951112233",
        "+79160001122",
    ]


def test_chinese_names_are_split(alice, run):
    job = run(alice, upload(alice, files.chinese_excel_csv()))

    assert job.created_count == 3
    assert Client.objects.filter(last_name="王", first_name="小明").exists()
    assert Client.objects.filter(last_name="欧阳", first_name="娜娜").exists()
    huawei = Client.objects.get(uscc=files.USCC)
    assert (huawei.kind, huawei.legal_name) == ("company", "华为技术有限公司")


def test_read_only_user_cannot_import(rita):
    with pytest.raises(PermissionDenied):
        upload(rita, files.russian_excel_csv())

    assert Import.objects.count() == 0


def test_employee_cannot_give_cards_to_someone_else(alice, bob, south):
    job = upload(alice, files.russian_excel_csv())

    with pytest.raises(PermissionDenied):
        services.import_configure(actor=alice, job=job, responsible=bob)
    with pytest.raises(PermissionDenied):
        services.import_configure(actor=alice, job=job, team=south)

    job.refresh_from_db()
    assert job.responsible == alice


def test_manager_assigns_cards_to_a_team_member(mallory, bob, north, run):
    job = upload(mallory, files.russian_excel_csv())

    job = run(mallory, job, responsible=bob, team=north)

    assert job.created_count == 3
    assert set(Client.objects.values_list("responsible", "team")) == {(bob.pk, north.pk)}


def test_only_the_owner_or_an_admin_acts_on_an_import(alice, bob, ada, run):
    job = upload(alice, files.russian_excel_csv())

    with pytest.raises(PermissionDenied):
        services.import_start(actor=bob, job=job)
    assert Client.objects.count() == 0

    run(ada, job)
    assert Client.objects.count() == 3


def test_configure_refuses_unknown_fields_and_a_mapping_without_names(alice):
    job = upload(alice, files.russian_excel_csv())

    with pytest.raises(ValidationError) as unknown:
        services.import_configure(actor=alice, job=job, mapping={"0": "shoe_size"})
    with pytest.raises(ValidationError) as nameless:
        services.import_configure(actor=alice, job=job, mapping={"1": "phone"})

    assert "mapping" in unknown.value.error_dict
    assert nameless.value.error_dict["mapping"][0].code == "name_column_required"


def test_undo_archives_a_created_card_someone_changed_since(alice, run, committed):
    job = run(alice, upload(alice, files.russian_excel_csv()))
    ivanov = Client.objects.get(last_name="Иванов")
    client_services.client_update(
        actor=alice, client=ivanov, expected_version=None, data={"notes": "важный"}
    )

    committed(services.import_undo, actor=alice, job=job)

    assert list(Client.objects.values_list("last_name", "is_archived")) == [("Иванов", True)]


def test_parallel_validation_gives_the_same_cards(alice):
    rows = [["ФИО", "Телефон"]] + [
        [f"Иванов{i} Иван", f"+7 916 {i:03d}-00-00"] for i in range(100, 400)
    ]
    job = upload(alice, files.csv_bytes(rows))
    services.import_start(actor=alice, job=job, enqueue=False)

    engine.run_import(job.pk, workers=2)

    job.refresh_from_db()
    assert (job.status, job.created_count) == (Import.Status.DONE, 300)
    assert Client.objects.get(last_name="Иванов250").contacts.get().normalized == "+79162500000"


def test_failed_batch_leaves_nothing_and_resume_continues(alice, settings, committed):
    settings.KARTOTEKA_IMPORT_BATCH_SIZE = 2
    rows = [["ФИО", "Телефон"]] + [
        [f"Клиент{i} Иван", f"+7 916 {i:03d}-00-00"] for i in range(100, 106)
    ]
    job = upload(alice, files.csv_bytes(rows))
    services.import_start(actor=alice, job=job, enqueue=False)
    calls = []

    def stop_after_two_batches(job, result):
        calls.append(result)
        if len(calls) == 2:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        engine.run_import(job.pk, on_batch=stop_after_two_batches)

    job.refresh_from_db()
    assert job.status == Import.Status.FAILED
    assert (job.checkpoint_row, job.created_count) == (5, 4)
    assert Client.objects.count() == 4

    committed(services.import_resume, actor=alice, job=job)

    job.refresh_from_db()
    assert (job.status, job.created_count, job.processed_rows) == (Import.Status.DONE, 6, 6)
    assert Client.objects.count() == 6


def test_new_cards_are_checked_for_duplicates_after_the_import(alice, run, web_client_for):
    from kartoteka.dedupe.models import DuplicateScan

    make_person(alice, last_name="Иванов", first_name="Иван", middle_name="Иванович")

    job = run(alice, upload(alice, files.russian_excel_csv()))
    again = run(alice, upload(alice, files.russian_excel_csv()))
    page = web_client_for(alice).get(reverse("imports:detail", args=[job.pk])).content.decode()

    scans = list(DuplicateScan.objects.all())
    assert job.created_count == 3
    assert again.created_count == 0
    assert len(scans) == 1  # the second run created nothing, so nothing new to compare
    assert scans[0].created_by == alice
    assert scans[0].status == DuplicateScan.Status.DONE
    assert 'id="duplicates-link"' in page


@pytest.mark.parametrize("batch_size", [2, 2000])
def test_rows_that_contradict_each_other_give_the_same_card_whatever_the_batches(
    alice, run, settings, batch_size
):
    """Two rows of one file about the same client (same email) with different positions: the
    first row decides, the later one fills only what is empty, in one batch or across two,
    and a second run of the file changes nothing."""
    settings.KARTOTEKA_IMPORT_BATCH_SIZE = batch_size
    rows = [
        ["ФИО", "E-mail", "Должность", "Дата рождения"],
        ["Орлова Анна", "anna@orlova.ru", "директор", ""],
        ["Соколов Пётр", "petr@sokolov.ru", "", ""],
        ["Орлова Анна", "ANNA@orlova.ru", "бухгалтер", "01.02.1980"],
    ]
    data = files.csv_bytes(rows)

    first = run(alice, upload(alice, data), match_by=["email"])
    state = list(Client.objects.order_by("pk").values())
    changes = ObjectChange.objects.count()
    second = run(alice, upload(alice, data), match_by=["email"])

    anna = Client.objects.get(last_name="Орлова")
    assert anna.position == "директор"
    assert str(anna.birth_date) == "1980-02-01"
    assert first.created_count == 2
    assert (second.created_count, second.updated_count) == (0, 0)
    assert list(Client.objects.order_by("pk").values()) == state
    assert ObjectChange.objects.count() == changes
