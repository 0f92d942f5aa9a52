from __future__ import annotations

from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "linli.triage"
    verbose_name = "诉求分诊"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from linli.triage.models import TriageRule

        auditlog.register(TriageRule)
