"""Page forms for supply: they parse input (yuan, kilograms, Shanghai times); the rules live
in the actions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.lib.money import fen_to_yuan, yuan_to_fen
from linli.registry.choices import CareTag
from linli.registry.models import Building, Community, Compound
from linli.supply.actions import ItemInput
from linli.supply.choices import Category, Intake, Payment, RoundScope, SupplierKind
from linli.supply.models import Offer, Package

# --- rounds and suppliers ---

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_ERRORS = {"invalid": _("请填写有效的日期和时间"), "required": _("请填写时间")}

_WEIGHT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(kg|千克|公斤|g|克)?\s*$", re.IGNORECASE)


def grams_from_text(text: str, default_unit: str = "g") -> int | None:
    """'5kg', '2.5 公斤', '500g', '500' (in default_unit) → grams; None if not a weight or
    not a whole number of grams."""
    match = _WEIGHT.match(text or "")
    if not match:
        return None
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        return None
    unit = (match.group(2) or default_unit).lower()
    grams = number * 1000 if unit in ("kg", "千克", "公斤") else number
    if grams != grams.to_integral_value():
        return None
    return int(grams)


def fen_from_text(text: str) -> int | None:
    return yuan_to_fen(text or "")


class SupplierForm(forms.Form):
    name = forms.CharField(
        label=_("单位名称"), max_length=100, error_messages={"required": _("请填写单位名称")}
    )
    kind = forms.ChoiceField(
        label=_("类型"),
        choices=SupplierKind.choices,
        error_messages={"required": _("请选择单位类型"), "invalid_choice": _("请选择单位类型")},
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=64, required=False)
    contact_phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    communities = forms.ModelMultipleChoiceField(
        label=_("服务社区"),
        queryset=Community.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("所选社区不在您的管辖范围内")},
    )
    accounts = forms.ModelMultipleChoiceField(
        label=_("单位账号（角色为保供单位的用户）"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("所选账号不是保供单位账号")},
    )
    active = forms.BooleanField(label=_("在供"), required=False, initial=True)

    def __init__(self, *args: Any, communities: QuerySet[Community], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["communities"].queryset = communities  # type: ignore[attr-defined]
        self.fields["accounts"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            role=Role.SUPPLIER, is_active=True
        ).order_by("username")


class PackageForm(forms.Form):
    name = forms.CharField(
        label=_("套餐名称"), max_length=100, error_messages={"required": _("请填写套餐名称")}
    )
    category = forms.ChoiceField(
        label=_("品类"),
        choices=Category.choices,
        error_messages={"required": _("请选择品类"), "invalid_choice": _("请选择品类")},
    )
    contents = forms.CharField(
        label=_("内容（每行一项）"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    weight = forms.CharField(
        label=_("净重"),
        max_length=20,
        help_text=_("例：5 或 2.5（按右侧单位），也可写 500g、2.5kg"),
        error_messages={"required": _("请填写净重")},
    )
    weight_unit = forms.ChoiceField(
        label=_("单位"), choices=[("kg", _("千克")), ("g", _("克"))], initial="kg"
    )
    price = forms.CharField(
        label=_("价格（元）"),
        max_length=20,
        help_text=_("例：48 或 48.50，最多两位小数"),
        error_messages={"required": _("请填写价格")},
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    photo = forms.ImageField(
        label=_("照片（可选）"),
        required=False,
        error_messages={"invalid_image": _("请上传照片（jpg、png 等图片）")},
    )
    active = forms.BooleanField(label=_("在售"), required=False, initial=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        weight = data.get("weight")
        if weight is not None:
            grams = grams_from_text(weight, data.get("weight_unit") or "kg")
            if grams is None:
                self.add_error("weight", _("净重应为数字，按克计须为整数（如 2.5 千克、500 克）"))
            else:
                data["net_weight_g"] = grams
        price = data.get("price")
        if price is not None:
            fen = fen_from_text(price)
            if fen is None:
                self.add_error("price", _("价格应为以元计的数字，最多两位小数（如 48.50）"))
            else:
                data["price_fen"] = fen
        return data

    def add_error(self, field: str | None, error: Any) -> None:
        # The action names grams and fen; the page shows them against what was typed.
        field = {"net_weight_g": "weight", "price_fen": "price"}.get(field or "", field)
        super().add_error(field, error)

    @staticmethod
    def initial_for(package: Package) -> dict[str, Any]:
        grams = package.net_weight_g
        kg = grams % 1000 == 0 or grams >= 1000
        weight = f"{Decimal(grams) / 1000:f}".rstrip("0").rstrip(".") if kg else str(grams)
        return {
            "name": package.name,
            "category": package.category,
            "contents": package.contents,
            "weight": weight,
            "weight_unit": "kg" if kg else "g",
            "price": f"{package.price_fen // 100}.{package.price_fen % 100:02d}",
            "active": package.active,
        }


class RoundForm(forms.Form):
    title = forms.CharField(
        label=_("轮次名称"), max_length=100, error_messages={"required": _("请填写轮次名称")}
    )
    scope = forms.ChoiceField(
        label=_("范围"),
        choices=RoundScope.choices,
        error_messages={"required": _("请选择范围"), "invalid_choice": _("请选择范围")},
    )
    community = forms.ModelChoiceField(
        label=_("社区"),
        queryset=Community.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("所选社区不在您的管辖范围内")},
    )
    compound = forms.ModelChoiceField(
        label=_("小区"),
        queryset=Compound.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("所选小区不在您的管辖范围内")},
    )
    building = forms.ModelChoiceField(
        label=_("楼栋（团购）"),
        queryset=Building.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("所选楼栋不在您的管辖范围内")},
    )
    organiser = forms.CharField(
        label=_("团长账号（用户名，楼栋团购时填写）"), max_length=150, required=False
    )
    opens_at = forms.DateTimeField(
        label=_("开始接单"), widget=DATETIME_WIDGET, error_messages=DATETIME_ERRORS
    )
    closes_at = forms.DateTimeField(
        label=_("截单时间"), widget=DATETIME_WIDGET, error_messages=DATETIME_ERRORS
    )
    delivery_date = forms.DateField(
        label=_("配送日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("请填写有效的日期"), "required": _("请填写配送日期")},
    )
    intake = forms.ChoiceField(
        label=_("接单方式"),
        choices=Intake.choices,
        initial=Intake.FIRST_COME,
        help_text=_("先到先得：下单即扣库存；公平分配：截单后按台账优先、每户先得一份分配"),
        error_messages={"required": _("请选择接单方式"), "invalid_choice": _("请选择接单方式")},
    )

    def __init__(
        self,
        *args: Any,
        communities: QuerySet[Community],
        compounds: QuerySet[Compound],
        buildings: QuerySet[Building],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities  # type: ignore[attr-defined]
        self.fields["compound"].queryset = compounds  # type: ignore[attr-defined]
        self.fields["building"].queryset = buildings  # type: ignore[attr-defined]
        if not self.is_bound:
            now = timezone.localtime().replace(second=0, microsecond=0)
            opens = now + dt.timedelta(hours=1)
            self.initial.setdefault("opens_at", opens)
            self.initial.setdefault("closes_at", opens + dt.timedelta(hours=12))
            self.initial.setdefault("delivery_date", (opens + dt.timedelta(days=1)).date())


class PackageChoiceField(forms.ModelChoiceField[Package]):
    def label_from_instance(self, obj: Package) -> str:
        price = fen_to_yuan(obj.price_fen)
        return f"{obj.supplier.name} · {obj.name}（{obj.get_category_display()}，{price}）"


class OfferChoiceField(forms.ModelChoiceField[Offer]):
    def label_from_instance(self, obj: Offer) -> str:
        return str(
            _("%(name)s（剩余 %(left)d 份）") % {"name": obj.package.name, "left": obj.remaining}
        )


class OfferForm(forms.Form):
    package = PackageChoiceField(
        label=_("套餐包"),
        queryset=Package.objects.none(),
        error_messages={
            "required": _("请选择套餐包"),
            "invalid_choice": _("所选套餐包不能用于本轮"),
        },
    )
    stock = forms.IntegerField(
        label=_("库存（份）"),
        error_messages={"required": _("请填写库存"), "invalid": _("库存应为整数")},
        widget=forms.NumberInput(attrs={"min": 1}),
    )
    per_household_limit = forms.IntegerField(
        label=_("每户限购（份）"),
        initial=1,
        error_messages={"required": _("请填写每户限购"), "invalid": _("每户限购应为整数")},
        widget=forms.NumberInput(attrs={"min": 1, "max": 99}),
    )

    def __init__(self, *args: Any, packages: QuerySet[Package], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["package"].queryset = packages  # type: ignore[attr-defined]


class CopyForm(forms.Form):
    opens_at = forms.DateTimeField(
        label=_("新一轮开始接单"),
        widget=DATETIME_WIDGET,
        error_messages=DATETIME_ERRORS,
        help_text=_("截单时间和配送日期随之顺延；供应套餐和库存照抄"),
    )


class CareForm(forms.Form):
    offer = OfferChoiceField(
        label=_("套餐包"),
        queryset=Offer.objects.none(),
        error_messages={
            "required": _("请选择套餐包"),
            "invalid_choice": _("所选套餐包不在本轮供应中"),
        },
    )
    tags = forms.MultipleChoiceField(
        label=_("发放给有以下标签的住户"),
        choices=CareTag.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("请至少选择一个人群标签"),
            "invalid_choice": _("没有这个人群标签"),
        },
    )
    funder = forms.CharField(
        label=_("出资方"), max_length=100, error_messages={"required": _("请填写出资方")}
    )

    def __init__(self, *args: Any, offers: QuerySet[Offer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["offer"].queryset = offers  # type: ignore[attr-defined]


# --- ordering ---


def quantity_field_name(offer: Offer) -> str:
    return f"q_{offer.pk}"


class OrderForm(forms.Form):
    """One household's order: a quantity per offer of the round (q_<offer id>, blank or 0 for
    none) and how it is paid. Limits, stock and the window are the action's to check, so its
    words (已售罄, 超过每户限购, 本轮已截单…) are what the page shows."""

    payment = forms.ChoiceField(
        label=_("付款方式"),
        choices=Payment.choices,
        initial=Payment.ON_DELIVERY,
        error_messages={"required": _("请选择付款方式"), "invalid_choice": _("请选择付款方式")},
    )
    # A double tap on "下单" sends the same key twice: one order.
    key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        offers: Sequence[Offer],
        fixed: Iterable[int] = (),
        payments: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        fixed = set(fixed)
        self.offers = [offer for offer in offers if offer.pk not in fixed]
        if payments is not None:
            payment = self.fields["payment"]
            assert isinstance(payment, forms.ChoiceField)  # noqa: S101
            payment.choices = [(code, Payment(code).label) for code in payments]
        for offer in self.offers:
            name = offer.package.name
            field = self.fields[quantity_field_name(offer)] = forms.IntegerField(
                label=name,
                required=False,
                min_value=0,
                max_value=99,
                error_messages={
                    "invalid": _("%(name)s：数量应为整数") % {"name": name},
                    "min_value": _("%(name)s：数量不能为负数") % {"name": name},
                    "max_value": _("%(name)s：数量不能超过 99") % {"name": name},
                },
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "qty"}),
            )
            # The browser helps with the limit; the action is what enforces it (its words).
            field.widget.attrs["max"] = offer.per_household_limit

    def items(self) -> list[ItemInput]:
        """What was asked for (call after is_valid)."""
        return [
            ItemInput(offer, quantity)
            for offer in self.offers
            if (quantity := self.cleaned_data.get(quantity_field_name(offer)) or 0) > 0
        ]


class HouseholdSearchForm(forms.Form):
    q = forms.CharField(
        label=_("查找住户"),
        max_length=64,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("地址 / 姓名 / 拼音 / 手机尾号"),
                "autocomplete": "off",
            }
        ),
    )


class BulkUploadForm(forms.Form):
    file = forms.FileField(
        label=_("登记表文件（xlsx 或 csv）"),
        error_messages={"required": _("请选择登记表文件"), "empty": _("文件是空的")},
    )
    payment = forms.ChoiceField(
        label=_("新订单的付款方式"),
        choices=Payment.choices,
        initial=Payment.ON_DELIVERY,
        error_messages={"required": _("请选择付款方式"), "invalid_choice": _("请选择付款方式")},
    )


def items_from_pairs(offers: Sequence[Offer], pairs: Sequence[tuple[int, int]]) -> list[ItemInput]:
    """(offer id, quantity) pairs from the API or the command line as the action's items; an
    offer not in the round is a 400 on `items` naming it."""
    by_id = {offer.pk: offer for offer in offers}
    items = []
    for offer_id, quantity in pairs:
        offer = by_id.get(offer_id)
        if offer is None:
            raise ValidationError({"items": [_("供应 %(id)s 不在本轮供应中") % {"id": offer_id}]})
        items.append(ItemInput(offer, quantity))
    return items
