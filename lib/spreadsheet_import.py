"""Reading and validating customer and purchase files (Excel .xlsx/.xls, CSV in UTF-8, UTF-8 with BOM or
GBK) for the Shop CRM import. Pure Python and pandas, no ORM: the model (``shop.crm.import``) passes the
lookups it needs (tiers, staff) and writes what this module validated.

Every problem is an :class:`Issue` (1-based data row, column, message code, parameters); the model turns
the code into a translated message. Row 0 is the file itself (a missing column).
"""

import csv
import io
import re
import struct
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

from . import phone

CUSTOMER_COLUMNS = {
    "member_code": "会员卡号",
    "name": "姓名",
    "mobile": "手机号",
    "email": "邮箱",
    "gender": "性别",
    "birthday": "生日",
    "tier": "会员等级",
    "points": "积分",
    "member_since": "入会日期",
    "staff": "负责人",
    "tags": "标签",
    "wechat_id": "微信号",
    "notes": "备注",
    "consent_sms": "短信营销",
    "consent_email": "邮件营销",
    "consent_wechat": "微信营销",
    "referred_by": "推荐人",
}
PURCHASE_COLUMNS = {
    "member_code": "会员卡号",
    "mobile": "手机号",
    "date": "日期",
    "amount": "金额",
    "reference": "单号",
    "items": "商品",
    "channel": "渠道",
}
COLUMNS = {"customers": CUSTOMER_COLUMNS, "purchases": PURCHASE_COLUMNS}
CONSENT_CHANNELS = {"consent_sms": "sms", "consent_email": "email", "consent_wechat": "wechat"}

GENDERS = {
    "male": "male",
    "m": "male",
    "男": "male",
    "female": "female",
    "f": "female",
    "女": "female",
    "other": "other",
    "其他": "other",
}
YES_NO = {
    "yes": True,
    "y": True,
    "是": True,
    "1": True,
    "true": True,
    "no": False,
    "n": False,
    "否": False,
    "0": False,
    "false": False,
}
TAG_SEPARATORS = re.compile(r"[,，、]")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_TEXT = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
MEMBER_CODE = re.compile(r"^[A-Za-z0-9]+$")

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class FileError(ValueError):
    """The file cannot be read as a spreadsheet (``code``: not_spreadsheet, encoding, empty)."""

    def __init__(self, code, detail=""):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass
class Issue:
    row: int
    column: str
    code: str
    params: dict = field(default_factory=dict)


@dataclass
class Parsed:
    """The validated rows: ``frame`` (one row per data row that has no error unless noted, index = the
    1-based data row), the problems, and which canonical columns the file has (``columns``: canonical
    name -> header in the file)."""

    frame: pd.DataFrame
    issues: list
    columns: dict
    rows: int


# ---- reading --------------------------------------------------------------------------------------


def read_table(path=None, content=None):
    """The file as a DataFrame of cell values (object dtype; Excel dates stay datetimes), header = the first
    row. Recognises the format from the content, not the name: .xlsx (a zip), .xls (OLE2) or text (CSV).
    Raises FileError for anything else."""
    if content is None:
        with open(path, "rb") as handle:
            content = handle.read()
    if not content.strip():
        raise FileError("empty")
    if content.startswith(XLSX_MAGIC):
        frame = _read_xlsx(content)
    elif content.startswith(XLS_MAGIC):
        frame = _read_xls(content)
    else:
        frame = _read_csv(content)
    frame.columns = [str(column).strip() for column in frame.columns]
    frame = frame.dropna(how="all")
    frame.index = pd.RangeIndex(1, len(frame) + 1) if len(frame) else frame.index
    return frame


def _read_xlsx(content):
    """.xlsx files with openpyxl in read-only mode (pandas 2.3's ``read_excel`` asks for openpyxl >= 3.1,
    Odoo 18 pins 3.0.9): the first sheet, cell values as openpyxl gives them (dates as datetimes)."""
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise FileError("not_spreadsheet", "zip without a workbook")
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise FileError("not_spreadsheet", str(error)) from error
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            raise FileError("empty")
        width = len(header)
        data = [row[:width] for row in rows]
    finally:
        book.close()
    return pd.DataFrame(
        data, columns=[str(name) if name is not None else "" for name in header], dtype=object
    )


