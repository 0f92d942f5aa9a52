"""Top-level URLs: pages per app, the REST API under /api/v1/, and the admin."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from linli.api import api
from linli.registry.views import home

urlpatterns = [
    path("", home.home, name="home"),
    path("", include("linli.accounts.urls")),
    path("", include("linli.registry.urls")),
    path("", include("linli.workforce.urls")),
    path("", include("linli.checkpoints.urls")),
    path("", include("linli.notify.urls")),
    path("", include("linli.supply.urls")),
    path("", include("linli.triage.urls")),
    path("", include("linli.hotline.urls")),
    path("", include("linli.care.urls")),
    path("", include("linli.passes.urls")),
    path("", include("linli.campaigns.urls")),
    path("", include("linli.wishes.urls")),
    path("", include("linli.meals.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
