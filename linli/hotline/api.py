"""24小时专线 in the REST API (errors: linli/api.py): tickets (list, filter, detail, create,
transitions, notes, attachments, dispatch, escalation, errand → task), SLA targets and figures.

Scoped like the pages: staff-side roles their area's tickets; a resident their household's
(and only creating for it); volunteers, suppliers and checkpoint keepers nothing (403).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile

from linli.accounts.api import api_user
from linli.accounts.models import User
from linli.hotline import access, actions, figures
from linli.hotline.choices import Channel, Feedback, TicketStatus
from linli.hotline.models import Ticket
from linli.lib import rest
from linli.lib.rest import ERRORS, InputSchema, Page, PageQuery, local_time, page_of, pick
from linli.registry import access as registry_access
from linli.registry.models import Community, Household, Resident
from linli.registry.scope import area_for
from linli.triage.choices import Category, Urgency

router = Router(tags=["诉求工单"])

# Category and urgency are plain text checked by the actions (a Chinese error naming the
# field), not enums: an enum error would list every code, 'dialysis' among them, to whoever
# sent it, before the role check could refuse them.
CATEGORY_HELP = "类别：" + "、".join(f"{c.value}（{c.label}）" for c in Category)
URGENCY_HELP = "紧急程度：" + "、".join(f"{u.value}（{u.label}）" for u in Urgency)


def _reader(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_see_tickets(user), _("您的角色无权查看工单"))
    return user


def _handler(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_handle_tickets(user), _("您的角色无权处理工单"))
    return user


def _may(user: User, ticket: Ticket, step: str) -> None:
    rest.require(access.may_step(user, ticket, step), _("您的角色无权对该工单进行此操作"))


class EventOut(Schema):
    at: dt.datetime
    actor: str
    kind: str
    kind_label: str
    from_status: str
    to_status: str
    note: str


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    uploaded_at: dt.datetime
    url: str = Field(description="下载地址（需登录，且能查看该工单）")


class TicketOut(Schema):
    id: int
    number: str
    community_id: int
    household_id: int | None
    address: str
    resident_id: int | None
    resident_name: str
    caller_name: str
    caller_phone_masked: str = Field(description="来电号码（已隐藏）")
    channel: Channel
    category: Category
    category_label: str
    urgency: Urgency
    urgency_label: str
    triage_category: str
    triage_urgency: str
    triage_reasons: list[str] = Field(description="分诊依据（触发词）")
    overridden: bool = Field(description="是否人工修改过分类")
    description: str
    hazard_location: str
    hazard_parties: str
    status: TicketStatus
    status_label: str
    owner: str
    owner_id: int | None
    on_behalf: bool = Field(description="代提诉求")
    source: str
    created_at: dt.datetime
    created_by: str
    respond_by: dt.datetime
    resolve_by: dt.datetime
    seconds_left: int | None = Field(description="距当前时限的秒数，负数为已超时")
    accepted_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    resolution: str
    cancel_reason: str
    feedback: str
    feedback_text: str
    escalation_level: int = Field(description="0 未升级、1 社区、2 街道")
    task_id: int | None


class TicketDetail(TicketOut):
    events: list[EventOut]
    attachments: list[AttachmentOut]


def _name(user: User | None) -> str:
    return (user.display_name or user.username) if user else ""


def _out(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "community_id": ticket.community_id,
        "household_id": ticket.household_id,
        "address": ticket.household.address if ticket.household else "",
        "resident_id": ticket.resident_id,
        "resident_name": ticket.resident.name if ticket.resident else "",
        "caller_name": ticket.caller_name,
        "caller_phone_masked": ticket.masked_caller_phone,
        "channel": ticket.channel,
        "category": ticket.category,
        "category_label": ticket.get_category_display(),
        "urgency": ticket.urgency,
        "urgency_label": ticket.get_urgency_display(),
        "triage_category": ticket.triage_category,
        "triage_urgency": ticket.triage_urgency,
        "triage_reasons": list(ticket.triage_reasons),
        "overridden": ticket.overridden,
        "description": ticket.description,
        "hazard_location": ticket.hazard_location,
        "hazard_parties": ticket.hazard_parties,
        "status": ticket.status,
        "status_label": ticket.get_status_display(),
        "owner": _name(ticket.owner),
        "owner_id": ticket.owner_id,
        "on_behalf": ticket.on_behalf,
        "source": ticket.source,
        "created_at": local_time(ticket.created_at),
        "created_by": _name(ticket.created_by),
        "respond_by": local_time(ticket.respond_by),
        "resolve_by": local_time(ticket.resolve_by),
        "seconds_left": ticket.seconds_left(),
        "accepted_at": local_time(ticket.accepted_at),
        "resolved_at": local_time(ticket.resolved_at),
        "closed_at": local_time(ticket.closed_at),
        "resolution": ticket.resolution,
        "cancel_reason": ticket.cancel_reason,
        "feedback": ticket.feedback,
        "feedback_text": ticket.feedback_text,
        "escalation_level": ticket.escalation_level,
        "task_id": ticket.task_id,
    }


def _detail(user: User, pk: int) -> TicketDetail:
    ticket = access.get_ticket_for(user, pk)
    events = [
        EventOut(
            at=timezone.localtime(e.at),
            actor=_name(e.actor) or _("系统"),
            kind=e.kind,
            kind_label=e.get_kind_display(),
            from_status=e.from_status,
            to_status=e.to_status,
            note=e.note,
        )
        for e in ticket.events.select_related("actor")
    ]
    attachments = [
        AttachmentOut(
            id=a.pk,
            name=a.name,
            size=a.size,
            uploaded_at=timezone.localtime(a.uploaded_at),
            url=f"/hotline/attachments/{a.pk}/",
        )
        for a in ticket.attachments.all()
    ]
    return TicketDetail(**_out(ticket), events=events, attachments=attachments)


class TicketQuery(PageQuery):
    status: TicketStatus | None = Field(
        None, description="状态；不填则为未办结的（新建/已受理/处理中）"
    )
    all: bool = Field(False, description="包括已办结、已关闭、已撤销")
    category: str | None = Field(None, max_length=16, description=CATEGORY_HELP)
    urgency: str | None = Field(None, max_length=16, description=URGENCY_HELP)
    mine: bool = Field(False, description="只看我负责的")
    community: str | None = Field(None, description="社区编码")
    overdue: bool = Field(False, description="只看已超时的")


@router.get("/tickets", response={200: Page[TicketOut], **ERRORS})
def ticket_list(request: HttpRequest, query: Query[TicketQuery]) -> Page[TicketOut]:
    """The queue: most urgent first, then least time left."""
    user = _reader(request)
    tickets = access.visible_tickets(user)
    if query.status is not None:
        tickets = tickets.filter(status=query.status.value)
    elif not query.all:
        tickets = tickets.open()
    if query.category:
        tickets = tickets.filter(category=query.category)
    if query.urgency:
        tickets = tickets.filter(urgency=query.urgency)
    if query.mine:
        tickets = tickets.filter(owner=user)
    if query.community:
        tickets = tickets.filter(community=registry_access.get_community_for(user, query.community))
    if query.overdue:
        tickets = tickets.overdue(timezone.now())
    tickets = tickets.in_queue_order()
    return page_of(tickets.select_related("created_by"), query, lambda t: TicketOut(**_out(t)))


class TicketIn(InputSchema):
    community: str | None = Field(None, description="社区编码（管辖多个社区时必填）")
    channel: Channel = Field(Channel.PHONE, description="来源渠道")
    description: str = Field(min_length=1, max_length=4000, description="诉求内容")
    resident_id: int | None = Field(None, description="居民（查找所得）")
    household_id: int | None = Field(None, description="户")
    caller_phone: str = Field("", max_length=20, description="来电号码（陌生来电）")
    caller_name: str = Field("", max_length=64, description="来电人")
    category: str | None = Field(
        None, max_length=16, description=CATEGORY_HELP + "；不填则自动分诊"
    )
    urgency: str | None = Field(None, max_length=16, description=URGENCY_HELP + "；不填则自动分诊")
    hazard_location: str = Field("", max_length=160, description="隐患位置")
    hazard_parties: str = Field("", max_length=200, description="责任方")
    owner_id: int | None = Field(None, description="负责人；不填则为所在网格的网格员")
    source: str = Field("", max_length=64, description="来源记录，如 care_call:12")


def _community(user: User, code: str | None) -> Community:
    if code:
        try:
            return registry_access.get_community_for(user, code)
        except Http404:
            raise ValidationError(
                {"community": [_("社区“%(code)s”不存在或不在您的管辖范围内") % {"code": code}]}
            ) from None
    area = area_for(user)
    if area.communities is not None and len(area.communities) == 1:
        return Community.objects.get(pk=area.communities[0])
    raise ValidationError({"community": [_("请填写社区编码")]})


@router.post("/tickets", response={201: TicketDetail, **ERRORS})
def ticket_create(request: HttpRequest, payload: TicketIn) -> Status[TicketDetail]:
    """Log a call or message as a ticket (a resident: for their own household only)."""
    user = _reader(request)
    own = access.resident_of(user)
    if own is not None and not access.can_handle_tickets(user):
        data = actions.TicketInput(
            community=own.household.community,
            channel=Channel.RESIDENT_PAGE,
            description=payload.description,
            resident=own,
        )
    else:
        resident = (
            pick(
                Resident.objects.select_related("household"),
                [payload.resident_id],
                field="resident_id",
                what=_("居民"),
            )[0]
            if payload.resident_id
            else None
        )
        household = None
        if payload.household_id:
            household = pick(
                Household.objects.all(), [payload.household_id], field="household_id", what=_("户")
            )[0]
        owner = None
        if payload.owner_id:
            owner = User.objects.filter(pk=payload.owner_id, is_active=True).first()
            if owner is None:
                raise ValidationError({"owner_id": [_("负责人不存在")]})
        community = _community(user, payload.community)
        data = actions.TicketInput(
            community=community,
            channel=payload.channel.value,
            description=payload.description,
            resident=resident,
            household=household,
            caller_phone=payload.caller_phone,
            caller_name=payload.caller_name,
            category=payload.category or None,
            urgency=payload.urgency or None,
            hazard_location=payload.hazard_location,
            hazard_parties=payload.hazard_parties,
            owner=owner,
            source=payload.source,
        )
    with rest.fields_renamed(resident="resident_id", household="household_id", owner="owner_id"):
        ticket = actions.ticket_create(user, data)
    return Status(201, _detail(user, ticket.pk))


@router.get("/tickets/{ticket_id}", response={200: TicketDetail, **ERRORS})
def ticket_detail(request: HttpRequest, ticket_id: int) -> TicketDetail:
    """A ticket with its timeline and attachments."""
    return _detail(_reader(request), ticket_id)


class NoteIn(InputSchema):
    note: str = Field("", max_length=500, description="备注")


class ResolveIn(InputSchema):
    resolution: str = Field(min_length=1, max_length=500, description="办理结果")


class CloseIn(InputSchema):
    feedback: Feedback = Field(description="居民评价：satisfied 满意 / unsatisfied 不满意")
    feedback_text: str = Field("", max_length=300, description="评价说明")


class ReasonIn(InputSchema):
    reason: str = Field(min_length=1, max_length=200, description="原因")


class AssignIn(InputSchema):
    owner_id: int = Field(description="负责人账号 id")


class ReclassifyIn(InputSchema):
    category: str = Field(max_length=16, description=CATEGORY_HELP)
    urgency: str = Field(max_length=16, description=URGENCY_HELP)
    reason: str = Field("", max_length=200)


def _step(request: HttpRequest, ticket_id: int, step: str) -> tuple[User, Ticket]:
    user = _reader(request)
    ticket = access.get_ticket_for(user, ticket_id)
    _may(user, ticket, step)
    return user, ticket


@router.post("/tickets/{ticket_id}/accept", response={200: TicketDetail, **ERRORS})
def ticket_accept(
    request: HttpRequest, ticket_id: int, payload: NoteIn | None = None
) -> TicketDetail:
    user, ticket = _step(request, ticket_id, "accept")
    actions.ticket_accept(actor=user, ticket=ticket, note=payload.note if payload else "")
    return _detail(user, ticket_id)


@router.post("/tickets/{ticket_id}/start", response={200: TicketDetail, **ERRORS})
def ticket_start(
    request: HttpRequest, ticket_id: int, payload: NoteIn | None = None
) -> TicketDetail:
    user, ticket = _step(request, ticket_id, "start")
    actions.ticket_start(actor=user, ticket=ticket, note=payload.note if payload else "")
    return _detail(user, ticket_id)


@router.post("/tickets/{ticket_id}/resolve", response={200: TicketDetail, **ERRORS})
def ticket_resolve(request: HttpRequest, ticket_id: int, payload: ResolveIn) -> TicketDetail:
    user, ticket = _step(request, ticket_id, "resolve")
    actions.ticket_resolve(actor=user, ticket=ticket, resolution=payload.resolution)
    return _detail(user, ticket_id)


@router.post("/tickets/{ticket_id}/close", response={200: TicketDetail, **ERRORS})
def ticket_close(request: HttpRequest, ticket_id: int, payload: CloseIn) -> TicketDetail:
    """Close a resolved ticket with the resident's feedback (the resident may do it too)."""
    user, ticket = _step(request, ticket_id, "close")
    actions.ticket_close(
        actor=user,
        ticket=ticket,
        feedback=payload.feedback.value,
        feedback_text=payload.feedback_text,
    )
    return _detail(user, ticket_id)


