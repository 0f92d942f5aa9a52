"""The message log page: what Linli sent, to whom (masked), and whether it went through.

notify imports no other app (see STYLE.md), so the role check is written out here; the
community scope comes from the request's scope like every scoped query.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.models import User
from linli.notify.access import can_read_message_log
from linli.notify.choices import Channel, MessageStatus
from linli.notify.models import Message


class MessageFilterForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类型"), required=False)
    channel = forms.ChoiceField(
        label=gettext_lazy("渠道"),
        choices=[("", gettext_lazy("全部")), *Channel.choices],
        required=False,
    )
    status = forms.ChoiceField(
        label=gettext_lazy("状态"),
        choices=[("", gettext_lazy("全部")), *MessageStatus.choices],
        required=False,
    )

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)  # noqa: S101
        kind.choices = [("", _("全部")), *((k, k) for k in kinds)]


@login_required
def message_log(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User) or not can_read_message_log(user):
        raise PermissionDenied(_("只有社区工作人员和街道管理员可以查看消息记录"))
    messages = Message.objects.select_related("to_user")
    kinds = sorted(set(messages.order_by().values_list("kind", flat=True).distinct()))
    form = MessageFilterForm(request.GET or None, kinds=kinds)
    if form.is_valid():
        for name in ("kind", "channel", "status"):
            if form.cleaned_data[name]:
                messages = messages.filter(**{name: form.cleaned_data[name]})
    elif form.is_bound:
        messages = messages.none()
    page = Paginator(messages.order_by("-created_at", "-pk"), settings.LINLI_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "notify/message_log.html", context, status=status)
