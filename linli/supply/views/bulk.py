"""团购登记表: a building's rooms × the round's packages, as group-buy leaders keep them on
paper; submitted on the page or uploaded as .xlsx/.csv (房号 + one column per package).

A row is one household's whole order: quantities that differ from its order now place or
change it (channel bulk), a row emptied cancels it, an unchanged row is left alone. Each
household's order is its own transaction, so one sold-out row does not undo the others;
the report names every row that was done or refused, with the reason.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass

import openpyxl
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.registry.access import request_user, require, visible_buildings
from linli.registry.models import Building, Household
from linli.registry.spreadsheets import (
    MAX_BYTES,
    XLSX_CONTENT_TYPE,
    SpreadsheetError,
    _csv_rows,
    _xlsx_rows,
    cell_text,
    normalise,
    safe_cell,
)
from linli.supply import actions
from linli.supply.access import can_order_for_others, get_round_for
from linli.supply.choices import Channel, OrderStatus, Payment
from linli.supply.forms import BulkUploadForm
from linli.supply.models import Offer, Order, OrderItem, SupplyRound
from linli.supply.views.orders import round_offers

ROOM_HEADER = "房号"


def round_buildings(user: User, round: SupplyRound) -> QuerySet[Building]:
    """Buildings of the round's scope with a part in the user's area."""
    buildings = visible_buildings(user).select_related("compound")
    if round.building_id is not None:
        return buildings.filter(pk=round.building_id)
    if round.compound_id is not None:
        return buildings.filter(compound_id=round.compound_id)
    if round.community_id is not None:
        return buildings.filter(compound__community_id=round.community_id)
    return buildings.filter(compound__community__street_id=round.street_id)


def _round_and_building(
    request: HttpRequest, pk: int, building_pk: int
) -> tuple[User, SupplyRound, Building]:
    user = request_user(request)
    round = get_round_for(user, pk)
    building = round_buildings(user, round).filter(pk=building_pk).first()
    if building is None:
        raise Http404(_("未找到该楼栋，或不在本轮供应范围、您的管辖范围内"))
    return user, round, building


def room_label(household: Household) -> str:
    """1单元302: how a leader's sheet names a room."""
    return f"{household.unit.name}{household.room}"


def sheet_households(building: Building) -> list[Household]:
    """The building's rooms in the user's area (scoped: a grid worker sees their grid's)."""
    return list(
        Household.objects.filter(unit__building=building)
        .select_related("unit")
        .order_by("unit__sort_key", "unit__name", "room_sort_key", "room")
    )


@dataclass
class Current:
    """A household's order now: its own items (offer id → quantity), and the care
    packages given on it (kept whatever the sheet says)."""

    order: Order | None
    items: dict[int, int]
    care: set[int]


def current_orders(round: SupplyRound, households: Sequence[Household]) -> dict[int, Current]:
    orders = {
        o.household_id: o
        for o in Order.objects.filter(
            round=round, household__in=households, status=OrderStatus.PLACED
        )
    }
    found = {h.pk: Current(orders.get(h.pk), {}, set()) for h in households}
    by_order = {o.pk: o.household_id for o in orders.values()}
    for order_id, offer_id, quantity, care_plan_id in OrderItem.objects.filter(
        order_id__in=by_order
    ).values_list("order_id", "offer_id", "quantity", "care_plan_id"):
        current = found[by_order[order_id]]
        if care_plan_id is not None:
            current.care.add(offer_id)
        else:
            current.items[offer_id] = quantity
    return found


@dataclass(frozen=True)
class RowResult:
    label: str
    ok: bool
    message: str

    def __str__(self) -> str:
        return f"{self.label}：{self.message}"


@dataclass
class Wanted:
    """One row of a sheet: the household, what it asks for, or why the row is unusable."""

    label: str
    household: Household | None
    quantities: dict[int, int]
    error: str = ""


def _describe(offers: dict[int, Offer], quantities: dict[int, int]) -> str:
    return "、".join(
        f"{offers[offer_id].package.name}×{n}" for offer_id, n in quantities.items() if n
    )


def apply_sheet(
    *,
    actor: User,
    round: SupplyRound,
    offers: Sequence[Offer],
    rows: Sequence[Wanted],
    payment: str,
) -> list[RowResult]:
    """Place, change or cancel each row's order; one transaction per household."""
    by_id = {offer.pk: offer for offer in offers}
    households = [row.household for row in rows if row.household is not None]
    current = current_orders(round, households)
    results: list[RowResult] = []
    for row in rows:
        if row.household is None or row.error:
            results.append(RowResult(row.label, False, row.error))
            continue
        now = current[row.household.pk]
        asked = {k: v for k, v in row.quantities.items() if v > 0 and k not in now.care}
        if asked == now.items:
            continue
        items = [actions.ItemInput(by_id[k], v) for k, v in asked.items()]
        try:
            if now.order is None:
                actions.order_place(
                    actor=actor,
                    round=round,
                    household=row.household,
                    items=items,
                    payment=payment,
                    channel=Channel.BULK,
                )
                done = _("已下单：%(items)s") % {"items": _describe(by_id, asked)}
            elif not asked and not now.care:
                actions.order_cancel(actor=actor, order=now.order)
                done = _("已取消订单")
            elif not asked:
                raise ValidationError(_("该户订单含爱心包，如需取消请到代下单页面操作"))
            else:
                actions.order_change(actor=actor, order=now.order, items=items)
                done = _("已修改：%(items)s") % {"items": _describe(by_id, asked)}
        except ValidationError as e:
            results.append(RowResult(row.label, False, "；".join(e.messages)))
        else:
            results.append(RowResult(row.label, True, done))
    return results


