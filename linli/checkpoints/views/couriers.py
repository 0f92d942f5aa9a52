"""The courier log at a checkpoint: a day's riders and a quick-entry form for the gate."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.checkpoints import actions
from linli.checkpoints.access import can_keep, get_checkpoint_for, visible_courier_entries
from linli.checkpoints.forms import CourierForm, DayForm
from linli.checkpoints.models import Checkpoint
from linli.checkpoints.views.checkpoints import can_see_checkpoints, day_bounds, require_keeper
from linli.registry.access import request_user, require
from linli.registry.forms import add_action_errors


def _page(
    request: HttpRequest, checkpoint: Checkpoint, form: CourierForm, status: int = 200
) -> HttpResponse:
    user = request_user(request)
    day_form = DayForm(request.GET or None)
    day = day_form.day(timezone.localdate())
    start, end = day_bounds(day)
    entries = visible_courier_entries(user).filter(
        checkpoint=checkpoint, arrived_at__gte=start, arrived_at__lt=end
    )
    totals = entries.aggregate(
        admitted=Count("pk", filter=Q(accepted=True)),
        refused=Count("pk", filter=Q(accepted=False)),
        admitted_parcels=Sum("parcels", filter=Q(accepted=True)),
    )
    context = {
        "checkpoint": checkpoint,
        "entries": entries.order_by("-arrived_at"),
        "totals": totals,
        "day": day,
        "is_today": day == timezone.localdate(),
        "day_form": day_form,
        "form": form,
        "can_keep": can_keep(user, checkpoint),
    }
    return render(request, "checkpoints/courier_log.html", context, status=status)


@require(can_see_checkpoints)
def courier_log(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    checkpoint = get_checkpoint_for(user, pk)
    if request.method != "POST":
        return _page(request, checkpoint, CourierForm())
    require_keeper(user, checkpoint)
    form = CourierForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = actions.courier_log(
                actor=user,
                checkpoint=checkpoint,
                name=data["name"],
                phone=data["phone"],
                company=data["company"],
                health_code=data["health_code"],
                test_checked=data["test_checked"],
                parcels=data["parcels"],
                accepted=data["decision"] == "accept",
                refusal_reason=data["refusal_reason"],
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            if entry.accepted:
                text = _("已登记放行：%(name)s，%(parcels)d 件")
            else:
                text = _("已登记拒绝：%(name)s")
            messages.success(request, text % {"name": entry.name, "parcels": entry.parcels})
            return redirect(reverse("checkpoints:courier_log", args=[checkpoint.pk]))
    return _page(request, checkpoint, form, status=400)
