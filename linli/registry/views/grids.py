"""Grids: which buildings each covers and who works it (community staff keep this up to date)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from linli.registry import actions
from linli.registry.access import (
    can_edit_places,
    can_see_people,
    get_community_for,
    request_user,
    require,
    visible_communities,
    visible_grids,
)
from linli.registry.forms import GridForm, add_action_errors
from linli.registry.models import Building, Community, Grid


@require(can_see_people)
def grid_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    grids = (
        visible_grids(user)
        .select_related("community")
        .prefetch_related("workers")
        .annotate(building_count=Count("buildings", distinct=True))
        .order_by("community__code", "code")
    )
    return render(
        request,
        "registry/grid_list.html",
        {
            "grids": grids,
            "can_edit": can_edit_places(user),
            "communities": visible_communities(user),
        },
    )


def _save(request: HttpRequest, community: Community, grid: Grid | None) -> HttpResponse:
    user = request_user(request)
    initial = {}
    if grid is not None:
        initial = {
            "name": grid.name,
            "code": grid.code,
            "workers": list(grid.workers.all()),
            "buildings": list(Building.objects.filter(grid=grid)),
        }
    form = GridForm(request.POST or None, initial=initial, community=community)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        target = grid or Grid(community=community)
        target.name, target.code = data["name"], data["code"]
        try:
            target.full_clean()
            actions.grid_save(
                actor=user, grid=target, workers=data["workers"], buildings=data["buildings"]
            )
        except ValidationError as e:
            add_action_errors(form, e)
        except IntegrityError:
            form.add_error("code", _("本社区已有该编码的网格"))
        else:
            messages.success(request, _("网格“%(name)s”已保存") % {"name": target.name})
            return redirect("registry:grid_list")
    context = {"form": form, "grid": grid, "community": community}
    status = 400 if request.method == "POST" else 200
    return render(request, "registry/grid_form.html", context, status=status)


@require(can_edit_places)
def grid_new(request: HttpRequest, code: str) -> HttpResponse:
    community = get_community_for(request_user(request), code)
    return _save(request, community, None)


@require(can_edit_places)
def grid_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    grid = visible_grids(user).filter(pk=pk).select_related("community").first()
    if grid is None:
        raise Http404(_("未找到，或不在您的管辖范围内"))
    return _save(request, grid.community, grid)
