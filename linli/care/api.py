"""关爱回访 in the REST API (errors: linli/api.py): plans, the day's worklist, outcomes with
undo, extra check-ins, escalation of one check-in, coverage and the community's rules.

Operations parse, check access (care/access.py: 403 for a role that may not, 404 outside
the area) and call the actions. Phones leave masked, except through the audited reveal.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.api import api_user
from linli.accounts.models import User
from linli.care import access, actions
from linli.care.choices import (
    Channel,
    CheckInStatus,
    FollowUp,
    Outcome,
    PlanKind,
    PlanStatus,
)
from linli.care.figures import coverage
from linli.care.models import CarePlan, CareSettings, CheckIn
from linli.lib import rest
from linli.lib.rest import ERRORS, InputSchema, Page, PageQuery, fields_renamed, local_time, page_of
from linli.registry import access as registry_access
from linli.registry.choices import CareTag
from linli.registry.models import CareTagAssignment, Community, Resident
from linli.registry.scope import area_for

router = Router(tags=["关爱回访"])


def _reader(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_see_care(user), _("您的角色无权查看关爱回访"))
    return user


def _worker(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_work_care(user), _("只有网格员和社区工作人员可以进行关爱回访"))
    return user


def _manager(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_manage_care(user), _("只有社区工作人员可以进行此操作"))
    return user


def _owner(user: User, owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    found = access.possible_owners(area_for(user).communities).filter(pk=owner_id).first()
    if found is None:
        raise rest_error("owner_id", _("负责人须是本社区的网格员或社区工作人员"))
    return found


def rest_error(field: str, message: str) -> Exception:
    from django.core.exceptions import ValidationError

    return ValidationError({field: [message]})


# --- plans ----------------------------------------------------------------------------------


class PlanIn(InputSchema):
    kind: PlanKind = Field(PlanKind.CALL, description="call 电话问候、visit 定期上门、两者")
    call_every_days: int = Field(1, ge=1, le=31, description="每几天电话一次")
    visit_every_days: int = Field(7, ge=1, le=90, description="每几天上门一次")
    channel: Channel = Field(Channel.PHONE, description="phone、visit、wechat_video")
    owner_id: int | None = Field(None, description="负责人账号 id；不填为住户所在网格的网格员")
    preferred_time: dt.time | None = Field(None, description="方便联系的时间，如 09:30")
    starts_on: dt.date | None = Field(None, description="开始日期（每 N 天从这天算起）")
    notes: str = Field("", max_length=2000)


class PlanCreateIn(PlanIn):
    resident_id: int


class BulkIn(PlanIn):
    community: str | None = Field(None, description="社区编码（管辖一个社区时可省略）")
    tags: list[CareTag] = Field(min_length=1, description="为带这些标签的台账居民建立计划")


class BulkOut(Schema):
    created: int
    skipped: int = Field(description="已有计划、未改动的人数")


class PlanOut(Schema):
    id: int
    resident_id: int
    resident_name: str
    address: str
    kind: str
    kind_label: str
    call_every_days: int
    visit_every_days: int
    schedule: str
    channel: str
    owner_id: int | None
    owner_name: str
    preferred_time: dt.time | None
    starts_on: dt.date
    status: str
    status_label: str
    pause_reason: str
    paused_at: dt.datetime | None
    notes: str
    updated_at: dt.datetime


class PlanQuery(PageQuery):
    q: str | None = Field(None, max_length=64, description="姓名、拼音、手机尾号、地址")
    grid_id: int | None = None
    status: PlanStatus | None = None
    tag: CareTag | None = None


class ReasonIn(InputSchema):
    reason: str = Field(max_length=200, description="原因")


def _plan_out(plan: CarePlan) -> PlanOut:
    return PlanOut(
        id=plan.pk,
        resident_id=plan.resident_id,
        resident_name=plan.resident.name,
        address=plan.resident.household.address,
        kind=plan.kind,
        kind_label=plan.get_kind_display(),
        call_every_days=plan.call_every_days,
        visit_every_days=plan.visit_every_days,
        schedule=plan.schedule_label,
        channel=plan.channel,
        owner_id=plan.owner_id,
        owner_name=str(plan.owner) if plan.owner else "",
        preferred_time=plan.preferred_time,
        starts_on=plan.starts_on,
        status=plan.status,
        status_label=plan.get_status_display(),
        pause_reason=plan.pause_reason,
        paused_at=local_time(plan.paused_at),
        notes=plan.notes,
        updated_at=timezone.localtime(plan.updated_at),
    )


def _plan_input(user: User, payload: PlanIn) -> actions.PlanInput:
    return actions.PlanInput(
        kind=payload.kind.value,
        call_every_days=payload.call_every_days,
        visit_every_days=payload.visit_every_days,
        channel=payload.channel.value,
        owner=_owner(user, payload.owner_id),
        preferred_time=payload.preferred_time,
        starts_on=payload.starts_on,
        notes=payload.notes,
    )


@router.get("/care/plans", response={200: Page[PlanOut], **ERRORS})
def plan_list(request: HttpRequest, query: Query[PlanQuery]) -> Page[PlanOut]:
    """Care plans of the user's area (a grid worker: their grids)."""
    user = _reader(request)
    plans = access.visible_plans(user)
    if query.q:
        plans = plans.filter(resident__in=Resident.objects.search(query.q))
    if query.grid_id is not None:
        plans = plans.filter(resident__household__grid_id=query.grid_id)
    if query.status is not None:
        plans = plans.filter(status=query.status.value)
    if query.tag is not None:
        tagged = CareTagAssignment._base_manager.filter(
            resident_id=OuterRef("resident_id"), tag=query.tag.value
        )
        plans = plans.filter(Exists(tagged))
    return page_of(plans.order_by("resident__household__address", "pk"), query, _plan_out)


