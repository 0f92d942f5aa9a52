"""Skills, availability slots, volunteer and task states, and the allowed task transitions."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Skill(models.TextChoices):
    DRIVER = "driver", _("驾驶")
    MEDICAL = "medical", _("医护")
    TRANSLATION = "translation", _("翻译")
    PHONE_HELP = "phone_help", _("帮老人用手机")
    HEAVY_LIFTING = "heavy_lifting", _("搬运重物")


class Weekday(models.IntegerChoices):
    MON = 1, _("周一")
    TUE = 2, _("周二")
    WED = 3, _("周三")
    THU = 4, _("周四")
    FRI = 5, _("周五")
    SAT = 6, _("周六")
    SUN = 7, _("周日")


class TimeSlot(models.TextChoices):
    MORNING = "am", _("上午")
    AFTERNOON = "pm", _("下午")
    EVENING = "eve", _("晚上")


def availability_choices() -> list[tuple[str, str]]:
    """'1-am' … '7-eve': a day and a time slot, as the sign-up form offers them."""
    return [
        (
            f"{day.value}-{slot.value}",
            gettext("%(day)s%(slot)s") % {"day": day.label, "slot": slot.label},
        )
        for day in Weekday
        for slot in TimeSlot
    ]


class VolunteerStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    VERIFIED = "verified", _("已审核")
    REJECTED = "rejected", _("未通过")
    SUSPENDED = "suspended", _("已暂停")


class TeamKind(models.TextChoices):
    PARTY_BRANCH = "party_branch", _("临时党支部")
    SERVICE_TEAM = "service_team", _("志愿服务队")


class TaskKind(models.TextChoices):
    DELIVERY_BUNDLE = "delivery_bundle", _("送货到户")
    DUTY_SHIFT = "duty_shift", _("卡口值守")
    BUILDING_SWEEP = "building_sweep", _("扫楼")
    DOOR_SERVICE = "door_service", _("上门服务")
    WISH_DELIVERY = "wish_delivery", _("心愿配送")
    ERRAND = "errand", _("代购代办")


# Kinds whose work is a list of doors (each with its own outcome and proof).
DOOR_KINDS = frozenset({TaskKind.DELIVERY_BUNDLE, TaskKind.DOOR_SERVICE, TaskKind.WISH_DELIVERY})


class TaskStatus(models.TextChoices):
    OPEN = "open", _("待领取")
    ASSIGNED = "assigned", _("已指派")
    ACCEPTED = "accepted", _("已接受")
    IN_PROGRESS = "in_progress", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("未完成")
    CANCELLED = "cancelled", _("已取消")


# The one place that says which status may follow which.
TASK_TRANSITIONS: dict[str, frozenset[str]] = {
    TaskStatus.OPEN: frozenset({TaskStatus.ASSIGNED, TaskStatus.ACCEPTED, TaskStatus.CANCELLED}),
    TaskStatus.ASSIGNED: frozenset(
        {TaskStatus.ACCEPTED, TaskStatus.OPEN, TaskStatus.CANCELLED, TaskStatus.ASSIGNED}
    ),
    TaskStatus.ACCEPTED: frozenset(
        {TaskStatus.IN_PROGRESS, TaskStatus.OPEN, TaskStatus.CANCELLED, TaskStatus.ASSIGNED}
    ),
    TaskStatus.IN_PROGRESS: frozenset({TaskStatus.DONE, TaskStatus.FAILED}),
    TaskStatus.DONE: frozenset(),
    TaskStatus.FAILED: frozenset({TaskStatus.OPEN}),
    TaskStatus.CANCELLED: frozenset(),
}

# A task in one of these has a volunteer on it.
TAKEN_STATUSES = frozenset({TaskStatus.ASSIGNED, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS})


class StopStatus(models.TextChoices):
    PENDING = "pending", _("待送达")
    DELIVERED = "delivered", _("已送达（收货码）")
    LEFT_AT_DOOR = "left_at_door", _("已放门口")
    FAILED = "failed", _("未送达")


class ProofKind(models.TextChoices):
    CODE = "code", _("收货码")
    PHOTO = "photo", _("照片")
