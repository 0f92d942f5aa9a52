"""The public side of a wish batch: the page the QR poster opens (no sign-in, phone first),
the claim form, and the claimer's own page (their link) where they can give a wish back.

Nothing here reads a household or a resident: a wish shows its number, item, quantity,
estimated value and the public description, and a claimed one its claimer's work unit.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_scopes import scopes_disabled

from linli.lib.limits import limited
from linli.registry.forms import add_action_errors
from linli.wishes import actions
from linli.wishes.access import claim_by_token, public_batch
from linli.wishes.forms import ClaimForm, ReasonForm
from linli.wishes.models import Wish, WishBatch


def _public_wishes(batch: WishBatch) -> list[Wish]:
    with scopes_disabled():
        return list(Wish.objects.public().filter(batch=batch).select_related("claimer"))


def claim_link_base(request: HttpRequest) -> str:
    """The absolute URL a claim token is appended to (for the claimer's message)."""
    return request.build_absolute_uri(reverse("wishes:my_claim", args=["TOKEN"]))[: -len("TOKEN/")]


def batch_page(request: HttpRequest, code: str) -> HttpResponse:
    batch = public_batch(code)
    wishes = _public_wishes(batch)
    open_count = sum(1 for w in wishes if w.status == "published")
    return render(
        request,
        "wishes/public_batch.html",
        {"batch": batch, "wishes": wishes, "open_count": open_count},
    )


def _public_wish(batch: WishBatch, pk: int) -> Wish:
    with scopes_disabled():
        wish = Wish.objects.public().filter(batch=batch, pk=pk).first()
    if wish is None:
        raise Http404(_("本批次没有这个心愿"))
    return wish


def claim(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    batch = public_batch(code)
    wish = _public_wish(batch, pk)
    if request.method == "POST":
        return _claim_post(request, batch, wish)
    context = {"batch": batch, "wish": wish, "form": ClaimForm()}
    return render(request, "wishes/public_claim.html", context)


@limited("LINLI_WISH_CLAIM_RATE")
def _claim_post(request: HttpRequest, batch: WishBatch, wish: Wish) -> HttpResponse:
    form = ClaimForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            claimed = actions.wish_claim(
                batch=batch,
                wish_id=wish.pk,
                data=actions.ClaimInput(
                    name=data["name"],
                    phone=data["phone"],
                    work_unit=data["work_unit"],
                    kind=data["kind"],
                ),
                link_base=claim_link_base(request),
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            return redirect("wishes:my_claim", token=claimed.token)
    wish = _public_wish(batch, wish.pk)
    context = {"batch": batch, "wish": wish, "form": form}
    return render(request, "wishes/public_claim.html", context, status=400)


def my_claim(request: HttpRequest, token: str) -> HttpResponse:
    """The claimer's page: what they claimed, by when, where to bring it; release."""
    claim_row = claim_by_token(token)
    context = {
        "claim": claim_row,
        "wish": claim_row.wish,
        "batch": claim_row.claimer.batch,
        "form": ReasonForm(),
        "token": token,
    }
    return render(request, "wishes/public_my_claim.html", context)


@require_POST
@limited("LINLI_WISH_CLAIM_RATE")
def my_claim_release(request: HttpRequest, token: str) -> HttpResponse:
    claim_row = claim_by_token(token)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            actions.claim_release_by_token(token=token, reason=form.cleaned_data["reason"])
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            return redirect("wishes:my_claim", token=token)
    claim_row = claim_by_token(token)
    context = {
        "claim": claim_row,
        "wish": claim_row.wish,
        "batch": claim_row.claimer.batch,
        "form": form,
        "token": token,
    }
    return render(request, "wishes/public_my_claim.html", context, status=400)
