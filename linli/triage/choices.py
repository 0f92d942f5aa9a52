"""The categories and urgencies a request is triaged into (the hotline's tickets use them too)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    MEDICAL = "medical", _("就医")
    DIALYSIS = "dialysis", _("血透")
    PRENATAL = "prenatal", _("产检")
    MEDICINE = "medicine", _("代配药")
    SUPPLIES = "supplies", _("生活物资")
    REPAIR = "repair", _("维修")
    HAZARD = "hazard", _("隐患")
    EMOTIONAL = "emotional", _("心理")
    MONEY = "money", _("资金")
    OTHER = "other", _("其他")


class Urgency(models.TextChoices):
    CRITICAL = "critical", _("危急")
    URGENT = "urgent", _("紧急")
    NORMAL = "normal", _("一般")
    LOW = "low", _("咨询")


# Most severe first: a request takes the most severe urgency any of its rules implies.
URGENCY_ORDER: tuple[str, ...] = (Urgency.CRITICAL, Urgency.URGENT, Urgency.NORMAL, Urgency.LOW)


def severity(urgency: str) -> int:
    """0 for critical … 3 for an inquiry; lower is more severe."""
    return URGENCY_ORDER.index(urgency)
