"""Campaigns in the REST API (errors: linli/api.py): campaigns, rounds, sampling points,
exemptions, the import of the testing system's export, completion, the sweep list (masked
phones; reveal is audited), door service and the tasks made from them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from linli.accounts.api import api_user
from linli.accounts.models import User
from linli.campaigns import access, actions, reconcile
from linli.campaigns.choices import CampaignKind, ExemptionReason
from linli.campaigns.models import (
    Campaign,
    CampaignRound,
    Exemption,
    SampleImport,
    SampleRecord,
    SamplingPoint,
)
from linli.lib import rest
from linli.lib.rest import ERRORS, InputSchema, Page, PageQuery, local_time, page_of, pick
from linli.registry import access as registry_access
from linli.registry.models import Resident

router = Router(tags=["普查与核酸"])


def _reader(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_see_campaigns(user), _("您的角色无权查看普查与核酸"))
    return user


def _manager(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_manage_campaigns(user), _("您的角色无权管理普查与核酸活动"))
    return user


def _may_manage(user: User, campaign: Campaign) -> None:
    rest.require(access.may_manage(user, campaign), _("您的角色无权管理此活动"))


# --- campaigns --------------------------------------------------------------------------


class CampaignOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    street: str
    community: str | None = Field(description="社区编码；全街道活动为空")
    notes: str
    column_mapping: dict[str, str] = Field(description="导入时各字段对应的列名（首次导入后记住）")
    rounds: list[int]
    created_at: dt.datetime | None


def _campaign_out(c: Campaign) -> CampaignOut:
    return CampaignOut(
        id=c.pk,
        name=c.name,
        kind=c.kind,
        kind_label=str(c.get_kind_display()),
        street=c.street.code,
        community=c.community.code if c.community else None,
        notes=c.notes,
        column_mapping=c.column_mapping or {},
        rounds=[r.pk for r in c.rounds.order_by("number")],
        created_at=local_time(c.created_at),
    )


class CampaignIn(InputSchema):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["mass_testing", "census", "vaccination"] = Field(
        description="、".join(f"{k.value}（{k.label}）" for k in CampaignKind)
    )
    community: str | None = Field(None, description="社区编码；街道管理员可留空表示全街道")
    notes: str = Field("", max_length=2000)


@router.get("/campaigns", response={200: Page[CampaignOut], **ERRORS})
def campaign_list(request: HttpRequest, query: Query[PageQuery]) -> Page[CampaignOut]:
    user = _reader(request)
    return page_of(access.visible_campaigns(user).order_by("-pk"), query, _campaign_out)


@router.post("/campaigns", response={201: CampaignOut, **ERRORS})
def campaign_create(request: HttpRequest, payload: CampaignIn) -> Status[CampaignOut]:
    user = _manager(request)
    community = None
    if payload.community:
        try:
            community = registry_access.get_community_for(user, payload.community)
        except Exception:
            raise ValidationError(
                {
                    "community": [
                        _("社区“%(code)s”不存在或不在您的管辖范围内") % {"code": payload.community}
                    ]
                }
            ) from None
        street = community.street
    else:
        rest.require(
            user.is_superuser or user.role == "street_admin", _("只有街道管理员能创建全街道活动")
        )
        area = getattr(user, "area", None)
        if area is None or area.street is None:
            raise ValidationError({"community": [_("请填写社区编码")]})
        street = area.street
    campaign = actions.campaign_create(
        actor=user,
        street=street,
        community=community,
        name=payload.name,
        kind=payload.kind,
        notes=payload.notes,
    )
    return Status(201, _campaign_out(campaign))


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS})
def campaign_detail(request: HttpRequest, campaign_id: int) -> CampaignOut:
    user = _reader(request)
    return _campaign_out(access.get_campaign_for(user, campaign_id))


# --- rounds and points ------------------------------------------------------------------


class RoundOut(Schema):
    id: int
    campaign: int
    number: int
    date: dt.date
    opens_at: dt.time
    closes_at: dt.time
    notes: str


def _round_out(r: CampaignRound) -> RoundOut:
    return RoundOut(
        id=r.pk,
        campaign=r.campaign_id,
        number=r.number,
        date=r.date,
        opens_at=r.opens_at,
        closes_at=r.closes_at,
        notes=r.notes,
    )


class RoundIn(InputSchema):
    date: dt.date
    opens_at: dt.time = dt.time(7, 30)
    closes_at: dt.time = dt.time(11, 30)
    notes: str = Field("", max_length=200)


@router.post("/campaigns/{campaign_id}/rounds", response={201: RoundOut, **ERRORS})
def round_create(request: HttpRequest, campaign_id: int, payload: RoundIn) -> Status[RoundOut]:
    user = _manager(request)
    campaign = access.get_campaign_for(user, campaign_id)
    _may_manage(user, campaign)
    new = actions.round_create(actor=user, campaign=campaign, **payload.dict())
    return Status(201, _round_out(new))


@router.get("/campaign-rounds/{round_id}", response={200: RoundOut, **ERRORS})
def round_detail(request: HttpRequest, round_id: int) -> RoundOut:
    user = _reader(request)
    return _round_out(access.get_round_for(user, round_id))


class PointOut(Schema):
    id: int
    name: str
    location: str
    opens_at: dt.time
    closes_at: dt.time
    buildings: list[int]


class PointIn(InputSchema):
    name: str = Field(min_length=1, max_length=64)
    location: str = Field("", max_length=160)
    opens_at: dt.time = dt.time(7, 30)
    closes_at: dt.time = dt.time(11, 30)
    buildings: list[int] = Field(default_factory=list, description="服务的楼栋 id")


def _point_out(p: SamplingPoint) -> PointOut:
    return PointOut(
        id=p.pk,
        name=p.name,
        location=p.location,
        opens_at=p.opens_at,
        closes_at=p.closes_at,
        buildings=[b.pk for b in p.buildings.all()],
    )


@router.get("/campaigns/{campaign_id}/points", response={200: list[PointOut], **ERRORS})
def point_list(request: HttpRequest, campaign_id: int) -> list[PointOut]:
    user = _reader(request)
    campaign = access.get_campaign_for(user, campaign_id)
    return [_point_out(p) for p in campaign.points.prefetch_related("buildings")]


@router.post("/campaigns/{campaign_id}/points", response={201: PointOut, **ERRORS})
def point_create(request: HttpRequest, campaign_id: int, payload: PointIn) -> Status[PointOut]:
    user = _manager(request)
    campaign = access.get_campaign_for(user, campaign_id)
    _may_manage(user, campaign)
    buildings = pick(
        registry_access.visible_buildings(user).select_related("compound"),
        payload.buildings,
        field="buildings",
        what=_("楼栋"),
    )
    point = actions.point_save(
        actor=user,
        campaign=campaign,
        name=payload.name,
        location=payload.location,
        opens_at=payload.opens_at,
        closes_at=payload.closes_at,
        buildings=buildings,
    )
    return Status(201, _point_out(point))


@router.put("/campaign-points/{point_id}", response={200: PointOut, **ERRORS})
def point_update(request: HttpRequest, point_id: int, payload: PointIn) -> PointOut:
    """Change a sampling point (name, place, hours, buildings served): the whole point."""
    user = _manager(request)
    point = access.get_point_for(user, point_id)
    _may_manage(user, point.campaign)
    buildings = pick(
        registry_access.visible_buildings(user).select_related("compound"),
        payload.buildings,
        field="buildings",
        what=_("楼栋"),
    )
    point = actions.point_save(
        actor=user,
        campaign=point.campaign,
        point=point,
        name=payload.name,
        location=payload.location,
        opens_at=payload.opens_at,
        closes_at=payload.closes_at,
        buildings=buildings,
    )
    return _point_out(point)


# --- exemptions -------------------------------------------------------------------------


class ExemptionOut(Schema):
    id: int
    campaign: int
    resident: int
    resident_name: str
    address: str
    reason: str
    reason_label: str
    starts_on: dt.date
    ends_on: dt.date | None
    note: str
    active: bool


def _exemption_out(e: Exemption) -> ExemptionOut:
    return ExemptionOut(
        id=e.pk,
        campaign=e.campaign_id,
        resident=e.resident_id,
        resident_name=e.resident.name,
        address=e.resident.household.address,
        reason=e.reason,
        reason_label=str(e.get_reason_display()),
        starts_on=e.starts_on,
        ends_on=e.ends_on,
        note=e.note,
        active=e.is_active,
    )


class ExemptionIn(InputSchema):
    resident: int = Field(description="居民 id")
    reason: Literal["away", "in_hospital", "infant", "tested_elsewhere", "other"] = Field(
        description="、".join(f"{r.value}（{r.label}）" for r in ExemptionReason)
    )
    starts_on: dt.date
    ends_on: dt.date | None = None
    note: str = Field("", max_length=200)


class ExemptionUpdate(InputSchema):
    reason: Literal["away", "in_hospital", "infant", "tested_elsewhere", "other"]
    starts_on: dt.date
    ends_on: dt.date | None = None
    note: str = Field("", max_length=200)


def _exempter(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_exempt(user), _("您的角色无权登记免检"))
    return user


def _resident(user: User, pk: int) -> Resident:
    try:
        return registry_access.get_resident_for(user, pk)
    except Exception:
        raise ValidationError(
            {"resident": [_("居民 %(id)s 不存在或不在您的管辖范围内") % {"id": pk}]}
        ) from None


@router.get("/campaigns/{campaign_id}/exemptions", response={200: Page[ExemptionOut], **ERRORS})
def exemption_list(
    request: HttpRequest, campaign_id: int, query: Query[PageQuery]
) -> Page[ExemptionOut]:
    user = _reader(request)
    campaign = access.get_campaign_for(user, campaign_id)
    return page_of(access.visible_exemptions(user, campaign), query, _exemption_out)


@router.post("/campaigns/{campaign_id}/exemptions", response={201: ExemptionOut, **ERRORS})
def exemption_create(
    request: HttpRequest, campaign_id: int, payload: ExemptionIn
) -> Status[ExemptionOut]:
    user = _exempter(request)
    campaign = access.get_campaign_for(user, campaign_id)
    exemption = actions.exemption_save(
        actor=user,
        campaign=campaign,
        resident=_resident(user, payload.resident),
        reason=payload.reason,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        note=payload.note,
    )
    return Status(201, _exemption_out(exemption))


@router.put("/campaign-exemptions/{exemption_id}", response={200: ExemptionOut, **ERRORS})
def exemption_update(
    request: HttpRequest, exemption_id: int, payload: ExemptionUpdate
) -> ExemptionOut:
    user = _exempter(request)
    exemption = access.get_exemption_for(user, exemption_id)
    saved = actions.exemption_save(
        actor=user,
        campaign=exemption.campaign,
        resident=exemption.resident,
        reason=payload.reason,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        note=payload.note,
        exemption=exemption,
    )
    return _exemption_out(saved)


@router.post("/campaign-exemptions/{exemption_id}/revoke", response={200: ExemptionOut, **ERRORS})
def exemption_revoke(request: HttpRequest, exemption_id: int) -> ExemptionOut:
    """Take the exemption back (kept, marked revoked): the resident is expected again."""
    user = _exempter(request)
    exemption = access.get_exemption_for(user, exemption_id)
    return _exemption_out(actions.exemption_revoke(actor=user, exemption=exemption))


# --- import -----------------------------------------------------------------------------


class ImportOut(Schema):
    id: int
    round: int
    filename: str
    file_format: str
    encoding: str
    rows: int
    added: int
    already: int = Field(description="此前已导入的行（再次导入同一文件时不变）")
    repeated: int = Field(description="文件内重复的行")
    matched_id: int
    matched_name_phone: int
    unmatched: int
    duplicates: int = Field(description="同一居民在本轮的再次采样")
    created_at: dt.datetime | None


def _import_out(b: SampleImport) -> ImportOut:
    return ImportOut(
        id=b.pk,
        round=b.round_id,
        filename=b.filename,
        file_format=b.file_format,
        encoding=b.encoding,
        rows=b.rows,
        added=b.added,
        already=b.already,
        repeated=b.repeated,
        matched_id=b.matched_id,
        matched_name_phone=b.matched_name_phone,
        unmatched=b.unmatched,
        duplicates=b.duplicates,
        created_at=local_time(b.created_at),
    )


@router.post("/campaign-rounds/{round_id}/imports", response={201: ImportOut, **ERRORS})
def round_import(
    request: HttpRequest,
    round_id: int,
    file: File[UploadedFile],
    mapping: Form[str] = "",
) -> Status[ImportOut]:
    """Import the testing system's export (multipart/form-data).

    `file`: .xlsx, or .csv in UTF-8 or GBK. `mapping` (optional): JSON like
    {"id_number": "证件号码", "name": "姓名", "phone": "联系电话"}; fields not given use the
    campaign's remembered mapping, then the usual header names. Rows imported before are
    skipped, so the same file twice changes nothing.
    """
    user = _manager(request)
    round = access.get_round_for(user, round_id)
    _may_manage(user, round.campaign)
    try:
        chosen = json.loads(mapping) if mapping.strip() else {}
    except ValueError:
        chosen = None
    if not isinstance(chosen, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in chosen.items()
    ):
        raise ValidationError({"mapping": [_('应为 JSON 对象，如 {"id_number": "证件号码"}')]})
    if file.size and file.size > 50 * 1024 * 1024:
        raise ValidationError({"file": [_("文件超过 50 MB，请拆分后分批导入")]})
    batch = actions.records_import(
        actor=user, round=round, data=file.read(), filename=file.name or "", mapping=chosen
    )
    return Status(201, _import_out(batch))


class RecordOut(Schema):
    id: int
    line: int
    name: str
    id_number_masked: str
    phone_masked: str
    sampled_at: dt.datetime | None
    point: str
    tube: str
    resident: int | None
    method: str
    unmatched_reason: str
    suggestion: int | None
    duplicate: bool


def _record_out(r: SampleRecord) -> RecordOut:
    return RecordOut(
        id=r.pk,
        line=r.line,
        name=r.name,
        id_number_masked=r.id_number_masked,
        phone_masked=r.phone_masked,
        sampled_at=local_time(r.sampled_at),
        point=r.point,
        tube=r.tube,
        resident=r.resident_id,
        method=r.method,
        unmatched_reason=r.unmatched_reason,
        suggestion=r.suggestion_id,
        duplicate=r.duplicate,
    )


class RecordQuery(PageQuery):
    status: Literal["all", "unmatched", "duplicate"] = "all"


@router.get("/campaign-rounds/{round_id}/records", response={200: Page[RecordOut], **ERRORS})
def record_list(request: HttpRequest, round_id: int, query: Query[RecordQuery]) -> Page[RecordOut]:
    user = _reader(request)
    round = access.get_round_for(user, round_id)
    records = access.visible_records(user, round).order_by("line", "pk")
    if query.status == "unmatched":
        records = records.filter(resident__isnull=True)
    elif query.status == "duplicate":
        records = records.filter(duplicate=True)
    return page_of(records, query, _record_out)


class LinkIn(InputSchema):
    resident: int | None = Field(description="核对后确认的居民 id；null 表示不是辖区居民")


@router.post("/campaign-records/{record_id}/link", response={200: RecordOut, **ERRORS})
def record_link(request: HttpRequest, record_id: int, payload: LinkIn) -> RecordOut:
    user = _manager(request)
    record = access.get_record_for(user, record_id)
    _may_manage(user, record.round.campaign)
    resident = _resident(user, payload.resident) if payload.resident is not None else None
    return _record_out(actions.record_link(actor=user, record=record, resident=resident))


# --- completion, sweep, door service ----------------------------------------------------


class CompletionRow(Schema):
    key: int | None
    label: str
    expected: int
    reached: int
    missing: int
    percent: float


class CompletionOut(Schema):
    round: int
    expected: int
    reached: int
    missing: int
    percent: float
    exempted: int
    unmatched: int
    duplicates: int
    by: str
    rows: list[CompletionRow]


class CompletionQuery(Schema):
    by: Literal["building", "grid", "community"] = "building"


@router.get("/campaign-rounds/{round_id}/completion", response={200: CompletionOut, **ERRORS})
def round_completion(
    request: HttpRequest, round_id: int, query: Query[CompletionQuery]
) -> CompletionOut:
    """Expected, reached and missing in the caller's area, per building, grid or community."""
    user = _reader(request)
    the_round = access.get_round_for(user, round_id)
    rows = reconcile.completion(the_round, query.by)
    figures = reconcile.round_figures(the_round, access.visible_records(user, the_round), rows)
    return CompletionOut(
        round=the_round.pk,
        expected=figures.expected,
        reached=figures.reached,
        missing=figures.missing,
        percent=round(figures.percent, 1),
        exempted=figures.exempted,
        unmatched=figures.unmatched,
        duplicates=figures.duplicates,
        by=query.by,
        rows=[
            CompletionRow(
                key=r.key,
                label=r.label,
                expected=r.expected,
                reached=r.reached,
                missing=r.missing,
                percent=round(r.percent, 1),
            )
            for r in rows
        ],
    )


