"""Back-office admin for places and people; personal numbers show masked and stay read-only."""

from __future__ import annotations

from django.contrib import admin

from linli.registry import models


@admin.register(models.Street)
class StreetAdmin(admin.ModelAdmin[models.Street]):
    list_display = ["name", "code"]


@admin.register(models.Community)
class CommunityAdmin(admin.ModelAdmin[models.Community]):
    list_display = ["name", "code", "street"]
    list_select_related = ["street"]


@admin.register(models.Grid)
class GridAdmin(admin.ModelAdmin[models.Grid]):
    list_display = ["name", "code", "community"]
    list_select_related = ["community"]
    filter_horizontal = ["workers"]


@admin.register(models.Compound)
class CompoundAdmin(admin.ModelAdmin[models.Compound]):
    list_display = ["name", "community"]
    list_select_related = ["community"]


@admin.register(models.Gate)
class GateAdmin(admin.ModelAdmin[models.Gate]):
    list_display = ["name", "compound"]
    list_select_related = ["compound"]


@admin.register(models.Building)
class BuildingAdmin(admin.ModelAdmin[models.Building]):
    list_display = ["name", "compound", "grid"]
    list_select_related = ["compound", "grid"]
    # Grid coverage is changed through the pages or API (it recomputes households' grids).
    readonly_fields = ["grid"]


@admin.register(models.Unit)
class UnitAdmin(admin.ModelAdmin[models.Unit]):
    list_display = ["name", "building", "grid"]
    list_select_related = ["building__compound", "grid"]
    readonly_fields = ["grid"]


@admin.register(models.Household)
class HouseholdAdmin(admin.ModelAdmin[models.Household]):
    list_display = ["address", "grid"]
    list_select_related = ["grid"]
    search_fields = ["address"]
    readonly_fields = ["unit", "address", "community", "grid"]


@admin.register(models.Resident)
class ResidentAdmin(admin.ModelAdmin[models.Resident]):
    list_display = ["name", "masked_id_number", "masked_phone", "household", "living_status"]
    list_select_related = ["household"]
    search_fields = ["name", "name_search", "household__address"]
    exclude = ["id_number", "phone"]
    readonly_fields = ["household", "masked_id_number", "masked_phone", "user"]


@admin.register(models.UserArea)
class UserAreaAdmin(admin.ModelAdmin[models.UserArea]):
    list_display = ["user", "street", "community"]
    list_select_related = ["user", "street", "community"]
