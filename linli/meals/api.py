"""爱心餐 in the REST API (errors: linli/api.py): the policy and who it covers, applications,
canteens, enrolments, the day's lists and delivery tasks, meals delivered or missed, figures.

Operations parse, check access (meals/access.py: 403 for a role that may not, 404 outside
the area) and call the actions.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.api import api_user
from linli.accounts.models import User
from linli.lib import rest
from linli.lib.rest import ERRORS, InputSchema, Page, PageQuery, fields_renamed, local_time, page_of
from linli.meals import access, actions
from linli.meals.choices import ApplicationStatus, DeliveryStatus, Diet, Meal
from linli.meals.daily import DailyList, DailyRow, Group, daily_list
from linli.meals.eligibility import eligible_residents, enrolled_on, explain
from linli.meals.figures import meal_figures
from linli.meals.models import Canteen, MealApplication, MealEnrolment, MealPolicy
from linli.registry import access as registry_access
from linli.registry.choices import CareTag
from linli.registry.models import Community, Resident
from linli.registry.scope import area_for

router = Router(tags=["爱心餐"])

DIETS_HELP = "饮食要求代码：" + "、".join(f"{d.value}（{d.label}）" for d in Diet)
TAGS_HELP = "标签代码：" + "、".join(f"{t.value}（{t.label}）" for t in CareTag)


def _reader(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_see_meals(user), _("您的角色无权查看爱心餐"))
    return user


def _manager(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_manage_meals(user), _("只有社区工作人员和街道可以管理爱心餐"))
    return user


def _recorder(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_record_meals(user), _("您的角色无权登记送餐"))
    return user


def _community(user: User, code: str | None, *, field: str = "community") -> Community:
    """The community named (within the area), or the user's only one; 400 on `field`."""
    if code:
        try:
            return registry_access.get_community_for(user, code)
        except Http404:
            raise ValidationError(
                {field: [_("社区“%(code)s”不存在或不在您的管辖范围内") % {"code": code}]}
            ) from None
    communities = area_for(user).communities
    if communities is not None and len(communities) == 1:
        return Community.objects.get(pk=communities[0])
    raise ValidationError({field: [_("请填写社区编码")]})


def _resident(user: User, pk: int, field: str = "resident_id") -> Resident:
    try:
        return registry_access.get_resident_for(user, pk)
    except Http404:
        raise ValidationError(
            {field: [_("居民 %(id)s 不存在或不在您的管辖范围内") % {"id": pk}]}
        ) from None


def _canteen(user: User, pk: int, field: str = "canteen_id") -> Canteen:
    try:
        return access.get_canteen_for(user, pk)
    except Http404:
        raise ValidationError(
            {field: [_("助餐点 %(id)s 不存在或不在您的管辖范围内") % {"id": pk}]}
        ) from None


def _today(day: dt.date | None) -> dt.date:
    return day or timezone.localdate()


# --- policy ---------------------------------------------------------------------------------


class PolicyOut(Schema):
    community: str = Field(description="社区编码")
    community_name: str
    min_age: int | None = Field(description="年满 N 周岁（空：不按年龄）")
    min_ltc_level: int | None = Field(description="长护险等级 ≥ M（空：不按长护险）")
    care_tags: list[str] = Field(description="任一重点人群标签")
    approved_applications: bool = Field(description="审核通过的申请也符合")
    summary: str = Field(description="规则说明（任一条件满足即符合）")
    updated_at: dt.datetime | None
    updated_by: str


class PolicyIn(InputSchema):
    min_age: int | None = Field(None, ge=0, le=150, description="年满 N 周岁；null 关闭")
    min_ltc_level: int | None = Field(None, ge=1, le=6, description="长护险等级 ≥ M；null 关闭")
    care_tags: list[CareTag] = Field(default_factory=list, description=TAGS_HELP)
    approved_applications: bool = Field(True, description="审核通过的申请也符合")


