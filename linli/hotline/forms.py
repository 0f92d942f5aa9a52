"""Page forms for tickets: they parse input; the rules live in actions.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.hotline.choices import Channel, Feedback, TicketStatus
from linli.registry.models import Community
from linli.triage.choices import Category, Urgency

AUTO = [("", _("自动分诊"))]
ALL = [("", _("全部"))]
OPEN = "open"


class TicketForm(forms.Form):
    """The operator console's new ticket: who (picked by lookup, or an unknown caller), what,
    and, if the operator disagrees with triage, the category and urgency."""

    community = forms.ModelChoiceField(label=_("社区"), queryset=Community.objects.none())
    resident = forms.IntegerField(required=False, widget=forms.HiddenInput)
    household = forms.IntegerField(required=False, widget=forms.HiddenInput)
    channel = forms.ChoiceField(label=_("渠道"), choices=Channel.choices, initial=Channel.PHONE)
    caller_phone = forms.CharField(
        label=_("来电号码"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    caller_name = forms.CharField(label=_("来电人"), max_length=64, required=False)
    description = forms.CharField(
        label=_("诉求内容"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "accesskey": "d"}),
        help_text=_("Enter 提交，Shift+Enter 换行"),
    )
    category = forms.ChoiceField(label=_("类别"), choices=AUTO + Category.choices, required=False)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=AUTO + Urgency.choices, required=False)
    hazard_location = forms.CharField(label=_("隐患位置"), max_length=160, required=False)
    hazard_parties = forms.CharField(label=_("责任方"), max_length=200, required=False)
    owner = forms.ModelChoiceField(
        label=_("派给"),
        queryset=User.objects.none(),
        required=False,
        empty_label=str(_("默认（所在网格的网格员）")),
    )

    def __init__(self, *args: Any, communities: Any, owners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        community = self.fields["community"]
        assert isinstance(community, forms.ModelChoiceField)  # noqa: S101
        community.queryset = communities
        if communities.count() == 1:
            community.initial = communities.first()
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)  # noqa: S101
        owner.queryset = owners
        owner.label_from_instance = lambda u: f"{u}（{u.get_role_display()}）"  # type: ignore[method-assign,assignment]


class ResidentTicketForm(forms.Form):
    """我要反映: what a resident writes on their own page."""

    description = forms.CharField(
        label=_("您要反映的问题或需要的帮助"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("备注"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("办理结果"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CloseForm(forms.Form):
    feedback = forms.ChoiceField(
        label=_("居民评价"), choices=Feedback.choices, widget=forms.RadioSelect
    )
    feedback_text = forms.CharField(label=_("评价说明"), max_length=300, required=False)


class AssignForm(forms.Form):
    owner = forms.IntegerField(label=_("负责人"))


class ReclassifyForm(forms.Form):
    category = forms.ChoiceField(label=_("类别"), choices=Category.choices)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices)
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)


class AttachForm(forms.Form):
    file = forms.FileField(label=_("附件"))


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        choices=[(OPEN, _("未办结")), ("all", _("全部")), *TicketStatus.choices],
        required=False,
    )
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=ALL + Urgency.choices, required=False)
    category = forms.ChoiceField(label=_("类别"), choices=ALL + Category.choices, required=False)
    mine = forms.BooleanField(label=_("只看我负责的"), required=False)
    q = forms.CharField(label=_("搜索"), max_length=64, required=False)


class FiguresFilterForm(forms.Form):
    since = forms.DateField(
        label=_("从"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("到"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        since = data.get("since") or today - dt.timedelta(days=29)
        until = data.get("until") or today
        if since > until:
            self.add_error("until", _("结束日期不能早于开始日期"))
        elif (until - since).days > 366:
            self.add_error("until", _("统计区间不能超过一年"))
        data["since"], data["until"] = since, until
        return data
