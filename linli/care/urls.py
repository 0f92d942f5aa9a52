from __future__ import annotations

from django.urls import URLPattern, path

from linli.care.views import coverage, plans, worklist

app_name = "care"

urlpatterns: list[URLPattern] = [
    path("care/worklist/", worklist.worklist, name="worklist"),
    path("care/check-ins/<int:pk>/", worklist.check_in_detail, name="check_in_detail"),
    path("care/check-ins/<int:pk>/outcome/", worklist.check_in_outcome, name="check_in_outcome"),
    path("care/check-ins/<int:pk>/undo/", worklist.check_in_undo, name="check_in_undo"),
    path("care/check-ins/<int:pk>/escalate/", worklist.check_in_escalate, name="check_in_escalate"),
    path("care/check-ins/<int:pk>/phone/", worklist.check_in_reveal, name="check_in_reveal"),
    path("care/plans/", plans.plan_list, name="plan_list"),
    path("care/plans/bulk/", plans.plan_bulk, name="plan_bulk"),
    path("care/plans/<int:pk>/pause/", plans.plan_pause, name="plan_pause"),
    path("care/plans/<int:pk>/resume/", plans.plan_resume, name="plan_resume"),
    path("care/residents/<int:pk>/", plans.resident_plan, name="resident_plan"),
    path("care/residents/<int:pk>/request/", plans.resident_request, name="resident_request"),
    path("care/coverage/", coverage.coverage_page, name="coverage"),
    path("care/coverage/export.xlsx", coverage.coverage_export, name="coverage_export"),
    path("care/settings/<str:code>/", plans.care_settings, name="settings"),
]
