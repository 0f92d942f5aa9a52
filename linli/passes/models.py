"""外出就医证明: a medical exit pass for one resident (code + signed QR) and every check of it
at a checkpoint."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import ClassVar

from django.conf import settings
from django.core import signing
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from linli.hotline.models import Ticket
from linli.lib.encryption import EncryptedCharField
from linli.lib.masking import mask_name, mask_phone
from linli.passes.choices import PassReason, PassStatus, VerifyResult, VerifyVia
from linli.registry.models import Community, Grid, Household, Resident

# No 0/O, 1/I/L: a keeper types the code from paper, often in poor light.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
QR_SALT = "linli.passes.qr"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What a keeper typed → the code: upper case, without spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch.isascii() and ch.isalnum())[:16]


def sign_code(code: str) -> str:
    """The QR payload: the code signed with the site's key, so a made-up QR fails."""
    return signing.Signer(salt=QR_SALT).sign(code)


def unsign_code(payload: str) -> str | None:
    try:
        return signing.Signer(salt=QR_SALT).unsign(payload)
    except signing.BadSignature:
        return None


class MedicalPass(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="medical_passes", verbose_name=_("社区")
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="medical_passes", verbose_name=_("居民")
    )
    # Copied from the resident's household, so scope checks need no join.
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="+", editable=False
    )
    grid = models.ForeignKey(
        Grid, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="medical_passes",
        verbose_name=_("工单"),
    )
    code = models.CharField(_("证明编码"), max_length=16, unique=True)
    reason = models.CharField(_("外出事由"), max_length=24, choices=PassReason.choices)
    destination = models.CharField(_("前往医院/地点"), max_length=120)
    companion_name = models.CharField(_("陪同人"), max_length=32, blank=True)
    companion_phone = EncryptedCharField(_("陪同人电话"), max_length=20, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    valid_from = models.DateTimeField(_("有效期自"))
    valid_until = models.DateTimeField(_("有效期至"))
    status = models.CharField(
        _("状态"), max_length=16, choices=PassStatus.choices, default=PassStatus.ACTIVE
    )
    issued_at = models.DateTimeField(_("开具时间"), default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("开具人"),
    )
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("作废人"),
    )
    revoke_reason = models.CharField(_("作废原因"), max_length=200, blank=True)

    objects: ClassVar[models.Manager[MedicalPass]] = ScopedManager(
        community="community", grid="grid", household="household"
    )

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("外出就医证明")
        verbose_name_plural = _("外出就医证明")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")), name="pass_window_positive"
            ),
            models.CheckConstraint(
                condition=Q(status=PassStatus.ACTIVE) | Q(revoked_at__isnull=False),
                name="pass_revoked_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {mask_name(self.resident.name)}"

    @property
    def qr_payload(self) -> str:
        return sign_code(self.code)

    @property
    def masked_name(self) -> str:
        return mask_name(self.resident.name)

    @property
    def masked_companion(self) -> str:
        return mask_name(self.companion_name)

    @property
    def masked_companion_phone(self) -> str:
        return mask_phone(self.companion_phone or "")

    def state_at(self, when: dt.datetime) -> str:
        """What a checkpoint sees at `when` (ignoring whose checkpoint it is)."""
        if self.status == PassStatus.REVOKED:
            return VerifyResult.REVOKED
        if when < self.valid_from:
            return VerifyResult.NOT_YET_VALID
        if when >= self.valid_until:
            return VerifyResult.EXPIRED
        return VerifyResult.VALID


class PassVerification(models.Model):
    """One check at a checkpoint: who, when, what was presented and what it showed."""

    medical_pass = models.ForeignKey(
        MedicalPass,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="verifications",
        verbose_name=_("证明"),
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("核验人所在社区"),
    )
    presented = models.CharField(_("出示内容"), max_length=64, blank=True)
    via = models.CharField(_("方式"), max_length=8, choices=VerifyVia.choices)
    result = models.CharField(_("结果"), max_length=16, choices=VerifyResult.choices)
    checked_at = models.DateTimeField(_("核验时间"), default=timezone.now, db_index=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("核验人"),
    )

    class Meta:
        ordering = ["-checked_at", "-pk"]
        verbose_name = _("证明核验记录")
        verbose_name_plural = _("证明核验记录")

    def __str__(self) -> str:
        return f"{self.presented} {self.result}"
