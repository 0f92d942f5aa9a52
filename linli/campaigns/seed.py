"""Demo data: a mass-testing campaign for the tier's first community, with today's round,
two sampling points and an imported export (most residents, a few visitors, a typo and a
second sample), plus two exemptions. Deterministic and idempotent (skipped if it exists).

Called by `linli seed` / `linli demo` after the registry's seeder (CampaignsConfig.seed).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

from django.core.management.base import OutputWrapper
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.campaigns import actions
from linli.campaigns.models import Campaign
from linli.lib.identity import compose_id_number
from linli.registry import seed as registry_seed
from linli.registry.choices import LivingStatus
from linli.registry.models import Building, Community, Resident, Street

DEMO_NAME = "全员核酸筛查（演示）"
REACHED = 0.9


def seed(*, tier: str, password: str, stdout: OutputWrapper | None = None) -> dict[str, int]:
    del password  # no accounts of its own
    with scopes_disabled():
        plan = registry_seed.plan_for(tier)
        street = Street.objects.filter(code=plan.street_code).first()
        community = (
            Community.objects.filter(street=street).order_by("pk").first() if street else None
        )
        if community is None:
            return {}
        if Campaign.objects.filter(community=community, name=DEMO_NAME).exists():
            if stdout is not None:
                stdout.write(_("核酸筛查的演示数据已经存在，未重复生成。"))
            return {}
        actor = (
            User.objects.filter(username="community_staff").first()
            or User.objects.filter(is_superuser=True).first()
        )
        if actor is None:
            return {}
        with transaction.atomic():
            counts = _seed_community(community, actor, random.Random(f"linli-campaigns-{tier}"))  # noqa: S311
    if stdout is not None:
        stdout.write(
            _("已生成核酸筛查演示：导入 %(rows)d 条记录，匹配 %(matched)d，未匹配 %(unmatched)d。")
            % counts
        )
    return counts


def _seed_community(community: Community, actor: User, rng: random.Random) -> dict[str, int]:
    today = timezone.localdate()
    campaign = actions.campaign_create(
        actor=actor,
        street=community.street,
        community=community,
        name=DEMO_NAME,
        kind="mass_testing",
        notes="每日 7:30–11:30，四个采样点；请网格员核对未采名单后扫楼。",
    )
    the_round = actions.round_create(actor=actor, campaign=campaign, date=today)
    buildings = list(
        Building.objects.filter(compound__community=community).select_related("compound")
    )
    half = len(buildings) // 2
    points = (
        ("1号采样点（东门广场）", buildings[:half]),
        ("2号采样点（社区服务中心）", buildings[half:]),
    )
    for name, served in points:
        actions.point_save(
            actor=actor,
            campaign=campaign,
            name=name,
            location=name.split("（")[1].rstrip("）"),
            opens_at=dt.time(7, 30),
            closes_at=dt.time(11, 30),
            buildings=served,
        )
    residents = list(
        Resident.objects.filter(
            household__community=community, living_status=LivingStatus.LIVING_HERE
        ).order_by("pk")
    )
    away = residents[:2]
    for resident, reason in zip(away, ("away", "in_hospital"), strict=False):
        actions.exemption_save(
            actor=actor,
            campaign=campaign,
            resident=resident,
            reason=reason,
            starts_on=today - dt.timedelta(days=3),
            ends_on=today + dt.timedelta(days=7),
        )
    sampled = [r for r in residents[2:] if rng.random() < REACHED]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["序号", "姓名", "证件号码", "联系电话", "采样时间", "采样点", "试管编码"])
    n = 0
    for n, resident in enumerate(sampled, start=1):
        minute = rng.randrange(240)
        writer.writerow(
            [
                n,
                resident.name,
                resident.id_number,
                resident.phone,
                f"{today:%Y-%m-%d} {7 + (30 + minute) // 60:02d}:{(30 + minute) % 60:02d}:00",
                "1号采样点" if n % 2 else "2号采样点",
                f"T{today:%m%d}{n:05d}",
            ]
        )
    for v in range(3):  # visitors
        born = dt.date(1985 + v, 3, 1 + v)
        writer.writerow(
            [n + 1 + v, f"访客{v + 1}", compose_id_number("440106", born, 700 + v), "", "", "", ""]
        )
    if sampled:  # a typo in an ID number, and one resident sampled twice
        typo = sampled[0].id_number
        if len(typo) == 18:
            typo = typo[:8] + str((int(typo[8]) + 1) % 10) + typo[9:]
            writer.writerow([n + 4, sampled[0].name, typo, "", "", "", ""])
        writer.writerow([n + 5, sampled[1].name, sampled[1].id_number, "", "", "", "T-REPEAT"])
    batch = actions.records_import(
        actor=actor,
        round=the_round,
        data=out.getvalue().encode("gbk", errors="replace"),
        filename="检测系统导出.csv",
    )
    return {
        "rows": batch.rows,
        "matched": batch.matched_id + batch.matched_name_phone,
        "unmatched": batch.unmatched,
    }
