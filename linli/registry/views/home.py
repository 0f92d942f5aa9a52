"""The home page: what each role needs first when they sign in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.registry.access import can_see_people, request_user, visible_grids
from linli.registry.choices import CareTag
from linli.registry.models import CareTagAssignment, Household, Resident


def _people_summary(user: User) -> dict[str, Any]:
    grids = list(
        visible_grids(user)
        .select_related("community")
        .annotate(
            household_count=Count("households", distinct=True),
            resident_count=Count("households__residents", distinct=True),
        )
    )
    tag_counts = dict(
        CareTagAssignment.objects.values_list("tag").annotate(n=Count("resident", distinct=True))
    )
    return {
        "grids": grids,
        "household_total": Household.objects.count(),
        "resident_total": Resident.objects.count(),
        "register_total": Resident.objects.on_register().count(),
        "ungridded": Household.objects.filter(grid__isnull=True).count()
        if user.role != Role.GRID_WORKER
        else 0,
        "tag_counts": [(tag, label, tag_counts.get(tag, 0)) for tag, label in CareTag.choices],
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    # Field roles work from their own start page (their app's URL, named, not imported).
    if user.role == Role.VOLUNTEER:
        return redirect("workforce:mine")
    if user.role == Role.CHECKPOINT_KEEPER:
        return redirect("checkpoints:goods_held")
    context: dict[str, Any] = {"role": user.role}
    if can_see_people(user):
        context.update(_people_summary(user))
    elif user.role == Role.RESIDENT:
        context["households"] = Household.objects.prefetch_related("residents").filter(
            Q(residents__user=user)
        )
    return render(request, "registry/home.html", context)
