"""Supply API: a round's paperwork (pick lists, manifests, door labels) made in the
background, polled for progress and downloaded. Who sees which: supply/documents.py."""

from __future__ import annotations

import datetime as dt

from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from linli.accounts.api import api_user
from linli.lib.rest import ERRORS, InputSchema, local_time
from linli.supply import documents, tasks
from linli.supply.documents import DocumentStatus, Fmt, Kind
from linli.supply.models import RoundDocument

router = Router(tags=["保供单据"])

KIND_HELP = "单据类型：" + "、".join(f"{k.value}（{k.label}）" for k in Kind)
KEY_HELP = (
    "拣货单和门贴标签为保供单位 id；卡口分拣清单为卡口 id，"
    f"或 {documents.UNASSIGNED}（未分配卡口的住户）"
)


class AvailableOut(Schema):
    kind: str
    key: str
    name: str


class DocumentOut(Schema):
    id: int
    round_id: int
    kind: str = Field(description=KIND_HELP)
    fmt: str
    key: str = Field(description=KEY_HELP)
    status: str = Field(description="queued 排队中 / running 生成中 / done 已完成 / failed 失败")
    progress: int = Field(description="0–100")
    error: str
    created_at: dt.datetime | None
    file_url: str | None = Field(None, description="完成后的下载地址")


class RoundDocumentsOut(Schema):
    available: list[AvailableOut] = Field(description="您可生成的单据")
    items: list[DocumentOut] = Field(description="已生成或生成中的单据，新的在前")


class DocumentIn(InputSchema):
    kind: Kind = Field(description=KIND_HELP)
    fmt: Fmt = Field(description="pdf 或 xlsx")
    key: str = Field(min_length=1, max_length=64, description=KEY_HELP)


def _out(document: RoundDocument) -> DocumentOut:
    return DocumentOut(
        id=document.pk,
        round_id=document.round_id,
        kind=document.kind,
        fmt=document.fmt,
        key=document.key,
        status=document.status,
        progress=document.progress,
        error=document.error,
        created_at=local_time(document.created_at),
        file_url=(
            f"/api/v1/documents/{document.pk}/file"
            if document.status == DocumentStatus.DONE
            else None
        ),
    )


@router.get("/rounds/{round_id}/documents", response={200: RoundDocumentsOut, **ERRORS})
def round_documents(request: HttpRequest, round_id: int) -> RoundDocumentsOut:
    """The documents you may have for a round, and those made, with status and progress."""
    user = api_user(request)
    round = documents.get_round_for_documents(user, round_id)
    allowed = documents.allowed_keys(user, round)
    if not any(allowed.values()):
        raise Http404(_("未找到，或不在您的管辖范围内"))
    return RoundDocumentsOut(
        available=[
            AvailableOut(kind=kind, key=key, name=name)
            for kind, keys in allowed.items()
            for key, name in keys
        ],
        items=[_out(d) for d, _title in documents.visible_documents(user, round)],
    )


@router.post("/rounds/{round_id}/documents", response={202: DocumentOut, **ERRORS})
def round_document_start(
    request: HttpRequest, round_id: int, body: DocumentIn
) -> Status[DocumentOut]:
    """Start making a document in the background; poll GET /documents/{id} until done."""
    user = api_user(request)
    round = documents.get_round_for_documents(user, round_id)
    documents.check_may_see(user, round, body.kind.value, body.key)
    origin = request.build_absolute_uri("/").rstrip("/")
    made = tasks.document_start(
        actor=user,
        round=round,
        kind=body.kind.value,
        fmt=body.fmt.value,
        key=body.key,
        origin=origin,
    )
    made.refresh_from_db()
    return Status(202, _out(made))


@router.get("/documents/{document_id}", response={200: DocumentOut, **ERRORS})
def document_detail(request: HttpRequest, document_id: int) -> DocumentOut:
    """A document's status and progress (0–100); `file_url` once it is done."""
    return _out(documents.get_document_for(api_user(request), document_id))


@router.get(
    "/documents/{document_id}/file",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {
            "200": {
                "description": "PDF 或 Excel 文件",
                "content": {
                    "application/pdf": {},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                },
            }
        }
    },
)
def document_file(request: HttpRequest, document_id: int) -> FileResponse:
    """Download a made document."""
    return documents.file_response(documents.get_document_for(api_user(request), document_id))
