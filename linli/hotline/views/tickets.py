"""Staff pages for tickets: the live queue, one ticket with its timeline and the steps taken
on it, attachments (served only to those who may see the ticket) and revealing a number."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.hotline import access, actions
from linli.hotline.access import can_handle_tickets, get_ticket_for, may_step, visible_tickets
from linli.hotline.choices import TicketStatus
from linli.hotline.forms import (
    OPEN,
    AssignForm,
    AttachForm,
    CloseForm,
    NoteForm,
    QueueFilterForm,
    ReasonForm,
    ReclassifyForm,
    ResolveForm,
)
from linli.hotline.models import Ticket, TicketQuerySet
from linli.registry.access import request_user, require
from linli.registry.forms import add_action_errors


def is_htmx(request: HttpRequest) -> bool:
    return bool(request.htmx)  # type: ignore[attr-defined]


def filtered_queue(user: User, form: QueueFilterForm) -> TicketQuerySet:
    tickets = visible_tickets(user)
    if not form.is_valid():
        return tickets.none()
    data = form.cleaned_data
    status = data["status"] or OPEN
    if status == OPEN:
        tickets = tickets.open()
    elif status != "all":
        tickets = tickets.filter(status=status)
    if data["urgency"]:
        tickets = tickets.filter(urgency=data["urgency"])
    if data["category"]:
        tickets = tickets.filter(category=data["category"])
    if data["mine"]:
        tickets = tickets.filter(owner=user)
    text = data["q"].strip()
    if text:
        condition = (
            Q(description__contains=text)
            | Q(resident__name__contains=text)
            | Q(household__address__contains=text)
            | Q(caller_name__contains=text)
        )
        digits = text.lstrip("#")
        if digits.isdigit():
            condition |= Q(pk=int(digits)) | Q(caller_phone_last4=digits[-4:])
        tickets = tickets.filter(condition)
    return tickets.in_queue_order()


@require(can_handle_tickets)
def queue(request: HttpRequest) -> HttpResponse:
    """The live queue; HTMX asks for the rows again every 30 seconds."""
    user = request_user(request)
    form = QueueFilterForm(request.GET)
    page = Paginator(filtered_queue(user, form), settings.LINLI_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "now": timezone.now()}
    if is_htmx(request):
        return render(request, "hotline/partials/queue_rows.html", context)
    return render(request, "hotline/queue.html", context)


# --- one ticket ----------------------------------------------------------------------------


def _ticket_context(request: HttpRequest, ticket: Ticket, **forms: Form) -> dict[str, Any]:
    user = request_user(request)
    steps = {
        name: may_step(user, ticket, name)
        and (target is None or ticket.can_become(target))
        and (not needs_open or ticket.is_open)
        for name, (target, needs_open) in STEP_STATES.items()
    }
    steps["errand"] = steps["errand"] and ticket.is_errand and ticket.task_id is None
    steps["escalate"] = steps["escalate"] and ticket.escalation_level < 2
    context: dict[str, Any] = {
        "ticket": ticket,
        "events": list(ticket.events.select_related("actor")),
        "attachments": list(ticket.attachments.all()),
        "owners": access.owner_candidates(ticket) if steps["assign"] else [],
        "can": steps,
        "now": timezone.now(),
        "forms": {name: form_class(prefix=name) for name, form_class in FORMS.items()},
    }
    context["forms"].update(forms)
    return context


@require(can_handle_tickets)
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_ticket_for(request_user(request), pk)
    return render(request, "hotline/ticket_detail.html", _ticket_context(request, ticket))


Run = Callable[[User, Ticket, dict[str, Any]], object]


@dataclass(frozen=True)
class Step:
    form: type[Form]
    run: Run
    done: str


def _owner(user: User, ticket: Ticket, data: dict[str, Any]) -> object:
    owner = User.objects.filter(pk=data["owner"], is_active=True).first()
    if owner is None:
        raise ValidationError({"owner": [_("请选择负责人")]})
    return actions.ticket_assign(actor=user, ticket=ticket, owner=owner)


def _attach(user: User, ticket: Ticket, data: dict[str, Any]) -> object:
    return actions.ticket_attach(actor=user, ticket=ticket, upload=data["file"])


def steps() -> dict[str, Step]:
    return {
        "accept": Step(
            NoteForm,
            lambda u, t, d: actions.ticket_accept(actor=u, ticket=t, note=d["note"]),
            _("已受理"),
        ),
        "start": Step(
            NoteForm,
            lambda u, t, d: actions.ticket_start(actor=u, ticket=t, note=d["note"]),
            _("已开始处理"),
        ),
        "resolve": Step(
            ResolveForm,
            lambda u, t, d: actions.ticket_resolve(actor=u, ticket=t, resolution=d["resolution"]),
            _("已办结"),
        ),
        "close": Step(
            CloseForm,
            lambda u, t, d: actions.ticket_close(
                actor=u, ticket=t, feedback=d["feedback"], feedback_text=d["feedback_text"]
            ),
            _("工单已关闭"),
        ),
        "reopen": Step(
            ReasonForm,
            lambda u, t, d: actions.ticket_reopen(actor=u, ticket=t, reason=d["reason"]),
            _("已重新处理"),
        ),
        "cancel": Step(
            ReasonForm,
            lambda u, t, d: actions.ticket_cancel(actor=u, ticket=t, reason=d["reason"]),
            _("工单已撤销"),
        ),
        "escalate": Step(
            ReasonForm,
            lambda u, t, d: actions.ticket_escalate(actor=u, ticket=t, reason=d["reason"]),
            _("工单已升级"),
        ),
        "assign": Step(AssignForm, _owner, _("已指派")),
        "note": Step(
            NoteForm,
            lambda u, t, d: actions.ticket_note(actor=u, ticket=t, note=d["note"]),
            _("已添加备注"),
        ),
        "reclassify": Step(
            ReclassifyForm,
            lambda u, t, d: actions.ticket_reclassify(
                actor=u, ticket=t, category=d["category"], urgency=d["urgency"], reason=d["reason"]
            ),
            _("分类已修改，时限已按新分类重算"),
        ),
        "attach": Step(AttachForm, _attach, _("附件已上传")),
        "errand": Step(
            Form, lambda u, t, d: actions.ticket_to_task(actor=u, ticket=t), _("已转为跑腿任务")
        ),
    }


# step → (the status it moves to, or None; whether the ticket must still be open)
STEP_STATES: dict[str, tuple[str | None, bool]] = {
    "accept": (TicketStatus.ACCEPTED, False),
    "start": (TicketStatus.IN_PROGRESS, False),
    "resolve": (TicketStatus.RESOLVED, False),
    "close": (TicketStatus.CLOSED, False),
    "reopen": (TicketStatus.IN_PROGRESS, False),
    "cancel": (TicketStatus.CANCELLED, False),
    "escalate": (None, True),
    "assign": (None, True),
    "note": (None, False),
    "reclassify": (None, True),
    "attach": (None, False),
    "errand": (None, True),
}
FORMS: dict[str, type[Form]] = {
    "accept": NoteForm,
    "start": NoteForm,
    "resolve": ResolveForm,
    "close": CloseForm,
    "reopen": ReasonForm,
    "cancel": ReasonForm,
    "escalate": ReasonForm,
    "assign": AssignForm,
    "note": NoteForm,
    "reclassify": ReclassifyForm,
    "attach": AttachForm,
}


@login_required
@require_POST
def ticket_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Parse the step's form, check access, run the action; the panel again (HTMX) or the
    page. A resident's own steps (close with feedback, withdraw, add a note) go back to
    their page."""
    user = request_user(request)
    known = steps()
    if step not in known:
        raise Http404(_("没有这个操作"))
    ticket = get_ticket_for(user, pk)
    if not may_step(user, ticket, step):
        raise PermissionDenied(_("您的角色无权对该工单进行此操作"))
    definition = known[step]
    form = definition.form(request.POST, request.FILES, prefix=step)
    staff = can_handle_tickets(user)
    if form.is_valid():
        try:
            definition.run(user, ticket, form.cleaned_data)
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            if not staff:
                messages.success(request, definition.done)
                return redirect("hotline:mine")
            if is_htmx(request):
                context = _ticket_context(request, get_ticket_for(user, pk))
                context["saved"] = definition.done
                return render(request, "hotline/partials/ticket_panel.html", context)
            messages.success(request, definition.done)
            return redirect("hotline:ticket_detail", pk=ticket.pk)
    refused = [str(m) for messages_ in form.errors.values() for m in messages_]
    if not staff:
        for message in refused:
            messages.error(request, message)
        return redirect("hotline:mine")
    # Refused: nothing was written; the ticket as it is in the database, with the reasons.
    context = _ticket_context(request, get_ticket_for(user, pk), **{step: form})
    context["refused"] = refused
    template = (
        "hotline/partials/ticket_panel.html" if is_htmx(request) else "hotline/ticket_detail.html"
    )
    return render(request, template, context, status=400)


