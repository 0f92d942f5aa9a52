"""Page forms: they parse input; the rules themselves live in the models and actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.registry.access import eligible_grid_workers
from linli.registry.choices import CareTag, LivingStatus, Relation, RevealField, Sex
from linli.registry.models import Building, Community, Grid


class ResidentForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=64)
    sex = forms.ChoiceField(label=_("性别"), choices=[("", "—"), *Sex.choices], required=False)
    birth_date = forms.DateField(
        label=_("出生日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("填写身份证号后可不填"),
    )
    id_number = forms.CharField(label=_("身份证号"), max_length=18, required=False)
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    relation = forms.ChoiceField(label=_("与户主关系"), choices=Relation.choices)
    living_status = forms.ChoiceField(label=_("居住状态"), choices=LivingStatus.choices)
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class HouseholdForm(forms.Form):
    room = forms.CharField(label=_("房号"), max_length=16)
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CareForm(forms.Form):
    tags = forms.MultipleChoiceField(
        label=_("重点人群标签"),
        choices=CareTag.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    conditions = forms.CharField(
        label=_("健康状况"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("已登记的内容不在此显示；留空则保持不变，填写则替换。"),
    )
    clear_conditions = forms.BooleanField(label=_("清除已登记的健康状况"), required=False)
    ltc_level = forms.IntegerField(label=_("长护险等级"), required=False, min_value=1, max_value=6)
    hobbies = forms.CharField(label=_("爱好"), max_length=200, required=False)
    birthday = forms.DateField(
        label=_("生日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    CONTACT_ROWS = 3

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(self.CONTACT_ROWS):
            self.fields[f"contact_{i}_name"] = forms.CharField(
                label=_("紧急联系人"), max_length=64, required=False
            )
            self.fields[f"contact_{i}_relation"] = forms.CharField(
                label=_("关系"), max_length=32, required=False
            )
            self.fields[f"contact_{i}_phone"] = forms.CharField(
                label=_("电话"), max_length=20, required=False
            )

    def contact_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (self[f"contact_{i}_name"], self[f"contact_{i}_relation"], self[f"contact_{i}_phone"])
            for i in range(self.CONTACT_ROWS)
        ]


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=RevealField.choices)
    reason = forms.CharField(label=_("查看原因"), max_length=200, min_length=2)


class ResidentFilterForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("姓名 / 拼音 / 首字母 / 手机尾号 / 地址")}
        ),
    )
    grid: forms.ModelChoiceField[Grid] = forms.ModelChoiceField(
        label=_("网格"), queryset=Grid.objects.none(), required=False, empty_label=_("全部网格")
    )
    tag = forms.ChoiceField(
        label=_("重点人群"), choices=[("", _("全部")), *CareTag.choices], required=False
    )

    def __init__(self, *args: Any, grids: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["grid"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = grids if grids is not None else Grid.objects.none()


def add_action_errors(form: forms.Form, error: ValidationError) -> None:
    """Show an action's ValidationError on the form: per field where the form has it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)


class BuildingChoiceField(forms.ModelMultipleChoiceField[Building]):
    def label_from_instance(self, obj: Building) -> str:
        """A building with the grid it is in now, so moving it is a visible choice."""
        if obj.grid is None:
            return str(obj)
        return f"{obj}（{obj.grid.name}）"


class GridForm(forms.Form):
    """A grid's name and code, its grid workers and the buildings it covers."""

    name = forms.CharField(label=_("网格名称"), max_length=64)
    code = forms.SlugField(label=_("编码"), max_length=32, help_text=_("字母、数字或短横线"))
    workers = forms.ModelMultipleChoiceField(
        label=_("网格员"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    buildings = BuildingChoiceField(
        label=_("覆盖楼栋"),
        queryset=Building.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        workers = self.fields["workers"]
        buildings = self.fields["buildings"]
        assert isinstance(workers, forms.ModelMultipleChoiceField)  # noqa: S101
        assert isinstance(buildings, forms.ModelMultipleChoiceField)  # noqa: S101
        workers.queryset = eligible_grid_workers(community)
        buildings.queryset = (
            Building.objects.filter(compound__community=community)
            .select_related("compound", "grid")
            .order_by("compound__name", "sort_key", "name")
        )
