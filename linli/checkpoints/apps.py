from __future__ import annotations

from django.apps import AppConfig
from django.core.management.base import OutputWrapper


class CheckpointsConfig(AppConfig):
    name = "linli.checkpoints"
    verbose_name = "卡口"

    def seed(self, *, tier: str, password: str, stdout: OutputWrapper | None = None) -> None:
        """Demo checkpoints, rosters and logs (called by `linli seed` after workforce)."""
        from linli.checkpoints import seed

        seed.seed(tier=tier, password=password, stdout=stdout)
