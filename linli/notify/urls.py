from __future__ import annotations

from django.urls import URLPattern, path

from linli.notify import views

app_name = "notify"

urlpatterns: list[URLPattern] = [
    path("messages/", views.message_log, name="message_log"),
]
