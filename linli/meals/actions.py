"""Writes for meal aid: the policy, applications, canteens, enrolments, the day's delivery
tasks and each meal delivered or missed. Pages, the API and the CLI call these.

A missed meal asks the resident's grid worker to call (linli.care's check_in_request),
once per miss, in the same transaction as the record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.care.actions import check_in_request
from linli.meals.choices import (
    APPLICATION_TRANSITIONS,
    ApplicationStatus,
    DeliveryStatus,
    Diet,
    Meal,
)
from linli.meals.daily import DailyList, daily_list
from linli.meals.eligibility import eligible_residents, why_not
from linli.meals.models import (
    Canteen,
    MealApplication,
    MealDelivery,
    MealDeliveryTask,
    MealEnrolment,
    MealPolicy,
)
from linli.registry.choices import CareTag, LivingStatus
from linli.registry.models import Community, Resident
from linli.workforce import actions as workforce
from linli.workforce.choices import StopStatus, TaskKind
from linli.workforce.models import TaskStop

Errors = dict[str, list[str]]

# When a meal's delivery task runs (Shanghai time): from, until.
MEAL_WINDOWS = {
    Meal.LUNCH: (dt.time(10, 30), dt.time(12, 30)),
    Meal.DINNER: (dt.time(16, 30), dt.time(18, 30)),
}


def _meal_label(meal: str) -> str:
    return str(dict(Meal.choices).get(meal, meal))


# --- policy ---------------------------------------------------------------------------------


@dataclass
class PolicyInput:
    min_age: int | None = None
    min_ltc_level: int | None = None
    care_tags: Sequence[str] = ()
    approved_applications: bool = True


@transaction.atomic
def policy_save(*, actor: User, community: Community, data: PolicyInput) -> MealPolicy:
    """Set a community's rules (any one makes a resident eligible)."""
    errors: Errors = {}
    if data.min_age is not None and not 0 <= data.min_age <= 150:
        errors["min_age"] = [_("年龄应在 0–150 之间")]
    if data.min_ltc_level is not None and not 1 <= data.min_ltc_level <= 6:
        errors["min_ltc_level"] = [_("长护险等级应在 1–6 之间")]
    unknown = set(data.care_tags) - set(CareTag.values)
    if unknown:
        errors["care_tags"] = [_("没有这个标签：%(tag)s") % {"tag": sorted(unknown)[0]}]
    if errors:
        raise ValidationError(errors)
    policy = MealPolicy.objects.filter(community=community).first() or MealPolicy(
        community=community
    )
    policy.min_age = data.min_age
    policy.min_ltc_level = data.min_ltc_level
    policy.care_tags = [t for t in CareTag.values if t in set(data.care_tags)]
    policy.approved_applications = data.approved_applications
    policy.updated_at = timezone.now()
    policy.updated_by = actor
    policy.save()
    return policy


# --- applications ---------------------------------------------------------------------------


@transaction.atomic
def application_create(
    *, actor: User, resident: Resident, applicant: str, reason: str
) -> MealApplication:
    """An application taken by a worker (from the resident, or family on their behalf)."""
    errors: Errors = {}
    applicant = applicant.strip()
    reason = reason.strip()
    if not applicant:
        errors["applicant"] = [_("请填写申请人（本人或代为申请者）")]
    if not reason:
        errors["reason"] = [_("请填写申请理由")]
    if resident.living_status != LivingStatus.LIVING_HERE:
        errors["resident"] = [
            _("%(name)s 当前不是在住状态") % {"name": resident.name},
        ]
    open_one = MealApplication._base_manager.filter(
        resident_id=resident.pk, status=ApplicationStatus.PENDING
    ).first()
    if open_one is not None:
        errors["resident"] = [
            _("%(name)s 已有待审核的申请（#%(id)s）") % {"name": resident.name, "id": open_one.pk}
        ]
    if errors:
        raise ValidationError(errors)
    return MealApplication.objects.create(
        resident=resident,
        applicant=applicant[:64],
        reason=reason[:1000],
        created_by=actor,
    )


