"""Reading an uploaded file as a table: type by content, encoding, delimiter, header row.

`sniff()` says what a file really is (never trusting its extension) or refuses it
with a French message; `open_table()` gives a `Table` whose `rows()` streams
`(row_number, cells)` with the row numbers a user sees in Excel or LibreOffice
(row 1 = first line; blank rows are skipped but counted).

CSV decisions (deterministic, no guessing library):

- a BOM wins (UTF-8, UTF-16 LE/BE); BOM-less UTF-16 is recognised by its NUL bytes;
- otherwise UTF-8 if the *whole* file is valid UTF-8 (checked by a streaming pass,
  so an accent on row 900,000 is not misread);
- otherwise an 8-bit encoding: Windows-1252 when bytes 0x80–0x9F occur (in
  Windows-1252 they are ’ € œ … ; in Latin-1 they are invisible control
  characters no real text contains), Latin-1 when none occur — both decode every
  other byte identically, so the choice only changes the name shown; Mac Roman
  (old Excel for Mac) when 0x80–0x9F hold twice as many of its accented letters
  (é è à ç) as the file has Windows punctuation and 0xE0–0xFF letters;
- the delimiter is the one among ; , tab | that splits the first 50 non-empty
  records into the most consistent number of cells (csv.Sniffer guesses wrong on
  French files full of commas inside « 1 234,50 »).

Spreadsheets (XLSX, XLSB, XLS, ODS) are read with python-calamine, which loads a
whole sheet in memory (measured: about 110 bytes a cell, 340 MiB for 200,000 rows
of 15 columns): a CSV streams, a workbook is bounded by the size limit instead.
Calamine gives a formula's last computed value, and an error value (#DIV/0!) as
an empty cell.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import os
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import python_calamine
from django.conf import settings

from lien.exports.cells import unneutralise

Source = str | os.PathLike | bytes
logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
SNIFF_RECORDS = 50
HEADER_SEARCH_ROWS = 10
# Excel's own limit for one cell: longer cells are reported on their row.
MAX_CELL_CHARS = 32_767
# Beyond this the csv module stops: it is almost always a quote never closed,
# which would otherwise swallow the rest of the file into one cell.
CSV_FIELD_LIMIT = 1024 * 1024
DELIMITERS = (";", ",", "\t", "|")
DELIMITER_LABELS = {";": "point-virgule", ",": "virgule", "\t": "tabulation", "|": "barre |"}
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (avec BOM)",
    "utf-16": "UTF-16 (avec BOM)",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1 (ISO-8859-1)",
    "mac_roman": "Mac Roman",
}
KIND_LABELS = {
    "csv": "CSV",
    "xlsx": "classeur Excel (XLSX)",
    "xlsb": "classeur Excel binaire (XLSB)",
    "xls": "classeur Excel 97-2003 (XLS)",
    "ods": "classeur OpenDocument (ODS)",
}
EXTENSION_KINDS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xlsb": "xlsb",
    ".xls": "xls",
    ".ods": "ods",
}
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Magic numbers of files people upload by mistake, to name what they sent.
OTHER_MAGICS = [
    (b"%PDF", "un document PDF"),
    (b"\x89PNG", "une image PNG"),
    (b"\xff\xd8\xff", "une image JPEG"),
    (b"GIF8", "une image GIF"),
    (b"RIFF", "un fichier multimédia"),
    (b"\x1f\x8b", "une archive gzip"),
    (b"Rar!", "une archive RAR"),
    (b"7z\xbc\xaf", "une archive 7-Zip"),
    (b"{\\rtf", "un document RTF"),
    (b"MZ", "un programme"),
    (b"\x7fELF", "un programme"),
]
C1_BYTES = re.compile(rb"[\x80-\x9f]")
CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
# à â ç é è ê ù û in Mac Roman (Excel for Mac's « CSV »), unused or rare in Windows-1252.
MAC_ROMAN_LETTERS = b"\x88\x89\x8d\x8e\x8f\x90\x9d\x9e"
# € … ’ “ – — œ in Windows-1252; and à…ÿ, the accented letters of Windows-1252/Latin-1.
WINDOWS_MARKS = b"\x80\x85\x92\x93\x96\x97\x9c"
LATIN_LETTERS = bytes(range(0xE0, 0x100))

if csv.field_size_limit() < CSV_FIELD_LIMIT:
    csv.field_size_limit(CSV_FIELD_LIMIT)


class FileError(Exception):
    """A file Lien cannot read, with a French message saying why and where."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class FileInfo:
    """What a file really is: `kind` is csv, xlsx, xlsb, xls or ods."""

    filename: str
    kind: str
    size: int
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class TableInfo:
    """What was detected (and may be changed in the wizard) for one opened table."""

    filename: str
    kind: str
    size: int
    encoding: str | None = None  # a Python codec name, for CSV
    delimiter: str | None = None  # for CSV
    sheets: list[str] = field(default_factory=list)  # for workbooks
    sheet: str | None = None
    header_row: int = 1  # 0: the file has no header row
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding or "", self.encoding or "")

    @property
    def delimiter_label(self) -> str:
        return DELIMITER_LABELS.get(self.delimiter or "", self.delimiter or "")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the import job and the API."""
        return asdict(self)


@dataclass(frozen=True)
class RowIssue:
    """A problem on one row: `error` ones make the row unusable, others are warnings."""

    message: str
    column: int | None = None
    error: bool = False


class Row(tuple):
    """`(number, cells)` — unpacks as a pair — plus `issues` (extra cells, huge cells)."""

    issues: tuple[RowIssue, ...] = ()

    def __new__(cls, number: int, cells: list[Any], issues: tuple[RowIssue, ...] = ()) -> Row:
        row = super().__new__(cls, (number, cells))
        if issues:
            row.issues = issues
        return row

    @property
    def number(self) -> int:
        return self[0]

    @property
    def cells(self) -> list[Any]:
        return self[1]

    @property
    def errors(self) -> list[RowIssue]:
        return [issue for issue in self.issues if issue.error]


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the column names a spreadsheet shows."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def max_bytes() -> int:
    return int(getattr(settings, "LIEN_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def format_mo(size: int) -> str:
    """Bytes as French megabytes (1 Mo = 1 048 576 octets): « 63,2 Mo »."""
    value = f"{size / (1024 * 1024):.1f}".replace(".", ",")
    return f"{value.removesuffix(',0')} Mo"


# Sniffing ---------------------------------------------------------------------------------


def sniff(path_or_bytes: Source, filename: str | None = None) -> FileInfo:
    """The file's real type from its content; FileError when Lien cannot import it."""
    filename = filename or _default_name(path_or_bytes)
    size = _size(path_or_bytes)
    limit = max_bytes()
    if size > limit:
        raise FileError(
            f"Le fichier « {filename} » pèse {format_mo(size)} : "
            f"la limite est de {format_mo(limit)}."
        )
    if size == 0:
        raise FileError(f"Le fichier « {filename} » est vide.")
    with _open_binary(path_or_bytes) as stream:
        head = stream.read(SAMPLE_BYTES)
        kind = _kind_by_content(stream, head, filename)
    info = FileInfo(filename=filename, kind=kind, size=size)
    expected = EXTENSION_KINDS.get(Path(filename).suffix.lower())
    if expected and expected != kind and {expected, kind} != {"xlsx", "xlsb"}:
        info.warnings.append(_mismatch_message(filename, expected, kind))
    return info


