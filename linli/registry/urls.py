from __future__ import annotations

from django.urls import URLPattern, path

from linli.registry.views import grids, imports, places, residents, sms_login

app_name = "registry"

urlpatterns: list[URLPattern] = [
    path("login/sms/", sms_login.sms_login, name="sms_login"),
    path("places/", places.place_list, name="place_list"),
    path("places/buildings/<int:pk>/", places.building_detail, name="building_detail"),
    path("places/units/<int:pk>/", places.unit_detail, name="unit_detail"),
    path("households/<int:pk>/", places.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", places.household_edit, name="household_edit"),
    path("units/<int:pk>/households/new/", places.household_new, name="household_new"),
    path("grids/", grids.grid_list, name="grid_list"),
    path("grids/<int:pk>/edit/", grids.grid_edit, name="grid_edit"),
    path("communities/<str:code>/grids/new/", grids.grid_new, name="grid_new"),
    path("residents/", residents.resident_list, name="resident_list"),
    path("residents/<int:pk>/", residents.resident_detail, name="resident_detail"),
    path("residents/<int:pk>/edit/", residents.resident_edit, name="resident_edit"),
    path("residents/<int:pk>/care/", residents.care_edit, name="care_edit"),
    path("residents/<int:pk>/reveal/", residents.resident_reveal, name="resident_reveal"),
    path("households/<int:pk>/residents/new/", residents.resident_new, name="resident_new"),
    path("register/", residents.register, name="register"),
    path("register/export.xlsx", imports.register_export, name="register_export"),
    path("import/", imports.import_upload, name="import_upload"),
    path("import/template.xlsx", imports.import_template, name="import_template"),
    path("import/<str:token>/", imports.import_preview, name="import_preview"),
    path("imports/", imports.import_list, name="import_list"),
    path("imports/<int:pk>/undo/", imports.import_undo, name="import_undo"),
]
