"""Writes for volunteers, teams and the task board. Pages, the API and the CLI call these.

Every task transition is a conditional UPDATE on the status the caller saw, so two people
acting on one task at once cannot both win: the loser gets a clear error, never a
half-written task. Each transition leaves a TaskEvent with who and when.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.lib.encryption import blind_index
from linli.lib.identity import check_id_number, check_mobile
from linli.notify.actions import message_send
from linli.registry.choices import LivingStatus
from linli.registry.models import Building, Community, Compound, Household, Resident, UserArea
from linli.workforce.choices import (
    DOOR_KINDS,
    Skill,
    StopStatus,
    TaskKind,
    TaskStatus,
    TeamKind,
    VolunteerStatus,
    availability_choices,
)
from linli.workforce.models import (
    MAX_CODE_ATTEMPTS,
    Task,
    TaskEvent,
    TaskStop,
    Team,
    Volunteer,
)

Errors = dict[str, list[str]]


# --- volunteers -------------------------------------------------------------------------


@dataclass
class SignupInput:
    name: str
    phone: str
    id_number: str
    password: str
    compound: Compound | None = None
    building: Building | None = None
    skills: Sequence[str] = ()
    availability: Sequence[str] = ()
    is_party_member: bool = False
    work_unit: str = ""
    last_negative_test_at: dt.datetime | None = None


def _check_signup(community: Community, data: SignupInput) -> tuple[Errors, str, str]:
    errors: Errors = {}
    if not data.name.strip():
        errors["name"] = [_("请填写姓名")]
    id_checked = check_id_number(data.id_number)
    phone_checked = check_mobile(data.phone)
    if not data.id_number.strip():
        errors["id_number"] = [_("请填写身份证号")]
    elif id_checked.errors:
        errors["id_number"] = id_checked.errors
    if not data.phone.strip():
        errors["phone"] = [_("请填写手机号")]
    elif phone_checked.errors:
        errors["phone"] = phone_checked.errors
    if data.compound is not None and data.compound.community_id != community.pk:
        errors["compound"] = [_("所选小区不属于%(community)s") % {"community": community.name}]
    if data.building is not None and (
        data.building.compound.community_id != community.pk
        or (data.compound is not None and data.building.compound_id != data.compound.pk)
    ):
        errors["building"] = [_("所选楼栋不在所选小区内")]
    unknown_skills = set(data.skills) - set(Skill.values)
    if unknown_skills:
        errors["skills"] = [_("没有这项技能：%(skill)s") % {"skill": sorted(unknown_skills)[0]}]
    slots = {code for code, _label in availability_choices()}
    unknown_slots = set(data.availability) - slots
    if unknown_slots:
        errors["availability"] = [_("没有这个时段：%(slot)s") % {"slot": sorted(unknown_slots)[0]}]
    if data.last_negative_test_at and data.last_negative_test_at > timezone.now():
        errors["last_negative_test_at"] = [_("核酸检测时间不能晚于现在")]
    try:
        validate_password(data.password)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    return errors, id_checked.value, phone_checked.value


def _duplicate_errors(id_number: str, phone: str, exclude_pk: int | None = None) -> Errors:
    """Same ID or phone already signed up (anywhere: one person, one sign-up)."""
    errors: Errors = {}
    with scopes_disabled():
        others = Volunteer.objects.exclude(status=VolunteerStatus.REJECTED).exclude(
            pk=exclude_pk or 0
        )
        if (
            id_number
            and others.filter(
                id_number_index=blind_index(id_number, purpose="volunteer_id_number")
            ).exists()
        ):
            errors["id_number"] = [_("该身份证号已报名过志愿者")]
        if (
            phone
            and others.filter(phone_index=blind_index(phone, purpose="volunteer_phone")).exists()
        ):
            errors["phone"] = [_("该手机号已报名过志愿者")]
    return errors


@transaction.atomic
def volunteer_signup(*, community: Community, data: SignupInput) -> Volunteer:
    """A sign-up from the QR page: a pending volunteer with an account that stays off
    until staff verify them."""
    errors, id_number, phone = _check_signup(community, data)
    if not errors:
        errors = _duplicate_errors(id_number, phone)
    if errors:
        raise ValidationError(errors)
    user = User(
        username=f"vol-{secrets.token_hex(5)}",
        role=Role.VOLUNTEER,
        display_name=data.name.strip(),
        is_active=False,
    )
    user.set_password(data.password)
    user.save()
    volunteer = Volunteer(
        community=community,
        user=user,
        name=data.name.strip(),
        compound=data.compound or (data.building.compound if data.building else None),
        building=data.building,
        skills=sorted(set(data.skills)),
        availability=[code for code, _label in availability_choices() if code in data.availability],
        is_party_member=data.is_party_member,
        work_unit=data.work_unit.strip(),
        last_negative_test_at=data.last_negative_test_at,
    )
    volunteer.set_personal_numbers(id_number=id_number, phone=phone)
    try:
        with transaction.atomic():
            volunteer.save()
    except IntegrityError:
        # Two sign-ups with the same number at once: the constraint caught the second.
        duplicates = _duplicate_errors(id_number, phone) or {"phone": [_("重复报名")]}
        raise ValidationError(duplicates) from None
    return volunteer


@transaction.atomic
def volunteer_review(
    *, actor: User, volunteer: Volunteer, status: str, reason: str = ""
) -> Volunteer:
    """Verify, reject or suspend a volunteer. Verified switches their account on and gives
    it their community; anything else switches it off."""
    reason = reason.strip()
    if status not in VolunteerStatus.values or status == VolunteerStatus.PENDING:
        raise ValidationError({"status": [_("只能审核为：通过、不通过或暂停")]})
    if status != VolunteerStatus.VERIFIED and not reason:
        raise ValidationError({"reason": [_("请填写原因")]})
    if status == VolunteerStatus.VERIFIED:
        duplicates = _duplicate_errors(volunteer.id_number, volunteer.phone, volunteer.pk)
        if duplicates:
            raise ValidationError(duplicates)
    volunteer.status = status
    volunteer.status_reason = reason[:200]
    volunteer.reviewed_at = timezone.now()
    volunteer.reviewed_by = actor
    volunteer.save()
    user = volunteer.user
    user.is_active = status == VolunteerStatus.VERIFIED
    user.save(update_fields=["is_active"])
    UserArea.objects.update_or_create(
        user=user, defaults={"community": volunteer.community, "street": None}
    )
    return volunteer


@transaction.atomic
def volunteer_update(
    *,
    actor: User,
    volunteer: Volunteer,
    skills: Sequence[str] | None = None,
    availability: Sequence[str] | None = None,
    last_negative_test_at: dt.datetime | None = None,
    work_unit: str | None = None,
    is_party_member: bool | None = None,
) -> Volunteer:
    """What a volunteer (or staff for them) keeps up to date: skills, time slots, latest test."""
    errors: Errors = {}
    if skills is not None:
        unknown = set(skills) - set(Skill.values)
        if unknown:
            errors["skills"] = [_("没有这项技能：%(skill)s") % {"skill": sorted(unknown)[0]}]
        volunteer.skills = sorted(set(skills))
    if availability is not None:
        slots = [code for code, _label in availability_choices()]
        unknown = set(availability) - set(slots)
        if unknown:
            errors["availability"] = [_("没有这个时段：%(slot)s") % {"slot": sorted(unknown)[0]}]
        volunteer.availability = [code for code in slots if code in availability]
    if last_negative_test_at is not None:
        if last_negative_test_at > timezone.now():
            errors["last_negative_test_at"] = [_("核酸检测时间不能晚于现在")]
        volunteer.last_negative_test_at = last_negative_test_at
    if work_unit is not None:
        volunteer.work_unit = work_unit.strip()[:100]
    if is_party_member is not None:
        volunteer.is_party_member = is_party_member
    if errors:
        raise ValidationError(errors)
    volunteer.save()
    return volunteer


def volunteer_reveal(*, actor: User, volunteer: Volunteer, field: str, reason: str) -> str:
    """Show a volunteer's ID or phone in full, with an audit record of who, when and why."""
    if field not in ("id_number", "phone"):
        raise ValidationError({"field": [_("不能查看该字段")]})
    reason = reason.strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [_("请填写查看原因")]})
    LogEntry.objects.log_create(
        volunteer,
        action=LogEntry.Action.ACCESS,
        changes={},
        actor=actor,
        additional_data={"field": field, "reason": reason[:200]},
        force_log=True,
    )
    value: str = getattr(volunteer, field) or ""
    return value