@transaction.atomic
def application_decide(
    *, actor: User, application: MealApplication, status: str, reason: str = ""
) -> MealApplication:
    """Approve, decline or withdraw; a decline or withdrawal says why. A decision can be
    corrected (approved ↔ declined) and each change keeps who and when."""
    reason = reason.strip()
    before = application.status
    if status not in APPLICATION_TRANSITIONS.get(before, frozenset()):
        raise ValidationError(
            {
                "status": [
                    _("申请当前为“%(status)s”，不能改为“%(to)s”")
                    % {
                        "status": application.get_status_display(),
                        "to": dict(ApplicationStatus.choices).get(status, status),
                    }
                ]
            }
        )
    if status != ApplicationStatus.APPROVED and not reason:
        raise ValidationError({"reason": [_("请填写原因")]})
    changed = MealApplication._base_manager.filter(pk=application.pk, status=before).update(
        status=status,
        decided_at=timezone.now(),
        decided_by=actor,
        decision_reason=reason[:200],
    )
    if not changed:
        raise ValidationError({"status": [_("申请刚被他人处理，请刷新后再试")]})
    application.refresh_from_db()
    return application


# --- canteens -------------------------------------------------------------------------------


@transaction.atomic
def canteen_save(
    *,
    actor: User,
    community: Community,
    name: str,
    capacity: int,
    address: str = "",
    is_active: bool = True,
    canteen: Canteen | None = None,
) -> Canteen:
    errors: Errors = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("请填写助餐点名称")]
    elif (
        Canteen.objects.filter(community=community, name=name)
        .exclude(pk=canteen.pk if canteen else 0)
        .exists()
    ):
        errors["name"] = [_("本社区已有同名助餐点")]
    if capacity < 1:
        errors["capacity"] = [_("每餐供应份数至少为 1")]
    if canteen is not None and canteen.community_id != community.pk:
        errors["community"] = [_("助餐点不能换到别的社区")]
    if errors:
        raise ValidationError(errors)
    canteen = canteen or Canteen(community=community, created_by=actor)
    canteen.name = name[:64]
    canteen.address = address.strip()[:160]
    canteen.capacity = capacity
    canteen.is_active = is_active
    canteen.save()
    return canteen


# --- enrolments -----------------------------------------------------------------------------


@dataclass
class EnrolmentInput:
    canteen: Canteen
    starts_on: dt.date
    lunch: bool = True
    dinner: bool = False
    diets: Sequence[str] = ()
    diet_notes: str = ""
    ends_on: dt.date | None = None


def _overlapping(resident: Resident, data: EnrolmentInput, exclude: int | None) -> bool:
    others = MealEnrolment._base_manager.filter(resident_id=resident.pk).exclude(pk=exclude or 0)
    if data.ends_on is not None:
        others = others.filter(starts_on__lte=data.ends_on)
    return others.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=data.starts_on)).exists()