def _policy_out(community: Community, policy: MealPolicy | None) -> PolicyOut:
    policy = policy or MealPolicy(community=community, approved_applications=False)
    return PolicyOut(
        community=community.code,
        community_name=community.name,
        min_age=policy.min_age,
        min_ltc_level=policy.min_ltc_level,
        care_tags=list(policy.care_tags),
        approved_applications=policy.approved_applications,
        summary=policy.summary(),
        updated_at=local_time(policy.updated_at) if policy.pk else None,
        updated_by=str(policy.updated_by or "") if policy.pk else "",
    )


@router.get("/meals/policies", response={200: list[PolicyOut], **ERRORS})
def policy_list(request: HttpRequest) -> list[PolicyOut]:
    """Each community of the area with its rules (a community without rules covers no one)."""
    user = _reader(request)
    policies = {p.community_id: p for p in access.visible_policies(user)}
    communities = registry_access.visible_communities(user).order_by("code")
    return [_policy_out(c, policies.get(c.pk)) for c in communities]


@router.get("/meals/policies/{community}", response={200: PolicyOut, **ERRORS})
def policy_detail(request: HttpRequest, community: str) -> PolicyOut:
    user = _reader(request)
    found = registry_access.get_community_for(user, community)
    return _policy_out(found, access.visible_policies(user).filter(community=found).first())


@router.put("/meals/policies/{community}", response={200: PolicyOut, **ERRORS})
def policy_put(request: HttpRequest, community: str, payload: PolicyIn) -> PolicyOut:
    """Set the rules; any one that holds makes a living resident eligible."""
    user = _manager(request)
    found = registry_access.get_community_for(user, community)
    policy = actions.policy_save(
        actor=user,
        community=found,
        data=actions.PolicyInput(
            min_age=payload.min_age,
            min_ltc_level=payload.min_ltc_level,
            care_tags=[t.value for t in payload.care_tags],
            approved_applications=payload.approved_applications,
        ),
    )
    return _policy_out(found, policy)


# --- eligible residents ---------------------------------------------------------------------


class EligibleQuery(PageQuery):
    community: str | None = Field(None, description="社区编码")
    day: dt.date | None = Field(None, description="按哪天计算（默认今天）")
    q: str | None = Field(None, max_length=64, description="姓名、拼音、地址或手机尾号")
    not_enrolled: bool = Field(False, description="只列还没有登记用餐的")


class EligibleOut(Schema):
    resident_id: int
    name: str
    address: str
    age: int | None
    ltc_level: int | None
    reasons: list[str] = Field(description="符合的原因，如“年满80周岁（85岁）”“长护险5级”")
    enrolled: bool = Field(description="当天已在用餐")


@router.get("/meals/eligible", response={200: Page[EligibleOut], **ERRORS})
def eligible_list(request: HttpRequest, query: Query[EligibleQuery]) -> Page[EligibleOut]:
    """Living residents of the area a policy covers on the day, with why."""
    user = _reader(request)
    day = _today(query.day)
    policies = list(access.visible_policies(user))
    residents = Resident.objects.all()
    if query.community:
        community = registry_access.get_community_for(user, query.community)
        residents = residents.filter(household__community=community)
    if query.q:
        residents = residents.search(query.q)
    found = eligible_residents(residents, policies, day)
    if query.not_enrolled:
        found = found.exclude(enrolled_on(day))
    found = found.order_by("household__address", "pk")
    count = found.count()
    rows = explain(found[query.offset : query.offset + query.limit], policies, day)
    return Page(
        count=count,
        items=[
            EligibleOut(
                resident_id=r.resident_id,
                name=r.name,
                address=r.address,
                age=r.age,
                ltc_level=r.ltc_level,
                reasons=r.reasons,
                enrolled=r.enrolled,
            )
            for r in rows
        ],
    )


# --- applications ---------------------------------------------------------------------------


