"""Request wrappers: bearer tokens for the API, idle logout, and the data scope of the user."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from linli.accounts.models import ApiToken

Handler = Callable[[HttpRequest], HttpResponse]


class TokenAuthMiddleware:
    """`Authorization: Bearer <token>` signs in API requests (no session, no cookie)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and request.path.startswith("/api/"):
            user = ApiToken.objects.authenticate(header[7:].strip())
            if user is not None:
                request.user = user
                request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
                # The API's bearer check need not look the token up a second time.
                request.bearer_user_id = user.pk  # type: ignore[attr-defined]
        return self.get_response(request)


class IdleLogoutMiddleware:
    """Signs a session out after IDLE_LOGOUT_SECONDS without a request: offices share screens."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not request.path.startswith("/api/"):
            now = int(time.time())
            last = request.session.get("last_seen")
            if last is not None and now - int(last) > settings.IDLE_LOGOUT_SECONDS:
                logout(request)
                request.session["idle_logged_out"] = True
            else:
                request.session["last_seen"] = now
        return self.get_response(request)


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Chinese unless the user chose otherwise with the language switch.

    Django's LocaleMiddleware also follows the browser's Accept-Language, so a phone set
    to English would get English pages unasked; community workers expect Chinese.
    """

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
