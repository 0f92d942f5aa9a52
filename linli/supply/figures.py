"""What a street supply office reports: orders placed, delivered and failed, households
reached, kg and value per category, care packages by funder, and how long goods took from
checkpoint release to the door; and per round and supplier, the settlement sheet.

Pages, the API and the CLI read these; each takes the orders the caller may see. Kg and
value count delivered items only (allocated units × the weight and price on the item).
"""

from __future__ import annotations

import datetime as dt
import statistics
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from linli.supply.choices import Category, DeliveryStatus, OrderStatus, Payment
from linli.supply.models import Order, OrderItem


@dataclass
class CategoryRow:
    category: str
    units: int
    grams: int
    fen: int

    @property
    def label(self) -> str:
        return str(Category(self.category).label)

    @property
    def kg(self) -> float:
        return round(self.grams / 1000, 1)


@dataclass
class DayRow:
    day: dt.date
    placed: int
    delivered: int
    failed: int


@dataclass
class CommunityRow:
    community: str
    orders: int
    delivered: int
    failed: int
    households_reached: int
    grams: int
    fen: int

    @property
    def kg(self) -> float:
        return round(self.grams / 1000, 1)


@dataclass
class Summary:
    orders: int = 0
    delivered: int = 0
    failed: int = 0
    households_reached: int = 0
    care_packages: int = 0
    care_by_funder: dict[str, int] = field(default_factory=dict)
    categories: list[CategoryRow] = field(default_factory=list)
    days: list[DayRow] = field(default_factory=list)
    communities: list[CommunityRow] = field(default_factory=list)
    # Minutes from the checkpoint's release of the goods to the door.
    delivery_minutes_median: float | None = None
    delivery_minutes_p90: float | None = None

    @property
    def kg(self) -> float:
        return round(sum(row.grams for row in self.categories) / 1000, 1)

    @property
    def fen(self) -> int:
        return sum(row.fen for row in self.categories)