@router.post("/care/plans/bulk", response={200: BulkOut, **ERRORS})
def plan_bulk(request: HttpRequest, payload: BulkIn) -> BulkOut:
    """The same plan for every register resident of the community with any of the tags."""
    user = _manager(request)
    community = _community(user, payload.community)
    with fields_renamed(owner="owner_id"):
        result = actions.plans_bulk_create(
            actor=user,
            community=community,
            tags=[t.value for t in payload.tags],
            data=_plan_input(user, payload),
        )
    return BulkOut(created=result.created, skipped=result.skipped)


@router.get("/care/plans/{plan_id}", response={200: PlanOut, **ERRORS})
def plan_detail(request: HttpRequest, plan_id: int) -> PlanOut:
    return _plan_out(access.get_plan_for(_reader(request), plan_id))


@router.post("/care/plans", response={201: PlanOut, **ERRORS})
def plan_create(request: HttpRequest, payload: PlanCreateIn) -> Status[PlanOut]:
    """A plan for one register resident (today's check-in is made at once if due)."""
    user = _worker(request)
    try:
        resident = registry_access.get_resident_for(user, payload.resident_id)
    except Http404:
        raise rest_error("resident_id", _("居民不存在或不在您的管辖范围内")) from None
    with fields_renamed(resident="resident_id", owner="owner_id"):
        plan = actions.plan_save(actor=user, resident=resident, data=_plan_input(user, payload))
    return Status(201, _plan_out(access.get_plan_for(user, plan.pk)))


@router.put("/care/plans/{plan_id}", response={200: PlanOut, **ERRORS})
def plan_update(request: HttpRequest, plan_id: int, payload: PlanIn) -> PlanOut:
    """Change a plan (every field; those left out take their defaults)."""
    user = _worker(request)
    plan = access.get_plan_for(user, plan_id)
    with fields_renamed(owner="owner_id"):
        actions.plan_save(
            actor=user, resident=plan.resident, data=_plan_input(user, payload), plan=plan
        )
    return _plan_out(access.get_plan_for(user, plan_id))


@router.post("/care/plans/{plan_id}/pause", response={200: PlanOut, **ERRORS})
def plan_pause(request: HttpRequest, plan_id: int, payload: ReasonIn) -> PlanOut:
    user = _worker(request)
    plan = access.get_plan_for(user, plan_id)
    actions.plan_pause(actor=user, plan=plan, reason=payload.reason)
    return _plan_out(access.get_plan_for(user, plan_id))