# --- teams ------------------------------------------------------------------------------


@transaction.atomic
def team_save(
    *,
    actor: User,
    community: Community,
    name: str,
    kind: str,
    leader: User | None = None,
    members: Sequence[User] = (),
    buildings: Sequence[Building] = (),
    team: Team | None = None,
) -> Team:
    errors: Errors = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("请填写队伍名称")]
    if kind not in TeamKind.values:
        errors["kind"] = [_("请选择队伍类型")]
    if team is None or team.name != name:
        with scopes_disabled():
            if Team.objects.filter(community=community, name=name).exclude(
                pk=team.pk if team else 0
            ):
                errors["name"] = [_("本社区已有同名队伍")]
    outside = [b for b in buildings if b.compound.community_id != community.pk]
    if outside:
        errors["buildings"] = [_("%(building)s 不在本社区") % {"building": outside[0]}]
    member_ids = {m.pk for m in members}
    if leader is not None:
        member_ids.add(leader.pk)
    outsiders = User.objects.filter(pk__in=member_ids).exclude(
        Q(area__community=community) | Q(grids__community=community)
    )
    if outsiders.exists():
        errors["members"] = [
            _("%(user)s 不是本社区的志愿者或工作人员") % {"user": outsiders.first()}
        ]
    if errors:
        raise ValidationError(errors)
    team = team or Team(community=community)
    team.name = name
    team.kind = kind
    team.leader = leader
    team.save()
    team.members.set(member_ids)
    team.buildings.set(buildings)
    return team


