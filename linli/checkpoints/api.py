"""Checkpoints, their rosters, courier log and goods holds in the REST API (errors: linli/api.py).

A checkpoint keeper sees and runs only the checkpoints they keep (any other is a 404);
community staff and street admins set checkpoints up; grid workers and hotline operators
may look. Nothing is released before its hold ends: the 400 says how many minutes are left.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.api import api_user
from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints import access, actions
from linli.checkpoints.choices import GoodsStatus, HealthCode
from linli.checkpoints.models import Checkpoint, CourierEntry, GoodsReceipt, Shift
from linli.lib import rest
from linli.lib.rest import (
    ERRORS,
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
from linli.registry.models import Building, Compound, Gate, UserArea
from linli.workforce import access as workforce_access
from linli.workforce.choices import TaskStatus

router = Router()
places = Router(tags=["卡口"])
roster = Router(tags=["卡口排班"])
log = Router(tags=["卡口登记与物资"])
router.add_router("", places)
router.add_router("", roster)
router.add_router("", log)


def _reader(request: HttpRequest) -> User:
    """Those who may look at checkpoints at all (a keeper: their own)."""
    user = api_user(request)
    rest.require(
        user.is_active
        and (user.is_superuser or user.role in access.VIEWERS | {Role.CHECKPOINT_KEEPER}),
        _("您的角色无权查看卡口"),
    )
    return user


def _manager(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_manage_checkpoints(user), _("您的角色无权设置卡口"))
    return user


def _keeper_of(user: User, checkpoint: Checkpoint) -> None:
    rest.require(access.can_keep(user, checkpoint), _("只有本卡口的值守人员和社区工作人员可以登记"))


class Ref(Schema):
    id: int
    name: str


# --- checkpoints ----------------------------------------------------------------------------


class CheckpointOut(Schema):
    id: int
    community_id: int
    compound: Ref
    name: str
    gates: list[Ref] = Field(description="合并进本卡口的出入口")
    buildings: list[Ref] = Field(description="服务楼栋")
    keepers: list[Ref] = Field(description="值守人员（用户）")
    team: Ref | None = Field(description="值守队伍")
    notes: str
    goods_held: int = Field(description="未放行的物资批数")
    created_at: dt.datetime


class CheckpointQuery(PageQuery):
    compound_id: int | None = Field(None, description="小区")
    community: str | None = Field(None, description="社区编码")


class CheckpointPut(InputSchema):
    name: str = Field(min_length=1, max_length=64, description="卡口名称")
    gate_ids: list[int] = Field(min_length=1, description="合并的出入口（至少一个）")
    building_ids: list[int] = Field(default_factory=list, description="服务楼栋")
    keeper_ids: list[int] = Field(default_factory=list, description="值守人员（卡口值守账号）")
    team_id: int | None = Field(None, description="值守队伍")
    notes: str = Field("", max_length=2000)


class CheckpointIn(CheckpointPut):
    compound_id: int = Field(description="小区")


def _checkpoints() -> QuerySet[Checkpoint]:
    return (
        Checkpoint.objects.select_related("compound", "team")
        .prefetch_related("gate_links__gate", "buildings__compound", "keepers")
        .annotate(
            goods_held=Count("goods", filter=~Q(goods__status=GoodsStatus.RELEASED), distinct=True)
        )
    )


def _checkpoint_out(checkpoint: Checkpoint) -> CheckpointOut:
    return CheckpointOut(
        id=checkpoint.pk,
        community_id=checkpoint.community_id,
        compound=Ref(id=checkpoint.compound_id, name=checkpoint.compound.name),
        name=checkpoint.name,
        gates=[Ref(id=link.gate.pk, name=link.gate.name) for link in checkpoint.gate_links.all()],
        buildings=[Ref(id=b.pk, name=str(b)) for b in checkpoint.buildings.all()],
        keepers=[Ref(id=k.pk, name=k.display_name or k.username) for k in checkpoint.keepers.all()],
        team=Ref(id=checkpoint.team.pk, name=checkpoint.team.name) if checkpoint.team else None,
        notes=checkpoint.notes,
        goods_held=int(getattr(checkpoint, "goods_held", 0)),
        created_at=timezone.localtime(checkpoint.created_at),
    )


def _detail(user: User, pk: int) -> CheckpointOut:
    checkpoint = access.get_checkpoint_for(user, pk)
    return _checkpoint_out(_checkpoints().get(pk=checkpoint.pk))


def _save(
    user: User, compound: Compound, payload: CheckpointPut, checkpoint: Checkpoint | None
) -> Checkpoint:
    gates = pick(
        Gate.objects.filter(compound=compound), payload.gate_ids, field="gate_ids", what=_("出入口")
    )
    buildings = pick(
        registry_access.visible_buildings(user).select_related("compound"),
        payload.building_ids,
        field="building_ids",
        what=_("楼栋"),
    )
    # A keeper of another community stays there: saving here would move their area.
    elsewhere = UserArea.objects.exclude(community=None).exclude(community=compound.community)
    keepers = pick(
        User.objects.filter(role=Role.CHECKPOINT_KEEPER, is_active=True).exclude(
            pk__in=elsewhere.values("user_id")
        ),
        payload.keeper_ids,
        field="keeper_ids",
        what=_("值守账号"),
    )
    team = None
    if payload.team_id is not None:
        team = pick(
            workforce_access.visible_teams(user).filter(community=compound.community),
            [payload.team_id],
            field="team_id",
            what=_("队伍"),
        )[0]
    with fields_renamed(
        gates="gate_ids", buildings="building_ids", keepers="keeper_ids", team="team_id"
    ):
        return actions.checkpoint_save(
            actor=user,
            compound=compound,
            name=payload.name,
            gates=gates,
            buildings=buildings,
            keepers=keepers,
            team=team,
            notes=payload.notes,
            checkpoint=checkpoint,
        )


@places.get("/checkpoints", response={200: Page[CheckpointOut], **ERRORS})
def checkpoint_list(request: HttpRequest, query: Query[CheckpointQuery]) -> Page[CheckpointOut]:
    """Checkpoints of the user's area; a keeper sees only the ones they keep."""
    user = _reader(request)
    found = _checkpoints().filter(pk__in=access.visible_checkpoints(user).values("pk"))
    if query.compound_id is not None:
        found = found.filter(compound_id=query.compound_id)
    if query.community:
        found = found.filter(community=registry_access.get_community_for(user, query.community))
    return page_of(found, query, _checkpoint_out)


