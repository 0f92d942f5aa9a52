from __future__ import annotations

from django.apps import AppConfig
from django.core.management.base import OutputWrapper


class CareConfig(AppConfig):
    name = "linli.care"
    verbose_name = "关爱回访"

    def ready(self) -> None:
        from linli.care import audit

        audit.register_models()

    def seed(self, *, tier: str, password: str, stdout: OutputWrapper | None = None) -> None:
        """Care plans for the demo community's register residents and today's worklist,
        partly worked (called by `linli seed` after the registry and workforce)."""
        from linli.care import seed

        seed.seed(tier=tier, password=password, stdout=stdout)
