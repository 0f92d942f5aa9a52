"""The resident's own page: 我要反映 (a simple form) and the status of their household's
tickets; a resolved one can be closed with their word on it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.hotline import actions
from linli.hotline.access import resident_of, visible_tickets
from linli.hotline.choices import Channel
from linli.hotline.forms import CloseForm, ReasonForm, ResidentTicketForm
from linli.registry.access import request_user, require
from linli.registry.forms import add_action_errors


def _is_resident(user: User) -> bool:
    return resident_of(user) is not None


@require(_is_resident)
def mine(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    resident = resident_of(user)
    if resident is None:
        raise PermissionDenied(_("只有居民可以使用此页面"))
    form = ResidentTicketForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                ticket = actions.ticket_create(
                    user,
                    actions.TicketInput(
                        community=resident.household.community,
                        channel=Channel.RESIDENT_PAGE,
                        description=form.cleaned_data["description"],
                        resident=resident,
                    ),
                )
            except ValidationError as e:
                add_action_errors(form, e)
            else:
                messages.success(
                    request,
                    _("已收到您的诉求（编号 %(number)s），工作人员会尽快联系您。")
                    % {"number": ticket.number},
                )
                return redirect("hotline:mine")
    tickets = list(visible_tickets(user).order_by("-created_at")[:50])
    context = {
        "form": form,
        "resident": resident,
        "tickets": tickets,
        "close_form": CloseForm(prefix="close"),
        "cancel_form": ReasonForm(prefix="cancel"),
    }
    return render(request, "hotline/mine.html", context, status=status)
