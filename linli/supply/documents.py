"""A round's paperwork at close: per supplier a pick list by checkpoint, per checkpoint a
manifest building → unit → household, and door labels; as a page, Excel and PDF.

Everything is built from the allocated items of placed orders (first come: what was
ordered; fair: the allocation; nothing for an item that got 0) in one query for the items
and one for which checkpoint serves which building, then grouped in Python, so a round of
100,000 items costs the same few queries as a round of ten. A household whose building no
checkpoint serves is listed under "未分配卡口", never dropped. Household names, phones and
care tags are on none of these: an address and the pickup code are what the door needs.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from django.db import models
from django.http import FileResponse, Http404, HttpRequest
from django.template.loader import render_to_string
from django.utils.encoding import escape_uri_path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scopes_disabled
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from weasyprint import HTML

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints.access import visible_checkpoints
from linli.checkpoints.models import Checkpoint
from linli.lib.money import fen_to_yuan
from linli.lib.pdf import LocalFilesFetcher
from linli.lib.qr import qr_svg
from linli.registry.models import Community
from linli.registry.scope import area_for
from linli.registry.spreadsheets import safe_cell
from linli.supply import access
from linli.supply.choices import OrderStatus, RoundScope, RoundStatus
from linli.supply.models import OrderItem, RoundDocument, Supplier, SupplyRound

UNASSIGNED = "unassigned"  # the manifest key of households no checkpoint serves
# A document about more orders than this is made in the background (tasks.py); smaller
# ones render while the user waits.
DIRECT_LIMIT = 1500
# Rows of a manifest printed on one A4 page, so each page can carry its own subtotal.
MANIFEST_ROWS_PER_PAGE = 18
LABELS_PER_SHEET = 24  # 3 × 8 labels of 70 × 37 mm on A4
# Rounds whose orders are final enough for paperwork.
DOCUMENT_STATUSES = frozenset(
    {
        RoundStatus.ALLOCATED,
        RoundStatus.DISPATCHED,
        RoundStatus.DELIVERED,
        RoundStatus.SETTLED,
    }
)


class Kind(models.TextChoices):
    PICK_LIST = "pick_list", gettext_lazy("拣货单")
    MANIFEST = "manifest", gettext_lazy("卡口分拣清单")
    LABELS = "labels", gettext_lazy("门贴标签")


class Fmt(models.TextChoices):
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "Excel"


class DocumentStatus(models.TextChoices):
    QUEUED = "queued", gettext_lazy("排队中")
    RUNNING = "running", gettext_lazy("生成中")
    DONE = "done", gettext_lazy("已完成")
    FAILED = "failed", gettext_lazy("失败")


# Which kinds are keyed by a supplier and which by a checkpoint.
SUPPLIER_KINDS = frozenset({Kind.PICK_LIST, Kind.LABELS})


CONTENT_TYPES: dict[str, str] = {
    Fmt.PDF: "application/pdf",
    Fmt.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

# --- the rows -------------------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    """One allocated item line, with the place it goes to."""

    order_id: int
    address: str
    room: str
    room_sort: int
    unit_id: int
    unit: str
    unit_sort: int
    building_id: int
    building: str
    building_sort: int
    compound: str
    pickup_code: str
    supplier_id: int
    package_id: int
    package: str
    count: int
    grams: int
    fen: int
    checkpoint_id: int | None = None

    @property
    def place_key(self) -> tuple[str, int, str, int, int, str, int, str]:
        """Delivery order: compound, building (2号楼 before 10号楼), unit, room."""
        return (
            self.compound,
            self.building_sort,
            self.building,
            self.building_id,
            self.unit_sort,
            self.unit,
            self.room_sort,
            self.room,
        )


_ROW_FIELDS = (
    "order_id",
    "order__household__address",
    "order__household__room",
    "order__household__room_sort_key",
    "order__household__unit_id",
    "order__household__unit__name",
    "order__household__unit__sort_key",
    "order__household__unit__building_id",
    "order__household__unit__building__name",
    "order__household__unit__building__sort_key",
    "order__household__unit__building__compound__name",
    "order__pickup_code",
    "offer__package__supplier_id",
    "offer__package_id",
    "offer__package__name",
    "allocated",
    "net_weight_g",
    "price_fen",
)


def checkpoint_of_buildings(round: SupplyRound) -> dict[int, int]:
    """Building id → the checkpoint serving it, among the round's street's checkpoints.
    A building two checkpoints serve goes to the older one (lowest id), so each household
    is on exactly one manifest."""
    through = Checkpoint.buildings.through
    served: dict[int, int] = {}
    with scopes_disabled():
        links = (
            through.objects.filter(checkpoint__community__street_id=round.street_id)
            .order_by("-checkpoint_id")
            .values_list("building_id", "checkpoint_id")
        )
        for building_id, checkpoint_id in links:
            served[building_id] = checkpoint_id
    return served


def checkpoint_names(round: SupplyRound) -> dict[int, str]:
    with scopes_disabled():
        return {
            pk: f"{compound}{name}"
            for pk, compound, name in Checkpoint.objects.filter(
                community__street_id=round.street_id
            ).values_list("pk", "compound__name", "name")
        }


def load_rows(
    round: SupplyRound,
    *,
    supplier_id: int | None = None,
    checkpoint_key: str | None = None,
    served: dict[int, int] | None = None,
) -> list[Row]:
    """The round's allocated item lines (of one supplier, or going to one checkpoint, or
    to none: UNASSIGNED), each with the checkpoint it goes through."""
    if served is None:
        served = checkpoint_of_buildings(round)
    with scopes_disabled():
        items = OrderItem.objects.filter(
            order__round=round, order__status=OrderStatus.PLACED, allocated__gt=0
        )
        if supplier_id is not None:
            items = items.filter(offer__package__supplier_id=supplier_id)
        if checkpoint_key == UNASSIGNED:
            items = items.exclude(order__household__unit__building_id__in=list(served))
        elif checkpoint_key is not None:
            buildings = [b for b, c in served.items() if str(c) == checkpoint_key]
            items = items.filter(order__household__unit__building_id__in=buildings)
        rows = [
            Row(
                order_id=r[0],
                address=r[1],
                room=r[2],
                room_sort=r[3],
                unit_id=r[4],
                unit=r[5],
                unit_sort=r[6],
                building_id=r[7],
                building=r[8],
                building_sort=r[9],
                compound=r[10],
                pickup_code=r[11],
                supplier_id=r[12],
                package_id=r[13],
                package=r[14],
                count=r[15],
                grams=r[15] * r[16],
                fen=r[15] * r[17],
                checkpoint_id=served.get(r[7]),
            )
            # By item id: a household's items are then listed in the order they were asked
            # for, the same on every database (no default ordering: it would join offers).
            for r in items.values_list(*_ROW_FIELDS).order_by("pk")
        ]
    return rows


# --- pick lists ---------------------------------------------------------------------------


@dataclass
class Totals:
    count: int = 0
    grams: int = 0
    fen: int = 0

    def add(self, count: int, grams: int, fen: int) -> None:
        self.count += count
        self.grams += grams
        self.fen += fen

    @property
    def kg(self) -> str:
        return f"{self.grams / 1000:,.1f}"

    @property
    def yuan(self) -> str:
        return fen_to_yuan(self.fen)


@dataclass
class PackageLine(Totals):
    package_id: int = 0
    name: str = ""


@dataclass
class PickSection:
    """What one supplier sends to one checkpoint (or to the unassigned households)."""

    key: str
    name: str
    lines: list[PackageLine] = field(default_factory=list)
    households: int = 0
    totals: Totals = field(default_factory=Totals)


@dataclass
class PickList:
    supplier_id: int
    sections: list[PickSection] = field(default_factory=list)
    packages: list[PackageLine] = field(default_factory=list)  # the whole load, by package
    households: int = 0
    totals: Totals = field(default_factory=Totals)


def _section_name(key: str, names: dict[int, str]) -> str:
    if key == UNASSIGNED:
        return _("未分配卡口")
    return names.get(int(key), key)


def _key_of(checkpoint_id: int | None) -> str:
    return UNASSIGNED if checkpoint_id is None else str(checkpoint_id)


def _order_sections(keys: Iterable[str], names: dict[int, str]) -> list[str]:
    """Checkpoints by name, the unassigned last."""
    return sorted(keys, key=lambda k: (k == UNASSIGNED, _section_name(k, names), k))


def pick_lists(rows: Iterable[Row], names: dict[int, str]) -> dict[int, PickList]:
    """Supplier id → its pick list: package × count per checkpoint, with kg and value."""
    lines: dict[tuple[int, str, int], PackageLine] = {}
    orders: dict[tuple[int, str], set[int]] = {}
    for row in rows:
        key = _key_of(row.checkpoint_id)
        line = lines.get((row.supplier_id, key, row.package_id))
        if line is None:
            line = lines[(row.supplier_id, key, row.package_id)] = PackageLine(
                package_id=row.package_id, name=row.package
            )
        line.add(row.count, row.grams, row.fen)
        orders.setdefault((row.supplier_id, key), set()).add(row.order_id)
    result: dict[int, PickList] = {}
    sections: dict[tuple[int, str], PickSection] = {}
    for (supplier_id, key, _package), line in sorted(lines.items(), key=lambda i: i[1].name):
        pick = result.setdefault(supplier_id, PickList(supplier_id=supplier_id))
        section = sections.get((supplier_id, key))
        if section is None:
            section = sections[(supplier_id, key)] = PickSection(
                key=key,
                name=_section_name(key, names),
                households=len(orders[(supplier_id, key)]),
            )
        section.lines.append(line)
        section.totals.add(line.count, line.grams, line.fen)
    for (supplier_id, _key), section in sections.items():
        result[supplier_id].sections.append(section)
    for pick in result.values():
        order = {k: n for n, k in enumerate(_order_sections((s.key for s in pick.sections), names))}
        pick.sections.sort(key=lambda s: order[s.key])
        by_package: dict[int, PackageLine] = {}
        for section in pick.sections:
            pick.households += section.households
            pick.totals.add(section.totals.count, section.totals.grams, section.totals.fen)
            for line in section.lines:
                whole = by_package.setdefault(
                    line.package_id, PackageLine(package_id=line.package_id, name=line.name)
                )
                whole.add(line.count, line.grams, line.fen)
        pick.packages = sorted(by_package.values(), key=lambda p: p.name)
    return result


# --- manifests ----------------------------------------------------------------------------


@dataclass
class Door:
    """One household on a manifest or a label: its order, address and what it gets."""

    order_id: int
    address: str
    room: str
    pickup_code: str
    checkpoint_key: str
    place: tuple[str, int, str, int, int, str, int, str]
    building_label: str
    unit_id: int
    unit: str
    items: dict[str, int] = field(default_factory=dict)
    bags: int = 0

    @property
    def items_text(self) -> str:
        return "、".join(f"{name}×{count}" for name, count in self.items.items())


@dataclass
class UnitGroup:
    name: str
    doors: list[Door] = field(default_factory=list)


@dataclass
class BuildingGroup:
    name: str
    units: list[UnitGroup] = field(default_factory=list)
    households: int = 0
    bags: int = 0


@dataclass
class Manifest:
    key: str
    name: str
    buildings: list[BuildingGroup] = field(default_factory=list)
    households: int = 0
    bags: int = 0


def _doors(rows: Iterable[Row]) -> dict[int, Door]:
    doors: dict[int, Door] = {}
    for row in rows:
        door = doors.get(row.order_id)
        if door is None:
            door = doors[row.order_id] = Door(
                order_id=row.order_id,
                address=row.address,
                room=row.room,
                pickup_code=row.pickup_code,
                checkpoint_key=_key_of(row.checkpoint_id),
                place=row.place_key,
                building_label=f"{row.compound}{row.building}",
                unit_id=row.unit_id,
                unit=row.unit,
            )
        door.items[row.package] = door.items.get(row.package, 0) + row.count
        door.bags += row.count
    return doors


def manifests(rows: Iterable[Row], names: dict[int, str]) -> dict[str, Manifest]:
    """Checkpoint key (or UNASSIGNED) → its manifest: building → unit → household, with
    the households and bags per building."""
    by_key: dict[str, list[Door]] = {}
    for door in _doors(rows).values():
        by_key.setdefault(door.checkpoint_key, []).append(door)
    result: dict[str, Manifest] = {}
    for key in _order_sections(by_key, names):
        manifest = result[key] = Manifest(key=key, name=_section_name(key, names))
        building: BuildingGroup | None = None
        unit: UnitGroup | None = None
        last_building = last_unit = -1
        for door in sorted(by_key[key], key=lambda d: d.place):
            building_id = door.place[3]
            if building is None or building_id != last_building:
                building = BuildingGroup(name=door.building_label)
                manifest.buildings.append(building)
                last_building, unit = building_id, None
            if unit is None or door.unit_id != last_unit:
                unit = UnitGroup(name=door.unit)
                building.units.append(unit)
                last_unit = door.unit_id
            unit.doors.append(door)
            building.households += 1
            building.bags += door.bags
        manifest.households = sum(b.households for b in manifest.buildings)
        manifest.bags = sum(b.bags for b in manifest.buildings)
    return result


def labels(rows: Iterable[Row]) -> list[Door]:
    """One label per order, in delivery order (checkpoint, building, unit, room)."""
    return sorted(_doors(rows).values(), key=lambda d: (d.checkpoint_key, d.place))


# --- one document ---------------------------------------------------------------------------


@dataclass
class Document:
    """What one page, sheet or PDF shows."""

    round: SupplyRound
    kind: str
    key: str
    title: str
    pick_list: PickList | None = None
    manifest: Manifest | None = None
    labels: list[Door] = field(default_factory=list)

    @property
    def orders(self) -> int:
        if self.pick_list is not None:
            return self.pick_list.households
        if self.manifest is not None:
            return self.manifest.households
        return len(self.labels)

    @property
    def filename(self) -> str:
        return f"{self.round.title}-{self.title}"


def document_title(round: SupplyRound, kind: str, key: str) -> str:
    """ "惠民生鲜配送 拣货单", "阳光小区东门 卡口分拣清单", "未分配卡口 卡口分拣清单"…"""
    if kind in SUPPLIER_KINDS:
        with scopes_disabled():
            supplier = Supplier.objects.filter(pk=int(key) if key.isdigit() else -1).first()
        name = supplier.name if supplier else key
    else:
        name = _section_name(key, checkpoint_names(round)) if key else ""
    return f"{name} {Kind(kind).label}"


def count_orders(round: SupplyRound, kind: str, key: str) -> int:
    """How many orders the document covers (one cheap query), to choose between rendering
    now and in the background."""
    served = checkpoint_of_buildings(round)
    with scopes_disabled():
        items = OrderItem.objects.filter(
            order__round=round, order__status=OrderStatus.PLACED, allocated__gt=0
        )
        if kind in SUPPLIER_KINDS:
            items = items.filter(offer__package__supplier_id=int(key) if key.isdigit() else -1)
        elif key == UNASSIGNED:
            items = items.exclude(order__household__unit__building_id__in=list(served))
        else:
            buildings = [b for b, c in served.items() if str(c) == key]
            items = items.filter(order__household__unit__building_id__in=buildings)
        return items.values("order_id").distinct().count()


def build(round: SupplyRound, kind: str, key: str) -> Document:
    """The data of one document (access already checked by the caller)."""
    names = checkpoint_names(round)
    document = Document(round=round, kind=kind, key=key, title=document_title(round, kind, key))
    if kind in SUPPLIER_KINDS:
        supplier_id = int(key) if key.isdigit() else -1
        rows = load_rows(round, supplier_id=supplier_id)
        if kind == Kind.PICK_LIST:
            document.pick_list = pick_lists(rows, names).get(
                supplier_id, PickList(supplier_id=supplier_id)
            )
        else:
            document.labels = labels(rows)
    else:
        rows = load_rows(round, checkpoint_key=key)
        document.manifest = manifests(rows, names).get(
            key, Manifest(key=key, name=_section_name(key, names) if key else "")
        )
    return document


# --- Excel ----------------------------------------------------------------------------------


def _sheet(title: str, headers: Sequence[str], widths: Sequence[int]) -> tuple[Any, Any]:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    for n, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(n + 1)].width = width
    sheet.freeze_panes = "A3"
    return workbook, sheet


def _row(sheet: Any, values: Sequence[object], bold: bool = False) -> None:
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=safe_cell(value))
        if bold:
            cell.font = Font(bold=True)
        cells.append(cell)
    sheet.append(cells)


def _xlsx_pick_list(document: Document) -> Any:
    pick = document.pick_list
    assert pick is not None  # noqa: S101
    headers = [_("卡口"), _("套餐包"), _("数量（份）"), _("重量（kg）"), _("金额（元）")]
    workbook, sheet = _sheet(_("拣货单"), headers, [28, 28, 12, 12, 14])
    _row(sheet, [document.filename], bold=True)
    _row(sheet, headers, bold=True)
    for section in pick.sections:
        for line in section.lines:
            _row(sheet, [section.name, line.name, line.count, line.grams / 1000, line.fen / 100])
        _row(
            sheet,
            [
                section.name,
                _("小计（%(n)d 户）") % {"n": section.households},
                section.totals.count,
                section.totals.grams / 1000,
                section.totals.fen / 100,
            ],
            bold=True,
        )
    _row(sheet, [])
    for line in pick.packages:
        _row(sheet, [_("合计"), line.name, line.count, line.grams / 1000, line.fen / 100])
    _row(
        sheet,
        [
            _("合计"),
            _("共 %(n)d 户") % {"n": pick.households},
            pick.totals.count,
            pick.totals.grams / 1000,
            pick.totals.fen / 100,
        ],
        bold=True,
    )
    return workbook


def _xlsx_manifest(document: Document) -> Any:
    manifest = document.manifest
    assert manifest is not None  # noqa: S101
    headers = [
        _("楼栋"),
        _("单元"),
        _("房号"),
        _("地址"),
        _("物品"),
        _("件数"),
        _("取货码"),
        _("签收"),
    ]
    workbook, sheet = _sheet(_("卡口分拣清单"), headers, [20, 10, 10, 32, 40, 8, 10, 14])
    _row(sheet, [document.filename], bold=True)
    _row(sheet, headers, bold=True)
    for building in manifest.buildings:
        for unit in building.units:
            for door in unit.doors:
                _row(
                    sheet,
                    [
                        building.name,
                        unit.name,
                        door.room,
                        door.address,
                        door.items_text,
                        door.bags,
                        door.pickup_code,
                        "",
                    ],
                )
        _row(
            sheet,
            [
                building.name,
                _("小计"),
                "",
                _("%(n)d 户") % {"n": building.households},
                "",
                building.bags,
                "",
                "",
            ],
            bold=True,
        )
    _row(
        sheet,
        [_("合计"), "", "", _("%(n)d 户") % {"n": manifest.households}, "", manifest.bags],
        bold=True,
    )
    return workbook


def _xlsx_labels(document: Document) -> Any:
    headers = [_("地址"), _("物品"), _("件数"), _("取货码"), _("订单号")]
    workbook, sheet = _sheet(_("门贴标签"), headers, [32, 40, 8, 10, 10])
    _row(sheet, [document.filename], bold=True)
    _row(sheet, headers, bold=True)
    for door in document.labels:
        _row(sheet, [door.address, door.items_text, door.bags, door.pickup_code, door.order_id])
    return workbook


def render_xlsx(document: Document) -> bytes:
    make: dict[str, Callable[[Document], Any]] = {
        Kind.PICK_LIST: _xlsx_pick_list,
        Kind.MANIFEST: _xlsx_manifest,
        Kind.LABELS: _xlsx_labels,
    }
    workbook = make[document.kind](document)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- pages and PDF ------------------------------------------------------------------------


def status_path(order_id: int) -> str:
    """Where a household follows its order; the label's QR code opens it."""
    return f"/orders/{order_id}/status"


