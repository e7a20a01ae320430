"""The file formats on real files: XLSX opened with openpyxl, CSV decoded, vCard parsed."""

import csv
import datetime
import io

import pytest
from openpyxl import load_workbook

from kartoteka.exports import formats
from kartoteka.exports.formats import Column
from kartoteka.exports.tests.vcard_reader import read_cards, split_unescaped

COLUMNS = [Column("name", "Name"), Column("phones", "Phones", phone=True), Column("n", "N")]
EVIL = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (EVIL, "'" + EVIL),
        ("+1+1", "'+1+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Иванов", "Иванов"),
        ("", ""),
    ],
)
def test_neutralise(value, expected):
    assert formats.neutralise(value) == expected


def test_xlsx_cells_are_text_and_formulas_are_neutralised():
    out = io.BytesIO()
    rows = [
        {"name": EVIL, "phones": "+7 916 123-45-67, +7 495 123-45-67", "n": 5},
        {"name": "王小明", "phones": "+1 (x) =evil", "n": datetime.date(2020, 2, 29)},
    ]
    stats = formats.write_xlsx(out, COLUMNS, rows, sheet_title="Clients")
    assert stats.rows == 2
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["Name", "Phones", "N"]
    assert values[1][0] == "'" + EVIL
    assert sheet.cell(2, 1).data_type == "s"  # text, never a formula
    # A real phone list stays exactly itself, as text, usable for dialling.
    assert values[1][1] == "+7 916 123-45-67, +7 495 123-45-67"
    assert sheet.cell(2, 2).data_type == "s"
    # Something in the phone column that is not a phone list is neutralised like any text.
    assert values[2][1] == "'+1 (x) =evil"
    assert values[2][0] == "王小明"
    assert values[1][2] == 5
    assert values[2][2].date() == datetime.date(2020, 2, 29)


def test_csv_utf8_with_and_without_bom():
    rows = [{"name": "王小明", "phones": "+7 916 123-45-67", "n": 1}]
    plain, bom = io.BytesIO(), io.BytesIO()
    formats.write_csv(plain, COLUMNS, rows)
    formats.write_csv(bom, COLUMNS, rows, bom=True)
    assert not plain.getvalue().startswith(b"\xef\xbb\xbf")
    assert bom.getvalue().startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(bom.getvalue().decode("utf-8-sig"))))
    assert parsed == [["Name", "Phones", "N"], ["王小明", "'+7 916 123-45-67", "1"]]
    assert b"\r\n" in plain.getvalue()


def test_cp1251_semicolon_csv_transliterates_what_it_cannot_hold():
    rows = [
        {"name": "Иванов Иван", "phones": "", "n": 1},
        {"name": "王小明", "phones": "", "n": 2},
        {"name": "Łukasz Żółć", "phones": "", "n": 3},
        {"name": EVIL + ";x", "phones": "", "n": 4},
    ]
    out = io.BytesIO()
    stats = formats.write_csv(out, COLUMNS, rows, encoding="cp1251", delimiter=";")
    text = out.getvalue().decode("cp1251")  # strict: every byte is valid Windows-1251
    parsed = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert parsed[1][0] == "Иванов Иван"
    assert parsed[2][0] == "Wang Xiao Ming"
    assert parsed[3][0] == "Lukasz Zolc"
    assert parsed[4][0] == "'" + EVIL + ";x"
    assert stats.replaced == 2


def test_vcard_folds_at_75_octets_without_splitting_characters():
    line = "NOTE:" + "Ж" * 100  # 205 octets
    folded = formats.vcard_fold(line)
    physical = folded.split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in physical)
    assert all(p.startswith(" ") for p in physical[1:])
    assert "".join([physical[0], *(p[1:] for p in physical[1:])]) == line


def test_vcard_round_trip_with_escaping():
    person = {
        "is_company": False,
        "card_number": "000042",
        "display_name": "Иванова Мария Петровна",
        "last_name": "Иванова",
        "first_name": "Мария",
        "middle_name": "Петровна",
        "legal_name": "",
        "company": "ООО «Ромашка, Лютик; и партнёры»",
        "position": "Бухгалтер",
        "birth_date": datetime.date(1980, 2, 29),
        "phone_list": ["+7 916 123-45-67", "+7 495 123-45-67"],
        "email_list": ["maria@example.com"],
        "address_list": [("HOME", "Москва, Тверская 7; кв. 5")],
        "notes": "Строка 1,\nстрока 2 \\ конец. " + "длинная " * 20,
    }
    company = {
        **person,
        "is_company": True,
        "display_name": "Ромашка",
        "legal_name": "ООО «Ромашка»",
        "phone_list": [],
        "email_list": [],
        "address_list": [],
        "notes": "",
    }
    out = io.BytesIO()
    stats = formats.write_vcard(out, [person, company])
    assert stats.rows == 2
    raw = out.getvalue().decode("utf-8")
    assert all(len(line.encode("utf-8")) <= 75 for line in raw.split("\r\n"))
    first, second = read_cards(raw)
    assert split_unescaped(first["N"][0], ";")[:3] == ["Иванова", "Мария", "Петровна"]
    assert split_unescaped(first["FN"][0], ";") == ["Иванова Мария Петровна"]
    assert split_unescaped(first["ORG"][0], ";") == ["ООО «Ромашка, Лютик; и партнёры»"]
    assert first["TITLE"] == ["Бухгалтер"]
    assert first["BDAY"] == ["1980-02-29"]
    assert first["TEL"] == ["+7 916 123-45-67", "+7 495 123-45-67"]
    assert first["EMAIL"] == ["maria@example.com"]
    assert split_unescaped(first["ADR"][0], ";")[2] == "Москва, Тверская 7; кв. 5"
    assert split_unescaped(first["NOTE"][0], ";") == [person["notes"]]
    assert split_unescaped(second["ORG"][0], ";") == ["ООО «Ромашка»"]
    assert "BDAY" not in second
    assert "TEL" not in second