@router.post("/tickets/{ticket_id}/reopen", response={200: TicketDetail, **ERRORS})
def ticket_reopen(request: HttpRequest, ticket_id: int, payload: ReasonIn) -> TicketDetail:
    user, ticket = _step(request, ticket_id, "reopen")
    actions.ticket_reopen(actor=user, ticket=ticket, reason=payload.reason)
    return _detail(user, ticket_id)


@router.post("/tickets/{ticket_id}/cancel", response={200: TicketDetail, **ERRORS})
def ticket_cancel(request: HttpRequest, ticket_id: int, payload: ReasonIn) -> TicketDetail:
    user, ticket = _step(request, ticket_id, "cancel")
    actions.ticket_cancel(actor=user, ticket=ticket, reason=payload.reason)
    return _detail(user, ticket_id)


@router.post("/tickets/{ticket_id}/escalate", response={200: TicketDetail, **ERRORS})
def ticket_escalate(request: HttpRequest, ticket_id: int, payload: ReasonIn) -> TicketDetail:
    """One level up by hand: community staff, then the street."""
    user, ticket = _step(request, ticket_id, "escalate")
    actions.ticket_escalate(actor=user, ticket=ticket, reason=payload.reason)
    return _detail(user, ticket_id)


@router.post("/tickets/{ticket_id}/assign", response={200: TicketDetail, **ERRORS})
def ticket_assign(request: HttpRequest, ticket_id: int, payload: AssignIn) -> TicketDetail:
    """Dispatch to an owner who covers the ticket's grid or community."""
    user, ticket = _step(request, ticket_id, "assign")
    owner = User.objects.filter(pk=payload.owner_id, is_active=True).first()
    if owner is None:
        raise ValidationError({"owner_id": [_("负责人不存在")]})
    with rest.fields_renamed(owner="owner_id"):
        actions.ticket_assign(actor=user, ticket=ticket, owner=owner)
    return _detail(user, ticket_id)