def _full_meals(data: EnrolmentInput, exclude: int | None) -> list[str]:
    """Meals the canteen has no place left for on the first day."""
    day = data.starts_on
    running = (
        MealEnrolment._base_manager.filter(canteen_id=data.canteen.pk, starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .exclude(pk=exclude or 0)
    )
    full: list[str] = []
    if data.lunch and running.filter(lunch=True).count() >= data.canteen.capacity:
        full.append(Meal.LUNCH)
    if data.dinner and running.filter(dinner=True).count() >= data.canteen.capacity:
        full.append(Meal.DINNER)
    return full


def _check_enrolment(
    resident: Resident, data: EnrolmentInput, enrolment: MealEnrolment | None
) -> Errors:
    errors: Errors = {}
    exclude = enrolment.pk if enrolment else None
    if data.canteen.community_id != resident.household.community_id:
        errors["canteen"] = [_("助餐点不在该居民所在社区")]
    elif not data.canteen.is_active and (
        enrolment is None or enrolment.canteen_id != data.canteen.pk
    ):
        errors["canteen"] = [_("助餐点已停用")]
    if not (data.lunch or data.dinner):
        errors["meals"] = [_("请至少选择午餐或晚餐")]
    unknown = set(data.diets) - set(Diet.values)
    if unknown:
        errors["diets"] = [_("没有这种饮食要求：%(diet)s") % {"diet": sorted(unknown)[0]}]
    if data.ends_on is not None and data.ends_on < data.starts_on:
        errors["ends_on"] = [_("结束日期不能早于开始日期")]
    if not errors and _overlapping(resident, data, exclude):
        errors["starts_on"] = [
            _("%(name)s 在这段时间已有爱心餐登记") % {"name": resident.name},
        ]
    if not errors:
        full = _full_meals(data, exclude)
        if full and (enrolment is None or enrolment.canteen_id != data.canteen.pk):
            errors["canteen"] = [
                _("%(canteen)s %(meal)s名额已满（每餐 %(n)s 份）")
                % {
                    "canteen": data.canteen.name,
                    "meal": "、".join(_meal_label(m) for m in full),
                    "n": data.canteen.capacity,
                }
            ]
    return errors


@transaction.atomic
def enrolment_create(*, actor: User, resident: Resident, data: EnrolmentInput) -> MealEnrolment:
    """Enrol a resident the policy covers on the first day (others: approve an application)."""
    # One enrolment at a time per resident: the resident's row is the lock.
    Resident._base_manager.select_for_update().filter(pk=resident.pk).first()
    errors = _check_enrolment(resident, data, None)
    if not errors:
        policy = MealPolicy._base_manager.filter(
            community_id=resident.household.community_id
        ).first()
        covered = policy is not None and (
            eligible_residents(
                Resident._base_manager.filter(pk=resident.pk), [policy], data.starts_on
            ).exists()
        )
        if not covered:
            errors["resident"] = [
                why_not(resident, policy, data.starts_on) + _("；可先登记申请并审核通过")
            ]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    return MealEnrolment.objects.create(
        resident=resident,
        canteen=data.canteen,
        diets=[d for d in Diet.values if d in set(data.diets)],
        diet_notes=data.diet_notes.strip()[:500],
        lunch=data.lunch,
        dinner=data.dinner,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        created_by=actor,
        updated_by=actor,
        created_at=now,
        updated_at=now,
    )


def _deliveries_after(enrolment: MealEnrolment, day: dt.date | None) -> bool:
    if day is None:
        return False
    return MealDelivery._base_manager.filter(enrolment_id=enrolment.pk, day__gt=day).exists()


@transaction.atomic
def enrolment_update(
    *, actor: User, enrolment: MealEnrolment, data: EnrolmentInput, end_reason: str = ""
) -> MealEnrolment:
    """Change canteen, meals, diets or dates (clearing the end date resumes it)."""
    resident = enrolment.resident
    Resident._base_manager.select_for_update().filter(pk=resident.pk).first()
    errors = _check_enrolment(resident, data, enrolment)
    if (
        data.starts_on != enrolment.starts_on
        and MealDelivery._base_manager.filter(
            enrolment_id=enrolment.pk, day__lt=data.starts_on
        ).exists()
    ):
        errors["starts_on"] = [_("开始日期之前已有送餐记录")]
    if _deliveries_after(enrolment, data.ends_on):
        errors["ends_on"] = [_("结束日期之后已有送餐记录")]
    if errors:
        raise ValidationError(errors)
    enrolment.canteen = data.canteen
    enrolment.diets = [d for d in Diet.values if d in set(data.diets)]
    enrolment.diet_notes = data.diet_notes.strip()[:500]
    enrolment.lunch = data.lunch
    enrolment.dinner = data.dinner
    enrolment.starts_on = data.starts_on
    enrolment.ends_on = data.ends_on
    enrolment.end_reason = end_reason.strip()[:200] if data.ends_on else ""
    enrolment.updated_at = timezone.now()
    enrolment.updated_by = actor
    enrolment.save()
    return enrolment


@transaction.atomic
def enrolment_end(
    *, actor: User, enrolment: MealEnrolment, ends_on: dt.date, reason: str
) -> MealEnrolment:
    """Stop the meals after `ends_on` (the last day fed), with why."""
    reason = reason.strip()
    errors: Errors = {}
    if not reason:
        errors["reason"] = [_("请填写结束原因")]
    if ends_on < enrolment.starts_on:
        errors["ends_on"] = [_("结束日期不能早于开始日期")]
    elif _deliveries_after(enrolment, ends_on):
        errors["ends_on"] = [_("结束日期之后已有送餐记录")]
    if errors:
        raise ValidationError(errors)
    enrolment.ends_on = ends_on
    enrolment.end_reason = reason[:200]
    enrolment.updated_at = timezone.now()
    enrolment.updated_by = actor
    enrolment.save(update_fields=["ends_on", "end_reason", "updated_at", "updated_by"])
    return enrolment


# --- delivered or missed --------------------------------------------------------------------


def _missed_reason(day: dt.date, meal: str, reason: str) -> str:
    return _("爱心餐未送达（%(day)s%(meal)s）：%(reason)s") % {
        "day": date_format(day, "n月j日"),
        "meal": _meal_label(meal),
        "reason": reason,
    }


@transaction.atomic
def delivery_record(
    *,
    actor: User,
    enrolment: MealEnrolment,
    day: dt.date,
    meal: str,
    status: str,
    reason: str = "",
) -> MealDelivery:
    """Record one meal as delivered or missed (a later record corrects an earlier one).

    Becoming missed asks the grid worker for a care call, once per miss."""
    reason = reason.strip()
    errors: Errors = {}
    if meal not in Meal.values:
        errors["meal"] = [_("请选择餐次")]
    elif meal not in enrolment.meals:
        errors["meal"] = [_("该居民没有登记%(meal)s") % {"meal": _meal_label(meal)}]
    if status not in DeliveryStatus.values:
        errors["status"] = [_("结果只能是已送达或未送达")]
    if status == DeliveryStatus.MISSED and not reason:
        errors["reason"] = [_("请填写未送达原因")]
    if day > timezone.localdate():
        errors["day"] = [_("不能登记今天以后的送餐")]
    elif not enrolment.active_on(day):
        errors["day"] = [_("该居民这一天不在爱心餐登记期内")]
    if errors:
        raise ValidationError(errors)
    resident = enrolment.resident
    existing = (
        MealDelivery._base_manager.select_for_update()
        .filter(resident_id=resident.pk, day=day, meal=meal)
        .first()
    )
    was_missed = existing is not None and existing.status == DeliveryStatus.MISSED
    delivery = existing or MealDelivery(resident=resident, day=day, meal=meal)
    delivery.enrolment = enrolment
    delivery.status = status
    delivery.reason = reason[:200] if status == DeliveryStatus.MISSED else ""
    delivery.recorded_at = timezone.now()
    delivery.recorded_by = actor
    if status == DeliveryStatus.MISSED and not was_missed:
        check_in = check_in_request(
            actor, resident=resident, reason=_missed_reason(day, meal, reason)
        )
        delivery.check_in_id = check_in.pk
    try:
        with transaction.atomic():
            delivery.save()
    except IntegrityError:
        raise ValidationError({"status": [_("这一餐刚被他人登记，请刷新后再试")]}) from None
    return delivery


@dataclass
class Outcome:
    delivered: int = 0
    missed: int = 0
    unchanged: int = 0
    tasks: list[int] = field(default_factory=list)


@transaction.atomic
def deliveries_record_rest(*, actor: User, canteen: Canteen, day: dt.date, meal: str) -> Outcome:
    """Everyone on the day's list (as the actor sees it) not yet recorded for this meal:
    delivered. Record the misses first, then this."""
    if meal not in Meal.values:
        raise ValidationError({"meal": [_("请选择餐次")]})
    outcome = Outcome()
    for row in daily_list(canteen, day).rows:
        if meal in row.meals and meal not in row.outcomes:
            delivery_record(
                actor=actor,
                enrolment=row.enrolment,
                day=day,
                meal=meal,
                status=DeliveryStatus.DELIVERED,
            )
            outcome.delivered += 1
    return outcome


# --- delivery tasks -------------------------------------------------------------------------


def _window(day: dt.date, meal: str) -> tuple[dt.datetime, dt.datetime]:
    start, end = MEAL_WINDOWS[Meal(meal)]
    return (
        timezone.make_aware(dt.datetime.combine(day, start)),
        timezone.make_aware(dt.datetime.combine(day, end)),
    )


@transaction.atomic
def delivery_tasks_create(
    *, actor: User, canteen: Canteen, day: dt.date, meal: str
) -> list[MealDeliveryTask]:
    """One door-to-door task per building for one meal of one day, a door per household.

    A volunteer's door says the meal and how many boxes, never names or diets (the boxes
    carry the canteen's labels). Buildings that already have their task are skipped, so
    running it again after late enrolments adds only the new buildings."""
    if meal not in Meal.values:
        raise ValidationError({"meal": [_("请选择餐次")]})
    if day < timezone.localdate():
        raise ValidationError({"day": [_("不能为过去的日期派送餐任务")]})
    listed: DailyList = daily_list(canteen, day)
    have = set(
        MealDeliveryTask._base_manager.filter(canteen=canteen, day=day, meal=meal).values_list(
            "building_id", flat=True
        )
    )
    starts_at, ends_at = _window(day, meal)
    created = []
    for group in listed.buildings:
        building = group.building_or_none
        if building.pk in have:
            continue
        boxes: dict[int, int] = {}
        households = {}
        for row in group.rows:
            if meal in row.meals:
                household = row.resident.household
                households[household.pk] = household
                boxes[household.pk] = boxes.get(household.pk, 0) + 1
        if not households:
            continue
        label = _meal_label(meal)
        task = workforce.task_create(
            actor=actor,
            community=canteen.community,
            kind=TaskKind.DELIVERY_BUNDLE,
            title=_("爱心餐·%(meal)s %(building)s") % {"meal": label, "building": building},
            description=_("%(canteen)s %(day)s%(meal)s，按餐盒上的门牌标签送到各户。")
            % {"canteen": canteen.name, "day": date_format(day, "n月j日"), "meal": label},
            buildings=[building],
            starts_at=starts_at,
            ends_at=ends_at,
            stops=[
                workforce.StopInput(
                    household=h, items=_("爱心餐·%(meal)s ×%(n)s") % {"meal": label, "n": boxes[pk]}
                )
                for pk, h in households.items()
            ],
        )
        created.append(
            MealDeliveryTask.objects.create(
                canteen=canteen,
                day=day,
                meal=meal,
                building=building,
                task=task,
                created_by=actor,
            )
        )
    if not created and not have:
        raise ValidationError({"meal": [_("这一餐没有需要送的居民")]})
    return created


@transaction.atomic
def deliveries_from_tasks(*, actor: User, canteen: Canteen, day: dt.date, meal: str) -> Outcome:
    """Read the doors of the meal's delivery tasks: a door delivered (or left at the door)
    is delivered for every resident of it on the list; a door failed is missed, with the
    volunteer's reason. Meals already recorded are left as they are."""
    listed = daily_list(canteen, day)
    by_household: dict[int, list[MealEnrolment]] = {}
    for row in listed.rows:
        if meal in row.meals:
            by_household.setdefault(row.resident.household_id, []).append(row.enrolment)
    links = MealDeliveryTask._base_manager.filter(canteen=canteen, day=day, meal=meal)
    stops = TaskStop._base_manager.filter(task_id__in=links.values("task_id")).exclude(
        status=StopStatus.PENDING
    )
    recorded = set(
        MealDelivery._base_manager.filter(day=day, meal=meal).values_list("resident_id", flat=True)
    )
    outcome = Outcome(tasks=list(links.values_list("task_id", flat=True)))
    for stop in stops:
        for enrolment in by_household.get(stop.household_id, []):
            if enrolment.resident_id in recorded:
                outcome.unchanged += 1
                continue
            missed = stop.status == StopStatus.FAILED
            delivery_record(
                actor=actor,
                enrolment=enrolment,
                day=day,
                meal=meal,
                status=DeliveryStatus.MISSED if missed else DeliveryStatus.DELIVERED,
                reason=(stop.failure_reason or _("志愿者未能送达")) if missed else "",
            )
            if missed:
                outcome.missed += 1
            else:
                outcome.delivered += 1
    return outcome
