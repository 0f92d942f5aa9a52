from __future__ import annotations

from django.apps import AppConfig
from django.core.management.base import OutputWrapper


class WorkforceConfig(AppConfig):
    name = "linli.workforce"
    verbose_name = "志愿者与任务"

    def seed(self, *, tier: str, password: str, stdout: OutputWrapper | None = None) -> None:
        """Demo volunteers, teams and tasks (called by `linli seed` after the registry)."""
        from linli.workforce import seed

        seed.seed(tier=tier, password=password, stdout=stdout)
