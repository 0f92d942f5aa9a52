"""微心愿: wishes collected for households, batches published by QR, claims and fulfilment.

What the public sees of a wish is its number, item, quantity, estimated value and the
description written for the public ("一位低保户老人"): never the household, a name, an
address, a phone or a care tag. Claimers are not users: a name, a phone (encrypted, found
by its blind index) and a work unit, once per batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from linli.lib.encryption import EncryptedCharField, blind_index
from linli.lib.masking import mask_name, mask_phone
from linli.lib.money import fen_to_yuan
from linli.registry.models import Community, Household
from linli.wishes.choices import (
    WISH_TRANSITIONS,
    BatchStatus,
    ClaimerKind,
    DeliveryMode,
    WishStatus,
)
from linli.workforce.models import TaskStop

HOLDING = (WishStatus.CLAIMED, WishStatus.FULFILLED, WishStatus.THANKED)


def new_public_code() -> str:
    """The batch's part of the poster's URL: short enough for a QR code, not guessable."""
    return secrets.token_hex(6)


def new_claim_token() -> str:
    return secrets.token_urlsafe(18)


def token_digest(token: str) -> str:
    """Only the digest is stored: the link is the claimer's key to release their claim."""
    return hashlib.sha256(token.encode()).hexdigest()


def claimer_phone_index(phone: str) -> str:
    return blind_index(phone, purpose="wish_claimer_phone")


