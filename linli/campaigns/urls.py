from __future__ import annotations

from django.urls import URLPattern, path

from linli.campaigns import views

app_name = "campaigns"

urlpatterns: list[URLPattern] = [
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/rounds/new/", views.round_create, name="round_create"),
    path("campaigns/<int:pk>/points/new/", views.point_create, name="point_create"),
    path("campaigns/points/<int:pk>/edit/", views.point_edit, name="point_edit"),
    path("campaigns/<int:pk>/exemptions/new/", views.exemption_new, name="exemption_new"),
    path("campaigns/exemptions/<int:pk>/", views.exemption_edit, name="exemption_edit"),
    path("campaigns/exemptions/<int:pk>/revoke/", views.exemption_revoke, name="exemption_revoke"),
    path("campaigns/rounds/<int:pk>/", views.round_detail, name="round_detail"),
    path("campaigns/rounds/<int:pk>/completion/", views.round_completion, name="round_completion"),
    path("campaigns/rounds/<int:pk>/import/", views.round_import, name="round_import"),
    path("campaigns/rounds/<int:pk>/rematch/", views.round_rematch, name="round_rematch"),
    path("campaigns/rounds/<int:pk>/sweep/", views.sweep, name="sweep"),
    path("campaigns/rounds/<int:pk>/sweep.pdf", views.sweep_pdf, name="sweep_pdf"),
    path("campaigns/rounds/<int:pk>/sweep/tasks/", views.sweep_tasks, name="sweep_tasks"),
    path(
        "campaigns/rounds/<int:pk>/reveal/<int:resident_pk>/",
        views.sweep_reveal,
        name="sweep_reveal",
    ),
    path("campaigns/rounds/<int:pk>/door-service/", views.door_service, name="door_service"),
    path(
        "campaigns/rounds/<int:pk>/door-service/tasks/",
        views.door_service_tasks,
        name="door_service_tasks",
    ),
    path("campaigns/imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("campaigns/records/<int:pk>/link/", views.record_link, name="record_link"),
]
