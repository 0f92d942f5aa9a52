"""The hotline's figures: calls, tickets by category/urgency/status, SLA met, escorts and
medicine runs, per day, grid and community. Pages, the API and the Excel export read these;
each takes the tickets the caller may see."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from dataclasses import dataclass, field

import openpyxl
from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.hotline.choices import ESCORT_CATEGORIES, Channel, TicketStatus
from linli.hotline.models import Ticket
from linli.registry.spreadsheets import safe_cell
from linli.triage.choices import Category, Urgency


@dataclass
class Row:
    """One line of a table: a label and its counts."""

    key: str
    label: str
    calls: int = 0
    tickets: int = 0
    open: int = 0
    escorts: int = 0
    medicine: int = 0
    responded: int = 0
    responded_in_time: int = 0
    resolved: int = 0
    resolved_in_time: int = 0

    @property
    def respond_met(self) -> float | None:
        return round(100 * self.responded_in_time / self.responded, 1) if self.responded else None

    @property
    def resolve_met(self) -> float | None:
        return round(100 * self.resolved_in_time / self.resolved, 1) if self.resolved else None


@dataclass
class Figures:
    since: dt.date
    until: dt.date
    total: Row
    days: list[Row] = field(default_factory=list)
    grids: list[Row] = field(default_factory=list)
    communities: list[Row] = field(default_factory=list)
    categories: list[Row] = field(default_factory=list)
    urgencies: list[Row] = field(default_factory=list)
    statuses: list[Row] = field(default_factory=list)


def _counts() -> dict[str, Count]:
    responded = Q(accepted_at__isnull=False)
    resolved = Q(resolved_at__isnull=False)
    return {
        "calls": Count("pk", filter=Q(channel=Channel.PHONE)),
        "tickets": Count("pk"),
        "open": Count(
            "pk",
            filter=Q(
                status__in=[TicketStatus.NEW, TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS]
            ),
        ),
        "escorts": Count("pk", filter=Q(category__in=ESCORT_CATEGORIES)),
        "medicine": Count("pk", filter=Q(category=Category.MEDICINE)),
        "responded": Count("pk", filter=responded),
        "responded_in_time": Count("pk", filter=responded & Q(accepted_at__lte=F("respond_by"))),
        "resolved": Count("pk", filter=resolved),
        "resolved_in_time": Count("pk", filter=resolved & Q(resolved_at__lte=F("resolve_by"))),
    }


def _rows(tickets: QuerySet[Ticket], key: str, labels: dict[str, str] | None = None) -> list[Row]:
    rows = tickets.values(key).annotate(**_counts()).order_by(key)
    result = []
    for r in rows:
        value = r.pop(key)
        text = "" if value is None else str(value)
        label = (labels or {}).get(text, text) if value is not None else _("（无）")
        result.append(Row(key=text, label=str(label), **r))
    return result


def midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def figures_for(tickets: QuerySet[Ticket], since: dt.date, until: dt.date) -> Figures:
    """Tickets created from `since` to `until` (Shanghai days, both included)."""
    tickets = tickets.filter(
        created_at__gte=midnight(since), created_at__lt=midnight(until + dt.timedelta(days=1))
    ).order_by()
    total_row = tickets.aggregate(**_counts())
    shanghai = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    days = [
        Row(key=r.pop("day").isoformat(), label="", **r)
        for r in tickets.annotate(day=TruncDate("created_at", tzinfo=shanghai))
        .values("day")
        .annotate(**_counts())
        .order_by("-day")
    ]
    for day in days:
        day.label = day.key
    grids = {str(pk): name for pk, name in tickets.values_list("grid_id", "grid__name").distinct()}
    communities = {
        str(pk): name
        for pk, name in tickets.values_list("community_id", "community__name").distinct()
    }
    return Figures(
        since=since,
        until=until,
        total=Row(key="", label=_("合计"), **total_row),
        days=days,
        grids=_rows(tickets, "grid_id", grids),
        communities=_rows(tickets, "community_id", communities),
        categories=_rows(tickets, "category", {c.value: str(c.label) for c in Category}),
        urgencies=_rows(tickets, "urgency", {u.value: str(u.label) for u in Urgency}),
        statuses=_rows(tickets, "status", {s.value: str(s.label) for s in TicketStatus}),
    )


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value}%"


def header_labels() -> list[str]:
    return [
        _("来电"),
        _("工单"),
        _("未办结"),
        _("陪同就医（就医/血透/产检）"),
        _("代配药"),
        _("按时响应"),
        _("按时办结"),
    ]


def row_values(row: Row) -> list[object]:
    return [
        row.calls,
        row.tickets,
        row.open,
        row.escorts,
        row.medicine,
        _percent(row.respond_met),
        _percent(row.resolve_met),
    ]


def tables(figures: Figures) -> list[tuple[str, str, list[Row]]]:
    """(sheet title, first column, rows) in the order pages and the workbook show them."""
    return [
        (_("按日"), _("日期"), figures.days),
        (_("按类别"), _("类别"), figures.categories),
        (_("按紧急程度"), _("紧急程度"), figures.urgencies),
        (_("按状态"), _("状态"), figures.statuses),
        (_("按网格"), _("网格"), figures.grids),
        (_("按社区"), _("社区"), figures.communities),
    ]


def workbook(figures: Figures) -> bytes:
    book = openpyxl.Workbook()
    for index, (title, first, rows) in enumerate(tables(figures)):
        sheet = book.active if index == 0 else book.create_sheet()
        assert sheet is not None  # noqa: S101
        sheet.title = title
        sheet.append([_("统计区间"), f"{figures.since.isoformat()} — {figures.until.isoformat()}"])
        sheet.append([first, *header_labels()])
        for row in [*rows, figures.total]:
            sheet.append([safe_cell(value) for value in [row.label, *row_values(row)]])
        sheet.column_dimensions["A"].width = 20
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
