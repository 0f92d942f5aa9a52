from __future__ import annotations

from django.urls import URLPattern, path

from linli.triage import views

app_name = "triage"

urlpatterns: list[URLPattern] = [
    path("triage/rules/", views.rule_list, name="rules"),
    path("triage/rules/new/", views.rule_new, name="rule_new"),
    path("triage/rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("triage/rules/<int:pk>/enabled/", views.rule_enabled, name="rule_enabled"),
    path("triage/rules/<int:pk>/override/", views.rule_override, name="rule_override"),
    path("triage/rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("triage/try/", views.try_text, name="try"),
]
