"""外出就医证明 in the REST API (errors: linli/api.py): issue, list, revoke, verify."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.api import api_user
from linli.accounts.models import User
from linli.hotline.access import get_ticket_for
from linli.lib import rest
from linli.lib.rest import ERRORS, InputSchema, Page, PageQuery, aware, local_time, page_of
from linli.passes import access, actions
from linli.passes.choices import PassReason, PassStatus, VerifyResult, VerifyVia
from linli.passes.models import MedicalPass
from linli.registry.access import get_resident_for

router = Router(tags=["外出就医证明"])


def _issuer(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_issue(user), _("您的角色无权开具或查看外出就医证明"))
    return user


class PassOut(Schema):
    id: int
    code: str
    qr_payload: str = Field(description="二维码内容（签名后的编码）；扫码打开 /passes/v/<此值>/")
    community: str
    resident_id: int
    resident_name: str = Field(description="居民姓名（已脱敏）")
    reason: PassReason
    destination: str
    companion_name: str
    companion_phone: str = Field(description="陪同人电话（已脱敏）")
    note: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    status: PassStatus
    state_now: VerifyResult = Field(description="此刻在本社区卡口核验的结果")
    ticket_id: int | None
    issued_at: dt.datetime
    issued_by: str
    revoked_at: dt.datetime | None
    revoked_by: str
    revoke_reason: str


def _name(user: User | None) -> str:
    return (user.display_name or user.username) if user else ""


def _out(p: MedicalPass) -> PassOut:
    return PassOut(
        id=p.pk,
        code=p.code,
        qr_payload=p.qr_payload,
        community=p.community.code,
        resident_id=p.resident_id,
        resident_name=p.masked_name,
        reason=PassReason(p.reason),
        destination=p.destination,
        companion_name=p.companion_name,
        companion_phone=p.masked_companion_phone,
        note=p.note,
        valid_from=timezone.localtime(p.valid_from),
        valid_until=timezone.localtime(p.valid_until),
        status=PassStatus(p.status),
        state_now=VerifyResult(p.state_at(timezone.now())),
        ticket_id=p.ticket_id,
        issued_at=timezone.localtime(p.issued_at),
        issued_by=_name(p.issued_by),
        revoked_at=local_time(p.revoked_at),
        revoked_by=_name(p.revoked_by),
        revoke_reason=p.revoke_reason,
    )


class PassListQuery(PageQuery):
    status: PassStatus | None = None
    resident_id: int | None = None


@router.get("/passes", response={200: Page[PassOut], **ERRORS})
def pass_list(request: HttpRequest, query: Query[PassListQuery]) -> Page[PassOut]:
    """Passes of the residents in your area, newest first."""
    user = _issuer(request)
    passes = access.visible_passes(user)
    if query.status is not None:
        passes = passes.filter(status=query.status.value)
    if query.resident_id is not None:
        passes = passes.filter(resident_id=query.resident_id)
    return page_of(passes, query, _out)


REASON_HELP = "外出事由：" + "、".join(f"{r.value}（{r.label}）" for r in PassReason)


class PassIn(InputSchema):
    resident_id: int
    # A plain string checked by the action: a schema enum would list its values in the 400
    # that any role gets before the role check.
    reason: str = Field(max_length=24, description=REASON_HELP)
    destination: str = Field(min_length=1, max_length=120)
    valid_from: dt.datetime = Field(description="无时区时按北京时间")
    valid_until: dt.datetime
    companion_name: str = Field("", max_length=32)
    companion_phone: str = Field("", max_length=20)
    note: str = Field("", max_length=200)
    ticket_id: int | None = None


@router.post("/passes", response={201: PassOut, **ERRORS})
def pass_issue(request: HttpRequest, payload: PassIn) -> Status[PassOut]:
    """Issue a pass for a resident in your area (optionally from a ticket)."""
    user = _issuer(request)
    resident = get_resident_for(user, payload.resident_id)
    ticket = get_ticket_for(user, payload.ticket_id) if payload.ticket_id else None
    issued = actions.pass_issue(
        actor=user,
        data=actions.PassInput(
            resident=resident,
            reason=payload.reason,
            destination=payload.destination,
            valid_from=aware(payload.valid_from),
            valid_until=aware(payload.valid_until),
            companion_name=payload.companion_name,
            companion_phone=payload.companion_phone,
            note=payload.note,
            ticket=ticket,
        ),
    )
    return Status(201, _out(access.get_pass_for(user, issued.pk)))


class VerifyIn(InputSchema):
    code: str | None = Field(None, max_length=32, description="证明上的8位编码")
    qr: str | None = Field(None, max_length=200, description="扫描二维码得到的签名内容")


class VerifyOut(Schema):
    result: VerifyResult
    result_label: str
    valid: bool
    resident_name: str = Field(description="居民姓名（已脱敏）；非本社区或无效时为空")
    destination: str
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    code: str


@router.post("/passes/verify", response={200: VerifyOut, **ERRORS})
def pass_verify(request: HttpRequest, payload: VerifyIn) -> VerifyOut:
    """A checkpoint's check of a code or a QR; every check is logged."""
    user = api_user(request)
    rest.require(access.can_verify(user), _("您的角色无权核验证明"))
    if bool(payload.code) == bool(payload.qr):
        raise ValidationError({"code": [_("请填写编码或二维码内容（二选一）")]})
    via = VerifyVia.QR if payload.qr else VerifyVia.CODE
    found = actions.pass_verify(actor=user, presented=payload.qr or payload.code or "", via=via)
    p = found.medical_pass
    return VerifyOut(
        result=VerifyResult(found.result),
        result_label=str(VerifyResult(found.result).label),
        valid=found.is_valid,
        resident_name=p.masked_name if p else "",
        destination=p.destination if p else "",
        valid_from=local_time(p.valid_from) if p else None,
        valid_until=local_time(p.valid_until) if p else None,
        code=p.code if p else "",
    )


@router.get("/passes/{pass_id}", response={200: PassOut, **ERRORS})
def pass_detail(request: HttpRequest, pass_id: int) -> PassOut:
    return _out(access.get_pass_for(_issuer(request), pass_id))


class RevokeIn(InputSchema):
    reason: str = Field(min_length=1, max_length=200)


@router.post("/passes/{pass_id}/revoke", response={200: PassOut, **ERRORS})
def pass_revoke(request: HttpRequest, pass_id: int, payload: RevokeIn) -> PassOut:
    """Revoke a pass (kept, with who, when and why; checkpoints then see 已作废)."""
    user = _issuer(request)
    medical_pass = access.get_pass_for(user, pass_id)
    actions.pass_revoke(actor=user, medical_pass=medical_pass, reason=payload.reason)
    return _out(access.get_pass_for(user, pass_id))


class VerificationOut(Schema):
    checked_at: dt.datetime
    checked_by: str
    via: VerifyVia
    result: VerifyResult


@router.get("/passes/{pass_id}/verifications", response={200: list[VerificationOut], **ERRORS})
def pass_verifications(request: HttpRequest, pass_id: int) -> list[VerificationOut]:
    """Every check of this pass: who, when, how, and what it showed."""
    user = _issuer(request)
    medical_pass = access.get_pass_for(user, pass_id)
    return [
        VerificationOut(
            checked_at=timezone.localtime(v.checked_at),
            checked_by=_name(v.checked_by),
            via=VerifyVia(v.via),
            result=VerifyResult(v.result),
        )
        for v in access.visible_verifications(user, medical_pass)[:500]
    ]
