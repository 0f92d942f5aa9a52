"""Page forms for volunteers, teams and tasks: they parse input; the rules live in the actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import User
from linli.registry.models import Building, Community, Compound, Unit
from linli.workforce.actions import SignupInput
from linli.workforce.choices import (
    Skill,
    TaskKind,
    TaskStatus,
    TeamKind,
    TimeSlot,
    VolunteerStatus,
    Weekday,
    availability_choices,
)

# --- volunteer side ---


class SignupForm(forms.Form):
    """The public sign-up page (QR poster). Numbers and duplicates are the action's to check."""

    name = forms.CharField(
        label=_("姓名"), max_length=64, error_messages={"required": _("请填写姓名")}
    )
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        error_messages={"required": _("请填写手机号")},
        help_text=_("审核通过后用手机号和密码登录"),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    id_number = forms.CharField(
        label=_("身份证号"), max_length=18, error_messages={"required": _("请填写身份证号")}
    )
    compound = forms.TypedChoiceField(
        label=_("居住小区"),
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": _("所选小区不属于本社区")},
    )
    building = forms.TypedChoiceField(
        label=_("楼栋"),
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": _("所选楼栋不属于本社区")},
    )
    skills = forms.MultipleChoiceField(
        label=_("技能"), choices=Skill.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    availability = forms.MultipleChoiceField(
        label=_("可服务时段"),
        choices=availability_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_party_member = forms.BooleanField(label=_("是否党员"), required=False)
    work_unit = forms.CharField(label=_("工作单位（在职党员报到）"), max_length=100, required=False)
    last_negative_test_at = forms.DateTimeField(
        label=_("最近一次核酸阴性时间"),
        required=False,
        # A browser's datetime-local has no zone: it is read as Asia/Shanghai (TIME_ZONE).
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("请填写有效的日期和时间")},
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        error_messages={"required": _("请设置密码")},
        help_text=_("至少10位，不能全是数字"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("确认密码"),
        strip=False,
        error_messages={"required": _("请再次输入密码")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(
        self, *args: Any, community: Community, buildings_url: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        compounds = list(Compound.objects.filter(community=community).order_by("name"))
        buildings = list(
            Building.objects.filter(compound__community=community).order_by(
                "compound__name", "sort_key", "name"
            )
        )
        self.compounds = {c.pk: c for c in compounds}
        self.buildings = {b.pk: b for b in buildings}
        compound_field = self.fields["compound"]
        building_field = self.fields["building"]
        assert isinstance(compound_field, forms.ChoiceField)  # noqa: S101
        assert isinstance(building_field, forms.ChoiceField)  # noqa: S101
        compound_field.choices = [("", _("请选择小区")), *((c.pk, c.name) for c in compounds)]
        if buildings_url:
            compound_field.widget.attrs.update(
                {"hx-get": buildings_url, "hx-target": "#id_building", "hx-trigger": "change"}
            )
        # Grouped by compound, so the list works without script; HTMX narrows it further.
        building_field.choices = [
            ("", _("请选择楼栋")),
            *(
                (c.name, [(b.pk, b.name) for b in buildings if b.compound_id == c.pk])
                for c in compounds
            ),
        ]

    def clean_password2(self) -> str:
        password2: str = self.cleaned_data.get("password2", "")
        if password2 and password2 != self.cleaned_data.get("password"):
            raise forms.ValidationError(_("两次输入的密码不一致"))
        return password2

    def signup_input(self) -> SignupInput:
        data = self.cleaned_data
        return SignupInput(
            name=data["name"],
            phone=data["phone"],
            id_number=data["id_number"],
            password=data["password"],
            compound=self.compounds.get(data["compound"]) if data["compound"] else None,
            building=self.buildings.get(data["building"]) if data["building"] else None,
            skills=data["skills"],
            availability=data["availability"],
            is_party_member=data["is_party_member"],
            work_unit=data["work_unit"],
            last_negative_test_at=data["last_negative_test_at"],
        )

    def availability_grid(self) -> list[tuple[str, list[tuple[str, str, bool]]]]:
        """Rows of days, columns of 上午/下午/晚上: (value, label, checked) per cell."""
        chosen = set(self["availability"].value() or [])
        slots = dict(TimeSlot.choices)
        return [
            (
                str(day.label),
                [
                    (f"{day.value}-{slot}", f"{day.label}{label}", f"{day.value}-{slot}" in chosen)
                    for slot, label in slots.items()
                ],
            )
            for day in Weekday
        ]


class NegativeTestForm(forms.Form):
    last_negative_test_at = forms.DateTimeField(
        label=_("最近一次核酸阴性时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "required": _("请填写核酸阴性时间"),
            "invalid": _("请填写有效的日期和时间"),
        },
    )


class FinishForm(forms.Form):
    note = forms.CharField(label=_("完成说明"), max_length=200, required=False)
    photo = forms.ImageField(
        label=_("照片（可选）"),
        required=False,
        error_messages={"invalid_image": _("请上传照片（jpg、png 等图片）")},
    )


class DoorCodeForm(forms.Form):
    code = forms.CharField(
        label=_("收货码"),
        max_length=8,
        error_messages={"required": _("请输入住户告知的收货码")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"}
        ),
    )


class DoorPhotoForm(forms.Form):
    photo = forms.ImageField(
        label=_("门口照片（可选）"),
        required=False,
        error_messages={"invalid_image": _("请上传照片（jpg、png 等图片）")},
    )


# --- staff side ---


class VolunteerFilterForm(forms.Form):
    q = forms.CharField(
        label=_("姓名"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("按姓名搜索")}),
    )
    status = forms.ChoiceField(
        label=_("状态"),
        choices=[("", _("全部（待审核在前）")), *VolunteerStatus.choices],
        required=False,
    )
    skill = forms.ChoiceField(
        label=_("技能"), choices=[("", _("全部技能")), *Skill.choices], required=False
    )
    party = forms.ChoiceField(
        label=_("党员"),
        choices=[("", _("全部")), ("yes", _("党员")), ("no", _("非党员"))],
        required=False,
    )


class VolunteerReviewForm(forms.Form):
    status = forms.ChoiceField(
        label=_("审核结果"),
        choices=[
            (VolunteerStatus.VERIFIED, _("通过")),
            (VolunteerStatus.REJECTED, _("不通过")),
            (VolunteerStatus.SUSPENDED, _("暂停")),
        ],
    )
    reason = forms.CharField(label=_("原因（不通过、暂停时必填）"), max_length=200, required=False)


class VolunteerRevealForm(forms.Form):
    field = forms.ChoiceField(choices=[("id_number", _("身份证号")), ("phone", _("手机号"))])
    reason = forms.CharField(label=_("查看原因"), max_length=200, min_length=2)


class CommunityRulesForm(forms.Form):
    # Ranges are checked by the action (the API and the CLI go through it too).
    volunteer_test_required = forms.BooleanField(
        label=_("志愿者须持有效核酸阴性证明"), required=False
    )
    volunteer_test_hours = forms.IntegerField(
        label=_("核酸阴性有效时长（小时）"),
        help_text=_("1 到 336 小时"),
        widget=forms.NumberInput(attrs={"min": 1, "max": 336}),
    )
    goods_hold_minutes = forms.IntegerField(
        label=_("物资消杀后静置时长（分钟）"),
        help_text=_("0 到 1440 分钟"),
        widget=forms.NumberInput(attrs={"min": 0, "max": 1440}),
    )


class PersonChoiceField(forms.ModelMultipleChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        role = obj.get_role_display() if obj.role else ""
        return f"{obj}（{role}）" if role else str(obj)


class TeamForm(forms.Form):
    name = forms.CharField(label=_("队伍名称"), max_length=64)
    kind = forms.ChoiceField(label=_("类型"), choices=TeamKind.choices)
    leader: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        label=_("负责人"), queryset=User.objects.none(), required=False, empty_label="—"
    )
    members = PersonChoiceField(
        label=_("成员"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "pick"}),
    )
    buildings = forms.ModelMultipleChoiceField(
        label=_("服务楼栋"),
        queryset=Building.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "pick"}),
    )

    def __init__(
        self,
        *args: Any,
        people: QuerySet[User],
        buildings: QuerySet[Building],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, queryset in (("leader", people), ("members", people), ("buildings", buildings)):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
            field.queryset = queryset


# The board's default: what still needs doing (not done, not cancelled).
ACTIVE = "active"
ALL = "all"


class TaskFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        choices=[(ACTIVE, _("未完成")), (ALL, _("全部")), *TaskStatus.choices],
        required=False,
    )
    kind = forms.ChoiceField(
        label=_("类型"), choices=[("", _("全部类型")), *TaskKind.choices], required=False
    )
    day = forms.DateField(
        label=_("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class TaskForm(forms.Form):
    community: forms.ModelChoiceField[Community] = forms.ModelChoiceField(
        label=_("社区"), queryset=Community.objects.none(), empty_label=None
    )
    kind = forms.ChoiceField(label=_("类型"), choices=TaskKind.choices)
    title = forms.CharField(label=_("标题"), max_length=100)
    description = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    buildings = forms.ModelMultipleChoiceField(
        label=_("楼栋"),
        queryset=Building.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "pick"}),
    )
    place = forms.CharField(
        label=_("地点"), max_length=160, required=False, help_text=_("留空则按楼栋填写")
    )
    starts_at = forms.DateTimeField(
        label=_("开始时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = forms.DateTimeField(
        label=_("结束时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    required_skills = forms.MultipleChoiceField(
        label=_("所需技能"),
        choices=Skill.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    size = forms.IntegerField(
        label=_("工作量（袋/户/人）"), required=False, help_text=_("留空则按户数计")
    )
    # Door kinds: a unit to list its rooms, the ticked households and what each gets.
    unit: forms.ModelChoiceField[Unit] = forms.ModelChoiceField(
        label=_("选择单元"), queryset=Unit.objects.none(), required=False, empty_label="—"
    )
    items = forms.CharField(label=_("每户物品 / 服务内容"), max_length=300, required=False)

    def __init__(
        self,
        *args: Any,
        communities: QuerySet[Community],
        buildings: QuerySet[Building],
        units: QuerySet[Unit],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for name, queryset in (
            ("community", communities),
            ("buildings", buildings),
            ("unit", units),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
            field.queryset = queryset
        if len(communities) == 1:
            self.fields["community"].initial = communities[0].pk
            self.fields["community"].widget = forms.HiddenInput()


class AssignForm(forms.Form):
    # The options (with why each volunteer is or is not eligible) are drawn by the template;
    # whoever is chosen, the action decides.
    volunteer = forms.IntegerField(label=_("志愿者"))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)


class MinutesForm(forms.Form):
    minutes = forms.IntegerField(label=_("服务时长（分钟）"))


class FiguresFilterForm(forms.Form):
    since = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("结束日期不能早于开始日期"))
        return data
