from __future__ import annotations

from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "linli.triage"
    verbose_name = "诉求分诊"
