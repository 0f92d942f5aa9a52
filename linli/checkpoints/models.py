"""Checkpoints (a compound's gates merged), their duty rosters, courier log and goods holds."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from linli.checkpoints.choices import GoodsStatus, HealthCode
from linli.lib.encryption import EncryptedCharField
from linli.lib.masking import mask_phone
from linli.registry.models import Building, Community, Compound, Gate
from linli.workforce.choices import TaskStatus
from linli.workforce.models import Task, Team


class Checkpoint(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="checkpoints", verbose_name=_("社区")
    )
    compound = models.ForeignKey(
        Compound, on_delete=models.PROTECT, related_name="checkpoints", verbose_name=_("小区")
    )
    name = models.CharField(_("卡口名称"), max_length=64)
    buildings = models.ManyToManyField(
        Building, related_name="checkpoints", blank=True, verbose_name=_("服务楼栋")
    )
    keepers: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="checkpoints", blank=True, verbose_name=_("值守人员")
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checkpoints",
        verbose_name=_("值守队伍"),
    )
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects: ClassVar[models.Manager[Checkpoint]] = ScopedManager(community="community")

    class Meta:
        ordering = ["community", "compound", "name"]
        verbose_name = _("卡口")
        verbose_name_plural = _("卡口")
        constraints = [
            models.UniqueConstraint(fields=["compound", "name"], name="checkpoint_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.compound.name}{self.name}"


class CheckpointGate(models.Model):
    """A gate merged into a checkpoint; a gate belongs to one checkpoint at most."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="gate_links")
    gate = models.OneToOneField(Gate, on_delete=models.CASCADE, related_name="checkpoint_link")

    objects: ClassVar[models.Manager[CheckpointGate]] = ScopedManager(
        community="checkpoint__community"
    )

    class Meta:
        verbose_name = _("卡口出入口")
        verbose_name_plural = _("卡口出入口")

    def __str__(self) -> str:
        return str(self.gate_id)


class Shift(models.Model):
    """A time slot on a checkpoint's roster needing `needed` people; each place on it is a
    duty-shift task on the board, so a gap is a task nobody has taken."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    needed = models.PositiveSmallIntegerField(_("所需人数"), default=1)
    tasks = models.ManyToManyField(Task, related_name="shifts", blank=True)

    objects: ClassVar[models.Manager[Shift]] = ScopedManager(community="checkpoint__community")

    class Meta:
        ordering = ["checkpoint", "starts_at"]
        verbose_name = _("班次")
        verbose_name_plural = _("班次")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(needed__gte=1), name="shift_needs_someone"),
            models.UniqueConstraint(fields=["checkpoint", "starts_at"], name="shift_unique_start"),
        ]

    def __str__(self) -> str:
        return f"{self.checkpoint} {self.starts_at:%Y-%m-%d %H:%M}"

    def filled_tasks(self) -> list[Task]:
        """The places taken (by prefetch when the roster loads `tasks__volunteer`)."""
        return [
            task
            for task in self.tasks.all()
            if task.volunteer_id is not None and task.status != TaskStatus.CANCELLED
        ]

    @property
    def gaps(self) -> int:
        return max(self.needed - len(self.filled_tasks()), 0)


class CourierEntry(models.Model):
    """A courier or delivery rider at the checkpoint: let in with parcels, or refused."""

    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="courier_entries"
    )
    arrived_at = models.DateTimeField(_("到达时间"), default=timezone.now)
    name = models.CharField(_("姓名"), max_length=64)
    phone = EncryptedCharField(_("手机号"), max_length=20, blank=True)
    company = models.CharField(_("公司/平台"), max_length=64, blank=True)
    health_code = models.CharField(_("健康码"), max_length=8, choices=HealthCode.choices)
    test_checked = models.BooleanField(_("已查验核酸阴性"), default=False)
    parcels = models.PositiveIntegerField(_("件数"), default=0)
    accepted = models.BooleanField(_("放行"), default=True)
    refusal_reason = models.CharField(_("拒绝原因"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects: ClassVar[models.Manager[CourierEntry]] = ScopedManager(
        community="checkpoint__community"
    )

    class Meta:
        ordering = ["checkpoint", "-arrived_at"]
        verbose_name = _("快递骑手登记")
        verbose_name_plural = _("快递骑手登记")
        constraints = [
            models.CheckConstraint(
                condition=Q(accepted=True) | ~Q(refusal_reason=""),
                name="courier_refused_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(accepted=False) | Q(health_code=HealthCode.GREEN, test_checked=True),
                name="courier_accepted_green_and_tested",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone or "")


class GoodsQuerySet(models.QuerySet["GoodsReceipt"]):
    def held(self) -> GoodsQuerySet:
        return self.exclude(status=GoodsStatus.RELEASED)


GoodsManager = models.Manager.from_queryset(GoodsQuerySet)


class GoodsReceipt(models.Model):
    """Goods arriving at a checkpoint: received → disinfected → held until `hold_until` →
    released. The database refuses a release before the hold ends."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="goods")
    sender = models.CharField(_("发货方"), max_length=100)
    description = models.CharField(_("物资说明"), max_length=200, blank=True)
    count = models.PositiveIntegerField(_("件数"))
    buildings = models.ManyToManyField(
        Building, related_name="goods_receipts", blank=True, verbose_name=_("送往楼栋")
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=GoodsStatus.choices, default=GoodsStatus.RECEIVED
    )
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    disinfected_at = models.DateTimeField(_("消杀时间"), null=True, blank=True)
    disinfected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hold_until = models.DateTimeField(_("静置至"), null=True, blank=True)
    released_at = models.DateTimeField(_("放行时间"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects: ClassVar[GoodsManager[GoodsReceipt]] = ScopedManager(
        _manager_class=GoodsManager, community="checkpoint__community"
    )

    class Meta:
        ordering = ["checkpoint", "-received_at"]
        verbose_name = _("物资接收")
        verbose_name_plural = _("物资接收")
        constraints = [
            models.CheckConstraint(
                condition=Q(released_at__isnull=True)
                | Q(hold_until__isnull=False, released_at__gte=models.F("hold_until")),
                name="goods_released_after_hold",
            ),
            models.CheckConstraint(
                condition=~Q(status=GoodsStatus.RELEASED) | Q(released_at__isnull=False),
                name="goods_released_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status=GoodsStatus.RECEIVED) | Q(hold_until__isnull=False),
                name="goods_disinfected_has_hold",
            ),
            models.CheckConstraint(condition=Q(count__gte=1), name="goods_count_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.sender} × {self.count}"

    def minutes_left(self, now: dt.datetime | None = None) -> int | None:
        """Whole minutes until the hold ends (rounded up); None before disinfection."""
        if self.hold_until is None:
            return None
        seconds = (self.hold_until - (now or timezone.now())).total_seconds()
        return max(math.ceil(seconds / 60), 0)

    def releasable(self, now: dt.datetime | None = None) -> bool:
        return (
            self.status == GoodsStatus.DISINFECTED
            and self.hold_until is not None
            and self.hold_until <= (now or timezone.now())
        )