# --- tasks ------------------------------------------------------------------------------


@dataclass
class StopInput:
    household: Household
    items: str = ""


def _record(task: Task, *, actor: User | None, before: str, note: str = "") -> None:
    TaskEvent.objects.create(
        task=task, actor=actor, from_status=before, to_status=task.status, note=note[:300]
    )


@transaction.atomic
def task_create(
    *,
    actor: User | None,
    community: Community,
    kind: str,
    title: str,
    description: str = "",
    buildings: Sequence[Building] = (),
    place: str = "",
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    required_skills: Sequence[str] = (),
    size: int | None = None,
    stops: Sequence[StopInput] = (),
) -> Task:
    errors: Errors = {}
    if kind not in TaskKind.values:
        errors["kind"] = [_("请选择任务类型")]
    if not title.strip():
        errors["title"] = [_("请填写任务标题")]
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_at"] = [_("结束时间必须晚于开始时间")]
    unknown = set(required_skills) - set(Skill.values)
    if unknown:
        errors["required_skills"] = [_("没有这项技能：%(skill)s") % {"skill": sorted(unknown)[0]}]
    outside = [b for b in buildings if b.compound.community_id != community.pk]
    if outside:
        errors["buildings"] = [_("%(building)s 不在本社区") % {"building": outside[0]}]
    if stops and kind not in DOOR_KINDS:
        errors["stops"] = [_("只有送货、上门服务和心愿配送任务有送达点")]
    if kind in DOOR_KINDS and not stops:
        errors["stops"] = [_("请至少选择一户")]
    seen: set[int] = set()
    for stop in stops:
        if stop.household.community_id != community.pk:
            errors["stops"] = [_("%(address)s 不在本社区") % {"address": stop.household.address}]
        if stop.household.pk in seen:
            errors["stops"] = [_("%(address)s 重复") % {"address": stop.household.address}]
        seen.add(stop.household.pk)
    if size is not None and size < 1:
        errors["size"] = [_("工作量至少为 1")]
    if errors:
        raise ValidationError(errors)
    buildings = list(buildings) or sorted(
        {s.household.unit.building for s in stops}, key=lambda b: (b.compound_id, b.sort_key)
    )
    if not place:
        place = "、".join(str(b) for b in buildings[:3]) + ("等" if len(buildings) > 3 else "")
    task = Task.objects.create(
        community=community,
        kind=kind,
        title=title.strip()[:100],
        description=description.strip(),
        place=place[:160],
        starts_at=starts_at,
        ends_at=ends_at,
        required_skills=sorted(set(required_skills)),
        size=size or max(len(stops), 1),
        created_by=actor,
    )
    task.buildings.set(buildings)
    TaskStop.objects.bulk_create(
        TaskStop(
            task=task,
            household=stop.household,
            address=stop.household.address,
            items=stop.items.strip()[:300],
            position=position,
        )
        for position, stop in enumerate(stops)
    )
    _record(task, actor=actor, before="", note=_("创建任务"))
    return task