@require(can_handle_tickets)
@require_POST
def ticket_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """The caller's number in full, to call back, with a reason in the audit log."""
    user = request_user(request)
    ticket = get_ticket_for(user, pk)
    form = ReasonForm(request.POST)
    phone = ""
    error = ""
    if form.is_valid():
        try:
            phone = actions.ticket_reveal_phone(
                actor=user, ticket=ticket, reason=form.cleaned_data["reason"]
            )
        except ValidationError as e:
            error = "；".join(e.messages)
    context = {"ticket": ticket, "phone": phone, "error": error}
    return render(
        request, "hotline/partials/caller_phone.html", context, status=400 if error else 200
    )


# --- attachments ---------------------------------------------------------------------------

INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"})


@login_required
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    """An attachment, to whoever may see its ticket (never from MEDIA_URL)."""
    user = request_user(request)
    if not access.can_see_tickets(user):
        raise Http404(_("未找到，或不在您的管辖范围内"))
    found = access.get_attachment_for(user, pk)
    try:
        handle = found.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404(_("附件文件不存在")) from None
    content_type = mimetypes.guess_type(found.name)[0] or ""
    inline = content_type in INLINE_TYPES
    response = FileResponse(
        handle,
        content_type=content_type if inline else "application/octet-stream",
        as_attachment=not inline,
        filename=found.name,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
