import io

import pytest

from kartoteka.imports.parsers import FileProblem, Limits, Options, open_table
from kartoteka.imports.tests import files


def _read(data: bytes, name: str = "clients.csv", **options):
    limits = options.pop("limits", None)
    table = open_table(io.BytesIO(data), name=name, options=Options(**options), limits=limits)
    return table, list(table.rows())


def test_russian_excel_csv_is_detected_as_cp1251_with_semicolons():
    table, rows = _read(files.russian_excel_csv())

    assert table.detected == {"format": "csv", "encoding": "cp1251", "delimiter": ";"}
    assert table.header == files.RU_ROWS[0]
    assert rows[0] == (2, files.RU_ROWS[1])
    assert len(rows) == 3


def test_chinese_excel_csv_is_detected_as_gb18030():
    table, rows = _read(files.chinese_excel_csv())

    assert table.detected["encoding"] == "gb18030"
    assert table.detected["delimiter"] == ","
    assert table.header[0] == "姓名"
    assert rows[1][1][0] == "欧阳娜娜"


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig")],
)
def test_utf8_with_and_without_bom(encoding, expected):
    table, rows = _read(files.csv_bytes(files.RU_ROWS, encoding=encoding))

    assert table.detected["encoding"] == expected
    assert table.header[0] == "ФИО"  # no BOM glued to the first column name
    assert rows[0][1][0] == "Иванов Иван Иванович"


def test_tab_separated_is_detected():
    table, _rows = _read(files.csv_bytes(files.RU_ROWS, delimiter="\t"))

    assert table.detected["delimiter"] == "\t"
    assert len(table.header) == 7


def test_user_override_of_encoding_and_delimiter():
    data = files.csv_bytes([["a;b", "c"], ["1;2", "3"]], encoding="cp1251", delimiter=",")

    table, rows = _read(data, encoding="cp1251", delimiter=",")

    assert table.header == ["a;b", "c"]
    assert rows == [(2, ["1;2", "3"])]


def test_wrong_encoding_chosen_is_a_clear_error():
    with pytest.raises(FileProblem) as caught:
        _read(files.russian_excel_csv(), encoding="utf-8")

    assert caught.value.code == "wrong_encoding"
    assert "utf-8" in caught.value.messages[0]


def test_wrong_encoding_late_in_the_file_names_the_row():
    # Past the sample the encoding is detected from: UTF-8 there, Windows-1251 at the end.
    data = files.csv_bytes([["Имя", "Телефон"]] + [["Анна", "1"]] * 30_000, encoding="utf-8")
    data += "Пётр,2\r\n".encode("cp1251")

    table = open_table(io.BytesIO(data), name="x.csv")
    with pytest.raises(FileProblem) as caught:
        list(table.rows())

    assert caught.value.code == "wrong_encoding"
    assert "30002" in caught.value.messages[0]


def test_truncated_csv_inside_a_quoted_cell_is_reported():
    data = files.csv_bytes(files.RU_ROWS) + b'"Cut off, in the middle of a quoted cell'

    table = open_table(io.BytesIO(data), name="x.csv")
    with pytest.raises(FileProblem) as caught:
        list(table.rows())

    assert caught.value.code == "damaged_row"
    assert "5" in caught.value.messages[0]


def test_ten_thousand_columns_are_refused():
    data = files.csv_bytes([[f"c{i}" for i in range(10_000)], ["x"] * 10_000])

    with pytest.raises(FileProblem) as caught:
        _read(data)

    assert caught.value.code == "too_many_columns"
    assert "10000" in caught.value.messages[0] or "10,000" in caught.value.messages[0]


def test_huge_cell_is_refused_with_the_limit_in_the_message():
    data = files.csv_bytes([["Имя", "Заметки"], ["Анна", "x" * 50_000]])

    with pytest.raises(FileProblem) as caught:
        _read(data, limits=Limits(max_cell_chars=10_000))

    assert caught.value.code == "cell_too_long"
    assert "10000" in caught.value.messages[0] or "10,000" in caught.value.messages[0]


