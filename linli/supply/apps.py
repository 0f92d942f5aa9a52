from __future__ import annotations

from django.apps import AppConfig


class SupplyConfig(AppConfig):
    name = "linli.supply"
    verbose_name = "保供"
