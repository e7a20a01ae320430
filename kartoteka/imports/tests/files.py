"""Real-looking client files, made the way Excel, phones and mail programs make them."""

import base64
import csv
import io

import openpyxl

# Valid registration numbers (check digits verified by python-stdnum).
INN_COMPANY = "7707083893"  # Sberbank
INN_OTHER = "7736207543"  # Yandex
EDRPOU = "32855961"
USCC = "91110000802100433B"

RU_ROWS = [
    ["ФИО", "Телефон", "E-mail", "ИНН", "Компания", "Должность", "Дата рождения"],
    ["Иванов Иван Иванович", "8 (916) 123-45-67", "IVANOV@mail.ru", "", "ООО Ромашка",
     "директор", "01.02.1980"],
    ["Петрова Мария Сергеевна", "+7 903 765-43-21", "m.petrova@yandex.ru", "", "", "", ""],
    ["", "+7 495 987-65-43", "info@sber.ru", INN_COMPANY, "ПАО Сбербанк", "", ""],
]  # fmt: skip


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def russian_excel_csv(rows: list[list[str]] = RU_ROWS) -> bytes:
    """What Russian Excel writes for "CSV (разделители - запятые)": cp1251 with ';'."""
    return csv_bytes(rows, encoding="cp1251", delimiter=";")


CN_ROWS = [
    ["姓名", "手机", "邮箱", "公司", "职位", "统一社会信用代码"],
    ["王小明", "+86 138 0013 8000", "xiaoming@qq.com", "", "经理", ""],
    ["欧阳娜娜", "+86 139 1234 5678", "", "", "", ""],
    ["", "+86 10 6552 9988", "", "华为技术有限公司", "", USCC],
]


def chinese_excel_csv(rows: list[list[str]] = CN_ROWS) -> bytes:
    """What Chinese Excel writes for CSV: GB18030 (GBK) with ','."""
    return csv_bytes(rows, encoding="gb18030", delimiter=",")


def xlsx_bytes_merged_header() -> bytes:
    """A sheet as people make them: a title row, an empty row, a two-level header with merged
    group cells ("Контакты" over two phone columns and an email), empty rows inside."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Клиенты на 01.11.2026"])
    sheet.append([])
    sheet.append(["Клиент", None, "Контакты", None, None, "Реквизиты"])
    sheet.append(["Фамилия", "Имя", "Телефон", "Телефон", "E-mail", "ИНН"])
    sheet.merge_cells("A3:B3")
    sheet.merge_cells("C3:E3")
    sheet.append(["Сидоров", "Пётр", "+7 916 000-11-22", "+7 495 111-22-33", "sidorov@bk.ru",
                  7707083893])  # fmt: skip
    sheet.append([])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["Кузнецова", "Анна", 79031112233, None, "anna@mail.ru", None])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


_PHOTO = base64.b64encode(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8).decode()


def _folded(line: str, width: int = 75) -> str:
    """RFC 6350 line folding: CRLF followed by one space."""
    parts = [line[:width]] + [line[i : i + width - 1] for i in range(width, len(line), width - 1)]
    return "\r\n ".join(parts)


def iphone_vcard_30() -> bytes:
    """vCard 3.0 as an iPhone exports: item groups, several TEL/EMAIL, a folded PHOTO."""
    cards = [
        [
            "BEGIN:VCARD",
            "VERSION:3.0",
            "PRODID:-//Apple Inc.//iPhone OS 17.0//EN",
            "N:Смирнова;Елена;Викторовна;;",
            "FN:Елена Викторовна Смирнова",
            "ORG:ООО Вектор;Отдел продаж",
            "TITLE:Менеджер",
            "item1.TEL;type=CELL;type=VOICE;type=pref:+7 (916) 555-12-34",
            "TEL;type=WORK;type=VOICE:+7 495 222-33-44",
            "item2.EMAIL;type=INTERNET;type=pref:elena@vector.ru",
            "EMAIL;type=INTERNET;type=HOME:lena.smirnova@gmail.com",
            "BDAY:1985-03-14",
            _folded("PHOTO;ENCODING=b;TYPE=JPEG:" + _PHOTO),
            _folded(
                "NOTE:Познакомились на выставке; просила перезвонить после праздников\\, "
                "интересуется оптовыми поставками"
            ),
            "END:VCARD",
        ],
        [
            "BEGIN:VCARD",
            "VERSION:3.0",
            "N:Smith;John;A.;;",
            "FN:John A. Smith",
            "TEL;type=CELL:+1 212 555 0147",
            "END:VCARD",
        ],
    ]
    return ("\r\n".join(line for card in cards for line in card) + "\r\n").encode("utf-8")


def android_vcard_21_qp() -> bytes:
    """vCard 2.1 as old Android phones export: quoted-printable UTF-8 names, soft breaks."""
    lines = [
        "BEGIN:VCARD",
        "VERSION:2.1",
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=9A=D0=BE=D0=B2=D0=B0=D0=BB=D1=8C;"
        "=D0=A2=D0=B0=D1=80=D0=B0=D1=81;;;",
        "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=A2=D0=B0=D1=80=D0=B0=D1=81 =D0=9A=D0=BE=",
        "=D0=B2=D0=B0=D0=BB=D1=8C",
        "TEL;CELL:+380671234567",
        "TEL;HOME:+380442345678",
        "END:VCARD",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def vcard_40() -> bytes:
    """vCard 4.0 (RFC 6350): tel: URIs, VALUE params, a data: URI photo folded."""
    lines = [
        "BEGIN:VCARD",
        "VERSION:4.0",
        "FN:王芳",
        "N:王;芳;;;",
        'TEL;VALUE=uri;TYPE="cell,voice":tel:+86-138-0013-8000',
        "EMAIL;TYPE=work:wang.fang@163.com",
        _folded("PHOTO:data:image/jpeg;base64," + _PHOTO),
        "ORG:上海贸易有限公司",
        "END:VCARD",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
