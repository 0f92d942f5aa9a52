"""Staff pages for teams (临时党支部 / 志愿服务队): the list with hours, new and edit."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.registry.access import (
    get_community_for,
    request_user,
    require,
    visible_communities,
)
from linli.registry.forms import add_action_errors
from linli.registry.models import Building, Community
from linli.workforce import actions
from linli.workforce.access import (
    can_dispatch,
    can_manage_volunteers,
    get_team_for,
    visible_tasks,
    visible_teams,
)
from linli.workforce.choices import VolunteerStatus
from linli.workforce.figures import hours_by_team
from linli.workforce.forms import TeamForm
from linli.workforce.models import Team

# Accounts that work in a community and may join its teams beside its volunteers.
STAFF_ROLES = (
    Role.COMMUNITY_STAFF,
    Role.GRID_WORKER,
    Role.HOTLINE_OPERATOR,
    Role.CHECKPOINT_KEEPER,
)


def team_candidates(community: Community, team: Team | None = None) -> QuerySet[User]:
    """Verified volunteers' accounts and staff accounts of the community (and current members,
    so that editing a team never drops someone silently)."""
    works_here = (
        Q(volunteer__community=community, volunteer__status=VolunteerStatus.VERIFIED)
        | Q(role__in=STAFF_ROLES, area__community=community)
        | Q(role=Role.GRID_WORKER, grids__community=community)
    )
    chosen = Q(is_active=True) & works_here
    if team is not None and team.pk:
        chosen |= Q(teams=team) | Q(pk=team.leader_id or 0)
    return User.objects.filter(chosen).distinct().order_by("display_name", "username")


@require(can_dispatch)
def team_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    teams = (
        visible_teams(user)
        .annotate(member_count=Count("members", distinct=True))
        .prefetch_related("buildings__compound")
        .order_by("community__code", "name")
    )
    hours = {row.id: row for row in hours_by_team(visible_teams(user), visible_tasks(user))}
    rows = [(team, hours.get(team.pk)) for team in teams]
    communities = list(visible_communities(user)) if can_manage_volunteers(user) else []
    context = {"rows": rows, "can_manage": can_manage_volunteers(user), "communities": communities}
    return render(request, "workforce/team_list.html", context)


def _save(request: HttpRequest, community: Community, team: Team | None) -> HttpResponse:
    user = request_user(request)
    initial = {}
    if team is not None:
        initial = {
            "name": team.name,
            "kind": team.kind,
            "leader": team.leader_id,
            "members": list(team.members.values_list("pk", flat=True)),
            "buildings": list(team.buildings.values_list("pk", flat=True)),
        }
    buildings = (
        Building.objects.filter(compound__community=community)
        .select_related("compound")
        .order_by("compound__name", "sort_key", "name")
    )
    form = TeamForm(
        request.POST or None,
        initial=initial,
        people=team_candidates(community, team),
        buildings=buildings,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = actions.team_save(
                actor=user,
                community=community,
                name=data["name"],
                kind=data["kind"],
                leader=data["leader"],
                members=list(data["members"]),
                buildings=list(data["buildings"]),
                team=team,
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("队伍“%(name)s”已保存") % {"name": saved.name})
            return redirect("workforce:team_list")
    context = {"form": form, "team": team, "community": community}
    status = 400 if request.method == "POST" else 200
    return render(request, "workforce/team_form.html", context, status=status)


@require(can_manage_volunteers)
def team_new(request: HttpRequest) -> HttpResponse:
    """A team of one community: the user's own, or the one chosen (?community=<code>)."""
    user = request_user(request)
    code = request.GET.get("community", "")
    if code:
        return _save(request, get_community_for(user, code), None)
    communities = list(visible_communities(user).order_by("code")[:2])
    if len(communities) == 1:
        return _save(request, communities[0], None)
    return render(
        request,
        "workforce/team_pick_community.html",
        {"communities": visible_communities(user).order_by("code")},
    )


@require(can_manage_volunteers)
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_team_for(request_user(request), pk)
    return _save(request, team.community, team)
