"""`linli export-register FILE.xlsx --community CODE`: the register to Excel, numbers masked."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.registry import scope, spreadsheets
from linli.registry.choices import CareTag
from linli.registry.management.commandline import actor_by_username, community_by_code
from linli.registry.models import Resident


class Command(BaseCommand):
    help = "导出重点人群台账（.xlsx），身份证号和手机号已脱敏，不含健康状况。"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", help=_("要写入的 .xlsx 文件"))
        parser.add_argument("--community", required=True, help=_("社区编码"))
        parser.add_argument("--tag", choices=CareTag.values, help=_("只导出一类重点人群"))
        parser.add_argument("--actor", help=_("记在审计记录中的操作账号（用户名）"))

    def handle(self, *args: Any, **options: Any) -> None:
        community = community_by_code(options["community"])
        actor = actor_by_username(options["actor"])
        with scope.activate(scope.Area(communities=[community.pk])):
            residents = Resident.objects.on_register().filter(household__community=community)
            if options["tag"]:
                residents = residents.with_tag(options["tag"])
            export = spreadsheets.register_export(
                actor=actor,
                community=community,
                residents=residents,
                filters={"community": community.code, "tag": options["tag"]},
                via="cli",
            )
        count = export.rows
        path = Path(options["file"])
        try:
            path.write_bytes(export.data)
        except OSError as e:
            raise CommandError(
                _("无法写入文件 %(path)s：%(reason)s") % {"path": path, "reason": e.strerror}
            ) from e
        self.stdout.write(
            _("已导出 %(n)d 人到 %(path)s（身份证号、手机号已脱敏）。") % {"n": count, "path": path}
        )