class MissingOut(Schema):
    resident: int
    name: str
    phone_masked: str
    grid: str
    building: str
    unit: str
    room: str
    address: str


def _missing_out(r: Resident) -> MissingOut:
    household = r.household
    return MissingOut(
        resident=r.pk,
        name=r.name,
        phone_masked=r.masked_phone,
        grid=household.grid.name if household.grid else "",
        building=str(household.unit.building),
        unit=household.unit.name,
        room=household.room,
        address=household.address,
    )


@router.get("/campaign-rounds/{round_id}/sweep", response={200: Page[MissingOut], **ERRORS})
def sweep_list(request: HttpRequest, round_id: int, query: Query[PageQuery]) -> Page[MissingOut]:
    """Not yet reached, by grid → building → unit → room, in the caller's area."""
    user = _reader(request)
    round = access.get_round_for(user, round_id)
    return page_of(reconcile.missing_residents(round), query, _missing_out)


class RevealIn(InputSchema):
    reason: str = Field(min_length=2, max_length=200, description="查看原因（记入审计日志）")


class RevealOut(Schema):
    resident: int
    phone: str


@router.post(
    "/campaign-rounds/{round_id}/sweep/{resident_id}/reveal",
    response={200: RevealOut, **ERRORS},
)
def sweep_reveal(
    request: HttpRequest, round_id: int, resident_id: int, payload: RevealIn
) -> RevealOut:
    """A missing resident's phone in full, recorded in the audit log (who, whom, why)."""
    user = _reader(request)
    round = access.get_round_for(user, round_id)
    resident = registry_access.get_resident_for(user, resident_id)
    del round
    phone = actions.reveal_phone(actor=user, resident=resident, reason=payload.reason)
    return RevealOut(resident=resident.pk, phone=phone)


