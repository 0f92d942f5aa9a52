"""Writes of 关爱回访. Pages, the API, the CLI, the background tasks and other apps (meals:
`check_in_request`) call these.

Every change says who and when: plans keep created/updated/paused by, an outcome is an
Attempt row (undone ones stay, marked), each escalation step an Escalation row (by None:
the background job). Generation and escalation are idempotent and safe to run in parallel:
a unique constraint holds one planned check-in per plan and day, and a conditional UPDATE
lets exactly one runner escalate a check-in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.care.choices import (
    ATTEMPTABLE,
    OPEN_STATUSES,
    OUTCOME_STATUS,
    REACHED_STATUSES,
    Channel,
    CheckInKind,
    CheckInSource,
    CheckInStatus,
    EscalationStep,
    FollowUp,
    Outcome,
    PlanKind,
    PlanStatus,
)
from linli.care.models import (
    DEFAULT_ESCALATE_AT,
    UNDO_MINUTES,
    Attempt,
    CarePlan,
    CareSettings,
    CheckIn,
    Escalation,
)
from linli.hotline.actions import TicketInput, ticket_create
from linli.lib.language import in_default_language
from linli.lib.masking import mask_name, mask_phone
from linli.notify.actions import message_send
from linli.registry import actions as registry_actions
from linli.registry.choices import LivingStatus, RevealField
from linli.registry.models import (
    CareTagAssignment,
    Community,
    EmergencyContact,
    Grid,
    Household,
    Resident,
)
from linli.workforce import actions as workforce_actions
from linli.workforce.choices import TaskKind

Errors = dict[str, list[str]]

# Residents no longer to be called.
GONE = (LivingStatus.MOVED_OUT, LivingStatus.DECEASED)
TICKET_CHANNEL = "care_call"


# --- settings ---------------------------------------------------------------------------


@transaction.atomic
def care_settings_set(
    *, actor: User, community: Community, retry_minutes: int, escalate_at: dt.time
) -> CareSettings:
    errors: Errors = {}
    if not 5 <= retry_minutes <= 480:
        errors["retry_minutes"] = [_("再拨间隔应在 5 到 480 分钟之间")]
    if not dt.time(8, 0) <= escalate_at <= dt.time(21, 0):
        errors["escalate_at"] = [_("升级时间应在 08:00 到 21:00 之间")]
    if errors:
        raise ValidationError(errors)
    found, _created = CareSettings.objects.update_or_create(
        community=community,
        defaults={
            "retry_minutes": retry_minutes,
            "escalate_at": escalate_at,
            "updated_at": timezone.now(),
            "updated_by": actor,
        },
    )
    return found


# --- plans ------------------------------------------------------------------------------


@dataclass
class PlanInput:
    kind: str = PlanKind.CALL
    call_every_days: int = 1
    visit_every_days: int = 7
    channel: str = Channel.PHONE
    # None: the first grid worker of the household's grid.
    owner: User | None = None
    preferred_time: dt.time | None = None
    starts_on: dt.date | None = None
    notes: str = ""


def default_owner(household: Household) -> User | None:
    """The household's grid worker (the first one, when a grid has several)."""
    if household.grid_id is None:
        return None
    worker: User | None = (
        User.objects.filter(grids__id=household.grid_id, is_active=True, role=Role.GRID_WORKER)
        .order_by("pk")
        .first()
    )
    return worker


def _grid_owners(community: Community) -> dict[int, User]:
    """Each grid of the community → its first active grid worker."""
    owners: dict[int, User] = {}
    with scopes_disabled():
        links = Grid.workers.through.objects.filter(
            grid__community=community, user__is_active=True, user__role=Role.GRID_WORKER
        ).select_related("user")
        for link in links.order_by("user_id"):
            owners.setdefault(link.grid_id, link.user)
    return owners


def may_own(user: User, community_id: int) -> bool:
    """A plan's owner: a grid worker of one of the community's grids, or its staff."""
    if not user.is_active:
        return False
    with scopes_disabled():
        if user.role == Role.GRID_WORKER:
            return Grid.objects.filter(community_id=community_id, workers=user).exists()
        if user.role == Role.COMMUNITY_STAFF:
            return User.objects.filter(pk=user.pk, area__community_id=community_id).exists()
    return False


