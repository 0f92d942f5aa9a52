"""24小时专线: tickets (诉求工单) with their timeline and attachments, and the SLA targets.

A ticket carries its community, and the grid and household of the resident it is about
(copied at creation), so the scoped manager limits it like the registry's people: a grid
worker sees their grids' tickets, a resident their own household's, field roles nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from linli.hotline.choices import (
    ERRAND_CATEGORIES,
    OPEN_STATUSES,
    TICKET_TRANSITIONS,
    Channel,
    Escalation,
    EventKind,
    Feedback,
    TicketStatus,
)
from linli.lib.encryption import EncryptedCharField
from linli.lib.masking import mask_phone
from linli.registry.models import Community, Grid, Household, Resident
from linli.triage.choices import URGENCY_ORDER, Category, Urgency, severity


class SlaTarget(models.Model):
    """How fast a community answers and settles one category × urgency of ticket."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="sla_targets", verbose_name=_("社区")
    )
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices)
    respond_minutes = models.PositiveIntegerField(_("响应时限（分钟）"))
    resolve_minutes = models.PositiveIntegerField(_("办结时限（分钟）"))
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    objects: ClassVar[models.Manager[SlaTarget]] = ScopedManager(community="community")

    class Meta:
        ordering = ["community", "category", "urgency"]
        verbose_name = _("时限标准")
        verbose_name_plural = _("时限标准")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "category", "urgency"], name="sla_target_unique"
            ),
            models.CheckConstraint(
                condition=Q(respond_minutes__gte=1)
                & Q(resolve_minutes__gte=models.F("respond_minutes")),
                name="sla_target_resolve_after_respond",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}·{self.get_urgency_display()}"


