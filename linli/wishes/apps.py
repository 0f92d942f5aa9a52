from __future__ import annotations

from django.apps import AppConfig


class WishesConfig(AppConfig):
    name = "linli.wishes"
    verbose_name = "微心愿"
