"""Reading the testing system's export: .xlsx or .csv (UTF-8 or GBK), headers mapped to fields.

The encoding of a CSV is found by decoding strictly: UTF-8 (with or without BOM) first,
then GB18030 (a superset of GBK). Chinese text in GBK is practically never valid UTF-8, so
the first strict decode that succeeds is the file's encoding; a statistical detector would
only add guesses to a question with two possible answers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import openpyxl
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.campaigns.choices import IMPORT_FIELD_LABELS, IMPORT_FIELDS

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 1_100_000


class ExportError(Exception):
    """A file that cannot be read, or a mapping that does not fit it; says why in Chinese."""

    def __init__(self, message: str, *, field: str = "file") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class Sheet:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line in the file, cells as text)
    file_format: str  # "xlsx" or "csv"
    encoding: str  # "UTF-8", "GBK" or "" (xlsx)


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_export(data: bytes, filename: str) -> Sheet:
    if not data.strip():
        raise ExportError(_("文件是空的"))
    if len(data) > MAX_BYTES:
        raise ExportError(_("文件超过 50 MB，请拆分后分批导入"))
    name = filename.lower()
    if name.endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ExportError(_("不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx 或 CSV 后再导入"))
    if name.endswith(".xlsx") or data.startswith(b"PK"):
        return _xlsx(data)
    if name.endswith((".csv", ".txt")) or not name:
        return _csv(data)
    raise ExportError(_("只支持 .xlsx 和 .csv 文件"))


def _sheet(lines: Sequence[tuple[int, list[str]]], file_format: str, encoding: str) -> Sheet:
    filled = [n for n, (_line, cells) in enumerate(lines) if any(cells)]
    if not filled:
        raise ExportError(_("文件是空的"))
    # The header row: the first (of the first ten) with a usual header name, else the first
    # with two cells or more (a title line above the table has one).
    known = {_key(name) for names in IMPORT_FIELDS.values() for name in names}
    first = filled[:10]
    header_at = next(
        (n for n in first if any(_key(c) in known for c in lines[n][1])),
        next((n for n in first if sum(1 for c in lines[n][1] if c) >= 2), filled[0]),
    )
    headers = lines[header_at][1]
    rows = [(line, cells) for line, cells in lines[header_at + 1 :] if any(cells)]
    if len(rows) > MAX_ROWS:
        raise ExportError(_("文件超过 %(max)d 行数据，请拆分后分批导入") % {"max": MAX_ROWS})
    return Sheet(headers=headers, rows=rows, file_format=file_format, encoding=encoding)


def _xlsx(data: bytes) -> Sheet:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds on a damaged file
        raise ExportError(_("文件无法打开：不是有效的 .xlsx 文件（可能已损坏）")) from e
    try:
        if not workbook.worksheets:
            raise ExportError(_("文件中没有工作表"))
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        lines = [
            (n, [cell_text(v) for v in values])
            for n, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    except ExportError:
        raise
    except Exception as e:
        raise ExportError(_("文件内容损坏，无法读取全部行")) from e
    finally:
        workbook.close()
    return _sheet(lines, "xlsx", "")


def decode(data: bytes) -> tuple[str, str]:
    """The text and the name of its encoding (UTF-8 or GBK)."""
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GBK"
    except UnicodeDecodeError:
        raise ExportError(_("无法识别 CSV 文件的编码，请保存为 UTF-8 或 GBK")) from None


def _csv(data: bytes) -> Sheet:
    text, encoding = decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    try:
        lines = [
            (n, [c.strip() for c in record])
            for n, record in enumerate(
                csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1
            )
        ]
    except csv.Error as e:
        raise ExportError(_("CSV 文件格式错误：%(reason)s") % {"reason": e}) from e
    return _sheet(lines, "csv", encoding)


def _key(header: str) -> str:
    return re.sub(r"[\s*（）()：:]", "", header)


def resolve_mapping(
    headers: Sequence[str], remembered: Mapping[str, str], given: Mapping[str, str]
) -> dict[str, str]:
    """Field → header for this file: what the user gave now, else what the campaign
    remembers, else a header with a usual name. A header named but not in the file is an
    error on that field; so is a file with neither an ID number nor a name column."""
    by_key = {_key(h): h for h in headers if h}
    mapping: dict[str, str] = {}
    for field in IMPORT_FIELDS:
        wanted = (given.get(field) or "").strip()
        if wanted:
            if _key(wanted) not in by_key:
                raise ExportError(
                    _("文件中没有“%(header)s”列；文件的列有：%(headers)s")
                    % {"header": wanted, "headers": "、".join(h for h in headers if h)},
                    field=field,
                )
            mapping[field] = by_key[_key(wanted)]
            continue
        old = remembered.get(field, "")
        if old and _key(old) in by_key:
            mapping[field] = by_key[_key(old)]
            continue
        guess = next((by_key[_key(n)] for n in IMPORT_FIELDS[field] if _key(n) in by_key), "")
        if guess:
            mapping[field] = guess
    if "id_number" not in mapping and "name" not in mapping:
        raise ExportError(
            _("找不到身份证号列或姓名列，请指定对应的列名；文件的列有：%(headers)s")
            % {"headers": "、".join(h for h in headers if h)},
            field="id_number",
        )
    return mapping


def mapping_label(mapping: Mapping[str, str]) -> str:
    return "；".join(
        f"{IMPORT_FIELD_LABELS[field]}＝{header}"
        for field, header in mapping.items()
        if field in IMPORT_FIELD_LABELS
    )


_WHEN = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?"
)


def parse_when(text: str) -> dt.datetime | None:
    """'2022-04-10 08:15:00', '2022/4/10 8:15', '2022年4月10日' → Shanghai time; else None."""
    match = _WHEN.search(text or "")
    if not match:
        return None
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
    try:
        return timezone.make_aware(dt.datetime(y, mo, d, h, mi, s))  # noqa: DTZ001
    except ValueError:
        return None
