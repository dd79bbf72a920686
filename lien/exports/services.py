"""Writing exports: rows read by keyset chunks, streamed to CSV or XLSX in bounded memory.

Rows are read 2,000 at a time in id order (`id > last id`, never OFFSET); what a chunk's
columns read beside the rows (labels, main structure…) is one query per kind per chunk.
CSV is written through a text wrapper straight into the output file; XLSX through
XlsxWriter in `constant_memory` mode (each row leaves memory once the next begins).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import xlsxwriter
from django.db.models import QuerySet

from lien.core.models import Organization
from lien.exports import cells
from lien.exports.cells import Money, local, neutralise
from lien.exports.tables import Chunk, ExportColumn, needed_fields

CHUNK = 2000
# Up to this many rows, the file is made during the request and downloaded at once;
# beyond, a background job makes it (progress bar, download link).
DIRECT_LIMIT = 2000
XLSX_MAX_ROWS = 1_048_575  # a sheet's 1,048,576 rows, the header included
FORMATS = {"csv": "CSV (Excel, LibreOffice)", "xlsx": "Excel (.xlsx)"}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class FileOptions:
    """The file's format: CSV « à la française » (BOM, « ; », decimal comma) by default."""

    fmt: str = "csv"
    delimiter: str = ";"
    bom: bool = True

    @property
    def decimal_comma(self) -> bool:
        return self.delimiter == ";"

    @property
    def extension(self) -> str:
        return self.fmt

    def as_dict(self) -> dict[str, Any]:
        return {"fmt": self.fmt, "delimiter": self.delimiter, "bom": self.bom}

    @classmethod
    def of(cls, data: dict[str, Any]) -> FileOptions:
        fmt = data.get("fmt") if data.get("fmt") in FORMATS else "csv"
        delimiter = "," if data.get("delimiter") == "," else ";"
        return cls(fmt=fmt, delimiter=delimiter, bom=bool(data.get("bom", True)))


def chunks(queryset: QuerySet, size: int | None = None, make=None) -> Iterator[list]:
    """The rows of `queryset` by keyset on the id, `size` (CHUNK) at a time; `make` turns
    each fetched row into what the chunk holds (a tuple of values into a named row)."""
    size = size or CHUNK
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page[:size]) if make is None else [make(row) for row in page[:size]]
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = rows[-1].pk


def rows_of(
    *,
    organization: Organization,
    queryset: QuerySet,
    columns: list[ExportColumn],
    progress: Callable[[int], None] | None = None,
) -> Iterator[list[Any]]:
    """Each row's typed values, in the columns' order."""
    fields = needed_fields(columns)
    make = None
    if fields is not None:
        # The columns say what they read: plain tuples of those values, named, instead
        # of model instances (a third of the time of a million rows went to building them).
        make = namedtuple("Row", ["pk", *fields])._make
        queryset = queryset.select_related(None).values_list("pk", *fields)
    done = 0
    for rows in chunks(queryset, make=make):
        chunk = Chunk(organization, rows)
        for row in rows:
            yield [column.value(row, chunk) for column in columns]
        done += len(rows)
        if progress is not None:
            progress(done)


def write_csv(
    out: IO[bytes], header: list[str], rows: Iterable[list[Any]], options: FileOptions
) -> int:
    """CSV into a binary file: UTF-8 (with BOM by default), text cells neutralised."""
    text = io.TextIOWrapper(
        out, encoding="utf-8-sig" if options.bom else "utf-8", newline="", write_through=False
    )
    writer = csv.writer(text, delimiter=options.delimiter)
    writer.writerow([neutralise(label) for label in header])
    count = 0
    comma = options.decimal_comma
    for values in rows:
        writer.writerow([cells.as_text(value, decimal_comma=comma) for value in values])
        count += 1
    text.flush()
    text.detach()  # the caller owns `out`
    return count


def write_xlsx(
    out: IO[bytes] | str, header: list[str], rows: Iterable[list[Any]], *, sheet: str
) -> int:
    """XLSX with typed cells (numbers, amounts, dates), in constant memory."""
    workbook = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            # Text is text: never read a cell as a formula, a number or a link.
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    bold = workbook.add_format({"bold": True})
    date = workbook.add_format({"num_format": "dd/mm/yyyy"})
    moment = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    money = workbook.add_format({"num_format": "#,##0.00"})
    worksheet = workbook.add_worksheet(sheet[:31])
    worksheet.set_column(0, max(len(header) - 1, 0), 18)
    worksheet.freeze_panes(1, 0)
    for index, label in enumerate(header):
        worksheet.write_string(0, index, neutralise(label), bold)
    count = 0
    for count, values in enumerate(rows, start=1):
        if count > XLSX_MAX_ROWS:
            workbook.close()
            raise ValueError(
                f"un fichier Excel contient au plus {XLSX_MAX_ROWS:,} lignes : "
                "choisissez le format CSV.".replace(",", "\u202f")
            )
        for index, value in enumerate(values):
            _write_cell(worksheet, count, index, value, date=date, moment=moment, money=money)
    workbook.close()
    return count


def _write_cell(worksheet, row: int, col: int, value: Any, *, date, moment, money) -> None:
    if type(value) is str:  # the most common cell first
        worksheet.write_string(row, col, neutralise(value))
        return
    if value is None or value == []:
        return
    if isinstance(value, bool):
        worksheet.write_string(row, col, "Oui" if value else "Non")
    elif isinstance(value, Money):
        worksheet.write_number(row, col, float(value), money)
    elif isinstance(value, int | float | decimal.Decimal):
        worksheet.write_number(row, col, float(value) if not isinstance(value, int) else value)
    elif isinstance(value, dt.datetime):
        worksheet.write_datetime(row, col, local(value), moment)
    elif isinstance(value, dt.date):
        worksheet.write_datetime(row, col, value, date)
    elif isinstance(value, list | tuple):
        worksheet.write_string(row, col, neutralise(", ".join(str(v) for v in value)))
    else:
        worksheet.write_string(row, col, neutralise(str(value)))


def write_export(
    out: IO[bytes],
    *,
    organization: Organization,
    queryset: QuerySet,
    columns: list[ExportColumn],
    options: FileOptions,
    sheet: str = "Export",
    progress: Callable[[int], None] | None = None,
) -> int:
    """The file of `queryset`'s rows with `columns` into `out`; the number of rows."""
    header = [column.label for column in columns]
    rows = rows_of(organization=organization, queryset=queryset, columns=columns, progress=progress)
    if options.fmt == "xlsx":
        return write_xlsx(out, header, rows, sheet=sheet)
    return write_csv(out, header, rows, options)
