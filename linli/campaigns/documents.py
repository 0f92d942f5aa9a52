"""Printed campaign papers: the sweep list of a round as an A4 PDF (page and CLI)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from linli.accounts.models import User
from linli.campaigns import reconcile
from linli.campaigns.models import CampaignRound
from linli.lib.pdf import render_pdf
from linli.registry.models import Resident
from linli.registry.scope import area_for

# A printed list longer than this is a job for the page's filters, not for paper.
SWEEP_PDF_ROWS = 5000


def with_door_reasons(residents: list[Resident], round: CampaignRound) -> list[dict[str, Any]]:
    """Each resident with why they need a door visit ("" when they can come down)."""
    reasons = reconcile.door_reasons(residents, round.date)
    return [{"resident": r, "door": reasons[r.pk]} for r in residents]


def sweep_pdf(request: HttpRequest, user: User, round: CampaignRound) -> bytes:
    """The round's residents not yet reached (in `user`'s area), grid → building → room."""
    residents = list(reconcile.missing_residents(round)[:SWEEP_PDF_ROWS])
    context = {
        "round": round,
        "rows": with_door_reasons(residents, round),
        "printed_at": timezone.now(),
        "printed_by": user,
        "area": area_for(user),
    }
    return render_pdf(request, "campaigns/pdf/sweep.html", context)


def sweep_pdf_name(round: CampaignRound) -> str:
    return f"扫楼名单-{round.campaign.name}-第{round.number}轮.pdf"
