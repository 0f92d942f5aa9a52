"""爱心餐: a community's eligibility policy, applications, canteens, enrolments and the
meals delivered or missed each day.

People rows (applications, enrolments, deliveries) hang off a resident and are read through
scoped managers like the registry's: a query outside `registry.scope.activate` raises.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from linli.lib.encryption import EncryptedTextField
from linli.meals.choices import ApplicationStatus, DeliveryStatus, Diet, Meal
from linli.registry.choices import CareTag
from linli.registry.models import Building, Community, Resident

_people_scope: dict[str, Any] = {
    "community": "resident__household__community",
    "grid": "resident__household__grid",
    "household": "resident__household",
}


def _user_field() -> models.ForeignKey[Any, Any]:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )


def diet_labels(codes: list[str]) -> list[str]:
    labels = dict(Diet.choices)
    return [str(labels.get(code, code)) for code in codes]


class MealPolicy(models.Model):
    """Who a community feeds: any one rule that holds makes a resident eligible (OR).

    A rule left empty is off. Only residents living here (在住) are ever eligible.
    """

    community = models.OneToOneField(
        Community, on_delete=models.PROTECT, related_name="meal_policy", verbose_name=_("社区")
    )
    min_age = models.PositiveSmallIntegerField(_("年满（周岁）"), null=True, blank=True)
    min_ltc_level = models.PositiveSmallIntegerField(_("长护险等级不低于"), null=True, blank=True)
    care_tags = models.JSONField(_("重点人群标签（任一）"), default=list, blank=True)
    approved_applications = models.BooleanField(_("经居委会审核通过的申请"), default=True)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = _user_field()

    objects: ClassVar[models.Manager[MealPolicy]] = ScopedManager(community="community")

    class Meta:
        verbose_name = _("爱心餐资格规则")
        verbose_name_plural = _("爱心餐资格规则")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_ltc_level__isnull=True)
                | Q(min_ltc_level__gte=1, min_ltc_level__lte=6),
                name="meal_policy_ltc_range",
            ),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True) | Q(min_age__lte=150),
                name="meal_policy_age_range",
            ),
        ]

    def __str__(self) -> str:
        return self.summary()

    def rule_texts(self) -> list[str]:
        rules = []
        if self.min_age is not None:
            rules.append(gettext("年满%(n)s周岁") % {"n": self.min_age})
        if self.min_ltc_level is not None:
            rules.append(gettext("长护险%(n)s级及以上") % {"n": self.min_ltc_level})
        if self.care_tags:
            labels = dict(CareTag.choices)
            tags = "、".join(str(labels.get(t, t)) for t in self.care_tags)
            rules.append(gettext("重点人群：%(tags)s") % {"tags": tags})
        if self.approved_applications:
            rules.append(gettext("申请经审核通过"))
        return rules

    def summary(self) -> str:
        rules = self.rule_texts()
        return gettext("，或").join(rules) if rules else gettext("（未设规则：无人符合）")


class Canteen(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="canteens", verbose_name=_("社区")
    )
    name = models.CharField(_("助餐点"), max_length=64)
    address = models.CharField(_("地址"), max_length=160, blank=True)
    capacity = models.PositiveIntegerField(_("每餐供应份数"), default=100)
    is_active = models.BooleanField(_("在用"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = _user_field()

    objects: ClassVar[models.Manager[Canteen]] = ScopedManager(community="community")

    class Meta:
        ordering = ["community", "name"]
        verbose_name = _("助餐点")
        verbose_name_plural = _("助餐点")
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="canteen_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class MealApplication(models.Model):
    """A request to be fed outside the policy's rules, entered by whoever took it."""

    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="meal_applications"
    )
    applicant = models.CharField(_("申请人"), max_length=64, help_text=_("本人，或代为申请者"))
    reason = models.TextField(_("申请理由"))
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.PENDING,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = _user_field()
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_by = _user_field()
    decision_reason = models.CharField(_("审核意见"), max_length=200, blank=True)

    objects: ClassVar[models.Manager[MealApplication]] = ScopedManager(**_people_scope)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("爱心餐申请")
        verbose_name_plural = _("爱心餐申请")
        indexes = [models.Index(fields=["status", "resident"], name="meal_application_status")]

    def __str__(self) -> str:
        return f"#{self.pk}"


