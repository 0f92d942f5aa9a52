"""Staff pages for wish batches: the list, a new batch, one batch with its wishes and
claimers (add, take off, publish, close, change the limit), the QR poster, and revealing a
claimer's phone to call them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.lib.pdf import pdf_response, render_pdf
from linli.lib.qr import qr_svg
from linli.registry.access import (
    get_community_for,
    request_user,
    require,
    visible_communities,
)
from linli.registry.forms import add_action_errors
from linli.wishes import actions
from linli.wishes.access import (
    can_manage_wishes,
    can_see_wishes,
    get_batch_for,
    get_claimer_for,
    get_wish_for,
    visible_batches,
    visible_claimers,
    visible_wishes,
)
from linli.wishes.choices import BatchStatus, WishStatus
from linli.wishes.forms import AddWishesForm, BatchForm, RevealForm
from linli.wishes.models import HOLDING, WishBatch
from linli.wishes.views.wishes import settle_for


@require(can_see_wishes)
def batch_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    batches = list(visible_batches(user).order_by("-created_at", "-pk")[:200])
    return render(
        request,
        "wishes/batch_list.html",
        {"batches": batches, "can_manage": can_manage_wishes(user)},
    )


@require(can_manage_wishes)
def batch_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    communities = list(visible_communities(user).order_by("code"))
    form = BatchForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        code = request.POST.get("community") or (communities[0].code if communities else "")
        if form.is_valid():
            data = form.cleaned_data
            try:
                community = get_community_for(user, code)
                batch = actions.batch_create(
                    actor=user,
                    community=community,
                    title=data["title"],
                    deliver_by=data["deliver_by"],
                    per_claimer_limit=data["per_claimer_limit"],
                    note=data["note"],
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(request, _("批次已建立，请加入已审核的心愿后发布"))
                return redirect("wishes:batch_detail", pk=batch.pk)
    context = {"form": form, "communities": communities}
    return render(request, "wishes/batch_form.html", context, status=status)


def _batch_context(request: HttpRequest, batch: WishBatch, **forms: Form) -> dict[str, Any]:
    user = request_user(request)
    manage = can_manage_wishes(user)
    wishes = list(
        visible_wishes(user).filter(batch=batch).order_by("number", "pk").select_related("claimer")
    )
    addable = visible_wishes(user).filter(
        status=WishStatus.APPROVED, batch__isnull=True, community_id=batch.community_id
    )
    public_url = request.build_absolute_uri(reverse("wishes:batch_page", args=[batch.code]))
    context: dict[str, Any] = {
        "batch": batch,
        "wishes": wishes,
        "claimed": sum(1 for w in wishes if w.status in HOLDING),
        "addable": list(addable.order_by("household__address", "pk")) if manage else [],
        "claimers": list(visible_claimers(user).filter(batch=batch).order_by("work_unit", "pk")),
        "public_url": public_url,
        "qr": qr_svg(public_url, scale=4) if batch.status != BatchStatus.DRAFT else "",
        "can_manage": manage,
        "today": timezone.localdate(),
        "edit_form": BatchForm(
            initial={
                "title": batch.title,
                "deliver_by": batch.deliver_by,
                "per_claimer_limit": batch.per_claimer_limit,
                "note": batch.note,
            }
        ),
        "add_form": AddWishesForm(wishes=addable),
        "reveal_form": RevealForm(),
    }
    context.update(forms)
    return context


@require(can_see_wishes)
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    settle_for(user)
    batch = get_batch_for(user, pk)
    return render(request, "wishes/batch_detail.html", _batch_context(request, batch))


def _done_or_refused(
    request: HttpRequest, batch: WishBatch, form: Form, form_name: str, done: str
) -> HttpResponse:
    if not form.errors:
        messages.success(request, done)
        return redirect("wishes:batch_detail", pk=batch.pk)
    user = request_user(request)
    context = _batch_context(request, get_batch_for(user, batch.pk), **{form_name: form})
    context["refused"] = [str(m) for ms in form.errors.values() for m in ms]
    return render(request, "wishes/batch_detail.html", context, status=400)


@require(can_manage_wishes)
@require_POST
def batch_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    batch = get_batch_for(user, pk)
    form = BatchForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.batch_update(
                actor=user,
                batch=batch,
                title=data["title"],
                deliver_by=data["deliver_by"],
                per_claimer_limit=data["per_claimer_limit"],
                note=data["note"],
            )
        except ValidationError as e:
            add_action_errors(form, e)
    return _done_or_refused(request, batch, form, "edit_form", _("批次已修改"))


@require(can_manage_wishes)
@require_POST
def batch_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    batch = get_batch_for(user, pk)
    addable = visible_wishes(user).filter(community_id=batch.community_id)
    form = AddWishesForm(request.POST, wishes=addable)
    if form.is_valid():
        try:
            actions.batch_add(actor=user, batch=batch, wishes=list(form.cleaned_data["wishes"]))
        except ValidationError as e:
            add_action_errors(form, e)
    return _done_or_refused(request, batch, form, "add_form", _("心愿已加入批次"))


@require(can_manage_wishes)
@require_POST
def batch_remove(request: HttpRequest, pk: int, wish_pk: int) -> HttpResponse:
    user = request_user(request)
    batch = get_batch_for(user, pk)
    wish = get_wish_for(user, wish_pk)
    form = Form(request.POST)
    try:
        actions.batch_remove(actor=user, batch=batch, wish=wish)
    except ValidationError as e:
        add_action_errors(form, e)
    return _done_or_refused(request, batch, form, "remove_form", _("心愿已移出批次"))


def _batch_step(request: HttpRequest, pk: int, run: Any, done: str) -> HttpResponse:
    user = request_user(request)
    batch = get_batch_for(user, pk)
    form = Form(request.POST)
    try:
        run(actor=user, batch=batch)
    except ValidationError as e:
        add_action_errors(form, e)
    return _done_or_refused(request, batch, form, "step_form", done)


@require(can_manage_wishes)
@require_POST
def batch_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _batch_step(request, pk, actions.batch_publish, _("批次已发布，可以打印二维码海报了"))


@require(can_manage_wishes)
@require_POST
def batch_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _batch_step(request, pk, actions.batch_close, _("批次已结束认领"))


@require(can_manage_wishes)
def batch_poster(request: HttpRequest, pk: int) -> HttpResponse:
    """A4 poster with the QR code of the public claim page (for the party members' group)."""
    user = request_user(request)
    batch = get_batch_for(user, pk)
    if batch.status == BatchStatus.DRAFT:
        messages.error(request, _("请先发布批次，再打印海报"))
        return redirect("wishes:batch_detail", pk=batch.pk)
    url = request.build_absolute_uri(reverse("wishes:batch_page", args=[batch.code]))
    wishes = list(
        visible_wishes(user)
        .filter(batch=batch)
        .exclude(status=WishStatus.WITHDRAWN)
        .order_by("number", "pk")
    )
    pdf = render_pdf(
        request,
        "wishes/poster.html",
        {"batch": batch, "url": url, "qr": qr_svg(url, scale=10), "wishes": wishes},
    )
    return pdf_response(pdf, _("%(title)s 微心愿认领.pdf") % {"title": batch.title})


@require(can_manage_wishes)
@require_POST
def claimer_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """A claimer's phone in full, for the staff member who must call them (audited)."""
    user = request_user(request)
    claimer = get_claimer_for(user, pk)
    form = RevealForm(request.POST)
    phone = ""
    if form.is_valid():
        try:
            phone = actions.claimer_reveal(
                actor=user, claimer=claimer, reason=form.cleaned_data["reason"]
            )
        except ValidationError as e:
            add_action_errors(form, e)
    context = {"claimer": claimer, "form": form, "phone": phone}
    return render(
        request,
        "wishes/partials/claimer_reveal.html",
        context,
        status=200 if phone else 400,
    )
