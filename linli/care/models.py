"""关爱回访: care plans for register residents, the day's check-ins, their attempts and the
escalation of a resident nobody could reach.

Plans and check-ins hang off a resident and are scoped like the registry's people (through
the resident's household), so a grid worker sees their grids' and nobody else's. A check-in
also keeps the grid and community it was made for, so that a day's coverage stays as it
was when the household later moves grid.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from linli.care.choices import (
    Channel,
    CheckInKind,
    CheckInSource,
    CheckInStatus,
    EscalationStep,
    FollowUp,
    Outcome,
    PlanKind,
    PlanStatus,
)
from linli.registry.models import Community, Grid, Resident

_people_scope: dict[str, Any] = {
    "community": "resident__household__community",
    "grid": "resident__household__grid",
    "household": "resident__household",
}
_check_in_scope: dict[str, Any] = {
    "community": "check_in__resident__household__community",
    "grid": "check_in__resident__household__grid",
    "household": "check_in__resident__household",
}

DEFAULT_RETRY_MINUTES = 30
DEFAULT_ESCALATE_AT = dt.time(16, 0)
# How long the one who recorded an outcome may take it back (a mistaken tap on a phone).
UNDO_MINUTES = 5


class CareSettings(models.Model):
    """A community's rules for care calls, set by its staff (defaults until they do)."""

    community = models.OneToOneField(
        Community, on_delete=models.CASCADE, related_name="care_settings", verbose_name=_("社区")
    )
    retry_minutes = models.PositiveSmallIntegerField(
        _("未接通后多久再拨（分钟）"), default=DEFAULT_RETRY_MINUTES
    )
    escalate_at = models.TimeField(_("几点仍未联系上即升级"), default=DEFAULT_ESCALATE_AT)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects: ClassVar[models.Manager[CareSettings]] = ScopedManager(community="community")

    class Meta:
        verbose_name = _("关爱回访设置")
        verbose_name_plural = _("关爱回访设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(retry_minutes__gte=5, retry_minutes__lte=480),
                name="care_settings_retry_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self.community_id)

    @classmethod
    def for_community(cls, community_id: int) -> CareSettings:
        """The saved settings, or the defaults (unsaved) for a community that set none."""
        found: CareSettings | None = cls._base_manager.filter(community_id=community_id).first()
        return found or cls(community_id=community_id)


class CarePlan(models.Model):
    """How a register resident is looked after: calls every N days, visits every N days."""

    resident = models.OneToOneField(
        Resident, on_delete=models.CASCADE, related_name="care_plan", verbose_name=_("居民")
    )
    kind = models.CharField(_("方式"), max_length=16, choices=PlanKind.choices)
    call_every_days = models.PositiveSmallIntegerField(_("每几天电话一次"), default=1)
    visit_every_days = models.PositiveSmallIntegerField(_("每几天上门一次"), default=7)
    # Every-N-days counts from this day (the first call or visit falls on it).
    starts_on = models.DateField(_("开始日期"), default=timezone.localdate)
    channel = models.CharField(
        _("回访渠道"), max_length=16, choices=Channel.choices, default=Channel.PHONE
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="care_plans",
        verbose_name=_("负责人"),
    )
    preferred_time = models.TimeField(_("方便联系的时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.ACTIVE
    )
    pause_reason = models.CharField(_("暂停原因"), max_length=200, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects: ClassVar[models.Manager[CarePlan]] = ScopedManager(**_people_scope)

    class Meta:
        ordering = ["resident__household_id", "resident_id"]
        verbose_name = _("关爱计划")
        verbose_name_plural = _("关爱计划")
        constraints = [
            models.CheckConstraint(
                condition=Q(call_every_days__gte=1, visit_every_days__gte=1),
                name="care_plan_every_days_positive",
            ),
            models.CheckConstraint(
                condition=Q(status=PlanStatus.ACTIVE) | ~Q(pause_reason=""),
                name="care_plan_paused_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.get_kind_display()}"

    @property
    def calls(self) -> bool:
        return self.kind in (PlanKind.CALL, PlanKind.CALL_AND_VISIT)

    @property
    def visits(self) -> bool:
        return self.kind in (PlanKind.VISIT, PlanKind.CALL_AND_VISIT)

    def due_kind(self, day: dt.date) -> str | None:
        """What the plan asks for on a day: a visit (which also stands for that day's call),
        a call, or nothing."""
        if self.status != PlanStatus.ACTIVE or day < self.starts_on:
            return None
        days = (day - self.starts_on).days
        if self.visits and days % self.visit_every_days == 0:
            return CheckInKind.VISIT
        if self.calls and days % self.call_every_days == 0:
            return CheckInKind.CALL
        return None

    @property
    def schedule_label(self) -> str:
        parts = []
        if self.calls:
            parts.append(
                str(_("每天电话"))
                if self.call_every_days == 1
                else str(_("每%(n)d天电话") % {"n": self.call_every_days})
            )
        if self.visits:
            parts.append(str(_("每%(n)d天上门") % {"n": self.visit_every_days}))
        return "，".join(parts)


class CheckIn(models.Model):
    """One call or visit due on a day: from a plan, or asked for (a missed meal, a worry)."""

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="check_ins", verbose_name=_("居民")
    )
    plan = models.ForeignKey(
        CarePlan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="check_ins",
        verbose_name=_("关爱计划"),
    )
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="+", editable=False
    )
    grid = models.ForeignKey(
        Grid, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    due = models.DateField(_("日期"), db_index=True)
    kind = models.CharField(_("类型"), max_length=8, choices=CheckInKind.choices)
    source = models.CharField(_("来源"), max_length=8, choices=CheckInSource.choices)
    reason = models.CharField(_("加访原因"), max_length=200, blank=True)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="care_check_ins",
        verbose_name=_("负责人"),
    )
    preferred_time = models.TimeField(_("方便联系的时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=CheckInStatus.choices,
        default=CheckInStatus.PENDING,
        db_index=True,
    )
    # Not reached: shown again in the worklist from this time.
    retry_at = models.DateTimeField(_("再次拨打时间"), null=True, blank=True)
    reached_at = models.DateTimeField(_("联系上时间"), null=True, blank=True)
    follow_up = models.CharField(_("后续"), max_length=16, choices=FollowUp.choices, blank=True)
    # The hotline ticket made from a reached-with-needs outcome (hotline.Ticket's id; kept
    # as a plain id so that care's tables do not wait on the hotline's migrations).
    ticket_id = models.IntegerField(_("工单"), null=True, blank=True)
    needs = models.TextField(_("需求"), blank=True)
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects: ClassVar[models.Manager[CheckIn]] = ScopedManager(**_people_scope)

    class Meta:
        ordering = ["due", "preferred_time", "resident__household_id", "pk"]
        verbose_name = _("关爱回访")
        verbose_name_plural = _("关爱回访")
        indexes = [models.Index(fields=["community", "due"], name="check_in_community_due")]
        constraints = [
            # A plan makes at most one check-in per day: generation may run any number of
            # times (task, command, the worklist page) and in parallel.
            models.UniqueConstraint(
                fields=["plan", "due"],
                condition=Q(source=CheckInSource.PLAN),
                name="check_in_one_per_plan_day",
            ),
            models.CheckConstraint(
                condition=~Q(source=CheckInSource.REQUEST) | ~Q(reason=""),
                name="check_in_request_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.due}"

    @property
    def is_open(self) -> bool:
        return self.status in (CheckInStatus.PENDING, CheckInStatus.UNREACHED)

    def waiting_for_retry(self, now: dt.datetime | None = None) -> bool:
        return (
            self.status == CheckInStatus.UNREACHED
            and self.retry_at is not None
            and self.retry_at > (now or timezone.now())
        )


class Attempt(models.Model):
    """One try at reaching the resident: when, who, how, what came of it. An undone attempt
    stays, marked, with the status it had put right."""

    check_in = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="attempts")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("回访人"),
    )
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices)
    note = models.CharField(_("备注"), max_length=500, blank=True)
    status_before = models.CharField(max_length=16, choices=CheckInStatus.choices)
    retry_at_before = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects: ClassVar[models.Manager[Attempt]] = ScopedManager(**_check_in_scope)

    class Meta:
        ordering = ["check_in", "at", "pk"]
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")

    def __str__(self) -> str:
        return f"{self.check_in_id} {self.outcome}"


class Escalation(models.Model):
    """One step taken for a resident still unreached at the community's hour."""

    check_in = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="escalations")
    step = models.CharField(_("步骤"), max_length=16, choices=EscalationStep.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    # None: the background job did it.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    task = models.ForeignKey(
        "workforce.Task",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("任务"),
    )
    messages_sent = models.PositiveSmallIntegerField(_("发出消息"), default=0)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    objects: ClassVar[models.Manager[Escalation]] = ScopedManager(**_check_in_scope)

    class Meta:
        ordering = ["check_in", "at", "pk"]
        verbose_name = _("升级记录")
        verbose_name_plural = _("升级记录")
        constraints = [
            models.UniqueConstraint(fields=["check_in", "step"], name="escalation_step_once"),
        ]

    def __str__(self) -> str:
        return f"{self.check_in_id} {self.step}"
