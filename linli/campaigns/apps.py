from __future__ import annotations

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "linli.campaigns"
    verbose_name = "上门普查"