@router.post("/care/plans/{plan_id}/resume", response={200: PlanOut, **ERRORS})
def plan_resume(request: HttpRequest, plan_id: int) -> PlanOut:
    user = _worker(request)
    plan = access.get_plan_for(user, plan_id)
    actions.plan_resume(actor=user, plan=plan)
    return _plan_out(access.get_plan_for(user, plan_id))


def _community(user: User, code: str | None) -> Community:
    if code:
        try:
            return registry_access.get_community_for(user, code)
        except Http404:
            raise rest_error(
                "community", _("社区“%(c)s”不存在或不在您的管辖范围内") % {"c": code}
            ) from None
    communities = area_for(user).communities
    if communities is not None and len(communities) == 1:
        return Community.objects.get(pk=communities[0])
    raise rest_error("community", _("请填写社区编码"))


# --- check-ins ------------------------------------------------------------------------------


class AttemptOut(Schema):
    at: dt.datetime
    by: str
    channel: str
    outcome: str
    outcome_label: str
    note: str
    undone_at: dt.datetime | None


class StepOut(Schema):
    step: str
    step_label: str
    at: dt.datetime
    by: str = Field(description="操作人；空为系统自动")
    task_id: int | None
    messages_sent: int
    note: str


class CheckInOut(Schema):
    id: int
    due: dt.date
    resident_id: int
    resident_name: str
    age: int | None
    address: str
    phone_masked: str = Field(description="手机号（已隐藏）；拨号请用 reveal-phone（留痕）")
    tags: list[str]
    grid_id: int | None
    owner_id: int | None
    kind: str
    source: str
    reason: str
    channel: str
    preferred_time: dt.time | None
    status: str
    status_label: str
    retry_at: dt.datetime | None = Field(description="未联系上：此时间后再拨")
    reached_at: dt.datetime | None
    follow_up: str
    ticket_id: int | None
    needs: str
    escalated_at: dt.datetime | None
    attempts: list[AttemptOut]
    escalations: list[StepOut]


def _check_in_out(check_in: CheckIn) -> CheckInOut:
    resident = check_in.resident
    tags = getattr(resident, "tag_list", None)
    if tags is None:
        tags = list(CareTagAssignment._base_manager.filter(resident=resident).order_by("tag"))
    attempts = getattr(check_in, "attempt_list", None)
    if attempts is None:
        attempts = list(check_in.attempts.select_related("by").order_by("at", "pk"))
    steps = getattr(check_in, "step_list", None)
    if steps is None:
        steps = list(check_in.escalations.select_related("by").order_by("at", "pk"))
    return CheckInOut(
        id=check_in.pk,
        due=check_in.due,
        resident_id=resident.pk,
        resident_name=resident.name,
        age=resident.age,
        address=resident.household.address,
        phone_masked=resident.masked_phone,
        tags=[t.tag for t in tags],
        grid_id=check_in.grid_id,
        owner_id=check_in.owner_id,
        kind=check_in.kind,
        source=check_in.source,
        reason=check_in.reason,
        channel=check_in.channel,
        preferred_time=check_in.preferred_time,
        status=check_in.status,
        status_label=check_in.get_status_display(),
        retry_at=local_time(check_in.retry_at),
        reached_at=local_time(check_in.reached_at),
        follow_up=check_in.follow_up,
        ticket_id=check_in.ticket_id,
        needs=check_in.needs,
        escalated_at=local_time(check_in.escalated_at),
        attempts=[
            AttemptOut(
                at=timezone.localtime(a.at),
                by=str(a.by) if a.by else "",
                channel=a.channel,
                outcome=a.outcome,
                outcome_label=a.get_outcome_display(),
                note=a.note,
                undone_at=local_time(a.undone_at),
            )
            for a in attempts
        ],
        escalations=[
            StepOut(
                step=e.step,
                step_label=e.get_step_display(),
                at=timezone.localtime(e.at),
                by=str(e.by) if e.by else "",
                task_id=e.task_id,
                messages_sent=e.messages_sent,
                note=e.note,
            )
            for e in steps
        ],
    )