def _read_xls(content):
    """Old Excel files with xlrd 1.2 directly (pandas asks for xlrd >= 2.0.1, Odoo pins 1.2)."""
    import xlrd
    import xlrd.compdoc

    try:
        book = xlrd.open_workbook(file_contents=content)
    except (xlrd.XLRDError, xlrd.compdoc.CompDocError, struct.error, IndexError) as error:
        raise FileError("not_spreadsheet", str(error)) from error
    sheet = book.sheet_by_index(0)
    if sheet.nrows == 0:
        raise FileError("empty")

    def value(cell):
        if cell.ctype == xlrd.XL_CELL_DATE:
            return xlrd.xldate_as_datetime(cell.value, book.datemode)
        if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            return None
        if cell.ctype == xlrd.XL_CELL_NUMBER and float(cell.value).is_integer():
            return int(cell.value)
        return cell.value

    rows = [[value(cell) for cell in sheet.row(index)] for index in range(sheet.nrows)]
    return pd.DataFrame(rows[1:], columns=[str(header) for header in rows[0]], dtype=object)


def _is_utf8(content):
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode(content):
    """Text of a CSV file: UTF-8 with or without BOM, else GB18030 (a superset of GBK and GB2312). Raises
    FileError("encoding") when it is neither, FileError("not_spreadsheet") for binary content."""
    if b"\x00" in content[:4096]:
        raise FileError("not_spreadsheet", "binary content")
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    if _is_utf8(content):
        return content.decode("utf-8")
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError as error:
        raise FileError("encoding", str(error)) from error


