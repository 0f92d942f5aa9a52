"""Demo care plans for the demo community's register residents, a week of worked check-ins
(so coverage shows something), and today's worklist partly worked.

Called by `linli seed` / `linli demo` after the registry and workforce (CareConfig.seed).
Plans are made by the real bulk action; past days are written in bulk (outcomes only, no
messages); today's outcomes go through the real actions, one of them making a hotline
ticket. Deterministic (one fixed random stream) and idempotent: a community with plans
is left alone.
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
from linli.care import actions
from linli.care.choices import CheckInStatus, FollowUp, Outcome, PlanKind
from linli.care.models import Attempt, CarePlan, CheckIn
from linli.registry.choices import CareTag
from linli.registry.models import Community
from linli.workforce.seed import quiet_messages, tier_communities

HISTORY_DAYS = 6
_NOTES = ("精神不错", "血压平稳", "已吃过午饭", "女儿刚来看过", "腿脚不便，说一切都好", "")
_NEEDS = (
    ("降压药快吃完了，想请人代配药", FollowUp.TICKET),
    ("想要一袋米和一桶油", FollowUp.PROXY_ORDER),
)


def seed(*, tier: str, password: str, stdout: OutputWrapper | None = None) -> dict[str, int]:
    with scopes_disabled():
        communities = tier_communities(tier)
        if not communities:
            return {}
        community = communities[0]
        if CarePlan.objects.filter(resident__household__community=community).exists():
            if stdout is not None:
                stdout.write(_("关爱回访的演示数据已经存在，未重复生成。"))
            return {}
        rng = random.Random(f"linli-care-{tier}")  # noqa: S311 (demo data)
        with transaction.atomic(), quiet_messages():
            counts = _seed_community(community, rng)
    if stdout is not None:
        stdout.write(
            _("已生成关爱计划 %(plans)d 份、近一周回访 %(history)d 条、今天已回访 %(today)d 条。")
            % counts
        )
    return counts


def _seed_community(community: Community, rng: random.Random) -> dict[str, int]:
    staff = (
        User.objects.filter(role=Role.COMMUNITY_STAFF, area__community=community).first()
        or User.objects.filter(is_superuser=True).first()
    )
    assert staff is not None  # noqa: S101
    today = timezone.localdate()
    starts = today - dt.timedelta(days=HISTORY_DAYS)
    lives_alone = actions.plans_bulk_create(
        actor=staff,
        community=community,
        tags=[CareTag.LIVES_ALONE],
        data=actions.PlanInput(
            kind=PlanKind.CALL_AND_VISIT,
            visit_every_days=7,
            starts_on=starts,
            preferred_time=dt.time(9, 30),
        ),
    )
    others = actions.plans_bulk_create(
        actor=staff,
        community=community,
        tags=[
            CareTag.EMPTY_NEST,
            CareTag.DISABLED,
            CareTag.EXTREME_HARDSHIP,
            CareTag.SERIOUS_ILLNESS,
            CareTag.DIALYSIS,
        ],
        data=actions.PlanInput(starts_on=starts),
    )
    history = 0
    for offset in range(HISTORY_DAYS, 0, -1):
        history += _past_day(community, today - dt.timedelta(days=offset), rng)
    return {
        "plans": lives_alone.created + others.created,
        "history": history,
        "today": _today(community, today, rng),
    }


def _past_day(community: Community, day: dt.date, rng: random.Random) -> int:
    """A worked day, written in bulk: most reached at the first try in the morning, a few
    on the second, one in a hundred never (left escalated: the door visit found them)."""
    check_ins = actions.check_ins_due(
        list(actions.active_plans(day, [community.pk])), day, actor=None
    )
    tries: list[list[tuple[dt.datetime, str, str]]] = []
    for check_in in check_ins:
        first = timezone.make_aware(
            dt.datetime.combine(day, dt.time(8, 30)) + dt.timedelta(minutes=rng.randrange(180))
        )
        roll = rng.random()
        made: list[tuple[dt.datetime, str, str]] = []
        if roll < 0.1:
            made.append((first, Outcome.UNREACHED, CheckInStatus.PENDING))
            first += dt.timedelta(minutes=45)
        tries.append(made)
        if roll < 0.01:
            check_in.status = CheckInStatus.ESCALATED
            check_in.escalated_at = timezone.make_aware(dt.datetime.combine(day, dt.time(16)))
            continue
        outcome = Outcome.NEEDS if roll > 0.96 else Outcome.FINE
        made.append((first, outcome, CheckInStatus.UNREACHED if made else CheckInStatus.PENDING))
        check_in.status = CheckInStatus.NEEDS if outcome == Outcome.NEEDS else CheckInStatus.FINE
        check_in.reached_at = first
        if outcome == Outcome.NEEDS:
            check_in.needs, check_in.follow_up = _NEEDS[1]
    CheckIn.objects.bulk_create(check_ins)
    Attempt.objects.bulk_create(
        _attempt(check_in, at, outcome, before)
        for check_in, made in zip(check_ins, tries, strict=True)
        for at, outcome, before in made
    )
    return len(check_ins)


def _attempt(check_in: CheckIn, at: dt.datetime, outcome: str, before: str) -> Attempt:
    return Attempt(
        check_in=check_in,
        at=at,
        by=check_in.owner,
        channel=check_in.channel,
        outcome=outcome,
        note=_NOTES[check_in.pk % len(_NOTES)] if outcome == Outcome.FINE else "",
        status_before=before,
    )


def _today(community: Community, today: dt.date, rng: random.Random) -> int:
    """Today's list, about a third worked by its owners through the real actions."""
    actions.worklist_generate(today, communities=[community.pk])
    check_ins = list(
        CheckIn.objects.filter(community=community, due=today)
        .exclude(owner=None)
        .select_related("owner", "resident__household__community")
        .order_by("pk")
    )
    worked = 0
    for number, check_in in enumerate(check_ins):
        if number % 3:
            continue
        assert check_in.owner is not None  # noqa: S101
        if worked in (2, 7):
            actions.check_in_record(
                actor=check_in.owner, check_in=check_in, outcome=Outcome.UNREACHED
            )
        elif worked in (4, 9):
            needs, follow_up = _NEEDS[0 if worked == 4 else 1]
            actions.check_in_record(
                actor=check_in.owner,
                check_in=check_in,
                outcome=Outcome.NEEDS,
                needs=needs,
                follow_up=follow_up,
            )
        else:
            actions.check_in_record(
                actor=check_in.owner,
                check_in=check_in,
                outcome=Outcome.FINE,
                note=rng.choice(_NOTES),
            )
        worked += 1
    return worked
