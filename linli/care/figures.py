"""Care-call coverage: per grid and day, how many check-ins were due, reached, not reached
and escalated, and the share reached. Read from the check-ins the user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from linli.care.choices import REACHED_STATUSES
from linli.care.models import CheckIn


@dataclass(frozen=True)
class CoverageRow:
    day: dt.date | None  # None: the total over the range
    grid_id: int | None
    grid: str
    planned: int
    reached: int
    not_reached: int
    escalated: int

    @property
    def percent(self) -> float | None:
        """Reached as a share of planned, in percent with one decimal."""
        return round(100 * self.reached / self.planned, 1) if self.planned else None


def coverage(check_ins: QuerySet[CheckIn], since: dt.date, until: dt.date) -> list[CoverageRow]:
    """One row per day and grid (days in order, grids by code), then one total per grid."""
    reached = Q(status__in=REACHED_STATUSES)
    rows = (
        check_ins.filter(due__gte=since, due__lte=until)
        .order_by()
        .values("due", "grid_id", "grid__name", "grid__code")
        .annotate(
            planned=Count("pk"),
            reached=Count("pk", filter=reached),
            escalated=Count("pk", filter=Q(escalated_at__isnull=False)),
        )
        .order_by("due", "grid__code")
    )
    found = [
        CoverageRow(
            day=row["due"],
            grid_id=row["grid_id"],
            grid=row["grid__name"] or _("未划网格"),
            planned=row["planned"],
            reached=row["reached"],
            not_reached=row["planned"] - row["reached"],
            escalated=row["escalated"],
        )
        for row in rows
    ]
    totals: dict[int | None, CoverageRow] = {}
    for row in found:
        before = totals.get(row.grid_id)
        totals[row.grid_id] = CoverageRow(
            day=None,
            grid_id=row.grid_id,
            grid=row.grid,
            planned=row.planned + (before.planned if before else 0),
            reached=row.reached + (before.reached if before else 0),
            not_reached=row.not_reached + (before.not_reached if before else 0),
            escalated=row.escalated + (before.escalated if before else 0),
        )
    return found + sorted(totals.values(), key=lambda r: r.grid)