@places.post("/checkpoints", response={201: CheckpointOut, **ERRORS})
def checkpoint_create(request: HttpRequest, payload: CheckpointIn) -> Status[CheckpointOut]:
    """Merge some of a compound's gates into a checkpoint (a gate is in one checkpoint at most)."""
    user = _manager(request)
    compound = pick(
        Compound.objects.select_related("community"),
        [payload.compound_id],
        field="compound_id",
        what=_("小区"),
    )[0]
    checkpoint = _save(user, compound, payload, None)
    return Status(201, _detail(user, checkpoint.pk))


@places.get("/checkpoints/{checkpoint_id}", response={200: CheckpointOut, **ERRORS})
def checkpoint_detail(request: HttpRequest, checkpoint_id: int) -> CheckpointOut:
    user = _reader(request)
    return _detail(user, checkpoint_id)


@places.put("/checkpoints/{checkpoint_id}", response={200: CheckpointOut, **ERRORS})
def checkpoint_update(
    request: HttpRequest, checkpoint_id: int, payload: CheckpointPut
) -> CheckpointOut:
    """Replace a checkpoint's name, gates, buildings, keepers, team and notes."""
    user = _manager(request)
    checkpoint = access.get_checkpoint_for(user, checkpoint_id)
    _save(user, checkpoint.compound, payload, checkpoint)
    return _detail(user, checkpoint.pk)


class GateOut(Schema):
    id: int
    name: str
    checkpoint: Ref | None = Field(description="所属卡口；null 表示尚未合并")


