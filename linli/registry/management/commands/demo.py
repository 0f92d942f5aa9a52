"""`linli demo`: create the database, seed a tier once, and serve it on 127.0.0.1."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.registry import seed
from linli.registry.management.commands.seed import seed_tier


class Command(BaseCommand):
    help = "演示：建库、生成演示数据（只生成一次）并在 127.0.0.1 上启动服务。"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--tier", choices=sorted(seed.TIERS), default="community")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--password", default=seed.DEFAULT_PASSWORD)

    def handle(self, *args: Any, **options: Any) -> None:
        port: int = options["port"]
        if not 0 < port < 65536:
            raise CommandError(_("端口应在 1 到 65535 之间"))
        self.stdout.write(_("正在准备数据库……"))
        call_command("migrate", interactive=False, verbosity=0)
        seed_tier(self, tier=options["tier"], password=options["password"])
        self.stdout.write("")
        self.stdout.write(
            _("在浏览器中打开 http://127.0.0.1:%(port)d/ （管理后台 /admin/），按 Ctrl+C 停止。")
            % {"port": port}
        )
        # Only on loopback: the demo serves plain HTTP (linli.cli turns off the HTTPS
        # redirect and secure-only cookies for it); static files come from whitenoise.
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