def test_row_limit_is_configurable():
    data = files.csv_bytes([["Имя"]] + [["Анна"]] * 11)

    table = open_table(io.BytesIO(data), name="x.csv", limits=Limits(max_rows=10))
    with pytest.raises(FileProblem) as caught:
        list(table.rows())

    assert caught.value.code == "too_many_rows"


def test_empty_and_binary_files():
    with pytest.raises(FileProblem) as empty:
        _read(b"  \r\n")
    with pytest.raises(FileProblem) as binary:
        _read(b"\x00\x01\x02\x03garbage" * 100, name="x.csv", encoding="cp1251")

    assert empty.value.code == "empty_file"
    assert binary.value.code == "binary_file"


def test_xlsx_with_title_merged_two_level_header_and_empty_rows():
    table, rows = _read(files.xlsx_bytes_merged_header(), name="clients.xlsx")

    assert table.detected["format"] == "xlsx"
    assert table.header == [
        "Клиент / Фамилия",
        "Клиент / Имя",
        "Контакты / Телефон",
        "Контакты / Телефон",
        "Контакты / E-mail",
        "Реквизиты / ИНН",
    ]
    assert [number for number, _cells in rows] == [5, 8]
    # Numbers typed into cells keep their digits (no "7707083893.0").
    assert rows[0][1][5] == files.INN_COMPANY
    assert rows[1][1][2] == "79031112233"


def test_xlsx_merged_single_header_cell_covers_its_columns():
    data = files.xlsx_bytes([["Имя", "Телефон", None], ["Анна", "+79161234567", "+79031234567"]])

    table, _rows = _read(data, name="x.xlsx")

    assert table.header == ["Имя", "Телефон", "Телефон"]


def test_truncated_xlsx_is_reported():
    data = files.xlsx_bytes_merged_header()

    with pytest.raises(FileProblem) as caught:
        _read(data[: len(data) // 2], name="clients.xlsx")

    assert caught.value.code == "damaged_xlsx"


def test_iphone_vcard_30_with_folded_photo_and_several_phones():
    table, rows = _read(files.iphone_vcard_30(), name="contacts.vcf")

    assert table.detected["format"] == "vcard"
    cells = dict(zip(table.header, rows[0][1], strict=False))
    assert cells["Surname"] == "Смирнова"
    assert cells["Given name"] == "Елена"
    assert cells["Middle name"] == "Викторовна"
    assert cells["Company"] == "ООО Вектор Отдел продаж"
    assert cells["Birth date"] == "1985-03-14"
    assert cells["Notes"].endswith("интересуется оптовыми поставками")
    assert "просила перезвонить после праздников, " in cells["Notes"]
    phones = [c for h, c in zip(table.header, rows[0][1], strict=True) if h == "Phone"]
    emails = [c for h, c in zip(table.header, rows[0][1], strict=True) if h == "Email"]
    assert phones == ["+7 (916) 555-12-34", "+7 495 222-33-44"]
    assert emails == ["elena@vector.ru", "lena.smirnova@gmail.com"]
    assert not any("/9j/" in c or "base64" in c for c in rows[0][1])  # the photo is skipped
    assert len(rows) == 2


def test_android_vcard_21_quoted_printable():
    table, rows = _read(files.android_vcard_21_qp(), name="contacts.vcf")

    cells = dict(zip(table.header, rows[0][1], strict=False))
    assert cells["Surname"] == "Коваль"
    assert cells["Full name"] == "Тарас Коваль"
    assert [c for h, c in zip(table.header, rows[0][1], strict=True) if h == "Phone"] == [
        "+380671234567",
        "+380442345678",
    ]


def test_vcard_40_with_tel_uri():
    table, rows = _read(files.vcard_40(), name="contacts.vcf")

    cells = dict(zip(table.header, rows[0][1], strict=False))
    assert cells["Full name"] == "王芳"
    assert cells["Phone"] == "+86-138-0013-8000"
    assert cells["Email"] == "wang.fang@163.com"


def test_truncated_vcard_is_reported():
    data = files.iphone_vcard_30()

    with pytest.raises(FileProblem) as caught:
        _read(data[: len(data) - 40], name="contacts.vcf")

    assert caught.value.code == "damaged_vcard"