@places.get("/compounds/{compound_id}/gates", response={200: list[GateOut], **ERRORS})
def compound_gates(request: HttpRequest, compound_id: int) -> list[GateOut]:
    """A compound's gates and the checkpoint each is merged into."""
    user = api_user(request)
    rest.require(
        user.is_active and (user.is_superuser or user.role in access.VIEWERS),
        _("您的角色无权查看出入口"),
    )
    compound = Compound.objects.filter(pk=compound_id).first()
    if compound is None:
        raise Http404(_("未找到小区，或不在您的管辖范围内"))
    gates = Gate.objects.filter(compound=compound).select_related("checkpoint_link__checkpoint")
    found = []
    for gate in gates:
        link = getattr(gate, "checkpoint_link", None)
        found.append(
            GateOut(
                id=gate.pk,
                name=gate.name,
                checkpoint=Ref(id=link.checkpoint.pk, name=link.checkpoint.name) if link else None,
            )
        )
    return found


# --- roster ---------------------------------------------------------------------------------


class PlaceOut(Schema):
    task_id: int
    status: str
    status_label: str
    volunteer: Ref | None


class ShiftOut(Schema):
    id: int
    checkpoint_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    needed: int = Field(description="所需人数")
    gaps: int = Field(description="空缺人数（大于 0 时排班页标红）")
    task_ids: list[int] = Field(description="每个岗位对应的值守任务")
    places: list[PlaceOut]


class ShiftQuery(PageQuery):
    since: dt.datetime | None = Field(None, description="结束时间晚于此时的班次")


class ShiftIn(InputSchema):
    starts_at: dt.datetime
    ends_at: dt.datetime
    needed: int = Field(ge=1, le=50, description="所需人数")
    required_skills: list[str] = Field(default_factory=list, description="所需技能代码")


def _shift_out(shift: Shift) -> ShiftOut:
    tasks = sorted(shift.tasks.all(), key=lambda t: t.pk)
    return ShiftOut(
        id=shift.pk,
        checkpoint_id=shift.checkpoint_id,
        starts_at=timezone.localtime(shift.starts_at),
        ends_at=timezone.localtime(shift.ends_at),
        needed=shift.needed,
        gaps=shift.gaps,
        task_ids=[t.pk for t in tasks],
        places=[
            PlaceOut(
                task_id=t.pk,
                status=t.status,
                status_label=t.get_status_display(),
                volunteer=Ref(id=t.volunteer.pk, name=t.volunteer.name)
                if t.volunteer and t.status != TaskStatus.CANCELLED
                else None,
            )
            for t in tasks
        ],
    )


def _shifts(checkpoint: Checkpoint) -> QuerySet[Shift]:
    return Shift.objects.filter(checkpoint=checkpoint).prefetch_related("tasks__volunteer")


@roster.get("/checkpoints/{checkpoint_id}/shifts", response={200: Page[ShiftOut], **ERRORS})
def shift_list(
    request: HttpRequest, checkpoint_id: int, query: Query[ShiftQuery]
) -> Page[ShiftOut]:
    """The duty roster: each shift's places (duty-shift tasks) and how many are still open."""
    user = _reader(request)
    checkpoint = access.get_checkpoint_for(user, checkpoint_id)
    shifts = _shifts(checkpoint)
    if query.since is not None:
        shifts = shifts.filter(ends_at__gt=aware(query.since))
    return page_of(shifts, query, _shift_out)


@roster.post("/checkpoints/{checkpoint_id}/shifts", response={201: ShiftOut, **ERRORS})
def shift_create(request: HttpRequest, checkpoint_id: int, payload: ShiftIn) -> Status[ShiftOut]:
    """A slot on the roster; each of its places becomes a duty-shift task on the board."""
    user = _manager(request)
    checkpoint = access.get_checkpoint_for(user, checkpoint_id)
    shift = actions.shift_create(
        actor=user,
        checkpoint=checkpoint,
        starts_at=aware(payload.starts_at),
        ends_at=aware(payload.ends_at),
        needed=payload.needed,
        required_skills=payload.required_skills,
    )
    return Status(201, _shift_out(_shifts(checkpoint).get(pk=shift.pk)))


# --- courier log ----------------------------------------------------------------------------


class CourierOut(Schema):
    id: int
    checkpoint_id: int
    arrived_at: dt.datetime
    name: str
    phone_masked: str
    company: str
    health_code: str
    health_code_label: str
    test_checked: bool = Field(description="已查验核酸阴性")
    parcels: int
    accepted: bool = Field(description="放行")
    refusal_reason: str
    recorded_by: str


