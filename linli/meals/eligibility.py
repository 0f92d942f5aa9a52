"""Who a community's meal policy covers, evaluated in one SQL query over the registry.

Each community's rules become one condition on Resident (a date comparison, a join to the
care profile, EXISTS over tags and approved applications); the communities' conditions are
OR-ed, so one query answers for a whole street. The reasons shown per resident are worked
out afterwards from the same values, for the rows actually shown.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from linli.meals.choices import ApplicationStatus
from linli.meals.models import MealApplication, MealEnrolment, MealPolicy
from linli.registry.choices import CareTag, LivingStatus
from linli.registry.models import CareTagAssignment, Resident

# Rows per IN (…) when fetching the tags and applications behind the reasons.
CHUNK = 900


def age_cutoff(day: dt.date, years: int) -> dt.date:
    """The latest birth date of someone who is at least `years` old on `day`.

    Born on 29 February: a year after a leap year counts from 28 February, which is what
    Resident.age_on says too (one is not yet N on 28 February, is on 1 March)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def policy_condition(policy: MealPolicy, day: dt.date) -> Q | None:
    """The policy as a condition on Resident, limited to its community; None if no rule is on."""
    rules: list[Q] = []
    if policy.min_age is not None:
        rules.append(Q(birth_date__lte=age_cutoff(day, policy.min_age)))
    if policy.min_ltc_level is not None:
        rules.append(Q(care_profile__ltc_level__gte=policy.min_ltc_level))
    if policy.care_tags:
        # The plain manager inside EXISTS: the outer query is already scoped.
        tagged = CareTagAssignment._base_manager.filter(
            resident_id=OuterRef("pk"), tag__in=list(policy.care_tags)
        )
        rules.append(Q(Exists(tagged)))
    if policy.approved_applications:
        approved = MealApplication._base_manager.filter(
            resident_id=OuterRef("pk"), status=ApplicationStatus.APPROVED
        )
        rules.append(Q(Exists(approved)))
    if not rules:
        return None
    return Q(household__community_id=policy.community_id) & reduce(or_, rules)


def eligible_residents(
    residents: QuerySet[Resident], policies: Iterable[MealPolicy], day: dt.date
) -> QuerySet[Resident]:
    """The residents (of the queryset given: the caller's area) some policy covers on `day`."""
    conditions = [c for c in (policy_condition(p, day) for p in policies) if c is not None]
    if not conditions:
        return residents.none()
    return residents.filter(living_status=LivingStatus.LIVING_HERE).filter(reduce(or_, conditions))


def enrolled_on(day: dt.date) -> Exists:
    """EXISTS an enrolment of the outer resident running on `day`."""
    running = MealEnrolment._base_manager.filter(
        resident_id=OuterRef("pk"), starts_on__lte=day
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
    return Exists(running)


@dataclass
class Eligible:
    """One covered resident, with why."""

    resident_id: int
    name: str
    address: str
    community_id: int
    age: int | None
    ltc_level: int | None
    enrolled: bool
    tags: list[str] = field(default_factory=list)
    application_id: int | None = None
    reasons: list[str] = field(default_factory=list)


def _age(birth: dt.date | None, day: dt.date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


VALUES = (
    "pk",
    "name",
    "birth_date",
    "household__address",
    "household__community_id",
    "care_profile__ltc_level",
    "is_enrolled",
)


def explain(
    residents: QuerySet[Resident], policies: Iterable[MealPolicy], day: dt.date
) -> list[Eligible]:
    """The rows of an eligible-residents queryset (a page of it, or all) with their reasons."""
    by_community = {p.community_id: p for p in policies}
    rows = list(residents.annotate(is_enrolled=enrolled_on(day)).values(*VALUES))
    ids = [row["pk"] for row in rows]
    wanted_tags = {t for p in by_community.values() for t in p.care_tags}
    tags: dict[int, list[str]] = defaultdict(list)
    applications: dict[int, int] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if wanted_tags:
            for resident_id, tag in (
                CareTagAssignment._base_manager.filter(resident_id__in=chunk, tag__in=wanted_tags)
                .order_by("tag")
                .values_list("resident_id", "tag")
            ):
                tags[resident_id].append(tag)
        for resident_id, application_id in (
            MealApplication._base_manager.filter(
                resident_id__in=chunk, status=ApplicationStatus.APPROVED
            )
            .order_by("pk")
            .values_list("resident_id", "pk")
        ):
            applications[resident_id] = application_id
    found = []
    for row in rows:
        policy = by_community.get(row["household__community_id"])
        age = _age(row["birth_date"], day)
        ltc = row["care_profile__ltc_level"]
        item = Eligible(
            resident_id=row["pk"],
            name=row["name"],
            address=row["household__address"],
            community_id=row["household__community_id"],
            age=age,
            ltc_level=ltc,
            enrolled=row["is_enrolled"],
        )
        if policy is not None:
            item.reasons = _reasons(policy, item, tags[row["pk"]], applications.get(row["pk"]))
            item.tags = [t for t in tags[row["pk"]] if t in policy.care_tags]
            item.application_id = (
                applications.get(row["pk"]) if policy.approved_applications else None
            )
        found.append(item)
    return found


def _reasons(
    policy: MealPolicy, item: Eligible, tags: Sequence[str], application_id: int | None
) -> list[str]:
    reasons = []
    if policy.min_age is not None and item.age is not None and item.age >= policy.min_age:
        reasons.append(_("年满%(n)s周岁（%(age)s岁）") % {"n": policy.min_age, "age": item.age})
    if (
        policy.min_ltc_level is not None
        and item.ltc_level is not None
        and item.ltc_level >= policy.min_ltc_level
    ):
        reasons.append(_("长护险%(n)s级") % {"n": item.ltc_level})
    labels = dict(CareTag.choices)
    for tag in tags:
        if tag in policy.care_tags:
            reasons.append(str(labels.get(tag, tag)))
    if policy.approved_applications and application_id is not None:
        reasons.append(_("申请已通过（#%(id)s）") % {"id": application_id})
    return reasons


def why_not(resident: Resident, policy: MealPolicy | None, day: dt.date) -> str:
    """Why one resident is not covered (for an enrolment refused), in one sentence."""
    if resident.living_status != LivingStatus.LIVING_HERE:
        return _("%(name)s 当前不是在住状态（%(status)s）") % {
            "name": resident.name,
            "status": resident.get_living_status_display(),
        }
    if policy is None:
        return _("本社区还没有设置爱心餐资格规则")
    return _("%(name)s 不符合本社区爱心餐资格规则（%(rules)s）") % {
        "name": resident.name,
        "rules": policy.summary(),
    }