def _check_plan(data: PlanInput, community_id: int) -> Errors:
    errors: Errors = {}
    if data.kind not in PlanKind.values:
        errors["kind"] = [_("请选择回访方式：电话问候、定期上门或两者")]
    if data.channel not in Channel.values:
        errors["channel"] = [_("请选择回访渠道：电话、上门或微信视频")]
    if not 1 <= data.call_every_days <= 31:
        errors["call_every_days"] = [_("电话间隔应在 1 到 31 天之间")]
    if not 1 <= data.visit_every_days <= 90:
        errors["visit_every_days"] = [_("上门间隔应在 1 到 90 天之间")]
    if data.owner is not None and not may_own(data.owner, community_id):
        errors["owner"] = [_("负责人须是本社区的网格员或社区工作人员")]
    if len(data.notes) > 2000:
        errors["notes"] = [_("备注不能超过 2000 字")]
    return errors


def on_register(resident: Resident) -> bool:
    return CareTagAssignment._base_manager.filter(resident=resident).exists()


@transaction.atomic
def plan_save(
    *, actor: User, resident: Resident, data: PlanInput, plan: CarePlan | None = None
) -> CarePlan:
    """Create the resident's plan, or change it (pass it). Today's check-in is made at once
    when the plan asks for one today, so a plan made at noon is on today's worklist."""
    household = resident.household
    errors = _check_plan(data, household.community_id)
    if plan is None:
        if not on_register(resident):
            errors["resident"] = [_("%(name)s 不在重点人群台账上") % {"name": resident.name}]
        elif CarePlan._base_manager.filter(resident=resident).exists():
            errors["resident"] = [_("%(name)s 已有关爱计划") % {"name": resident.name}]
    elif plan.resident_id != resident.pk:
        errors["resident"] = [_("计划不属于该居民")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    if plan is None:
        plan = CarePlan(resident=resident, created_by=actor, created_at=now)
    plan.kind = data.kind
    plan.call_every_days = data.call_every_days
    plan.visit_every_days = data.visit_every_days
    plan.channel = data.channel
    plan.owner = data.owner or plan.owner or default_owner(household)
    plan.preferred_time = data.preferred_time
    plan.starts_on = data.starts_on or plan.starts_on or timezone.localdate()
    plan.notes = data.notes.strip()
    plan.updated_at = now
    plan.updated_by = actor
    plan.save()
    _generate([plan], timezone.localdate(), actor=actor)
    return plan


@dataclass(frozen=True)
class BulkResult:
    created: int
    skipped: int


@transaction.atomic
def plans_bulk_create(
    *, actor: User, community: Community, tags: Sequence[str], data: PlanInput
) -> BulkResult:
    """One plan, the same for all, for every register resident of the community with any of
    the tags (living there, not yet planned). Owners: each household's grid worker."""
    from linli.registry.choices import CareTag

    errors = _check_plan(data, community.pk)
    tags = list(dict.fromkeys(tags))
    if not tags:
        errors["tags"] = [_("请至少选择一个重点人群标签")]
    elif set(tags) - set(CareTag.values):
        errors["tags"] = [
            _("没有这个标签：%(tag)s") % {"tag": sorted(set(tags) - set(CareTag.values))[0]}
        ]
    if errors:
        raise ValidationError(errors)
    tagged = CareTagAssignment._base_manager.filter(resident_id=OuterRef("pk"), tag__in=tags)
    with scopes_disabled():
        residents = list(
            Resident.objects.filter(household__community=community)
            .exclude(living_status__in=GONE)
            .filter(Exists(tagged))
            .select_related("household")
            .order_by("household_id", "pk")
        )
        planned = set(
            CarePlan.objects.filter(resident__in=residents).values_list("resident_id", flat=True)
        )
    owners = _grid_owners(community)
    now = timezone.now()
    today = timezone.localdate()
    plans = [
        CarePlan(
            resident=resident,
            kind=data.kind,
            call_every_days=data.call_every_days,
            visit_every_days=data.visit_every_days,
            channel=data.channel,
            owner=data.owner
            or (owners.get(resident.household.grid_id) if resident.household.grid_id else None),
            preferred_time=data.preferred_time,
            starts_on=data.starts_on or today,
            notes=data.notes.strip(),
            created_at=now,
            created_by=actor,
            updated_at=now,
            updated_by=actor,
        )
        for resident in residents
        if resident.pk not in planned
    ]
    CarePlan.objects.bulk_create(plans)
    with scopes_disabled():
        saved = list(
            CarePlan.objects.filter(resident_id__in=[p.resident_id for p in plans]).select_related(
                "resident__household"
            )
        )
    _generate(saved, today, actor=actor)
    return BulkResult(created=len(plans), skipped=len(residents) - len(plans))


@transaction.atomic
def plan_pause(*, actor: User, plan: CarePlan, reason: str) -> CarePlan:
    """Stop making check-ins (in hospital, staying with family); today's open ones go too."""
    reason = reason.strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [_("请填写暂停原因")]})
    if plan.status == PlanStatus.PAUSED:
        raise ValidationError({"status": [_("计划已暂停")]})
    now = timezone.now()
    plan.status = PlanStatus.PAUSED
    plan.pause_reason = reason[:200]
    plan.paused_at = now
    plan.paused_by = actor
    plan.updated_at = now
    plan.updated_by = actor
    plan.save()
    # Untouched check-ins from today on are no longer wanted; tried ones stay as history.
    CheckIn.objects.filter(
        plan=plan, due__gte=timezone.localdate(), status=CheckInStatus.PENDING
    ).exclude(Exists(Attempt._base_manager.filter(check_in_id=OuterRef("pk")))).delete()
    return plan