class WorklistQuery(Schema):
    day: dt.date | None = Field(None, description="日期；默认今天（今天的名单在此时生成）")
    mine: bool = Field(False, description="只看我负责的（及未指定负责人的）")
    grid_id: int | None = None
    status: CheckInStatus | None = None


@router.get("/care/worklist", response={200: list[CheckInOut], **ERRORS})
def worklist(request: HttpRequest, query: Query[WorklistQuery]) -> list[CheckInOut]:
    """The check-ins of a day in the user's area, in worklist order."""
    user = _reader(request)
    today = timezone.localdate()
    day = query.day or today
    if day == today:
        actions.worklist_generate(today, communities=area_for(user).communities)
    check_ins = access.visible_check_ins(user).filter(due=day)
    if query.mine:
        check_ins = check_ins.filter(Q(owner=user) | Q(owner__isnull=True))
    if query.grid_id is not None:
        check_ins = check_ins.filter(grid_id=query.grid_id)
    if query.status is not None:
        check_ins = check_ins.filter(status=query.status.value)
    rows = access.with_details(
        check_ins.order_by("preferred_time", "resident__household__address", "pk")
    )
    return [_check_in_out(c) for c in rows]


class GenerateIn(InputSchema):
    day: dt.date | None = Field(None, description="日期；默认今天")


class GenerateOut(Schema):
    created: int


@router.post("/care/worklist/generate", response={200: GenerateOut, **ERRORS})
def worklist_generate(request: HttpRequest, payload: GenerateIn) -> GenerateOut:
    """Make a day's check-ins for the user's communities now (idempotent)."""
    user = _manager(request)
    day = payload.day or timezone.localdate()
    created = actions.worklist_generate(day, communities=area_for(user).communities)
    return GenerateOut(created=created)


@router.get("/care/check-ins/{check_in_id}", response={200: CheckInOut, **ERRORS})
def check_in_detail(request: HttpRequest, check_in_id: int) -> CheckInOut:
    return _check_in_out(access.get_check_in_for(_reader(request), check_in_id))


class RequestIn(InputSchema):
    resident_id: int
    reason: str = Field(max_length=200, description="加访原因")
    due: dt.date | None = Field(None, description="日期；默认今天")


@router.post("/care/check-ins", response={201: CheckInOut, **ERRORS})
def check_in_request(request: HttpRequest, payload: RequestIn) -> Status[CheckInOut]:
    """An extra call (加访) on the resident's grid worker's worklist."""
    user = _worker(request)
    try:
        resident = registry_access.get_resident_for(user, payload.resident_id)
    except Http404:
        raise rest_error("resident_id", _("居民不存在或不在您的管辖范围内")) from None
    with fields_renamed(resident="resident_id"):
        check_in = actions.check_in_request(
            user, resident=resident, reason=payload.reason, due=payload.due
        )
    return Status(201, _check_in_out(access.get_check_in_for(user, check_in.pk)))


class OutcomeIn(InputSchema):
    outcome: Outcome = Field(description="fine 平安、needs 有需求、unreached 未联系上")
    channel: Channel | None = Field(None, description="默认为计划的渠道")
    note: str = Field("", max_length=500)
    needs: str = Field("", max_length=2000, description="有需求时必填")
    follow_up: FollowUp | Literal[""] = Field(
        "", description="有需求时必填：ticket 生成工单、proxy_order 代下单"
    )


@router.post("/care/check-ins/{check_in_id}/outcome", response={200: CheckInOut, **ERRORS})
def check_in_outcome(request: HttpRequest, check_in_id: int, payload: OutcomeIn) -> CheckInOut:
    """Record one attempt. needs + ticket makes a hotline ticket in the same step."""
    user = _worker(request)
    check_in = access.get_check_in_for(user, check_in_id)
    actions.check_in_record(
        actor=user,
        check_in=check_in,
        outcome=payload.outcome.value,
        channel=payload.channel.value if payload.channel else "",
        note=payload.note,
        needs=payload.needs,
        follow_up=str(payload.follow_up),
    )
    return _check_in_out(access.get_check_in_for(user, check_in_id))