def _shanghai() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(int(-(-share * len(values) // 1)), 1)
    return values[rank - 1]


def summary(orders: QuerySet[Order]) -> Summary:
    placed = orders.filter(status=OrderStatus.PLACED)
    out = Summary()
    counts = placed.aggregate(
        orders=Count("pk"),
        delivered=Count("pk", filter=_status(DeliveryStatus.DELIVERED)),
        failed=Count("pk", filter=_status(DeliveryStatus.FAILED)),
        reached=Count("household", filter=_status(DeliveryStatus.DELIVERED), distinct=True),
    )
    out.orders = counts["orders"]
    out.delivered = counts["delivered"]
    out.failed = counts["failed"]
    out.households_reached = counts["reached"]
    # Care packages are items given under a care plan (on a care order or added to one).
    care = (
        OrderItem.objects.filter(order__in=placed, care_plan__isnull=False)
        .values("care_plan__funder")
        .annotate(n=Sum("quantity"))
    )
    out.care_by_funder = {row["care_plan__funder"]: row["n"] for row in care}
    out.care_packages = sum(out.care_by_funder.values())
    delivered_items = OrderItem.objects.filter(
        order__in=placed.filter(delivery_status=DeliveryStatus.DELIVERED), allocated__gt=0
    )
    rows = (
        delivered_items.values("offer__package__category")
        .annotate(
            units=Sum("allocated"),
            grams=Sum(F("allocated") * F("net_weight_g")),
            fen=Sum(F("allocated") * F("price_fen")),
        )
        .order_by("offer__package__category")
    )
    out.categories = [
        CategoryRow(r["offer__package__category"], r["units"], r["grams"], r["fen"]) for r in rows
    ]
    out.days = _per_day(placed)
    out.communities = _per_community(placed)
    minutes = _delivery_minutes(placed)
    if minutes:
        out.delivery_minutes_median = round(statistics.median(minutes), 1)
        out.delivery_minutes_p90 = round(_percentile(minutes, 0.9), 1)
    return out


def _status(status: str) -> Q:
    return Q(delivery_status=status)


def _per_community(placed: QuerySet[Order]) -> list[CommunityRow]:
    """The same counts per community, for a street's report."""
    delivered = _status(DeliveryStatus.DELIVERED)
    counts = (
        placed.values("household__community__name")
        .annotate(
            orders=Count("pk"),
            delivered=Count("pk", filter=delivered),
            failed=Count("pk", filter=_status(DeliveryStatus.FAILED)),
            reached=Count("household", filter=delivered, distinct=True),
        )
        .order_by("household__community__name")
    )
    delivered_items = OrderItem.objects.filter(
        order__in=placed.filter(delivery_status=DeliveryStatus.DELIVERED), allocated__gt=0
    )
    weights = {
        r["order__household__community__name"]: (r["grams"], r["fen"])
        for r in delivered_items.values("order__household__community__name").annotate(
            grams=Sum(F("allocated") * F("net_weight_g")),
            fen=Sum(F("allocated") * F("price_fen")),
        )
    }
    return [
        CommunityRow(
            r["household__community__name"],
            r["orders"],
            r["delivered"],
            r["failed"],
            r["reached"],
            *weights.get(r["household__community__name"], (0, 0)),
        )
        for r in counts
    ]


def _per_day(placed: QuerySet[Order]) -> list[DayRow]:
    """Orders placed per day of placing, and delivered / failed per day it happened."""
    tz = _shanghai()
    made = dict(
        placed.annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    settled = (
        placed.filter(
            delivery_status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.FAILED],
            delivery_status_at__isnull=False,
        )
        .annotate(day=TruncDate("delivery_status_at", tzinfo=tz))
        .values("day", "delivery_status")
        .annotate(n=Count("pk"))
    )
    done: dict[tuple[dt.date, str], int] = {
        (r["day"], r["delivery_status"]): r["n"] for r in settled
    }
    days = sorted(set(made) | {day for day, _status in done}, reverse=True)
    return [
        DayRow(
            day,
            made.get(day, 0),
            done.get((day, DeliveryStatus.DELIVERED), 0),
            done.get((day, DeliveryStatus.FAILED), 0),
        )
        for day in days
    ]


def _delivery_minutes(placed: QuerySet[Order]) -> list[float]:
    """Release at the checkpoint → door, for delivered orders whose goods are traceable."""
    rows = placed.filter(
        delivery_status=DeliveryStatus.DELIVERED,
        task_stop__done_at__isnull=False,
        round__shipments__goods__released_at__isnull=False,
        round__shipments__checkpoint__buildings=F("household__unit__building"),
    ).values_list("pk", "task_stop__done_at", "round__shipments__goods__released_at")
    first_release: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for pk, door, released in rows:
        if door is None or released is None:
            continue
        # An order from several suppliers is complete when the last of its goods is out.
        known = first_release.get(pk)
        if known is None or released > known[1]:
            first_release[pk] = (door, released)
    return sorted(
        max((door - released).total_seconds() / 60, 0.0)
        for door, released in first_release.values()
    )


@dataclass
class SettlementRow:
    payment: str
    orders: int
    units: int
    fen: int

    @property
    def label(self) -> str:
        return str(Payment(self.payment).label)


def _supplier_items(orders: QuerySet[Order], supplier_id: int) -> QuerySet[OrderItem]:
    return OrderItem.objects.filter(
        order__in=orders.filter(status=OrderStatus.PLACED),
        offer__package__supplier_id=supplier_id,
        allocated__gt=0,
    )


def settlement(orders: QuerySet[Order], supplier_id: int) -> list[SettlementRow]:
    """One supplier's sheet for the orders given (usually one round): per payment kind,
    the orders, the units allocated of its packages and their value. Care packages are
    billed to their funders instead (care_settlement)."""
    items = _supplier_items(orders, supplier_id).filter(care_plan__isnull=True)
    rows = (
        items.values("order__payment")
        .annotate(
            orders=Count("order", distinct=True),
            units=Sum("allocated"),
            fen=Sum(F("allocated") * F("price_fen")),
        )
        .order_by("order__payment")
    )
    return [SettlementRow(r["order__payment"], r["orders"], r["units"], r["fen"]) for r in rows]


@dataclass
class FunderRow:
    funder: str
    units: int
    fen: int


def care_settlement(orders: QuerySet[Order], supplier_id: int) -> list[FunderRow]:
    """The care packages of one supplier, per funder who pays for them."""
    rows = (
        _supplier_items(orders, supplier_id)
        .filter(care_plan__isnull=False)
        .values("care_plan__funder")
        .annotate(units=Sum("allocated"), fen=Sum(F("allocated") * F("price_fen")))
        .order_by("care_plan__funder")
    )
    return [FunderRow(r["care_plan__funder"], r["units"], r["fen"]) for r in rows]