@transaction.atomic
def plan_resume(*, actor: User, plan: CarePlan) -> CarePlan:
    if plan.status == PlanStatus.ACTIVE:
        raise ValidationError({"status": [_("计划正在进行中")]})
    now = timezone.now()
    plan.status = PlanStatus.ACTIVE
    plan.pause_reason = ""
    plan.paused_at = None
    plan.paused_by = None
    plan.updated_at = now
    plan.updated_by = actor
    plan.save()
    _generate([plan], timezone.localdate(), actor=actor)
    return plan


# --- the day's worklist -----------------------------------------------------------------


def check_ins_due(plans: Iterable[CarePlan], day: dt.date, *, actor: User | None) -> list[CheckIn]:
    """The check-ins (unsaved) these plans ask for on a day and that are not made yet."""
    due = [(plan, kind) for plan in plans if (kind := plan.due_kind(day))]
    due = [(p, k) for p, k in due if p.resident.living_status not in GONE]
    if not due:
        return []
    with scopes_disabled():
        made = set(
            CheckIn.objects.filter(
                plan_id__in=[p.pk for p, _k in due], due=day, source=CheckInSource.PLAN
            ).values_list("plan_id", flat=True)
        )
        owners: dict[int, dict[int, User]] = {}
        rows = []
        for plan, kind in due:
            if plan.pk in made:
                continue
            household = plan.resident.household
            owner = plan.owner
            if owner is None and household.grid_id is not None:
                if household.community_id not in owners:
                    owners[household.community_id] = _grid_owners(household.community)
                owner = owners[household.community_id].get(household.grid_id)
            rows.append(
                CheckIn(
                    resident=plan.resident,
                    plan=plan,
                    community_id=household.community_id,
                    grid_id=household.grid_id,
                    due=day,
                    kind=kind,
                    source=CheckInSource.PLAN,
                    channel=Channel.VISIT if kind == CheckInKind.VISIT else plan.channel,
                    owner=owner,
                    preferred_time=plan.preferred_time,
                    created_by=actor,
                )
            )
    return rows


def _generate(plans: Iterable[CarePlan], day: dt.date, *, actor: User | None) -> int:
    """Make the check-ins these plans ask for on a day. Returns how many."""
    rows = check_ins_due(plans, day, actor=actor)
    with scopes_disabled():
        # A parallel run may have made some in between: the unique constraint keeps one.
        CheckIn.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def active_plans(day: dt.date, communities: Sequence[int] | None = None) -> QuerySet[CarePlan]:
    """Plans that may ask for something on a day (call inside scopes_disabled)."""
    plans = CarePlan.objects.filter(status=PlanStatus.ACTIVE, starts_on__lte=day)
    if communities is not None:
        plans = plans.filter(resident__household__community_id__in=communities)
    return plans.select_related("resident__household__community", "owner")


def worklist_generate(day: dt.date, *, communities: Sequence[int] | None = None) -> int:
    """Each morning (task, `linli care worklist generate`, or lazily by the worklist page):
    the day's check-ins from every active plan. Idempotent: a second run makes none."""
    with scopes_disabled(), transaction.atomic():
        plans = active_plans(day, communities).iterator(chunk_size=2000)
        return _generate(plans, day, actor=None)


def _owner_for(resident: Resident) -> tuple[User | None, str]:
    plan = CarePlan._base_manager.filter(resident=resident).select_related("owner").first()
    if plan is not None and plan.owner is not None and plan.owner.is_active:
        return plan.owner, plan.channel
    return default_owner(resident.household), plan.channel if plan else Channel.PHONE