class CourierIn(InputSchema):
    name: str = Field(min_length=1, max_length=64, description="姓名")
    phone: str = Field("", max_length=20, description="手机号")
    company: str = Field("", max_length=64, description="公司/平台")
    health_code: HealthCode = Field(description="健康码：green、yellow、red")
    test_checked: bool = Field(description="已查验核酸阴性证明")
    parcels: int = Field(0, ge=0, description="件数")
    accepted: bool = Field(True, description="放行；拒绝时填 false 并写原因")
    refusal_reason: str = Field("", max_length=200)
    arrived_at: dt.datetime | None = Field(None, description="到达时间（默认现在）")


class CourierQuery(PageQuery):
    accepted: bool | None = Field(None, description="只看放行（true）或拒绝（false）")


def _courier_out(entry: CourierEntry) -> CourierOut:
    recorder = entry.recorded_by
    return CourierOut(
        id=entry.pk,
        checkpoint_id=entry.checkpoint_id,
        arrived_at=timezone.localtime(entry.arrived_at),
        name=entry.name,
        phone_masked=entry.masked_phone,
        company=entry.company,
        health_code=entry.health_code,
        health_code_label=entry.get_health_code_display(),
        test_checked=entry.test_checked,
        parcels=entry.parcels,
        accepted=entry.accepted,
        refusal_reason=entry.refusal_reason,
        recorded_by=(recorder.display_name or recorder.username) if recorder else "",
    )


@log.get("/checkpoints/{checkpoint_id}/couriers", response={200: Page[CourierOut], **ERRORS})
def courier_list(
    request: HttpRequest, checkpoint_id: int, query: Query[CourierQuery]
) -> Page[CourierOut]:
    """Couriers and riders at the checkpoint, newest first (phones masked)."""
    user = _reader(request)
    checkpoint = access.get_checkpoint_for(user, checkpoint_id)
    entries = access.visible_courier_entries(user).filter(checkpoint=checkpoint)
    if query.accepted is not None:
        entries = entries.filter(accepted=query.accepted)
    return page_of(entries.select_related("recorded_by"), query, _courier_out)


@log.post("/checkpoints/{checkpoint_id}/couriers", response={201: CourierOut, **ERRORS})
def courier_create(
    request: HttpRequest, checkpoint_id: int, payload: CourierIn
) -> Status[CourierOut]:
    """Log a courier: let in only with a green code and a checked test, else refused with why."""
    user = _reader(request)
    checkpoint = access.get_checkpoint_for(user, checkpoint_id)
    _keeper_of(user, checkpoint)
    entry = actions.courier_log(
        actor=user,
        checkpoint=checkpoint,
        name=payload.name,
        phone=payload.phone,
        company=payload.company,
        health_code=payload.health_code.value,
        test_checked=payload.test_checked,
        parcels=payload.parcels,
        accepted=payload.accepted,
        refusal_reason=payload.refusal_reason,
        arrived_at=aware(payload.arrived_at),
    )
    return Status(201, _courier_out(entry))


# --- goods holds ----------------------------------------------------------------------------


class GoodsOut(Schema):
    id: int
    checkpoint: Ref
    sender: str
    description: str
    count: int
    buildings: list[Ref] = Field(description="送往楼栋")
    status: str
    status_label: str
    received_at: dt.datetime
    disinfected_at: dt.datetime | None
    hold_until: dt.datetime | None = Field(description="静置至（此前不能放行）")
    minutes_left: int | None = Field(description="距可放行还有几分钟；未消杀为 null")
    releasable: bool = Field(description="现在可以放行")
    released_at: dt.datetime | None


class GoodsQuery(PageQuery):
    status: GoodsStatus | None = Field(None, description="状态")


class GoodsIn(InputSchema):
    sender: str = Field(min_length=1, max_length=100, description="发货方")
    count: int = Field(ge=1, description="件数")
    description: str = Field("", max_length=200, description="物资说明")
    building_ids: list[int] = Field(
        default_factory=list, description="送往楼栋（省略时为卡口服务的楼栋）"
    )


