from __future__ import annotations

from django.apps import AppConfig
from django.core.management.base import OutputWrapper


class MealsConfig(AppConfig):
    name = "linli.meals"
    verbose_name = "爱心餐"

    def ready(self) -> None:
        from linli.meals import audit

        audit.register_models()

    def seed(self, *, tier: str, password: str, stdout: OutputWrapper | None = None) -> None:
        """Demo policy, canteen, enrolments and a week of meals (after the registry)."""
        from linli.meals import seed

        seed.seed(tier=tier, password=password, stdout=stdout)