@transaction.atomic
def check_in_request(
    actor: User | None, *, resident: Resident, reason: str, due: dt.date | None = None
) -> CheckIn:
    """An extra call on the worklist of the resident's grid worker, for today or `due`
    (meals: a missed meal). Asked twice for the same reason and day: the open one is
    returned, not a second."""
    reason = reason.strip()
    today = timezone.localdate()
    due = due or today
    errors: Errors = {}
    if len(reason) < 2:
        errors["reason"] = [_("请填写加访原因")]
    if due < today:
        errors["due"] = [_("加访日期不能早于今天")]
    if resident.living_status in GONE:
        errors["resident"] = [
            _("%(name)s %(status)s，无需回访")
            % {"name": resident.name, "status": resident.get_living_status_display()}
        ]
    if errors:
        raise ValidationError(errors)
    reason = reason[:200]
    with scopes_disabled():
        existing = CheckIn.objects.filter(
            resident=resident,
            due=due,
            source=CheckInSource.REQUEST,
            reason=reason,
            status__in=OPEN_STATUSES,
        ).first()
        if existing is not None:
            return existing
        household = Household.objects.get(pk=resident.household_id)
        owner, channel = _owner_for(resident)
        return CheckIn.objects.create(
            resident=resident,
            community_id=household.community_id,
            grid_id=household.grid_id,
            due=due,
            kind=CheckInKind.CALL,
            source=CheckInSource.REQUEST,
            reason=reason,
            channel=Channel.PHONE if channel == Channel.VISIT else channel,
            owner=owner,
            created_by=actor,
        )


# --- outcomes ---------------------------------------------------------------------------


def _locked(check_in: CheckIn) -> CheckIn:
    with scopes_disabled():
        fresh: CheckIn = (
            CheckIn.objects.select_for_update(of=("self",))
            .select_related("resident__household")
            .get(pk=check_in.pk)
        )
    return fresh


def _ticket_for(actor: User, check_in: CheckIn, needs: str) -> int:
    """A hotline ticket (channel care_call) for a need heard on the call; triage decides
    its category and urgency."""
    resident = check_in.resident
    ticket = ticket_create(
        actor,
        TicketInput(
            community=resident.household.community,
            channel=TICKET_CHANNEL,
            description=needs,
            household=resident.household,
            resident=resident,
            caller_name=resident.name,
            source=f"care_call:{check_in.pk}",
        ),
    )
    return int(ticket.pk)


