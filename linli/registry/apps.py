from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "linli.registry"
    verbose_name = "人口与房屋"

    def ready(self) -> None:
        from linli.registry import audit

        audit.register_models()
