"""`linli rotate-keys`: re-encrypt personal data with the newest key in LINLI_FIELD_KEYS."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from linli.registry.actions import personal_data_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt ID numbers, phones and health notes with the first key of LINLI_FIELD_KEYS. "
        "Put a new key first, run this, then remove the old keys."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reindex",
            action="store_true",
            help="also rebuild the blind indexes with the current LINLI_INDEX_KEY",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if len(settings.LINLI_FIELD_KEYS) > 1 and not settings.LINLI_INDEX_KEY_IS_SET:
            self.stderr.write(
                _(
                    "提示：未设置 LINLI_INDEX_KEY，检索索引使用最旧的字段密钥。"
                    "删除旧密钥前，请先把它设为 LINLI_INDEX_KEY，否则需要 --reindex。"
                )
            )
        counts = personal_data_rotate(reindex=options["reindex"])
        for label, count in counts.items():
            self.stdout.write(
                _("%(label)s：已重新加密 %(count)d 行") % {"label": label, "count": count}
            )
