"""Volunteers, teams, the task board and its figures in the REST API (errors: linli/api.py).

Operations parse, check access (workforce/access.py: 403 for a role that may not, 404 outside
the area) and call the actions. A volunteer sees their own record and tasks and the open
tasks, the doors of a task only while it is theirs, and never the codes households hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError

from linli.accounts.api import api_user
from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.lib import rest
from linli.lib.encryption import blind_index
from linli.lib.identity import check_mobile
from linli.lib.limits import over_limit
from linli.lib.rest import (
    ERRORS,
    ErrorOut,
    InputSchema,
    Page,
    PageQuery,
    aware,
    fields_renamed,
    local_time,
    page_of,
    pick,
)
from linli.registry import access as registry_access
from linli.registry.models import Building, Community, Compound, Household, UserArea
from linli.registry.scope import area_for
from linli.workforce import access, actions, figures
from linli.workforce.choices import (
    Skill,
    TaskKind,
    TaskStatus,
    TeamKind,
    VolunteerStatus,
    availability_choices,
)
from linli.workforce.models import Task, TaskEvent, TaskStop, Team, Volunteer

router = Router()
volunteers = Router(tags=["志愿者"])
teams = Router(tags=["队伍"])
board = Router(tags=["任务"])
numbers = Router(tags=["服务时长与统计"])
router.add_router("", volunteers)
router.add_router("", teams)
router.add_router("", board)
router.add_router("", numbers)

SKILLS_HELP = "技能代码：" + "、".join(f"{s.value}（{s.label}）" for s in Skill)
SLOTS_HELP = "时段代码：星期 1–7 加 am/pm/eve，如 1-am（周一上午）"


# --- shared pieces --------------------------------------------------------------------------


def _dispatcher(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_dispatch(user), _("您的角色无权调度任务"))
    return user


def _manager(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_manage_volunteers(user), _("您的角色无权管理志愿者和队伍"))
    return user


def _board_reader(request: HttpRequest) -> User:
    """Dispatchers, and volunteers with a record (they see theirs and the open tasks)."""
    user = api_user(request)
    rest.require(
        access.can_dispatch(user) or access.is_volunteer(user),
        _("您的角色无权查看任务"),
    )
    return user


def _community_for_write(user: User, code: str | None) -> Community:
    """The community a new record belongs to: the one named, or the user's only one."""
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


class ChoiceOut(Schema):
    code: str
    label: str


def _choices(codes: list[str], labels: Mapping[str, object]) -> list[ChoiceOut]:
    return [ChoiceOut(code=code, label=str(labels.get(code, code))) for code in codes]


SKILL_LABELS = dict(Skill.choices)


class Ref(Schema):
    id: int
    name: str


class ReasonIn(InputSchema):
    reason: str = Field("", max_length=200, description="原因")


# --- volunteers -----------------------------------------------------------------------------


class SignupIn(InputSchema):
    name: str = Field(min_length=1, max_length=64, description="姓名")
    phone: str = Field(min_length=1, max_length=20, description="手机号")
    id_number: str = Field(min_length=1, max_length=18, description="身份证号")
    password: str = Field(min_length=1, max_length=128, description="登录密码（审核通过后可用）")
    compound_id: int | None = Field(None, description="居住小区")
    building_id: int | None = Field(None, description="居住楼栋")
    skills: list[str] = Field(default_factory=list, description=SKILLS_HELP)
    availability: list[str] = Field(default_factory=list, description=SLOTS_HELP)
    is_party_member: bool = Field(False, description="是否党员")
    work_unit: str = Field("", max_length=100, description="工作单位（在职党员报到）")
    last_negative_test_at: dt.datetime | None = Field(None, description="最近一次核酸阴性时间")


class SignupOut(Schema):
    id: int
    username: str = Field(description="审核通过后用此用户名和密码登录")
    status: str
    status_label: str
    message: str


class VolunteerOut(Schema):
    id: int
    community_id: int
    name: str
    username: str
    id_number_masked: str = Field(description="身份证号（已隐藏）；完整号码请用 reveal")
    phone_masked: str = Field(description="手机号（已隐藏）")
    compound_id: int | None
    building_id: int | None
    skills: list[ChoiceOut] = Field(description="技能")
    availability: list[ChoiceOut] = Field(description="可服务时段")
    is_party_member: bool
    work_unit: str
    last_negative_test_at: dt.datetime | None = Field(description="最近一次核酸阴性时间")
    test_expires_at: dt.datetime | None = Field(description="核酸有效至（按社区规定的小时数）")
    status: str
    status_label: str
    status_reason: str
    reviewed_at: dt.datetime | None
    created_at: dt.datetime = Field(description="报名时间")
    eligible: bool = Field(description="现在能否接任务")
    ineligible_reasons: list[str] = Field(description="不能接任务的原因")


