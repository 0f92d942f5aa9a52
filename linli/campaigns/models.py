"""Door-to-door campaigns: rounds, sampling points, exemptions and the imported sample records.

Who a round expects is not stored: it is the registry's residents living in the campaign's
area on the round's day, minus the exemptions covering that day (see reconcile.py). What is
stored is what came in from the testing system: one SampleRecord per source row, keyed by
a keyed hash of the row so that importing the same file twice adds nothing. A record keeps
no ID or phone number in clear: only their blind indexes and masked forms.
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

from linli.campaigns.choices import (
    CampaignKind,
    ExemptionReason,
    MatchMethod,
    RoundTaskKind,
    Unmatched,
)
from linli.registry.models import Building, Community, Grid, Household, Resident, Street


def _who() -> models.ForeignKey[Any, Any]:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )


# The usual sampling hours (7:30–11:30). Functions, not fixed values: Django's check warns
# of a fixed time default whenever it runs within seconds of that time of day.
def sampling_opens() -> dt.time:
    return dt.time(7, 30)


def sampling_closes() -> dt.time:
    return dt.time(11, 30)


class Campaign(models.Model):
    """A campaign of a whole street (community empty) or of one community."""

    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("街道")
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("社区"),
    )
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=CampaignKind.choices)
    notes = models.TextField(_("说明"), blank=True)
    # The export's header for each field (choices.IMPORT_FIELDS), as chosen at the first
    # import and used for every one after.
    column_mapping = models.JSONField(_("导入列对应"), default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = _who()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("普查/核酸活动")
        verbose_name_plural = _("普查/核酸活动")

    def __str__(self) -> str:
        return self.name

    @property
    def area_label(self) -> str:
        return str(self.community or self.street)


class CampaignRound(models.Model):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="rounds", verbose_name=_("活动")
    )
    number = models.PositiveSmallIntegerField(_("轮次"))
    date = models.DateField(_("日期"))
    opens_at = models.TimeField(_("开始时间"), default=sampling_opens)
    closes_at = models.TimeField(_("结束时间"), default=sampling_closes)
    notes = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = _who()

    class Meta:
        ordering = ["campaign", "number"]
        verbose_name = _("轮次")
        verbose_name_plural = _("轮次")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="campaign_round_number"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="campaign_round_hours"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign.name} 第{self.number}轮（{self.date:%Y-%m-%d}）"


class SamplingPoint(models.Model):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="points", verbose_name=_("活动")
    )
    name = models.CharField(_("采样点"), max_length=64)
    location = models.CharField(_("位置"), max_length=160, blank=True)
    opens_at = models.TimeField(_("开放时间"), default=sampling_opens)
    closes_at = models.TimeField(_("关闭时间"), default=sampling_closes)
    buildings: models.ManyToManyField[Building, Any] = models.ManyToManyField(
        Building, related_name="+", blank=True, verbose_name=_("服务楼栋")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = _who()

    class Meta:
        ordering = ["campaign", "name"]
        verbose_name = _("采样点")
        verbose_name_plural = _("采样点")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="sampling_point_name"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="sampling_point_hours"
            ),
        ]

    def __str__(self) -> str:
        return self.name


_people_scope: dict[str, Any] = {
    "community": "resident__household__community",
    "grid": "resident__household__grid",
    "household": "resident__household",
}


class Exemption(models.Model):
    """A resident not expected in the campaign's rounds between two days, and why."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="exemptions", verbose_name=_("活动")
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="+", verbose_name=_("居民")
    )
    reason = models.CharField(_("原因"), max_length=20, choices=ExemptionReason.choices)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = _who()
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = _who()
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = _who()

    objects: ClassVar[models.Manager[Exemption]] = ScopedManager(**_people_scope)

    class Meta:
        ordering = ["-starts_on", "-pk"]
        verbose_name = _("免检")
        verbose_name_plural = _("免检")
        indexes = [models.Index(fields=["campaign", "resident"], name="exemption_resident")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="exemption_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident} {self.get_reason_display()}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def covers(self, day: dt.date) -> bool:
        return (
            self.is_active
            and self.starts_on <= day
            and (self.ends_on is None or day <= self.ends_on)
        )


class SampleImport(models.Model):
    """One upload of the testing system's export into a round, with what it found."""

    round = models.ForeignKey(
        CampaignRound, on_delete=models.CASCADE, related_name="imports", verbose_name=_("轮次")
    )
    filename = models.CharField(_("文件名"), max_length=200, blank=True)
    file_format = models.CharField(_("格式"), max_length=8)
    encoding = models.CharField(_("编码"), max_length=16, blank=True)
    rows = models.PositiveIntegerField(_("数据行"), default=0)
    added = models.PositiveIntegerField(_("新增记录"), default=0)
    already = models.PositiveIntegerField(_("此前已导入"), default=0)
    repeated = models.PositiveIntegerField(_("文件内重复行"), default=0)
    matched_id = models.PositiveIntegerField(_("按身份证号匹配"), default=0)
    matched_name_phone = models.PositiveIntegerField(_("按姓名+手机号匹配"), default=0)
    unmatched = models.PositiveIntegerField(_("未匹配"), default=0)
    duplicates = models.PositiveIntegerField(_("重复采样"), default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = _who()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("采样记录导入")
        verbose_name_plural = _("采样记录导入")

    def __str__(self) -> str:
        return f"#{self.pk} {self.filename}"


class SampleRecordQuerySet(models.QuerySet["SampleRecord"]):
    def matched(self) -> SampleRecordQuerySet:
        return self.filter(resident__isnull=False)

    def unmatched(self) -> SampleRecordQuerySet:
        return self.filter(resident__isnull=True)


SampleRecordManager = models.Manager.from_queryset(SampleRecordQuerySet)


class SampleRecord(models.Model):
    """One row of the testing system's export. Matched records carry the resident's
    community, grid and household (for the scope); visitors carry the campaign's community
    if it has one, so only staff above the grid see them."""

    round = models.ForeignKey(
        CampaignRound, on_delete=models.CASCADE, related_name="records", verbose_name=_("轮次")
    )
    batch = models.ForeignKey(
        SampleImport, on_delete=models.CASCADE, related_name="records", verbose_name=_("导入")
    )
    row_hash = models.CharField(max_length=40, editable=False)
    line = models.PositiveIntegerField(_("行号"), default=0)
    name = models.CharField(_("姓名"), max_length=64, blank=True)
    id_number_index = models.CharField(max_length=40, blank=True, editable=False)
    id_number_masked = models.CharField(_("身份证号"), max_length=32, blank=True)
    id_number_valid = models.BooleanField(default=True, editable=False)
    phone_index = models.CharField(max_length=40, blank=True, editable=False)
    phone_masked = models.CharField(_("手机号"), max_length=24, blank=True)
    sampled_at = models.DateTimeField(_("采样时间"), null=True, blank=True)
    point = models.CharField(_("采样点"), max_length=64, blank=True)
    tube = models.CharField(_("试管编码"), max_length=64, blank=True)
    resident = models.ForeignKey(
        Resident,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("居民"),
    )
    method = models.CharField(
        _("匹配方式"), max_length=16, choices=MatchMethod.choices, default=MatchMethod.NONE
    )
    unmatched_reason = models.CharField(
        _("未匹配原因"), max_length=20, choices=Unmatched.choices, blank=True
    )
    # Same name as exactly one resident of the area, when nothing else matched: a hint.
    suggestion = models.ForeignKey(
        Resident,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("可能是"),
    )
    # A later record of a resident already reached in this round.
    duplicate = models.BooleanField(_("重复采样"), default=False)
    community = models.ForeignKey(
        Community, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    grid = models.ForeignKey(
        Grid, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    matched_at = models.DateTimeField(null=True, blank=True, editable=False)
    matched_by = _who()

    objects: ClassVar[SampleRecordManager[SampleRecord]] = ScopedManager(
        _manager_class=SampleRecordManager,
        community="community",
        grid="grid",
        household="household",
    )

    class Meta:
        ordering = ["round", "line", "pk"]
        verbose_name = _("采样记录")
        verbose_name_plural = _("采样记录")
        indexes = [
            models.Index(fields=["round", "resident"], name="sample_round_resident"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["round", "row_hash"], name="sample_row_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id_number_masked}"


class RoundTask(models.Model):
    """A task-board task made from a round (a building's sweep, or door service)."""

    round = models.ForeignKey(
        CampaignRound, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("轮次")
    )
    task = models.OneToOneField(
        "workforce.Task", on_delete=models.CASCADE, related_name="+", verbose_name=_("任务")
    )
    kind = models.CharField(_("类型"), max_length=16, choices=RoundTaskKind.choices)
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="+", verbose_name=_("楼栋")
    )
    residents = models.PositiveIntegerField(_("人数"), default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["round", "kind", "building"]
        verbose_name = _("轮次任务")
        verbose_name_plural = _("轮次任务")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.building}"
