"""Volunteers sign in with their mobile number and password at the ordinary login page.

Their accounts have generated usernames ("vol-…"); the number is stored encrypted, so it
is found through its blind index. Only the plain 11-digit form is accepted: django-axes
counts failures per typed username, and letting "138 1234 8000" and "13812348000" both
reach one account would give an attacker a fresh set of attempts per spelling.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scopes_disabled

from linli.accounts.models import User
from linli.lib.encryption import blind_index
from linli.workforce.choices import VolunteerStatus
from linli.workforce.models import Volunteer

MOBILE = re.compile(r"1\d{10}")

# Why a volunteer with the right password may not sign in yet, by status.
REFUSALS = {
    VolunteerStatus.PENDING: gettext_lazy("账号待社区审核，审核通过后即可登录"),
    VolunteerStatus.REJECTED: gettext_lazy("报名未通过社区审核，如有疑问请联系社区"),
    VolunteerStatus.SUSPENDED: gettext_lazy("志愿者账号已暂停，请联系社区"),
}


class VolunteerPhoneBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or not password or not MOBILE.fullmatch(username):
            return None
        volunteer = self._volunteer(username)
        if volunteer is None:
            # As ModelBackend does: hash anyway, so timing does not tell who signed up.
            User().set_password(password)
            return None
        user = volunteer.user
        if not user.check_password(password):
            return None
        if not self.user_can_authenticate(user):
            # Only someone who knows the password learns why; strangers see the usual
            # "wrong phone or password". The login view shows this in place of it.
            if request is not None:
                request.login_refusal = str(  # type: ignore[attr-defined]
                    REFUSALS.get(VolunteerStatus(volunteer.status), _("账号已停用，请联系社区"))
                )
            return None
        return user

    def _volunteer(self, phone: str) -> Volunteer | None:
        # Signing in happens before the request has a user, hence before any scope.
        with scopes_disabled():
            matches = list(
                Volunteer.objects.select_related("user").filter(
                    phone_index=blind_index(phone, purpose="volunteer_phone")
                )
            )
        # A rejected sign-up may stand beside a newer one with the same number.
        matches.sort(key=lambda v: (v.status == VolunteerStatus.REJECTED, -v.pk))
        return matches[0] if matches else None