class VolunteerQuery(PageQuery):
    status: VolunteerStatus | None = Field(None, description="审核状态")
    skill: Skill | None = Field(None, description="有此技能")
    q: str | None = Field(None, max_length=64, description="姓名包含，或完整手机号")
    community: str | None = Field(None, description="社区编码")


class ReviewIn(InputSchema):
    status: Literal["verified", "rejected", "suspended"] = Field(
        description="verified 通过、rejected 不通过、suspended 暂停"
    )
    reason: str = Field("", max_length=200, description="原因（不通过或暂停时必填）")


class RevealIn(InputSchema):
    field: Literal["id_number", "phone"] = Field(description="id_number 或 phone")
    reason: str = Field(max_length=200, description="查看原因（记入审计日志）")


class RevealOut(Schema):
    field: str
    value: str


class VolunteerPatch(InputSchema):
    skills: list[str] | None = Field(None, description=SKILLS_HELP)
    availability: list[str] | None = Field(None, description=SLOTS_HELP)
    last_negative_test_at: dt.datetime | None = Field(None, description="最近一次核酸阴性时间")
    work_unit: str | None = Field(None, max_length=100)
    is_party_member: bool | None = None


def _volunteer_out(volunteer: Volunteer) -> VolunteerOut:
    reasons = volunteer.ineligibility()
    return VolunteerOut(
        id=volunteer.pk,
        community_id=volunteer.community_id,
        name=volunteer.name,
        username=volunteer.user.username,
        id_number_masked=volunteer.masked_id_number,
        phone_masked=volunteer.masked_phone,
        compound_id=volunteer.compound_id,
        building_id=volunteer.building_id,
        skills=_choices(list(volunteer.skills), SKILL_LABELS),
        availability=_choices(list(volunteer.availability), dict(availability_choices())),
        is_party_member=volunteer.is_party_member,
        work_unit=volunteer.work_unit,
        last_negative_test_at=local_time(volunteer.last_negative_test_at),
        test_expires_at=local_time(volunteer.test_expires_at()),
        status=volunteer.status,
        status_label=volunteer.get_status_display(),
        status_reason=volunteer.status_reason,
        reviewed_at=local_time(volunteer.reviewed_at),
        created_at=timezone.localtime(volunteer.created_at),
        eligible=not reasons,
        ineligible_reasons=reasons,
    )