@router.post("/tickets/{ticket_id}/reclassify", response={200: TicketDetail, **ERRORS})
def ticket_reclassify(request: HttpRequest, ticket_id: int, payload: ReclassifyIn) -> TicketDetail:
    """Override the category or urgency; the deadlines follow the new targets."""
    user, ticket = _step(request, ticket_id, "reclassify")
    actions.ticket_reclassify(
        actor=user,
        ticket=ticket,
        category=payload.category,
        urgency=payload.urgency,
        reason=payload.reason,
    )
    return _detail(user, ticket_id)


@router.post("/tickets/{ticket_id}/notes", response={201: TicketDetail, **ERRORS})
def ticket_note(request: HttpRequest, ticket_id: int, payload: NoteIn) -> Status[TicketDetail]:
    user, ticket = _step(request, ticket_id, "note")
    actions.ticket_note(actor=user, ticket=ticket, note=payload.note)
    return Status(201, _detail(user, ticket_id))


@router.post("/tickets/{ticket_id}/attachments", response={201: TicketDetail, **ERRORS})
def ticket_attach(
    request: HttpRequest, ticket_id: int, file: File[UploadedFile]
) -> Status[TicketDetail]:
    """Upload a file (multipart `file`, at most 10 MB)."""
    user, ticket = _step(request, ticket_id, "attach")
    actions.ticket_attach(actor=user, ticket=ticket, upload=file)
    return Status(201, _detail(user, ticket_id))