class TasksOut(Schema):
    created: list[int] = Field(description="新建任务 id（已有进行中任务的楼栋跳过）")


@router.post("/campaign-rounds/{round_id}/sweep/tasks", response={201: TasksOut, **ERRORS})
def sweep_tasks(request: HttpRequest, round_id: int) -> Status[TasksOut]:
    """A building-sweep task on the task board per building with someone missing."""
    user = api_user(request)
    rest.require(access.can_make_tasks(user), _("您的角色无权发布任务"))
    round = access.get_round_for(user, round_id)
    tasks = actions.sweep_tasks_create(
        actor=user, round=round, missing=list(reconcile.missing_residents(round))
    )
    return Status(201, TasksOut(created=[t.pk for t in tasks]))


class DoorOut(MissingOut):
    why: str


@router.get("/campaign-rounds/{round_id}/door-service", response={200: list[DoorOut], **ERRORS})
def door_service_list(request: HttpRequest, round_id: int) -> list[DoorOut]:
    """Missing residents who cannot come down (choices.DOOR_SERVICE_*)."""
    user = _reader(request)
    round = access.get_round_for(user, round_id)
    residents = list(reconcile.door_service_residents(round)[:2000])
    reasons = reconcile.door_reasons(residents, round.date)
    return [DoorOut(**_missing_out(r).dict(), why=reasons[r.pk]) for r in residents]


@router.post("/campaign-rounds/{round_id}/door-service/tasks", response={201: TasksOut, **ERRORS})
def door_service_tasks(request: HttpRequest, round_id: int) -> Status[TasksOut]:
    user = api_user(request)
    rest.require(access.can_make_tasks(user), _("您的角色无权发布任务"))
    round = access.get_round_for(user, round_id)
    tasks = actions.door_service_tasks_create(
        actor=user, round=round, residents=list(reconcile.door_service_residents(round))
    )
    return Status(201, TasksOut(created=[t.pk for t in tasks]))