# --- the sheet on the page ----------------------------------------------------------------


def _cell_name(household: Household, offer: Offer) -> str:
    return f"q_{household.pk}_{offer.pk}"


def _rows_from_post(
    request: HttpRequest, households: Sequence[Household], offers: Sequence[Offer]
) -> list[Wanted]:
    rows = []
    for household in households:
        names = [_cell_name(household, offer) for offer in offers]
        if not any(name in request.POST for name in names):
            continue  # not on the sheet that was sent (another user's view of the building)
        quantities: dict[int, int] = {}
        errors = []
        for offer, name in zip(offers, names, strict=True):
            text = request.POST.get(name, "").strip()
            quantity = _quantity(text)
            if quantity is None:
                errors.append(_("%(name)s 数量应为 0 到 99 的整数") % {"name": offer.package.name})
            else:
                quantities[offer.pk] = quantity
        rows.append(Wanted(room_label(household), household, quantities, "；".join(errors)))
    return rows


def _quantity(text: str) -> int | None:
    if text in ("", "-", "—", "无"):
        return 0
    if not re.fullmatch(r"\d{1,2}", text):
        return None
    return int(text)


@dataclass(frozen=True)
class SheetRow:
    household: Household
    label: str
    cells: list[tuple[Offer, str, str, bool]]  # offer, input name, value, care package


def _sheet(
    round: SupplyRound, households: Sequence[Household], offers: Sequence[Offer]
) -> list[SheetRow]:
    current = current_orders(round, households)
    return [
        SheetRow(
            household=h,
            label=room_label(h),
            cells=[
                (
                    offer,
                    _cell_name(h, offer),
                    str(current[h.pk].items.get(offer.pk, "")),
                    offer.pk in current[h.pk].care,
                )
                for offer in offers
            ],
        )
        for h in households
    ]


def _render_sheet(
    request: HttpRequest,
    round: SupplyRound,
    building: Building,
    *,
    results: Sequence[RowResult] = (),
    upload_form: BulkUploadForm | None = None,
    errors: Sequence[str] = (),
    payment: str = Payment.ON_DELIVERY,
    status: int = 200,
) -> HttpResponse:
    households = sheet_households(building)
    offers = round_offers(round)
    context = {
        "round": round,
        "building": building,
        "offers": offers,
        "sheet": _sheet(round, households, offers),
        "results": results,
        "failed": [r for r in results if not r.ok],
        "succeeded": [r for r in results if r.ok],
        "upload_form": upload_form or BulkUploadForm(),
        "errors": errors,
        "payments": Payment.choices,
        "payment": payment,
        "window_open": round.window_open(),
    }
    return render(request, "supply/bulk_sheet.html", context, status=status)