class ApplicationOut(Schema):
    id: int
    resident_id: int
    resident_name: str
    address: str
    applicant: str
    reason: str
    status: str
    status_label: str
    created_at: dt.datetime
    created_by: str
    decided_at: dt.datetime | None
    decided_by: str
    decision_reason: str


def _application_out(a: MealApplication) -> ApplicationOut:
    return ApplicationOut(
        id=a.pk,
        resident_id=a.resident_id,
        resident_name=a.resident.name,
        address=a.resident.household.address,
        applicant=a.applicant,
        reason=a.reason,
        status=a.status,
        status_label=a.get_status_display(),
        created_at=timezone.localtime(a.created_at),
        created_by=str(a.created_by or ""),
        decided_at=local_time(a.decided_at),
        decided_by=str(a.decided_by or ""),
        decision_reason=a.decision_reason,
    )


class ApplicationQuery(PageQuery):
    status: ApplicationStatus | None = None
    resident_id: int | None = None


class ApplicationIn(InputSchema):
    resident_id: int
    applicant: str = Field(max_length=64, description="申请人：本人，或代为申请者（如“女儿王丽”）")
    reason: str = Field(max_length=1000, description="申请理由")


class DecideIn(InputSchema):
    status: Literal["approved", "declined", "withdrawn"] = Field(
        description="approved 通过、declined 不通过、withdrawn 撤回"
    )
    reason: str = Field("", max_length=200, description="原因（不通过或撤回时必填）")


@router.get("/meals/applications", response={200: Page[ApplicationOut], **ERRORS})
def application_list(request: HttpRequest, query: Query[ApplicationQuery]) -> Page[ApplicationOut]:
    user = _reader(request)
    found = access.visible_applications(user)
    if query.status is not None:
        found = found.filter(status=query.status.value)
    if query.resident_id is not None:
        found = found.filter(resident_id=query.resident_id)
    return page_of(found, query, _application_out)


@router.post("/meals/applications", response={201: ApplicationOut, **ERRORS})
def application_create(request: HttpRequest, payload: ApplicationIn) -> Status[ApplicationOut]:
    """Taken by any worker of the area (the resident, or family on their behalf)."""
    user = _reader(request)
    resident = _resident(user, payload.resident_id)
    with fields_renamed(resident="resident_id"):
        application = actions.application_create(
            actor=user, resident=resident, applicant=payload.applicant, reason=payload.reason
        )
    return Status(201, _application_out(access.get_application_for(user, application.pk)))


@router.post(
    "/meals/applications/{application_id}/decide", response={200: ApplicationOut, **ERRORS}
)
def application_decide(
    request: HttpRequest, application_id: int, payload: DecideIn
) -> ApplicationOut:
    user = _manager(request)
    application = access.get_application_for(user, application_id)
    actions.application_decide(
        actor=user, application=application, status=payload.status, reason=payload.reason
    )
    return _application_out(access.get_application_for(user, application_id))


# --- canteens -------------------------------------------------------------------------------


class CanteenOut(Schema):
    id: int
    community: str
    name: str
    address: str
    capacity: int = Field(description="每餐供应份数")
    is_active: bool


class CanteenIn(InputSchema):
    community: str | None = Field(None, description="社区编码（管辖一个社区时可不填）")
    name: str = Field(min_length=1, max_length=64)
    address: str = Field("", max_length=160)
    capacity: int = Field(ge=1, le=100000, description="每餐供应份数")
    is_active: bool = True


def _canteen_out(c: Canteen) -> CanteenOut:
    return CanteenOut(
        id=c.pk,
        community=c.community.code,
        name=c.name,
        address=c.address,
        capacity=c.capacity,
        is_active=c.is_active,
    )


@router.get("/meals/canteens", response={200: list[CanteenOut], **ERRORS})
def canteen_list(request: HttpRequest) -> list[CanteenOut]:
    user = _reader(request)
    return [_canteen_out(c) for c in access.visible_canteens(user).order_by("community", "name")]


