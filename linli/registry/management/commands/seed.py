"""`linli seed --tier community|estate|street`: fill the database with a demo neighbourhood."""

from __future__ import annotations

import argparse
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from linli.registry import seed


class Command(BaseCommand):
    help = "生成演示数据（按规模档），并列出演示账号；已生成过的规模档不会重复生成。"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--tier", choices=sorted(seed.TIERS), default="community")
        parser.add_argument("--password", default=seed.DEFAULT_PASSWORD)
        # A scaled-down tier for quick tries; the tests call seed.seed(households=…) directly.
        parser.add_argument("--households", type=int, default=None, help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        seed_tier(
            self,
            tier=options["tier"],
            password=options["password"],
            households=options["households"],
        )


def seed_tier(
    command: BaseCommand, *, tier: str, password: str, households: int | None = None
) -> seed.SeedReport:
    """Seed (unless done before) and print what was made and the accounts table."""
    if "registry_street" not in connection.introspection.table_names():
        raise CommandError(_("数据库还没有建表，请先运行 linli migrate"))
    if tier not in seed.TIERS:
        raise CommandError(
            _("未知的规模档：%(tier)s（可选：%(tiers)s）")
            % {"tier": tier, "tiers": "、".join(seed.TIERS)}
        )
    if not password:
        raise CommandError(_("密码不能为空"))
    if households is not None and households < 1:
        raise CommandError(_("--households 必须是正整数"))
    started = time.perf_counter()
    report = seed.seed(tier=tier, password=password, households=households)
    seconds = time.perf_counter() - started
    plan = seed.plan_for(tier)
    if report.created:
        counts = report.counts
        command.stdout.write(
            _(
                "已生成%(street)s（%(tier)s）：%(communities)d 个社区、%(grids)d 个网格、"
                "%(buildings)d 栋楼、%(households)d 户、%(residents)d 名居民"
                "（60 岁以上 %(elderly).0f%%），重点人群 %(register)d 人；用时 %(seconds).1f 秒。"
            )
            % {
                "street": plan.street_name,
                "tier": tier,
                "elderly": report.elderly_share * 100,
                "seconds": seconds,
                **counts,
            }
        )
    else:
        command.stdout.write(
            _("%(street)s（%(tier)s）的演示数据已经存在，未重复生成。")
            % {"street": plan.street_name, "tier": tier}
        )
    # Volunteers, checkpoints, …: each app with demo data adds its own (see the function).
    seed.seed_installed_apps(tier=tier, password=password, stdout=command.stdout)
    command.stdout.write("")
    command.stdout.write(seed.format_accounts(seed.account_rows(tier), password))
    if not report.created:
        command.stdout.write(_("（密码以首次生成时为准）"))
    return report
