"""Reading client files: XLSX, CSV (encoding and delimiter detected or chosen) and vCard.

Every reader gives the same thing, a `Table`: a header (one name per column) and the data
rows as lists of strings, each with its row number in the file, so errors can point at the
row the user sees in Excel. Broken files raise `FileProblem` with a message in the user's
language, never a crash, and limits (columns, cell size, rows) keep a hostile or mistaken
file from eating the server's memory.
"""

import codecs
import csv
import datetime
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

FORMATS = ("csv", "xlsx", "vcard")
ENCODINGS = ("utf-8", "utf-8-sig", "cp1251", "gb18030")
DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 256 * 1024


class FileProblem(ValidationError):
    """The file cannot be read as it is: damaged, cut off, too large or in another format."""


@dataclass
class Limits:
    """How much of a file the reader accepts (settings KARTOTEKA_IMPORT_MAX_*)."""

    max_columns: int = 500
    max_cell_chars: int = 10_000
    max_rows: int = 2_000_000

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            max_columns=getattr(settings, "KARTOTEKA_IMPORT_MAX_COLUMNS", cls.max_columns),
            max_cell_chars=getattr(settings, "KARTOTEKA_IMPORT_MAX_CELL_CHARS", cls.max_cell_chars),
            max_rows=getattr(settings, "KARTOTEKA_IMPORT_MAX_ROWS", cls.max_rows),
        )


@dataclass
class Options:
    """How to read the file; empty values mean "detect"."""

    format: str = ""
    encoding: str = ""
    delimiter: str = ""


@dataclass
class Table:
    """A file as rows of text. `rows()` may be called again: it re-reads the file.

    `detected` holds what the reader found out (format, encoding, delimiter), so the
    mapping screen can show it and the user can override it.
    """

    header: list[str]
    detected: dict[str, str]
    _rows: Any = field(repr=False)

    def rows(self, start_after: int = 0) -> Iterator[tuple[int, list[str]]]:
        """(row number in the file, cells) for data rows after row `start_after`."""
        for number, cells in self._rows():
            if number > start_after:
                yield number, cells


def _problem(message: Any, code: str, **params: Any) -> FileProblem:
    return FileProblem(message, code=code, params=params or None)


# --- Format -----------------------------------------------------------------------------------


