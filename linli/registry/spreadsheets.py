"""Residents in from a spreadsheet (every row checked, valid rows imported) and the register out.

The import reads .xlsx or .csv (UTF-8 with or without BOM, or GBK), finds the header row,
checks each row with the same rules as the resident form (Resident.full_clean, the place
must exist in the chosen community) plus checks across rows (an ID number twice in the
file, a phone number shared), and reports every row as ok, warning or error. Only on
confirmation are the ok and warning rows written, all in one transaction: either every
valid row is imported or nothing is.

Exports escape text that a spreadsheet would run as a formula (= + - @).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field

import openpyxl
from auditlog.cid import get_cid
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_scopes import scopes_disabled
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation

from linli.accounts.models import User
from linli.lib.encryption import blind_index
from linli.lib.identity import Checked, check_id_number, check_mobile, compose_id_number
from linli.lib.masking import mask_id_number, mask_phone
from linli.registry.choices import CareTag, LivingStatus, Relation, Sex
from linli.registry.models import (
    Building,
    CareTagAssignment,
    Community,
    Compound,
    Household,
    ImportBatch,
    Resident,
    ResidentQuerySet,
    Unit,
)

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# How far down the header row may sit (some sheets carry a title line above it).
HEADER_SEARCH_ROWS = 10
# Placeholders people type into optional cells meaning "none".
NOTHING = frozenset({"无", "-", "—", "/", "／", "暂无", "没有"})
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXAMPLE_NOTE = "示例行，导入前请删除"
PLACE_KEYS = frozenset({"compound", "building", "unit", "room"})


class SpreadsheetError(Exception):
    """A file that cannot be imported at all (unreadable, empty, wrong headers, too big)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ImportRejected(SpreadsheetError):
    """The database refused the write; the transaction was rolled back, nothing is written."""


class PreviewChanged(SpreadsheetError):
    """The rows checked at confirmation differ from the preview the user confirmed."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    help: str = ""


COLUMNS: tuple[Column, ...] = (
    Column(
        "compound",
        "小区",
        ("compound", "小区名称"),
        help=gettext_noop("本社区只有一个小区时可不填"),
    ),
    Column(
        "building",
        "楼栋",
        ("building", "楼号", "楼栋号"),
        required=True,
        help=gettext_noop("须已在系统中建好，如 1号楼"),
    ),
    Column(
        "unit", "单元", ("unit", "单元号"), required=True, help=gettext_noop("须已在系统中建好")
    ),
    Column(
        "room",
        "房号",
        ("room", "门牌号", "房间号", "室号", "户号"),
        required=True,
        help=gettext_noop("房号不存在时自动新建该户"),
    ),
    Column("name", "姓名", ("name",), required=True),
    Column("sex", "性别", ("sex", "gender"), help=gettext_noop("可不填，按身份证号判断")),
    Column(
        "birth_date",
        "出生日期",
        ("birth_date", "birthdate", "出生年月日"),
        help=gettext_noop("如 1950-03-07、1950/3/7、19500307；可不填，按身份证号判断"),
    ),
    Column(
        "id_number",
        "身份证号",
        ("id_number", "身份证", "身份证号码", "公民身份号码", "证件号码"),
        help=gettext_noop("18位；请把该列设为“文本”格式，否则 Excel 会丢掉末尾几位"),
    ),
    Column("phone", "手机号", ("phone", "mobile", "手机", "手机号码", "联系电话", "电话")),
    Column(
        "relation",
        "与户主关系",
        ("relation", "关系", "与户主的关系"),
        help=gettext_noop("不填为户主"),
    ),
    Column(
        "living_status", "居住状态", ("living_status", "status"), help=gettext_noop("不填为在住")
    ),
    Column(
        "tags",
        "重点人群",
        ("tags", "care_tags", "重点人群标签", "人员类别"),
        help=gettext_noop("可填多个，用顿号“、”或逗号分隔"),
    ),
    Column("notes", "备注", ("notes", "note", "remark", "remarks")),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}

RELATION_SYNONYMS = {
    "本人": Relation.HEAD,
    "户主本人": Relation.HEAD,
    "妻子": Relation.SPOUSE,
    "丈夫": Relation.SPOUSE,
    "妻": Relation.SPOUSE,
    "夫": Relation.SPOUSE,
    "儿子": Relation.CHILD,
    "女儿": Relation.CHILD,
    "子": Relation.CHILD,
    "女": Relation.CHILD,
    "长子": Relation.CHILD,
    "长女": Relation.CHILD,
    "次子": Relation.CHILD,
    "次女": Relation.CHILD,
    "父亲": Relation.PARENT,
    "母亲": Relation.PARENT,
    "孙子": Relation.GRANDCHILD,
    "孙女": Relation.GRANDCHILD,
    "外孙": Relation.GRANDCHILD,
    "外孙女": Relation.GRANDCHILD,
    "祖父": Relation.GRANDPARENT,
    "祖母": Relation.GRANDPARENT,
    "外祖父": Relation.GRANDPARENT,
    "外祖母": Relation.GRANDPARENT,
    "哥哥": Relation.SIBLING,
    "弟弟": Relation.SIBLING,
    "姐姐": Relation.SIBLING,
    "妹妹": Relation.SIBLING,
    "租客": Relation.TENANT,
    "承租人": Relation.TENANT,
}
LIVING_SYNONYMS = {
    "常住": LivingStatus.LIVING_HERE,
    "居住": LivingStatus.LIVING_HERE,
    "外地": LivingStatus.AWAY,
    "住院中": LivingStatus.IN_HOSPITAL,
    "迁出": LivingStatus.MOVED_OUT,
    "去世": LivingStatus.DECEASED,
    "死亡": LivingStatus.DECEASED,
}
SEX_SYNONYMS = {"男性": Sex.MALE, "女性": Sex.FEMALE, "m": Sex.MALE, "f": Sex.FEMALE}
TAG_SYNONYMS = {
    "独居": CareTag.LIVES_ALONE,
    "空巢老人": CareTag.EMPTY_NEST,
    "残疾人": CareTag.DISABLED,
    "五保": CareTag.EXTREME_HARDSHIP,
    "特困": CareTag.EXTREME_HARDSHIP,
    "孕妇": CareTag.PREGNANT,
    "产妇": CareTag.PREGNANT,
    "透析": CareTag.DIALYSIS,
    "婴儿": CareTag.INFANT,
    "幼儿": CareTag.INFANT,
    "外籍人员": CareTag.FOREIGN,
}
_TAG_SEPARATORS = re.compile(r"[、,，;；\s]+")
_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


class Formula(str):
    """The text of a cell that holds a formula (never evaluated, never imported)."""

    __slots__ = ()


def normalise(text: str) -> str:
    """The form names are compared in: full-width folded, no spaces, lower case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def _header_key(text: str) -> str:
    text = re.sub(r"[（(][^)）]*[)）]", "", normalise(text))
    return text.strip("*＊:：")