class TicketQuerySet(models.QuerySet["Ticket"]):
    def open(self) -> TicketQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, now: dt.datetime) -> TicketQuerySet:
        return self.filter(
            Q(status=TicketStatus.NEW, respond_by__lt=now)
            | Q(status__in=[TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS], resolve_by__lt=now)
        )

    def in_queue_order(self) -> TicketQuerySet:
        """Open before finished, most urgent first, then the least time left."""
        rank = Case(
            *(When(urgency=u, then=Value(i)) for i, u in enumerate(URGENCY_ORDER)),
            output_field=IntegerField(),
        )
        finished = Case(
            When(status__in=OPEN_STATUSES, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        deadline = Case(
            When(status=TicketStatus.NEW, then=F("respond_by")), default=F("resolve_by")
        )
        return self.annotate(rank=rank, finished=finished, deadline_at=deadline).order_by(
            "finished", "rank", "deadline_at", "pk"
        )

    def due_for_escalation(self, now: dt.datetime) -> TicketQuerySet:
        return self.open().filter(
            escalate_after__isnull=False,
            escalate_after__lte=now,
            escalation_level__lt=Escalation.STREET,
        )


TicketManager = models.Manager.from_queryset(TicketQuerySet)


class Ticket(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("社区")
    )
    # The resident or household it is about (both empty for an unknown caller); the grid is
    # copied from the household so that scope checks need no join.
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("户"),
    )
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("居民"),
    )
    grid = models.ForeignKey(
        Grid, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    caller_name = models.CharField(_("来电人"), max_length=64, blank=True)
    caller_phone = EncryptedCharField(_("来电号码"), max_length=20, blank=True)
    caller_phone_index = models.CharField(max_length=40, blank=True, editable=False, db_index=True)
    caller_phone_last4 = models.CharField(max_length=4, blank=True, editable=False, db_index=True)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices)
    # What triage said, the words that made it say so, and whether a person changed it.
    triage_category = models.CharField(max_length=16, choices=Category.choices, blank=True)
    triage_urgency = models.CharField(max_length=16, choices=Urgency.choices, blank=True)
    triage_reasons = models.JSONField(_("分诊依据"), default=list, blank=True)
    overridden = models.BooleanField(_("人工修改分类"), default=False)
    description = models.TextField(_("诉求内容"))
    hazard_location = models.CharField(_("隐患位置"), max_length=160, blank=True)
    hazard_parties = models.CharField(_("责任方"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_tickets",
        verbose_name=_("负责人"),
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    # 代提诉求: entered by someone other than the resident it is about.
    on_behalf = models.BooleanField(_("代提诉求"), default=False)
    # Where it came from in another app: "care_call:12", "meal:3".
    source = models.CharField(_("来源"), max_length=64, blank=True)
    respond_by = models.DateTimeField(_("响应时限"))
    resolve_by = models.DateTimeField(_("办结时限"))
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始处理"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    resolution = models.CharField(_("办理结果"), max_length=500, blank=True)
    cancel_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)
    feedback = models.CharField(_("居民评价"), max_length=16, choices=Feedback.choices, blank=True)
    feedback_text = models.CharField(_("评价说明"), max_length=300, blank=True)
    escalation_level = models.PositiveSmallIntegerField(
        _("升级"), choices=Escalation.choices, default=Escalation.NONE
    )
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    # When the next automatic escalation falls due (None: finished, or at the street already).
    escalate_after = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    task = models.ForeignKey(
        "workforce.Task",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("任务"),
    )

    objects: ClassVar[TicketManager[Ticket]] = ScopedManager(
        _manager_class=TicketManager,
        community="community",
        grid="grid",
        household="household",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        indexes = [
            models.Index(fields=["community", "status"], name="ticket_community_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=TicketStatus.CANCELLED) | ~Q(cancel_reason=""),
                name="ticket_cancelled_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status=TicketStatus.CLOSED) | ~Q(feedback=""),
                name="ticket_closed_has_feedback",
            ),
            models.CheckConstraint(
                condition=Q(escalation_level__gte=0) & Q(escalation_level__lte=2),
                name="ticket_escalation_level_range",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_category_display()}"

    @property
    def number(self) -> str:
        return f"#{self.pk}"

    def can_become(self, status: str) -> bool:
        return status in TICKET_TRANSITIONS[self.status]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def masked_caller_phone(self) -> str:
        return mask_phone(self.caller_phone or "")

    @property
    def severity(self) -> int:
        return severity(self.urgency)

    @property
    def is_errand(self) -> bool:
        return self.category in ERRAND_CATEGORIES

    def deadline(self) -> dt.datetime | None:
        """The target it is working towards now: respond while new, resolve after that."""
        if self.status == TicketStatus.NEW:
            return self.respond_by
        if self.status in OPEN_STATUSES:
            return self.resolve_by
        return None

    def seconds_left(self, now: dt.datetime | None = None) -> int | None:
        deadline = self.deadline()
        if deadline is None:
            return None
        return int((deadline - (now or timezone.now())).total_seconds())

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        left = self.seconds_left(now)
        return left is not None and left < 0

    @property
    def time_left_label(self) -> str:
        """'剩 25分' / '超时 1小时5分' / '—' for the queue, the CLI and the API."""
        left = self.seconds_left()
        if left is None:
            return "—"
        minutes = abs(left) // 60
        if minutes >= 60:
            text = gettext("%(h)d小时%(m)d分") % {"h": minutes // 60, "m": minutes % 60}
        else:
            text = gettext("%(m)d分") % {"m": minutes}
        return (gettext("超时 %(t)s") if left < 0 else gettext("剩 %(t)s")) % {"t": text}

    def responded_in_time(self) -> bool | None:
        if self.accepted_at is None:
            return None
        return self.accepted_at <= self.respond_by

    def resolved_in_time(self) -> bool | None:
        if self.resolved_at is None:
            return None
        return self.resolved_at <= self.resolve_by

    @property
    def who(self) -> str:
        """The caller as staff read it: resident's name, or the caller's name and tail."""
        if self.resident_id is not None and self.resident is not None:
            return self.resident.name
        return self.caller_name or self.masked_caller_phone or "—"


class TicketEvent(models.Model):
    """One line of a ticket's timeline: who did what, when."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    from_status = models.CharField(max_length=16, choices=TicketStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=TicketStatus.choices, blank=True)
    note = models.CharField(max_length=500, blank=True)
    data: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)

    objects: ClassVar[models.Manager[TicketEvent]] = ScopedManager(
        community="ticket__community", grid="ticket__grid", household="ticket__household"
    )

    class Meta:
        ordering = ["ticket", "at", "pk"]
        verbose_name = _("工单记录")
        verbose_name_plural = _("工单记录")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.note}"


class TicketAttachment(models.Model):
    """A file on a ticket (a photo of the hazard, a prescription); served only through the
    ticket's access check, never from MEDIA_URL."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("附件"), upload_to="tickets/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects: ClassVar[models.Manager[TicketAttachment]] = ScopedManager(
        community="ticket__community", grid="ticket__grid", household="ticket__household"
    )

    class Meta:
        ordering = ["ticket", "uploaded_at", "pk"]
        verbose_name = _("工单附件")
        verbose_name_plural = _("工单附件")

    def __str__(self) -> str:
        return self.name
