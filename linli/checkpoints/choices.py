"""Health-code colours at the gate and the stages of a goods hold."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class HealthCode(models.TextChoices):
    GREEN = "green", _("绿码")
    YELLOW = "yellow", _("黄码")
    RED = "red", _("红码")


class GoodsStatus(models.TextChoices):
    RECEIVED = "received", _("已接收")
    DISINFECTED = "disinfected", _("已消杀，静置中")
    RELEASED = "released", _("已放行")