def _kind_by_content(stream: BinaryIO, head: bytes, filename: str) -> str:
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(stream, filename)
    if head.startswith(OLE2_MAGIC):
        return "xls"
    for magic, what in OTHER_MAGICS:
        if head.startswith(magic):
            raise _not_a_table(filename, what)
    text = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table")):
        raise FileError(
            f"Le fichier « {filename} » n'est ni un CSV ni un classeur (XLSX, XLS, ODS) : "
            "c'est une page web (HTML), ce que certains logiciels exportent sous le nom "
            "« .xls ». Ouvrez-le dans votre tableur et enregistrez-le en XLSX ou en CSV."
        )
    if text.startswith(b"<?xml"):
        raise FileError(
            f"Le fichier « {filename} » n'est ni un CSV ni un classeur (XLSX, XLS, ODS) : "
            "c'est un fichier XML. Ouvrez-le dans votre tableur et enregistrez-le en XLSX "
            "ou en CSV."
        )
    encoding = _encoding_from_sample(head)
    if _looks_binary(head, encoding):
        raise _not_a_table(filename, "un fichier binaire")
    return "csv"


def _zip_kind(stream: BinaryIO, filename: str) -> str:
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype").strip()
                if mimetype == ODS_MIMETYPE:
                    return "ods"
                if b"opendocument.text" in mimetype:
                    raise _not_a_table(filename, "un document texte OpenDocument (ODT)")
                raise _not_a_table(filename, "un document OpenDocument qui n'est pas un classeur")
    except zipfile.BadZipFile:
        raise FileError(
            f"Le fichier « {filename} » est une archive ZIP endommagée (un classeur "
            "XLSX ou ODS mal enregistré ou incomplet) : enregistrez-le à nouveau."
        ) from None
    if "[Content_Types].xml" in names:
        if any(name.startswith("xl/") for name in names):
            return "xlsb" if "xl/workbook.bin" in names else "xlsx"
        if any(name.startswith("word/") for name in names):
            raise _not_a_table(filename, "un document Word")
        if any(name.startswith("ppt/") for name in names):
            raise _not_a_table(filename, "une présentation PowerPoint")
    raise _not_a_table(filename, "une archive ZIP")