@router.post("/meals/canteens", response={201: CanteenOut, **ERRORS})
def canteen_create(request: HttpRequest, payload: CanteenIn) -> Status[CanteenOut]:
    user = _manager(request)
    community = _community(user, payload.community)
    canteen = actions.canteen_save(
        actor=user,
        community=community,
        name=payload.name,
        address=payload.address,
        capacity=payload.capacity,
        is_active=payload.is_active,
    )
    return Status(201, _canteen_out(canteen))


@router.put("/meals/canteens/{canteen_id}", response={200: CanteenOut, **ERRORS})
def canteen_update(request: HttpRequest, canteen_id: int, payload: CanteenIn) -> CanteenOut:
    user = _manager(request)
    canteen = access.get_canteen_for(user, canteen_id)
    saved = actions.canteen_save(
        actor=user,
        community=canteen.community,
        name=payload.name,
        address=payload.address,
        capacity=payload.capacity,
        is_active=payload.is_active,
        canteen=canteen,
    )
    return _canteen_out(saved)


# --- enrolments -----------------------------------------------------------------------------


class EnrolmentOut(Schema):
    id: int
    resident_id: int
    resident_name: str
    address: str
    canteen_id: int
    canteen: str
    meals: list[str] = Field(description="lunch 午餐、dinner 晚餐")
    diets: list[str] = Field(description=DIETS_HELP)
    diet_labels: list[str]
    diet_notes: str
    starts_on: dt.date
    ends_on: dt.date | None
    end_reason: str


def _enrolment_out(e: MealEnrolment) -> EnrolmentOut:
    return EnrolmentOut(
        id=e.pk,
        resident_id=e.resident_id,
        resident_name=e.resident.name,
        address=e.resident.household.address,
        canteen_id=e.canteen_id,
        canteen=e.canteen.name,
        meals=e.meals,
        diets=list(e.diets),
        diet_labels=e.diet_labels,
        diet_notes=e.diet_notes or "",
        starts_on=e.starts_on,
        ends_on=e.ends_on,
        end_reason=e.end_reason,
    )


class EnrolmentQuery(PageQuery):
    canteen_id: int | None = None
    resident_id: int | None = None
    active_on: dt.date | None = Field(None, description="只列这一天在用餐的")


class EnrolmentIn(InputSchema):
    canteen_id: int
    meals: list[Meal] = Field(description="lunch 午餐、dinner 晚餐（至少一个）")
    diets: list[Diet] = Field(default_factory=list, description=DIETS_HELP)
    diet_notes: str = Field("", max_length=500, description="饮食备注")
    starts_on: dt.date | None = Field(None, description="开始日期（默认今天）")
    ends_on: dt.date | None = Field(None, description="结束日期（空：长期）")


class EnrolmentCreateIn(EnrolmentIn):
    resident_id: int


class EndIn(InputSchema):
    ends_on: dt.date = Field(description="最后一天用餐的日期")
    reason: str = Field(max_length=200, description="结束原因")


def _enrolment_input(user: User, payload: EnrolmentIn) -> actions.EnrolmentInput:
    return actions.EnrolmentInput(
        canteen=_canteen(user, payload.canteen_id),
        starts_on=_today(payload.starts_on),
        ends_on=payload.ends_on,
        lunch=Meal.LUNCH in payload.meals,
        dinner=Meal.DINNER in payload.meals,
        diets=[d.value for d in payload.diets],
        diet_notes=payload.diet_notes,
    )


ENROLMENT_FIELDS = {"canteen": "canteen_id", "resident": "resident_id"}


