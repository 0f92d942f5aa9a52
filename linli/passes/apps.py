from __future__ import annotations

from django.apps import AppConfig
from django.core.management.base import OutputWrapper


class PassesConfig(AppConfig):
    name = "linli.passes"
    verbose_name = "外出就医证明"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from linli.passes.models import MedicalPass

        auditlog.register(MedicalPass, mask_fields=["companion_phone"])

    def seed(self, *, tier: str, password: str, stdout: OutputWrapper | None = None) -> None:
        """Demo passes for the first community (called by `linli seed` after the registry)."""
        from linli.passes import seed

        seed.seed(tier=tier, password=password, stdout=stdout)
