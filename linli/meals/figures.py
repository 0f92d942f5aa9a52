"""Meals per day (planned from enrolments, delivered and missed as recorded) and people served.

Pages, the API and the CLI read these with the querysets the caller may see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from linli.meals.choices import DeliveryStatus
from linli.meals.models import MealDelivery, MealEnrolment
from linli.registry.choices import LivingStatus


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    planned_lunch: int
    planned_dinner: int
    delivered: int
    missed: int

    @property
    def planned(self) -> int:
        return self.planned_lunch + self.planned_dinner

    @property
    def unrecorded(self) -> int:
        return max(self.planned - self.delivered - self.missed, 0)


@dataclass(frozen=True)
class Figures:
    since: dt.date
    until: dt.date
    days: list[DayRow]
    people_served: int
    enrolled: int

    @property
    def delivered(self) -> int:
        return sum(d.delivered for d in self.days)

    @property
    def missed(self) -> int:
        return sum(d.missed for d in self.days)

    @property
    def planned(self) -> int:
        return sum(d.planned for d in self.days)


def meal_figures(
    enrolments: QuerySet[MealEnrolment],
    deliveries: QuerySet[MealDelivery],
    since: dt.date,
    until: dt.date,
) -> Figures:
    """Both days included. Planned counts residents living here on each day's list."""
    span = (until - since).days + 1
    lunch = [0] * (span + 1)
    dinner = [0] * (span + 1)
    running = (
        enrolments.filter(starts_on__lte=until)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=since))
        .filter(resident__living_status=LivingStatus.LIVING_HERE)
        .values_list("starts_on", "ends_on", "lunch", "dinner")
    )
    # A running total over the days: +1 on the first day, −1 after the last.
    for starts_on, ends_on, has_lunch, has_dinner in running:
        first = max((starts_on - since).days, 0)
        after = span if ends_on is None else min((ends_on - since).days + 1, span)
        for counts, on in ((lunch, has_lunch), (dinner, has_dinner)):
            if on:
                counts[first] += 1
                counts[after] -= 1
    recorded = {
        (row["day"], row["status"]): row["n"]
        for row in deliveries.filter(day__gte=since, day__lte=until)
        .values("day", "status")
        .annotate(n=Count("pk"))
        .order_by()
    }
    days = []
    planned_lunch = planned_dinner = 0
    for offset in range(span):
        planned_lunch += lunch[offset]
        planned_dinner += dinner[offset]
        day = since + dt.timedelta(days=offset)
        days.append(
            DayRow(
                day=day,
                planned_lunch=planned_lunch,
                planned_dinner=planned_dinner,
                delivered=recorded.get((day, DeliveryStatus.DELIVERED), 0),
                missed=recorded.get((day, DeliveryStatus.MISSED), 0),
            )
        )
    served = (
        deliveries.filter(day__gte=since, day__lte=until, status=DeliveryStatus.DELIVERED)
        .values("resident_id")
        .distinct()
        .count()
    )
    enrolled = running.values("resident_id").distinct().count()
    return Figures(since=since, until=until, days=days, people_served=served, enrolled=enrolled)
