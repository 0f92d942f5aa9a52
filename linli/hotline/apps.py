from __future__ import annotations

from django.apps import AppConfig
from django.core.management.base import OutputWrapper


class HotlineConfig(AppConfig):
    name = "linli.hotline"
    verbose_name = "24小时专线"

    def seed(self, *, tier: str, password: str, stdout: OutputWrapper | None = None) -> None:
        """Demo tickets for the first community (called by `linli seed` after workforce)."""
        from linli.hotline import seed

        seed.seed(tier=tier, password=password, stdout=stdout)
