"""Import of residents from a spreadsheet (preview, then commit), export of the register."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.models import User
from linli.lib.limits import limited
from linli.registry import actions, spreadsheets
from linli.registry.access import (
    can_import,
    can_see_people,
    get_community_for,
    get_import_batch_for,
    require,
    visible_communities,
    visible_import_batches,
)
from linli.registry.models import Community, ImportBatch
from linli.registry.views.residents import filtered_residents

TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# An upload nobody confirmed is removed after this long.
PENDING_SECONDS = 24 * 3600


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101
    return user


def importable_communities(user: User) -> QuerySet[Community]:
    if not can_import(user):
        return Community.objects.none()
    return visible_communities(user).select_related("street").order_by("street", "code")


@dataclass
class PendingImport:
    """An uploaded file waiting for its uploader to confirm; kept under MEDIA_ROOT/imports."""

    token: str
    user_id: int
    community_id: int
    filename: str

    @staticmethod
    def folder() -> Path:
        return Path(settings.MEDIA_ROOT) / "imports"

    @classmethod
    def create(
        cls, *, user: User, community: Community, filename: str, data: bytes
    ) -> PendingImport:
        folder = cls.folder()
        folder.mkdir(parents=True, exist_ok=True)
        cls.remove_stale()
        pending = cls(secrets.token_urlsafe(24), user.pk, community.pk, filename[:200])
        _write_private(pending.data_path, data)
        meta = {"user": user.pk, "community": community.pk, "filename": pending.filename}
        _write_private(pending.meta_path, json.dumps(meta).encode())
        return pending

    @classmethod
    def load(cls, token: str, user: User) -> PendingImport:
        """The upload, if this user made it and it is still there; else 404."""
        if not TOKEN.match(token):
            raise Http404(_("导入记录不存在或已过期"))
        meta_path = cls.folder() / f"{token}.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise Http404(_("导入记录不存在或已过期")) from None
        if meta.get("user") != user.pk:
            raise Http404(_("导入记录不存在或已过期"))
        return cls(token, meta["user"], meta["community"], str(meta.get("filename", "")))

    @classmethod
    def remove_stale(cls) -> None:
        cutoff = time.time() - PENDING_SECONDS
        for path in cls.folder().glob("*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                continue

    @property
    def data_path(self) -> Path:
        return self.folder() / f"{self.token}.upload"

    @property
    def meta_path(self) -> Path:
        return self.folder() / f"{self.token}.json"

    def read(self) -> bytes:
        try:
            return self.data_path.read_bytes()
        except OSError:
            raise Http404(_("导入记录不存在或已过期")) from None

    def delete(self) -> None:
        for path in (self.data_path, self.meta_path):
            path.unlink(missing_ok=True)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class ImportUploadForm(forms.Form):
    community = forms.ModelChoiceField(
        label=gettext_lazy("导入到社区"), queryset=Community.objects.none(), empty_label=None
    )
    file = forms.FileField(
        label=gettext_lazy("居民表格"),
        allow_empty_file=True,  # read_table says "文件是空的", clearer than the default
        help_text=gettext_lazy("Excel（.xlsx）或 CSV（UTF-8 或 GBK），不超过 10 MB、20000 行"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args: Any, communities: QuerySet[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["community"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = communities

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > spreadsheets.MAX_BYTES:
            raise forms.ValidationError(
                _("文件超过 %(mb)d MB，请拆分后分批导入")
                % {"mb": spreadsheets.MAX_BYTES // (1024 * 1024)}
            )
        data = upload.read()
        try:
            spreadsheets.read_table(data, upload.name or "")
        except spreadsheets.SpreadsheetError as e:
            raise forms.ValidationError(e.message) from None
        self.cleaned_data["data"] = data
        return upload


@require(can_import)
def import_upload(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    communities = importable_communities(user)
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, communities=communities)
        if form.is_valid():
            pending = PendingImport.create(
                user=user,
                community=form.cleaned_data["community"],
                filename=form.cleaned_data["file"].name or "",
                data=form.cleaned_data["data"],
            )
            return redirect("registry:import_preview", token=pending.token)
    else:
        initial = {}
        if code := request.GET.get("community"):
            initial["community"] = communities.filter(code=code).first()
        form = ImportUploadForm(initial=initial, communities=communities)
    return render(
        request,
        "registry/import_upload.html",
        {"form": form, "has_communities": communities.exists()},
        status=400 if request.method == "POST" else 200,
    )


def pending_import_for(user: User, token: str) -> tuple[PendingImport, Community]:
    """The user's own upload and its community, still in their area; else 404."""
    pending = PendingImport.load(token, user)
    community = importable_communities(user).filter(pk=pending.community_id).first()
    if community is None:
        raise Http404(_("导入记录不存在或已过期"))
    return pending, community