@transaction.atomic
def check_in_record(
    *,
    actor: User,
    check_in: CheckIn,
    outcome: str,
    channel: str = "",
    note: str = "",
    follow_up: str = "",
    needs: str = "",
) -> Attempt:
    """One attempt and its outcome. Reached with needs: a hotline ticket made in the same
    step (follow_up=ticket), or a proxy order noted (follow_up=proxy_order: the page links
    to the supply order page). Not reached: shown again after the community's minutes."""
    check_in = _locked(check_in)
    channel = channel or check_in.channel
    note = note.strip()
    needs = needs.strip()
    errors: Errors = {}
    if outcome not in Outcome.values:
        errors["outcome"] = [_("请选择结果：平安、有需求或未联系上")]
    elif check_in.status not in ATTEMPTABLE:
        errors["outcome"] = [
            _("该回访已是“%(status)s”，如记错请先撤销") % {"status": check_in.get_status_display()}
        ]
    if channel not in Channel.values:
        errors["channel"] = [_("请选择渠道：电话、上门或微信视频")]
    if len(note) > 500:
        errors["note"] = [_("备注不能超过 500 字")]
    if outcome == Outcome.NEEDS:
        if len(needs) < 2:
            errors["needs"] = [_("请写下居民的需求")]
        if follow_up not in FollowUp.values:
            errors["follow_up"] = [_("请选择后续：生成工单或代下单")]
    elif follow_up or needs:
        errors["follow_up"] = [_("只有“有需求”时才生成工单或代下单")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    attempt = Attempt(
        check_in=check_in,
        at=now,
        by=actor,
        channel=channel,
        outcome=outcome,
        note=note,
        status_before=check_in.status,
        retry_at_before=check_in.retry_at,
    )
    if outcome == Outcome.UNREACHED:
        minutes = CareSettings.for_community(check_in.community_id).retry_minutes
        check_in.retry_at = now + dt.timedelta(minutes=minutes)
        if check_in.status != CheckInStatus.ESCALATED:
            check_in.status = CheckInStatus.UNREACHED
    else:
        check_in.status = OUTCOME_STATUS[outcome]
        check_in.reached_at = now
        check_in.retry_at = None
    if outcome == Outcome.NEEDS:
        check_in.needs = needs[:2000]
        check_in.follow_up = follow_up
        if follow_up == FollowUp.TICKET:
            check_in.ticket_id = _ticket_for(actor, check_in, needs)
    check_in.save()
    attempt.save()
    return attempt


def last_attempt(check_in: CheckIn) -> Attempt | None:
    found: Attempt | None = (
        Attempt._base_manager.filter(check_in=check_in, undone_at__isnull=True)
        .order_by("-at", "-pk")
        .first()
    )
    return found


def undo_refusal(actor: User, attempt: Attempt | None, now: dt.datetime | None = None) -> str:
    """Why this attempt cannot be taken back now ("" when it can)."""
    now = now or timezone.now()
    if attempt is None:
        return _("没有可撤销的记录")
    if attempt.by_id != actor.pk:
        return _("只能撤销自己记录的结果")
    if now - attempt.at > dt.timedelta(minutes=UNDO_MINUTES):
        return _("记录已超过 %(n)d 分钟，不能撤销") % {"n": UNDO_MINUTES}
    return ""


@transaction.atomic
def check_in_undo(*, actor: User, check_in: CheckIn) -> CheckIn:
    """Take back one's own last outcome within a few minutes. The attempt stays, marked as
    undone. A ticket already made is not withdrawn here: the hotline cancels tickets."""
    check_in = _locked(check_in)
    attempt = last_attempt(check_in)
    refusal = undo_refusal(actor, attempt)
    if refusal:
        raise ValidationError({"undo": [refusal]})
    assert attempt is not None  # noqa: S101
    if check_in.ticket_id is not None and attempt.outcome == Outcome.NEEDS:
        raise ValidationError(
            {"undo": [_("已生成工单 #%(id)d，请在工单中取消") % {"id": check_in.ticket_id}]}
        )
    status = attempt.status_before
    if check_in.escalated_at is not None and status in OPEN_STATUSES:
        status = CheckInStatus.ESCALATED
    check_in.status = status
    check_in.retry_at = attempt.retry_at_before
    if status not in REACHED_STATUSES:
        check_in.reached_at = None
    if attempt.outcome == Outcome.NEEDS:
        check_in.follow_up = ""
        check_in.needs = ""
    check_in.save()
    Attempt._base_manager.filter(pk=attempt.pk).update(undone_at=timezone.now(), undone_by=actor)
    return check_in


def check_in_reveal_phone(*, actor: User, check_in: CheckIn) -> str:
    """The resident's full number to dial, with an audit record naming the check-in."""
    return registry_actions.resident_reveal(
        actor=actor,
        resident=check_in.resident,
        field=RevealField.PHONE,
        reason=_("关爱回访拨号（回访 #%(id)d）") % {"id": check_in.pk},
    )


# --- escalation -------------------------------------------------------------------------


def _local_hm(moment: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "H:i")


@in_default_language
def _escalate(check_in: CheckIn, *, actor: User | None, now: dt.datetime) -> bool:
    """The chain for one check-in: a door-visit task, the emergency contacts told, community
    staff (and the owner) alerted; each step recorded. False if another runner got it."""
    with transaction.atomic(), scopes_disabled():
        claimed = CheckIn.objects.filter(
            pk=check_in.pk, escalated_at__isnull=True, status__in=OPEN_STATUSES
        ).update(status=CheckInStatus.ESCALATED, escalated_at=now)
        if not claimed:
            return False
        check_in = CheckIn.objects.select_related(
            "resident__household__community", "resident__household__unit__building", "owner"
        ).get(pk=check_in.pk)
        resident = check_in.resident
        household = resident.household
        community = household.community
        name = mask_name(resident.name)

        task = workforce_actions.task_create(
            actor=actor,
            community=community,
            kind=TaskKind.DOOR_SERVICE,
            title=_("关爱上门探视（电话未联系上）"),
            description=_(
                "今天的关爱回访未能联系上住户。请尽快上门敲门确认平安；"
                "无人应答或情况异常请立即联系网格员和社区。"
            ),
            starts_at=now,
            stops=[workforce_actions.StopInput(household=household, items=_("上门探视，确认平安"))],
        )
        Escalation.objects.create(
            check_in=check_in,
            step=EscalationStep.DOOR_VISIT,
            at=now,
            by=actor,
            task=task,
            note=_("已派上门探视任务 #%(id)d") % {"id": task.pk},
        )

        contacts = list(EmergencyContact.objects.filter(resident=resident).order_by("pk"))
        body = _(
            "【邻里】%(community)s关爱回访：今天多次未能联系上您的家人%(name)s（%(address)s），"
            "社区已安排人员上门探视。如您已联系上或了解情况，请致电社区告知。"
        ) % {"community": community.name, "name": name, "address": household.address}
        for contact in contacts:
            message_send(
                kind="care.unreached_contact",
                body=body,
                to_phone=contact.phone,
                community_id=community.pk,
                actor=actor,
            )
        Escalation.objects.create(
            check_in=check_in,
            step=EscalationStep.CONTACT,
            at=now,
            by=actor,
            messages_sent=len(contacts),
            note="、".join(f"{c.name}（{c.relation}）{mask_phone(c.phone or '')}" for c in contacts)
            or _("未登记紧急联系人，请网格员另行联系家属"),
        )

        staff = list(
            User.objects.filter(
                role=Role.COMMUNITY_STAFF, is_active=True, area__community=community
            ).order_by("pk")
        )
        if check_in.owner is not None and check_in.owner.is_active:
            staff.append(check_in.owner)
        alert = _(
            "【邻里】关爱回访升级：%(name)s（%(address)s）截至%(time)s仍未联系上，"
            "已派上门探视任务 #%(task)d，并已通知紧急联系人 %(n)d 人。"
        ) % {
            "name": name,
            "address": household.address,
            "time": _local_hm(now),
            "task": task.pk,
            "n": len(contacts),
        }
        for user in dict.fromkeys(staff):
            message_send(
                kind="care.unreached_staff",
                body=alert,
                to_user=user,
                community_id=community.pk,
                actor=actor,
            )
        Escalation.objects.create(
            check_in=check_in,
            step=EscalationStep.STAFF,
            at=now,
            by=actor,
            messages_sent=len(dict.fromkeys(staff)),
            note="、".join(str(u) for u in dict.fromkeys(staff)) or _("本社区没有在岗工作人员账号"),
        )
    return True


def escalation_due(now: dt.datetime) -> list[CheckIn]:
    """Open check-ins past their community's hour today, or left open yesterday."""
    local = timezone.localtime(now)
    today = local.date()
    with scopes_disabled():
        open_ones = list(
            CheckIn.objects.filter(
                status__in=OPEN_STATUSES,
                escalated_at__isnull=True,
                due__lte=today,
                # Yesterday's leftovers (the job did not run at the hour); older ones are
                # history, not an emergency to raise now.
                due__gte=today - dt.timedelta(days=1),
            ).order_by("community_id", "due", "pk")
        )
        hours = {
            s.community_id: s.escalate_at
            for s in CareSettings.objects.filter(
                community_id__in={c.community_id for c in open_ones}
            )
        }
    return [
        c
        for c in open_ones
        if c.due < today or local.time() >= hours.get(c.community_id, DEFAULT_ESCALATE_AT)
    ]


def check_ins_escalate(now: dt.datetime | None = None) -> list[CheckIn]:
    """Run the chain for every check-in still unreached at its community's hour (default
    16:00). Run by the task, `linli care escalate` and the db_worker; safe to repeat."""
    now = now or timezone.now()
    done = []
    for check_in in escalation_due(now):
        if _escalate(check_in, actor=None, now=now):
            done.append(check_in)
    return done


def check_in_escalate(*, actor: User, check_in: CheckIn) -> CheckIn:
    """Escalate one open check-in now, before the hour (the worker fears something is wrong)."""
    if check_in.escalated_at is not None:
        raise ValidationError({"status": [_("已升级过")]})
    if check_in.status not in OPEN_STATUSES:
        raise ValidationError(
            {"status": [_("该回访已是“%(s)s”，无需升级") % {"s": check_in.get_status_display()}]}
        )
    if not Attempt._base_manager.filter(check_in=check_in, undone_at__isnull=True).exists():
        raise ValidationError({"status": [_("请先尝试联系一次，未联系上再升级")]})
    if not _escalate(check_in, actor=actor, now=timezone.now()):
        raise ValidationError({"status": [_("该回访刚被他人处理，请刷新")]})
    with scopes_disabled():
        fresh: CheckIn = CheckIn.objects.get(pk=check_in.pk)
    return fresh
