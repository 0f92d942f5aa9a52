"""Demo tickets for the first community of a tier: a few dozen across channels, categories
and statuses, spread over the last two weeks, made through the real actions (so each has its
timeline) and then moved back in time. Deterministic; idempotent (skipped when the community
has tickets already)."""

from __future__ import annotations

import datetime as dt
import random

from django.core.management.base import OutputWrapper
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.hotline import actions
from linli.hotline.actions import TicketInput
from linli.hotline.choices import Channel, Feedback, TicketStatus
from linli.hotline.models import Ticket, TicketEvent
from linli.registry.models import Resident
from linli.workforce.seed import quiet_messages, tier_communities

# (text, channel, final status); category and urgency come from triage.
REQUESTS: tuple[tuple[str, str, str], ...] = (
    ("我母亲92岁了，心绞痛发作，需要马上去医院", Channel.PHONE, TicketStatus.CLOSED),
    ("老伴明天要去做血透，小区封着出不去，需要车", Channel.PHONE, TicketStatus.CLOSED),
    ("我怀孕32周了，这周要去医院产检", Channel.WECHAT, TicketStatus.RESOLVED),
    ("家里降压药只剩两天的了，帮忙去医院配药", Channel.PHONE, TicketStatus.IN_PROGRESS),
    ("胰岛素没了，急需配药", Channel.PHONE, TicketStatus.CLOSED),
    ("家里没有米和油了，老人一个人在家", Channel.GRID_WORKER, TicketStatus.CLOSED),
    ("想买点蔬菜和鸡蛋，团购没抢到", Channel.WECHAT, TicketStatus.ACCEPTED),
    ("楼道灯坏了，晚上老人下楼看不见", Channel.PHONE, TicketStatus.RESOLVED),
    ("厨房下水道堵了，水漫出来了", Channel.PHONE, TicketStatus.IN_PROGRESS),
    ("3号楼门口电线掉下来了，很危险", Channel.WALK_IN, TicketStatus.NEW),
    ("楼道里堆满了纸箱，怕着火", Channel.RESIDENT_PAGE, TicketStatus.NEW),
    ("一个人在家好几天了，心里很慌，睡不着", Channel.PHONE, TicketStatus.CLOSED),
    ("孩子出疱疹发烧了，想找医生看看", Channel.PHONE, TicketStatus.CLOSED),
    ("没有收入了，房租交不上，能申请补助吗", Channel.PHONE, TicketStatus.ACCEPTED),
    ("请问核酸检测几点开始", Channel.PHONE, TicketStatus.RESOLVED),
    ("爸爸呼吸困难，嘴唇发紫", Channel.PHONE, TicketStatus.CLOSED),
    ("老人摔倒了起不来", Channel.PHONE, TicketStatus.RESOLVED),
    ("快生了，羊水破了", Channel.PHONE, TicketStatus.CLOSED),
    ("透析病人需要每周三次去医院", Channel.CARE_CALL, TicketStatus.IN_PROGRESS),
    ("帮忙买点感冒药", Channel.RESIDENT_PAGE, TicketStatus.NEW),
    ("家里水管爆了", Channel.PHONE, TicketStatus.CLOSED),
    ("隔壁一直有煤气味", Channel.PHONE, TicketStatus.RESOLVED),
    ("独居老人好几天没开门了", Channel.GRID_WORKER, TicketStatus.CLOSED),
    ("想问问爱心菜什么时候送", Channel.WECHAT, TicketStatus.CANCELLED),
    ("需要纸尿裤和奶粉", Channel.WECHAT, TicketStatus.CLOSED),
    ("心情很差，不想活了", Channel.PHONE, TicketStatus.CLOSED),
    ("电梯坏了，老人上不了楼", Channel.PHONE, TicketStatus.IN_PROGRESS),
    ("母亲高烧39度，怎么去医院", Channel.PHONE, TicketStatus.ACCEPTED),
    ("帮忙取一下快递里的药", Channel.CARE_CALL, TicketStatus.NEW),
    ("重复来电，问同一件事", Channel.PHONE, TicketStatus.CANCELLED),
    ("楼上漏水到我家", Channel.RESIDENT_PAGE, TicketStatus.CLOSED),
    ("胸口疼得厉害，出冷汗", Channel.PHONE, TicketStatus.CLOSED),
    ("想给社区提个建议", Channel.WALK_IN, TicketStatus.RESOLVED),
    ("家里断粮了，能送点吃的吗", Channel.PHONE, TicketStatus.NEW),
    ("需要轮椅借用", Channel.PHONE, TicketStatus.ACCEPTED),
    ("老人血糖很低，昏昏沉沉的", Channel.PHONE, TicketStatus.IN_PROGRESS),
)

