"""Who a round expects, who it reached, who is missing, and how far each building and grid is.

Two halves, both set-at-a-time:
- Matching a sample record to a resident (at import, and again on request) is done in
  memory over dictionaries of the area's blind indexes, loaded in one query: ID number
  first, then name + phone. Nothing is looked up row by row.
- Expected, reached and missing are SQL: the living residents of the campaign's area in
  the viewer's scope, minus exemptions covering the round's day (NOT EXISTS), and the
  anti-join against the round's matched records (NOT EXISTS on an index of round+resident).
  Completion by building, grid or community is one grouped query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from linli.campaigns.choices import (
    DOOR_SERVICE_AGE,
    DOOR_SERVICE_LTC_LEVEL,
    DOOR_SERVICE_TAGS,
    MatchMethod,
    Unmatched,
)
from linli.campaigns.models import Campaign, CampaignRound, Exemption, SampleRecord
from linli.registry.choices import LivingStatus
from linli.registry.models import (
    Building,
    CareProfile,
    CareTagAssignment,
    Community,
    Grid,
    Resident,
    ResidentQuerySet,
)

# A resident as the matcher knows them: (pk, household, community, grid).
Person = tuple[int, int, int, int | None]
AMBIGUOUS: Person = (0, 0, 0, None)


@dataclass(frozen=True, slots=True)
class Match:
    person: Person | None
    method: str
    reason: str  # Unmatched value, or "" when matched
    suggestion: int | None  # a resident pk with the same name, when nothing matched


def area_filter(campaign: Campaign, prefix: str = "") -> Q:
    if campaign.community_id is not None:
        return Q(**{f"{prefix}household__community_id": campaign.community_id})
    return Q(**{f"{prefix}household__community__street_id": campaign.street_id})


def tuples(queryset: QuerySet[Any], size: int = 20_000) -> Iterator[tuple[Any, ...]]:
    """The rows of a values_list queryset straight from the database cursor: no per-row
    converters (a boolean comes back as 0/1), for the hundred-thousand-row loads."""
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(size):
            yield from rows


class Matcher:
    """The campaign area's residents by ID index, by name + phone index and by name."""

    def __init__(self, campaign: Campaign) -> None:
        self.by_id: dict[str, Person] = {}
        self.by_name_phone: dict[tuple[str, str], Person] = {}
        self.by_name: dict[str, Person] = {}
        rows = (
            Resident.objects.filter(area_filter(campaign))
            .order_by()
            .values_list(
                "pk",
                "id_number_index",
                "name",
                "phone_index",
                "household_id",
                "household__community_id",
                "household__grid_id",
            )
        )
        for pk, id_index, name, phone_index, household, community, grid in tuples(rows):
            person: Person = (pk, household, community, grid)
            if id_index:
                self.by_id[id_index] = person
            if phone_index:
                key = (name, phone_index)
                self.by_name_phone[key] = AMBIGUOUS if key in self.by_name_phone else person
            self.by_name[name] = AMBIGUOUS if name in self.by_name else person

    def match(self, id_index: str, id_valid: bool, name: str, phone_index: str) -> Match:
        if id_index and id_valid:
            found = self.by_id.get(id_index)
            if found is not None:
                return Match(found, MatchMethod.ID_NUMBER, "", None)
        if name and phone_index:
            found = self.by_name_phone.get((name, phone_index))
            if found is not None and found is not AMBIGUOUS:
                return Match(found, MatchMethod.NAME_PHONE, "", None)
        if id_index and not id_valid:
            reason = Unmatched.INVALID_ID
        elif not id_index and not name:
            reason = Unmatched.NO_IDENTITY
        else:
            reason = Unmatched.NOT_REGISTERED
        same_name = self.by_name.get(name) if name else None
        suggestion = same_name[0] if same_name and same_name is not AMBIGUOUS else None
        return Match(None, MatchMethod.NONE, reason, suggestion)


# --- expected, reached, missing ---------------------------------------------------------


def exempt_on(round: CampaignRound) -> Exists:
    covering = Exemption._base_manager.filter(
        campaign_id=round.campaign_id,
        resident_id=OuterRef("pk"),
        revoked_at__isnull=True,
        starts_on__lte=round.date,
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=round.date))
    return Exists(covering)


def reached_in(round: CampaignRound) -> Exists:
    return Exists(SampleRecord._base_manager.filter(round_id=round.pk, resident_id=OuterRef("pk")))


def living_in_area(round: CampaignRound) -> ResidentQuerySet:
    """The living residents of the campaign's area (in the active scope)."""
    return Resident.objects.filter(
        area_filter(round.campaign), living_status=LivingStatus.LIVING_HERE
    )


def expected_residents(round: CampaignRound) -> ResidentQuerySet:
    return living_in_area(round).exclude(exempt_on(round))


SWEEP_ORDER = (
    "household__grid__code",
    "household__unit__building__compound__name",
    "household__unit__building__sort_key",
    "household__unit__building__name",
    "household__unit__sort_key",
    "household__unit__name",
    "household__room_sort_key",
    "household__room",
    "pk",
)


def missing_residents(round: CampaignRound) -> ResidentQuerySet:
    """Expected and not reached, by grid → building → unit → room."""
    return (
        expected_residents(round)
        .exclude(reached_in(round))
        .select_related("household__unit__building__compound", "household__grid")
        .order_by(*SWEEP_ORDER)
    )