_HEADER_LOOKUP: dict[str, str] = {}
for _column in COLUMNS:
    for _alias in (_column.header, _column.key, *_column.aliases):
        _HEADER_LOOKUP[_header_key(_alias)] = _column.key


def lines_named(lines: Sequence[int]) -> str:
    """第4、9行 (the first few, then 等)."""
    shown = "、".join(str(n) for n in lines[:5])
    more = _("等") if len(lines) > 5 else ""
    return _("第%(lines)s行%(more)s") % {"lines": shown, "more": more}


def cell_text(value: object) -> str:
    """A cell as the text a person sees in it."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    text = str(value).replace("\u200b", "").replace("\ufeff", "")
    return text.strip()


# --- reading a file -------------------------------------------------------------------


@dataclass
class Table:
    """The data rows of a sheet with where each known column sits."""

    columns: dict[str, int]
    rows: list[tuple[int, list[object]]]
    ignored_headers: list[str] = field(default_factory=list)


def read_table(data: bytes, filename: str) -> Table:
    """Read an .xlsx or .csv file; raises SpreadsheetError with a reason a person can act on."""
    if len(data) > MAX_BYTES:
        raise SpreadsheetError(
            _("文件超过 %(mb)d MB，请拆分后分批导入") % {"mb": MAX_BYTES // (1024 * 1024)}
        )
    if not data.strip():
        raise SpreadsheetError(_("文件是空的"))
    name = filename.lower()
    if name.endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetError(_("不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx 或 CSV 后再导入"))
    if name.endswith(".xlsx"):
        rows: Generator[list[object]] = _xlsx_rows(data)
    elif name.endswith(".csv"):
        rows = _csv_rows(data)
    else:
        raise SpreadsheetError(_("只支持 .xlsx 和 .csv 文件"))
    with closing(rows):
        return _table(rows)


def _xlsx_rows(data: bytes) -> Generator[list[object]]:
    if not data.startswith(b"PK"):
        raise SpreadsheetError(_("文件无法打开：不是有效的 .xlsx 文件（可能已损坏）"))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as e:  # openpyxl raises many kinds on a damaged file
        raise SpreadsheetError(_("文件无法打开：不是有效的 .xlsx 文件（可能已损坏）")) from e
    try:
        if not workbook.worksheets:
            raise SpreadsheetError(_("文件中没有工作表"))
        sheet = workbook.worksheets[0]
        # The declared size is sometimes wrong in files from other programs: read it all.
        sheet.reset_dimensions()
        try:
            for cells in sheet.iter_rows():
                yield [Formula(str(c.value)) if c.data_type == "f" else c.value for c in cells]
        except SpreadsheetError:
            raise
        except Exception as e:
            raise SpreadsheetError(_("文件内容损坏，无法读取全部行")) from e
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> Generator[list[object]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SpreadsheetError(_("无法识别 CSV 文件的编码，请保存为 UTF-8 或 GBK"))
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            cells: list[object] = list(record)
            yield cells
    except csv.Error as e:
        raise SpreadsheetError(_("CSV 文件格式错误：%(reason)s") % {"reason": e}) from e


def _table(rows: Iterator[list[object]]) -> Table:
    columns: dict[str, int] | None = None
    ignored: list[str] = []
    data_rows: list[tuple[int, list[object]]] = []
    seen_any = False
    for line, cells in enumerate(rows, start=1):
        if not any(cell_text(c) for c in cells):
            continue
        if columns is None:
            seen_any = True
            columns, ignored = _match_headers(cells)
            if not columns:
                if line >= HEADER_SEARCH_ROWS:
                    break
                columns = None
            continue
        data_rows.append((line, cells))
        if len(data_rows) > MAX_ROWS:
            raise SpreadsheetError(
                _("文件超过 %(max)d 行数据，请拆分后分批导入") % {"max": MAX_ROWS}
            )
    if not seen_any:
        raise SpreadsheetError(_("文件是空的"))
    if not columns:
        raise SpreadsheetError(
            _("找不到表头：第一行应为列名 %(headers)s")
            % {"headers": "、".join(c.header for c in COLUMNS)}
        )
    missing = [c.header for c in COLUMNS if c.required and c.key not in columns]
    if missing:
        raise SpreadsheetError(_("缺少必需的列：%(columns)s") % {"columns": "、".join(missing)})
    if not data_rows:
        raise SpreadsheetError(_("文件中没有居民数据（只有表头）"))
    return Table(columns=columns, rows=data_rows, ignored_headers=ignored)


def _match_headers(cells: Sequence[object]) -> tuple[dict[str, int], list[str]]:
    """Known columns of a candidate header row; empty unless it looks like a header."""
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        text = cell_text(cell)
        if not text:
            continue
        key = _HEADER_LOOKUP.get(_header_key(text))
        if key is None or key in columns:
            ignored.append(text)
        else:
            columns[key] = index
    if "name" not in columns or len(columns) < 2:
        return {}, []
    return columns, ignored


# --- checking rows --------------------------------------------------------------------


@dataclass
class RowResult:
    """One data row: where it is in the file, what it says, and what is wrong with it."""

    line: int
    name: str = ""
    address: str = ""
    id_masked: str = ""
    phone_masked: str = ""
    tag_labels: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    resident: Resident | None = None
    unit: Unit | None = None
    room: str = ""
    household_id: int | None = None
    tags: list[str] = field(default_factory=list)
    id_number: str = ""
    phone: str = ""
    id_checked: Checked = field(default_factory=lambda: Checked(""))
    phone_warnings: list[str] = field(default_factory=list)
    given_sex: str = ""
    bad_columns: set[str] = field(default_factory=set)

    @property
    def status(self) -> str:
        if self.errors:
            return "error"
        return "warning" if self.warnings else "ok"

    @property
    def status_label(self) -> str:
        return {"error": _("错误"), "warning": _("警告"), "ok": _("正常")}[self.status]

    @property
    def messages(self) -> list[str]:
        return self.errors + self.warnings

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def error(self, text: str, label: str = "") -> None:
        self.errors.append(_message(self.line, text, label))

    def warn(self, text: str, label: str = "") -> None:
        self.warnings.append(_message(self.line, text, label))


def _message(line: int, text: str, label: str) -> str:
    if label:
        return _("第%(line)d行：%(field)s：%(text)s") % {"line": line, "field": label, "text": text}
    return _("第%(line)d行：%(text)s") % {"line": line, "text": text}


@dataclass
class ImportReport:
    """Every row of a file checked against one community."""

    community: Community
    filename: str
    rows: list[RowResult]
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def ok(self) -> int:
        return self.count("ok")

    @property
    def warning(self) -> int:
        return self.count("warning")

    @property
    def error(self) -> int:
        return self.count("error")

    @property
    def valid_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.is_valid]

    @property
    def valid(self) -> int:
        return len(self.valid_rows)

    @property
    def new_households(self) -> int:
        return len({(r.unit.pk, r.room) for r in self.valid_rows if r.unit and not r.household_id})


class _Places:
    """The community's compounds, buildings, units and rooms, loaded once for all rows."""

    def __init__(self, community: Community) -> None:
        self.compounds = {
            normalise(c.name): c for c in Compound.objects.filter(community=community)
        }
        self.buildings = {
            (b.compound_id, normalise(b.name)): b
            for b in Building.objects.filter(compound__community=community)
        }
        self.units = {
            (u.building_id, normalise(u.name)): u
            for u in Unit.objects.filter(building__compound__community=community).select_related(
                "building__compound"
            )
        }
        self.households = {
            (unit_id, normalise(room)): pk
            for unit_id, room, pk in Household.objects.filter(community=community).values_list(
                "unit_id", "room", "pk"
            )
        }

    @property
    def only_compound(self) -> Compound | None:
        return next(iter(self.compounds.values())) if len(self.compounds) == 1 else None

    def building(self, compound: Compound, name: str) -> Building | None:
        key = normalise(name)
        candidates = [key] + (
            [key + s for s in ("号楼", "栋", "幢", "号")] if key.isdigit() else []
        )
        for candidate in candidates:
            if found := self.buildings.get((compound.pk, candidate)):
                return found
        return None

    def unit(self, building: Building, name: str) -> Unit | None:
        key = normalise(name)
        candidates = [key] + ([key + "单元"] if key.isdigit() else [])
        for candidate in candidates:
            if found := self.units.get((building.pk, candidate)):
                return found
        return None


