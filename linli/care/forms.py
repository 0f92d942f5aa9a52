"""Page forms of 关爱回访: they parse input; the rules live in actions.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.care.choices import Channel, CheckInStatus, FollowUp, Outcome, PlanKind, PlanStatus
from linli.registry.choices import CareTag
from linli.registry.models import Community, Grid

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")

MINE = "mine"
ALL = "all"


class OwnerChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj}（{obj.get_role_display()}）"


class PlanForm(forms.Form):
    kind = forms.ChoiceField(label=_("回访方式"), choices=PlanKind.choices)
    call_every_days = forms.IntegerField(
        label=_("每几天电话一次"), min_value=1, max_value=31, initial=1
    )
    visit_every_days = forms.IntegerField(
        label=_("每几天上门一次"), min_value=1, max_value=90, initial=7
    )
    channel = forms.ChoiceField(label=_("回访渠道"), choices=Channel.choices)
    owner = OwnerChoiceField(
        label=_("负责人"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("不选则为住户所在网格的网格员"),
    )
    preferred_time = forms.TimeField(label=_("方便联系的时间"), required=False, widget=_TIME)
    starts_on = forms.DateField(
        label=_("开始日期"), required=False, widget=_DATE, help_text=_("不填则从今天开始")
    )
    notes = forms.CharField(
        label=_("备注"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, owners: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner_field = self.fields["owner"]
        assert isinstance(owner_field, forms.ModelChoiceField)  # noqa: S101
        owner_field.queryset = owners


class BulkPlanForm(PlanForm):
    community = forms.ModelChoiceField(label=_("社区"), queryset=Community.objects.none())
    tags = forms.MultipleChoiceField(
        label=_("为这些重点人群建立计划"),
        choices=CareTag.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self, *args: Any, owners: QuerySet[User], communities: QuerySet[Community], **kwargs: Any
    ) -> None:
        super().__init__(*args, owners=owners, **kwargs)
        field = self.fields["community"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = communities
        if communities.count() == 1:
            field.initial = communities.first()
        self.fields["owner"].help_text = _("不选则各户为其所在网格的网格员")


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200)


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("结果"), choices=Outcome.choices)
    channel = forms.ChoiceField(
        label=_("渠道"), choices=[("", "—"), *Channel.choices], required=False
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=500)
    needs = forms.CharField(
        label=_("居民的需求"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    follow_up = forms.ChoiceField(
        label=_("后续"),
        choices=[("", "—"), *FollowUp.choices],
        required=False,
        widget=forms.RadioSelect,
    )


class WorklistFilterForm(forms.Form):
    day = forms.DateField(label=_("日期"), required=False, widget=_DATE)
    who = forms.ChoiceField(
        label=_("负责人"),
        choices=[(MINE, _("我负责的")), (ALL, _("全部"))],
        required=False,
    )
    grid = forms.ModelChoiceField(label=_("网格"), queryset=Grid.objects.none(), required=False)
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部")), *CheckInStatus.choices], required=False
    )

    def __init__(self, *args: Any, grids: QuerySet[Grid], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["grid"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = grids


class PlanFilterForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=64,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("姓名、拼音、手机尾号、地址")}
        ),
    )
    grid = forms.ModelChoiceField(label=_("网格"), queryset=Grid.objects.none(), required=False)
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部")), *PlanStatus.choices], required=False
    )
    tag = forms.ChoiceField(
        label=_("标签"), choices=[("", _("全部")), *CareTag.choices], required=False
    )

    def __init__(self, *args: Any, grids: QuerySet[Grid], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["grid"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = grids


class CoverageFilterForm(forms.Form):
    since = forms.DateField(label=_("从"), required=False, widget=_DATE)
    until = forms.DateField(label=_("到"), required=False, widget=_DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until:
            if until < since:
                self.add_error("until", _("结束日期不能早于开始日期"))
            elif (until - since).days > 92:
                self.add_error("until", _("一次最多查看 93 天"))
        return data


class SettingsForm(forms.Form):
    retry_minutes = forms.IntegerField(
        label=_("未接通后多久再拨（分钟）"), min_value=5, max_value=480
    )
    escalate_at = forms.TimeField(
        label=_("几点仍未联系上即升级（上门探视、通知紧急联系人、报告社区）"), widget=_TIME
    )
