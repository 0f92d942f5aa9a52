"""Background work for supply rounds (Django's task API, the django-tasks backport): making a
large round's pick lists, manifests and door labels while a page shows the progress.

`document_start` records a RoundDocument (queued) and enqueues `document_make`; a worker
(`linli db_worker`, or inline with the immediate backend in tests) moves it to running, sets
`progress` as it goes, saves the file and ends done, or failed with the reason.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from django_tasks import task

from linli.accounts.models import User
from linli.supply import documents
from linli.supply.documents import DocumentStatus, Fmt, Kind
from linli.supply.models import RoundDocument, SupplyRound

logger = logging.getLogger(__name__)

UNFINISHED = (DocumentStatus.QUEUED, DocumentStatus.RUNNING)


def check_request(round: SupplyRound, kind: str, fmt: str, key: str) -> None:
    """Refuse, naming the field, a document that cannot be made (access is the caller's)."""
    errors: dict[str, list[str]] = {}
    if round.status not in documents.DOCUMENT_STATUSES:
        errors["round"] = [_("轮次尚未分配，分配后才能生成单据")]
    if kind not in Kind.values:
        errors["kind"] = [_("请选择单据类型：拣货单、卡口分拣清单或门贴标签")]
    if fmt not in Fmt.values:
        errors["fmt"] = [_("请选择格式：pdf 或 xlsx")]
    if not key or len(key) > 64:
        errors["key"] = [_("请指定保供单位或卡口")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def document_start(
    *, actor: User, round: SupplyRound, kind: str, fmt: str, key: str, origin: str = ""
) -> RoundDocument:
    """Queue a document for the round; the same one already queued or running is returned
    rather than made twice. `origin` ("https://host") goes into the labels' QR codes."""
    check_request(round, kind, fmt, key)
    pending = RoundDocument.objects.filter(
        round=round, kind=kind, fmt=fmt, key=key, status__in=UNFINISHED
    ).first()
    if pending is not None:
        return pending
    document = RoundDocument.objects.create(
        round=round, kind=kind, fmt=fmt, key=key, status=DocumentStatus.QUEUED, created_by=actor
    )
    document_make.enqueue(document.pk, origin)
    return document


def _progress(document: RoundDocument, progress: int, status: str = DocumentStatus.RUNNING) -> None:
    document.progress = progress
    document.status = status
    RoundDocument.objects.filter(pk=document.pk).update(progress=progress, status=status)


@task()
def document_make(document_id: int, origin: str = "") -> None:
    document = (
        RoundDocument.objects.select_related("round")
        .filter(pk=document_id, status=DocumentStatus.QUEUED)
        .first()
    )
    if document is None:  # made already, or deleted while it waited
        return
    _progress(document, 5)
    try:
        data = documents.build(document.round, document.kind, document.key)
        _progress(document, 40)
        content = documents.render(data, document.fmt, origin)
        _progress(document, 90)
        document.file.save(documents.file_name(data, document.fmt), ContentFile(content))
    except Exception as e:
        logger.exception("document %s failed", document_id)
        document.error = str(e)[:300] or type(e).__name__
        document.save(update_fields=["error"])
        _progress(document, document.progress, DocumentStatus.FAILED)
        return
    _progress(document, 100, DocumentStatus.DONE)
