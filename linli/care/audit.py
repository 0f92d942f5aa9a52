"""What the audit history records for 关爱回访: plans and the community's rules. Outcomes and
escalation steps are their own records (Attempt, Escalation) with who and when."""

from __future__ import annotations

from auditlog.registry import auditlog

from linli.care import models


def register_models() -> None:
    auditlog.register(models.CarePlan, exclude_fields=["updated_at"])
    auditlog.register(models.CareSettings, exclude_fields=["updated_at"])
