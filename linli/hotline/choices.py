"""Channels, ticket states and their allowed transitions, feedback, escalation levels, and the
default SLA targets (category and urgency come from linli.triage.choices)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.triage.choices import Category, Urgency


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    WECHAT = "wechat", _("微信")
    WALK_IN = "walk_in", _("来访")
    GRID_WORKER = "grid_worker", _("网格员")
    CARE_CALL = "care_call", _("关爱回访")
    RESIDENT_PAGE = "resident_page", _("居民自助")


class TicketStatus(models.TextChoices):
    NEW = "new", _("新建")
    ACCEPTED = "accepted", _("已受理")
    IN_PROGRESS = "in_progress", _("处理中")
    RESOLVED = "resolved", _("已办结")
    CLOSED = "closed", _("已关闭")
    CANCELLED = "cancelled", _("已撤销")


# The one place that says which status may follow which. A resolved ticket the resident is
# not satisfied with goes back to in progress (reopen) rather than being closed.
TICKET_TRANSITIONS: dict[str, frozenset[str]] = {
    # A question answered on the phone is resolved at once.
    TicketStatus.NEW: frozenset(
        {
            TicketStatus.ACCEPTED,
            TicketStatus.IN_PROGRESS,
            TicketStatus.RESOLVED,
            TicketStatus.CANCELLED,
        }
    ),
    TicketStatus.ACCEPTED: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CANCELLED}
    ),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.RESOLVED, TicketStatus.CANCELLED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.IN_PROGRESS}),
    TicketStatus.CLOSED: frozenset(),
    TicketStatus.CANCELLED: frozenset(),
}

# Still waiting for someone: these count in the queue and can go overdue.
OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS)
FINISHED_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.CANCELLED)


class Feedback(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class Escalation(models.IntegerChoices):
    NONE = 0, _("未升级")
    COMMUNITY = 1, _("已升级至社区")
    STREET = 2, _("已升级至街道")


class EventKind(models.TextChoices):
    CREATED = "created", _("新建")
    STATUS = "status", _("状态变更")
    NOTE = "note", _("备注")
    ASSIGN = "assign", _("指派")
    ESCALATE = "escalate", _("升级")
    OVERRIDE = "override", _("修改分类")
    ATTACHMENT = "attachment", _("附件")
    TASK = "task", _("转任务")


# Errands a volunteer can run: these tickets can become a task-board task in one step.
ERRAND_CATEGORIES = frozenset({Category.MEDICINE, Category.SUPPLIES})
# Escorts counted in the figures (a volunteer or staff member goes with the resident).
ESCORT_CATEGORIES = frozenset({Category.MEDICAL, Category.DIALYSIS, Category.PRENATAL})

# Default response and resolution targets (minutes) per urgency, for every category; each
# community's staff can change them per category × urgency on the SLA page.
DEFAULT_TARGETS: dict[str, tuple[int, int]] = {
    Urgency.CRITICAL: (10, 2 * 60),
    Urgency.URGENT: (30, 24 * 60),
    Urgency.NORMAL: (2 * 60, 72 * 60),
    Urgency.LOW: (24 * 60, 7 * 24 * 60),
}

# Alerting community staff at creation.
ALERT_URGENCIES = frozenset({Urgency.CRITICAL, Urgency.URGENT})
