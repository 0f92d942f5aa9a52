"""Demo checkpoints for each community of a tier: gates merged (17 → 8 on the estate),
rosters for today and tomorrow with some gaps, couriers logged, goods held and released.

Called by `linli seed` / `linli demo` after the workforce seeder (CheckpointsConfig.seed),
through the real actions: a checkpoint is a handful of rows, and the actions check them.
Deterministic (a fixed random stream per tier) and idempotent (a tier whose communities
have checkpoints is left alone).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import TypeVar

from django.core.management.base import OutputWrapper
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints import actions
from linli.checkpoints.choices import GoodsStatus, HealthCode
from linli.checkpoints.models import Checkpoint, GoodsReceipt
from linli.registry.models import Building, Community, Compound, Gate
from linli.workforce import actions as workforce
from linli.workforce.choices import TeamKind, VolunteerStatus
from linli.workforce.models import Team, Volunteer
from linli.workforce.seed import quiet_messages, tier_communities

DEMO_KEEPER = "checkpoint_keeper_1"  # the demo account of registry.seed's _STAFF list
# Shifts of each roster day (local hours) and the people each needs.
SHIFT_HOURS = ((8, 14), (14, 20))
SHIFT_NEEDED = 2
_COMPANIES = ("顺丰速运", "京东物流", "中通快递", "美团外卖", "饿了么", "叮咚买菜", "盒马鲜生")
_SENDERS = (
    ("区保供专班", "蔬菜包"),
    ("惠民生鲜配送", "米面油套餐"),
    ("市红十字会", "爱心包"),
    ("社区卫生服务中心", "常用药品"),
)


def seed(*, tier: str, password: str, stdout: OutputWrapper | None = None) -> dict[str, int]:
    """Seed the checkpoints of a tier's communities unless they have some already."""
    with scopes_disabled():
        communities = tier_communities(tier)
        if not communities:
            return {}
        if Checkpoint.objects.filter(community__in=communities).exists():
            if stdout is not None:
                stdout.write(_("卡口的演示数据已经存在，未重复生成。"))
            return {}
        seeder = CheckpointSeeder(
            rng=random.Random(f"linli-checkpoints-{tier}"),  # noqa: S311 (demo data)
            now=timezone.now(),
        )
        with transaction.atomic(), quiet_messages():
            for number, community in enumerate(communities):
                seeder.community(community, demo=number == 0)
    if stdout is not None:
        stdout.write(
            _(
                "已生成卡口 %(checkpoints)d 个（由 %(gates)d 个出入口合并）、班次 %(shifts)d 个"
                "（缺口 %(gaps)d 个）、快递骑手登记 %(couriers)d 条、物资 %(goods)d 批。"
            )
            % seeder.counts
        )
    return seeder.counts


T = TypeVar("T")


def split(items: list[T], parts: int) -> list[list[T]]:
    """`items` in `parts` runs, in order, as even as can be (17 in 8: one run of 3)."""
    size, extra = divmod(len(items), parts)
    runs: list[list[T]] = []
    start = 0
    for n in range(parts):
        end = start + size + (1 if n < extra else 0)
        runs.append(items[start:end])
        start = end
    return runs


