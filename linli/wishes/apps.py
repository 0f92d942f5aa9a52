from __future__ import annotations

from django.apps import AppConfig
from django.core.management.base import OutputWrapper


class WishesConfig(AppConfig):
    name = "linli.wishes"
    verbose_name = "微心愿"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from linli.wishes import models

        # Changes to a batch (its limit and deadline) and to claimers, phones masked.
        auditlog.register(models.WishBatch)
        auditlog.register(models.Claimer, exclude_fields=["phone_index"], mask_fields=["phone"])

    def seed(self, *, tier: str, password: str, stdout: OutputWrapper | None = None) -> None:
        """45 demo wishes from 11 households, one published batch (after the workforce)."""
        from linli.wishes import seed

        seed.seed(tier=tier, password=password, stdout=stdout)