class MealEnrolment(models.Model):
    """One resident fed from one canteen between two dates (the end open until ended)."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="meal_enrolments")
    canteen = models.ForeignKey(
        Canteen, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("助餐点")
    )
    diets = models.JSONField(_("饮食要求"), default=list, blank=True)
    # Free text about food can name an illness: encrypted at rest like the register's.
    diet_notes = EncryptedTextField(_("饮食备注"), blank=True)
    lunch = models.BooleanField(_("午餐"), default=True)
    dinner = models.BooleanField(_("晚餐"), default=False)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    end_reason = models.CharField(_("结束原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = _user_field()
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = _user_field()

    objects: ClassVar[models.Manager[MealEnrolment]] = ScopedManager(**_people_scope)

    class Meta:
        ordering = ["canteen", "resident__household__address", "pk"]
        verbose_name = _("爱心餐登记")
        verbose_name_plural = _("爱心餐登记")
        indexes = [models.Index(fields=["canteen", "starts_on"], name="meal_enrolment_canteen")]
        constraints = [
            models.CheckConstraint(condition=Q(lunch=True) | Q(dinner=True), name="meal_one_meal"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="meal_enrolment_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def meals(self) -> list[str]:
        return [m for m, on in ((Meal.LUNCH, self.lunch), (Meal.DINNER, self.dinner)) if on]

    @property
    def meals_label(self) -> str:
        labels = dict(Meal.choices)
        return "、".join(str(labels[m]) for m in self.meals)

    @property
    def diet_labels(self) -> list[str]:
        return diet_labels(list(self.diets))

    @property
    def meals_per_day(self) -> int:
        return len(self.meals)

    def active_on(self, day: dt.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class MealDeliveryTask(models.Model):
    """The task-board delivery of one meal of one day to one building's enrolled doors."""

    canteen = models.ForeignKey(Canteen, on_delete=models.PROTECT, related_name="delivery_tasks")
    day = models.DateField(_("日期"))
    meal = models.CharField(_("餐次"), max_length=8, choices=Meal.choices)
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="+")
    task = models.OneToOneField(
        "workforce.Task", on_delete=models.PROTECT, related_name="meal_delivery"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = _user_field()

    objects: ClassVar[models.Manager[MealDeliveryTask]] = ScopedManager(
        community="canteen__community"
    )

    class Meta:
        ordering = ["day", "meal", "building__sort_key", "pk"]
        verbose_name = _("送餐任务")
        verbose_name_plural = _("送餐任务")
        constraints = [
            models.UniqueConstraint(
                fields=["canteen", "day", "meal", "building"], name="meal_task_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.get_meal_display()} {self.building}"


class MealDelivery(models.Model):
    """Whether one resident got one meal on one day; a miss raises a care call."""

    enrolment = models.ForeignKey(
        MealEnrolment, on_delete=models.PROTECT, related_name="deliveries"
    )
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("日期"))
    meal = models.CharField(_("餐次"), max_length=8, choices=Meal.choices)
    status = models.CharField(_("结果"), max_length=16, choices=DeliveryStatus.choices)
    reason = models.CharField(_("未送达原因"), max_length=200, blank=True)
    # The care call the miss raised (linli.care CheckIn id), once per miss.
    check_in_id = models.PositiveIntegerField(null=True, blank=True, editable=False)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = _user_field()

    objects: ClassVar[models.Manager[MealDelivery]] = ScopedManager(**_people_scope)

    class Meta:
        ordering = ["day", "meal", "pk"]
        verbose_name = _("送餐记录")
        verbose_name_plural = _("送餐记录")
        indexes = [models.Index(fields=["day", "status"], name="meal_delivery_day")]
        constraints = [
            models.UniqueConstraint(fields=["resident", "day", "meal"], name="meal_delivery_once"),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.MISSED) | ~Q(reason=""),
                name="meal_missed_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.get_meal_display()} {self.get_status_display()}"