def _goods() -> QuerySet[GoodsReceipt]:
    return GoodsReceipt.objects.select_related("checkpoint__compound").prefetch_related(
        "buildings__compound"
    )


def _goods_out(goods: GoodsReceipt) -> GoodsOut:
    now = timezone.now()
    return GoodsOut(
        id=goods.pk,
        checkpoint=Ref(id=goods.checkpoint_id, name=goods.checkpoint.name),
        sender=goods.sender,
        description=goods.description,
        count=goods.count,
        buildings=[Ref(id=b.pk, name=str(b)) for b in goods.buildings.all()],
        status=goods.status,
        status_label=goods.get_status_display(),
        received_at=timezone.localtime(goods.received_at),
        disinfected_at=local_time(goods.disinfected_at),
        hold_until=local_time(goods.hold_until),
        minutes_left=goods.minutes_left(now),
        releasable=goods.releasable(now),
        released_at=local_time(goods.released_at),
    )


def _goods_for(request: HttpRequest, goods_id: int) -> tuple[User, GoodsReceipt]:
    user = _reader(request)
    goods = access.get_goods_for(user, goods_id)
    _keeper_of(user, goods.checkpoint)
    return user, goods


@log.get("/checkpoints/{checkpoint_id}/goods", response={200: Page[GoodsOut], **ERRORS})
def goods_list(
    request: HttpRequest, checkpoint_id: int, query: Query[GoodsQuery]
) -> Page[GoodsOut]:
    """Goods received at the checkpoint, newest first."""
    user = _reader(request)
    checkpoint = access.get_checkpoint_for(user, checkpoint_id)
    goods = _goods().filter(checkpoint=checkpoint)
    if query.status is not None:
        goods = goods.filter(status=query.status.value)
    return page_of(goods, query, _goods_out)


@log.post("/checkpoints/{checkpoint_id}/goods", response={201: GoodsOut, **ERRORS})
def goods_create(request: HttpRequest, checkpoint_id: int, payload: GoodsIn) -> Status[GoodsOut]:
    """Goods received: next they are disinfected and held."""
    user = _reader(request)
    checkpoint = access.get_checkpoint_for(user, checkpoint_id)
    _keeper_of(user, checkpoint)
    buildings = pick(
        Building.objects.filter(compound__community_id=checkpoint.community_id).select_related(
            "compound"
        ),
        payload.building_ids,
        field="building_ids",
        what=_("楼栋"),
    )
    with fields_renamed(buildings="building_ids"):
        goods = actions.goods_receive(
            actor=user,
            checkpoint=checkpoint,
            sender=payload.sender,
            count=payload.count,
            description=payload.description,
            buildings=buildings,
        )
    return Status(201, _goods_out(_goods().get(pk=goods.pk)))


@log.get("/goods/held", response={200: Page[GoodsOut], **ERRORS})
def goods_held(request: HttpRequest, query: Query[PageQuery]) -> Page[GoodsOut]:
    """Everything not yet released at the user's checkpoints, the soonest releasable first."""
    user = _reader(request)
    held = (
        _goods()
        .filter(pk__in=access.visible_goods(user).exclude(status=GoodsStatus.RELEASED).values("pk"))
        .order_by("status", "hold_until", "received_at", "pk")
    )
    return page_of(held, query, _goods_out)


@log.post("/goods/{goods_id}/disinfect", response={200: GoodsOut, **ERRORS})
def goods_disinfect(request: HttpRequest, goods_id: int) -> GoodsOut:
    """Disinfected now: held for the community's hold time (default 120 minutes)."""
    user, goods = _goods_for(request, goods_id)
    actions.goods_disinfect(actor=user, goods=goods)
    return _goods_out(_goods().get(pk=goods.pk))


@log.post("/goods/{goods_id}/release", response={200: GoodsOut, **ERRORS})
def goods_release(request: HttpRequest, goods_id: int) -> GoodsOut:
    """Released to the buildings; before `hold_until` a 400 says how many minutes are left."""
    user, goods = _goods_for(request, goods_id)
    actions.goods_release(actor=user, goods=goods)
    return _goods_out(_goods().get(pk=goods.pk))
