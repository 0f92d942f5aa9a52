"""`linli undo-import BATCH_ID [--actor USERNAME]`: take back what one import wrote."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from typing import Any

from auditlog.context import set_actor
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.registry import actions
from linli.registry.management.commandline import actor_by_username
from linli.registry.models import ImportBatch


class Command(BaseCommand):
    help = (
        "撤销一批导入：删除该批导入的居民及其重点人群标签，以及该批新建且已无居民的户。"
        "导入超过 7 天、已撤销过、或导入的居民之后被修改过时拒绝，不删除任何数据。"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("batch", type=int, help=_("导入批次 id（导入记录页或 API 中可见）"))
        parser.add_argument("--actor", help=_("记在审计记录中的操作账号（用户名）"))

    def handle(self, *args: Any, **options: Any) -> None:
        with scopes_disabled():
            batch = (
                ImportBatch.objects.select_related("community").filter(pk=options["batch"]).first()
            )
        if batch is None:
            raise CommandError(_("没有 id 为 %(id)s 的导入批次") % {"id": options["batch"]})
        actor = actor_by_username(options["actor"])
        with ExitStack() as stack:
            if actor is not None:
                stack.enter_context(set_actor(actor))
            try:
                undone = actions.import_undo(actor=actor, batch=batch)
            except ValidationError as e:
                raise CommandError("；".join(e.messages)) from e
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "已撤销%(community)s的第 %(id)d 批导入：删除居民 %(r)d 位、户 %(h)d 户、"
                    "重点人群标签 %(t)d 个。"
                )
                % {
                    "community": batch.community.name,
                    "id": batch.pk,
                    "r": undone.residents,
                    "h": undone.households,
                    "t": undone.tags,
                }
            )
        )
