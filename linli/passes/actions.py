"""All writes for medical exit passes: issue, revoke, and the log of each verification."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.hotline.models import Ticket
from linli.lib.identity import check_mobile
from linli.passes import access
from linli.passes.choices import PassReason, PassStatus, VerifyResult, VerifyVia
from linli.passes.models import (
    MedicalPass,
    PassVerification,
    new_code,
    normalise_code,
    unsign_code,
)
from linli.registry.models import Resident

MAX_WINDOW = dt.timedelta(days=31)


@dataclass(frozen=True)
class PassInput:
    resident: Resident
    reason: str
    destination: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    companion_name: str = ""
    companion_phone: str = ""
    note: str = ""
    ticket: Ticket | None = None


def _check(data: PassInput) -> str:
    """The input checked; the companion's phone normalised."""
    errors: dict[str, list[str]] = {}
    if data.reason not in PassReason.values:
        errors["reason"] = [_("请选择外出事由")]
    if not data.destination.strip():
        errors["destination"] = [_("请填写前往的医院或地点")]
    elif len(data.destination) > 120:
        errors["destination"] = [_("地点不能超过120个字")]
    if timezone.is_naive(data.valid_from) or timezone.is_naive(data.valid_until):
        errors["valid_from"] = [_("有效期须带时区")]
    elif data.valid_until <= data.valid_from:
        errors["valid_until"] = [_("结束时间须晚于开始时间")]
    elif data.valid_until - data.valid_from > MAX_WINDOW:
        errors["valid_until"] = [_("有效期不能超过31天；长期血透等请按周期分次开具")]
    elif data.valid_until <= timezone.now():
        errors["valid_until"] = [_("结束时间已过")]
    if len(data.companion_name) > 32:
        errors["companion_name"] = [_("陪同人姓名不能超过32个字")]
    phone = data.companion_phone.strip()
    if phone:
        checked = check_mobile(phone)
        if checked.errors:
            errors["companion_phone"] = list(checked.errors)
        else:
            phone = checked.value
    if len(data.note) > 200:
        errors["note"] = [_("备注不能超过200个字")]
    if data.ticket is not None and data.ticket.community_id != data.resident.household.community_id:
        errors["ticket"] = [_("工单与居民不在同一社区")]
    if errors:
        raise ValidationError(errors)
    return phone


def pass_issue(*, actor: User, data: PassInput) -> MedicalPass:
    """A pass with a fresh unguessable code (retried on the rare collision)."""
    if not access.can_issue(actor):
        raise PermissionDenied(_("您的角色无权开具外出就医证明"))
    phone = _check(data)
    household = data.resident.household
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return MedicalPass.objects.create(
                    community_id=household.community_id,
                    resident=data.resident,
                    household=household,
                    grid_id=household.grid_id,
                    ticket=data.ticket,
                    code=new_code(),
                    reason=data.reason,
                    destination=data.destination.strip(),
                    companion_name=data.companion_name.strip(),
                    companion_phone=phone,
                    note=data.note.strip(),
                    valid_from=data.valid_from,
                    valid_until=data.valid_until,
                    issued_by=actor,
                )
        except IntegrityError:
            continue
    raise ValidationError({"code": [_("生成证明编码失败，请重试")]})


@transaction.atomic
def pass_revoke(*, actor: User, medical_pass: MedicalPass, reason: str) -> MedicalPass:
    if not access.can_issue(actor):
        raise PermissionDenied(_("您的角色无权作废证明"))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写作废原因")]})
    if len(reason) > 200:
        raise ValidationError({"reason": [_("作废原因不能超过200个字")]})
    with scopes_disabled():
        locked = MedicalPass.objects.select_for_update().get(pk=medical_pass.pk)
    if locked.status == PassStatus.REVOKED:
        raise ValidationError({"status": [_("该证明已作废")]})
    locked.status = PassStatus.REVOKED
    locked.revoked_at = timezone.now()
    locked.revoked_by = actor
    locked.revoke_reason = reason
    locked.save(update_fields=["status", "revoked_at", "revoked_by", "revoke_reason"])
    return locked


@dataclass(frozen=True)
class Verification:
    result: str
    medical_pass: MedicalPass | None  # None unless the pass is of the checker's community
    log: PassVerification

    @property
    def is_valid(self) -> bool:
        return self.result == VerifyResult.VALID


@transaction.atomic
def pass_verify(*, actor: User, presented: str, via: str) -> Verification:
    """Check a typed code or a scanned QR payload, and log the check whatever it shows.

    A QR whose signature fails, or a code no pass has, is "unknown" (forged); a pass of a
    community outside the checker's area shows nothing about its holder."""
    if not access.can_verify(actor):
        raise PermissionDenied(_("您的角色无权核验证明"))
    if via not in VerifyVia.values:
        raise ValidationError({"via": [_("无效的核验方式")]})
    presented = presented.strip()[:200]
    code = unsign_code(presented) if via == VerifyVia.QR else normalise_code(presented)
    with scopes_disabled():
        found = MedicalPass.objects.select_related("resident").filter(code=code).first()
    communities = access.verifier_communities(actor)
    if found is None:
        result: str = VerifyResult.UNKNOWN
    elif communities is not None and found.community_id not in communities:
        result = VerifyResult.OTHER_COMMUNITY
    else:
        result = found.state_at(timezone.now())
    shown = found if found is not None and result != VerifyResult.OTHER_COMMUNITY else None
    log = PassVerification.objects.create(
        medical_pass=found,
        community_id=communities[0] if communities else None,
        presented=(code or presented)[:64],
        via=via,
        result=result,
        checked_by=actor,
    )
    return Verification(result=result, medical_pass=shown, log=log)
