"""Writes for tickets and SLA targets. Pages, the API, the CLI and other apps call these.

Every status change is a conditional UPDATE on the status the caller saw (as the task
board's), so two people acting on one ticket at once cannot both win; each change leaves a
TicketEvent with who and when. Overdue tickets climb one level at a time (community staff,
then the street) through `tickets_escalate`, run by a background task at each deadline, by
`linli hotline escalate` from cron, and by any db_worker.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.hotline.access import may_own, resident_of
from linli.hotline.choices import (
    ALERT_URGENCIES,
    DEFAULT_TARGETS,
    OPEN_STATUSES,
    Channel,
    Escalation,
    EventKind,
    Feedback,
    TicketStatus,
)
from linli.hotline.models import SlaTarget, Ticket, TicketAttachment, TicketEvent
from linli.lib.encryption import blind_index
from linli.notify.actions import message_send
from linli.registry.choices import CareTag
from linli.registry.models import CareTagAssignment, Community, Household, Resident
from linli.triage import Triage, classify
from linli.triage.choices import Category, Urgency
from linli.workforce.actions import task_create
from linli.workforce.choices import TaskKind
from linli.workforce.models import Task

logger = logging.getLogger(__name__)

Errors = dict[str, list[str]]

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


# --- SLA targets ------------------------------------------------------------------------


def sla_minutes(community: Community, category: str, urgency: str) -> tuple[int, int]:
    """(respond, resolve) minutes for this community, category and urgency."""
    with scopes_disabled():
        row = (
            SlaTarget.objects.filter(community=community, category=category, urgency=urgency)
            .values_list("respond_minutes", "resolve_minutes")
            .first()
        )
    return row if row is not None else DEFAULT_TARGETS[urgency]


def sla_targets_seed(community: Community) -> list[SlaTarget]:
    """Every category × urgency of the community, the defaults written for those missing."""
    with scopes_disabled():
        have = {(t.category, t.urgency): t for t in SlaTarget.objects.filter(community=community)}
        missing = [
            SlaTarget(
                community=community,
                category=category,
                urgency=urgency,
                respond_minutes=DEFAULT_TARGETS[urgency][0],
                resolve_minutes=DEFAULT_TARGETS[urgency][1],
            )
            for category in Category.values
            for urgency in Urgency.values
            if (category, urgency) not in have
        ]
        if missing:
            SlaTarget.objects.bulk_create(missing, ignore_conflicts=True)
        return list(SlaTarget.objects.filter(community=community).order_by("category", "urgency"))


@transaction.atomic
def sla_target_save(
    *,
    actor: User,
    community: Community,
    category: str,
    urgency: str,
    respond_minutes: int,
    resolve_minutes: int,
) -> SlaTarget:
    """Change one target; tickets already open keep the deadlines they were given."""
    errors: Errors = {}
    if category not in Category.values:
        errors["category"] = [_("请选择类别")]
    if urgency not in Urgency.values:
        errors["urgency"] = [_("请选择紧急程度")]
    if not 1 <= respond_minutes <= 30 * 24 * 60:
        errors["respond_minutes"] = [_("响应时限应在 1 分钟到 30 天之间")]
    if not 1 <= resolve_minutes <= 90 * 24 * 60:
        errors["resolve_minutes"] = [_("办结时限应在 1 分钟到 90 天之间")]
    elif resolve_minutes < respond_minutes:
        errors["resolve_minutes"] = [_("办结时限不能短于响应时限")]
    if errors:
        raise ValidationError(errors)
    target, _created = SlaTarget.objects.update_or_create(
        community=community,
        category=category,
        urgency=urgency,
        defaults={
            "respond_minutes": respond_minutes,
            "resolve_minutes": resolve_minutes,
            "updated_at": timezone.now(),
            "updated_by": actor,
        },
    )
    return target


# --- creating a ticket --------------------------------------------------------------------


@dataclass
class TicketInput:
    community: Community
    channel: str
    description: str
    household: Household | None = None
    resident: Resident | None = None
    caller_phone: str = ""
    caller_name: str = ""
    category: str | None = None  # None: triage decides
    urgency: str | None = None  # None: triage decides
    source: str = ""  # "care_call:<id>", "meal:<id>"
    hazard_location: str = ""
    hazard_parties: str = ""
    owner: User | None = None  # None: the default owner


def normalise_phone(raw: str) -> str:
    """Digits of a caller's number (mobile or landline, '+86' and separators dropped)."""
    digits = re.sub(r"[\s\-()（）]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def _check_phone(raw: str) -> tuple[str, list[str]]:
    phone = normalise_phone(raw)
    if phone and (not phone.isdigit() or not 5 <= len(phone) <= 15):
        return phone, [_("来电号码应为 5 到 15 位数字")]
    return phone, []


def default_owner(community: Community, grid_id: int | None) -> User | None:
    """A grid worker of the household's grid, else the community's staff (else operator)."""
    with scopes_disabled():
        if grid_id is not None:
            worker = (
                User.objects.filter(grids__id=grid_id, role=Role.GRID_WORKER, is_active=True)
                .order_by("pk")
                .first()
            )
            if worker is not None:
                return worker
        for role in (Role.COMMUNITY_STAFF, Role.HOTLINE_OPERATOR):
            user = (
                User.objects.filter(role=role, area__community=community, is_active=True)
                .order_by("pk")
                .first()
            )
            if user is not None:
                return user
    return None


def _record(
    ticket: Ticket,
    *,
    actor: User | None,
    kind: str,
    note: str = "",
    before: str = "",
    after: str = "",
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        actor=actor,
        kind=kind,
        from_status=before,
        to_status=after,
        note=note[:500],
        data=data or {},
    )


def _next_escalation(ticket: Ticket) -> dt.datetime | None:
    """When the ticket next climbs a level: at its current deadline, and once escalated, not
    before another response window has passed (so each level gets its chance to act)."""
    if ticket.status not in OPEN_STATUSES or ticket.escalation_level >= Escalation.STREET:
        return None
    deadline = ticket.deadline()
    if deadline is None:
        return None
    if ticket.escalated_at is not None:
        deadline = max(deadline, ticket.escalated_at + (ticket.respond_by - ticket.created_at))
    return deadline


def _schedule(ticket: Ticket) -> None:
    """Keep escalate_after right, and ask a worker to look at that moment."""
    after = _next_escalation(ticket)
    Ticket.objects.filter(pk=ticket.pk).update(escalate_after=after)
    ticket.escalate_after = after
    if after is not None:
        from linli.hotline.tasks import schedule_escalation

        schedule_escalation(after)


def _staff_of(community_id: int, *roles: str) -> list[User]:
    with scopes_disabled():
        return list(
            User.objects.filter(
                role__in=roles, area__community_id=community_id, is_active=True
            ).order_by("pk")
        )


def _street_admins(community: Community) -> list[User]:
    with scopes_disabled():
        return list(
            User.objects.filter(
                role=Role.STREET_ADMIN, area__street_id=community.street_id, is_active=True
            ).order_by("pk")
        )


def _tell(users: list[User], *, kind: str, body: str, ticket: Ticket, actor: User | None) -> None:
    """One message per account (an in-app notice through notify; accounts hold no phone)."""
    for user in dict.fromkeys(users):
        message_send(
            kind=kind, body=body, to_user=user, community_id=ticket.community_id, actor=actor
        )


def _ticket_line(ticket: Ticket) -> str:
    place = ticket.household.address if ticket.household else ticket.community.name
    return _("%(number)s【%(urgency)s·%(category)s】%(place)s：%(text)s") % {
        "number": ticket.number,
        "urgency": ticket.get_urgency_display(),
        "category": ticket.get_category_display(),
        "place": place,
        "text": ticket.description[:60],
    }


def _alert_staff(ticket: Ticket, actor: User | None) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        body = _("【邻里】%(urgency)s诉求，请关注：%(line)s") % {
            "urgency": ticket.get_urgency_display(),
            "line": _ticket_line(ticket),
        }
    staff = _staff_of(ticket.community_id, Role.COMMUNITY_STAFF)
    _tell(staff, kind="ticket.alert", body=body, ticket=ticket, actor=actor)


def _tell_owner(ticket: Ticket, actor: User | None) -> None:
    if ticket.owner is None or ticket.owner == actor:
        return
    with translation.override(settings.LANGUAGE_CODE):
        body = _("【邻里】新工单指派给您：%(line)s") % {"line": _ticket_line(ticket)}
    _tell([ticket.owner], kind="ticket.assigned", body=body, ticket=ticket, actor=actor)


def _check_input(data: TicketInput) -> tuple[Errors, str]:
    errors: Errors = {}
    if data.channel not in Channel.values:
        errors["channel"] = [_("请选择来源渠道")]
    if not data.description.strip():
        errors["description"] = [_("请填写诉求内容")]
    elif len(data.description) > 4000:
        errors["description"] = [_("诉求内容不能超过 4000 字")]
    if data.category is not None and data.category not in Category.values:
        errors["category"] = [_("请选择类别")]
    if data.urgency is not None and data.urgency not in Urgency.values:
        errors["urgency"] = [_("请选择紧急程度")]
    household = data.household
    if data.resident is not None:
        if household is not None and data.resident.household_id != household.pk:
            errors["resident"] = [_("该居民不属于所选的户")]
        household = household or data.resident.household
    if household is not None and household.community_id != data.community.pk:
        errors["household"] = [
            _("%(address)s 不在%(community)s")
            % {"address": household.address, "community": data.community.name}
        ]
    phone, phone_errors = _check_phone(data.caller_phone)
    if phone_errors:
        errors["caller_phone"] = phone_errors
    if len(data.caller_name) > 64:
        errors["caller_name"] = [_("来电人姓名不能超过 64 字")]
    if len(data.hazard_location) > 160:
        errors["hazard_location"] = [_("隐患位置不能超过 160 字")]
    if len(data.hazard_parties) > 200:
        errors["hazard_parties"] = [_("责任方不能超过 200 字")]
    if len(data.source) > 64:
        errors["source"] = [_("来源不能超过 64 字")]
    return errors, phone


# Register tags that make a need more pressing: whoever lives alone, is on dialysis, gravely
# ill, disabled or pregnant cannot wait as long as a neighbour for the same help.
RAISING_TAGS = (
    CareTag.LIVES_ALONE,
    CareTag.DIALYSIS,
    CareTag.SERIOUS_ILLNESS,
    CareTag.DISABLED,
    CareTag.PREGNANT,
)
RAISED = {Urgency.LOW: Urgency.NORMAL, Urgency.NORMAL: Urgency.URGENT}


def triage_for(
    text: str,
    community: Community | None,
    resident: Resident | None = None,
    household: Household | None = None,
) -> Triage:
    """How a ticket with this text, for this resident or household, is triaged: the words,
    then the register (see _with_register). The console's live preview shows the same."""
    return _with_register(classify(text, community), resident, household)


def _with_register(
    triage: Triage, resident: Resident | None, household: Household | None
) -> Triage:
    """Triage of the words, one step more urgent (咨询 → 一般 → 紧急) when the resident (or,
    for a household, anyone in it) is on the register with a tag in RAISING_TAGS; the tag
    joins the reasons shown. Critical and urgent stay as they are."""
    if triage.urgency not in RAISED or (resident is None and household is None):
        return triage
    tags = CareTagAssignment._base_manager.filter(tag__in=RAISING_TAGS)
    if resident is not None:
        tags = tags.filter(resident=resident)
    else:
        tags = tags.filter(resident__household=household)
    found = sorted(set(tags.values_list("tag", flat=True)), key=RAISING_TAGS.index)
    if not found:
        return triage
    with translation.override(settings.LANGUAGE_CODE):
        reason = _("重点人群：%(tag)s") % {"tag": CareTag(found[0]).label}
    return Triage(triage.category, RAISED[Urgency(triage.urgency)], [*triage.reasons, reason])


@transaction.atomic
def ticket_create(actor: User | None, data: TicketInput) -> Ticket:
    """A ticket from any channel. Category and urgency left None are triaged from the text;
    given ones that differ from triage are recorded as the operator's override. The default
    owner is the household's grid worker; urgent and critical tickets alert community staff."""
    errors, phone = _check_input(data)
    if errors:
        raise ValidationError(errors)
    household = data.household
    if household is None and data.resident is not None:
        household = data.resident.household
    triage = triage_for(data.description, data.community, data.resident, household)
    category = data.category or triage.category
    urgency = data.urgency or triage.urgency
    overridden = (category, urgency) != (triage.category, triage.urgency)
    grid_id = household.grid_id if household is not None else None
    now = timezone.now()
    respond, resolve = sla_minutes(data.community, category, urgency)
    ticket = Ticket(
        community=data.community,
        household=household,
        resident=data.resident,
        grid_id=grid_id,
        caller_name=data.caller_name.strip(),
        caller_phone=phone,
        caller_phone_index=blind_index(phone, purpose="caller_phone") if phone else "",
        caller_phone_last4=phone[-4:] if phone else "",
        channel=data.channel,
        category=category,
        urgency=urgency,
        triage_category=triage.category,
        triage_urgency=triage.urgency,
        triage_reasons=list(triage.reasons),
        overridden=overridden,
        description=data.description.strip(),
        hazard_location=data.hazard_location.strip(),
        hazard_parties=data.hazard_parties.strip(),
        created_at=now,
        created_by=actor,
        on_behalf=household is not None and _acting_for_someone(actor, household),
        source=data.source.strip(),
        respond_by=now + dt.timedelta(minutes=respond),
        resolve_by=now + dt.timedelta(minutes=resolve),
    )
    if data.owner is not None:
        if not may_own(data.owner, ticket):
            raise ValidationError(
                {"owner": [_("%(user)s 不负责该社区或网格，不能指派") % {"user": data.owner}]}
            )
        ticket.owner = data.owner
    else:
        ticket.owner = default_owner(data.community, grid_id)
    ticket.save()
    with translation.override(settings.LANGUAGE_CODE):
        note = _("%(channel)s登记；分诊：%(category)s·%(urgency)s") % {
            "channel": ticket.get_channel_display(),
            "category": Category(triage.category).label,
            "urgency": Urgency(triage.urgency).label,
        }
        if triage.reasons:
            note += _("（依据：%(words)s）") % {"words": "、".join(triage.reasons)}
        _record(ticket, actor=actor, kind=EventKind.CREATED, note=note, after=ticket.status)
        if overridden:
            _record(
                ticket,
                actor=actor,
                kind=EventKind.OVERRIDE,
                note=_("人工改为 %(category)s·%(urgency)s")
                % {
                    "category": ticket.get_category_display(),
                    "urgency": ticket.get_urgency_display(),
                },
                data={"category": category, "urgency": urgency},
            )
        if ticket.owner is not None:
            _record(
                ticket,
                actor=actor,
                kind=EventKind.ASSIGN,
                note=_("负责人：%(owner)s") % {"owner": ticket.owner},
                data={"owner_id": ticket.owner.pk},
            )
    if urgency in ALERT_URGENCIES:
        _alert_staff(ticket, actor)
    _tell_owner(ticket, actor)
    _schedule(ticket)
    return ticket


def _acting_for_someone(actor: User | None, household: Household) -> bool:
    """代提诉求: anyone but a resident of the household entered it."""
    if actor is None:
        return True
    resident = resident_of(actor)
    return resident is None or resident.household_id != household.pk


# --- transitions ----------------------------------------------------------------------------


def _move(
    ticket: Ticket,
    to: str,
    *,
    actor: User | None,
    note: str = "",
    **fields: Any,
) -> Ticket:
    """Move the ticket from the status it has in the database to `to`, or refuse clearly."""
    before = ticket.status
    if not ticket.can_become(to):
        raise ValidationError(
            {
                "status": [
                    _("工单当前为“%(status)s”，不能改为“%(to)s”")
                    % {"status": ticket.get_status_display(), "to": TicketStatus(to).label}
                ]
            }
        )
    changed = Ticket.objects.filter(pk=ticket.pk, status=before).update(status=to, **fields)
    if not changed:
        raise ValidationError({"status": [_("工单刚被他人更新，请刷新后再试")]})
    ticket.refresh_from_db()
    with translation.override(settings.LANGUAGE_CODE):
        _record(ticket, actor=actor, kind=EventKind.STATUS, note=note, before=before, after=to)
    _schedule(ticket)
    return ticket


def _responded(ticket: Ticket, now: dt.datetime) -> dict[str, Any]:
    """The first step taken on a ticket is its response."""
    return {} if ticket.accepted_at is not None else {"accepted_at": now}


def _take_if_unowned(ticket: Ticket, actor: User) -> dict[str, Any]:
    if ticket.owner_id is None and may_own(actor, ticket):
        return {"owner": actor}
    return {}


@transaction.atomic
def ticket_accept(*, actor: User, ticket: Ticket, note: str = "") -> Ticket:
    now = timezone.now()
    return _move(
        ticket,
        TicketStatus.ACCEPTED,
        actor=actor,
        note=note,
        accepted_at=now,
        **_take_if_unowned(ticket, actor),
    )


@transaction.atomic
def ticket_start(*, actor: User, ticket: Ticket, note: str = "") -> Ticket:
    now = timezone.now()
    return _move(
        ticket,
        TicketStatus.IN_PROGRESS,
        actor=actor,
        note=note,
        started_at=ticket.started_at or now,
        **_responded(ticket, now),
        **_take_if_unowned(ticket, actor),
    )


@transaction.atomic
def ticket_resolve(*, actor: User, ticket: Ticket, resolution: str) -> Ticket:
    resolution = resolution.strip()
    if not resolution:
        raise ValidationError({"resolution": [_("请填写办理结果")]})
    now = timezone.now()
    return _move(
        ticket,
        TicketStatus.RESOLVED,
        actor=actor,
        note=resolution,
        resolution=resolution[:500],
        resolved_at=now,
        **_responded(ticket, now),
    )


@transaction.atomic
def ticket_close(*, actor: User, ticket: Ticket, feedback: str, feedback_text: str = "") -> Ticket:
    """Closed with the resident's word on it: satisfied or not, and what they said."""
    if feedback not in Feedback.values:
        raise ValidationError({"feedback": [_("请选择居民评价：满意或不满意")]})
    with translation.override(settings.LANGUAGE_CODE):
        note = _("居民评价：%(feedback)s") % {"feedback": Feedback(feedback).label}
    if feedback_text.strip():
        note += f"（{feedback_text.strip()[:300]}）"
    return _move(
        ticket,
        TicketStatus.CLOSED,
        actor=actor,
        note=note,
        feedback=feedback,
        feedback_text=feedback_text.strip()[:300],
        closed_at=timezone.now(),
    )


@transaction.atomic
def ticket_reopen(*, actor: User, ticket: Ticket, reason: str) -> Ticket:
    """Resolved, but not really: back to in progress (the resolve target still stands)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写重新处理的原因")]})
    return _move(ticket, TicketStatus.IN_PROGRESS, actor=actor, note=reason, resolved_at=None)


@transaction.atomic
def ticket_cancel(*, actor: User, ticket: Ticket, reason: str) -> Ticket:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写撤销原因")]})
    return _move(
        ticket,
        TicketStatus.CANCELLED,
        actor=actor,
        note=reason,
        cancel_reason=reason[:200],
        cancelled_at=timezone.now(),
    )


# --- other changes ---------------------------------------------------------------------------


def _lock_open(ticket: Ticket, message: str) -> Ticket:
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.status not in OPEN_STATUSES:
        raise ValidationError({"status": [message % {"status": locked.get_status_display()}]})
    return locked


@transaction.atomic
def ticket_assign(*, actor: User, ticket: Ticket, owner: User, note: str = "") -> Ticket:
    """Dispatch to an owner who covers the ticket's grid or community; they are told."""
    ticket = _lock_open(ticket, _("工单当前为“%(status)s”，不能再指派"))
    if not may_own(owner, ticket):
        raise ValidationError(
            {"owner": [_("%(user)s 不负责该社区或网格，不能指派") % {"user": owner}]}
        )
    before = ticket.owner
    Ticket.objects.filter(pk=ticket.pk).update(owner=owner)
    ticket.refresh_from_db()
    with translation.override(settings.LANGUAGE_CODE):
        text = _("负责人：%(before)s → %(after)s") % {"before": before or "—", "after": owner}
        if note.strip():
            text += f"（{note.strip()}）"
        _record(ticket, actor=actor, kind=EventKind.ASSIGN, note=text, data={"owner_id": owner.pk})
    _tell_owner(ticket, actor)
    return ticket


@transaction.atomic
def ticket_note(*, actor: User, ticket: Ticket, note: str) -> TicketEvent:
    note = note.strip()
    if not note:
        raise ValidationError({"note": [_("请填写备注内容")]})
    if len(note) > 500:
        raise ValidationError({"note": [_("备注不能超过 500 字")]})
    return _record(ticket, actor=actor, kind=EventKind.NOTE, note=note)


@transaction.atomic
def ticket_reclassify(
    *, actor: User, ticket: Ticket, category: str, urgency: str, reason: str = ""
) -> Ticket:
    """The operator overrides the category or urgency; the SLA deadlines follow the new
    targets, counted from when the ticket was created."""
    errors: Errors = {}
    if category not in Category.values:
        errors["category"] = [_("请选择类别")]
    if urgency not in Urgency.values:
        errors["urgency"] = [_("请选择紧急程度")]
    if errors:
        raise ValidationError(errors)
    ticket = _lock_open(ticket, _("工单当前为“%(status)s”，不能再修改分类"))
    if (ticket.category, ticket.urgency) == (category, urgency):
        raise ValidationError({"category": [_("类别和紧急程度都没有变化")]})
    before = (ticket.get_category_display(), ticket.get_urgency_display())
    was_alerted = ticket.urgency in ALERT_URGENCIES
    respond, resolve = sla_minutes(ticket.community, category, urgency)
    Ticket.objects.filter(pk=ticket.pk).update(
        category=category,
        urgency=urgency,
        overridden=(category, urgency) != (ticket.triage_category, ticket.triage_urgency),
        respond_by=ticket.created_at + dt.timedelta(minutes=respond),
        resolve_by=ticket.created_at + dt.timedelta(minutes=resolve),
    )
    ticket.refresh_from_db()
    with translation.override(settings.LANGUAGE_CODE):
        note = _("%(c0)s·%(u0)s → %(c1)s·%(u1)s") % {
            "c0": before[0],
            "u0": before[1],
            "c1": ticket.get_category_display(),
            "u1": ticket.get_urgency_display(),
        }
        if reason.strip():
            note += f"（{reason.strip()}）"
        _record(
            ticket,
            actor=actor,
            kind=EventKind.OVERRIDE,
            note=note,
            data={"category": category, "urgency": urgency},
        )
    if urgency in ALERT_URGENCIES and not was_alerted:
        _alert_staff(ticket, actor)
    _schedule(ticket)
    return ticket


def _escalate_one(ticket: Ticket, *, actor: User | None, now: dt.datetime, reason: str) -> bool:
    """One level up if nobody else moved it first; the new level's people are told."""
    level = ticket.escalation_level
    if level >= Escalation.STREET or ticket.status not in OPEN_STATUSES:
        return False
    changed = Ticket.objects.filter(
        pk=ticket.pk, escalation_level=level, status__in=OPEN_STATUSES
    ).update(escalation_level=level + 1, escalated_at=now)
    if not changed:
        return False
    ticket.refresh_from_db()
    new_level = Escalation(ticket.escalation_level)
    with translation.override(settings.LANGUAGE_CODE):
        _record(
            ticket,
            actor=actor,
            kind=EventKind.ESCALATE,
            note=f"{new_level.label}：{reason}",
            data={"level": int(new_level)},
        )
        body = _("【邻里】工单%(label)s（%(reason)s）：%(line)s") % {
            "label": new_level.label,
            "reason": reason,
            "line": _ticket_line(ticket),
        }
    if new_level == Escalation.COMMUNITY:
        people = _staff_of(ticket.community_id, Role.COMMUNITY_STAFF)
    else:
        people = _street_admins(ticket.community)
    if ticket.owner is not None:
        people.append(ticket.owner)
    _tell(people, kind="ticket.escalated", body=body, ticket=ticket, actor=actor)
    _schedule(ticket)
    return True


@transaction.atomic
def ticket_escalate(*, actor: User, ticket: Ticket, reason: str) -> Ticket:
    """Escalate by hand (a caller who cannot wait, a problem beyond the grid)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写升级原因")]})
    if ticket.status not in OPEN_STATUSES:
        raise ValidationError(
            {
                "status": [
                    _("工单当前为“%(status)s”，不能升级") % {"status": ticket.get_status_display()}
                ]
            }
        )
    if ticket.escalation_level >= Escalation.STREET:
        raise ValidationError({"status": [_("工单已升级至街道，不能再升级")]})
    if not _escalate_one(ticket, actor=actor, now=timezone.now(), reason=reason):
        raise ValidationError({"status": [_("工单刚被他人更新，请刷新后再试")]})
    return ticket


def _overdue_reason(ticket: Ticket) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        if ticket.status == TicketStatus.NEW:
            return _("超过响应时限未受理")
        return _("超过办结时限未办结")


def tickets_escalate(now: dt.datetime | None = None) -> list[Ticket]:
    """Escalate every overdue ticket one level, across all communities. Idempotent: a ticket
    climbs again only once another response window has passed at its new level."""
    now = now or timezone.now()
    escalated: list[Ticket] = []
    with scopes_disabled():
        due = list(
            Ticket.objects.due_for_escalation(now)
            .select_related("community", "household", "owner")
            .order_by("escalate_after", "pk")
        )
        for ticket in due:
            with transaction.atomic():
                if _escalate_one(ticket, actor=None, now=now, reason=_overdue_reason(ticket)):
                    escalated.append(ticket)
    if escalated:
        logger.info("escalated %d overdue tickets", len(escalated))
    return escalated


@transaction.atomic
def ticket_attach(*, actor: User, ticket: Ticket, upload: UploadedFile) -> TicketAttachment:
    name = (upload.name or "").rsplit("/", 1)[-1][:200] or _("附件")
    size = upload.size or 0
    if size <= 0:
        raise ValidationError({"file": [_("文件是空的")]})
    if size > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"file": [_("文件不能超过 10 MB")]})
    attachment = TicketAttachment(
        ticket=ticket, name=name, size=size, uploaded_by=actor, uploaded_at=timezone.now()
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    with translation.override(settings.LANGUAGE_CODE):
        _record(
            ticket,
            actor=actor,
            kind=EventKind.ATTACHMENT,
            note=_("上传附件：%(name)s") % {"name": name},
            data={"attachment_id": attachment.pk},
        )
    return attachment


@transaction.atomic
def ticket_to_task(*, actor: User, ticket: Ticket, title: str = "") -> Task:
    """An errand (medicine, supplies) becomes a task on the board in one step; the ticket is
    in progress while a volunteer runs it."""
    if not ticket.is_errand:
        raise ValidationError({"category": [_("只有代配药和生活物资诉求可以转为跑腿任务")]})
    ticket = _lock_open(ticket, _("工单当前为“%(status)s”，不能转为任务"))
    if ticket.task_id is not None:
        raise ValidationError({"task": [_("该工单已转为任务 #%(id)s") % {"id": ticket.task_id}]})
    address = ticket.household.address if ticket.household else ""
    with translation.override(settings.LANGUAGE_CODE):
        title = title.strip() or _("%(category)s：%(place)s") % {
            "category": ticket.get_category_display(),
            "place": address or ticket.community.name,
        }
        description = _("来自工单 %(number)s：%(text)s") % {
            "number": ticket.number,
            "text": ticket.description,
        }
    buildings = [ticket.household.unit.building] if ticket.household else []
    task = task_create(
        actor=actor,
        community=ticket.community,
        kind=TaskKind.ERRAND,
        title=title[:100],
        description=description,
        buildings=buildings,
        place=address,
    )
    Ticket.objects.filter(pk=ticket.pk).update(task=task)
    ticket.refresh_from_db()
    with translation.override(settings.LANGUAGE_CODE):
        _record(
            ticket,
            actor=actor,
            kind=EventKind.TASK,
            note=_("转为跑腿任务 #%(id)s") % {"id": task.pk},
            data={"task_id": task.pk},
        )
    if ticket.status in (TicketStatus.NEW, TicketStatus.ACCEPTED):
        with translation.override(settings.LANGUAGE_CODE):
            ticket_start(actor=actor, ticket=ticket, note=_("已派志愿者跑腿"))
    return task


def ticket_reveal_phone(*, actor: User, ticket: Ticket, reason: str) -> str:
    """The caller's number in full (to call back), with an audit record of who and why."""
    reason = reason.strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [_("请填写查看原因")]})
    LogEntry.objects.log_create(
        ticket,
        action=LogEntry.Action.ACCESS,
        changes={},
        actor=actor,
        additional_data={"field": "caller_phone", "reason": reason[:200]},
        force_log=True,
    )
    return ticket.caller_phone or ""


def open_tickets_of(household: Household | None, phone: str = "") -> list[Ticket]:
    """A caller's open tickets: their household's, or those from the same number."""
    condition = Q()
    if household is not None:
        condition |= Q(household=household)
    digits = normalise_phone(phone)
    if digits:
        condition |= Q(caller_phone_index=blind_index(digits, purpose="caller_phone"))
    if not condition:
        return []
    return list(
        Ticket.objects.open().filter(condition).select_related("owner").order_by("-created_at")[:20]
    )