@router.get("/meals/enrolments", response={200: Page[EnrolmentOut], **ERRORS})
def enrolment_list(request: HttpRequest, query: Query[EnrolmentQuery]) -> Page[EnrolmentOut]:
    user = _reader(request)
    found = access.visible_enrolments(user).order_by("canteen_id", "resident__household__address")
    if query.canteen_id is not None:
        found = found.filter(canteen_id=query.canteen_id)
    if query.resident_id is not None:
        found = found.filter(resident_id=query.resident_id)
    if query.active_on is not None:
        day = query.active_on
        found = found.filter(starts_on__lte=day).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=day)
        )
    return page_of(found, query, _enrolment_out)


@router.post("/meals/enrolments", response={201: EnrolmentOut, **ERRORS})
def enrolment_create(request: HttpRequest, payload: EnrolmentCreateIn) -> Status[EnrolmentOut]:
    """Enrol a resident the policy covers on the first day."""
    user = _manager(request)
    resident = _resident(user, payload.resident_id)
    data = _enrolment_input(user, payload)
    with fields_renamed(**ENROLMENT_FIELDS):
        enrolment = actions.enrolment_create(actor=user, resident=resident, data=data)
    return Status(201, _enrolment_out(access.get_enrolment_for(user, enrolment.pk)))


@router.put("/meals/enrolments/{enrolment_id}", response={200: EnrolmentOut, **ERRORS})
def enrolment_update(request: HttpRequest, enrolment_id: int, payload: EnrolmentIn) -> EnrolmentOut:
    user = _manager(request)
    enrolment = access.get_enrolment_for(user, enrolment_id)
    data = _enrolment_input(user, payload)
    with fields_renamed(**ENROLMENT_FIELDS):
        actions.enrolment_update(actor=user, enrolment=enrolment, data=data)
    return _enrolment_out(access.get_enrolment_for(user, enrolment_id))


@router.post("/meals/enrolments/{enrolment_id}/end", response={200: EnrolmentOut, **ERRORS})
def enrolment_end(request: HttpRequest, enrolment_id: int, payload: EndIn) -> EnrolmentOut:
    user = _manager(request)
    enrolment = access.get_enrolment_for(user, enrolment_id)
    actions.enrolment_end(
        actor=user, enrolment=enrolment, ends_on=payload.ends_on, reason=payload.reason
    )
    return _enrolment_out(access.get_enrolment_for(user, enrolment_id))


# --- the day's list -------------------------------------------------------------------------


class CountOut(Schema):
    diet: str = Field(description="regular 普通餐，或饮食要求代码以 + 连接")
    label: str
    lunch: int
    dinner: int


class DailyRowOut(Schema):
    enrolment_id: int
    resident_id: int
    name: str
    address: str
    meals: list[str]
    diet: str
    diet_label: str
    diet_notes: str
    lunch: str | None = Field(description="午餐结果：delivered / missed / null 未登记")
    dinner: str | None = Field(description="晚餐结果")


class GroupOut(Schema):
    name: str
    lunch: int
    dinner: int
    counts: list[CountOut]


class DailyOut(Schema):
    canteen_id: int
    canteen: str
    day: dt.date
    lunch: int
    dinner: int
    delivered: int
    missed: int
    counts: list[CountOut]
    compounds: list[GroupOut]
    buildings: list[GroupOut]
    rows: list[DailyRowOut]
    not_living: list[DailyRowOut] = Field(description="已登记但不在住（不送餐，请核实后结束登记）")


class DailyQuery(Schema):
    canteen_id: int
    day: dt.date | None = Field(None, description="日期（默认今天）")


def _group_out(group: Group) -> GroupOut:
    return GroupOut(
        name=group.name,
        lunch=group.lunch,
        dinner=group.dinner,
        counts=[
            CountOut(diet=c.diet_key, label=c.label, lunch=c.lunch, dinner=c.dinner)
            for c in group.counts
        ],
    )