def _pages(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


@dataclass
class ManifestLine:
    """A row of a printed manifest: a building's heading, a household, or its subtotal."""

    kind: str  # building / door / subtotal
    building: BuildingGroup
    unit: str = ""
    door: Door | None = None


@dataclass
class ManifestPage:
    lines: Sequence[ManifestLine]
    households: int
    bags: int


def manifest_pages(manifest: Manifest) -> list[ManifestPage]:
    """The manifest cut into A4 pages of a fixed number of rows, each with its own
    household and bag subtotal (WeasyPrint cannot sum a page by itself)."""
    lines: list[ManifestLine] = []
    for building in manifest.buildings:
        lines.append(ManifestLine("building", building))
        for unit in building.units:
            lines.extend(ManifestLine("door", building, unit.name, door) for door in unit.doors)
        lines.append(ManifestLine("subtotal", building))
    pages = []
    for chunk in _pages(lines, MANIFEST_ROWS_PER_PAGE):
        doors = [line.door for line in chunk if line.door is not None]
        pages.append(ManifestPage(chunk, len(doors), sum(d.bags for d in doors)))
    return pages


def context(document: Document, origin: str = "") -> dict[str, Any]:
    """What the page and PDF templates get. `origin` ("https://host") makes the labels'
    QR codes full addresses; without one they hold the pickup code and the path."""
    data: dict[str, Any] = {"document": document, "round": document.round}
    if document.manifest is not None:
        data["manifest"] = document.manifest
        data["pages"] = manifest_pages(document.manifest)
    if document.pick_list is not None:
        data["pick"] = document.pick_list
    if document.kind == Kind.LABELS:
        sheets = []
        for chunk in _pages(document.labels, LABELS_PER_SHEET):
            sheets.append(
                [
                    (door, qr_svg(f"{origin.rstrip('/')}{status_path(door.order_id)}", scale=2))
                    for door in chunk
                ]
            )
        data["sheets"] = sheets
    return data


def render_pdf(document: Document, origin: str, request: HttpRequest | None = None) -> bytes:
    """The PDF of a document, A4, from templates/supply/pdf/<kind>.html."""
    html = render_to_string(
        f"supply/pdf/{document.kind}.html", context(document, origin), request=request
    )
    base = origin.rstrip("/") or "http://localhost"
    pdf: bytes = HTML(
        string=html, base_url=base + "/", url_fetcher=LocalFilesFetcher(base + "/")
    ).write_pdf()
    return pdf


def render(document: Document, fmt: str, origin: str) -> bytes:
    if fmt == Fmt.XLSX:
        return render_xlsx(document)
    return render_pdf(document, origin)


def file_name(document: Document, fmt: str) -> str:
    return f"{document.filename}.{fmt}".replace("/", "-")


# --- who sees which document ----------------------------------------------------------------


def _round_communities(round: SupplyRound) -> set[int]:
    with scopes_disabled():
        if round.scope == RoundScope.COMMUNITY and round.community_id:
            return {round.community_id}
        if round.scope == RoundScope.COMPOUND and round.compound is not None:
            return {round.compound.community_id}
        if round.scope == RoundScope.BUILDING and round.building is not None:
            return {round.building.compound.community_id}
        return set(Community.objects.filter(street_id=round.street_id).values_list("pk", flat=True))


def covers_round(user: User, round: SupplyRound) -> bool:
    """The user's area holds every household the round serves (a street admin for a street
    round, community staff for their community's round)."""
    communities = area_for(user).communities
    return communities is None or _round_communities(round) <= set(communities)


def round_checkpoints(round: SupplyRound) -> list[tuple[int, str]]:
    """The checkpoints (id, name) of the round's street within the round's communities."""
    with scopes_disabled():
        rows = Checkpoint.objects.filter(community_id__in=_round_communities(round)).values_list(
            "pk", "compound__name", "name"
        )
        return [(pk, f"{compound}{name}") for pk, compound, name in rows]


def round_suppliers(round: SupplyRound) -> list[tuple[int, str]]:
    with scopes_disabled():
        return list(
            Supplier.objects.filter(packages__offers__round=round)
            .distinct()
            .order_by("name")
            .values_list("pk", "name")
        )


def get_round_for_documents(user: User, pk: int | str) -> SupplyRound:
    """A round whose paperwork the user may have: managers, suppliers and residents by the
    round rules (access.get_round_for); a checkpoint keeper: rounds reaching a checkpoint
    they keep. 404 otherwise."""
    if user.is_active and user.role == Role.CHECKPOINT_KEEPER:
        with scopes_disabled():
            kept = set(
                Checkpoint.objects.filter(keepers=user).values_list("community_id", flat=True)
            )
            round = SupplyRound.objects.filter(pk=int(pk) if str(pk).isdigit() else -1).first()
        if round is None or not (_round_communities(round) & kept):
            raise Http404(_("未找到，或不在您的管辖范围内"))
        return round
    return access.get_round_for(user, pk)


def allowed_keys(user: User, round: SupplyRound) -> dict[str, list[tuple[str, str]]]:
    """Kind → the (key, name) documents of that kind the user may see for the round.

    Round managers: every pick list; the manifests of checkpoints in their area; labels
    and the unassigned households' manifest when their area covers the whole round. A
    supplier: its own pick lists and labels. A checkpoint keeper: the manifests of the
    checkpoints they keep."""
    allowed: dict[str, list[tuple[str, str]]] = {kind: [] for kind in Kind.values}
    if not user.is_active:
        return allowed
    suppliers = round_suppliers(round)
    checkpoints = round_checkpoints(round)
    if user.is_superuser or access.can_manage_rounds(user):
        whole = user.is_superuser or covers_round(user, round)
        mine = set(visible_checkpoints(user).values_list("pk", flat=True))
        allowed[Kind.PICK_LIST] = [(str(pk), name) for pk, name in suppliers]
        allowed[Kind.MANIFEST] = [(str(pk), name) for pk, name in checkpoints if pk in mine]
        if whole:
            allowed[Kind.MANIFEST].append((UNASSIGNED, _("未分配卡口")))
            allowed[Kind.LABELS] = [(str(pk), name) for pk, name in suppliers]
    elif user.role == Role.SUPPLIER:
        own = set(access.suppliers_of(user).values_list("pk", flat=True))
        mine_suppliers = [(str(pk), name) for pk, name in suppliers if pk in own]
        allowed[Kind.PICK_LIST] = mine_suppliers
        allowed[Kind.LABELS] = mine_suppliers
    elif user.role == Role.CHECKPOINT_KEEPER:
        with scopes_disabled():
            kept = set(Checkpoint.objects.filter(keepers=user).values_list("pk", flat=True))
        allowed[Kind.MANIFEST] = [(str(pk), name) for pk, name in checkpoints if pk in kept]
    return allowed


def may_see(user: User, round: SupplyRound, kind: str, key: str) -> bool:
    return any(k == key for k, _name in allowed_keys(user, round).get(kind, []))


def check_may_see(user: User, round: SupplyRound, kind: str, key: str) -> None:
    """404 for a document the user may not see (as for anything outside their area)."""
    if not may_see(user, round, kind, key):
        raise Http404(_("未找到该单据，或不在您的管辖范围内"))


def visible_documents(user: User, round: SupplyRound) -> list[tuple[RoundDocument, str]]:
    """The round's made documents the user may see, newest first, each with its title."""
    names = {
        (kind, key): f"{name} {Kind(kind).label}"
        for kind, keys in allowed_keys(user, round).items()
        for key, name in keys
    }
    return [
        (d, names[(d.kind, d.key)])
        for d in RoundDocument.objects.filter(round=round).order_by("-created_at", "-pk")
        if (d.kind, d.key) in names
    ]


def get_document_for(user: User, pk: int | str) -> RoundDocument:
    """A made (or making) document the user may see; 404 otherwise."""
    document = (
        RoundDocument.objects.select_related("round").filter(pk=pk).first()
        if str(pk).isdigit()
        else None
    )
    if document is None:
        raise Http404(_("未找到该单据，或不在您的管辖范围内"))
    round = get_round_for_documents(user, document.round_id)
    check_may_see(user, round, document.kind, document.key)
    return document


def file_response(document: RoundDocument) -> FileResponse:
    """A made document's file, named after the round and the document (Chinese allowed)."""
    if document.status != DocumentStatus.DONE or not document.file:
        raise Http404(_("单据尚未生成"))
    title = document_title(document.round, document.kind, document.key)
    name = f"{document.round.title}-{title}.{document.fmt}".replace("/", "-")
    response = FileResponse(document.file.open("rb"), content_type=CONTENT_TYPES[document.fmt])
    disposition = "inline" if document.fmt == Fmt.PDF else "attachment"
    response["Content-Disposition"] = (
        f'{disposition}; filename="document.{document.fmt}"; '
        f"filename*=UTF-8''{escape_uri_path(name)}"
    )
    response["Cache-Control"] = "no-store"
    return response
