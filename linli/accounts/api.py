"""The API's sign-in: bearer tokens issued for a username and password, and revoked."""

from __future__ import annotations

from axes.helpers import get_cool_off
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer

from linli.accounts.models import ApiToken, User
from linli.lib.rest import ERRORS, ErrorOut, InputSchema


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`.

    TokenAuthMiddleware has already signed the request in (so that the data scope is the
    token's user); this checks that it was the token, not a session cookie, that did it.
    """

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = request.user
        if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
            return None
        if getattr(request, "bearer_user_id", None) == user.pk:
            return user  # this token signed the request in (TokenAuthMiddleware)
        issued = ApiToken.objects.filter(
            key_hash=ApiToken.hash(token), user=user, revoked_at__isnull=True
        )
        return user if issued.exists() else None


bearer = BearerToken()


def api_user(request: HttpRequest) -> User:
    """The user the bearer token belongs to (operations without auth have none)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise AuthenticationError()
    return user


router = Router(tags=["账号"])


class TokenIn(InputSchema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=4096)


class TokenOut(Schema):
    token: str = Field(description="放在请求头 Authorization: Bearer <token> 中")
    token_type: str = "Bearer"  # noqa: S105


@router.post(
    "/auth/token", auth=None, response={200: TokenOut, frozenset({400, 401, 429}): ErrorOut}
)
def token_issue(request: HttpRequest, payload: TokenIn) -> TokenOut:
    """Sign in with a username and password; failures count towards the lockout."""
    user = authenticate(request=request, username=payload.username, password=payload.password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            # Answered here in JSON: left set, AxesMiddleware would swap in the HTML page.
            request.axes_locked_out = False  # type: ignore[attr-defined]
            cool_off = get_cool_off(request)
            if cool_off is None:
                raise HttpError(429, _("登录失败次数过多，账号已锁定，请联系管理员解锁"))
            minutes = max(1, round(cool_off.total_seconds() / 60))
            raise HttpError(
                429,
                _("登录失败次数过多，账号已暂时锁定，请 %(minutes)d 分钟后再试")
                % {"minutes": minutes},
            )
        raise HttpError(401, _("用户名或密码错误"))
    assert isinstance(user, User)  # noqa: S101
    # Records the sign-in (last_login, the axes access log) and clears earlier failures.
    user_logged_in.send(sender=User, request=request, user=user)
    return TokenOut(token=ApiToken.issue(user))


@router.delete("/auth/token", response={204: None, **ERRORS})
def token_revoke(request: HttpRequest) -> Status[None]:
    """Revoke the token this request was signed with."""
    api_user(request)
    raw = request.headers.get("Authorization", "").partition(" ")[2].strip()
    ApiToken.objects.filter(key_hash=ApiToken.hash(raw), revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    return Status(204, None)
