"""Meals, diets and the states of applications and deliveries."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Meal(models.TextChoices):
    LUNCH = "lunch", _("午餐")
    DINNER = "dinner", _("晚餐")


class Diet(models.TextChoices):
    SOFT = "soft", _("软食")
    MINCED = "minced", _("碎食/流食")
    DIABETIC = "diabetic", _("糖尿病餐")
    LOW_SALT = "low_salt", _("低盐")
    LOW_FAT = "low_fat", _("低脂")
    NO_PORK = "no_pork", _("清真/不吃猪肉")
    VEGETARIAN = "vegetarian", _("素食")
    NO_SPICY = "no_spicy", _("不吃辣")


# A meal with no special diet is counted under this heading in the daily lists.
REGULAR = "regular"
REGULAR_LABEL = _("普通餐")


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    DECLINED = "declined", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")


# The one place that says which decision may follow which (a decision can be corrected).
APPLICATION_TRANSITIONS: dict[str, frozenset[str]] = {
    ApplicationStatus.PENDING: frozenset(
        {ApplicationStatus.APPROVED, ApplicationStatus.DECLINED, ApplicationStatus.WITHDRAWN}
    ),
    ApplicationStatus.APPROVED: frozenset(
        {ApplicationStatus.DECLINED, ApplicationStatus.WITHDRAWN}
    ),
    ApplicationStatus.DECLINED: frozenset({ApplicationStatus.APPROVED}),
    ApplicationStatus.WITHDRAWN: frozenset(),
}


class DeliveryStatus(models.TextChoices):
    DELIVERED = "delivered", _("已送达")
    MISSED = "missed", _("未送达")
