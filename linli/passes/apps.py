from __future__ import annotations

from django.apps import AppConfig


class PassesConfig(AppConfig):
    name = "linli.passes"
    verbose_name = "外出就医证明"