def _read_csv(content):
    text = decode(content)
    first_line = text.split("\n", 1)[0]
    if not first_line.strip() or any(
        ord(char) < 32 and char not in "\t\r" for char in text[:4096].replace("\n", "")
    ):
        raise FileError("not_spreadsheet", "control characters in the text")
    try:
        dialect = csv.Sniffer().sniff(first_line, delimiters=",;\t")
        separator = dialect.delimiter
    except csv.Error:
        separator = ","
    try:
        return pd.read_csv(
            io.StringIO(text), sep=separator, dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except (pd.errors.ParserError, ValueError) as error:
        raise FileError("not_spreadsheet", str(error)) from error


# ---- columns ---------------------------------------------------------------------------------------


def recognise_columns(headers, kind):
    """{canonical name: header in the file} for the headers that are known columns (names are
    case-insensitive; the Chinese alias is accepted too)."""
    known = {}
    for name, alias in COLUMNS[kind].items():
        known[name] = name
        known[alias] = name
    found = {}
    for header in headers:
        canonical = known.get(str(header).strip().lower()) or known.get(str(header).strip())
        if canonical and canonical not in found:
            found[canonical] = header
    return found


def _by_distinct(series, parse, empty):
    """``parse`` (a function of a Series of distinct non-empty cell values, returning an array of the
    same length) applied once per distinct value and spread back to every row; empty cells get
    ``empty``. A file's dates, tiers or staff repeat: a million rows have a few thousand distinct
    values."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    values = np.empty(len(uniques) + 1, dtype=object)
    values[:-1] = parse(pd.Series(uniques, dtype=object)) if len(uniques) else []
    values[-1] = empty
    return pd.Series(values[codes], index=series.index, dtype=object)  # code -1: the empty value


def _text_one(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _text(series):
    """Cells as stripped text ('' for empty; a whole float from Excel without its '.0')."""
    if pd.api.types.infer_dtype(series, skipna=False) == "string":  # a CSV column: text already
        return series.str.strip().astype(object)
    return _by_distinct(
        series, lambda values: np.array([_text_one(value) for value in values], dtype=object), ""
    )


def _parse_distinct_dates(series):
    """(dates or None, unreadable) for distinct cell values (see parse_dates)."""
    is_date = series.map(lambda value: isinstance(value, datetime | date)).to_numpy(dtype=bool)
    dates = np.full(len(series), None, dtype=object)
    dates[is_date] = [value.date() if isinstance(value, datetime) else value for value in series[is_date]]
    text = pd.Series([_text_one(value) for value in series[~is_date]], dtype=object)
    # the usual spelling (1990-03-05) in one vectorised pass, the others through the pattern
    stamped = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    other = stamped.isna() & (text != "")
    if other.any():
        parts = text[other].str.extract(DATE_TEXT)
        stamped[other] = pd.to_datetime(
            {
                "year": pd.to_numeric(parts[0]),
                "month": pd.to_numeric(parts[1]),
                "day": pd.to_numeric(parts[2]),
            },
            errors="coerce",
        )
    valid = stamped.notna().to_numpy(dtype=bool)
    text_dates = np.full(len(text), None, dtype=object)
    text_dates[valid] = list(stamped[valid].dt.date)
    dates[~is_date] = text_dates
    bad = np.zeros(len(series), dtype=bool)
    bad[~is_date] = (text != "").to_numpy(dtype=bool) & ~valid
    return dates, bad


def parse_dates(series):
    """(dates as a Series of datetime.date or None, mask of cells that are filled but unreadable).
    Accepts 1990-03-05, 1990/3/5, 1990.3.5, 1990年3月5日 (an optional time is ignored) and Excel date
    cells. Each distinct value is parsed once."""
    parsed = {}

    def parse(values):
        dates, bad = _parse_distinct_dates(values)
        parsed["bad"] = bad
        return dates

    dates = _by_distinct(series, parse, None)
    bad = _by_distinct(series, lambda values: parsed["bad"], False).astype(bool)
    return dates, bad


def _numbers(text):
    cleaned = text.str.replace(r"[,，\s¥￥]", "", regex=True)
    values = pd.to_numeric(cleaned.where(cleaned != "", None), errors="coerce")
    return values, (text != "") & values.isna()


def _phones(text, region, allowed_regions):
    """(normalised mobiles, {row: reason} for the bad ones), normalising each distinct value once."""
    distinct = {}
    for raw in text[text != ""].unique():
        try:
            distinct[raw] = (
                phone.normalize(raw, region, mobile_only=True, allowed_regions=allowed_regions),
                None,
            )
        except phone.PhoneError as error:
            distinct[raw] = (None, error.reason)
    normalised = text.map(lambda raw: distinct[raw][0] if raw else None)
    reasons = text.map(lambda raw: distinct[raw][1] if raw else None)
    return normalised, reasons


def _add(issues, mask, column, code, **params):
    issues.extend(Issue(int(row), column, code, params) for row in mask[mask].index)


def repeated_rows(keys):
    """``[(row, first row)]`` for every repeat of a key of ``keys`` (a Series indexed by row) after the
    first row that has it."""
    repeated = keys.duplicated(keep="first")
    first_row = {}
    for row, key in keys.items():
        first_row.setdefault(key, row)
    return [(row, first_row[keys[row]]) for row in repeated[repeated].index]


def _duplicates(keys, column, code, issues):
    """Mark every repeat of a non-empty key after its first row."""
    filled = keys[keys.notna() & (keys != "")]
    repeats = repeated_rows(filled)
    issues.extend(
        Issue(int(row), column, code, {"value": filled[row], "first": int(first)}) for row, first in repeats
    )
    mask = pd.Series(False, index=keys.index)
    mask.loc[[row for row, _first in repeats]] = True
    return mask


def _missing_columns(found, required_all, required_any, issues):
    for name in required_all:
        if name not in found:
            issues.append(Issue(0, name, "missing_column", {"column": name}))
    if required_any and not any(name in found for name in required_any):
        issues.append(
            Issue(0, "/".join(required_any), "missing_column", {"column": " / ".join(required_any)})
        )
    return any(issue.code == "missing_column" for issue in issues)


# ---- customers -------------------------------------------------------------------------------------


def validate_customers(table, tiers, staff, region=phone.DEFAULT_REGION, allowed_regions=None):
    """Validate a customers table.

    ``tiers``: {lower-case tier name: tier id}; ``staff``: {lower-case login or name: user id}. Returns
    Parsed whose frame has the columns member_code, name, mobile (as typed), mobile_normalized, email,
    gender, birthday, tier_id, points, member_since, user_id, tags (tuple), wechat_id, notes, consent_sms,
    consent_email, consent_wechat (True/False/None), referred_by (normalised mobile or member code), and
    ``bad`` (the row has an error)."""
    if allowed_regions is None:
        allowed_regions = {region}
    issues = []
    found = recognise_columns(table.columns, "customers")
    rows = len(table)
    if _missing_columns(found, ["name"], ["mobile", "member_code"], issues):
        return Parsed(pd.DataFrame(), issues, found, rows)
    cell = {name: _text(table[header]) for name, header in found.items()}
    empty = pd.Series([""] * rows, index=table.index, dtype=object)

    def text(name):
        return cell.get(name, empty)

    out = pd.DataFrame(index=table.index)
    out["name"] = text("name")
    _add(issues, out["name"] == "", "name", "required", field="name")

    code = text("member_code")
    _add(issues, (code != "") & ~code.str.match(MEMBER_CODE), "member_code", "bad_member_code")
    out["member_code"] = code.where(code != "", None)

    out["mobile"] = text("mobile")
    normalised, reasons = _phones(out["mobile"], region, allowed_regions)
    _add(issues, reasons == "invalid", "mobile", "bad_mobile")
    _add(issues, reasons == "foreign", "mobile", "foreign_mobile")
    out["mobile_normalized"] = normalised
    _add(issues, (code == "") & (out["mobile"] == ""), "mobile", "mobile_or_code")

    email = text("email").str.lower()
    _add(issues, (email != "") & ~email.str.match(EMAIL), "email", "bad_email")
    out["email"] = email.where(email != "", None)

    gender = text("gender").str.lower().map(lambda value: GENDERS.get(value, "?" if value else None))
    _add(issues, gender == "?", "gender", "bad_gender")
    out["gender"] = gender.where(gender != "?", None)

    for name in ("birthday", "member_since"):
        values, bad = (
            parse_dates(table[found[name]])
            if name in found
            else (pd.Series([None] * rows, index=table.index, dtype=object), empty != "")
        )
        _add(issues, bad, name, "bad_date")
        out[name] = values

    tier = text("tier")
    out["tier_id"] = tier.str.lower().map(lambda value: tiers.get(value) if value else None)
    unknown_tier = (tier != "") & out["tier_id"].isna()
    issues.extend(
        Issue(int(row), "tier", "unknown_tier", {"value": tier[row]})
        for row in unknown_tier[unknown_tier].index
    )

    points, bad_points = _numbers(text("points"))
    _add(issues, bad_points, "points", "bad_number")
    _add(issues, points < 0, "points", "negative_points")
    out["points"] = points.round(2)

    user = text("staff")
    out["user_id"] = user.str.lower().map(lambda value: staff.get(value) if value else None)
    unknown_staff = (user != "") & out["user_id"].isna()
    issues.extend(
        Issue(int(row), "staff", "unknown_staff", {"value": user[row]})
        for row in unknown_staff[unknown_staff].index
    )

    out["tags"] = text("tags").map(
        lambda value: tuple(dict.fromkeys(tag.strip() for tag in TAG_SEPARATORS.split(value) if tag.strip()))
    )
    out["wechat_id"] = text("wechat_id").where(text("wechat_id") != "", None)
    out["notes"] = text("notes").where(text("notes") != "", None)
    for name in CONSENT_CHANNELS:
        answer = text(name).str.lower().map(lambda value: YES_NO.get(value, "?") if value else None)
        _add(issues, answer == "?", name, "bad_yes_no")
        out[name] = answer.where(answer != "?", None)

    # a referrer is a member code or a mobile: the model tries the code first, then the mobile
    referrer = text("referred_by")
    out["referred_by"] = referrer.where(referrer != "", None)
    out["referred_by_mobile"] = referrer.map(
        lambda value: phone.normalize_or_none(value, region) if value else None
    )

    # one row per customer inside the file: a member code, else a mobile, appears once
    _duplicates(out["member_code"], "member_code", "duplicate_in_file", issues)
    key_mobile = out["mobile_normalized"].where(out["member_code"].isna())
    _duplicates(key_mobile, "mobile", "duplicate_in_file", issues)
    bad_rows = {issue.row for issue in issues}
    out["bad"] = out.index.isin(bad_rows)
    return Parsed(out, issues, found, rows)


# ---- purchases -------------------------------------------------------------------------------------


def validate_purchases(table, region=phone.DEFAULT_REGION):
    """Validate a purchases table. The frame has member_code, mobile_normalized, date, amount, reference,
    items, channel and ``bad``; the model then finds the customers."""
    issues = []
    found = recognise_columns(table.columns, "purchases")
    rows = len(table)
    if _missing_columns(found, ["date", "amount", "reference"], ["member_code", "mobile"], issues):
        return Parsed(pd.DataFrame(), issues, found, rows)
    cell = {name: _text(table[header]) for name, header in found.items()}
    empty = pd.Series([""] * rows, index=table.index, dtype=object)
    out = pd.DataFrame(index=table.index)
    code = cell.get("member_code", empty)
    mobile = cell.get("mobile", empty)
    out["member_code"] = code.where(code != "", None)
    normalised, reasons = _phones(mobile.where(code == "", ""), region, None)
    _add(issues, reasons.notna(), "mobile", "bad_mobile")
    out["mobile_normalized"] = normalised
    _add(issues, (code == "") & (mobile == ""), "member_code", "mobile_or_code")
    out["date"], bad_date = parse_dates(table[found["date"]])
    _add(issues, bad_date, "date", "bad_date")
    _add(issues, cell["date"] == "", "date", "required", field="date")
    amount, bad_amount = _numbers(cell["amount"])
    _add(issues, bad_amount, "amount", "bad_number")
    _add(issues, cell["amount"] == "", "amount", "required", field="amount")
    out["amount"] = amount.round(6)
    reference = cell["reference"]
    _add(issues, reference == "", "reference", "required", field="reference")
    out["reference"] = reference
    _duplicates(reference.where(reference != "", None), "reference", "duplicate_in_file", issues)
    out["items"] = cell.get("items", empty).where(cell.get("items", empty) != "", None)
    out["channel"] = cell.get("channel", empty).where(cell.get("channel", empty) != "", None)
    bad_rows = {issue.row for issue in issues}
    out["bad"] = out.index.isin(bad_rows)
    return Parsed(out, issues, found, rows)