def detect_format(name: str, head: bytes) -> str:
    """From the file's first bytes, then its name: XLSX is a zip, vCard starts BEGIN:VCARD."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()[:64].upper()
    if text.startswith(b"BEGIN:VCARD"):
        return "vcard"
    lower = name.lower()
    if lower.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if lower.endswith((".vcf", ".vcard")):
        return "vcard"
    return "csv"


def open_table(
    file: IO[bytes], *, name: str = "", options: Options | None = None, limits: Limits | None = None
) -> Table:
    """Read the header of `file` (seekable, binary) and return a Table over its rows."""
    options = options or Options()
    limits = limits or Limits.from_settings()
    file.seek(0)
    head = file.read(SAMPLE_BYTES)
    file.seek(0)
    if not head.strip():
        raise _problem(_("The file is empty."), "empty_file")
    kind = options.format or detect_format(name, head)
    if kind == "xlsx":
        return _open_xlsx(file, limits)
    if kind == "vcard":
        return _open_vcard(file, head, options, limits)
    if kind == "csv":
        return _open_csv(file, head, options, limits)
    raise _problem(_("Unknown file format “%(value)s”."), "unknown_format", value=kind)


# --- Encoding and delimiter -----------------------------------------------------------------

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_CJK = re.compile(r"[\u3400-\u9fff]")


def _decodes(sample: bytes, encoding: str) -> str | None:
    """The sample decoded, forgiving only a multi-byte character cut at the sample's end."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        return decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return None


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1251 or GB18030, as Excel saves them in
    Russia, Ukraine and China. Both legacy encodings decode almost any bytes, so the choice
    is the one whose text looks like its script: Cyrillic words, or Chinese characters
    (a Russian text read as GB18030 breaks on the first odd-length word)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if _decodes(sample, "utf-8") is not None:
        return "utf-8"
    as_chinese = _decodes(sample, "gb18030")
    as_russian = _decodes(sample, "cp1251") or ""
    if as_chinese is None:
        return "cp1251"
    non_ascii_ru = [c for c in as_russian if ord(c) > 127]
    cyrillic_share = len(_CYRILLIC.findall(as_russian)) / max(len(non_ascii_ru), 1)
    non_ascii_cn = [c for c in as_chinese if ord(c) > 127]
    cjk_share = len(_CJK.findall(as_chinese)) / max(len(non_ascii_cn), 1)
    return "cp1251" if cyrillic_share > 0.9 and cjk_share < 0.99 else "gb18030"


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same, largest number of columns."""
    lines = text.splitlines()[:30]
    if len(lines) > 1:
        lines = lines[:-1]  # the sample may have cut the last line
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not counts or max(counts) < 2:
            continue
        consistent = sum(1 for c in counts if c == counts[0])
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


# --- CSV --------------------------------------------------------------------------------------


def _open_csv(file: IO[bytes], head: bytes, options: Options, limits: Limits) -> Table:
    encoding = options.encoding or detect_encoding(head)
    if encoding not in ENCODINGS:
        raise _problem(_("Unknown encoding “%(value)s”."), "unknown_encoding", value=encoding)
    if encoding == "utf-8" and head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    sample = _decodes(head, encoding)
    if sample is None:
        raise _problem(
            _("The file is not in the %(value)s encoding. Choose another encoding."),
            "wrong_encoding",
            value=encoding,
        )
    if "\x00" in sample:
        raise _problem(
            _("This does not look like a text table (CSV). Save it as CSV or XLSX."), "binary_file"
        )
    delimiter = options.delimiter or detect_delimiter(sample)
    if delimiter not in DELIMITERS:
        raise _problem(_("Unknown delimiter “%(value)s”."), "unknown_delimiter", value=delimiter)

    def lines() -> Iterator[str]:
        """Decoded line by line, so a wrong byte is reported with its own line number."""
        file.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        number = 0
        for number, raw in enumerate(file, start=1):
            try:
                yield decoder.decode(raw)
            except UnicodeDecodeError as exc:
                raise _problem(
                    _("Row %(row)s is not in the %(value)s encoding. Choose another encoding."),
                    "wrong_encoding",
                    row=number,
                    value=encoding,
                ) from exc
        try:
            rest = decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise _problem(
                _("Row %(row)s is cut off in the middle of a character (is the file complete?)."),
                "damaged_row",
                row=number,
            ) from exc
        if rest:
            yield rest

    def records() -> Iterator[tuple[int, list[str]]]:
        previous_limit = csv.field_size_limit()
        csv.field_size_limit(limits.max_cell_chars)
        reader = csv.reader(lines(), delimiter=delimiter, strict=True)
        try:
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    if "field larger" in str(exc):
                        raise _problem(
                            _("Row %(row)s has a cell longer than %(limit)s characters."),
                            "cell_too_long",
                            row=reader.line_num,
                            limit=limits.max_cell_chars,
                        ) from exc
                    raise _problem(
                        _(
                            "Row %(row)s is damaged: a quotation mark is not closed "
                            "(is the file cut off?)."
                        ),
                        "damaged_row",
                        row=reader.line_num,
                    ) from exc
                yield reader.line_num, cells
        finally:
            csv.field_size_limit(previous_limit)

    return _tabulate(
        records, limits, {"format": "csv", "encoding": encoding, "delimiter": delimiter}
    )


# --- XLSX -------------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A spreadsheet value as the text a person sees: dates as YYYY-MM-DD, whole numbers
    without ".0" (an INN typed as a number must keep its digits)."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e18:
            return str(int(value))
        return repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    return str(value).strip()


def _open_xlsx(file: IO[bytes], limits: Limits) -> Table:
    import openpyxl

    def sheet_rows() -> Iterator[tuple[int, list[str]]]:
        file.seek(0)
        try:
            book = openpyxl.load_workbook(file, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
            raise _problem(
                _("The XLSX file is damaged or cut off. Save it again from Excel."),
                "damaged_xlsx",
            ) from exc
        try:
            sheet = book.worksheets[0]
            max_column = sheet.max_column or 0
            if max_column > limits.max_columns:
                raise _problem(
                    _("The sheet has %(count)s columns; at most %(limit)s are accepted."),
                    "too_many_columns",
                    count=max_column,
                    limit=limits.max_columns,
                )
            number = 0
            try:
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    cells = [cell_text(v) for v in values[: limits.max_columns + 1]]
                    yield number, cells
            except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
                raise _problem(
                    _("The XLSX file is damaged after row %(row)s. Save it again from Excel."),
                    "damaged_xlsx",
                    row=number,
                ) from exc
        finally:
            book.close()

    return _tabulate(sheet_rows, limits, {"format": "xlsx"})


# --- Shared: header and limits ----------------------------------------------------------------


def _blank(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


def _fill_right(cells: list[str]) -> list[str]:
    """A header cell merged over several columns has its text in the first one only: the
    columns it covers get the same name ("Телефон" over two columns: two phone columns)."""
    filled, last = [], ""
    for cell in cells:
        last = cell.strip() or last
        filled.append(cell.strip() or last)
    return filled


def _filled(cells: list[str]) -> int:
    return sum(1 for c in cells if c.strip())


def _known(cells: list[str]) -> int:
    from kartoteka.imports.mapping import guess_target

    return sum(1 for c in cells if c.strip() and guess_target(c))


def _tabulate(records: Any, limits: Limits, detected: dict[str, str]) -> Table:
    """Find the header (the first non-empty row; with a group row above it when the header
    was written in two levels with merged cells), then check limits row by row."""
    head: list[tuple[int, list[str]]] = []
    for number, cells in records():
        if len(cells) > limits.max_columns:
            raise _problem(
                _("Row %(row)s has %(count)s columns; at most %(limit)s are accepted."),
                "too_many_columns",
                row=number,
                count=len(cells),
                limit=limits.max_columns,
            )
        if _blank(cells):
            continue
        head.append((number, cells))
        if len(head) == 3:
            break
    if not head:
        raise _problem(_("The file has no rows."), "empty_file")
    while len(head) > 1 and _filled(head[0][1]) <= 1 and _filled(head[1][1]) >= 2:
        head.pop(0)  # a title above the table ("Клиенты на 01.11.2026")
    header_number, header = head[0][0], head[0][1]
    if len(head) > 1:
        top, below = head[0][1], head[1][1]
        # Group titles in merged cells above the real column names: the row below names
        # more known fields than the row on top.
        if any(not c.strip() for c in top[: len(below)]) and _known(below) > _known(top):
            groups = _fill_right(top)
            header = [
                f"{groups[i] if i < len(groups) else ''} / {name}".strip(" /")
                if name.strip()
                else (groups[i] if i < len(groups) else "")
                for i, name in enumerate(below)
            ]
            header_number = head[1][0]
    header = _fill_right(header) if any(not c.strip() for c in header) else header
    header = [h.strip()[:200] for h in header]
    width = len(header)

    def data() -> Iterator[tuple[int, list[str]]]:
        count = 0
        for number, cells in records():
            if number <= header_number or _blank(cells):
                continue
            if len(cells) > limits.max_columns:
                raise _problem(
                    _("Row %(row)s has %(count)s columns; at most %(limit)s are accepted."),
                    "too_many_columns",
                    row=number,
                    count=len(cells),
                    limit=limits.max_columns,
                )
            for cell in cells:
                if len(cell) > limits.max_cell_chars:
                    raise _problem(
                        _("Row %(row)s has a cell longer than %(limit)s characters."),
                        "cell_too_long",
                        row=number,
                        limit=limits.max_cell_chars,
                    )
            count += 1
            if count > limits.max_rows:
                raise _problem(
                    _("The file has more than %(limit)s rows. Split it into smaller files."),
                    "too_many_rows",
                    limit=limits.max_rows,
                )
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            yield number, cells

    return Table(header=header, detected=detected, _rows=data)


# --- vCard ------------------------------------------------------------------------------------

VCARD_COLUMNS = [
    "Full name",
    "Surname",
    "Given name",
    "Middle name",
    "Company",
    "Position",
    "Birth date",
    "Address",
    "Website",
    "Notes",
]


def _unfold(text: str) -> list[str]:
    """RFC 6350 3.2: a line starting with a space or tab continues the previous one.
    vCard 2.1 quoted-printable values continue after a trailing "=" instead."""
    lines: list[str] = []
    for raw in text.splitlines():
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif lines and lines[-1].endswith("=") and "QUOTED-PRINTABLE" in lines[-1].upper():
            lines[-1] = lines[-1][:-1] + raw
        else:
            lines.append(raw)
    return lines


def _unescape(value: str) -> str:
    return re.sub(r"\\([\\,;nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _split_unescaped(value: str, separator: str) -> list[str]:
    parts = re.split(r"(?<!\\)" + re.escape(separator), value)
    return [_unescape(p).strip() for p in parts]


def _decode_value(params: dict[str, str], value: str) -> str:
    if params.get("ENCODING", "").upper() in ("QUOTED-PRINTABLE", "QP"):
        import quopri

        charset = params.get("CHARSET", "utf-8")
        try:
            return quopri.decodestring(value.encode("ascii", "replace")).decode(charset, "replace")
        except LookupError:
            return quopri.decodestring(value.encode("ascii", "replace")).decode("utf-8", "replace")
    return value


def parse_vcards(text: str, limits: Limits) -> list[dict[str, Any]]:
    """vCards 2.1, 3.0 and 4.0 as dicts: names, organisation, title, phones and emails
    (with their types), birthday, address, URL, note. Photos and other binary properties
    are skipped without being decoded."""
    cards: list[dict[str, Any]] = []
    card: dict[str, Any] | None = None
    for line in _unfold(text):
        if not line.strip():
            continue
        name_part, sep, value = line.partition(":")
        if not sep:
            continue
        name, *raw_params = name_part.split(";")
        name = name.split(".")[-1].upper()  # item1.TEL -> TEL (Apple's grouping)
        params: dict[str, str] = {}
        types: list[str] = []
        for raw in raw_params:
            key, eq, val = raw.partition("=")
            if eq:
                params[key.upper()] = val.strip('"')
                if key.upper() == "TYPE":
                    types.extend(t.lower() for t in val.strip('"').split(","))
            else:
                types.append(key.lower())  # vCard 2.1: TEL;CELL;VOICE
                if key.upper() in ("QUOTED-PRINTABLE", "BASE64"):
                    params["ENCODING"] = key.upper()
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            card = {"TEL": [], "EMAIL": []}
            continue
        if card is None:
            continue
        if name == "END" and value.strip().upper() == "VCARD":
            cards.append(card)
            card = None
            if len(cards) > limits.max_rows:
                raise _problem(
                    _("The file has more than %(limit)s rows. Split it into smaller files."),
                    "too_many_rows",
                    limit=limits.max_rows,
                )
            continue
        if name in ("PHOTO", "LOGO", "SOUND", "KEY"):
            continue
        value = _decode_value(params, value)
        if len(value) > limits.max_cell_chars:
            raise _problem(
                _("Contact %(row)s has a value longer than %(limit)s characters."),
                "cell_too_long",
                row=len(cards) + 1,
                limit=limits.max_cell_chars,
            )
        if name in ("TEL", "EMAIL"):
            value = value.strip()
            if value.lower().startswith("tel:"):
                value = value[4:]
            if value:
                card[name].append((value, [t for t in types if t not in ("voice", "internet")]))
        elif name == "N":
            parts = [*_split_unescaped(value, ";"), "", "", ""]
            card["N"] = parts[:3]
        elif name == "ORG":
            card["ORG"] = " ".join(p for p in _split_unescaped(value, ";") if p)
        elif name == "ADR":
            card["ADR"] = ", ".join(p for p in _split_unescaped(value, ";") if p)
        elif name in ("FN", "TITLE", "BDAY", "URL", "NOTE"):
            card[name] = _unescape(value).strip()
    if card is not None:
        raise _problem(
            _("The last contact in the file is cut off (no END:VCARD)."), "damaged_vcard"
        )
    return cards


def _bday(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) == 8 and not value.startswith("--"):
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return value


def _open_vcard(file: IO[bytes], head: bytes, options: Options, limits: Limits) -> Table:
    file.seek(0)
    raw = file.read()
    encoding = options.encoding or detect_encoding(raw[:SAMPLE_BYTES])
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise _problem(
            _("The file is not in the %(value)s encoding. Choose another encoding."),
            "wrong_encoding",
            value=encoding,
        ) from exc
    cards = parse_vcards(text, limits)
    if not cards:
        raise _problem(_("The file has no contacts (no BEGIN:VCARD)."), "empty_file")
    phones = max(len(c["TEL"]) for c in cards)
    emails = max(len(c["EMAIL"]) for c in cards)
    header = [
        *VCARD_COLUMNS,
        *(["Phone"] * phones),
        *(["Email"] * emails),
    ]

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, card in enumerate(cards, start=1):
            family, given, middle = card.get("N", ["", "", ""])
            cells = [
                card.get("FN", ""),
                family,
                given,
                middle,
                card.get("ORG", ""),
                card.get("TITLE", ""),
                _bday(card.get("BDAY", "")),
                card.get("ADR", ""),
                card.get("URL", ""),
                card.get("NOTE", ""),
            ]
            tels = [v for v, _types in card["TEL"]]
            mails = [v for v, _types in card["EMAIL"]]
            cells += tels + [""] * (phones - len(tels)) + mails + [""] * (emails - len(mails))
            yield number, cells

    return Table(header=header, detected={"format": "vcard", "encoding": encoding}, _rows=rows)