def _eligibility_error(volunteer: Volunteer, task: Task) -> None:
    reasons = volunteer.ineligibility(skills=list(task.required_skills))
    if volunteer.community_id != task.community_id:
        reasons.append(_("志愿者不属于该任务所在社区"))
    if reasons:
        raise ValidationError({"volunteer": reasons})


def _move(
    task: Task,
    to: str,
    *,
    actor: User | None,
    note: str = "",
    allowed_from: Sequence[str] | None = None,
    **fields: Any,
) -> Task:
    """Move the task from the status it has in the database to `to`, or refuse clearly."""
    before = task.status
    if allowed_from is not None and before not in allowed_from:
        raise ValidationError(
            {
                "status": [
                    _("任务当前为“%(status)s”，不能这样操作")
                    % {"status": task.get_status_display()}
                ]
            }
        )
    if not task.can_become(to):
        raise ValidationError(
            {
                "status": [
                    _("任务当前为“%(status)s”，不能改为“%(to)s”")
                    % {"status": task.get_status_display(), "to": TaskStatus(to).label}
                ]
            }
        )
    changed = Task.objects.filter(pk=task.pk, status=before).update(status=to, **fields)
    if not changed:
        raise ValidationError({"status": [_("任务刚被他人更新，请刷新后再试")]})
    task.refresh_from_db()
    _record(task, actor=actor, before=before, note=note)
    return task


@transaction.atomic
def task_assign(*, actor: User, task: Task, volunteer: Volunteer) -> Task:
    """Staff give a task to a volunteer (or to another one): it waits for them to accept."""
    _eligibility_error(volunteer, task)
    return _move(
        task,
        TaskStatus.ASSIGNED,
        actor=actor,
        note=_("指派给 %(name)s") % {"name": volunteer.name},
        allowed_from=[TaskStatus.OPEN, TaskStatus.ASSIGNED, TaskStatus.ACCEPTED],
        volunteer=volunteer,
        assigned_at=timezone.now(),
        accepted_at=None,
    )


@transaction.atomic
def task_take(*, volunteer: Volunteer, task: Task) -> Task:
    """A volunteer takes an open task from the board. Of many who press at once, the one
    whose UPDATE finds it still open gets it; the others are told it is gone."""
    _eligibility_error(volunteer, task)
    now = timezone.now()
    changed = Task.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(
        status=TaskStatus.ACCEPTED, volunteer=volunteer, assigned_at=now, accepted_at=now
    )
    if not changed:
        raise ValidationError({"status": [_("这个任务已被其他志愿者领取")]})
    task.refresh_from_db()
    _record(task, actor=volunteer.user, before=TaskStatus.OPEN, note=_("志愿者领取"))
    return task


@transaction.atomic
def task_accept(*, actor: User, task: Task) -> Task:
    return _move(
        task,
        TaskStatus.ACCEPTED,
        actor=actor,
        allowed_from=[TaskStatus.ASSIGNED],
        accepted_at=timezone.now(),
    )


@transaction.atomic
def task_release(*, actor: User, task: Task, reason: str = "") -> Task:
    """The volunteer gives the task back (or staff take it off them): it is open again."""
    return _move(
        task,
        TaskStatus.OPEN,
        actor=actor,
        note=reason or _("退回任务"),
        allowed_from=[TaskStatus.ASSIGNED, TaskStatus.ACCEPTED],
        volunteer=None,
        assigned_at=None,
        accepted_at=None,
    )


def _household_phones(household_id: int) -> list[str]:
    # The system, not the volunteer, reads the residents' numbers to send the message.
    with scopes_disabled():
        residents = Resident.objects.filter(
            household_id=household_id, living_status=LivingStatus.LIVING_HERE
        ).exclude(phone_index="")
        return sorted({r.phone for r in residents if r.phone})


