"""Forms of the meal pages: they parse; the actions check and write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.meals.choices import ApplicationStatus, DeliveryStatus, Diet, Meal
from linli.meals.models import Canteen
from linli.registry.choices import CareTag
from linli.registry.models import Community

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PolicyForm(forms.Form):
    min_age = forms.IntegerField(
        label=_("年满（周岁）"),
        required=False,
        min_value=0,
        max_value=150,
        help_text=_("空着表示不按年龄"),
    )
    min_ltc_level = forms.IntegerField(
        label=_("长护险等级不低于"),
        required=False,
        min_value=1,
        max_value=6,
        help_text=_("1–6 级；空着表示不按长护险"),
    )
    care_tags = forms.MultipleChoiceField(
        label=_("重点人群标签（任一）"),
        required=False,
        choices=CareTag.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    approved_applications = forms.BooleanField(
        label=_("经居委会审核通过的申请"), required=False, initial=True
    )


class EligibleFilterForm(forms.Form):
    community = forms.ModelChoiceField(
        label=_("社区"), queryset=Community.objects.none(), required=False, to_field_name="code"
    )
    q = forms.CharField(label=_("查找"), required=False, max_length=64)
    not_enrolled = forms.BooleanField(label=_("只看未登记用餐的"), required=False)
    day = forms.DateField(label=_("日期"), required=False, widget=DATE)

    def __init__(self, *args: Any, communities: QuerySet[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["community"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = communities
        field.empty_label = _("全部")


class ApplicationForm(forms.Form):
    applicant = forms.CharField(
        label=_("申请人"), max_length=64, help_text=_("本人，或代为申请者，如“女儿王丽”")
    )
    reason = forms.CharField(label=_("申请理由"), max_length=1000, widget=forms.Textarea)


class DecideForm(forms.Form):
    status = forms.ChoiceField(
        label=_("审核"),
        choices=[
            (ApplicationStatus.APPROVED, _("通过")),
            (ApplicationStatus.DECLINED, _("不通过")),
            (ApplicationStatus.WITHDRAWN, _("撤回")),
        ],
    )
    reason = forms.CharField(label=_("意见/原因"), max_length=200, required=False)


class ApplicationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部")), *ApplicationStatus.choices],
    )


class CanteenForm(forms.Form):
    name = forms.CharField(label=_("助餐点名称"), max_length=64)
    community = forms.ModelChoiceField(
        label=_("社区"), queryset=Community.objects.none(), to_field_name="code"
    )
    address = forms.CharField(label=_("地址"), max_length=160, required=False)
    capacity = forms.IntegerField(label=_("每餐供应份数"), min_value=1, max_value=100000)
    is_active = forms.BooleanField(label=_("在用"), required=False, initial=True)

    def __init__(self, *args: Any, communities: QuerySet[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["community"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = communities


class EnrolmentForm(forms.Form):
    canteen = forms.ModelChoiceField(label=_("助餐点"), queryset=Canteen.objects.none())
    lunch = forms.BooleanField(label=_("午餐"), required=False, initial=True)
    dinner = forms.BooleanField(label=_("晚餐"), required=False)
    diets = forms.MultipleChoiceField(
        label=_("饮食要求"),
        required=False,
        choices=Diet.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    diet_notes = forms.CharField(
        label=_("饮食备注"),
        required=False,
        max_length=500,
        help_text=_("如：不吃香菜、米饭要软"),
    )
    starts_on = forms.DateField(label=_("开始日期"), widget=DATE)
    ends_on = forms.DateField(
        label=_("结束日期"), required=False, widget=DATE, help_text=_("空着表示长期")
    )

    def __init__(self, *args: Any, canteens: QuerySet[Canteen], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("starts_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        field = self.fields["canteen"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = canteens


class EndForm(forms.Form):
    ends_on = forms.DateField(label=_("最后用餐日期"), widget=DATE)
    reason = forms.CharField(label=_("结束原因"), max_length=200)


class DailyForm(forms.Form):
    canteen = forms.ModelChoiceField(label=_("助餐点"), queryset=Canteen.objects.none())
    day = forms.DateField(label=_("日期"), required=False, widget=DATE)

    def __init__(self, *args: Any, canteens: QuerySet[Canteen], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["canteen"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = canteens


class MealDayForm(forms.Form):
    day = forms.DateField(label=_("日期"))
    meal = forms.ChoiceField(label=_("餐次"), choices=Meal.choices)


class DeliveryForm(forms.Form):
    enrolment = forms.IntegerField(min_value=1)
    day = forms.DateField(label=_("日期"))
    meal = forms.ChoiceField(label=_("餐次"), choices=Meal.choices)
    status = forms.ChoiceField(label=_("结果"), choices=DeliveryStatus.choices)
    reason = forms.CharField(label=_("未送达原因"), max_length=200, required=False)


class FiguresForm(forms.Form):
    since = forms.DateField(label=_("从"), required=False, widget=DATE)
    until = forms.DateField(label=_("至"), required=False, widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since: dt.date | None = data.get("since")
        until: dt.date | None = data.get("until")
        if since and until and since > until:
            self.add_error("since", _("开始日期不能晚于结束日期"))
        return data