@dataclass
class CheckpointSeeder:
    rng: random.Random
    now: dt.datetime
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("checkpoints", "gates", "shifts", "gaps", "couriers", "goods"), 0
        )
    )

    def __post_init__(self) -> None:
        self.staff = User.objects.filter(username="community_staff").first()
        self.keeper = User.objects.filter(username=DEMO_KEEPER, role=Role.CHECKPOINT_KEEPER).first()

    def community(self, community: Community, *, demo: bool) -> None:
        actor = self.staff or User.objects.filter(is_superuser=True).first()
        if actor is None:
            return
        branch = Team.objects.filter(community=community, kind=TeamKind.PARTY_BRANCH).first()
        checkpoints: list[Checkpoint] = []
        for compound in Compound.objects.filter(community=community).order_by("pk"):
            checkpoints += self.merge(actor, compound, keep=demo and not checkpoints, team=branch)
        if not checkpoints:
            return
        volunteers = list(
            Volunteer.objects.filter(community=community, status=VolunteerStatus.VERIFIED)
            .select_related("user", "community")
            .order_by("pk")
        )
        for number, checkpoint in enumerate(checkpoints):
            # What happens at the gate is recorded by its keeper, where it has one.
            keeper = checkpoint.keepers.first() or actor
            self.roster(actor, checkpoint, volunteers, gap_today=number == 0)
            self.couriers(keeper, checkpoint)
        self.goods(checkpoints[0].keepers.first() or actor, checkpoints[0])

    def merge(
        self, actor: User, compound: Compound, *, keep: bool, team: Team | None
    ) -> list[Checkpoint]:
        """A compound's gates two by two into checkpoints, each serving a run of buildings."""
        gates = list(Gate.objects.filter(compound=compound).order_by("pk"))
        if not gates:
            return []
        buildings = list(
            Building.objects.filter(compound=compound)
            .select_related("compound")
            .order_by("sort_key", "pk")
        )
        parts = max(1, len(gates) // 2)
        made = []
        for number, (run_gates, served) in enumerate(
            zip(split(gates, parts), split(buildings, parts), strict=True)
        ):
            first = keep and number == 0
            made.append(
                actions.checkpoint_save(
                    actor=actor,
                    compound=compound,
                    name="、".join(g.name for g in run_gates) + _("卡口"),
                    gates=run_gates,
                    buildings=served,
                    keepers=[self.keeper] if first and self.keeper else [],
                    team=team if first else None,
                )
            )
        self.counts["checkpoints"] += len(made)
        self.counts["gates"] += len(gates)
        return made

    def roster(
        self,
        actor: User,
        checkpoint: Checkpoint,
        volunteers: list[Volunteer],
        *,
        gap_today: bool,
    ) -> None:
        """Today's and tomorrow's shifts, mostly filled: a few places stay open (gaps), at
        least one this afternoon when `gap_today` (the demo keeper's checkpoint)."""
        today = timezone.localdate(self.now)
        for day in (today, today + dt.timedelta(days=1)):
            for starts, ends in SHIFT_HOURS:
                shift = actions.shift_create(
                    actor=actor,
                    checkpoint=checkpoint,
                    starts_at=timezone.make_aware(dt.datetime.combine(day, dt.time(starts))),
                    ends_at=timezone.make_aware(dt.datetime.combine(day, dt.time(ends))),
                    needed=SHIFT_NEEDED,
                )
                self.counts["shifts"] += 1
                places = list(shift.tasks.order_by("pk"))
                for place, task in enumerate(places):
                    kept_open = gap_today and day == today and starts == 14 and place == 0
                    if not volunteers or self.rng.random() < 0.2 or kept_open:
                        self.counts["gaps"] += 1
                        continue
                    volunteer = volunteers[self.rng.randrange(len(volunteers))]
                    task = workforce.task_assign(actor=actor, task=task, volunteer=volunteer)
                    if self.rng.random() < 0.8:
                        workforce.task_accept(actor=volunteer.user, task=task)

    def couriers(self, actor: User, checkpoint: Checkpoint) -> None:
        rng = self.rng
        for n in range(3):
            refused = n == 2 and rng.random() < 0.5
            actions.courier_log(
                actor=actor,
                checkpoint=checkpoint,
                name=rng.choice("王李张刘陈黄周吴") + rng.choice(("师傅", "先生", "女士")),
                phone=rng.choice(("138", "139", "158", "186", "177"))
                + f"{rng.randrange(10**8):08d}",
                company=rng.choice(_COMPANIES),
                health_code=HealthCode.YELLOW if refused else HealthCode.GREEN,
                test_checked=not refused,
                parcels=rng.randint(3, 40),
                accepted=not refused,
                refusal_reason=_("黄码，未持48小时核酸阴性证明") if refused else "",
                arrived_at=self.now - dt.timedelta(minutes=rng.randint(10, 300)),
            )
            self.counts["couriers"] += 1

    def goods(self, actor: User, checkpoint: Checkpoint) -> None:
        """One batch released this morning, one held (disinfected now), one just received."""
        hold = dt.timedelta(minutes=checkpoint.community.goods_hold_minutes)
        sender, what = _SENDERS[0]
        received = self.now - hold - dt.timedelta(hours=2)
        released = GoodsReceipt.objects.create(
            checkpoint=checkpoint,
            sender=sender,
            description=what,
            count=120,
            status=GoodsStatus.RELEASED,
            received_at=received,
            received_by=actor,
            disinfected_at=received + dt.timedelta(minutes=20),
            disinfected_by=actor,
            hold_until=received + dt.timedelta(minutes=20) + hold,
            released_at=received + dt.timedelta(minutes=30) + hold,
            released_by=actor,
        )
        released.buildings.set(checkpoint.buildings.all())
        for (sender, what), disinfect in zip(_SENDERS[1:3], (True, False), strict=True):
            goods = actions.goods_receive(
                actor=actor,
                checkpoint=checkpoint,
                sender=sender,
                description=what,
                count=self.rng.randint(30, 200),
            )
            if disinfect:
                actions.goods_disinfect(actor=actor, goods=goods)
        self.counts["goods"] += 3
