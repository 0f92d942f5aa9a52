"""Hours and counts for the task board: per volunteer, per team, tasks done by kind per day.

Pages, the API and the CLI all read these; each takes the querysets the caller may see.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from linli.workforce.choices import TaskKind, TaskStatus
from linli.workforce.models import Task, Team


@dataclass(frozen=True)
class HoursRow:
    id: int
    name: str
    tasks: int
    minutes: int

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    kind: str
    tasks: int
    minutes: int

    @property
    def kind_label(self) -> str:
        return str(TaskKind(self.kind).label)

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


def _done(tasks: QuerySet[Task], since: dt.datetime | None) -> QuerySet[Task]:
    done = tasks.filter(status=TaskStatus.DONE, volunteer__isnull=False)
    return done.filter(finished_at__gte=since) if since else done


def hours_by_volunteer(tasks: QuerySet[Task], since: dt.datetime | None = None) -> list[HoursRow]:
    rows = (
        _done(tasks, since)
        .values("volunteer_id", "volunteer__name")
        .annotate(count=Count("pk"), total=Sum("minutes"))
        .order_by("-total", "volunteer__name")
    )
    return [
        HoursRow(r["volunteer_id"], r["volunteer__name"], r["count"], r["total"] or 0) for r in rows
    ]


def hours_by_team(
    teams: QuerySet[Team], tasks: QuerySet[Task], since: dt.datetime | None = None
) -> list[HoursRow]:
    """A team's hours are its members' hours on tasks the caller may see."""
    done_ids = _done(tasks, since).values("pk")
    in_scope = Q(members__volunteer__tasks__in=done_ids)
    rows = teams.annotate(
        count=Count("members__volunteer__tasks", filter=in_scope, distinct=True),
        total=Sum("members__volunteer__tasks__minutes", filter=in_scope),
    ).order_by("name")
    return [HoursRow(t.pk, t.name, t.count, t.total or 0) for t in rows]


def done_by_day_and_kind(tasks: QuerySet[Task], since: dt.datetime | None = None) -> list[DayRow]:
    """Tasks done per Shanghai calendar day and kind."""
    shanghai = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    rows = (
        _done(tasks, since)
        .annotate(day=TruncDate("finished_at", tzinfo=shanghai))
        .values("day", "kind")
        .annotate(count=Count("pk"), total=Sum("minutes"))
        .order_by("-day", "kind")
    )
    return [DayRow(r["day"], r["kind"], r["count"], r["total"] or 0) for r in rows]
