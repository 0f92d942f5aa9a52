"""Plans, check-in states, outcomes and escalation steps of 关爱回访, with the allowed moves."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanKind(models.TextChoices):
    CALL = "call", _("电话问候")
    VISIT = "visit", _("定期上门")
    CALL_AND_VISIT = "call_and_visit", _("电话问候+定期上门")


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    VISIT = "visit", _("上门")
    WECHAT_VIDEO = "wechat_video", _("微信视频")


class PlanStatus(models.TextChoices):
    ACTIVE = "active", _("进行中")
    PAUSED = "paused", _("已暂停")


class CheckInKind(models.TextChoices):
    CALL = "call", _("电话回访")
    VISIT = "visit", _("上门探访")


class CheckInSource(models.TextChoices):
    PLAN = "plan", _("计划")
    REQUEST = "request", _("临时加访")


class CheckInStatus(models.TextChoices):
    PENDING = "pending", _("待回访")
    UNREACHED = "unreached", _("未联系上")
    FINE = "fine", _("已联系·平安")
    NEEDS = "needs", _("已联系·有需求")
    ESCALATED = "escalated", _("未联系上·已升级")


# Still to be reached today: shown in the worklist, escalated at the community's hour.
OPEN_STATUSES = frozenset({CheckInStatus.PENDING, CheckInStatus.UNREACHED})
REACHED_STATUSES = frozenset({CheckInStatus.FINE, CheckInStatus.NEEDS})


class Outcome(models.TextChoices):
    FINE = "fine", _("已联系，平安")
    NEEDS = "needs", _("已联系，有需求")
    UNREACHED = "unreached", _("未联系上")


# The check-in status each outcome leads to.
OUTCOME_STATUS: dict[str, str] = {
    Outcome.FINE: CheckInStatus.FINE,
    Outcome.NEEDS: CheckInStatus.NEEDS,
    Outcome.UNREACHED: CheckInStatus.UNREACHED,
}

# A new attempt may be recorded in these states (an escalated resident reached after all
# is still recorded; a reached one is done for the day).
ATTEMPTABLE = frozenset({CheckInStatus.PENDING, CheckInStatus.UNREACHED, CheckInStatus.ESCALATED})


class FollowUp(models.TextChoices):
    TICKET = "ticket", _("生成工单")
    PROXY_ORDER = "proxy_order", _("代下单")


class EscalationStep(models.TextChoices):
    DOOR_VISIT = "door_visit", _("派上门探视任务")
    CONTACT = "contact", _("通知紧急联系人")
    STAFF = "staff", _("报告社区工作人员")