def _not_a_table(filename: str, what: str) -> FileError:
    return FileError(
        f"Le fichier « {filename} » n'est ni un CSV ni un classeur (XLSX, XLS, ODS) : c'est {what}."
    )


def _mismatch_message(filename: str, expected: str, kind: str) -> str:
    wanted = "un fichier CSV" if expected == "csv" else f"un {KIND_LABELS[expected]}"
    actual = "un fichier texte, lu comme un CSV" if kind == "csv" else f"un {KIND_LABELS[kind]}"
    return f"Le fichier « {filename} » n'est pas {wanted} : c'est {actual}."


def _looks_binary(head: bytes, encoding: str) -> bool:
    """Text has almost no NUL bytes (outside UTF-16) nor other control characters.

    A few NULs are tolerated: some exports pad a cell with them, and csv reads them.
    """
    if not encoding.startswith("utf-16") and head.count(0) > max(2, len(head) // 1000):
        return True
    text = _decode_sample(head, encoding, final=False)
    controls = sum(1 for char in text if char < " " and char not in "\t\r\n\f\x00")
    return controls > max(2, len(text) // 100)


# Encodings --------------------------------------------------------------------------------


def _encoding_from_sample(head: bytes) -> str:
    """The encoding the first bytes suggest; `_check_encoding` confirms on the whole file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 4:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) // 2
        # Mostly-ASCII UTF-16 has a NUL in every other byte.
        if odd_nuls > half * 0.3 and even_nuls < half * 0.05:
            return "utf-16-le"
        if even_nuls > half * 0.3 and odd_nuls < half * 0.05:
            return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return _eight_bit(head)


def _eight_bit(data: bytes) -> str:
    stats = _EightBitStats()
    stats.add(data)
    return stats.encoding()


class _EightBitStats:
    """Which 8-bit encoding a text file is in, from counts of its telling bytes.

    French accents are 0xE0–0xFF in Windows-1252 and Latin-1, but 0x80–0x9F in Mac
    Roman, where Windows-1252 keeps its punctuation (’ € œ …) and Latin-1 only
    invisible control characters: whichever family of bytes dominates decides.
    """

    def __init__(self) -> None:
        self.c1 = self.undefined = False
        self.mac = self.windows = 0

    # Counting stops once this many telling bytes are seen: the family is clear by then.
    ENOUGH = 10_000

    def add(self, chunk: bytes) -> None:
        counting = self.mac + self.windows < self.ENOUGH
        if C1_BYTES.search(chunk):
            self.c1 = True
            self.undefined = self.undefined or bool(CP1252_UNDEFINED.search(chunk))
            if counting:
                self.mac += sum(chunk.count(byte) for byte in MAC_ROMAN_LETTERS)
                self.windows += sum(chunk.count(byte) for byte in WINDOWS_MARKS)
        if counting:
            self.windows += len(chunk) - len(chunk.translate(None, LATIN_LETTERS))

    def encoding(self) -> str:
        # Twice as many: a « Žižek » among French accents stays Windows-1252.
        if self.mac > 2 * self.windows:
            return "mac_roman"
        return "cp1252" if self.c1 and not self.undefined else "latin-1"


def _decode_sample(head: bytes, encoding: str, *, final: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(head, final=final)


def _check_encoding(stream: BinaryIO, encoding: str, *, detected: bool, filename: str) -> str:
    """Stream the whole file once: the encoding that reads all of it, or FileError.

    A detected UTF-8 that fails further down becomes an 8-bit encoding, and the
    choice among those is made on the whole file; an encoding chosen by the user
    must read all of it.
    """
    stream.seek(0)
    if detected and encoding in ("cp1252", "latin-1", "mac_roman"):
        return _eight_bit_of(stream)
    may_fall_back = detected and encoding in ("utf-8", "utf-8-sig")
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = offset = 0
    while chunk := stream.read(CHUNK_BYTES):
        try:
            decoder.decode(chunk, final=False)
        except UnicodeError as error:
            if may_fall_back:
                return _eight_bit_of(stream)
            raise _encoding_error(filename, encoding, chunk, error, lines, offset) from None
        lines += chunk.count(b"\n")
        offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeError:
        if may_fall_back:
            return _eight_bit_of(stream)
        raise FileError(
            f"Le fichier « {filename} » se termine au milieu d'un caractère "
            f"{ENCODING_LABELS.get(encoding, encoding)} : il est incomplet."
        ) from None
    return encoding


def _eight_bit_of(stream: BinaryIO) -> str:
    """The 8-bit encoding of the whole file (every byte decodes: only the choice matters)."""
    stream.seek(0)
    stats = _EightBitStats()
    while chunk := stream.read(CHUNK_BYTES):
        stats.add(chunk)
    return stats.encoding()


def _encoding_error(
    filename: str, encoding: str, chunk: bytes, error: UnicodeError, lines: int, offset: int
) -> FileError:
    label = ENCODING_LABELS.get(encoding, encoding)
    if not isinstance(error, UnicodeDecodeError):
        return FileError(
            f"Le fichier « {filename} » ne peut pas être lu en {label}. "
            "Choisissez un autre encodage."
        )
    byte = chunk[error.start : error.start + 1].hex().upper()
    if encoding.startswith("utf-16"):
        where = f"à l'octet {offset + error.start + 1}"
    else:
        line = lines + chunk.count(b"\n", 0, error.start) + 1
        where = f"à la ligne {line}"
    return FileError(
        f"Le fichier « {filename} » ne peut pas être lu en {label} : octet 0x{byte} "
        f"invalide {where}. Choisissez un autre encodage."
    )


# Delimiter --------------------------------------------------------------------------------


def _detect_delimiter(text: str) -> str:
    """The delimiter that splits the first records into the most consistent widths."""
    best: tuple[float, int, int] | None = None
    choice = DELIMITERS[0]
    for rank, delimiter in enumerate(DELIMITERS):
        widths = []
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        try:
            for record in reader:
                if any(cell.strip() for cell in record):
                    widths.append(len(record))
                    if len(widths) >= SNIFF_RECORDS:
                        break
        except csv.Error:
            continue
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        if width < 2:
            continue
        score = (count / len(widths), width, -rank)
        if best is None or score > best:
            best, choice = score, delimiter
    return choice


def _complete_lines(text: str, whole: bool) -> str:
    """The sample without its last, probably cut, line."""
    if whole:
        return text
    cut = max(text.rfind("\n"), 0)
    return text[:cut]


# Tables -----------------------------------------------------------------------------------


class Table:
    """An opened file: `info`, `headers`, `preview(n)` and streamed `rows()`."""

    def __init__(self, info: TableInfo, source: Source):
        self.info = info
        self._source = source
        self._workbook: python_calamine.CalamineWorkbook | None = None
        self._sheet: python_calamine.CalamineSheet | None = None
        self._col_offset = 0
        self.headers: list[str] = []
        self.width = 0

    # The rows of the file, before header handling: (number, stripped cells), non-blank.

    def _raw_rows(self) -> Iterator[tuple[int, list[Any] | None]]:
        if self.info.kind == "csv":
            yield from self._csv_rows()
        else:
            yield from self._sheet_rows()

    def _csv_rows(self) -> Iterator[tuple[int, list[Any] | None]]:
        """(number, cells) of the non-blank records; cells are None for a malformed one.

        A quote closing a cell and followed by more text (« "ok"x ») spoils one
        record: the reader goes on from the next line, so the row is reported and
        the others are read. A quote never closed, though, swallows the rest of the
        file: that stops the reading with a FileError naming the row.
        """
        info = self.info
        strip = _plain
        with _open_binary(self._source) as binary:
            text = io.TextIOWrapper(binary, encoding=info.encoding, newline="")
            reader = csv.reader(text, delimiter=info.delimiter or ";", strict=True)
            number = 0
            while True:
                try:
                    for record in reader:
                        number += 1
                        cells = list(map(strip, record))
                        if any(cells):
                            yield number, cells
                    return
                except csv.Error as error:
                    number += 1
                    if "expected after" not in str(error):
                        raise _csv_error(info.filename, number, error) from None
                    yield number, None
                except UnicodeError as error:  # the file changed since it was checked
                    raise FileError(
                        f"Le fichier « {info.filename} » ne peut pas être lu en "
                        f"{info.encoding_label} après la ligne {number}."
                    ) from error

    def _sheet_rows(self) -> Iterator[tuple[int, list[Any]]]:
        sheet = self._load_sheet()
        for number, values in enumerate(sheet.iter_rows(), start=1):
            cells = [_cell(value) for value in values]
            if any(cell != "" for cell in cells):
                yield number, cells

    def _load_sheet(self) -> python_calamine.CalamineSheet:
        if self._sheet is None:
            assert self._workbook is not None
            try:
                self._sheet = self._workbook.get_sheet_by_name(self.info.sheet)
            except Exception as error:  # calamine raises its own error types
                logger.info("calamine could not read a sheet of %s: %s", self.info.filename, error)
                raise FileError(
                    f"La feuille « {self.info.sheet} » du classeur « {self.info.filename} » "
                    "est illisible : elle est endommagée. Ouvrez le classeur dans votre tableur "
                    "et enregistrez-le à nouveau."
                ) from None
            start = self._sheet.start
            self._col_offset = start[1] if start else 0
        return self._sheet

    def column_letter(self, index: int) -> str:
        """The spreadsheet letter of the table's column `index` (0-based)."""
        return column_letter(index + self._col_offset)

    def rows(self) -> Iterator[Row]:
        """Data rows after the header row, each padded or cut to the header width.

        Streams: a CSV is read as it goes (memory does not grow with the file).
        """
        width = self.width
        after = self.info.header_row
        all_text = self.info.kind == "csv"
        new_row = tuple.__new__  # a Row without issues, at C speed: this is the hot loop
        for number, cells in self._raw_rows():
            if number <= after:
                continue
            if cells is None:
                yield self._malformed(number)
                continue
            size = len(cells)
            if size < width:  # trailing empty cells left out by the exporting program
                cells.extend([""] * (width - size))
            elif size > width and all(c == "" for c in cells[width:]):  # « A;B;C; »
                del cells[width:]
            if len(cells) == width and (
                sum(map(len, cells)) <= MAX_CELL_CHARS
                if all_text
                else not any(isinstance(c, str) and len(c) > MAX_CELL_CHARS for c in cells)
            ):
                yield new_row(Row, (number, cells))
            else:
                yield self._fitted(number, cells)

    def _malformed(self, number: int) -> Row:
        issue = RowIssue(
            f"ligne {number} : un guillemet (\") fermant une cellule est suivi d'autres "
            "caractères, la ligne ne peut pas être lue : corrigez-la dans le fichier (un "
            'guillemet dans une cellule entre guillemets s\'écrit "").',
            error=True,
        )
        return Row(number, [""] * self.width, (issue,))

    def _fitted(self, number: int, cells: list[Any]) -> Row:
        """A row of another width than the header's, or with a cell too long: its issues."""
        width = self.width
        issues: list[RowIssue] = []
        if len(cells) > width:
            extra = [cell for cell in cells[width:] if cell != ""]
            if extra:
                shown = ", ".join(f"« {_short(cell)} »" for cell in extra[:3])
                issues.append(
                    RowIssue(
                        f"ligne {number} : {len(extra)} cellule(s) au-delà de la dernière "
                        f"colonne ({self.column_letter(width - 1)}) ignorée(s) : {shown}."
                    )
                )
            cells = cells[:width]
        elif len(cells) < width:
            cells.extend([""] * (width - len(cells)))
        for index, cell in enumerate(cells):
            if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
                issues.append(
                    RowIssue(
                        f"ligne {number}, colonne « {self.headers[index]} » : la cellule "
                        f"fait {_thousands(len(cell))} caractères "
                        f"({_thousands(MAX_CELL_CHARS)} au plus).",
                        column=index,
                        error=True,
                    )
                )
        return Row(number, cells, tuple(issues))

    def preview(self, n: int = 10) -> list[Row]:
        """The first `n` data rows."""
        result = []
        if n <= 0:
            return result
        for row in self.rows():
            result.append(row)
            if len(result) >= n:
                break
        return result

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = self._sheet = None

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_table(
    source: Source,
    *,
    filename: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
) -> Table:
    """Open an uploaded file as a table; every detected setting may be forced.

    `header_row` is a row number as the user sees it (1 = first line), or 0 when the
    file has no header row (columns are then named « Colonne A »…). Raises FileError.
    """
    file_info = sniff(source, filename)
    info = TableInfo(
        filename=file_info.filename,
        kind=file_info.kind,
        size=file_info.size,
        warnings=list(file_info.warnings),
    )
    table = Table(info, source)
    if info.kind == "csv":
        _prepare_csv(table, source, encoding=encoding, delimiter=delimiter)
    else:
        _prepare_workbook(table, source, sheet=sheet)
    try:
        _prepare_headers(table, header_row)
    except BaseException:
        table.close()
        raise
    return table


def _prepare_csv(table: Table, source: Source, *, encoding: str | None, delimiter: str | None):
    info = table.info
    with _open_binary(source) as stream:
        head = stream.read(SAMPLE_BYTES)
        whole = len(head) == info.size
        if encoding:
            encoding = _codec_name(encoding)
            # The same encoding, reading past the BOM that the user did not mention.
            if encoding == "utf-8" and head.startswith(codecs.BOM_UTF8):
                encoding = "utf-8-sig"
            elif encoding in ("utf-16-le", "utf-16-be") and head[:2] in (
                codecs.BOM_UTF16_LE,
                codecs.BOM_UTF16_BE,
            ):
                encoding = "utf-16"
            elif encoding == "utf-16" and head[:2] not in (
                codecs.BOM_UTF16_LE,
                codecs.BOM_UTF16_BE,
            ):
                encoding = "utf-16-le"  # without a BOM, Windows' order (little-endian)
            info.encoding = _check_encoding(
                stream, encoding, detected=False, filename=info.filename
            )
        else:
            guess = _encoding_from_sample(head)
            info.encoding = _check_encoding(stream, guess, detected=True, filename=info.filename)
    if delimiter:
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise FileError(f"« {delimiter} » ne peut pas être un séparateur de colonnes.")
        info.delimiter = delimiter
    else:
        text = _decode_sample(head, info.encoding, final=whole).lstrip("\ufeff")
        info.delimiter = _detect_delimiter(_complete_lines(text, whole))


def _codec_name(encoding: str) -> str:
    """A user's encoding choice as a codec name, matching our labels where possible."""
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        codec = None
    # rot13, zip, hex… are codecs but no text encodings.
    if codec is None or not getattr(codec, "_is_text_encoding", True):
        raise FileError(f"Encodage inconnu : « {encoding} ».")
    name = codec.name
    return {"iso8859-1": "latin-1", "mac-roman": "mac_roman"}.get(name, name)


def _prepare_workbook(table: Table, source: Source, *, sheet: str | int | None) -> None:
    info = table.info
    try:
        if isinstance(source, bytes):
            workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(source))
        else:
            workbook = python_calamine.CalamineWorkbook.from_path(os.fspath(source))
    except python_calamine.PasswordError:
        raise FileError(
            f"Le classeur « {info.filename} » est protégé par un mot de passe : "
            "enregistrez-le sans mot de passe puis importez-le à nouveau."
        ) from None
    except Exception as error:  # calamine's errors share no useful base class
        raise _workbook_error(info, source, error) from None
    table._workbook = workbook
    names = [
        meta.name
        for meta in workbook.sheets_metadata
        if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
    ]
    if not names:
        table.close()
        raise FileError(f"Le classeur « {info.filename} » ne contient aucune feuille de calcul.")
    info.sheets = names
    if sheet is None:
        visible = {
            meta.name
            for meta in workbook.sheets_metadata
            if meta.visible == python_calamine.SheetVisibleEnum.Visible
        }
        info.sheet = next((name for name in names if name in visible), names[0])
    elif isinstance(sheet, int) and not isinstance(sheet, bool):
        if not 0 <= sheet < len(names):
            table.close()
            raise FileError(
                f"Le classeur « {info.filename} » n'a que {len(names)} feuille(s) "
                f"({_names(names)})."
            )
        info.sheet = names[sheet]
    elif sheet in names:
        info.sheet = sheet
    else:
        table.close()
        raise FileError(
            f"La feuille « {sheet} » n'existe pas dans le classeur « {info.filename} » "
            f"(feuilles : {_names(names)})."
        )


def _workbook_error(info: TableInfo, source: Source, error: Exception) -> FileError:
    if info.kind == "xls":
        with _open_binary(source) as stream:
            content = stream.read()
        if "EncryptedPackage".encode("utf-16-le") in content:
            return FileError(
                f"Le classeur « {info.filename} » est protégé par un mot de passe : "
                "enregistrez-le sans mot de passe puis importez-le à nouveau."
            )
        if "WordDocument".encode("utf-16-le") in content:
            return _not_a_table(info.filename, "un document Word 97-2003")
        return FileError(
            f"Le fichier « {info.filename} » a l'en-tête d'un classeur Excel 97-2003 (XLS) "
            "mais n'a pas pu être lu : il est endommagé ou c'est un autre document Office. "
            "Ouvrez-le dans votre tableur et enregistrez-le en XLSX."
        )
    logger.info("calamine could not read %s: %s", info.filename, error)
    return FileError(
        f"Le {info.label} « {info.filename} » n'a pas pu être lu : il est endommagé ou "
        "incomplet. Ouvrez-le dans votre tableur et enregistrez-le à nouveau."
    )


def _names(names: list[str]) -> str:
    return ", ".join(f"« {name} »" for name in names)


def _prepare_headers(table: Table, header_row: int | None) -> None:
    info = table.info
    sample: list[tuple[int, list[Any]]] = []
    for number, cells in table._raw_rows():
        if cells is None:  # a malformed record: reported by rows(), no help here
            continue
        sample.append((number, cells))
        if len(sample) >= SNIFF_RECORDS and (header_row is None or number > header_row):
            break
    if not sample:
        where = f"la feuille « {info.sheet} » du classeur" if info.sheet else "le fichier"
        raise FileError(f"{where[0].upper()}{where[1:]} « {info.filename} » est vide.")
    if header_row is None:
        header_row = _detect_header(sample)
        if header_row != sample[0][0]:
            info.warnings.append(
                f"La ligne d'en-têtes détectée est la ligne {header_row} : les lignes "
                "au-dessus (titre, en-têtes fusionnés) sont ignorées."
            )
    elif header_row < 0:
        raise FileError("Le numéro de la ligne d'en-têtes doit être positif.")
    info.header_row = header_row
    header_cells: list[Any] = []
    if header_row:
        found = [cells for number, cells in sample if number == header_row]
        if not found:
            raise FileError(
                f"La ligne {header_row} du fichier « {info.filename} » est vide ou n'existe "
                "pas : elle ne peut pas être la ligne d'en-têtes."
            )
        header_cells = found[0]
    data = [cells for number, cells in sample if number > header_row]
    table.width = max([_filled_width(header_cells)] + [_filled_width(cells) for cells in data])
    table.headers = make_headers(header_cells, table.width, table.column_letter)
    if not data:
        info.warnings.append(
            f"Le fichier « {info.filename} » ne contient que la ligne d'en-têtes : "
            "aucune ligne à importer."
        )


def make_headers(cells: list[Any], width: int, letter=column_letter) -> list[str]:
    """Header names, distinct and never empty: « Email », « Email (2) », « Colonne C »."""
    names: list[str] = []
    taken: set[str] = set()
    for index in range(width):
        raw = cells[index] if index < len(cells) else ""
        name = " ".join(_text(raw).split()) or f"Colonne {letter(index)}"
        candidate, n = name, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{name} ({n})"
        taken.add(candidate.casefold())
        names.append(candidate)
    return names


def _detect_header(sample: list[tuple[int, list[Any]]]) -> int:
    """The first row mostly filled with distinct text (not numbers, dates or emails)."""
    width = max(_filled_width(cells) for _, cells in sample)
    if width <= 1:
        return sample[0][0]
    for number, cells in sample[:HEADER_SEARCH_ROWS]:
        filled = [cell for cell in cells if cell != ""]
        # More than half filled: a merged group header (« Identité » over three
        # columns, « Coordonnées » over three) is not the header row.
        if len(filled) < 2 or len(filled) <= width / 2:
            continue
        texts = [cell for cell in filled if isinstance(cell, str) and not _looks_like_data(cell)]
        distinct = {" ".join(text.casefold().split()) for text in texts}
        if len(texts) >= 0.8 * len(filled) and len(distinct) >= 0.8 * len(texts):
            return number
    return sample[0][0]


DATA_PATTERN = re.compile(
    r"^[-+]?[\d\s\u00a0\u202f.,€%]+$"  # numbers and amounts
    r"|^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}"  # dates
    r"|^[^@\s]+@[^@\s]+\.\w+$"  # emails
)


def _looks_like_data(text: str) -> bool:
    return bool(DATA_PATTERN.match(text))


def _filled_width(cells: list[Any]) -> int:
    for index in range(len(cells) - 1, -1, -1):
        if cells[index] != "":
            return index + 1
    return 0


def _plain(text: str) -> str:
    """A text cell stripped, without the apostrophe an export put before a would-be formula
    (« '=SOMME(…) », « '+33 6… »: see lien.exports.cells), so an export imports back."""
    text = text.strip()
    return unneutralise(text).strip() if text[:1] == "'" else text


def _cell(value: Any) -> Any:
    """A spreadsheet value as the import uses it: text stripped, whole floats as int."""
    if isinstance(value, str):
        return _plain(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return value


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _short(value: Any, limit: int = 40) -> str:
    text = _text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


def _csv_error(filename: str, number: int, error: csv.Error) -> FileError:
    reason = str(error)
    if "field larger" in reason:
        detail = (
            f"une cellule dépasse {_thousands(CSV_FIELD_LIMIT)} caractères — le plus souvent "
            'un guillemet (") ouvert et jamais refermé'
        )
    elif "end of data" in reason:
        detail = "un guillemet (\") ouvre une cellule qui n'est jamais refermée"
    else:
        detail = reason
    return FileError(f"Le fichier « {filename} » est mal formé à la ligne {number} : {detail}.")


# Sources ----------------------------------------------------------------------------------


def _default_name(source: Source) -> str:
    if isinstance(source, bytes):
        return "fichier"
    return Path(os.fspath(source)).name


def _size(source: Source) -> int:
    if isinstance(source, bytes):
        return len(source)
    try:
        return os.stat(source).st_size
    except OSError:
        raise FileError(f"Le fichier « {_default_name(source)} » est introuvable.") from None


def _open_binary(source: Source) -> BinaryIO:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    return open(source, "rb")  # noqa: SIM115 — closed by the caller's with
