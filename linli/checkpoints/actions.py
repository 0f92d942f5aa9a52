"""Writes for checkpoints: merging gates, rosters, the courier log and goods holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints.choices import GoodsStatus, HealthCode
from linli.checkpoints.models import (
    Checkpoint,
    CheckpointGate,
    CourierEntry,
    GoodsReceipt,
    Shift,
)
from linli.lib.identity import check_mobile
from linli.registry.models import Building, Compound, Gate, UserArea
from linli.workforce import actions as workforce
from linli.workforce.choices import TaskKind
from linli.workforce.models import Team

Errors = dict[str, list[str]]


@transaction.atomic
def checkpoint_save(
    *,
    actor: User,
    compound: Compound,
    name: str,
    gates: Sequence[Gate],
    buildings: Sequence[Building] = (),
    keepers: Sequence[User] = (),
    team: Team | None = None,
    notes: str = "",
    checkpoint: Checkpoint | None = None,
) -> Checkpoint:
    """Create a checkpoint from some of a compound's gates (or change one). A gate already
    in another checkpoint is refused: merging 17 gates into 8 checkpoints leaves none twice."""
    errors: Errors = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("请填写卡口名称")]
    if not gates:
        errors["gates"] = [_("请至少选择一个出入口")]
    wrong_gates = [g for g in gates if g.compound_id != compound.pk]
    if wrong_gates:
        errors["gates"] = [
            _("%(gate)s 不属于%(compound)s")
            % {"gate": wrong_gates[0].name, "compound": compound.name}
        ]
    with scopes_disabled():
        taken = (
            CheckpointGate.objects.filter(gate__in=gates)
            .exclude(checkpoint_id=checkpoint.pk if checkpoint else 0)
            .select_related("gate", "checkpoint")
            .first()
        )
        same_name = (
            Checkpoint.objects.filter(compound=compound, name=name).exclude(
                pk=checkpoint.pk if checkpoint else 0
            )
        ).exists()
    if taken:
        errors["gates"] = [
            _("%(gate)s 已属于卡口“%(checkpoint)s”")
            % {"gate": taken.gate.name, "checkpoint": taken.checkpoint.name}
        ]
    if same_name:
        errors["name"] = [_("本小区已有同名卡口")]
    outside = [b for b in buildings if b.compound.community_id != compound.community_id]
    if outside:
        errors["buildings"] = [_("%(building)s 不在本社区") % {"building": outside[0]}]
    not_keepers = [u for u in keepers if u.role != Role.CHECKPOINT_KEEPER]
    elsewhere = (
        UserArea.objects.filter(user__in=keepers)
        .exclude(community=None)
        .exclude(community_id=compound.community_id)
        .select_related("user")
        .first()
    )
    if not_keepers:
        errors["keepers"] = [_("%(user)s 不是卡口值守账号") % {"user": not_keepers[0]}]
    elif elsewhere:
        errors["keepers"] = [_("%(user)s 属于其他社区") % {"user": elsewhere.user}]
    if team is not None and team.community_id != compound.community_id:
        errors["team"] = [_("队伍不属于本社区")]
    if errors:
        raise ValidationError(errors)
    checkpoint = checkpoint or Checkpoint(community=compound.community, compound=compound)
    checkpoint.name = name
    checkpoint.team = team
    checkpoint.notes = notes.strip()
    checkpoint.save()
    CheckpointGate.objects.filter(checkpoint=checkpoint).exclude(gate__in=gates).delete()
    for gate in gates:
        CheckpointGate.objects.get_or_create(checkpoint=checkpoint, gate=gate)
    checkpoint.buildings.set(buildings)
    checkpoint.keepers.set(keepers)
    for keeper in keepers:
        UserArea.objects.update_or_create(
            user=keeper, defaults={"community": compound.community, "street": None}
        )
    return checkpoint


@transaction.atomic
def shift_create(
    *,
    actor: User,
    checkpoint: Checkpoint,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    needed: int,
    required_skills: Sequence[str] = (),
) -> Shift:
    """A slot on the roster; each of its `needed` places becomes a duty-shift task."""
    errors: Errors = {}
    if ends_at <= starts_at:
        errors["ends_at"] = [_("结束时间必须晚于开始时间")]
    if not 1 <= needed <= 50:
        errors["needed"] = [_("所需人数应在 1 到 50 之间")]
    if Shift.objects.filter(checkpoint=checkpoint, starts_at=starts_at).exists():
        errors["starts_at"] = [_("该卡口这个时间已有班次")]
    if errors:
        raise ValidationError(errors)
    shift = Shift.objects.create(
        checkpoint=checkpoint, starts_at=starts_at, ends_at=ends_at, needed=needed
    )
    window = "{}–{}".format(
        formats.date_format(timezone.localtime(starts_at), "m-d H:i"),
        formats.date_format(timezone.localtime(ends_at), "H:i"),
    )
    buildings = list(checkpoint.buildings.select_related("compound"))
    for _place in range(needed):
        task = workforce.task_create(
            actor=actor,
            community=checkpoint.community,
            kind=TaskKind.DUTY_SHIFT,
            title=_("%(checkpoint)s 值守 %(window)s")
            % {"checkpoint": checkpoint, "window": window},
            place=str(checkpoint),
            starts_at=starts_at,
            ends_at=ends_at,
            required_skills=required_skills,
            buildings=buildings,
        )
        shift.tasks.add(task)
    return shift


@transaction.atomic
def courier_log(
    *,
    actor: User,
    checkpoint: Checkpoint,
    name: str,
    phone: str = "",
    company: str = "",
    health_code: str,
    test_checked: bool,
    parcels: int,
    accepted: bool,
    refusal_reason: str = "",
    arrived_at: dt.datetime | None = None,
) -> CourierEntry:
    errors: Errors = {}
    if not name.strip():
        errors["name"] = [_("请填写姓名")]
    checked = check_mobile(phone)
    if phone.strip() and checked.errors:
        errors["phone"] = checked.errors
    if health_code not in HealthCode.values:
        errors["health_code"] = [_("请选择健康码颜色")]
    if parcels < 0:
        errors["parcels"] = [_("件数不能为负数")]
    if accepted and health_code in HealthCode.values and health_code != HealthCode.GREEN:
        errors["health_code"] = [_("非绿码不能放行，请选择“拒绝”并填写原因")]
    if accepted and not test_checked:
        errors["test_checked"] = [_("未查验核酸阴性证明不能放行")]
    if not accepted and not refusal_reason.strip():
        errors["refusal_reason"] = [_("拒绝放行请填写原因")]
    if errors:
        raise ValidationError(errors)
    return CourierEntry.objects.create(
        checkpoint=checkpoint,
        arrived_at=arrived_at or timezone.now(),
        name=name.strip()[:64],
        phone=checked.value if phone.strip() else "",
        company=company.strip()[:64],
        health_code=health_code,
        test_checked=test_checked,
        parcels=parcels,
        accepted=accepted,
        refusal_reason="" if accepted else refusal_reason.strip()[:200],
        recorded_by=actor,
    )


@transaction.atomic
def goods_receive(
    *,
    actor: User,
    checkpoint: Checkpoint,
    sender: str,
    count: int,
    description: str = "",
    buildings: Sequence[Building] = (),
) -> GoodsReceipt:
    errors: Errors = {}
    if not sender.strip():
        errors["sender"] = [_("请填写发货方")]
    if count < 1:
        errors["count"] = [_("件数至少为 1")]
    outside = [b for b in buildings if b.compound.community_id != checkpoint.community_id]
    if outside:
        errors["buildings"] = [_("%(building)s 不在本社区") % {"building": outside[0]}]
    if errors:
        raise ValidationError(errors)
    goods = GoodsReceipt.objects.create(
        checkpoint=checkpoint,
        sender=sender.strip()[:100],
        description=description.strip()[:200],
        count=count,
        received_by=actor,
    )
    goods.buildings.set(buildings or checkpoint.buildings.all())
    return goods


def _locked(goods: GoodsReceipt) -> GoodsReceipt:
    return (
        GoodsReceipt.objects.select_for_update()
        .select_related("checkpoint__community")
        .get(pk=goods.pk)
    )


@transaction.atomic
def goods_disinfect(*, actor: User, goods: GoodsReceipt) -> GoodsReceipt:
    """Disinfected now: held for the community's hold time from this moment."""
    goods = _locked(goods)
    if goods.status != GoodsStatus.RECEIVED:
        raise ValidationError(
            {"status": [_("这批物资已是“%(status)s”") % {"status": goods.get_status_display()}]}
        )
    now = timezone.now()
    goods.status = GoodsStatus.DISINFECTED
    goods.disinfected_at = now
    goods.disinfected_by = actor
    goods.hold_until = now + dt.timedelta(minutes=goods.checkpoint.community.goods_hold_minutes)
    goods.save()
    return goods


@transaction.atomic
def goods_release(*, actor: User, goods: GoodsReceipt) -> GoodsReceipt:
    """Released to the buildings, only once the hold has ended (the database checks too)."""
    goods = _locked(goods)
    now = timezone.now()
    if goods.status == GoodsStatus.RELEASED:
        raise ValidationError({"status": [_("这批物资已放行")]})
    if goods.status == GoodsStatus.RECEIVED or goods.hold_until is None:
        raise ValidationError({"status": [_("物资尚未消杀，不能放行")]})
    if goods.hold_until > now:
        raise ValidationError(
            {
                "status": [
                    _("静置未满：还需 %(minutes)d 分钟（%(until)s 后可放行）")
                    % {
                        "minutes": goods.minutes_left(now),
                        "until": formats.date_format(timezone.localtime(goods.hold_until), "H:i"),
                    }
                ]
            }
        )
    goods.status = GoodsStatus.RELEASED
    goods.released_at = now
    goods.released_by = actor
    goods.save()
    return goods
