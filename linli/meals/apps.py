from __future__ import annotations

from django.apps import AppConfig


class MealsConfig(AppConfig):
    name = "linli.meals"
    verbose_name = "爱心餐"
