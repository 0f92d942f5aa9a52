"""Wish figures: wishes by status, how long a batch took to be claimed, claimers by unit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet, Sum

from linli.wishes.choices import WishStatus
from linli.wishes.models import HOLDING, Claimer, Wish, WishBatch


@dataclass(frozen=True)
class StatusRow:
    status: str
    label: str
    wishes: int
    value_fen: int


@dataclass(frozen=True)
class BatchRow:
    id: int
    title: str
    published_at: dt.datetime | None
    wishes: int
    claimed: int
    # When the last open wish was claimed (None while any is still open).
    all_claimed_at: dt.datetime | None

    @property
    def minutes_to_all_claimed(self) -> int | None:
        if self.published_at is None or self.all_claimed_at is None:
            return None
        return max(0, int((self.all_claimed_at - self.published_at).total_seconds() // 60))


@dataclass(frozen=True)
class UnitRow:
    work_unit: str
    claimers: int
    wishes: int
    fulfilled: int


def by_status(wishes: QuerySet[Wish]) -> list[StatusRow]:
    """Every status, in the order a wish goes through them (zeros included)."""
    found = {
        row["status"]: row
        for row in wishes.order_by().values("status").annotate(n=Count("pk"), v=Sum("value_fen"))
    }
    return [
        StatusRow(
            status=status.value,
            label=str(status.label),
            wishes=int(found.get(status.value, {}).get("n") or 0),
            value_fen=int(found.get(status.value, {}).get("v") or 0),
        )
        for status in WishStatus
    ]


def batch_timing(batches: QuerySet[WishBatch]) -> list[BatchRow]:
    """Per published batch: its wishes, how many are held, and when the last was claimed."""
    rows = (
        batches.exclude(published_at=None)
        .annotate(
            n=Count("wishes", filter=~Q(wishes__status=WishStatus.WITHDRAWN)),
            held=Count("wishes", filter=Q(wishes__status__in=HOLDING)),
            open=Count("wishes", filter=Q(wishes__status=WishStatus.PUBLISHED)),
            last=Max("wishes__claimed_at", filter=Q(wishes__status__in=HOLDING)),
        )
        .order_by("-published_at")
    )
    return [
        BatchRow(
            id=b.pk,
            title=b.title,
            published_at=b.published_at,
            wishes=b.n,
            claimed=b.held,
            all_claimed_at=b.last if b.held and not b.open else None,
        )
        for b in rows
    ]


def by_work_unit(claimers: QuerySet[Claimer]) -> list[UnitRow]:
    """Claimers holding wishes, and the wishes they hold, per work unit (most first)."""
    rows = (
        claimers.filter(wishes__status__in=HOLDING)
        .order_by()
        .values("work_unit")
        .annotate(
            people=Count("pk", distinct=True),
            n=Count("wishes", distinct=True),
            done=Count(
                "wishes",
                filter=Q(wishes__status__in=[WishStatus.FULFILLED, WishStatus.THANKED]),
                distinct=True,
            ),
        )
        .order_by("-n", "work_unit")
    )
    return [
        UnitRow(
            work_unit=row["work_unit"],
            claimers=row["people"],
            wishes=row["n"],
            fulfilled=row["done"],
        )
        for row in rows
    ]
