"""Drill-down through places: compounds and buildings → units → households."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from linli.registry import actions
from linli.registry.access import (
    can_edit_people,
    can_see_people,
    get_building_for,
    get_household_for,
    get_unit_for,
    request_user,
    require,
    visible_buildings,
    visible_units,
)
from linli.registry.forms import HouseholdForm, add_action_errors
from linli.registry.models import Household, Resident


@require(can_see_people)
def place_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    buildings = (
        visible_buildings(user)
        .select_related("compound__community", "grid")
        .annotate(
            household_count=Count(
                "units__households",
                filter=Q(units__households__in=Household.objects.all()),
                distinct=True,
            )
        )
        .order_by("compound__community__code", "compound__name", "sort_key", "name")
    )
    return render(request, "registry/place_list.html", {"buildings": buildings})


@require(can_see_people)
def building_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    building = get_building_for(user, pk)
    units = (
        visible_units(user)
        .filter(building=building)
        .select_related("grid")
        .annotate(
            household_count=Count(
                "households", filter=Q(households__in=Household.objects.all()), distinct=True
            ),
            resident_count=Count(
                "households__residents",
                filter=Q(households__residents__in=Resident.objects.all()),
                distinct=True,
            ),
        )
    )
    return render(request, "registry/building_detail.html", {"building": building, "units": units})


@require(can_see_people)
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    unit = get_unit_for(user, pk)
    households = Household.objects.filter(unit=unit).prefetch_related(
        Prefetch("residents", queryset=Resident.objects.with_tags())
    )
    return render(
        request,
        "registry/unit_detail.html",
        {"unit": unit, "households": households, "can_edit": can_edit_people(user)},
    )


@require(can_see_people)
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    household = get_household_for(user, pk)
    residents = Resident.objects.filter(household=household).with_tags()
    return render(
        request,
        "registry/household_detail.html",
        {"household": household, "residents": residents, "can_edit": can_edit_people(user)},
    )


@require(can_edit_people)
def household_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    unit = get_unit_for(user, pk)
    form = HouseholdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            household = actions.household_create(
                actor=user,
                unit=unit,
                room=form.cleaned_data["room"],
                notes=form.cleaned_data["notes"],
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("已新增 %(address)s") % {"address": household.address})
            return redirect("registry:household_detail", pk=household.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "registry/household_form.html", {"form": form, "unit": unit}, status=status
    )


@require(can_edit_people)
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    household = get_household_for(user, pk)
    initial = {"room": household.room, "notes": household.notes}
    form = HouseholdForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.household_update(
                actor=user,
                household=household,
                room=form.cleaned_data["room"],
                notes=form.cleaned_data["notes"],
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("已保存"))
            return redirect("registry:household_detail", pk=household.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "registry/household_form.html",
        {"form": form, "household": household, "unit": household.unit},
        status=status,
    )
