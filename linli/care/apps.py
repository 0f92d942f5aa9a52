from __future__ import annotations

from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "linli.care"
    verbose_name = "关爱回访"