def _choice_table(choices: type[models.TextChoices], synonyms: Mapping[str, str]) -> dict[str, str]:
    table = {normalise(k): str(v) for k, v in synonyms.items()}
    for value, label in choices.choices:
        table[normalise(value)] = value
        table[normalise(str(label))] = value
        with translation.override("zh-hans"):
            table[normalise(str(label))] = value
    return table


def _choice_hint(choices: type[models.TextChoices]) -> str:
    return "、".join(str(label) for label in choices.labels)


def parse_date(value: object) -> dt.date:
    """An Excel date, 1950-03-07, 1950/3/7, 1950年3月7日 or 19500307; ValueError otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 3_000 <= value < 100_000:
        # A date cell without a date format: Excel's serial day number. Below 3,000 (1908)
        # it is more likely a bare year such as 1950, which is refused as unreadable.
        converted = from_excel(value)
        if isinstance(converted, dt.datetime):
            return converted.date()
    text = unicodedata.normalize("NFKC", cell_text(value))
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if not match:
        raise ValueError(text)
    year, month, day = (int(g) for g in match.groups())
    return dt.date(year, month, day)


class _NothingRegistered:
    """Stands in for Resident.id_number_duplicates() once the file's one query said none."""

    def exists(self) -> bool:
        return False


class _Checker:
    """Checks rows against one community; one instance per import."""

    def __init__(self, community: Community, table: Table) -> None:
        self.community = community
        self.table = table
        self.places = _Places(community)
        self.sexes = _choice_table(Sex, SEX_SYNONYMS)
        self.relations = _choice_table(Relation, RELATION_SYNONYMS)
        self.statuses = _choice_table(LivingStatus, LIVING_SYNONYMS)
        self.tags = _choice_table(CareTag, TAG_SYNONYMS)
        self.labels = {f.name: str(f.verbose_name) for f in Resident._meta.fields}

    def cells(self, raw: list[object]) -> dict[str, object]:
        return {
            key: (raw[index] if index < len(raw) else None)
            for key, index in self.table.columns.items()
        }

    def parse(self, line: int, raw: list[object]) -> RowResult:
        """Read one row into a Resident (not yet cleaned) and report what cannot be read."""
        row = RowResult(line=line)
        cells = self.cells(raw)
        for key, value in list(cells.items()):
            if isinstance(value, Formula):
                row.error(_("单元格含公式，请先“粘贴为数值”再导入"), COLUMN_BY_KEY[key].header)
                row.bad_columns.add(key)
                cells[key] = None
        text = {key: cell_text(value) for key, value in cells.items()}
        if text.get("notes") == EXAMPLE_NOTE:
            row.error(_("这是模板中的示例行，请删除后再导入"))
        if not row.bad_columns & PLACE_KEYS:
            self.check_place(row, text)
        row.resident = Resident(**self.resident_values(row, cells, text))
        return row

    def clean(self, row: RowResult, registered: set[str]) -> None:
        """The model's own rules (Resident.full_clean), then the doubts that only warn."""
        resident = row.resident
        assert resident is not None  # noqa: S101
        resident.refresh_search()
        if blind_index(row.id_number, purpose="id_number") not in registered:
            # Resident.clean asks the database whether the ID is taken; one query for the
            # whole file (in residents_preview) already said no, so skip one per row.
            resident.id_number_duplicates = _NothingRegistered  # type: ignore[assignment,method-assign]
        try:
            # ID and phone lengths are judged by clean() with clearer words than max_length;
            # the only unique column, the resident's account, is never imported.
            resident.full_clean(
                exclude=["household", "id_number", "phone", *row.bad_columns],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as e:
            for name, messages in e.message_dict.items():
                label = "" if name == "__all__" else self.labels.get(name, name)
                for message in messages:
                    row.error(message, label)
            return
        finally:
            resident.__dict__.pop("id_number_duplicates", None)
        id_checked = row.id_checked
        for warning in id_checked.warnings + row.phone_warnings:
            row.warn(warning)
        if row.given_sex and id_checked.sex and row.given_sex != id_checked.sex:
            row.warn(
                _("性别与身份证号不一致（身份证号为%(sex)s）") % {"sex": Sex(id_checked.sex).label},
                self.labels["sex"],
            )
        if not row.id_number and "id_number" not in row.bad_columns:
            row.warn(_("未填身份证号，无法与已登记居民查重"), self.labels["id_number"])

    def check_place(self, row: RowResult, text: dict[str, str]) -> None:
        compound_name = text.get("compound", "")
        row.room = unicodedata.normalize("NFKC", text.get("room", ""))
        row.address = "".join(
            text.get(k, "") for k in ("compound", "building", "unit") if text.get(k)
        ) + (row.room or "")
        compound: Compound | None
        if compound_name:
            compound = self.places.compounds.get(normalise(compound_name))
            if compound is None:
                row.error(_("小区 %(name)s 不存在") % {"name": compound_name})
                return
        else:
            compound = self.places.only_compound
            if compound is None:
                row.error(_("请填写小区（本社区有多个小区）"), _("小区"))
                return
        building_name = text.get("building", "")
        if not building_name:
            row.error(_("不能为空"), _("楼栋"))
            return
        building = self.places.building(compound, building_name)
        if building is None:
            row.error(_("楼栋 %(name)s 不存在") % {"name": building_name})
            return
        unit_name = text.get("unit", "")
        if not unit_name:
            row.error(_("不能为空"), _("单元"))
            return
        unit = self.places.unit(building, unit_name)
        if unit is None:
            row.error(
                _("单元 %(name)s 不存在（%(building)s）")
                % {"name": unit_name, "building": building.name}
            )
            return
        row.unit = unit
        row.address = f"{compound.name}{building.name}{unit.name}{row.room}"
        if not row.room:
            row.error(_("不能为空"), _("房号"))
        elif row.room.startswith(FORMULA_STARTS) or len(row.room) > 16:
            row.error(_("房号无效：%(room)s") % {"room": row.room[:20]}, _("房号"))
        else:
            row.household_id = self.places.households.get((unit.pk, normalise(row.room)))

    def resident_values(
        self, row: RowResult, cells: dict[str, object], text: dict[str, str]
    ) -> dict[str, object]:
        labels = self.labels
        values: dict[str, object] = {"name": text.get("name", "")}
        row.name = text.get("name", "")
        if row.name.startswith(FORMULA_STARTS):
            # Kept as typed: the row is refused, and the name shows in the report.
            row.error(_("不能以 = + - @ 开头"), labels["name"])
        for key, table, choices in (
            ("sex", self.sexes, Sex),
            ("relation", self.relations, Relation),
            ("living_status", self.statuses, LivingStatus),
        ):
            given = text.get(key, "")
            if not given or (key == "sex" and given in NOTHING):
                continue
            value = table.get(normalise(given))
            if value is None:
                row.error(
                    _("无法识别“%(value)s”（可填：%(choices)s）")
                    % {"value": given[:20], "choices": _choice_hint(choices)},
                    labels[key],
                )
            else:
                values[key] = value
        row.given_sex = str(values.get("sex", ""))
        birth = cells.get("birth_date")
        if text.get("birth_date", "") and text["birth_date"] not in NOTHING:
            try:
                values["birth_date"] = parse_date(birth)
            except ValueError:
                row.error(
                    _("无法识别“%(value)s”，请写成 1950-03-07")
                    % {"value": text["birth_date"][:20]},
                    labels["birth_date"],
                )
        raw_id = cells.get("id_number")
        id_text = "" if text.get("id_number", "") in NOTHING else text.get("id_number", "")
        if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
            row.error(
                _("被 Excel 存成了数字，末尾几位已丢失；请把该列设为“文本”格式后重新填写"),
                labels["id_number"],
            )
            id_text = ""
        row.id_checked = check_id_number(id_text)
        row.id_number = row.id_checked.value
        row.id_masked = mask_id_number(row.id_number)
        values["id_number"] = row.id_number
        phone_text = "" if text.get("phone", "") in NOTHING else text.get("phone", "")
        phone_checked = check_mobile(phone_text)
        row.phone = phone_checked.value
        row.phone_warnings = phone_checked.warnings
        row.phone_masked = mask_phone(row.phone)
        values["phone"] = row.phone
        values["notes"] = ILLEGAL_CHARACTERS_RE.sub("", text.get("notes", ""))
        tags_text = text.get("tags", "")
        if tags_text and tags_text not in NOTHING:
            unknown = []
            for part in _TAG_SEPARATORS.split(tags_text):
                if not part:
                    continue
                tag = self.tags.get(normalise(part))
                if tag is None:
                    unknown.append(part)
                elif tag not in row.tags:
                    row.tags.append(tag)
            if unknown:
                row.error(
                    _("未知的重点人群：%(tags)s（可填：%(choices)s）")
                    % {"tags": "、".join(unknown)[:40], "choices": _choice_hint(CareTag)},
                    _("重点人群"),
                )
            row.tag_labels = [str(CareTag(t).label) for t in row.tags]
        return values


def check_across_rows(rows: Sequence[RowResult]) -> None:
    """ID numbers twice in the file are errors; shared phones (in the file or not) warnings."""
    by_id: dict[str, list[RowResult]] = defaultdict(list)
    by_phone: dict[str, list[RowResult]] = defaultdict(list)
    for row in rows:
        if len(row.id_number) == 18:
            by_id[row.id_number].append(row)
        if len(row.phone) == 11:
            by_phone[row.phone].append(row)
    for same in by_id.values():
        if len(same) > 1:
            for row in same:
                others = [r.line for r in same if r is not row]
                row.error(_("与%(lines)s重复") % {"lines": lines_named(others)}, _("身份证号"))
    for same in by_phone.values():
        if len(same) > 1:
            for row in same:
                others = [r.line for r in same if r is not row]
                row.warn(_("与%(lines)s相同") % {"lines": lines_named(others)}, _("手机号"))
    # A phone already on file is a warning only: family members share a number.
    indexes = {blind_index(phone, purpose="phone"): phone for phone in by_phone}
    wanted = list(indexes)
    known: set[str] = set()
    with scopes_disabled():
        for start in range(0, len(wanted), 1000):
            known.update(
                Resident.objects.filter(phone_index__in=wanted[start : start + 1000]).values_list(
                    "phone_index", flat=True
                )
            )
    for index in known:
        for row in by_phone[indexes[index]]:
            row.warn(_("已登记在其他居民名下（家人可共用）"), _("手机号"))


def _registered_id_numbers(rows: Sequence[RowResult]) -> set[str]:
    """Blind indexes of the file's ID numbers that are already registered, anywhere."""
    indexes = [blind_index(r.id_number, purpose="id_number") for r in rows if r.id_number]
    found: set[str] = set()
    with scopes_disabled():
        for start in range(0, len(indexes), 1000):
            found.update(
                Resident.objects.filter(
                    id_number_index__in=indexes[start : start + 1000]
                ).values_list("id_number_index", flat=True)
            )
    return found


def residents_preview(*, community: Community, data: bytes, filename: str) -> ImportReport:
    """Check every row of a file against a community; writes nothing."""
    table = read_table(data, filename)
    checker = _Checker(community, table)
    rows = [checker.parse(line, raw) for line, raw in table.rows]
    registered = _registered_id_numbers(rows)
    for row in rows:
        checker.clean(row, registered)
    check_across_rows(rows)
    notes = []
    if table.ignored_headers:
        notes.append(
            _("以下列不认识，已忽略：%(headers)s")
            % {"headers": "、".join(h[:20] for h in table.ignored_headers[:10])}
        )
    return ImportReport(community=community, filename=filename, rows=rows, notes=notes)


# --- writing --------------------------------------------------------------------------


@dataclass
class ImportSummary:
    residents: int
    households: int
    tags: int
    skipped: int
    # What was written, to show and to undo by; None when nothing was.
    batch: ImportBatch | None = None


def residents_import(
    *,
    actor: User | None,
    community: Community,
    data: bytes,
    filename: str,
    expected_valid: int | None = None,
) -> tuple[ImportReport, ImportSummary]:
    """Check the file again and import its valid rows, all or nothing.

    The check runs just before the write and outside its transaction, so that SQLite's
    write lock is held only while writing. Whatever changes in between (the same ID number
    or room registered by someone else) is refused by the database's unique constraints,
    and then nothing is written. With `expected_valid` (the count the user confirmed), a
    different count raises PreviewChanged and nothing is written.
    """
    report = residents_preview(community=community, data=data, filename=filename)
    if expected_valid is not None and report.valid != expected_valid:
        raise PreviewChanged(
            _("核对结果已变化：有效记录由 %(before)d 条变为 %(after)d 条，请重新核对")
            % {"before": expected_valid, "after": report.valid},
            report,
        )
    return report, import_rows(actor=actor, community=community, report=report)


def _rejected() -> ImportRejected:
    return ImportRejected(
        _(
            "数据库拒绝了本次导入（可能有人刚刚登记了相同的身份证号或房号），"
            "没有写入任何记录，请重新核对后再导入"
        )
    )


def import_rows(*, actor: User | None, community: Community, report: ImportReport) -> ImportSummary:
    """Write the valid rows of a checked report in one transaction; ImportRejected if refused.

    Everything written points to one ImportBatch, made in the same transaction, whose id
    is the `batch` of every audit entry of the import (see actions.import_undo).
    """
    rows = report.valid_rows
    if not rows:
        # Nothing to write, so nothing to record either.
        return ImportSummary(residents=0, households=0, tags=0, skipped=len(report.rows))
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                community=community,
                filename=report.filename[:200],
                created_by=actor,
                skipped=len(report.rows) - len(rows),
            )
            # Counts and codes only: the file's name is typed by people and may name someone.
            extra = {"import": "residents", "community": community.code, "batch": batch.pk}
            households = _households_create(actor=actor, rows=rows, batch=batch, extra=extra)
            residents: list[Resident] = []
            for row in rows:
                assert row.unit is not None  # noqa: S101
                assert row.resident is not None  # noqa: S101
                resident = row.resident
                resident.household_id = row.household_id or households[_room_key(row)]
                resident.created_by = actor
                resident.updated_by = actor
                # A later edit shows as updated_at after the batch: import_undo refuses then.
                resident.created_at = resident.updated_at = batch.created_at
                resident.import_batch = batch
                residents.append(resident)
            Resident.objects.bulk_create(residents, batch_size=500)
            _log_created(residents, actor=actor, extra=extra)
            assignments = [
                CareTagAssignment(
                    resident=row.resident,
                    tag=tag,
                    recorded_by=actor,
                    recorded_at=batch.created_at,
                    import_batch=batch,
                )
                for row in rows
                for tag in row.tags
            ]
            CareTagAssignment.objects.bulk_create(assignments, batch_size=500)
            _log_created(assignments, actor=actor, extra=extra)
            batch.residents = len(residents)
            batch.households = len(households)
            batch.tags = len(assignments)
            batch.save(update_fields=["residents", "households", "tags"])
            summary = ImportSummary(
                residents=batch.residents,
                households=batch.households,
                tags=batch.tags,
                skipped=batch.skipped,
                batch=batch,
            )
            _log_import_summary(actor=actor, community=community, summary=summary, batch=batch)
    except (IntegrityError, ValidationError) as e:
        raise _rejected() from e
    return summary