def _volunteer_reader(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(
        access.can_dispatch(user) or access.is_volunteer(user),
        _("您的角色无权查看志愿者"),
    )
    return user


def _signup_place(
    community: Community, payload: SignupIn
) -> tuple[Compound | None, Building | None]:
    compound = building = None
    if payload.compound_id is not None:
        compound = Compound.objects.filter(pk=payload.compound_id, community=community).first()
        if compound is None:
            raise ValidationError({"compound_id": [_("所选小区不属于%(c)s") % {"c": community}]})
    if payload.building_id is not None:
        building = (
            Building.objects.select_related("compound")
            .filter(pk=payload.building_id, compound__community=community)
            .first()
        )
        if building is None:
            raise ValidationError({"building_id": [_("所选楼栋不属于%(c)s") % {"c": community}]})
    return compound, building


@volunteers.post(
    "/volunteers/signup/{community_code}",
    auth=None,
    response={201: SignupOut, **ERRORS, 429: ErrorOut},
)
def volunteer_signup(
    request: HttpRequest, community_code: str, payload: SignupIn
) -> Status[SignupOut]:
    """Sign up as a volunteer of a community (the QR poster's page; no sign-in needed).

    The account stays off until community staff verify the sign-up. Same ID number or
    phone as an earlier sign-up: 400 naming the field.
    """
    if over_limit(request, group="api.volunteer_signup", setting="LINLI_SIGNUP_RATE"):
        raise HttpError(429, _("报名过于频繁，请稍后再试。"))
    # A visitor has no area: the community and places are found by what the poster says.
    with scopes_disabled():
        community = Community.objects.filter(code=community_code).first()
        if community is None:
            raise Http404(_("没有这个社区：%(code)s") % {"code": community_code})
        compound, building = _signup_place(community, payload)
        with fields_renamed(compound="compound_id", building="building_id"):
            volunteer = actions.volunteer_signup(
                community=community,
                data=actions.SignupInput(
                    name=payload.name,
                    phone=payload.phone,
                    id_number=payload.id_number,
                    password=payload.password,
                    compound=compound,
                    building=building,
                    skills=payload.skills,
                    availability=payload.availability,
                    is_party_member=payload.is_party_member,
                    work_unit=payload.work_unit,
                    last_negative_test_at=aware(payload.last_negative_test_at),
                ),
            )
    return Status(
        201,
        SignupOut(
            id=volunteer.pk,
            username=volunteer.user.username,
            status=volunteer.status,
            status_label=volunteer.get_status_display(),
            message=_("报名已提交，社区审核通过后即可用用户名 %(username)s 登录")
            % {"username": volunteer.user.username},
        ),
    )


@volunteers.get("/volunteers", response={200: Page[VolunteerOut], **ERRORS})
def volunteer_list(request: HttpRequest, query: Query[VolunteerQuery]) -> Page[VolunteerOut]:
    """Volunteers of the user's area (a volunteer: only themselves), newest sign-ups first."""
    user = _volunteer_reader(request)
    found = access.visible_volunteers(user)
    if query.community:
        found = found.filter(community=registry_access.get_community_for(user, query.community))
    if query.status is not None:
        found = found.filter(status=query.status.value)
    if query.skill is not None:
        # Skills are a JSON list; its text holds "driver" in quotes on SQLite and PostgreSQL.
        found = found.filter(skills__icontains=f'"{query.skill.value}"')
    if q := (query.q or "").strip():
        phone = check_mobile(q)
        by_phone = (
            Q(phone_index=blind_index(phone.value, purpose="volunteer_phone"))
            if not phone.errors
            else Q(pk__in=[])
        )
        found = found.filter(Q(name__contains=q) | by_phone)
    return page_of(found, query, _volunteer_out)


@volunteers.get("/volunteers/me", response={200: VolunteerOut, **ERRORS})
def volunteer_me(request: HttpRequest) -> VolunteerOut:
    """The signed-in volunteer's own record."""
    user = api_user(request)
    rest.require(user.role == Role.VOLUNTEER, _("只有志愿者账号有志愿者登记"))
    volunteer = access.volunteer_of(user)
    if volunteer is None:
        raise Http404(_("您还没有志愿者登记"))
    return _volunteer_out(volunteer)


@volunteers.get("/volunteers/{volunteer_id}", response={200: VolunteerOut, **ERRORS})
def volunteer_detail(request: HttpRequest, volunteer_id: int) -> VolunteerOut:
    user = _volunteer_reader(request)
    return _volunteer_out(access.get_volunteer_for(user, volunteer_id))


@volunteers.post("/volunteers/{volunteer_id}/review", response={200: VolunteerOut, **ERRORS})
def volunteer_review(request: HttpRequest, volunteer_id: int, payload: ReviewIn) -> VolunteerOut:
    """Verify (switches the account on), reject or suspend (with a reason)."""
    user = _manager(request)
    volunteer = access.get_volunteer_for(user, volunteer_id)
    actions.volunteer_review(
        actor=user, volunteer=volunteer, status=payload.status, reason=payload.reason
    )
    return _volunteer_out(access.get_volunteer_for(user, volunteer_id))


@volunteers.post("/volunteers/{volunteer_id}/reveal", response={200: RevealOut, **ERRORS})
def volunteer_reveal(request: HttpRequest, volunteer_id: int, payload: RevealIn) -> RevealOut:
    """One personal number in full; who, whom, when and why go to the audit log."""
    user = _manager(request)
    volunteer = access.get_volunteer_for(user, volunteer_id)
    value = actions.volunteer_reveal(
        actor=user, volunteer=volunteer, field=payload.field, reason=payload.reason
    )
    return RevealOut(field=payload.field, value=value)


@volunteers.patch("/volunteers/{volunteer_id}", response={200: VolunteerOut, **ERRORS})
def volunteer_update(
    request: HttpRequest, volunteer_id: int, payload: VolunteerPatch
) -> VolunteerOut:
    """Skills, time slots, latest negative test, work unit: a volunteer their own, staff any."""
    user = _volunteer_reader(request)
    volunteer = access.get_volunteer_for(user, volunteer_id)
    rest.require(
        access.can_manage_volunteers(user) or volunteer.user_id == user.pk,
        _("只有志愿者本人和社区工作人员可以修改"),
    )
    fields = payload.model_fields_set
    actions.volunteer_update(
        actor=user,
        volunteer=volunteer,
        skills=payload.skills if "skills" in fields else None,
        availability=payload.availability if "availability" in fields else None,
        last_negative_test_at=aware(payload.last_negative_test_at),
        work_unit=payload.work_unit,
        is_party_member=payload.is_party_member,
    )
    return _volunteer_out(access.get_volunteer_for(user, volunteer_id))


# --- teams ----------------------------------------------------------------------------------


class MemberOut(Schema):
    user_id: int
    name: str
    role: str
    role_label: str
    volunteer_id: int | None


class TeamOut(Schema):
    id: int
    community_id: int
    name: str
    kind: str
    kind_label: str
    leader: MemberOut | None
    members: list[MemberOut]
    buildings: list[Ref] = Field(description="服务楼栋")
    checkpoints: list[Ref] = Field(description="值守的卡口")


class TeamIn(InputSchema):
    community: str | None = Field(None, description="社区编码；只管一个社区时可省略")
    name: str = Field(min_length=1, max_length=64, description="队伍名称")
    kind: TeamKind = Field(description="party_branch 临时党支部、service_team 志愿服务队")
    leader_id: int | None = Field(None, description="负责人（用户 id）")
    member_ids: list[int] = Field(default_factory=list, description="成员（用户 id）")
    building_ids: list[int] = Field(default_factory=list, description="服务楼栋")


class TeamPut(InputSchema):
    name: str = Field(min_length=1, max_length=64, description="队伍名称")
    kind: TeamKind
    leader_id: int | None = None
    member_ids: list[int] = Field(default_factory=list)
    building_ids: list[int] = Field(default_factory=list)


def _member_out(user: User) -> MemberOut:
    volunteer = getattr(user, "volunteer", None) if user.role == Role.VOLUNTEER else None
    return MemberOut(
        user_id=user.pk,
        name=user.display_name or user.username,
        role=user.role,
        role_label=user.get_role_display() if user.role else "",
        volunteer_id=volunteer.pk if volunteer is not None else None,
    )


def _teams() -> QuerySet[Team]:
    return Team.objects.select_related("leader").prefetch_related(
        "members__volunteer", "buildings__compound", "checkpoints"
    )


def _team_out(team: Team) -> TeamOut:
    return TeamOut(
        id=team.pk,
        community_id=team.community_id,
        name=team.name,
        kind=team.kind,
        kind_label=team.get_kind_display(),
        leader=_member_out(team.leader) if team.leader else None,
        members=[_member_out(m) for m in sorted(team.members.all(), key=lambda m: m.pk)],
        buildings=[Ref(id=b.pk, name=str(b)) for b in team.buildings.all()],
        checkpoints=[Ref(id=c.pk, name=c.name) for c in team.checkpoints.all()],
    )


def _team_people(community: Community) -> QuerySet[User]:
    """Who may be on a team of this community: its volunteers and its staff accounts."""
    staff = UserArea.objects.filter(community=community).values("user_id")
    with scopes_disabled():
        volunteer_users = list(
            Volunteer.objects.filter(community=community)
            .exclude(status=VolunteerStatus.REJECTED)
            .values_list("user_id", flat=True)
        )
    return User.objects.filter(Q(pk__in=staff) | Q(pk__in=volunteer_users))


def _team_save(
    user: User, community: Community, payload: TeamIn | TeamPut, team: Team | None
) -> Team:
    people = _team_people(community)
    members = pick(people, payload.member_ids, field="member_ids", what=_("成员"))
    leader = None
    if payload.leader_id is not None:
        leader = pick(people, [payload.leader_id], field="leader_id", what=_("负责人"))[0]
    buildings = pick(
        registry_access.visible_buildings(user).select_related("compound"),
        payload.building_ids,
        field="building_ids",
        what=_("楼栋"),
    )
    with fields_renamed(buildings="building_ids"):
        return actions.team_save(
            actor=user,
            community=community,
            name=payload.name,
            kind=payload.kind.value,
            leader=leader,
            members=members,
            buildings=buildings,
            team=team,
        )


@teams.get("/teams", response={200: Page[TeamOut], **ERRORS})
def team_list(request: HttpRequest, query: Query[PageQuery]) -> Page[TeamOut]:
    """Teams of the user's area (a volunteer: the teams they are on)."""
    user = _volunteer_reader(request)
    return page_of(
        _teams().filter(pk__in=access.visible_teams(user).values("pk")), query, _team_out
    )


@teams.get("/teams/{team_id}", response={200: TeamOut, **ERRORS})
def team_detail(request: HttpRequest, team_id: int) -> TeamOut:
    user = _volunteer_reader(request)
    team = access.get_team_for(user, team_id)
    return _team_out(_teams().get(pk=team.pk))


@teams.post("/teams", response={201: TeamOut, **ERRORS})
def team_create(request: HttpRequest, payload: TeamIn) -> Status[TeamOut]:
    """A 临时党支部 or 志愿服务队 with a leader, members (volunteers and staff) and buildings."""
    user = _manager(request)
    community = _community_for_write(user, payload.community)
    team = _team_save(user, community, payload, None)
    return Status(201, _team_out(_teams().get(pk=team.pk)))


@teams.put("/teams/{team_id}", response={200: TeamOut, **ERRORS})
def team_update(request: HttpRequest, team_id: int, payload: TeamPut) -> TeamOut:
    """Replace a team's name, kind, leader, members and buildings."""
    user = _manager(request)
    team = access.get_team_for(user, team_id)
    _team_save(user, team.community, payload, team)
    return _team_out(_teams().get(pk=team.pk))


# --- tasks ----------------------------------------------------------------------------------


class StopOut(Schema):
    id: int
    address: str
    items: str
    status: str
    status_label: str
    proof: str
    failure_reason: str
    done_at: dt.datetime | None
    household_id: int | None = Field(description="仅调度人员可见")
    door_code: str | None = Field(description="收货码：仅调度人员可见，志愿者须在门口向住户询问")


class TaskOut(Schema):
    id: int
    community_id: int
    kind: str
    kind_label: str
    title: str
    description: str
    place: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    required_skills: list[ChoiceOut]
    size: int
    status: str
    status_label: str
    volunteer: Ref | None
    assigned_at: dt.datetime | None
    accepted_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    failure_reason: str
    proof_note: str
    minutes: int = Field(description="计入的服务时长（分钟）")
    hours: float
    stop_count: int = Field(description="送达点数")
    created_at: dt.datetime


class TaskDetail(TaskOut):
    building_ids: list[int]
    stops: list[StopOut] | None = Field(
        description="送达点：调度人员和任务的志愿者可见，其他人为 null"
    )


class TaskQuery(PageQuery):
    status: TaskStatus | None = Field(None, description="状态")
    kind: TaskKind | None = Field(None, description="类型")
    mine: bool = Field(False, description="只看我的任务（志愿者）")
    community: str | None = Field(None, description="社区编码")


class StopIn(InputSchema):
    household_id: int = Field(description="户 id")
    items: str = Field("", max_length=300, description="物品")


class TaskIn(InputSchema):
    community: str | None = Field(None, description="社区编码；只管一个社区时可省略")
    kind: TaskKind = Field(description="任务类型")
    title: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    place: str = Field("", max_length=160, description="地点（省略时按楼栋生成）")
    building_ids: list[int] = Field(default_factory=list, description="楼栋")
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    required_skills: list[str] = Field(default_factory=list, description=SKILLS_HELP)
    size: int | None = Field(None, ge=1, description="工作量（袋/户/人）；省略时为户数")
    stops: list[StopIn] = Field(
        default_factory=list, description="送达点（送货到户、上门服务、心愿配送必填）"
    )


class AssignIn(InputSchema):
    volunteer_id: int


class FinishIn(InputSchema):
    note: str = Field("", max_length=200, description="完成说明")


class RequiredReasonIn(InputSchema):
    reason: str = Field(min_length=1, max_length=200, description="原因")


class MinutesIn(InputSchema):
    minutes: int = Field(ge=0, le=1440, description="服务时长（分钟）")


class CodeIn(InputSchema):
    code: str = Field(min_length=1, max_length=8, description="住户告知的收货码")


class EventOut(Schema):
    at: dt.datetime
    actor: str
    from_status: str
    from_label: str
    to_status: str
    to_label: str
    note: str


def _tasks() -> QuerySet[Task]:
    return Task.objects.annotate(stop_count=Count("stops"))


def _task_fields(task: Task) -> dict[str, Any]:
    return {
        "id": task.pk,
        "community_id": task.community_id,
        "kind": task.kind,
        "kind_label": task.get_kind_display(),
        "title": task.title,
        "description": task.description,
        "place": task.place,
        "starts_at": local_time(task.starts_at),
        "ends_at": local_time(task.ends_at),
        "required_skills": _choices(list(task.required_skills), SKILL_LABELS),
        "size": task.size,
        "status": task.status,
        "status_label": task.get_status_display(),
        "volunteer": Ref(id=task.volunteer.pk, name=task.volunteer.name)
        if task.volunteer
        else None,
        "assigned_at": local_time(task.assigned_at),
        "accepted_at": local_time(task.accepted_at),
        "started_at": local_time(task.started_at),
        "finished_at": local_time(task.finished_at),
        "failure_reason": task.failure_reason,
        "proof_note": task.proof_note,
        "minutes": task.minutes,
        "hours": task.hours,
        "stop_count": int(getattr(task, "stop_count", 0)),
        "created_at": local_time(task.created_at),
    }


def _stop_out(stop: TaskStop, *, dispatcher: bool) -> StopOut:
    return StopOut(
        id=stop.pk,
        address=stop.address,
        items=stop.items,
        status=stop.status,
        status_label=stop.get_status_display(),
        proof=stop.proof,
        failure_reason=stop.failure_reason,
        done_at=local_time(stop.done_at),
        household_id=stop.household_id if dispatcher else None,
        door_code=stop.door_code if dispatcher else None,
    )


def _task_detail(user: User, pk: int) -> TaskDetail:
    task = access.get_task_for(user, pk)
    task = _tasks().select_related("volunteer").get(pk=task.pk)
    stops = None
    if access.can_see_doors(user, task):
        codes = access.can_see_door_codes(user)
        stops = [_stop_out(s, dispatcher=codes) for s in task.stops.all()]
    return TaskDetail(
        **_task_fields(task),
        building_ids=sorted(task.buildings.values_list("pk", flat=True)),
        stops=stops,
    )


def _may(user: User, task: Task, step: str) -> None:
    """access.TASK_STEPS says who may take this step on this task."""
    rest.require(
        access.may_step(user, task, step),
        _("只有接了这个任务的志愿者和调度人员可以这样操作"),
    )


@board.get("/tasks", response={200: Page[TaskOut], **ERRORS})
def task_list(request: HttpRequest, query: Query[TaskQuery]) -> Page[TaskOut]:
    """The board: dispatchers every task of their area; a volunteer theirs and the open ones."""
    user = _board_reader(request)
    tasks = (
        _tasks().filter(pk__in=access.visible_tasks(user).values("pk")).select_related("volunteer")
    )
    if query.community:
        tasks = tasks.filter(community=registry_access.get_community_for(user, query.community))
    if query.status is not None:
        tasks = tasks.filter(status=query.status.value)
    if query.kind is not None:
        tasks = tasks.filter(kind=query.kind.value)
    if query.mine:
        volunteer = access.volunteer_of(user)
        tasks = tasks.filter(volunteer=volunteer) if volunteer else tasks.none()
    return page_of(tasks, query, lambda t: TaskOut(**_task_fields(t)))


@board.post("/tasks", response={201: TaskDetail, **ERRORS})
def task_create(request: HttpRequest, payload: TaskIn) -> Status[TaskDetail]:
    """A task on the board; delivery bundles, door services and wish deliveries need stops."""
    user = _dispatcher(request)
    community = _community_for_write(user, payload.community)
    buildings = pick(
        registry_access.visible_buildings(user).select_related("compound"),
        payload.building_ids,
        field="building_ids",
        what=_("楼栋"),
    )
    households = pick(
        Household.objects.select_related("unit__building"),
        [stop.household_id for stop in payload.stops],
        field="stops",
        what=_("户"),
    )
    by_pk = {h.pk: h for h in households}
    stops = [
        actions.StopInput(household=by_pk[s.household_id], items=s.items) for s in payload.stops
    ]
    with fields_renamed(buildings="building_ids"):
        task = actions.task_create(
            actor=user,
            community=community,
            kind=payload.kind.value,
            title=payload.title,
            description=payload.description,
            buildings=buildings,
            place=payload.place,
            starts_at=aware(payload.starts_at),
            ends_at=aware(payload.ends_at),
            required_skills=payload.required_skills,
            size=payload.size,
            stops=stops,
        )
    return Status(201, _task_detail(user, task.pk))


@board.get("/tasks/{task_id}", response={200: TaskDetail, **ERRORS})
def task_detail(request: HttpRequest, task_id: int) -> TaskDetail:
    """A task; its doors for dispatchers and its volunteer, the door codes for dispatchers."""
    user = _board_reader(request)
    return _task_detail(user, task_id)


@board.get("/tasks/{task_id}/events", response={200: list[EventOut], **ERRORS})
def task_events(request: HttpRequest, task_id: int) -> list[EventOut]:
    """Who moved the task from which status to which, and when."""
    user = _board_reader(request)
    task = access.get_task_for(user, task_id)
    rest.require(access.can_see_doors(user, task), _("只有调度人员和任务的志愿者可以查看任务记录"))
    events = TaskEvent.objects.filter(task=task).select_related("actor")
    labels = dict(TaskStatus.choices)
    return [
        EventOut(
            at=timezone.localtime(e.at),
            actor=(e.actor.display_name or e.actor.username) if e.actor else "",
            from_status=e.from_status,
            from_label=str(labels.get(e.from_status, "")),
            to_status=e.to_status,
            to_label=str(labels.get(e.to_status, "")),
            note=e.note,
        )
        for e in events
    ]


@board.post("/tasks/{task_id}/assign", response={200: TaskDetail, **ERRORS})
def task_assign(request: HttpRequest, task_id: int, payload: AssignIn) -> TaskDetail:
    """Give the task to an eligible volunteer (verified, test valid if required, skills)."""
    user = _dispatcher(request)
    task = access.get_task_for(user, task_id)
    volunteer = pick(
        access.visible_volunteers(user),
        [payload.volunteer_id],
        field="volunteer_id",
        what=_("志愿者"),
    )[0]
    with fields_renamed(volunteer="volunteer_id"):
        actions.task_assign(actor=user, task=task, volunteer=volunteer)
    return _task_detail(user, task_id)


@board.post("/tasks/{task_id}/take", response={200: TaskDetail, **ERRORS})
def task_take(request: HttpRequest, task_id: int) -> TaskDetail:
    """A volunteer takes an open task; of several at once, exactly one gets it."""
    user = api_user(request)
    volunteer = access.volunteer_of(user)
    rest.require(volunteer is not None and user.is_active, _("只有志愿者可以领取任务"))
    assert volunteer is not None  # noqa: S101
    task = access.get_task_for(user, task_id)
    actions.task_take(volunteer=volunteer, task=task)
    return _task_detail(user, task_id)


@board.post("/tasks/{task_id}/accept", response={200: TaskDetail, **ERRORS})
def task_accept(request: HttpRequest, task_id: int) -> TaskDetail:
    user = _board_reader(request)
    task = access.get_task_for(user, task_id)
    _may(user, task, "accept")
    actions.task_accept(actor=user, task=task)
    return _task_detail(user, task_id)


@board.post("/tasks/{task_id}/release", response={200: TaskDetail, **ERRORS})
def task_release(request: HttpRequest, task_id: int, payload: ReasonIn | None = None) -> TaskDetail:
    """Give the task back (its volunteer, or a dispatcher taking it off them): open again."""
    user = _board_reader(request)
    task = access.get_task_for(user, task_id)
    _may(user, task, "release")
    actions.task_release(actor=user, task=task, reason=payload.reason if payload else "")
    return _task_detail(user, task_id)


@board.post("/tasks/{task_id}/start", response={200: TaskDetail, **ERRORS})
def task_start(request: HttpRequest, task_id: int) -> TaskDetail:
    """On the way: each household on the task is sent its door code."""
    user = _board_reader(request)
    task = access.get_task_for(user, task_id)
    _may(user, task, "start")
    actions.task_start(actor=user, task=task)
    return _task_detail(user, task_id)


@board.post("/tasks/{task_id}/finish", response={200: TaskDetail, **ERRORS})
def task_finish(request: HttpRequest, task_id: int, payload: FinishIn | None = None) -> TaskDetail:
    """Done (every door handled first); the hours are credited."""
    user = _board_reader(request)
    task = access.get_task_for(user, task_id)
    _may(user, task, "finish")
    actions.task_finish(actor=user, task=task, note=payload.note if payload else "")
    return _task_detail(user, task_id)


@board.post("/tasks/{task_id}/fail", response={200: TaskDetail, **ERRORS})
def task_fail(request: HttpRequest, task_id: int, payload: RequiredReasonIn) -> TaskDetail:
    user = _board_reader(request)
    task = access.get_task_for(user, task_id)
    _may(user, task, "fail")
    actions.task_fail(actor=user, task=task, reason=payload.reason)
    return _task_detail(user, task_id)


@board.post("/tasks/{task_id}/reopen", response={200: TaskDetail, **ERRORS})
def task_reopen(request: HttpRequest, task_id: int, payload: ReasonIn | None = None) -> TaskDetail:
    """A failed task back on the board; its doors not reached are tried again."""
    user = _dispatcher(request)
    task = access.get_task_for(user, task_id)
    actions.task_reopen(actor=user, task=task, reason=payload.reason if payload else "")
    return _task_detail(user, task_id)


@board.post("/tasks/{task_id}/cancel", response={200: TaskDetail, **ERRORS})
def task_cancel(request: HttpRequest, task_id: int, payload: RequiredReasonIn) -> TaskDetail:
    user = _dispatcher(request)
    task = access.get_task_for(user, task_id)
    actions.task_cancel(actor=user, task=task, reason=payload.reason)
    return _task_detail(user, task_id)


@board.post("/tasks/{task_id}/minutes", response={200: TaskDetail, **ERRORS})
def task_minutes(request: HttpRequest, task_id: int, payload: MinutesIn) -> TaskDetail:
    """Correct the hours credited for a finished task (community staff)."""
    user = _manager(request)
    task = access.get_task_for(user, task_id)
    actions.task_set_minutes(actor=user, task=task, minutes=payload.minutes)
    return _task_detail(user, task_id)


def _stop_for(request: HttpRequest, stop_id: int) -> tuple[User, TaskStop]:
    user = _board_reader(request)
    stop = access.get_stop_for(user, stop_id)
    _may(user, stop.task, "deliver")  # one rule for every door step
    return user, stop


@board.post("/stops/{stop_id}/deliver", response={200: TaskDetail, **ERRORS})
def stop_deliver(request: HttpRequest, stop_id: int, payload: CodeIn) -> TaskDetail:
    """Handed over: the code the household tells the volunteer proves the door (5 tries)."""
    user, stop = _stop_for(request, stop_id)
    actions.stop_deliver(actor=user, stop=stop, code=payload.code)
    return _task_detail(user, stop.task_id)


@board.post("/stops/{stop_id}/left-at-door", response={200: TaskDetail, **ERRORS})
def stop_left_at_door(
    request: HttpRequest, stop_id: int, photo: File[UploadedFile | None] = None
) -> TaskDetail:
    """Contactless: left at the door, the household is told. Optional multipart `photo`."""
    user, stop = _stop_for(request, stop_id)
    if photo is not None:
        try:
            forms.ImageField().clean(photo)
        except ValidationError as exc:
            raise ValidationError({"photo": exc.messages}) from exc
    actions.stop_left_at_door(actor=user, stop=stop, photo=photo)
    return _task_detail(user, stop.task_id)


@board.post("/stops/{stop_id}/fail", response={200: TaskDetail, **ERRORS})
def stop_fail(request: HttpRequest, stop_id: int, payload: RequiredReasonIn) -> TaskDetail:
    """Not delivered at this door, with the reason (the task can be reopened for it)."""
    user, stop = _stop_for(request, stop_id)
    actions.stop_fail(actor=user, stop=stop, reason=payload.reason)
    return _task_detail(user, stop.task_id)


# --- figures --------------------------------------------------------------------------------


class FiguresQuery(Schema):
    since: dt.datetime | None = Field(None, description="从此时起完成的任务（YYYY-MM-DD 或时间）")


class HoursOut(Schema):
    id: int
    name: str
    tasks: int = Field(description="完成任务数")
    minutes: int
    hours: float


class DayOut(Schema):
    day: dt.date
    kind: str
    kind_label: str
    tasks: int
    minutes: int
    hours: float


def _hours_page(rows: list[figures.HoursRow]) -> Page[HoursOut]:
    return Page(
        count=len(rows),
        items=[
            HoursOut(id=r.id, name=r.name, tasks=r.tasks, minutes=r.minutes, hours=r.hours)
            for r in rows
        ],
    )


@numbers.get("/figures/volunteer-hours", response={200: Page[HoursOut], **ERRORS})
def volunteer_hours(request: HttpRequest, query: Query[FiguresQuery]) -> Page[HoursOut]:
    """Hours per volunteer on finished tasks (a volunteer: their own)."""
    user = _board_reader(request)
    return _hours_page(figures.hours_by_volunteer(access.visible_tasks(user), aware(query.since)))


@numbers.get("/figures/team-hours", response={200: Page[HoursOut], **ERRORS})
def team_hours(request: HttpRequest, query: Query[FiguresQuery]) -> Page[HoursOut]:
    """Hours per team: its members' hours on finished tasks."""
    user = _board_reader(request)
    rows = figures.hours_by_team(
        access.visible_teams(user), access.visible_tasks(user), aware(query.since)
    )
    return _hours_page(rows)


@numbers.get("/figures/tasks-done", response={200: Page[DayOut], **ERRORS})
def tasks_done(request: HttpRequest, query: Query[FiguresQuery]) -> Page[DayOut]:
    """Tasks done per day (Shanghai calendar) and kind."""
    user = _board_reader(request)
    rows = figures.done_by_day_and_kind(access.visible_tasks(user), aware(query.since))
    return Page(
        count=len(rows),
        items=[
            DayOut(
                day=r.day,
                kind=r.kind,
                kind_label=r.kind_label,
                tasks=r.tasks,
                minutes=r.minutes,
                hours=r.hours,
            )
            for r in rows
        ],
    )
