"""The operator console: one page to find the caller (phone tail, name, pinyin, address),
see their household and open tickets, write the ticket with a live triage preview, override
it and dispatch it — all by keyboard (autofocus, accesskeys, Enter submits)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.hotline import actions
from linli.hotline.access import can_handle_tickets
from linli.hotline.forms import TicketForm
from linli.registry.access import (
    get_resident_for,
    request_user,
    require,
    visible_communities,
)
from linli.registry.forms import add_action_errors
from linli.registry.models import Community, Household, Resident
from linli.triage.choices import Category, Urgency

MAX_MATCHES = 20


def _owners(user: User) -> QuerySet[User]:
    """Everyone a ticket of the user's communities could go to (the action checks the grid)."""
    communities = visible_communities(user)
    return (
        User.objects.filter(
            is_active=True,
            role__in=[Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.HOTLINE_OPERATOR],
        )
        .filter(Q(area__community__in=communities) | Q(grids__community__in=communities))
        .distinct()
        .order_by("role", "username")
    )


def matches(text: str) -> list[Resident]:
    text = text.strip()
    if not text:
        return []
    return list(
        Resident.objects.search(text)
        .select_related("household")
        .with_tags()
        .order_by("household__address", "pk")[:MAX_MATCHES]
    )


def caller_context(user: User, resident_pk: str | None) -> dict[str, Any]:
    """The caller picked from the matches: their household and its open tickets."""
    if not resident_pk:
        return {"resident": None}
    resident = get_resident_for(user, resident_pk)
    household: Household = resident.household
    members = list(Resident.objects.filter(household=household).with_tags().order_by("pk"))
    return {
        "resident": resident,
        "household": household,
        "members": members,
        "open_tickets": actions.open_tickets_of(household),
    }


@require(can_handle_tickets)
def console(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    query = request.GET.get("q", "")[:64]
    caller = caller_context(user, request.GET.get("resident") or request.POST.get("resident"))
    communities = visible_communities(user).order_by("code")
    initial: dict[str, Any] = {}
    resident = caller["resident"]
    if resident is not None:
        initial = {
            "resident": resident.pk,
            "household": resident.household_id,
            "community": resident.household.community_id,
        }
    elif query.replace(" ", "").isdigit() and len(query.replace(" ", "")) >= 7:
        initial = {"caller_phone": query}
    form = TicketForm(
        request.POST or None,
        initial=initial,
        communities=communities,
        owners=_owners(user),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = actions.ticket_create(
                    user,
                    actions.TicketInput(
                        community=data["community"],
                        channel=data["channel"],
                        description=data["description"],
                        resident=resident,
                        caller_phone=data["caller_phone"],
                        caller_name=data["caller_name"],
                        category=data["category"] or None,
                        urgency=data["urgency"] or None,
                        hazard_location=data["hazard_location"],
                        hazard_parties=data["hazard_parties"],
                        owner=data["owner"],
                    ),
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(
                    request,
                    _("已登记工单 %(number)s（%(urgency)s·%(category)s），负责人：%(owner)s")
                    % {
                        "number": ticket.number,
                        "urgency": ticket.get_urgency_display(),
                        "category": ticket.get_category_display(),
                        "owner": ticket.owner or "—",
                    },
                )
                return redirect("hotline:ticket_detail", pk=ticket.pk)
    context = {
        "form": form,
        "q": query,
        "matches": matches(query) if resident is None else [],
        "preview": _preview(form.data.get("description", ""), None) if form.is_bound else None,
        **caller,
    }
    return render(request, "hotline/console.html", context, status=status)


@require(can_handle_tickets)
def lookup(request: HttpRequest) -> HttpResponse:
    """The matches for what the operator typed (HTMX, as they type)."""
    query = request.GET.get("q", "")[:64]
    return render(request, "hotline/partials/lookup.html", {"q": query, "matches": matches(query)})


def _preview(
    text: str, community: Community | None, resident: Resident | None = None
) -> dict[str, Any] | None:
    text = text.strip()[:4000]
    if not text:
        return None
    triage = actions.triage_for(text, community, resident)
    return {
        "category": Category(triage.category).label,
        "urgency": Urgency(triage.urgency).label,
        "urgency_code": triage.urgency,
        "reasons": triage.reasons,
    }


@require(can_handle_tickets)
def triage_preview(request: HttpRequest) -> HttpResponse:
    """How the text would be triaged, with the words that decide it (HTMX, as it is typed)."""
    user = request_user(request)
    community_pk = request.GET.get("community", "")
    community = (
        visible_communities(user).filter(pk=community_pk).first()
        if community_pk.isdigit()
        else None
    )
    # The caller picked on the console counts too (a register resident's need is raised).
    resident_pk = request.GET.get("resident", "")
    resident = None
    if resident_pk.isdigit():
        try:
            resident = get_resident_for(user, resident_pk)
        except Http404:
            resident = None
    preview = _preview(request.GET.get("description", ""), community, resident)
    return render(request, "hotline/partials/triage_preview.html", {"preview": preview})