def _log_import_summary(
    *, actor: User | None, community: Community, summary: ImportSummary, batch: ImportBatch
) -> None:
    """One entry on the community for the whole import, besides one per row written.

    Counts only: the file's name is typed by people and may name someone. `batch` (the
    ImportBatch id) is also on every per-row entry of the import.
    """
    LogEntry.objects.log_create(
        community,
        action=LogEntry.Action.UPDATE,
        changes={},
        actor=actor,
        additional_data={
            "import": "residents",
            "batch": batch.pk,
            "residents": summary.residents,
            "households": summary.households,
            "tags": summary.tags,
            "skipped": summary.skipped,
        },
        force_log=True,
    )


def _room_key(row: RowResult) -> tuple[int, str]:
    assert row.unit is not None  # noqa: S101
    return row.unit.pk, normalise(row.room)


def _households_create(
    *,
    actor: User | None,
    rows: Sequence[RowResult],
    batch: ImportBatch,
    extra: Mapping[str, object],
) -> dict[tuple[int, str], int]:
    """The rooms the rows name that are not registered yet, made in bulk with their audit.

    What actions.household_create does for one room, for thousands at once: the check that
    the room is free was made with the rows (and the unique constraint backs it up).
    """
    new: dict[tuple[int, str], Household] = {}
    for row in rows:
        key = _room_key(row)
        if row.household_id or key in new:
            continue
        assert row.unit is not None  # noqa: S101
        household = Household(room=row.room.strip(), import_batch=batch)
        household.created_at = household.updated_at = batch.created_at
        household.place_in(row.unit)
        # The unit and its grid were just read from the database: no query to re-check them.
        household.full_clean(exclude=["community", "unit", "grid"], validate_constraints=False)
        new[key] = household
    made = Household.objects.bulk_create(list(new.values()), batch_size=500)
    _log_created(made, actor=actor, extra=extra)
    return {key: household.pk for key, household in new.items()}


