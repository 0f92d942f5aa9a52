"""What the audit history records for meal aid: policy changes and canteens (who, when,
from what to what). Enrolments and deliveries keep their own who and when; diet notes
(health) are never copied into the history."""

from __future__ import annotations

from auditlog.registry import auditlog

from linli.meals import models


def register_models() -> None:
    auditlog.register(models.MealPolicy)
    auditlog.register(models.Canteen)
    auditlog.register(models.MealEnrolment, mask_fields=["diet_notes"])
