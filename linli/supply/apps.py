from __future__ import annotations

from django.apps import AppConfig
from django.core.management.base import OutputWrapper


class SupplyConfig(AppConfig):
    name = "linli.supply"
    verbose_name = "保供"

    def seed(self, *, tier: str, password: str, stdout: OutputWrapper | None = None) -> None:
        """Demo suppliers, packages and rounds (called by `linli seed` after checkpoints)."""
        from linli.supply import seed

        seed.seed(tier=tier, password=password, stdout=stdout)