@require(can_import)
def import_preview(request: HttpRequest, token: str) -> HttpResponse:
    user = _user(request)
    pending, community = pending_import_for(user, token)
    if request.method == "POST" and request.POST.get("action") == "cancel":
        pending.delete()
        messages.info(request, _("已取消导入，没有写入任何记录"))
        return redirect("registry:import_upload")
    data = pending.read()
    status = 200
    if request.method == "POST" and request.POST.get("action") == "commit":
        try:
            expected = int(request.POST.get("expected", ""))
        except ValueError:
            expected = -1
        try:
            report, summary = spreadsheets.residents_import(
                actor=user,
                community=community,
                data=data,
                filename=pending.filename,
                expected_valid=expected,
            )
        except spreadsheets.PreviewChanged as e:
            messages.warning(request, e.message)
            return _preview(request, pending, e.report, status=409)
        except spreadsheets.SpreadsheetError as e:
            messages.error(request, e.message)
            status = 409
        else:
            pending.delete()
            context = {"report": report, "summary": summary, "community": community}
            return render(request, "registry/import_done.html", context)
    elif request.method == "POST":
        messages.error(request, _("请选择“导入”或“取消”"))
        status = 400
    try:
        report = spreadsheets.residents_preview(
            community=community, data=data, filename=pending.filename
        )
    except spreadsheets.SpreadsheetError as e:
        pending.delete()
        messages.error(request, e.message)
        return redirect("registry:import_upload")
    return _preview(request, pending, report, status=status)


def _preview(
    request: HttpRequest, pending: PendingImport, report: spreadsheets.ImportReport, *, status: int
) -> HttpResponse:
    only_problems = request.GET.get("show") == "problems"
    rows = [r for r in report.rows if r.status != "ok"] if only_problems else report.rows
    context = {
        "pending": pending,
        "report": report,
        "rows": rows,
        "only_problems": only_problems,
    }
    return render(request, "registry/import_preview.html", context, status=status)


# How many imports the list shows: those that can still be undone, and some before them.
RECENT_IMPORTS = 50


def recent_import_batches(user: User, community: Community | None = None) -> QuerySet[ImportBatch]:
    batches = visible_import_batches(user)
    if community is not None:
        batches = batches.filter(community=community)
    return batches.order_by("-created_at", "-pk")


@require(can_import)
def import_list(request: HttpRequest) -> HttpResponse:
    """Recent imports into the user's communities: counts, who, when, and undo while allowed."""
    batches = list(recent_import_batches(_user(request))[:RECENT_IMPORTS])
    return render(request, "registry/import_list.html", {"batches": batches})


@require(can_import)
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """GET (or POST without `confirm`) asks; POST with confirm=yes undoes the import."""
    user = _user(request)
    batch = get_import_batch_for(user, pk)
    status = 200
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            undone = actions.import_undo(actor=user, batch=batch)
        except ValidationError as e:
            messages.error(request, "；".join(e.messages))
            batch.refresh_from_db()
            status = 400
        else:
            messages.success(
                request,
                _("已撤销导入：删除居民 %(r)d 位、户 %(h)d 户、重点人群标签 %(t)d 个")
                % {"r": undone.residents, "h": undone.households, "t": undone.tags},
            )
            return redirect("registry:import_list")
    return render(request, "registry/import_undo.html", {"batch": batch}, status=status)


@require(can_import)
def import_template(request: HttpRequest) -> HttpResponse:
    community = None
    if code := request.GET.get("community"):
        community = importable_communities(_user(request)).filter(code=code).first()
    return xlsx_response(spreadsheets.import_template(community), _("居民导入模板.xlsx"))


@require(can_see_people)
@limited("LINLI_EXPORT_RATE")
def register_export(request: HttpRequest) -> HttpResponse:
    """The register as .xlsx, filtered as on the register page; ID and phone masked."""
    export = export_register_for(_user(request), request.GET, via="page")
    return xlsx_response(export.data, export.filename)


@dataclass(frozen=True)
class RegisterFile:
    data: bytes
    filename: str
    rows: int


def export_register_for(user: User, params: Mapping[str, Any], *, via: str) -> RegisterFile:
    """The register within the user's area, filtered as on the register page, and audited.

    Shared by the page and the API. `params` holds community (code), q, grid and tag; a
    community outside the area is a 404, filters the form refuses give an empty register.
    """
    community = None
    if code := params.get("community"):
        community = get_community_for(user, code)
    form, residents = filtered_residents(user, params)
    residents = residents.on_register()
    if community is not None:
        residents = residents.filter(household__community=community)
    else:
        communities = list(visible_communities(user)[:2])
        community = communities[0] if len(communities) == 1 else None
    chosen = form.cleaned_data if form.is_valid() else {}
    grid = chosen.get("grid")
    filters = {
        "community": code or None,
        "grid": grid.pk if grid is not None else None,
        "tag": chosen.get("tag") or None,
        # The search text may be a name or a phone number: only whether one was used.
        "search": bool(chosen.get("q")),
    }
    export = spreadsheets.register_export(
        actor=user, community=community, residents=residents, filters=filters, via=via
    )
    name = community.name if community is not None else _("全部")
    filename = _("台账-%(name)s-%(date)s.xlsx") % {
        "name": name,
        "date": timezone.localdate().isoformat(),
    }
    return RegisterFile(data=export.data, filename=filename, rows=export.rows)


def xlsx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=spreadsheets.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response["Cache-Control"] = "no-store"
    return response