def _row_out(row: DailyRow) -> DailyRowOut:
    lunch = row.lunch_outcome
    dinner = row.dinner_outcome
    return DailyRowOut(
        enrolment_id=row.enrolment.pk,
        resident_id=row.resident.pk,
        name=row.resident.name,
        address=row.address,
        meals=row.meals,
        diet=row.diet_key,
        diet_label=row.diet_label,
        diet_notes=row.enrolment.diet_notes or "",
        lunch=lunch.status if lunch else None,
        dinner=dinner.status if dinner else None,
    )


def daily_out(listed: DailyList) -> DailyOut:
    return DailyOut(
        canteen_id=listed.canteen.pk,
        canteen=listed.canteen.name,
        day=listed.day,
        lunch=listed.lunch,
        dinner=listed.dinner,
        delivered=listed.delivered,
        missed=listed.missed,
        counts=[
            CountOut(diet=c.diet_key, label=c.label, lunch=c.lunch, dinner=c.dinner)
            for c in listed.counts
        ],
        compounds=[_group_out(g) for g in listed.compounds],
        buildings=[_group_out(g) for g in listed.buildings],
        rows=[_row_out(r) for r in listed.rows],
        not_living=[_row_out(r) for r in listed.not_living],
    )


@router.get("/meals/daily", response={200: DailyOut, **ERRORS})
def daily(request: HttpRequest, query: Query[DailyQuery]) -> DailyOut:
    """One canteen's list for a day: counts by diet, by compound and building, and who."""
    user = _reader(request)
    canteen = access.get_canteen_for(user, query.canteen_id)
    return daily_out(daily_list(canteen, _today(query.day)))


class MealDayIn(InputSchema):
    canteen_id: int
    day: dt.date | None = Field(None, description="日期（默认今天）")
    meal: Meal


class TasksOut(Schema):
    created: list[int] = Field(description="新建的任务 id（每栋楼一个）")
    existing: list[int] = Field(description="此前已建的任务 id")


@router.post("/meals/daily/tasks", response={200: TasksOut, **ERRORS})
def daily_tasks(request: HttpRequest, payload: MealDayIn) -> TasksOut:
    """Door-to-door delivery tasks, one per building (running it again adds only new ones)."""
    user = _recorder(request)
    canteen = _canteen(user, payload.canteen_id)
    day = _today(payload.day)
    created = actions.delivery_tasks_create(
        actor=user, canteen=canteen, day=day, meal=payload.meal.value
    )
    new = {link.task_id for link in created}
    every = canteen.delivery_tasks.filter(day=day, meal=payload.meal.value).values_list(
        "task_id", flat=True
    )
    return TasksOut(created=sorted(new), existing=sorted(set(every) - new))


class OutcomeOut(Schema):
    delivered: int
    missed: int
    unchanged: int


@router.post("/meals/daily/rest-delivered", response={200: OutcomeOut, **ERRORS})
def daily_rest_delivered(request: HttpRequest, payload: MealDayIn) -> OutcomeOut:
    """Everyone on the list not yet recorded for this meal: delivered."""
    user = _recorder(request)
    canteen = _canteen(user, payload.canteen_id)
    outcome = actions.deliveries_record_rest(
        actor=user, canteen=canteen, day=_today(payload.day), meal=payload.meal.value
    )
    return OutcomeOut(delivered=outcome.delivered, missed=outcome.missed, unchanged=0)


@router.post("/meals/daily/from-tasks", response={200: OutcomeOut, **ERRORS})
def daily_from_tasks(request: HttpRequest, payload: MealDayIn) -> OutcomeOut:
    """Record the meal from its delivery tasks' doors (failed door: missed, with the reason)."""
    user = _recorder(request)
    canteen = _canteen(user, payload.canteen_id)
    outcome = actions.deliveries_from_tasks(
        actor=user, canteen=canteen, day=_today(payload.day), meal=payload.meal.value
    )
    return OutcomeOut(
        delivered=outcome.delivered, missed=outcome.missed, unchanged=outcome.unchanged
    )


