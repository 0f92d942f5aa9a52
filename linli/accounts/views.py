"""Login and logout (the home page of each role is the registry's, see linli/urls.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class LinliLoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.session.pop("idle_logged_out", False):
            messages.warning(request, _("长时间未操作，已自动退出，请重新登录。"))
        return super().get(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        # A backend that recognised the password of an account not yet allowed in (a
        # volunteer awaiting review) says why in place of "wrong username or password".
        refusal = getattr(self.request, "login_refusal", "")
        if refusal:
            form.errors[NON_FIELD_ERRORS] = form.error_class([refusal])
        return super().form_invalid(form)


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Too many searches or exports in a short time: 429, in Chinese, as page or JSON."""
    message = _("操作过于频繁，请稍后再试。")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "errors": []}, status=429)
    return render(request, "429.html", {"message": message}, status=429)


class LinliPasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = "/password/done/"

    def form_invalid(self, form: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)
