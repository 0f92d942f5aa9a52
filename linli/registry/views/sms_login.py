"""Residents sign in with their phone number and a 6-digit code sent by SMS (/login/sms/).

The code is kept in the visitor's session, hashed, with its expiry and the tries left, so
it works only in the browser that asked for it. The number is never stored in the session,
only its blind index. Whether a number is registered is not told: the page says the same
either way, and a code is sent only to a number a resident of the registry has.

The resident's account: the one linked to the resident (role resident); if there is none,
one is made (role resident, no password) and linked. A number linked to a staff account
never signs in by code: staff accounts keep their passwords and the lockout.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.lib.encryption import blind_index
from linli.lib.identity import check_mobile
from linli.lib.limits import over_limit, over_limit_by
from linli.lib.masking import mask_phone
from linli.notify.actions import message_send
from linli.registry.choices import LivingStatus
from linli.registry.models import Resident

SESSION_KEY = "sms_login"
CODE_MINUTES = 10
MAX_TRIES = 5
MESSAGE_KIND = "login.sms_code"
# Where a resident lands after signing in, unless the page they came from asked.
DEFAULT_NEXT = "supply:my_orders"


def _hash(code: str, nonce: str, phone_index: str) -> str:
    return salted_hmac("linli.sms_login", f"{phone_index}:{nonce}:{code}").hexdigest()


def _now() -> float:
    return timezone.now().timestamp()


def _residents_with(phone_index: str) -> list[Resident]:
    # Before signing in there is no scope: the number's blind index is the whole filter.
    with scopes_disabled():
        return list(
            Resident.objects.filter(phone_index=phone_index)
            .exclude(living_status__in=[LivingStatus.MOVED_OUT, LivingStatus.DECEASED])
            .select_related("user")
            .order_by("pk")
        )


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return ""


def _render(
    request: HttpRequest, *, error: str = "", status: int = 200, phone: str = ""
) -> HttpResponse:
    state = request.session.get(SESSION_KEY)
    context: dict[str, Any] = {
        "pending": state is not None,
        "masked_phone": state["masked"] if state else "",
        "phone": phone,
        "error": error,
        "next": _next_url(request),
        "minutes": CODE_MINUTES,
    }
    return render(request, "registry/sms_login.html", context, status=status)


def sms_login(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        if request.GET.get("restart"):
            request.session.pop(SESSION_KEY, None)
        return _render(request)
    step = request.POST.get("step", "")
    if step == "send":
        return _send(request)
    if step == "verify":
        return _verify(request)
    request.session.pop(SESSION_KEY, None)
    return _render(request)


def _send(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("phone", "")
    checked = check_mobile(raw)
    if not raw.strip():
        return _render(request, error=_("手机号：请填写手机号"), status=400)
    if checked.errors:
        return _render(request, error=_("手机号：") + checked.errors[0], status=400, phone=raw)
    phone = checked.value
    phone_index = blind_index(phone, purpose="phone")
    if over_limit(request, group="sms-login-address", setting="LINLI_SMS_IP_RATE") or over_limit_by(
        request, group="sms-login-phone", setting="LINLI_SMS_PHONE_RATE", key=phone_index
    ):
        return _render(request, error=_("验证码发送过于频繁，请稍后再试"), status=429, phone=raw)
    code = f"{secrets.randbelow(1_000_000):06d}"
    nonce = secrets.token_hex(8)
    request.session[SESSION_KEY] = {
        "phone_index": phone_index,
        "masked": mask_phone(phone),
        "nonce": nonce,
        "hash": _hash(code, nonce, phone_index),
        "expires_at": _now() + CODE_MINUTES * 60,
        "tries": 0,
    }
    if _residents_with(phone_index):
        # No community on the message: the log of a community's messages must not hand
        # its staff a code that signs in as one of their residents.
        # Residents read the default language, whoever asked for the code.
        with translation.override(settings.LANGUAGE_CODE):
            body = _(
                "【邻里】您的登录验证码是 %(code)s，%(minutes)d 分钟内有效。"
                "请勿告诉他人，社区工作人员不会向您索要验证码。"
            ) % {"code": code, "minutes": CODE_MINUTES}
        message_send(kind=MESSAGE_KIND, to_phone=phone, body=body)
    return redirect(_self_url(request))


def _self_url(request: HttpRequest) -> str:
    next_url = _next_url(request)
    path = request.path
    if next_url:
        path += "?" + urlencode({"next": next_url})
    return path


def _verify(request: HttpRequest) -> HttpResponse:
    state = request.session.get(SESSION_KEY)
    if state is None:
        return _render(request, error=_("请先获取验证码"), status=400)
    code = request.POST.get("code", "").strip()
    if _now() > state["expires_at"]:
        request.session.pop(SESSION_KEY, None)
        return _render(request, error=_("验证码已过期，请重新获取"), status=400)
    if state["tries"] >= MAX_TRIES:
        request.session.pop(SESSION_KEY, None)
        return _render(request, error=_("验证码错误次数过多，请重新获取"), status=400)
    if not code:
        return _render(request, error=_("验证码：请填写短信中的 6 位验证码"), status=400)
    if not constant_time_compare(_hash(code, state["nonce"], state["phone_index"]), state["hash"]):
        state["tries"] += 1
        left = MAX_TRIES - state["tries"]
        if left <= 0:
            request.session.pop(SESSION_KEY, None)
            return _render(request, error=_("验证码错误次数过多，请重新获取"), status=400)
        request.session[SESSION_KEY] = state
        return _render(
            request,
            error=_("验证码错误，还可再试 %(left)d 次") % {"left": left},
            status=400,
        )
    request.session.pop(SESSION_KEY, None)
    try:
        user = resident_account(state["phone_index"])
    except ValidationError as e:
        return _render(request, error=e.messages[0], status=400)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(_next_url(request) or DEFAULT_NEXT)


@transaction.atomic
def resident_account(phone_index: str) -> User:
    """The resident account a verified number signs in as: the one linked to a resident
    with that number, else a new one (role resident, no password) linked to them."""
    residents = _residents_with(phone_index)
    if not residents:
        raise ValidationError(_("验证码错误，请重新获取"))
    linked = [r for r in residents if r.user is not None]
    usable = [r for r in linked if r.user and r.user.role == Role.RESIDENT and r.user.is_active]
    if usable:
        user = usable[0].user
        assert user is not None  # noqa: S101
        return user
    if linked:
        raise ValidationError(_("该手机号关联的是工作账号，请用用户名和密码登录"))
    if len({r.household_id for r in residents}) > 1:
        raise ValidationError(
            _("该手机号登记在多户名下，无法确定您的住户，请联系社区工作人员开通账号")
        )
    with scopes_disabled():
        resident = Resident.objects.select_for_update().get(pk=residents[0].pk)
        if resident.user_id is not None:  # linked meanwhile, by a second tab
            linked_user: User = User.objects.get(pk=resident.user_id)
            if linked_user.role != Role.RESIDENT or not linked_user.is_active:
                raise ValidationError(_("该手机号关联的是工作账号，请用用户名和密码登录"))
            return linked_user
        username = f"resident-{resident.pk}"
        while User.objects.filter(username=username).exists():
            username = f"resident-{resident.pk}-{secrets.token_hex(2)}"
        user = User(username=username, role=Role.RESIDENT, display_name=resident.name)
        user.set_unusable_password()
        user.save()
        resident.user = user
        resident.save(update_fields=["user"])
    return user