@router.post("/care/check-ins/{check_in_id}/undo", response={200: CheckInOut, **ERRORS})
def check_in_undo(request: HttpRequest, check_in_id: int) -> CheckInOut:
    """Take back one's own last outcome within a few minutes."""
    user = _worker(request)
    actions.check_in_undo(actor=user, check_in=access.get_check_in_for(user, check_in_id))
    return _check_in_out(access.get_check_in_for(user, check_in_id))


@router.post("/care/check-ins/{check_in_id}/escalate", response={200: CheckInOut, **ERRORS})
def check_in_escalate(request: HttpRequest, check_in_id: int) -> CheckInOut:
    """Escalate now (door visit, emergency contacts, staff) without waiting for the hour."""
    user = _worker(request)
    actions.check_in_escalate(actor=user, check_in=access.get_check_in_for(user, check_in_id))
    return _check_in_out(access.get_check_in_for(user, check_in_id))


class PhoneOut(Schema):
    phone: str


@router.post("/care/check-ins/{check_in_id}/reveal-phone", response={200: PhoneOut, **ERRORS})
def check_in_reveal_phone(request: HttpRequest, check_in_id: int) -> PhoneOut:
    """The resident's full number to dial; recorded in the resident's audit history."""
    user = _reader(request)
    check_in = access.get_check_in_for(user, check_in_id)
    return PhoneOut(phone=actions.check_in_reveal_phone(actor=user, check_in=check_in))


# --- coverage and settings ------------------------------------------------------------------


class CoverageQuery(Schema):
    since: dt.date | None = Field(None, description="默认为 until 之前 6 天")
    until: dt.date | None = Field(None, description="默认今天")


class CoverageOut(Schema):
    day: dt.date | None = Field(description="空：区间合计")
    grid_id: int | None
    grid: str
    planned: int
    reached: int
    not_reached: int
    escalated: int
    percent: float | None


@router.get("/care/coverage", response={200: list[CoverageOut], **ERRORS})
def coverage_list(request: HttpRequest, query: Query[CoverageQuery]) -> list[CoverageOut]:
    """Per grid per day, then per grid over the range: planned, reached, not, escalated, %."""
    user = _reader(request)
    until = query.until or timezone.localdate()
    since = query.since or until - dt.timedelta(days=6)
    if since > until:
        raise rest_error("until", _("结束日期不能早于开始日期"))
    if (until - since).days > 92:
        raise rest_error("until", _("一次最多查看 93 天"))
    return [
        CoverageOut(
            day=r.day,
            grid_id=r.grid_id,
            grid=r.grid,
            planned=r.planned,
            reached=r.reached,
            not_reached=r.not_reached,
            escalated=r.escalated,
            percent=r.percent,
        )
        for r in coverage(access.visible_check_ins(user), since, until)
    ]


class SettingsIn(InputSchema):
    retry_minutes: int = Field(ge=5, le=480, description="未接通后多久再拨（分钟）")
    escalate_at: dt.time = Field(description="几点仍未联系上即升级，如 16:00")


class SettingsOut(Schema):
    community: str
    retry_minutes: int
    escalate_at: dt.time


def _settings_out(found: CareSettings, code: str) -> SettingsOut:
    return SettingsOut(
        community=code, retry_minutes=found.retry_minutes, escalate_at=found.escalate_at
    )


@router.get("/care/settings/{community_code}", response={200: SettingsOut, **ERRORS})
def settings_detail(request: HttpRequest, community_code: str) -> SettingsOut:
    user = _reader(request)
    community = registry_access.get_community_for(user, community_code)
    return _settings_out(CareSettings.for_community(community.pk), community.code)


@router.put("/care/settings/{community_code}", response={200: SettingsOut, **ERRORS})
def settings_update(request: HttpRequest, community_code: str, payload: SettingsIn) -> SettingsOut:
    user = _manager(request)
    community = registry_access.get_community_for(user, community_code)
    found = actions.care_settings_set(
        actor=user,
        community=community,
        retry_minutes=payload.retry_minutes,
        escalate_at=payload.escalate_at,
    )
    return _settings_out(found, community.code)