@require(can_order_for_others)
def bulk_pick(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    round = get_round_for(user, pk)
    buildings = (
        round_buildings(user, round)
        .annotate(rooms=Count("units__households", distinct=True))
        .order_by("compound__name", "sort_key", "name")
    )
    return render(request, "supply/bulk_pick.html", {"round": round, "buildings": buildings})


@require(can_order_for_others)
def bulk_sheet(request: HttpRequest, pk: int, building_pk: int) -> HttpResponse:
    user, round, building = _round_and_building(request, pk, building_pk)
    if request.method != "POST":
        return _render_sheet(request, round, building)
    payment = request.POST.get("payment", "")
    if payment not in Payment.values:
        return _render_sheet(
            request, round, building, errors=[_("付款方式：请选择付款方式")], status=400
        )
    offers = round_offers(round)
    rows = _rows_from_post(request, sheet_households(building), offers)
    results = apply_sheet(actor=user, round=round, offers=offers, rows=rows, payment=payment)
    return _render_sheet(
        request,
        round,
        building,
        results=results,
        payment=payment,
        status=400 if any(not r.ok for r in results) else 200,
    )


# --- the sheet as a file -------------------------------------------------------------------


@require(can_order_for_others)
def bulk_template(request: HttpRequest, pk: int, building_pk: int) -> HttpResponse:
    """The building's sheet as .xlsx: 房号 and a column per package, with today's orders."""
    _user, round, building = _round_and_building(request, pk, building_pk)
    households = sheet_households(building)
    offers = round_offers(round)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None  # noqa: S101
    sheet.title = _("团购登记表")
    sheet.append([ROOM_HEADER, *(safe_cell(o.package.name) for o in offers)])
    for row in _sheet(round, households, offers):
        sheet.append(
            [
                safe_cell(row.label),
                *(int(value) if value else None for _o, _n, value, _care in row.cells),
            ]
        )
    sheet.freeze_panes = "B2"
    output = io.BytesIO()
    workbook.save(output)
    response = HttpResponse(output.getvalue(), content_type=XLSX_CONTENT_TYPE)
    filename = f"bulk-{round.pk}-{building.pk}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _file_rows(data: bytes, filename: str) -> Iterator[list[object]]:
    name = filename.lower()
    if len(data) > MAX_BYTES:
        raise SpreadsheetError(_("文件太大"))
    if name.endswith(".xlsx"):
        return _xlsx_rows(data)
    if name.endswith(".csv"):
        return _csv_rows(data)
    raise SpreadsheetError(_("只支持 .xlsx 和 .csv 文件"))


def _room_lookup(households: Sequence[Household]) -> dict[str, Household]:
    """Every way a sheet may name a room: 1单元302, 1-302, and 302 where only one unit
    has that room number."""
    lookup: dict[str, Household] = {}
    by_room: dict[str, list[Household]] = {}
    for h in households:
        lookup[normalise(room_label(h))] = h
        number = re.match(r"\d+", h.unit.name)
        if number:
            lookup[normalise(f"{number.group()}-{h.room}")] = h
        by_room.setdefault(normalise(h.room), []).append(h)
    for room, found in by_room.items():
        if len(found) == 1:
            lookup.setdefault(room, found[0])
    return lookup


def rows_from_file(
    data: bytes, filename: str, households: Sequence[Household], offers: Sequence[Offer]
) -> list[Wanted]:
    """The rows of an uploaded sheet; raises SpreadsheetError when it cannot be used at all."""
    with closing(_file_rows(data, filename)) as lines:  # type: ignore[type-var]
        table = [cells for cells in lines if any(cell_text(c) for c in cells)]
    if not table:
        raise SpreadsheetError(_("文件是空的"))
    header = [normalise(cell_text(c)) for c in table[0]]
    if normalise(ROOM_HEADER) not in header:
        raise SpreadsheetError(_("找不到“房号”列：第一行应为 房号 和各套餐名称"))
    room_column = header.index(normalise(ROOM_HEADER))
    names = {normalise(o.package.name): o for o in offers}
    columns: dict[int, Offer] = {}
    unknown = []
    for index, text in enumerate(header):
        if index == room_column or not text:
            continue
        if text in names:
            columns[index] = names[text]
        else:
            unknown.append(cell_text(table[0][index]))
    if unknown:
        raise SpreadsheetError(_("这些列不是本轮的套餐：%(names)s") % {"names": "、".join(unknown)})
    if not columns:
        raise SpreadsheetError(_("没有套餐列：第一行应为 房号 和各套餐名称"))
    lookup = _room_lookup(households)
    rows = []
    seen: set[int] = set()
    for line, cells in enumerate(table[1:], start=2):
        room = cell_text(cells[room_column]) if room_column < len(cells) else ""
        household = lookup.get(normalise(room))
        label = room or _("第%(line)d行") % {"line": line}
        if household is None:
            rows.append(Wanted(label, None, {}, _("房号不在本楼，或不在您的管辖范围内")))
            continue
        if household.pk in seen:
            rows.append(Wanted(label, None, {}, _("房号重复，以前面一行为准")))
            continue
        seen.add(household.pk)
        quantities: dict[int, int] = {}
        errors = []
        for index, offer in columns.items():
            text = cell_text(cells[index]) if index < len(cells) else ""
            quantity = _quantity(text)
            if quantity is None:
                errors.append(_("%(name)s 数量应为 0 到 99 的整数") % {"name": offer.package.name})
            else:
                quantities[offer.pk] = quantity
        rows.append(Wanted(room_label(household), household, quantities, "；".join(errors)))
    return rows


@require(can_order_for_others)
@require_POST
def bulk_upload(request: HttpRequest, pk: int, building_pk: int) -> HttpResponse:
    user, round, building = _round_and_building(request, pk, building_pk)
    form = BulkUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_sheet(request, round, building, upload_form=form, status=400)
    upload = form.cleaned_data["file"]
    offers = round_offers(round)
    try:
        rows = rows_from_file(
            upload.read(MAX_BYTES + 1), upload.name or "", sheet_households(building), offers
        )
    except SpreadsheetError as e:
        form.add_error("file", e.message)
        return _render_sheet(request, round, building, upload_form=form, status=400)
    payment = form.cleaned_data["payment"]
    results = apply_sheet(actor=user, round=round, offers=offers, rows=rows, payment=payment)
    return _render_sheet(
        request,
        round,
        building,
        results=results,
        payment=payment,
        status=400 if any(not r.ok for r in results) else 200,
    )