class TaskRef(Schema):
    task_id: int
    title: str


@router.post("/tickets/{ticket_id}/errand", response={201: TaskRef, **ERRORS})
def ticket_errand(request: HttpRequest, ticket_id: int) -> Status[TaskRef]:
    """A medicine or supplies ticket becomes an errand task on the task board."""
    user, ticket = _step(request, ticket_id, "errand")
    task = actions.ticket_to_task(actor=user, ticket=ticket)
    return Status(201, TaskRef(task_id=task.pk, title=task.title))


# --- SLA targets and figures ---------------------------------------------------------------


class SlaOut(Schema):
    category: str
    category_label: str
    urgency: str
    urgency_label: str
    respond_minutes: int
    resolve_minutes: int


class SlaIn(InputSchema):
    category: str = Field(max_length=16, description=CATEGORY_HELP)
    urgency: str = Field(max_length=16, description=URGENCY_HELP)
    respond_minutes: int = Field(ge=1, le=30 * 24 * 60)
    resolve_minutes: int = Field(ge=1, le=90 * 24 * 60)


class CommunityQuery(Schema):
    community: str | None = Field(None, description="社区编码（管辖多个社区时必填）")


def _sla_out(target: Any) -> SlaOut:
    return SlaOut(
        category=target.category,
        category_label=target.get_category_display(),
        urgency=target.urgency,
        urgency_label=target.get_urgency_display(),
        respond_minutes=target.respond_minutes,
        resolve_minutes=target.resolve_minutes,
    )