def _log_created(
    objects: Sequence[models.Model], *, actor: User | None, extra: Mapping[str, object]
) -> None:
    """The audit entries the post_save signal would have written, for rows made in bulk."""
    if not objects:
        return
    content_type = ContentType.objects.get_for_model(objects[0])
    cid = get_cid()
    as_json = getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False)
    # Only the row's own columns: a reverse relation (care_profile) would cost a query each.
    fields = [f.name for f in objects[0]._meta.concrete_fields]
    entries = []
    for obj in objects:
        if obj.pk is None:
            raise IntegrityError("bulk_create returned no primary key")
        entries.append(
            LogEntry(
                content_type=content_type,
                object_pk=str(obj.pk),
                object_id=obj.pk,
                object_repr=str(obj),
                action=LogEntry.Action.CREATE,
                changes=model_instance_diff(
                    None, obj, fields_to_check=fields, use_json_for_changes=as_json
                ),
                actor=actor,
                actor_email=actor.email if actor else None,
                cid=cid,
                additional_data=dict(extra),
            )
        )
    LogEntry.objects.bulk_create(entries, batch_size=500)


# --- exports --------------------------------------------------------------------------


def safe_cell(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; control chars go."""
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _sheet_rows(sheet: object, rows: Iterable[Sequence[object]]) -> None:
    for values in rows:
        sheet.append([safe_cell(v) for v in values])  # type: ignore[attr-defined]


def _style_header(sheet: object, widths: Sequence[int]) -> None:
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF1F4")
    for index, width in enumerate(widths, start=1):
        letter = get_column_letter(index)
        cell = sheet[f"{letter}1"]  # type: ignore[index]
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(vertical="center")
        sheet.column_dimensions[letter].width = width  # type: ignore[attr-defined]
    sheet.freeze_panes = "A2"  # type: ignore[attr-defined]


REGISTER_HEADERS = (
    (gettext_noop("小区"), 14),
    (gettext_noop("楼栋"), 8),
    (gettext_noop("单元"), 8),
    (gettext_noop("房号"), 8),
    (gettext_noop("姓名"), 10),
    (gettext_noop("性别"), 6),
    (gettext_noop("出生日期"), 12),
    (gettext_noop("年龄"), 6),
    (gettext_noop("身份证号"), 21),
    (gettext_noop("手机号"), 14),
    (gettext_noop("与户主关系"), 10),
    (gettext_noop("居住状态"), 10),
    (gettext_noop("重点人群"), 20),
    (gettext_noop("长护险等级"), 10),
    (gettext_noop("紧急联系人"), 30),
    (gettext_noop("网格"), 10),
)


@dataclass(frozen=True)
class RegisterExport:
    """An exported register: the file, and how many rows of each community it holds."""

    data: bytes
    rows: int
    rows_by_community: dict[int, int]


def export_register(*, community: Community | None, residents: ResidentQuerySet) -> RegisterExport:
    """The register as .xlsx: ID and phone masked, no health text, formulas escaped.

    Writes no audit record: front ends call register_export, which does.
    """
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _("重点人群台账")
    today = timezone.localdate()
    residents = (
        residents.select_related(
            "household__unit__building__compound", "household__grid", "care_profile"
        )
        .prefetch_related(None)
        .with_tags()
        .with_contacts()
        .order_by(
            "household__unit__building__compound__name",
            "household__unit__building__sort_key",
            "household__unit__building__name",
            "household__unit__sort_key",
            "household__room_sort_key",
            "household__room",
            "pk",
        )
    )
    rows: list[list[object]] = [[_(h) for h, _w in REGISTER_HEADERS]]
    by_community: dict[int, int] = defaultdict(int)
    for resident in residents:
        household = resident.household
        by_community[household.community_id] += 1
        unit = household.unit
        profile = getattr(resident, "care_profile", None)
        contacts = "；".join(
            f"{c.name}（{c.relation}）{c.masked_phone}"
            if c.relation
            else f"{c.name} {c.masked_phone}"
            for c in resident.contact_list  # type: ignore[attr-defined]
        )
        rows.append(
            [
                unit.building.compound.name,
                unit.building.name,
                unit.name,
                household.room,
                resident.name,
                resident.get_sex_display(),
                resident.birth_date,
                resident.age_on(today),
                resident.masked_id_number,
                resident.masked_phone,
                resident.get_relation_display(),
                resident.get_living_status_display(),
                "、".join(a.get_tag_display() for a in resident.tag_list),  # type: ignore[attr-defined]
                profile.ltc_level if profile else None,
                contacts,
                household.grid.name if household.grid else "",
            ]
        )
    _sheet_rows(sheet, rows)
    _style_header(sheet, [w for _h, w in REGISTER_HEADERS])
    for cell in sheet["G"][1:]:
        cell.number_format = "yyyy-mm-dd"
    output = io.BytesIO()
    workbook.save(output)
    return RegisterExport(
        data=output.getvalue(), rows=len(rows) - 1, rows_by_community=dict(by_community)
    )


def register_export(
    *,
    actor: User | None,
    community: Community | None,
    residents: ResidentQuerySet,
    filters: Mapping[str, object],
    via: str,
) -> RegisterExport:
    """Export the register and record who took how many rows, of which communities, how.

    What every front end (page, API, command) calls. `filters` must hold nothing personal:
    a search text is recorded only as having been used.
    """
    export = export_register(community=community, residents=residents)
    log_register_export(actor=actor, community=community, export=export, filters=filters, via=via)
    return export


def log_register_export(
    *,
    actor: User | None,
    community: Community | None,
    export: RegisterExport,
    filters: Mapping[str, object],
    via: str,
) -> None:
    """One ACCESS entry per community the export holds rows of (or the one it was asked for).

    An export of several communities with no rows at all is recorded on the actor.
    """
    counts = dict(export.rows_by_community)
    if community is not None:
        counts.setdefault(community.pk, 0)
    with scopes_disabled():  # the ids come from the scoped export itself
        communities = list(Community.objects.filter(pk__in=counts).order_by("pk"))
    data: dict[str, object] = {
        "export": "register",
        "via": via,
        "total_rows": export.rows,
        "filters": dict(filters),
        "masked": True,
    }
    targets: list[tuple[models.Model, int]] = [(c, counts[c.pk]) for c in communities]
    if not targets and actor is not None:
        targets = [(actor, 0)]
    for target, rows in targets:
        LogEntry.objects.log_create(
            target,
            action=LogEntry.Action.ACCESS,
            changes={},
            actor=actor,
            additional_data={**data, "rows": rows},
            force_log=True,
        )


def import_template(community: Community | None = None) -> bytes:
    """The import template: the header row, one example row and a sheet of instructions."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _("居民信息")
    example = {
        "compound": "阳光小区",
        "building": "1号楼",
        "unit": "1单元",
        "room": "101",
        "name": "张三",
        "sex": str(Sex.MALE.label),
        "birth_date": "1950-03-07",
        "id_number": compose_id_number("110101", dt.date(1950, 3, 7), 123),
        "phone": "13800000000",
        "relation": str(Relation.HEAD.label),
        "living_status": str(LivingStatus.LIVING_HERE.label),
        "tags": "、".join(str(t.label) for t in (CareTag.LIVES_ALONE, CareTag.EMPTY_NEST)),
        "notes": EXAMPLE_NOTE,
    }
    if community is not None:
        unit = (
            Unit.objects.filter(building__compound__community=community)
            .select_related("building__compound")
            .first()
        )
        if unit is not None:
            example["compound"] = unit.building.compound.name
            example["building"] = unit.building.name
            example["unit"] = unit.name
    _sheet_rows(sheet, [[c.header for c in COLUMNS], [example[c.key] for c in COLUMNS]])
    widths = [12 if c.key not in ("id_number", "tags", "notes") else 21 for c in COLUMNS]
    _style_header(sheet, widths)
    last = MAX_ROWS + 1
    for column in COLUMNS:
        letter = get_column_letter(COLUMNS.index(column) + 1)
        if column.key in ("building", "unit", "room", "id_number", "phone"):
            # Text format, so Excel keeps every digit of an ID number and leading zeros.
            sheet.column_dimensions[letter].number_format = "@"
            for cell in sheet[letter][1:]:
                cell.number_format = "@"
        choices = {"sex": Sex, "relation": Relation, "living_status": LivingStatus}.get(column.key)
        if choices is not None:
            allowed = ",".join(str(label) for label in choices.labels)
            validation = DataValidation(type="list", formula1=f'"{allowed}"', allow_blank=True)
            validation.add(f"{letter}2:{letter}{last}")
            sheet.add_data_validation(validation)

    guide = workbook.create_sheet(_("填写说明"))
    guide_rows: list[list[object]] = [[_("列名"), _("必填"), _("说明"), _("可填的值")]]
    allowed_values = {
        "sex": _choice_hint(Sex),
        "relation": _choice_hint(Relation),
        "living_status": _choice_hint(LivingStatus),
        "tags": _choice_hint(CareTag),
    }
    for column in COLUMNS:
        guide_rows.append(
            [
                column.header,
                _("是") if column.required else "",
                _(column.help) if column.help else "",
                allowed_values.get(column.key, ""),
            ]
        )
    guide_rows += [
        [],
        [_("说明")],
        [_("1. 第一行是表头，请勿修改列名；第二行是示例，导入前请删除。")],
        [_("2. 小区、楼栋、单元须已在系统中建好；房号不存在时会自动新建该户。")],
        [_("3. 出生日期可写成 1950-03-07、1950/3/7 或 19500307；填了身份证号可不填。")],
        [_("4. 身份证号在文件内或系统中已存在的行不会导入；手机号重复只提示。")],
        [_("5. 可保存为 .xlsx，或 CSV（UTF-8 或 GBK 编码）。")],
        [
            _("6. 每次最多 %(rows)d 行，文件不超过 %(mb)d MB。")
            % {"rows": MAX_ROWS, "mb": MAX_BYTES // (1024 * 1024)}
        ],
        [_("7. 上传后先逐行核对，确认后才写入，只导入没有错误的行。")],
    ]
    _sheet_rows(guide, guide_rows)
    _style_header(guide, [12, 6, 48, 60])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
