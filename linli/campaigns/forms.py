"""Forms of the campaign pages: they parse; the actions check and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from linli.campaigns.choices import IMPORT_FIELD_LABELS, CampaignKind, ExemptionReason
from linli.registry.forms import BuildingChoiceField
from linli.registry.models import Building, Community

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
MAX_UPLOAD = 50 * 1024 * 1024


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=CampaignKind.choices)
    community = forms.ModelChoiceField(
        label=_("社区"),
        queryset=Community.objects.none(),
        required=False,
        empty_label=_("全街道"),
    )
    notes = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self, *args: Any, communities: QuerySet[Community], street_wide: bool, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        field = self.fields["community"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = communities
        if not street_wide:
            field.required = True
            field.empty_label = None


class RoundForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=DATE)
    opens_at = forms.TimeField(label=_("开始时间"), widget=TIME, initial="07:30")
    closes_at = forms.TimeField(label=_("结束时间"), widget=TIME, initial="11:30")
    notes = forms.CharField(label=_("说明"), max_length=200, required=False)


class PointForm(forms.Form):
    name = forms.CharField(label=_("采样点"), max_length=64)
    location = forms.CharField(label=_("位置"), max_length=160, required=False)
    opens_at = forms.TimeField(label=_("开放时间"), widget=TIME, initial="07:30")
    closes_at = forms.TimeField(label=_("关闭时间"), widget=TIME, initial="11:30")
    buildings = BuildingChoiceField(
        label=_("服务楼栋"),
        queryset=Building.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, buildings: QuerySet[Building], **kw: Any) -> None:
        super().__init__(*args, **kw)
        field = self.fields["buildings"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101
        field.queryset = buildings


class ExemptionForm(forms.Form):
    resident = forms.IntegerField(label=_("居民"), widget=forms.HiddenInput)
    reason = forms.ChoiceField(label=_("原因"), choices=ExemptionReason.choices)
    starts_on = forms.DateField(label=_("开始日期"), widget=DATE)
    ends_on = forms.DateField(label=_("结束日期（可空）"), widget=DATE, required=False)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("检测系统导出文件"),
        help_text=_("Excel（.xlsx）或 CSV（UTF-8 或 GBK），不超过 50 MB"),
    )

    def __init__(self, *args: Any, mapping: dict[str, str] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        for field, label in IMPORT_FIELD_LABELS.items():
            self.fields[f"map_{field}"] = forms.CharField(
                label=_("“%(field)s”所在列的列名") % {"field": label},
                max_length=64,
                required=False,
                initial=(mapping or {}).get(field, ""),
            )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("文件超过 50 MB，请拆分后分批导入"))
        return upload

    def mapping(self) -> dict[str, str]:
        return {
            field: self.cleaned_data.get(f"map_{field}", "").strip()
            for field in IMPORT_FIELD_LABELS
            if self.cleaned_data.get(f"map_{field}", "").strip()
        }


class RevealForm(forms.Form):
    reason = forms.CharField(label=_("查看原因（将被记录）"), min_length=2, max_length=200)


class LinkForm(forms.Form):
    resident = forms.IntegerField(label=_("居民 id"), required=False)
