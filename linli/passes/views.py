"""Pages for medical exit passes: list, issue (from a resident or a ticket), detail with
revoke and the verification log, the A4 PDF with its QR, and the checkpoint's check."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.hotline.access import get_ticket_for
from linli.hotline.models import Ticket
from linli.lib.pdf import pdf_response, render_pdf
from linli.lib.qr import qr_svg
from linli.passes import access, actions
from linli.passes.choices import PassStatus, VerifyResult, VerifyVia
from linli.passes.forms import PassForm, RevokeForm, VerifyForm
from linli.passes.models import MedicalPass
from linli.registry.access import get_resident_for, request_user, require
from linli.registry.forms import add_action_errors
from linli.registry.models import Resident


@require(access.can_issue)
def pass_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    passes = access.visible_passes(user)
    status = request.GET.get("status", "")
    if status in PassStatus.values:
        passes = passes.filter(status=status)
    return render(
        request,
        "passes/pass_list.html",
        {"passes": passes[:200], "status": status, "statuses": PassStatus.choices},
    )


@require(access.can_issue)
def pass_new(request: HttpRequest) -> HttpResponse:
    """Issue a pass: for ?resident=<id> (and ?ticket=<id>), or pick the resident first."""
    user = request_user(request)
    ticket: Ticket | None = None
    if request.GET.get("ticket"):
        ticket = get_ticket_for(user, request.GET["ticket"])
    resident: Resident | None = None
    if request.GET.get("resident"):
        resident = get_resident_for(user, request.GET["resident"])
    elif ticket is not None and ticket.resident_id:
        resident = get_resident_for(user, ticket.resident_id)
    if resident is None:
        query = request.GET.get("q", "").strip()[:50]
        found = (
            list(Resident.objects.search(query).select_related("household")[:20]) if query else []
        )
        return render(
            request, "passes/pick_resident.html", {"query": query, "found": found, "ticket": ticket}
        )
    now = timezone.localtime().replace(second=0, microsecond=0)
    initial = {
        "valid_from": now,
        "valid_until": now + dt.timedelta(hours=24),
        "reason": _reason_from(ticket),
    }
    form = PassForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued = actions.pass_issue(
                actor=user,
                data=actions.PassInput(
                    resident=resident,
                    reason=data["reason"],
                    destination=data["destination"],
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                    companion_name=data["companion_name"],
                    companion_phone=data["companion_phone"],
                    note=data["note"],
                    ticket=ticket,
                ),
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("证明已开具，编码 %(code)s") % {"code": issued.code})
            return redirect("passes:detail", pk=issued.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "resident": resident, "ticket": ticket}
    return render(request, "passes/pass_form.html", context, status=status)


def _reason_from(ticket: Ticket | None) -> str:
    if ticket is None:
        return "medical"
    return {"dialysis": "dialysis", "prenatal": "prenatal", "medicine": "medicine"}.get(
        ticket.category, "emergency" if ticket.urgency == "critical" else "medical"
    )


@require(access.can_issue)
def pass_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    medical_pass = access.get_pass_for(user, pk)
    context = {
        "p": medical_pass,
        "state": medical_pass.state_at(timezone.now()),
        "states": dict(VerifyResult.choices),
        "revoke_form": RevokeForm(),
        "verifications": access.visible_verifications(user, medical_pass)[:100],
        "qr": qr_svg(_qr_url(request, medical_pass), scale=4),
    }
    return render(request, "passes/pass_detail.html", context)


def _qr_url(request: HttpRequest, medical_pass: MedicalPass) -> str:
    return request.build_absolute_uri(reverse("passes:verify_qr", args=[medical_pass.qr_payload]))


@require(access.can_issue)
def pass_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    medical_pass = access.get_pass_for(request_user(request), pk)
    if medical_pass.status != PassStatus.ACTIVE:
        raise PermissionDenied(_("已作废的证明不能打印"))
    context = {"p": medical_pass, "qr": qr_svg(_qr_url(request, medical_pass), scale=6)}
    pdf = render_pdf(request, "passes/pass_pdf.html", context)
    return pdf_response(pdf, f"外出就医证明-{medical_pass.code}.pdf")


@require_POST
@require(access.can_issue)
def pass_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    medical_pass = access.get_pass_for(user, pk)
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            actions.pass_revoke(
                actor=user, medical_pass=medical_pass, reason=form.cleaned_data["reason"]
            )
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("证明已作废"))
            return redirect("passes:detail", pk=medical_pass.pk)
    context = {
        "p": medical_pass,
        "state": medical_pass.state_at(timezone.now()),
        "states": dict(VerifyResult.choices),
        "revoke_form": form,
        "verifications": access.visible_verifications(user, medical_pass)[:100],
        "qr": qr_svg(_qr_url(request, medical_pass), scale=4),
    }
    return render(request, "passes/pass_detail.html", context, status=400)


def _result(request: HttpRequest, verification: actions.Verification) -> HttpResponse:
    context = {
        "v": verification,
        "p": verification.medical_pass,
        "label": VerifyResult(verification.result).label,
        "form": VerifyForm(),
    }
    return render(request, "passes/verify_result.html", context)


@require(access.can_verify)
def verify(request: HttpRequest) -> HttpResponse:
    """The checkpoint's page: type the code (or scan the QR, which opens verify_qr)."""
    form = VerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verification = actions.pass_verify(
            actor=request_user(request), presented=form.cleaned_data["code"], via=VerifyVia.CODE
        )
        return _result(request, verification)
    status = 400 if request.method == "POST" else 200
    return render(request, "passes/verify.html", {"form": form}, status=status)


@require(access.can_verify)
def verify_qr(request: HttpRequest, signed: str) -> HttpResponse:
    verification = actions.pass_verify(
        actor=request_user(request), presented=signed, via=VerifyVia.QR
    )
    return _result(request, verification)