# How far a ticket gets before it is left where it is (in this order).
PATH = (TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CLOSED)

SHIFTED = (
    "created_at",
    "respond_by",
    "resolve_by",
    "accepted_at",
    "started_at",
    "resolved_at",
    "closed_at",
    "cancelled_at",
    "escalate_after",
    "escalated_at",
)


def seed(*, tier: str, password: str, stdout: OutputWrapper | None = None) -> int:
    with scopes_disabled():
        communities = tier_communities(tier)
        if not communities:
            return 0
        community = communities[0]
        if Ticket.objects.filter(community=community).exists():
            if stdout is not None:
                stdout.write(_("工单的演示数据已经存在，未重复生成。"))
            return 0
        operator = User.objects.filter(
            role=Role.HOTLINE_OPERATOR, area__community=community
        ).first()
        staff = User.objects.filter(role=Role.COMMUNITY_STAFF, area__community=community).first()
        rng = random.Random(f"linli-hotline-{tier}")  # noqa: S311 (demo data)
        residents = list(
            Resident.objects.filter(household__community=community)
            .select_related("household")
            .order_by("pk")[:400]
        )
        actions.sla_targets_seed(community)
        made = 0
        with transaction.atomic(), quiet_messages():
            for text, channel, status in REQUESTS:
                resident = rng.choice(residents) if residents and rng.random() < 0.85 else None
                ticket = actions.ticket_create(
                    operator,
                    TicketInput(
                        community=community,
                        channel=channel,
                        description=text,
                        resident=resident,
                        caller_phone="" if resident else f"139{rng.randrange(10**8):08d}",
                        caller_name="" if resident else _("来电群众"),
                        hazard_location=_("3号楼门口") if "电线" in text else "",
                    ),
                )
                _walk(ticket, status, actor=ticket.owner or staff or operator, closer=operator)
                _back_in_time(ticket, rng)
                made += 1
    if stdout is not None:
        stdout.write(_("已生成演示工单 %(n)d 个。") % {"n": made})
    return made


def _walk(ticket: Ticket, status: str, *, actor: User | None, closer: User | None) -> None:
    if actor is None or closer is None:
        return
    if status == TicketStatus.CANCELLED:
        actions.ticket_cancel(actor=closer, ticket=ticket, reason=_("来电人已自行解决"))
        return
    for step in PATH[: PATH.index(status) + 1] if status in PATH else ():
        if step == TicketStatus.ACCEPTED:
            actions.ticket_accept(actor=actor, ticket=ticket)
        elif step == TicketStatus.IN_PROGRESS:
            actions.ticket_start(actor=actor, ticket=ticket)
        elif step == TicketStatus.RESOLVED:
            actions.ticket_resolve(actor=actor, ticket=ticket, resolution=_("已上门处理"))
        elif step == TicketStatus.CLOSED:
            actions.ticket_close(actor=closer, ticket=ticket, feedback=Feedback.SATISFIED)


def _back_in_time(ticket: Ticket, rng: random.Random) -> None:
    """Spread the demo over two weeks; the open ones stay recent so the queue looks live."""
    if ticket.status in (TicketStatus.NEW, TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS):
        back = dt.timedelta(minutes=rng.randrange(1, 6 * 60))
    else:
        back = dt.timedelta(days=rng.randrange(1, 14), minutes=rng.randrange(0, 600))
    Ticket.objects.filter(pk=ticket.pk).update(**{name: F(name) - back for name in SHIFTED})
    TicketEvent.objects.filter(ticket=ticket).update(at=F("at") - back)
    # Open tickets already past a deadline are escalated by the next `linli hotline escalate`.
