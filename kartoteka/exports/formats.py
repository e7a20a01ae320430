"""The file formats of an export: XLSX, CSV (UTF-8, UTF-8 with BOM, Windows-1251 with `;`)
and vCard 3.0. Each writer takes rows one at a time, so memory stays flat however long the
list is.

Formula injection (OWASP "CSV injection"): a spreadsheet runs a cell that starts with
= + - @ (or tab / carriage return, which some programs skip before looking) as a formula;
`=HYPERLINK("http://x","y")` in a client's name would become a live link in the reader's
Excel. Every such text cell is written with a leading apostrophe. Phone numbers are the one
exception in XLSX: they are stored as explicit text cells, which Excel never evaluates, so
"+7 916 123-45-67" stays exactly what it is; in CSV, where there are no cell types, they get
the apostrophe too (Excel and LibreOffice then show them as text instead of computing them).
"""

import csv
import datetime
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from unidecode import unidecode

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PHONE_LIST = re.compile(r"^\+[\d ()\-]+(, \+[\d ()\-]+)*$")


def neutralise(value: str) -> str:
    """'=HYPERLINK(...)' -> "'=HYPERLINK(...)": shown as text, never run as a formula."""
    if value and value.startswith(FORMULA_START):
        return "'" + value
    return value


@dataclass
class Column:
    """One column of a tabular export: its key, header and whether it holds phone numbers."""

    key: str
    header: str
    phone: bool = False


@dataclass
class Stats:
    """What a writer counted: rows written and values it had to transliterate."""

    rows: int = 0
    replaced: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


# --- XLSX -------------------------------------------------------------------------------------


def write_xlsx(
    out: IO[bytes],
    columns: Sequence[Column],
    rows: Iterable[dict[str, Any]],
    *,
    sheet_title: str,
    on_row: Callable[[int], None] | None = None,
) -> Stats:
    """Write an XLSX workbook in openpyxl's write-only mode (rows go to a temporary file, not
    to memory). Dates are real dates; text cells are explicit strings, neutralised."""
    stats = Stats()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31] or "Export")
    sheet.append([_string_cell(sheet, c.header) for c in columns])
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column.key)
            if isinstance(value, datetime.datetime):
                # Excel has no time zones: the wall time the reader saw in Kartoteka.
                cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, datetime.date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, int) and not isinstance(value, bool):
                cell = WriteOnlyCell(sheet, value=value)
            else:
                text = _text(value)
                if not (column.phone and _PHONE_LIST.match(text)):
                    text = neutralise(text)
                cell = _string_cell(sheet, text)
            cells.append(cell)
        sheet.append(cells)
        stats.rows += 1
        if on_row:
            on_row(stats.rows)
    workbook.save(out)
    return stats


def _string_cell(sheet: Any, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=None)
    # Set directly: assigning `value` would let openpyxl read a leading "=" as a formula.
    cell._value = _ILLEGAL_XML.sub("", text)
    cell.data_type = "s"
    return cell


# Control characters XML 1.0 cannot hold (openpyxl refuses them): dropped, not fatal.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# --- CSV --------------------------------------------------------------------------------------


class _Cp1251Fallback:
    """Encodes text to Windows-1251, transliterating what it cannot hold (王小明 -> Wang Xiao
    Ming, as unidecode spells it) and counting how many values needed it."""

    def __init__(self) -> None:
        self.replaced = 0

    def __call__(self, text: str) -> str:
        try:
            text.encode("cp1251")
        except UnicodeEncodeError:
            self.replaced += 1
            return "".join(self._char(ch) for ch in text).strip()
        return text

    @staticmethod
    def _char(ch: str) -> str:
        try:
            ch.encode("cp1251")
        except UnicodeEncodeError:
            return unidecode(ch).replace("\n", " ") or "?"
        return ch