class DeliveryIn(InputSchema):
    enrolment_id: int
    day: dt.date | None = Field(None, description="日期（默认今天）")
    meal: Meal
    status: DeliveryStatus = Field(description="delivered 已送达、missed 未送达")
    reason: str = Field("", max_length=200, description="未送达原因（未送达时必填）")


class DeliveryOut(Schema):
    id: int
    enrolment_id: int
    resident_id: int
    day: dt.date
    meal: str
    status: str
    status_label: str
    reason: str
    check_in_id: int | None = Field(description="未送达时发起的关爱回访 id")
    recorded_at: dt.datetime


@router.post("/meals/deliveries", response={200: DeliveryOut, **ERRORS})
def delivery_record(request: HttpRequest, payload: DeliveryIn) -> DeliveryOut:
    """One meal delivered or missed; a miss asks the grid worker for a care call."""
    user = _recorder(request)
    try:
        enrolment = access.get_enrolment_for(user, payload.enrolment_id)
    except Http404:
        raise ValidationError(
            {
                "enrolment_id": [
                    _("登记 %(id)s 不存在或不在您的管辖范围内") % {"id": payload.enrolment_id}
                ]
            }
        ) from None
    d = actions.delivery_record(
        actor=user,
        enrolment=enrolment,
        day=_today(payload.day),
        meal=payload.meal.value,
        status=payload.status.value,
        reason=payload.reason,
    )
    return DeliveryOut(
        id=d.pk,
        enrolment_id=d.enrolment_id,
        resident_id=d.resident_id,
        day=d.day,
        meal=d.meal,
        status=d.status,
        status_label=d.get_status_display(),
        reason=d.reason,
        check_in_id=d.check_in_id,
        recorded_at=timezone.localtime(d.recorded_at),
    )


# --- figures --------------------------------------------------------------------------------


class FiguresQuery(Schema):
    since: dt.date | None = Field(None, description="从（默认 7 天前）")
    until: dt.date | None = Field(None, description="至（默认今天）")


class DayOut(Schema):
    day: dt.date
    planned_lunch: int
    planned_dinner: int
    delivered: int
    missed: int


class FiguresOut(Schema):
    since: dt.date
    until: dt.date
    planned: int = Field(description="应送餐数")
    delivered: int = Field(description="已送达餐数")
    missed: int = Field(description="未送达餐数")
    people_served: int = Field(description="期间至少送达一餐的人数")
    enrolled: int = Field(description="期间登记用餐的人数")
    days: list[DayOut]


MAX_FIGURE_DAYS = 366


def figures_range(since: dt.date | None, until: dt.date | None) -> tuple[dt.date, dt.date]:
    until = until or timezone.localdate()
    since = since or until - dt.timedelta(days=6)
    if since > until:
        raise ValidationError({"since": [_("开始日期不能晚于结束日期")]})
    if (until - since).days >= MAX_FIGURE_DAYS:
        raise ValidationError({"since": [_("一次最多统计 %(n)s 天") % {"n": MAX_FIGURE_DAYS}]})
    return since, until


@router.get("/meals/figures", response={200: FiguresOut, **ERRORS})
def figures(request: HttpRequest, query: Query[FiguresQuery]) -> FiguresOut:
    """Meals per day (planned, delivered, missed) and people served in the area."""
    user = _reader(request)
    since, until = figures_range(query.since, query.until)
    found = meal_figures(
        access.visible_enrolments(user), access.visible_deliveries(user), since, until
    )
    return FiguresOut(
        since=since,
        until=until,
        planned=found.planned,
        delivered=found.delivered,
        missed=found.missed,
        people_served=found.people_served,
        enrolled=found.enrolled,
        days=[
            DayOut(
                day=d.day,
                planned_lunch=d.planned_lunch,
                planned_dinner=d.planned_dinner,
                delivered=d.delivered,
                missed=d.missed,
            )
            for d in found.days
        ],
    )
