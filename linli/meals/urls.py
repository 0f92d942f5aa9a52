from __future__ import annotations

from django.urls import URLPattern, path

from linli.meals import views

app_name = "meals"

urlpatterns: list[URLPattern] = [
    path("meals/", views.home, name="home"),
    path("meals/policy/<str:code>/", views.policy_edit, name="policy_edit"),
    path("meals/eligible/", views.eligible, name="eligible"),
    path("meals/applications/", views.application_list, name="application_list"),
    path("meals/applications/new/", views.application_new, name="application_new"),
    path(
        "meals/applications/<int:pk>/decide/",
        views.application_decide,
        name="application_decide",
    ),
    path("meals/canteens/", views.canteen_list, name="canteen_list"),
    path("meals/canteens/new/", views.canteen_new, name="canteen_new"),
    path("meals/canteens/<int:pk>/", views.canteen_edit, name="canteen_edit"),
    path("meals/enrolments/", views.enrolment_list, name="enrolment_list"),
    path("meals/enrolments/new/", views.enrolment_new, name="enrolment_new"),
    path("meals/enrolments/<int:pk>/", views.enrolment_edit, name="enrolment_edit"),
    path("meals/enrolments/<int:pk>/end/", views.enrolment_end, name="enrolment_end"),
    path("meals/daily/", views.daily, name="daily"),
    path("meals/daily/<int:pk>/<str:day>.pdf", views.daily_pdf, name="daily_pdf"),
    path("meals/daily/<int:pk>/tasks/", views.daily_tasks, name="daily_tasks"),
    path("meals/daily/<int:pk>/record/", views.daily_record, name="daily_record"),
    path("meals/daily/<int:pk>/rest/", views.daily_rest, name="daily_rest"),
    path("meals/daily/<int:pk>/from-tasks/", views.daily_from_tasks, name="daily_from_tasks"),
    path("meals/figures/", views.figures, name="figures"),
    path("meals/figures/export.xlsx", views.figures_export, name="figures_export"),
]