def door_service_rule(day: dt.date) -> Q:
    """choices.DOOR_SERVICE_*: a tag, a long-term-care level, or an age."""
    tagged = CareTagAssignment._base_manager.filter(
        resident_id=OuterRef("pk"), tag__in=DOOR_SERVICE_TAGS
    )
    cared = CareProfile._base_manager.filter(
        resident_id=OuterRef("pk"), ltc_level__gte=DOOR_SERVICE_LTC_LEVEL
    )
    try:
        born_by = day.replace(year=day.year - DOOR_SERVICE_AGE)
    except ValueError:  # 29 February
        born_by = day.replace(year=day.year - DOOR_SERVICE_AGE, day=28)
    return Q(Exists(tagged)) | Q(Exists(cared)) | Q(birth_date__lte=born_by)


def door_service_residents(
    round: CampaignRound, *, include_reached: bool = False
) -> ResidentQuerySet:
    residents = expected_residents(round) if include_reached else missing_residents(round)
    return (
        residents.filter(door_service_rule(round.date))
        .select_related("household__unit__building__compound", "household__grid")
        .order_by(*SWEEP_ORDER)
    )


def door_service_why(resident: Resident, day: dt.date, tags: Iterable[str], ltc: int | None) -> str:
    reasons = []
    labels = {t.value: str(t.label) for t in DOOR_SERVICE_TAGS}
    reasons += [labels[t] for t in tags if t in labels]
    if ltc is not None and ltc >= DOOR_SERVICE_LTC_LEVEL:
        reasons.append(_("长护%(level)s级") % {"level": ltc})
    age = resident.age_on(day)
    if age is not None and age >= DOOR_SERVICE_AGE:
        reasons.append(_("%(age)s岁") % {"age": age})
    return "、".join(reasons)


def door_reasons(residents: Iterable[Resident], day: dt.date) -> dict[int, str]:
    """Why each resident needs door service ("" when they do not), two queries in all."""
    people = list(residents)
    ids = [r.pk for r in people]
    tags: dict[int, list[str]] = {}
    for resident_id, tag in CareTagAssignment._base_manager.filter(resident_id__in=ids).values_list(
        "resident_id", "tag"
    ):
        tags.setdefault(resident_id, []).append(tag)
    ltc = dict(
        CareProfile._base_manager.filter(resident_id__in=ids).values_list(
            "resident_id", "ltc_level"
        )
    )
    return {r.pk: door_service_why(r, day, tags.get(r.pk, []), ltc.get(r.pk)) for r in people}


# --- completion -------------------------------------------------------------------------


@dataclass
class Completion:
    key: int | None
    label: str
    expected: int
    reached: int

    @property
    def missing(self) -> int:
        return self.expected - self.reached

    @property
    def percent(self) -> float:
        return 100.0 * self.reached / self.expected if self.expected else 100.0


GROUPS = {
    "building": "household__unit__building_id",
    "grid": "household__grid_id",
    "community": "household__community_id",
}


def completion(round: CampaignRound, by: str = "building") -> list[Completion]:
    """Expected and reached per building, grid or community of the viewer's scope."""
    group = GROUPS[by]
    counted = (
        expected_residents(round)
        .annotate(hit=reached_in(round))
        .order_by()
        .values(group)
        .annotate(expected=Count("pk"), reached=Count("pk", filter=Q(hit=True)))
    )
    counts = {row[group]: (row["expected"], row["reached"]) for row in counted}
    keys = [k for k in counts if k is not None]
    labels: dict[int | None, str]
    if by == "building":
        found = Building.objects.filter(pk__in=keys).select_related("compound")
        ordered = sorted(found, key=lambda b: (b.compound.name, b.sort_key, b.name))
        labels = {b.pk: str(b) for b in ordered}
    elif by == "grid":
        labels = {
            g.pk: f"{g.community.name}{g.name}"
            for g in Grid.objects.filter(pk__in=keys)
            .select_related("community")
            .order_by("community__code", "code")
        }
    else:
        labels = {c.pk: c.name for c in Community.objects.filter(pk__in=keys).order_by("code")}
    rows = [Completion(k, labels[k], *counts[k]) for k in labels if k in counts]
    if None in counts:
        rows.append(Completion(None, _("未划网格"), *counts[None]))
    return rows


@dataclass
class RoundFigures:
    expected: int
    reached: int
    exempted: int
    unmatched: int
    duplicates: int

    @property
    def missing(self) -> int:
        return self.expected - self.reached

    @property
    def percent(self) -> float:
        return 100.0 * self.reached / self.expected if self.expected else 100.0


def round_figures(
    round: CampaignRound,
    records: QuerySet[SampleRecord],
    rows: list[Completion] | None = None,
) -> RoundFigures:
    """The round in the viewer's scope; `records` are the records they may see. `rows`:
    a completion already computed for the same viewer (any grouping), to reuse its sums."""
    rows = completion(round, "community") if rows is None else rows
    exempted = living_in_area(round).filter(exempt_on(round)).count()
    counts = records.aggregate(
        unmatched=Count("pk", filter=Q(resident__isnull=True)),
        duplicates=Count("pk", filter=Q(duplicate=True)),
    )
    return RoundFigures(
        expected=sum(r.expected for r in rows),
        reached=sum(r.reached for r in rows),
        exempted=exempted,
        unmatched=counts["unmatched"],
        duplicates=counts["duplicates"],
    )
