"""Forms of the wish pages: collecting, batches, the public claim form, and the steps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from linli.lib.money import yuan_to_fen
from linli.registry.models import Household, Unit
from linli.wishes.choices import ClaimerKind, WishStatus
from linli.wishes.models import Wish, WishBatch

PHOTO_ERRORS = {"invalid_image": _("请上传照片（jpg、png 等图片）")}


class UnitChoiceField(forms.ModelChoiceField[Unit]):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{obj.building.compound.name}{obj.building.name}{obj.name}"


class WishForm(forms.Form):
    unit = UnitChoiceField(label=_("单元"), queryset=Unit.objects.none(), required=False)
    household = forms.ModelChoiceField(
        label=_("户"),
        queryset=Household.objects.none(),
        error_messages={
            "required": _("请选择户"),
            "invalid_choice": _("所选的户不存在，或不在您的管辖范围内"),
        },
    )
    recipient = forms.CharField(
        label=_("心愿对象（公开描述）"),
        max_length=40,
        help_text=_("会显示在认领页上，不写姓名、门牌和电话，例：一位低保户老人"),
    )
    item = forms.CharField(label=_("心愿物品"), max_length=60)
    quantity = forms.IntegerField(label=_("数量"), min_value=1, max_value=999, initial=1)
    value = forms.CharField(
        label=_("估计价值（元）"), max_length=12, required=False, help_text=_("例：80 或 35.5")
    )
    note = forms.CharField(label=_("备注（仅工作人员可见）"), max_length=200, required=False)
    photo = forms.ImageField(
        label=_("照片（可选，仅工作人员可见）"), required=False, error_messages=PHOTO_ERRORS
    )

    def __init__(
        self, *args: Any, units: QuerySet[Unit], households: QuerySet[Household], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["household"].queryset = households  # type: ignore[attr-defined]

    def clean_value(self) -> int:
        raw = (self.cleaned_data.get("value") or "").strip()
        if not raw:
            return 0
        fen = yuan_to_fen(raw)
        if fen is None:
            raise forms.ValidationError(_("请填写金额（元），最多两位小数"))
        return fen


class WishEditForm(forms.Form):
    recipient = WishForm.base_fields["recipient"]
    item = WishForm.base_fields["item"]
    quantity = WishForm.base_fields["quantity"]
    value = WishForm.base_fields["value"]
    note = WishForm.base_fields["note"]
    photo = WishForm.base_fields["photo"]
    clean_value = WishForm.clean_value


class WishFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部")), *WishStatus.choices], required=False
    )
    batch = forms.ModelChoiceField(
        label=_("批次"), queryset=WishBatch.objects.none(), required=False, empty_label=_("全部")
    )
    q = forms.CharField(label=_("物品或地址"), max_length=40, required=False)

    def __init__(self, *args: Any, batches: QuerySet[WishBatch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["batch"].queryset = batches  # type: ignore[attr-defined]


class BatchForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=100)
    deliver_by = forms.DateField(
        label=_("送达截止日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    per_claimer_limit = forms.IntegerField(
        label=_("每人最多认领"), min_value=1, max_value=50, initial=2
    )
    note = forms.CharField(
        label=_("认领说明（公开）"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("例：请于截止日期前把礼物送到阳光社区党群服务中心，周一至周五 9:00-17:00"),
    )


class AddWishesForm(forms.Form):
    wishes = forms.ModelMultipleChoiceField(
        label=_("心愿"),
        queryset=Wish.objects.none(),
        error_messages={
            "required": _("请选择要加入的心愿"),
            "invalid_choice": _("所选心愿不存在，或不在您的管辖范围内"),
            "invalid_pk_value": _("所选心愿不存在"),
        },
    )

    def __init__(self, *args: Any, wishes: QuerySet[Wish], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["wishes"].queryset = wishes  # type: ignore[attr-defined]


class ClaimForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=32)
    phone = forms.CharField(label=_("手机号"), max_length=20)
    work_unit = forms.CharField(label=_("工作单位"), max_length=100)
    kind = forms.ChoiceField(
        label=_("身份"), choices=ClaimerKind.choices, initial=ClaimerKind.PARTY_MEMBER
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)


class ReceiveForm(forms.Form):
    note = forms.CharField(label=_("说明（可选）"), max_length=200, required=False)
    photo = forms.ImageField(label=_("照片（可选）"), required=False, error_messages=PHOTO_ERRORS)


class DoorForm(forms.Form):
    description = forms.CharField(label=_("给志愿者的说明"), max_length=500, required=False)


class ThanksForm(forms.Form):
    thanks = forms.CharField(
        label=_("受助家庭的感谢"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


class RevealForm(forms.Form):
    reason = forms.CharField(label=_("查看原因"), max_length=200)


class FiguresFilterForm(forms.Form):
    batch = forms.ModelChoiceField(
        label=_("批次"), queryset=WishBatch.objects.none(), required=False, empty_label=_("全部")
    )

    def __init__(self, *args: Any, batches: QuerySet[WishBatch], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["batch"].queryset = batches  # type: ignore[attr-defined]
