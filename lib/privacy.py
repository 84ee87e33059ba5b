"""PIPL personal information export: one document of named sections, written as JSON or as an XLSX
workbook (one sheet per section). Plain Python (no ORM): the models collect the sections."""

import datetime
import io
import json
from dataclasses import dataclass, field

import xlsxwriter

# Excel's limit for a sheet name.
SHEET_NAME_MAX = 31


@dataclass
class Section:
    """One part of the export: ``key`` (the JSON key), ``title`` (the sheet name, translated by the
    caller), ``columns`` [(key, label)] and ``rows`` (dicts by column key)."""

    key: str
    title: str
    columns: list
    rows: list = field(default_factory=list)


def _plain(value):
    """A JSON/XLSX friendly value: dates as ISO text, empty values as None."""
    if value is False or value is None:
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def to_dict(sections, meta):
    """The document as a dict: ``meta`` (who, when, what) and one list of rows per section."""
    document = {"meta": {key: _plain(value) for key, value in meta.items()}}
    for section in sections:
        document[section.key] = [
            {key: _plain(row.get(key)) for key, _label in section.columns} for row in section.rows
        ]
    return document


def to_json(sections, meta):
    """The document as UTF-8 JSON bytes (Chinese stays readable: no ASCII escapes)."""
    return json.dumps(to_dict(sections, meta), ensure_ascii=False, indent=2).encode("utf-8")


def _sheet_name(title, used):
    for forbidden in "[]:*?/\\":
        title = title.replace(forbidden, " ")
    name = title[:SHEET_NAME_MAX] or "Sheet"
    counter = 2
    while name.lower() in used:
        suffix = f" ({counter})"
        name = f"{title[: SHEET_NAME_MAX - len(suffix)]}{suffix}"
        counter += 1
    used.add(name.lower())
    return name


def to_xlsx(sections, meta, meta_title="Export"):
    """The document as XLSX bytes: a first sheet with ``meta`` (label: value), then one sheet per
    section with a header row of the column labels."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = workbook.add_format({"bold": True})
    used = set()
    sheet = workbook.add_worksheet(_sheet_name(meta_title, used))
    for row, (label, value) in enumerate(meta.items()):
        sheet.write(row, 0, label, bold)
        sheet.write(row, 1, _cell(value))
    sheet.set_column(0, 1, 30)
    for section in sections:
        sheet = workbook.add_worksheet(_sheet_name(section.title, used))
        for column, (_key, label) in enumerate(section.columns):
            sheet.write(0, column, label, bold)
        for row, values in enumerate(section.rows, start=1):
            for column, (key, _label) in enumerate(section.columns):
                sheet.write(row, column, _cell(values.get(key)))
        sheet.set_column(0, max(len(section.columns) - 1, 0), 18)
    workbook.close()
    return buffer.getvalue()


def _cell(value):
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return value
