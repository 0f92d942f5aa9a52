"""Goods at a checkpoint: receive, disinfect, hold, release; and what is held right now."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.checkpoints import actions
from linli.checkpoints.access import (
    can_keep,
    can_manage_checkpoints,
    get_checkpoint_for,
    get_goods_for,
    visible_goods,
)
from linli.checkpoints.choices import GoodsStatus
from linli.checkpoints.forms import GoodsForm
from linli.checkpoints.models import Checkpoint, GoodsReceipt
from linli.checkpoints.views.checkpoints import can_see_checkpoints, require_keeper
from linli.registry.access import request_user, require
from linli.registry.forms import add_action_errors

# Released goods stay on the checkpoint's page this long, so the keeper sees what went out.
RELEASED_SHOWN = dt.timedelta(hours=24)


def goods_row(goods: GoodsReceipt, now: dt.datetime, error: str = "") -> dict[str, Any]:
    return {
        "goods": goods,
        "minutes_left": goods.minutes_left(now),
        "releasable": goods.releasable(now),
        "error": error,
    }


def _page(
    request: HttpRequest,
    checkpoint: Checkpoint,
    form: GoodsForm,
    status: int = 200,
    errors: dict[int, str] | None = None,
) -> HttpResponse:
    user = request_user(request)
    now = timezone.now()
    goods = (
        visible_goods(user)
        .filter(checkpoint=checkpoint)
        .filter(~Q(status=GoodsStatus.RELEASED) | Q(released_at__gte=now - RELEASED_SHOWN))
        .prefetch_related("buildings")
        .order_by("status", F("hold_until").asc(nulls_first=True), "-received_at")
    )
    errors = errors or {}
    context = {
        "checkpoint": checkpoint,
        "rows": [goods_row(g, now, errors.get(g.pk, "")) for g in goods],
        "form": form,
        "can_keep": can_keep(user, checkpoint),
        "errors": list(errors.values()),
        "hold_minutes": checkpoint.community.goods_hold_minutes,
    }
    return render(request, "checkpoints/goods_list.html", context, status=status)


@require(can_see_checkpoints)
def goods_list(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    checkpoint = get_checkpoint_for(user, pk)
    if request.method != "POST":
        return _page(request, checkpoint, GoodsForm(checkpoint=checkpoint))
    require_keeper(user, checkpoint)
    form = GoodsForm(request.POST, checkpoint=checkpoint)
    if form.is_valid():
        data = form.cleaned_data
        try:
            goods = actions.goods_receive(
                actor=user,
                checkpoint=checkpoint,
                sender=data["sender"],
                count=data["count"],
                description=data["description"],
                buildings=list(data["buildings"]),
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(
                request,
                _("已接收 %(sender)s × %(count)d") % {"sender": goods.sender, "count": goods.count},
            )
            return redirect("checkpoints:goods_list", pk=checkpoint.pk)
    return _page(request, checkpoint, form, status=400)


def _error_text(error: ValidationError) -> str:
    return "；".join(error.messages)


def _step(request: HttpRequest, pk: int, *, release: bool) -> HttpResponse:
    """Disinfect or release one batch. HTMX swaps the row in place; a plain form gets a
    redirect back (or, when refused, the page again with the reason and status 400)."""
    user = request_user(request)
    goods = get_goods_for(user, pk)
    checkpoint = goods.checkpoint
    require_keeper(user, checkpoint)
    try:
        if release:
            goods = actions.goods_release(actor=user, goods=goods)
        else:
            goods = actions.goods_disinfect(actor=user, goods=goods)
    except ValidationError as e:
        error = _error_text(e)
        if request.htmx:  # type: ignore[attr-defined]
            goods.refresh_from_db()
            row = goods_row(goods, timezone.now(), error) | {"can_keep": True}
            return render(request, "checkpoints/partials/goods_row.html", row, status=400)
        return _page(
            request, checkpoint, GoodsForm(checkpoint=checkpoint), 400, errors={goods.pk: error}
        )
    if request.htmx:  # type: ignore[attr-defined]
        row = goods_row(goods, timezone.now()) | {"can_keep": True}
        return render(request, "checkpoints/partials/goods_row.html", row)
    if release:
        messages.success(request, _("已放行：%(goods)s") % {"goods": goods})
    else:
        messages.success(
            request,
            _("已消杀，静置至 %(until)s")
            % {"until": timezone.localtime(goods.hold_until).strftime("%H:%M")},
        )
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect(reverse("checkpoints:goods_list", args=[checkpoint.pk]))


@require(can_see_checkpoints)
@require_POST
def goods_disinfect(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, release=False)


@require(can_see_checkpoints)
@require_POST
def goods_release(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, release=True)


@require(can_see_checkpoints)
def goods_held(request: HttpRequest) -> HttpResponse:
    """What is held at the user's checkpoints and for how long, soonest release first."""
    user = request_user(request)
    now = timezone.now()
    goods = (
        visible_goods(user)
        .exclude(status=GoodsStatus.RELEASED)
        .prefetch_related("buildings")
        .order_by(F("hold_until").asc(nulls_last=True), "received_at")
    )
    rows = [goods_row(g, now) for g in goods]
    if can_manage_checkpoints(user):
        keeping = {row["goods"].checkpoint_id for row in rows}
    else:
        keeping = set(Checkpoint.objects.filter(keepers=user).values_list("pk", flat=True))
    context = {
        "rows": rows,
        "keeping": keeping,
        "now": timezone.localtime(now),
        "ready": sum(1 for row in rows if row["releasable"]),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "checkpoints/partials/held_rows.html", context)
    return render(request, "checkpoints/goods_held.html", context)