def write_csv(
    out: IO[bytes],
    columns: Sequence[Column],
    rows: Iterable[dict[str, Any]],
    *,
    encoding: str = "utf-8",
    bom: bool = False,
    delimiter: str = ",",
    on_row: Callable[[int], None] | None = None,
) -> Stats:
    """Write CSV with CRLF line ends (as Excel writes it), every text cell neutralised.

    With encoding "cp1251", characters outside it are transliterated (see _Cp1251Fallback)
    and counted in Stats.replaced instead of failing the export.
    """
    stats = Stats()
    fallback = _Cp1251Fallback() if encoding == "cp1251" else None
    text_out = io.TextIOWrapper(out, encoding=encoding, newline="", write_through=False)
    if bom:
        text_out.write("\ufeff")
    writer = csv.writer(text_out, delimiter=delimiter, lineterminator="\r\n")

    def prepare(value: Any) -> str:
        text = neutralise(_text(value))
        return fallback(text) if fallback else text

    writer.writerow([prepare(c.header) for c in columns])
    for row in rows:
        writer.writerow([prepare(row.get(c.key)) for c in columns])
        stats.rows += 1
        if on_row:
            on_row(stats.rows)
    text_out.flush()
    text_out.detach()
    if fallback:
        stats.replaced = fallback.replaced
    return stats


# --- vCard 3.0 --------------------------------------------------------------------------------


def vcard_escape(value: str) -> str:
    """Escape a text value (RFC 2426 §4 / RFC 6350 §3.4): backslash, comma, semicolon,
    newline."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def vcard_fold(line: str, limit: int = 75) -> str:
    """Fold a content line at `limit` octets (RFC 6350 §3.2): CRLF plus one space before
    each continuation, never inside a UTF-8 character."""
    encoded = line.encode("utf-8")
    if len(encoded) <= limit:
        return line
    parts: list[str] = []
    start = 0
    room = limit
    while start < len(encoded):
        end = min(start + room, len(encoded))
        while end < len(encoded) and (encoded[end] & 0xC0) == 0x80:
            end -= 1  # step back to the start of the character
        parts.append(encoded[start:end].decode("utf-8"))
        start = end
        room = limit - 1  # continuation lines begin with the folding space
    return "\r\n ".join(parts)


def _prop(name: str, value: str) -> str:
    return vcard_fold(f"{name}:{value}") + "\r\n"


def vcard(card: dict[str, Any]) -> str:
    """One vCard 3.0 for a card built by exports.selectors (persons and, as ORG cards,
    companies)."""
    lines = ["BEGIN:VCARD\r\n", "VERSION:3.0\r\n"]
    e = vcard_escape
    if card["is_company"]:
        org = card["legal_name"] or card["display_name"]
        lines.append(_prop("FN", e(card["display_name"] or org)))
        lines.append(_prop("N", e(org) + ";;;;"))
        lines.append(_prop("ORG", e(org)))
        lines.append("X-ABSHOWAS:COMPANY\r\n")
    else:
        names = [card["last_name"], card["first_name"], card["middle_name"], "", ""]
        lines.append(_prop("N", ";".join(e(n) for n in names)))
        lines.append(_prop("FN", e(card["display_name"])))
        if card["company"]:
            lines.append(_prop("ORG", e(card["company"])))
        if card["position"]:
            lines.append(_prop("TITLE", e(card["position"])))
        if card["birth_date"]:
            lines.append(_prop("BDAY", card["birth_date"].isoformat()))
    for index, phone in enumerate(card["phone_list"]):
        kind = "TEL;TYPE=VOICE,PREF" if index == 0 else "TEL;TYPE=VOICE"
        lines.append(_prop(kind, e(phone)))
    for index, email in enumerate(card["email_list"]):
        kind = "EMAIL;TYPE=INTERNET,PREF" if index == 0 else "EMAIL;TYPE=INTERNET"
        lines.append(_prop(kind, e(email)))
    for kind, address in card["address_list"]:
        # The street component holds the whole address: Kartoteka keeps addresses as one line.
        lines.append(_prop(f"ADR;TYPE={kind}", ";;" + e(address) + ";;;;"))
    if card["notes"]:
        lines.append(_prop("NOTE", e(card["notes"])))
    lines.append(_prop("X-KARTOTEKA-NUMBER", card["card_number"]))
    lines.append("END:VCARD\r\n")
    return "".join(lines)


def write_vcard(
    out: IO[bytes],
    cards: Iterable[dict[str, Any]],
    *,
    on_row: Callable[[int], None] | None = None,
) -> Stats:
    """Write the cards as one UTF-8 .vcf file, one vCard after another."""
    stats = Stats()
    for card in cards:
        out.write(vcard(card).encode("utf-8"))
        stats.rows += 1
        if on_row:
            on_row(stats.rows)
    return stats
