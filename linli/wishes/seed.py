"""Demo micro-wishes: 45 wishes from 11 households of a tier's first community, one batch
published through the real actions, some claimed, delivered and thanked.

Called by `linli seed` / `linli demo` (WishesConfig.seed). Deterministic (fixed lists and
one random stream) and idempotent: a community that has wishes is left alone.
"""

from __future__ import annotations

import datetime as dt
import random

from django.core.management.base import OutputWrapper
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.registry.choices import CareTag
from linli.registry.models import CareTagAssignment, Community, Household
from linli.wishes import actions
from linli.wishes.models import Wish
from linli.workforce.seed import quiet_messages, tier_communities

HOUSEHOLDS = 11
WISHES = 45
CLAIMED = 24
CLAIMERS = 14

_RECIPIENTS = {
    CareTag.DIBAO: "一位低保户老人",
    CareTag.EXTREME_HARDSHIP: "一位特困老人",
    CareTag.LIVES_ALONE: "一位独居老人",
    CareTag.DISABLED: "一位残疾居民",
    CareTag.EMPTY_NEST: "一对空巢老人",
}
# (item, quantity, value in yuan): what the deputy director heard at the doors.
_ITEMS = (
    ("骑电动车用的围巾和手套", 1, 80),
    ("书包", 1, 120),
    ("文具盒", 1, 30),
    ("成人纸尿裤（包）", 5, 250),
    ("保温杯", 1, 60),
    ("电热毯", 1, 150),
    ("棉拖鞋", 2, 50),
    ("老花镜", 1, 40),
    ("冬季棉被", 1, 200),
    ("儿童绘本", 3, 90),
    ("护膝", 1, 45),
    ("电饭煲", 1, 180),
    ("羽绒背心", 1, 160),
    ("英语词典", 1, 60),
    ("血压计", 1, 150),
)
_CHILD_ITEMS = {"书包", "文具盒", "儿童绘本", "英语词典"}
_CLAIMERS = (
    ("王建军", "区税务局"),
    ("刘芳", "区税务局"),
    ("陈志明", "市第三中学"),
    ("杨丽", "市第三中学"),
    ("赵强", "城市燃气公司"),
    ("黄敏", "城市燃气公司"),
    ("周涛", "区人民医院"),
    ("吴静", "街道办事处"),
    ("徐磊", "区教育局"),
    ("孙婷", "区城管执法局"),
    ("马超", "城市燃气公司"),
    ("朱琳", "区人民法院"),
    ("胡斌", "工商银行支行"),
    ("郭燕", "区图书馆"),
)


def _staff(community: Community) -> User | None:
    user: User | None = (
        User.objects.filter(role=Role.COMMUNITY_STAFF, area__community=community)
        .order_by("pk")
        .first()
    )
    return user or User.objects.filter(is_superuser=True).order_by("pk").first()


def _households(community: Community) -> list[tuple[Household, str]]:
    """Households with needy residents first (dibao, extreme hardship, alone, disabled)."""
    chosen: list[tuple[Household, str]] = []
    seen: set[int] = set()
    for tag, recipient in _RECIPIENTS.items():
        rows = (
            CareTagAssignment.objects.filter(tag=tag, resident__household__community=community)
            .order_by("resident__household_id")
            .values_list("resident__household_id", flat=True)
        )
        for household_id in rows:
            if household_id not in seen and len(chosen) < HOUSEHOLDS:
                seen.add(household_id)
                chosen.append((Household.objects.get(pk=household_id), recipient))
    for household in Household.objects.filter(community=community).order_by("pk")[:50]:
        if len(chosen) >= HOUSEHOLDS:
            break
        if household.pk not in seen:
            seen.add(household.pk)
            chosen.append((household, "一位困难家庭的居民"))
    return chosen


def seed(*, tier: str, password: str, stdout: OutputWrapper | None = None) -> dict[str, int]:
    with scopes_disabled():
        communities = tier_communities(tier)
        if not communities:
            return {}
        community = communities[0]
        if Wish.objects.filter(community=community).exists():
            if stdout is not None:
                stdout.write(_("微心愿的演示数据已经存在，未重复生成。"))
            return {}
        staff = _staff(community)
        households = _households(community)
        if staff is None or len(households) < HOUSEHOLDS:
            return {}
        rng = random.Random(f"linli-wishes-{tier}")  # noqa: S311 (demo data)
        with transaction.atomic(), quiet_messages():
            counts = _seed(community, staff, households, rng)
    if stdout is not None:
        stdout.write(
            _(
                "已生成微心愿 %(wishes)d 个（%(households)d 户），"
                "发布批次 1 个，已认领 %(claimed)d 个。"
            )
            % counts
        )
    return counts


def _seed(
    community: Community,
    staff: User,
    households: list[tuple[Household, str]],
    rng: random.Random,
) -> dict[str, int]:
    wishes: list[Wish] = []
    for n in range(WISHES):
        household, recipient = households[n % HOUSEHOLDS]
        item, quantity, yuan = _ITEMS[(n * 7 + n // HOUSEHOLDS) % len(_ITEMS)]
        if item in _CHILD_ITEMS:
            recipient = "一名困难家庭的小学生"
        wish = actions.wish_collect(
            actor=staff,
            data=actions.WishInput(
                household=household,
                recipient=recipient,
                item=item,
                quantity=quantity,
                value_fen=yuan * 100,
            ),
        )
        wishes.append(actions.wish_approve(actor=staff, wish=wish))
    batch = actions.batch_create(
        actor=staff,
        community=community,
        title="冬日暖心 · 微心愿认领",
        deliver_by=timezone.localdate() + dt.timedelta(days=10),
        per_claimer_limit=2,
        note="请在截止日期前把礼物送到社区党群服务中心（工作日 9:00–17:00），由社区转交。",
    )
    actions.batch_add(actor=staff, batch=batch, wishes=wishes)
    actions.batch_publish(actor=staff, batch=batch)
    published = list(Wish.objects.filter(batch=batch).order_by("number"))
    claimed = 0
    for n, wish in enumerate(rng.sample(published, CLAIMED)):
        name, unit = _CLAIMERS[n % CLAIMERS]
        result = actions.wish_claim(
            batch=batch,
            wish_id=wish.pk,
            data=actions.ClaimInput(name=name, phone=f"1390000{n % CLAIMERS:04d}", work_unit=unit),
        )
        claimed += 1
        if n < 6:
            delivered = actions.wish_receive(actor=staff, wish=result.claim.wish)
            if n < 3:
                actions.wish_thank(
                    actor=staff, wish=delivered, thanks="谢谢党员同志，东西很实用，天冷了正用得上。"
                )
    return {"wishes": len(wishes), "households": HOUSEHOLDS, "claimed": claimed}
