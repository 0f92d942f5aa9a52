"""Volunteer sign-up by QR: the poster community staff print, and the public page it opens."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from linli.lib.limits import limited
from linli.lib.pdf import pdf_response, render_pdf
from linli.lib.qr import qr_svg
from linli.registry.access import get_community_for, request_user, require
from linli.registry.forms import add_action_errors
from linli.registry.models import Building, Community
from linli.registry.scope import Area, activate
from linli.workforce import actions
from linli.workforce.access import can_manage_volunteers
from linli.workforce.forms import SignupForm


def _public_community(code: str) -> Community:
    """The community a poster names. Anyone may open its sign-up page, signed in or not."""
    with scopes_disabled():
        community = Community.objects.filter(code=code).first()
    if community is None:
        raise Http404(_("未找到该社区的志愿者报名页"))
    return community


def _places_of(community: Community) -> Area:
    # The visitor has no area (the middleware scoped them to nothing); the page lists the
    # community's compounds and buildings, and no household or resident.
    return Area(communities=[community.pk], grids=[], households=[])


def _buildings_url(community: Community) -> str:
    return reverse("workforce:signup_buildings", args=[community.code])


def signup(request: HttpRequest, code: str) -> HttpResponse:
    community = _public_community(code)
    if request.method == "POST":
        return _signup_post(request, community)
    with activate(_places_of(community)):
        form = SignupForm(community=community, buildings_url=_buildings_url(community))
        return render(request, "workforce/signup.html", {"form": form, "community": community})


@limited("LINLI_SIGNUP_RATE")
def _signup_post(request: HttpRequest, community: Community) -> HttpResponse:
    """Counted per address: the poster hangs in the open, the form must not be a free API."""
    with activate(_places_of(community)):
        form = SignupForm(
            request.POST, community=community, buildings_url=_buildings_url(community)
        )
        if form.is_valid():
            try:
                actions.volunteer_signup(community=community, data=form.signup_input())
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                return redirect("workforce:signup_thanks", code=community.code)
        return render(
            request,
            "workforce/signup.html",
            {"form": form, "community": community},
            status=400,
        )


def signup_buildings(request: HttpRequest, code: str) -> HttpResponse:
    """The building options of one compound (HTMX, when the compound select changes)."""
    community = _public_community(code)
    compound = request.GET.get("compound", "")
    with activate(_places_of(community)):
        buildings = (
            list(Building.objects.filter(compound_id=int(compound)).order_by("sort_key", "name"))
            if compound.isdigit()
            else []
        )
    return render(request, "workforce/partials/signup_buildings.html", {"buildings": buildings})


def signup_thanks(request: HttpRequest, code: str) -> HttpResponse:
    community = _public_community(code)
    return render(request, "workforce/signup_thanks.html", {"community": community})


@require(can_manage_volunteers)
def poster(request: HttpRequest, code: str) -> HttpResponse:
    """A4 recruiting poster with a QR code that opens the community's sign-up page."""
    community = get_community_for(request_user(request), code)
    url = request.build_absolute_uri(reverse("workforce:signup", args=[community.code]))
    pdf = render_pdf(
        request,
        "workforce/poster.html",
        {"community": community, "url": url, "qr": qr_svg(url, scale=10)},
    )
    return pdf_response(pdf, _("%(community)s志愿者招募.pdf") % {"community": community.name})
