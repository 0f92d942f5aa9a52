"""Demo meal aid for each community of a tier: the policy of the Shanghai town (age ≥ 80 or
long-term-care level ≥ 5, or an approved application), a canteen, every covered resident
enrolled (diets spread deterministically), a week of recorded meals and today's list.

Called by `linli seed` / `linli demo` (MealsConfig.seed). Rows are written in bulk, so the
street tier stays quick; idempotent: a community with a meal policy is left alone.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import OutputWrapper
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.meals.choices import DeliveryStatus, Diet
from linli.meals.eligibility import eligible_residents
from linli.meals.models import Canteen, MealDelivery, MealEnrolment, MealPolicy
from linli.registry import seed as registry_seed
from linli.registry.models import Community, Resident, Street

HISTORY_DAYS = 7
# Every n-th enrolled resident (by id) has this diet.
DIET_EVERY = ((Diet.LOW_SALT, 3), (Diet.SOFT, 5), (Diet.DIABETIC, 7), (Diet.NO_PORK, 13))


def _diets(pk: int) -> list[str]:
    return [diet for diet, every in DIET_EVERY if pk % every == 0]


def seed(*, tier: str, password: str, stdout: OutputWrapper | None = None) -> int:
    """Seed the tier's communities that have no meal policy yet; the enrolments written."""
    today = timezone.localdate()
    written = 0
    with scopes_disabled(), transaction.atomic():
        plan = registry_seed.plan_for(tier)
        street = Street.objects.filter(code=plan.street_code).first()
        communities = list(Community.objects.filter(street=street).order_by("pk")) if street else []
        staff = User.objects.filter(username="community_staff").first()
        for community in communities:
            if MealPolicy.objects.filter(community=community).exists():
                continue
            written += _community(community, staff, today)
    if stdout is not None:
        stdout.write(_("已生成爱心餐登记 %(n)d 人（含近一周送餐记录）。") % {"n": written})
    return written


def _community(community: Community, staff: User | None, today: dt.date) -> int:
    policy = MealPolicy.objects.create(
        community=community, min_age=80, min_ltc_level=5, updated_by=staff
    )
    start = today - dt.timedelta(days=HISTORY_DAYS)
    covered = list(
        eligible_residents(
            Resident.objects.filter(household__community=community), [policy], start
        ).values_list("pk", flat=True)
    )
    canteen = Canteen.objects.create(
        community=community,
        name=_("%(name)s长者食堂") % {"name": community.name.removesuffix("社区")},
        capacity=max(len(covered) + 50, 100),
        created_by=staff,
    )
    enrolments = MealEnrolment.objects.bulk_create(
        MealEnrolment(
            resident_id=pk,
            canteen=canteen,
            diets=_diets(pk),
            lunch=True,
            dinner=pk % 4 == 0,
            starts_on=start,
            created_by=staff,
            updated_by=staff,
        )
        for pk in covered
    )
    deliveries = []
    for offset in range(HISTORY_DAYS):
        day = start + dt.timedelta(days=offset)
        for enrolment in enrolments:
            for meal in enrolment.meals:
                # About one meal in a hundred and fifty missed (nobody home).
                missed = (enrolment.resident_id + offset) % 151 == 0
                deliveries.append(
                    MealDelivery(
                        enrolment=enrolment,
                        resident_id=enrolment.resident_id,
                        day=day,
                        meal=meal,
                        status=DeliveryStatus.MISSED if missed else DeliveryStatus.DELIVERED,
                        reason=_("敲门无人应答") if missed else "",
                        recorded_by=staff,
                    )
                )
    MealDelivery.objects.bulk_create(deliveries, batch_size=2000)
    return len(enrolments)
