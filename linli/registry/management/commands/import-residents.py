"""`linli import-residents FILE --community CODE [--commit]`: check a file, then import it."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from auditlog.context import set_actor
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.registry import scope, spreadsheets
from linli.registry.management.commandline import actor_by_username, community_by_code


class Command(BaseCommand):
    help = (
        "从 .xlsx 或 .csv 表格导入居民。不加 --commit 时逐行核对并打印结果，不写入任何数据；"
        "加 --commit 时在一个事务中导入所有没有错误的行。"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", help=_("表格文件（.xlsx 或 .csv）"))
        parser.add_argument("--community", required=True, help=_("社区编码"))
        parser.add_argument("--commit", action="store_true", help=_("导入没有错误的行"))
        parser.add_argument("--actor", help=_("记在审计记录中的操作账号（用户名）"))
        parser.add_argument(
            "--problems-only", action="store_true", help=_("只列出有警告或错误的行")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as e:
            raise CommandError(
                _("无法读取文件 %(path)s：%(reason)s") % {"path": path, "reason": e.strerror}
            ) from e
        community = community_by_code(options["community"])
        actor = actor_by_username(options["actor"])
        with ExitStack() as stack:
            stack.enter_context(scope.activate(scope.Area(communities=[community.pk])))
            if actor is not None:
                stack.enter_context(set_actor(actor))
            try:
                if options["commit"]:
                    report, summary = spreadsheets.residents_import(
                        actor=actor, community=community, data=data, filename=path.name
                    )
                else:
                    report = spreadsheets.residents_preview(
                        community=community, data=data, filename=path.name
                    )
                    summary = None
            except spreadsheets.SpreadsheetError as e:
                raise CommandError(e.message) from e
        self.print_report(report, problems_only=options["problems_only"])
        counts = _("共 %(total)d 行：正常 %(ok)d，警告 %(warning)d，错误 %(error)d。") % {
            "total": len(report.rows),
            "ok": report.ok,
            "warning": report.warning,
            "error": report.error,
        }
        self.stdout.write(counts)
        if summary is None:
            self.stdout.write(
                _(
                    "未写入任何数据。确认无误后加 --commit 导入 %(n)d 条有效记录"
                    "（将新建 %(h)d 户）。"
                )
                % {"n": report.valid, "h": report.new_households}
            )
            return
        if summary.residents == 0:
            raise CommandError(_("没有可导入的有效记录，未写入任何数据"))
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "已导入 %(n)d 位居民，新建 %(h)d 户，重点人群标签 %(t)d 个；"
                    "%(s)d 行有错误未导入。"
                )
                % {
                    "n": summary.residents,
                    "h": summary.households,
                    "t": summary.tags,
                    "s": summary.skipped,
                }
            )
        )

    def print_report(self, report: spreadsheets.ImportReport, *, problems_only: bool) -> None:
        for note in report.notes:
            self.stdout.write(self.style.WARNING(note))
        for row in report.rows:
            if problems_only and row.status == "ok":
                continue
            line = _("第%(line)d行") % {"line": row.line}
            self.stdout.write(f"{line}\t{row.status_label}\t{row.name}\t{row.address}")
            for message in row.errors:
                self.stdout.write(self.style.ERROR(f"    {message}"))
            for message in row.warnings:
                self.stdout.write(self.style.WARNING(f"    {message}"))
