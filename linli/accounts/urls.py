from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, path

from linli.accounts import views

urlpatterns: list[URLPattern] = [
    path("login/", views.LinliLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        views.LinliPasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_done.html"),
        name="password_change_done",
    ),
]
