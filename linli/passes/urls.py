from __future__ import annotations

from django.urls import URLPattern, path

from linli.passes import views

app_name = "passes"

urlpatterns: list[URLPattern] = [
    path("passes/", views.pass_list, name="list"),
    path("passes/new/", views.pass_new, name="new"),
    path("passes/verify/", views.verify, name="verify"),
    path("passes/v/<str:signed>/", views.verify_qr, name="verify_qr"),
    path("passes/<int:pk>/", views.pass_detail, name="detail"),
    path("passes/<int:pk>/pdf/", views.pass_pdf, name="pdf"),
    path("passes/<int:pk>/revoke/", views.pass_revoke, name="revoke"),
]
