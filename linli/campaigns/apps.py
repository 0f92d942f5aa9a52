from __future__ import annotations

from django.apps import AppConfig
from django.core.management.base import OutputWrapper


class CampaignsConfig(AppConfig):
    name = "linli.campaigns"
    verbose_name = "上门普查"

    def seed(self, *, tier: str, password: str, stdout: OutputWrapper | None = None) -> None:
        """A demo campaign with today's round and an imported export (after the registry)."""
        from linli.campaigns import seed

        seed.seed(tier=tier, password=password, stdout=stdout)