def _tell_household(stop: TaskStop, *, kind: str, body: str, actor: User | None) -> None:
    """Send `body` to every phone of the household (write it in residents' language)."""
    for phone in _household_phones(stop.household_id):
        message_send(
            kind=kind,
            body=body,
            to_phone=phone,
            community_id=stop.task.community_id,
            actor=actor,
        )


@transaction.atomic
def task_start(*, actor: User, task: Task) -> Task:
    """On the way: each household on the task gets its door code by message."""
    task = _move(task, TaskStatus.IN_PROGRESS, actor=actor, started_at=timezone.now())
    for stop in task.stops.filter(status=StopStatus.PENDING):
        # Households read the default language, whatever the volunteer's screen shows.
        with translation.override(settings.LANGUAGE_CODE):
            body = _(
                "【邻里】志愿者正在为您送达（%(what)s）。收货码 %(code)s，请在志愿者上门时告知。"
            ) % {"what": stop.items or task.title, "code": stop.door_code}
        _tell_household(stop, kind="task.on_the_way", body=body, actor=actor)
    return task


def _credit_minutes(task: Task, finished: dt.datetime) -> int:
    planned = task.planned_minutes()
    if planned:
        return planned
    began = task.started_at or task.accepted_at or finished
    actual = int((finished - began).total_seconds() // 60)
    return max(15, -(-actual // 15) * 15)  # whole quarter hours, at least one


@transaction.atomic
def task_finish(
    *, actor: User, task: Task, note: str = "", photo: UploadedFile | None = None
) -> Task:
    if task.stops.filter(status=StopStatus.PENDING).exists():
        raise ValidationError({"stops": [_("还有未处理的送达点")]})
    finished = timezone.now()
    task = _move(
        task,
        TaskStatus.DONE,
        actor=actor,
        note=note,
        finished_at=finished,
        proof_note=note.strip()[:200],
        minutes=_credit_minutes(task, finished),
    )
    if photo is not None:
        task.proof_photo = photo
        task.save(update_fields=["proof_photo"])
    return task


@transaction.atomic
def task_fail(*, actor: User, task: Task, reason: str) -> Task:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写未完成的原因")]})
    return _move(
        task,
        TaskStatus.FAILED,
        actor=actor,
        note=reason,
        failure_reason=reason[:200],
        finished_at=timezone.now(),
    )


@transaction.atomic
def task_reopen(*, actor: User, task: Task, reason: str = "") -> Task:
    """A failed task goes back on the board; doors not reached are tried again."""
    task = _move(
        task,
        TaskStatus.OPEN,
        actor=actor,
        note=reason or _("重新发布"),
        allowed_from=[TaskStatus.FAILED],
        volunteer=None,
        assigned_at=None,
        accepted_at=None,
        started_at=None,
        finished_at=None,
    )
    task.stops.filter(status=StopStatus.FAILED).update(
        status=StopStatus.PENDING, failure_reason="", done_at=None, done_by=None
    )
    return task


@transaction.atomic
def task_cancel(*, actor: User, task: Task, reason: str) -> Task:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写取消原因")]})
    return _move(task, TaskStatus.CANCELLED, actor=actor, note=reason)


@transaction.atomic
def task_set_minutes(*, actor: User, task: Task, minutes: int) -> Task:
    """Staff correct the hours credited for a finished task."""
    if task.status != TaskStatus.DONE:
        raise ValidationError({"minutes": [_("只有已完成的任务才计服务时长")]})
    if not 0 <= minutes <= 24 * 60:
        raise ValidationError({"minutes": [_("服务时长应在 0 到 1440 分钟之间")]})
    before = task.minutes
    Task.objects.filter(pk=task.pk).update(minutes=minutes)
    task.refresh_from_db()
    _record(
        task,
        actor=actor,
        before=task.status,
        note=_("服务时长 %(before)d → %(after)d 分钟") % {"before": before, "after": minutes},
    )
    return task


# --- doors ------------------------------------------------------------------------------


def _lock_stop(stop: TaskStop) -> TaskStop:
    locked = TaskStop.objects.select_for_update().select_related("task").get(pk=stop.pk)
    if locked.task.status != TaskStatus.IN_PROGRESS:
        raise ValidationError({"status": [_("请先点“出发”开始任务，再处理送达点")]})
    if locked.status != StopStatus.PENDING:
        raise ValidationError(
            {"status": [_("该户已处理：%(status)s") % {"status": locked.get_status_display()}]}
        )
    return locked


def _finish_if_all_doors_done(stop: TaskStop, actor: User) -> None:
    """The last door settles the task: done if anything reached a door, else failed (so it
    can be reopened and the doors tried again)."""
    task = stop.task
    outcomes = set(task.stops.values_list("status", flat=True))
    if StopStatus.PENDING in outcomes:
        return
    if outcomes == {StopStatus.FAILED}:
        task_fail(actor=actor, task=task, reason=_("全部送达点均未送达"))
    else:
        task_finish(actor=actor, task=task, note=_("全部送达点已处理"))


def stop_deliver(*, actor: User, stop: TaskStop, code: str) -> TaskStop:
    """Delivered into the household's hands: the code they hold proves it was their door."""
    with transaction.atomic():
        stop = _lock_stop(stop)
        if stop.code_attempts >= MAX_CODE_ATTEMPTS:
            raise ValidationError(
                {
                    "code": [
                        _("收货码已输错%(n)d次，请改用“放门口”并拍照") % {"n": MAX_CODE_ATTEMPTS}
                    ]
                }
            )
        if not constant_time_compare(code.strip(), stop.door_code):
            TaskStop.objects.filter(pk=stop.pk).update(code_attempts=F("code_attempts") + 1)
            wrong = True
        else:
            wrong = False
            stop.status = StopStatus.DELIVERED
            stop.proof = "code"
            stop.done_at = timezone.now()
            stop.done_by = actor
            stop.save()
            _finish_if_all_doors_done(stop, actor)
    if wrong:
        # Outside the block above, so the counted attempt is kept.
        raise ValidationError({"code": [_("收货码不正确")]})
    return stop


@transaction.atomic
def stop_left_at_door(
    *, actor: User, stop: TaskStop, photo: UploadedFile | None = None
) -> TaskStop:
    """Contactless delivery: left at the door, and the household is told."""
    stop = _lock_stop(stop)
    stop.status = StopStatus.LEFT_AT_DOOR
    stop.proof = "photo" if photo is not None else ""
    if photo is not None:
        stop.photo = photo
    stop.done_at = timezone.now()
    stop.done_by = actor
    stop.save()
    with translation.override(settings.LANGUAGE_CODE):
        body = _("【邻里】您的%(what)s已由志愿者放在家门口（%(address)s），请尽快取回。") % {
            "what": stop.items or stop.task.title,
            "address": stop.address,
        }
    _tell_household(stop, kind="task.left_at_door", body=body, actor=actor)
    _finish_if_all_doors_done(stop, actor)
    return stop


@transaction.atomic
def stop_fail(*, actor: User, stop: TaskStop, reason: str) -> TaskStop:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写未送达的原因")]})
    stop = _lock_stop(stop)
    stop.status = StopStatus.FAILED
    stop.failure_reason = reason[:200]
    stop.done_at = timezone.now()
    stop.done_by = actor
    stop.save()
    _tell_grid_workers(stop, actor=actor)
    _finish_if_all_doors_done(stop, actor)
    return stop


def _tell_grid_workers(stop: TaskStop, *, actor: User | None) -> None:
    """A door not reached: the household's grid workers are told, to follow it up."""
    with scopes_disabled():
        grid_id = (
            Household.objects.filter(pk=stop.household_id).values_list("grid_id", flat=True).first()
        )
        workers = list(
            User.objects.filter(grids__id=grid_id, is_active=True).distinct() if grid_id else []
        )
    with translation.override(settings.LANGUAGE_CODE):
        body = _("【邻里】%(address)s 的%(what)s未送达：%(reason)s。请联系住户跟进。") % {
            "address": stop.address,
            "what": stop.items or stop.task.title,
            "reason": stop.failure_reason,
        }
    for worker in workers:
        message_send(
            kind="task.stop_failed",
            body=body,
            to_user=worker,
            community_id=stop.task.community_id,
            actor=actor,
        )
