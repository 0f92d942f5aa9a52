"""Pages for a round's paperwork: the list of documents a user may have, each document as a
printable page, Excel or PDF (made now when small, in the background when large), and a
made document's progress (polled with HTMX every 2 s) and download."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.lib.pdf import pdf_response
from linli.registry.access import request_user
from linli.registry.views.imports import xlsx_response
from linli.supply import documents, tasks
from linli.supply.documents import DocumentStatus, Fmt, Kind
from linli.supply.models import SupplyRound


def _origin(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _ready(round: SupplyRound) -> bool:
    return round.status in documents.DOCUMENT_STATUSES


@login_required
def document_list(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    round = documents.get_round_for_documents(user, pk)
    allowed = documents.allowed_keys(user, round)
    if not any(allowed.values()):
        raise Http404(_("未找到，或不在您的管辖范围内"))
    groups = [(Kind(kind).label, kind, keys) for kind, keys in allowed.items() if keys]
    return render(
        request,
        "supply/doc_list.html",
        {
            "round": round,
            "ready": _ready(round),
            "groups": groups,
            "made": documents.visible_documents(user, round)[:50],
        },
    )


@login_required
def document_page(request: HttpRequest, pk: int, kind: str, key: str) -> HttpResponse:
    """The document as a page to read or print; a large one asks for the file instead."""
    user = request_user(request)
    round = documents.get_round_for_documents(user, pk)
    documents.check_may_see(user, round, kind, key)
    if not _ready(round):
        raise Http404(_("轮次尚未分配，分配后才能生成单据"))
    size = documents.count_orders(round, kind, key)
    data: dict[str, object] = {"round": round, "kind": kind, "key": key, "size": size}
    if size <= documents.DIRECT_LIMIT:
        document = documents.build(round, kind, key)
        data.update(documents.context(document, _origin(request)))
    else:
        data["title"] = documents.document_title(round, kind, key)
        data["too_large"] = True
    return render(request, "supply/doc_page.html", data)


@login_required
def document_download(request: HttpRequest, pk: int, kind: str, key: str, fmt: str) -> HttpResponse:
    """Excel or PDF made while the user waits; a large one is made in the background and the
    user is taken to its progress page."""
    user = request_user(request)
    round = documents.get_round_for_documents(user, pk)
    documents.check_may_see(user, round, kind, key)
    if fmt not in Fmt.values or not _ready(round):
        raise Http404(_("未找到该单据"))
    if documents.count_orders(round, kind, key) > documents.DIRECT_LIMIT:
        made = tasks.document_start(
            actor=user, round=round, kind=kind, fmt=fmt, key=key, origin=_origin(request)
        )
        return redirect("supply:document_status", pk=made.pk)
    document = documents.build(round, kind, key)
    content = documents.render(document, fmt, _origin(request))
    name = documents.file_name(document, fmt)
    if fmt == Fmt.PDF:
        return pdf_response(content, name)
    return xlsx_response(content, name)


@require_POST
@login_required
def document_make(request: HttpRequest, pk: int) -> HttpResponse:
    """Make a document in the background (any size), then follow its progress."""
    user = request_user(request)
    round = documents.get_round_for_documents(user, pk)
    kind = request.POST.get("kind", "")
    key = request.POST.get("key", "")
    fmt = request.POST.get("fmt", "")
    documents.check_may_see(user, round, kind, key)
    try:
        made = tasks.document_start(
            actor=user, round=round, kind=kind, fmt=fmt, key=key, origin=_origin(request)
        )
    except ValidationError as e:
        return render(
            request,
            "supply/doc_list.html",
            {
                "round": round,
                "ready": _ready(round),
                "groups": [],
                "made": [],
                "errors": e.messages,
            },
            status=400,
        )
    return redirect("supply:document_status", pk=made.pk)


@login_required
def document_status(request: HttpRequest, pk: int) -> HttpResponse:
    """A made document's status and progress; the HTMX partial polls itself every 2 s until
    the download link can be shown."""
    document = documents.get_document_for(request_user(request), pk)
    data = {
        "made": document,
        "title": documents.document_title(document.round, document.kind, document.key),
        "finished": document.status in (DocumentStatus.DONE, DocumentStatus.FAILED),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "supply/partials/doc_status.html", data)
    return render(request, "supply/doc_status.html", data)


@login_required
def document_file(request: HttpRequest, pk: int) -> FileResponse:
    return documents.file_response(documents.get_document_for(request_user(request), pk))