class WishBatch(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="wish_batches", verbose_name=_("社区")
    )
    title = models.CharField(_("标题"), max_length=100)
    # Shown on the public page: where and how to hand the gifts over.
    note = models.TextField(_("认领说明"), blank=True)
    deliver_by = models.DateField(_("送达截止日期"))
    per_claimer_limit = models.PositiveSmallIntegerField(_("每人最多认领"), default=2)
    status = models.CharField(
        _("状态"), max_length=16, choices=BatchStatus.choices, default=BatchStatus.DRAFT
    )
    code = models.SlugField(_("公开编码"), max_length=16, unique=True, default=new_public_code)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects: ClassVar[models.Manager[WishBatch]] = ScopedManager(community="community")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("心愿批次")
        verbose_name_plural = _("心愿批次")
        constraints = [
            models.CheckConstraint(
                condition=Q(per_claimer_limit__gte=1), name="wishbatch_limit_at_least_one"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == BatchStatus.PUBLISHED

    def deliver_by_end(self) -> dt.datetime:
        """The end of the deadline day (Shanghai)."""
        return timezone.make_aware(
            dt.datetime.combine(self.deliver_by + dt.timedelta(days=1), dt.time())
        )


class Claimer(models.Model):
    """A party member or volunteer who claims wishes of one batch, known by their phone."""

    batch = models.ForeignKey(WishBatch, on_delete=models.CASCADE, related_name="claimers")
    name = models.CharField(_("姓名"), max_length=32)
    phone = EncryptedCharField(_("手机号"), max_length=20)
    phone_index = models.CharField(max_length=40, editable=False)
    work_unit = models.CharField(_("工作单位"), max_length=100)
    kind = models.CharField(
        _("身份"), max_length=16, choices=ClaimerKind.choices, default=ClaimerKind.PARTY_MEMBER
    )
    # Wishes held now: the counter the limit is checked against in one conditional UPDATE,
    # so two claims by one phone at the same moment cannot both pass the limit.
    claim_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects: ClassVar[models.Manager[Claimer]] = ScopedManager(community="batch__community")

    class Meta:
        ordering = ["batch", "pk"]
        verbose_name = _("认领人")
        verbose_name_plural = _("认领人")
        constraints = [
            models.UniqueConstraint(fields=["batch", "phone_index"], name="claimer_unique_phone"),
            models.CheckConstraint(
                condition=Q(claim_count__gte=0), name="claimer_count_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.masked_name

    def set_phone(self, phone: str) -> None:
        self.phone = phone
        self.phone_index = claimer_phone_index(phone)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone or "")

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


class WishQuerySet(models.QuerySet["Wish"]):
    def public(self) -> WishQuerySet:
        """The wishes a batch's public page lists: published and claimed ones, by number."""
        return self.filter(
            status__in=[WishStatus.PUBLISHED, *HOLDING], batch__status=BatchStatus.PUBLISHED
        ).order_by("number", "pk")


WishManager = models.Manager.from_queryset(WishQuerySet)


class Wish(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="wishes", verbose_name=_("社区")
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="wishes", verbose_name=_("户")
    )
    # The public's words for who it is for: never a name ("一位低保户老人").
    recipient = models.CharField(_("心愿对象（公开描述）"), max_length=40)
    item = models.CharField(_("心愿物品"), max_length=60)
    quantity = models.PositiveSmallIntegerField(_("数量"), default=1)
    value_fen = models.PositiveIntegerField(_("估计价值（分）"), default=0)
    note = models.CharField(_("备注（仅工作人员可见）"), max_length=200, blank=True)
    photo = models.ImageField(_("照片"), upload_to="wishes/%Y/%m/", blank=True)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=WishStatus.choices,
        default=WishStatus.COLLECTED,
        db_index=True,
    )
    withdrawn_reason = models.CharField(_("撤回原因"), max_length=200, blank=True)
    batch = models.ForeignKey(
        WishBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="wishes",
        verbose_name=_("批次"),
    )
    number = models.PositiveSmallIntegerField(_("编号"), default=0)
    claimer = models.ForeignKey(
        Claimer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="wishes",
        verbose_name=_("认领人"),
    )
    claimed_at = models.DateTimeField(_("认领时间"), null=True, blank=True)
    delivery_mode = models.CharField(
        _("送达方式"), max_length=8, choices=DeliveryMode.choices, blank=True
    )
    task_stop = models.ForeignKey(
        TaskStop, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    fulfilled_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    fulfilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    proof_note = models.CharField(_("送达说明"), max_length=200, blank=True)
    proof_photo = models.ImageField(_("送达照片"), upload_to="wishes/proofs/%Y/%m/", blank=True)
    thanks = models.TextField(_("受助家庭的感谢"), blank=True)
    thanked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("收集时间"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("收集人"),
    )

    objects: ClassVar[WishManager[Wish]] = ScopedManager(
        _manager_class=WishManager,
        community="community",
        grid="household__grid",
        household="household",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("微心愿")
        verbose_name_plural = _("微心愿")
        indexes = [
            models.Index(fields=["community", "status"], name="wish_community_status"),
            models.Index(fields=["batch", "status"], name="wish_batch_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="wish_quantity_positive"),
            # Held means someone holds it; nobody holds a wish that is not held.
            models.CheckConstraint(
                condition=~Q(status__in=HOLDING) | Q(claimer__isnull=False),
                name="wish_held_has_claimer",
            ),
            models.CheckConstraint(
                condition=Q(status__in=HOLDING) | Q(claimer__isnull=True),
                name="wish_unheld_has_no_claimer",
            ),
            models.CheckConstraint(
                condition=~Q(status=WishStatus.PUBLISHED) | Q(batch__isnull=False),
                name="wish_published_in_batch",
            ),
            models.CheckConstraint(
                condition=~Q(status=WishStatus.WITHDRAWN) | ~Q(withdrawn_reason=""),
                name="wish_withdrawn_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item}×{self.quantity}"

    def can_become(self, status: str) -> bool:
        return status in WISH_TRANSITIONS[self.status]

    @property
    def value_yuan(self) -> str:
        return fen_to_yuan(self.value_fen)

    @property
    def label(self) -> str:
        """How the poster and the claimer name it: '3号 围巾和手套×1'."""
        return f"{self.number}号 {self.item}×{self.quantity}" if self.number else str(self)


class WishClaim(models.Model):
    """One claim of one wish: who, when, and whether (and by whom) it was released.

    At most one claim of a wish is live at a time (the unique constraint below); the link
    given at claim time carries a token whose digest is kept here.
    """

    wish = models.ForeignKey(Wish, on_delete=models.CASCADE, related_name="claims")
    claimer = models.ForeignKey(Claimer, on_delete=models.CASCADE, related_name="claims")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    claimed_at = models.DateTimeField(default=timezone.now)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    release_reason = models.CharField(_("退回原因"), max_length=200, blank=True)

    objects: ClassVar[models.Manager[WishClaim]] = ScopedManager(
        community="wish__community", grid="wish__household__grid", household="wish__household"
    )

    class Meta:
        ordering = ["wish", "claimed_at", "pk"]
        verbose_name = _("认领记录")
        verbose_name_plural = _("认领记录")
        constraints = [
            models.UniqueConstraint(
                fields=["wish"], condition=Q(released_at__isnull=True), name="wishclaim_one_live"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.wish} · {self.claimer}"

    @property
    def is_live(self) -> bool:
        return self.released_at is None


class WishEvent(models.Model):
    """Who moved a wish from which status to which, when, and any note."""

    wish = models.ForeignKey(Wish, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    from_status = models.CharField(max_length=16, choices=WishStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=WishStatus.choices, blank=True)
    note = models.CharField(max_length=300, blank=True)

    objects: ClassVar[models.Manager[WishEvent]] = ScopedManager(
        community="wish__community", grid="wish__household__grid", household="wish__household"
    )

    class Meta:
        ordering = ["wish", "at", "pk"]
        verbose_name = _("心愿记录")
        verbose_name_plural = _("心愿记录")

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status}"