@router.get("/hotline/sla-targets", response={200: list[SlaOut], **ERRORS})
def sla_list(request: HttpRequest, query: Query[CommunityQuery]) -> list[SlaOut]:
    """Response and resolution targets of every category × urgency of a community."""
    user = _handler(request)
    community = _community(user, query.community)
    return [_sla_out(t) for t in actions.sla_targets_seed(community)]


@router.put("/hotline/sla-targets", response={200: SlaOut, **ERRORS})
def sla_set(request: HttpRequest, payload: SlaIn, query: Query[CommunityQuery]) -> SlaOut:
    """Change one target (community staff)."""
    user = api_user(request)
    rest.require(access.can_edit_sla(user), _("只有社区工作人员可以修改时限标准"))
    community = _community(user, query.community)
    target = actions.sla_target_save(
        actor=user,
        community=community,
        category=payload.category,
        urgency=payload.urgency,
        respond_minutes=payload.respond_minutes,
        resolve_minutes=payload.resolve_minutes,
    )
    return _sla_out(target)


class FiguresQuery(Schema):
    since: dt.date | None = Field(None, description="从（含），默认 29 天前")
    until: dt.date | None = Field(None, description="到（含），默认今天")


class FigureRow(Schema):
    key: str
    label: str
    calls: int
    tickets: int
    open: int
    escorts: int = Field(description="陪同就医（就医/血透/产检）")
    medicine: int = Field(description="代配药")
    respond_met_percent: float | None
    resolve_met_percent: float | None


class FiguresOut(Schema):
    since: dt.date
    until: dt.date
    total: FigureRow
    days: list[FigureRow]
    categories: list[FigureRow]
    urgencies: list[FigureRow]
    statuses: list[FigureRow]
    grids: list[FigureRow]
    communities: list[FigureRow]


def _row(row: figures.Row) -> FigureRow:
    return FigureRow(
        key=row.key,
        label=row.label,
        calls=row.calls,
        tickets=row.tickets,
        open=row.open,
        escorts=row.escorts,
        medicine=row.medicine,
        respond_met_percent=row.respond_met,
        resolve_met_percent=row.resolve_met,
    )


@router.get("/hotline/figures", response={200: FiguresOut, **ERRORS})
def hotline_figures(request: HttpRequest, query: Query[FiguresQuery]) -> FiguresOut:
    """Calls, tickets by category/urgency/status, SLA met, escorts, medicine runs; per day,
    grid and community."""
    user = _handler(request)
    until = query.until or timezone.localdate()
    since = query.since or until - dt.timedelta(days=29)
    if since > until:
        raise ValidationError({"until": [_("结束日期不能早于开始日期")]})
    if (until - since).days > 366:
        raise ValidationError({"until": [_("统计区间不能超过一年")]})
    data = figures.figures_for(access.visible_tickets(user), since, until)
    return FiguresOut(
        since=since,
        until=until,
        total=_row(data.total),
        days=[_row(r) for r in data.days],
        categories=[_row(r) for r in data.categories],
        urgencies=[_row(r) for r in data.urgencies],
        statuses=[_row(r) for r in data.statuses],
        grids=[_row(r) for r in data.grids],
        communities=[_row(r) for r in data.communities],
    )
