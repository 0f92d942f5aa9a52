from __future__ import annotations

from django.apps import AppConfig


class HotlineConfig(AppConfig):
    name = "linli.hotline"
    verbose_name = "24小时专线"
