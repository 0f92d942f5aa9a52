"""Volunteers (signed up by QR, verified by staff), teams, and the task board for all field work.

A volunteer sees tasks, never people: a door on a task carries the address copied from
its household and the items, nothing else, so a volunteer's pages never read the registry's
household or resident rows.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from linli.lib.encryption import EncryptedCharField, blind_index
from linli.lib.masking import mask_id_number, mask_phone
from linli.registry.models import Building, Community, Compound, Household
from linli.workforce.choices import (
    DOOR_KINDS,
    TASK_TRANSITIONS,
    ProofKind,
    Skill,
    StopStatus,
    TaskKind,
    TaskStatus,
    TeamKind,
    VolunteerStatus,
)


def skill_labels(codes: list[str]) -> list[str]:
    labels = dict(Skill.choices)
    return [str(labels.get(code, code)) for code in codes]


class VolunteerQuerySet(models.QuerySet["Volunteer"]):
    def verified(self) -> VolunteerQuerySet:
        return self.filter(status=VolunteerStatus.VERIFIED)


VolunteerManager = models.Manager.from_queryset(VolunteerQuerySet)


class Volunteer(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="volunteers", verbose_name=_("社区")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="volunteer",
        verbose_name=_("账号"),
    )
    name = models.CharField(_("姓名"), max_length=64)
    id_number = EncryptedCharField(_("身份证号"), max_length=18)
    id_number_index = models.CharField(max_length=40, editable=False)
    phone = EncryptedCharField(_("手机号"), max_length=20)
    phone_index = models.CharField(max_length=40, editable=False, db_index=True)
    compound = models.ForeignKey(
        Compound,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("居住小区"),
    )
    building = models.ForeignKey(
        Building,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("居住楼栋"),
    )
    # Skill codes (choices.Skill) and availability slots ('1-am' … '7-eve').
    skills = models.JSONField(_("技能"), default=list, blank=True)
    availability = models.JSONField(_("可服务时段"), default=list, blank=True)
    is_party_member = models.BooleanField(_("党员"), default=False)
    work_unit = models.CharField(_("工作单位（在职党员报到）"), max_length=100, blank=True)
    last_negative_test_at = models.DateTimeField(_("最近一次核酸阴性时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=VolunteerStatus.choices,
        default=VolunteerStatus.PENDING,
        db_index=True,
    )
    status_reason = models.CharField(_("审核说明"), max_length=200, blank=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    created_at = models.DateTimeField(_("报名时间"), default=timezone.now, editable=False)

    objects: ClassVar[VolunteerManager[Volunteer]] = ScopedManager(
        _manager_class=VolunteerManager, community="community"
    )

    class Meta:
        ordering = ["community", "-created_at"]
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")
        constraints = [
            # A person signs up once; a rejected sign-up does not block a new one.
            models.UniqueConstraint(
                fields=["id_number_index"],
                condition=~Q(status=VolunteerStatus.REJECTED),
                name="volunteer_unique_id_number",
            ),
            models.UniqueConstraint(
                fields=["phone_index"],
                condition=~Q(status=VolunteerStatus.REJECTED),
                name="volunteer_unique_phone",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def set_personal_numbers(self, *, id_number: str, phone: str) -> None:
        self.id_number = id_number
        self.id_number_index = blind_index(id_number, purpose="volunteer_id_number")
        self.phone = phone
        self.phone_index = blind_index(phone, purpose="volunteer_phone")

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number or "")

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone or "")

    @property
    def skill_labels(self) -> list[str]:
        return skill_labels(list(self.skills))

    def test_expires_at(self) -> dt.datetime | None:
        if self.last_negative_test_at is None:
            return None
        return self.last_negative_test_at + dt.timedelta(hours=self.community.volunteer_test_hours)

    def ineligibility(
        self, *, skills: list[str] | None = None, now: dt.datetime | None = None
    ) -> list[str]:
        """Why this volunteer may not be given a task now (empty: eligible)."""
        now = now or timezone.now()
        reasons: list[str] = []
        if self.status != VolunteerStatus.VERIFIED:
            reasons.append(
                gettext("志愿者%(status)s，审核通过后才能接任务")
                % {"status": self.get_status_display()}
            )
        elif not self.user.is_active:
            reasons.append(gettext("志愿者账号已停用"))
        if self.community.volunteer_test_required:
            expires = self.test_expires_at()
            if expires is None:
                reasons.append(gettext("未登记核酸阴性时间，本社区要求持有效阴性证明"))
            elif expires <= now:
                reasons.append(
                    gettext("核酸阴性已超过%(hours)d小时（最近一次：%(when)s）")
                    % {
                        "hours": self.community.volunteer_test_hours,
                        "when": formats.date_format(
                            timezone.localtime(self.last_negative_test_at), "Y-m-d H:i"
                        ),
                    }
                )
        missing = [skill for skill in skills or [] if skill not in self.skills]
        if missing:
            reasons.append(
                gettext("缺少技能：%(skills)s") % {"skills": "、".join(skill_labels(missing))}
            )
        return reasons


class Team(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="teams", verbose_name=_("社区")
    )
    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("类型"), max_length=16, choices=TeamKind.choices)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("负责人"),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="teams", blank=True, verbose_name=_("成员")
    )
    # The area a team serves, when it is not a checkpoint's team (checkpoints.Checkpoint.team).
    buildings: models.ManyToManyField[Building, Any] = models.ManyToManyField(
        Building, related_name="teams", blank=True, verbose_name=_("服务楼栋")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects: ClassVar[models.Manager[Team]] = ScopedManager(community="community")

    class Meta:
        ordering = ["community", "name"]
        verbose_name = _("队伍")
        verbose_name_plural = _("队伍")
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="team_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class TaskQuerySet(models.QuerySet["Task"]):
    def open(self) -> TaskQuerySet:
        return self.filter(status=TaskStatus.OPEN)

    def of_volunteer(self, volunteer: Volunteer) -> TaskQuerySet:
        return self.filter(volunteer=volunteer)


TaskManager = models.Manager.from_queryset(TaskQuerySet)


class Task(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("社区")
    )
    kind = models.CharField(_("类型"), max_length=24, choices=TaskKind.choices, db_index=True)
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    # Where: the buildings it covers and a label a volunteer can read ("阳光小区 1号楼").
    buildings = models.ManyToManyField(
        Building, related_name="tasks", blank=True, verbose_name=_("楼栋")
    )
    place = models.CharField(_("地点"), max_length=160, blank=True)
    starts_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    ends_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    required_skills = models.JSONField(_("所需技能"), default=list, blank=True)
    size = models.PositiveIntegerField(_("工作量（袋/户/人）"), default=1)
    status = models.CharField(
        _("状态"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    volunteer = models.ForeignKey(
        Volunteer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("志愿者"),
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(_("未完成原因"), max_length=200, blank=True)
    proof_note = models.CharField(_("完成说明"), max_length=200, blank=True)
    proof_photo = models.ImageField(_("完成照片"), upload_to="proofs/%Y/%m/", blank=True)
    minutes = models.PositiveIntegerField(_("服务时长（分钟）"), default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    objects: ClassVar[TaskManager[Task]] = ScopedManager(
        _manager_class=TaskManager, community="community"
    )

    class Meta:
        ordering = ["status", "starts_at", "pk"]
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        indexes = [models.Index(fields=["community", "status"], name="task_community_status")]
        constraints = [
            # Taken means someone took it: the race between two takers ends here at the latest.
            models.CheckConstraint(
                condition=Q(status__in=[TaskStatus.OPEN, TaskStatus.CANCELLED])
                | Q(volunteer__isnull=False),
                name="task_taken_has_volunteer",
            ),
            models.CheckConstraint(
                condition=~Q(status=TaskStatus.OPEN) | Q(volunteer__isnull=True),
                name="task_open_has_no_volunteer",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True)
                | Q(starts_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="task_window_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def has_doors(self) -> bool:
        return self.kind in DOOR_KINDS

    def can_become(self, status: str) -> bool:
        return status in TASK_TRANSITIONS[self.status]

    @property
    def required_skill_labels(self) -> list[str]:
        return skill_labels(list(self.required_skills))

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)

    def planned_minutes(self) -> int:
        if self.starts_at and self.ends_at:
            return int((self.ends_at - self.starts_at).total_seconds() // 60)
        return 0


MAX_CODE_ATTEMPTS = 5


def new_door_code() -> str:
    """Four digits the household tells the volunteer at the door."""
    return f"{secrets.randbelow(10_000):04d}"


class TaskStop(models.Model):
    """One door on a task: the address and items (copied, so a volunteer never reads the
    household), the code the household holds, and what happened there."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="stops")
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="task_stops", verbose_name=_("户")
    )
    address = models.CharField(_("地址"), max_length=160)
    items = models.CharField(_("物品"), max_length=300, blank=True)
    door_code = models.CharField(_("收货码"), max_length=8, default=new_door_code)
    # Wrong codes typed at this door; past MAX_CODE_ATTEMPTS the code no longer works
    # (four digits must not be guessable), and the volunteer leaves it at the door instead.
    code_attempts = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        _("状态"), max_length=16, choices=StopStatus.choices, default=StopStatus.PENDING
    )
    proof = models.CharField(_("凭证"), max_length=8, choices=ProofKind.choices, blank=True)
    photo = models.ImageField(_("照片"), upload_to="proofs/%Y/%m/", blank=True)
    failure_reason = models.CharField(_("未送达原因"), max_length=200, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    position = models.PositiveIntegerField(default=0)

    objects: ClassVar[models.Manager[TaskStop]] = ScopedManager(community="task__community")

    class Meta:
        ordering = ["task", "position", "pk"]
        verbose_name = _("送达点")
        verbose_name_plural = _("送达点")
        constraints = [
            models.UniqueConstraint(fields=["task", "household"], name="stop_unique_household"),
            models.CheckConstraint(
                condition=~Q(status=StopStatus.FAILED) | ~Q(failure_reason=""),
                name="stop_failed_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.address


class TaskEvent(models.Model):
    """Who moved a task from which status to which, when, and any note."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    from_status = models.CharField(max_length=16, choices=TaskStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=TaskStatus.choices, blank=True)
    note = models.CharField(max_length=300, blank=True)

    objects: ClassVar[models.Manager[TaskEvent]] = ScopedManager(community="task__community")

    class Meta:
        ordering = ["task", "at", "pk"]
        verbose_name = _("任务记录")
        verbose_name_plural = _("任务记录")

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status}"
