"""Checkpoint page forms: they parse input; the rules live in checkpoints.actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.accounts.choices import Role
from linli.accounts.models import User
from linli.checkpoints.choices import HealthCode
from linli.checkpoints.models import Checkpoint, CheckpointGate
from linli.registry.models import Building, Compound, Gate, UserArea
from linli.workforce.choices import Skill
from linli.workforce.models import Team

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class GateCheckboxes(forms.CheckboxSelectMultiple):
    """Gate checkboxes; a gate that another checkpoint already has is shown, but disabled."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.taken: dict[int, str] = {}

    def create_option(
        self,
        name: str,
        value: Any,
        label: Any,
        selected: Any,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        pk = getattr(value, "value", value)
        if pk in self.taken:
            option["attrs"]["disabled"] = True
            option["label"] = _("%(gate)s（已属于卡口“%(checkpoint)s”）") % {
                "gate": label,
                "checkpoint": self.taken[pk],
            }
        return option


class GateChoiceField(forms.ModelMultipleChoiceField[Gate]):
    def label_from_instance(self, obj: Gate) -> str:
        return obj.name


class KeeperChoiceField(forms.ModelMultipleChoiceField[User]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keeping: dict[int, list[str]] = {}

    def label_from_instance(self, obj: User) -> str:
        elsewhere = self.keeping.get(obj.pk)
        if not elsewhere:
            return str(obj)
        return _("%(user)s（已值守：%(checkpoints)s）") % {
            "user": obj,
            "checkpoints": "、".join(elsewhere),
        }


class CheckpointForm(forms.Form):
    name = forms.CharField(label=_("卡口名称"), max_length=64)
    gates = GateChoiceField(
        label=_("出入口"),
        queryset=Gate.objects.none(),
        required=False,
        widget=GateCheckboxes,
        help_text=_("一个出入口只能归入一个卡口"),
    )
    buildings = forms.ModelMultipleChoiceField(
        label=_("服务楼栋"),
        queryset=Building.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    keepers = KeeperChoiceField(
        label=_("值守人员"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("卡口值守账号：本社区的，以及尚未分配社区的"),
    )
    team: forms.ModelChoiceField[Team] = forms.ModelChoiceField(
        label=_("值守队伍"), queryset=Team.objects.none(), required=False, empty_label="—"
    )
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self, *args: Any, compound: Compound, checkpoint: Checkpoint | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        community = compound.community
        gates = self.fields["gates"]
        assert isinstance(gates, GateChoiceField)  # noqa: S101
        gates.queryset = Gate.objects.filter(compound=compound).order_by("name")
        links = CheckpointGate.objects.filter(gate__compound=compound).select_related("checkpoint")
        if checkpoint is not None:
            links = links.exclude(checkpoint=checkpoint)
        assert isinstance(gates.widget, GateCheckboxes)  # noqa: S101
        gates.widget.taken = {link.gate_id: link.checkpoint.name for link in links}

        buildings = self.fields["buildings"]
        assert isinstance(buildings, forms.ModelMultipleChoiceField)  # noqa: S101
        buildings.queryset = Building.objects.filter(compound=compound).order_by("sort_key", "name")

        keepers = self.fields["keepers"]
        assert isinstance(keepers, KeeperChoiceField)  # noqa: S101
        elsewhere = UserArea.objects.exclude(community=None).exclude(community_id=community.pk)
        current = checkpoint.keepers.values("pk") if checkpoint else User.objects.none()
        keepers.queryset = (
            User.objects.filter(role=Role.CHECKPOINT_KEEPER)
            .filter(Q(is_active=True) | Q(pk__in=current))
            .exclude(Q(pk__in=elsewhere.values("user_id")) & ~Q(pk__in=current))
            .order_by("display_name", "username")
        )
        kept = Checkpoint.keepers.through.objects.filter(
            user_id__in=keepers.queryset.values("pk")
        ).select_related("checkpoint")
        if checkpoint is not None:
            kept = kept.exclude(checkpoint=checkpoint)
        # A new dict per form: Field.__deepcopy__ is shallow, so mutating would leak.
        keeping: dict[int, list[str]] = {}
        for row in kept:
            keeping.setdefault(row.user_id, []).append(row.checkpoint.name)
        keepers.keeping = keeping

        team = self.fields["team"]
        assert isinstance(team, forms.ModelChoiceField)  # noqa: S101
        team.queryset = Team.objects.filter(community=community).order_by("name")


class ShiftForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=_("开始时间"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    ends_at = forms.DateTimeField(
        label=_("结束时间"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    needed = forms.IntegerField(label=_("所需人数"), initial=2, min_value=1, max_value=50)
    required_skills = forms.MultipleChoiceField(
        label=_("所需技能"),
        choices=Skill.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


DECISIONS = [("accept", _("放行")), ("refuse", _("拒绝"))]


class CourierForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=64)
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "numeric"}),
    )
    company = forms.CharField(label=_("公司/平台"), max_length=64, required=False)
    health_code = forms.ChoiceField(
        label=_("健康码"),
        choices=HealthCode.choices,
        initial=HealthCode.GREEN,
        widget=forms.RadioSelect,
    )
    test_checked = forms.BooleanField(label=_("已查验核酸阴性证明"), required=False)
    parcels = forms.IntegerField(label=_("件数"), min_value=0, initial=0)
    decision = forms.ChoiceField(
        label=_("处理"), choices=DECISIONS, initial="accept", widget=forms.RadioSelect
    )
    refusal_reason = forms.CharField(
        label=_("拒绝原因"), max_length=200, required=False, help_text=_("拒绝时必填")
    )


class GoodsForm(forms.Form):
    sender = forms.CharField(label=_("发货方"), max_length=100)
    count = forms.IntegerField(label=_("件数"), min_value=1, initial=1)
    description = forms.CharField(label=_("物资说明"), max_length=200, required=False)
    buildings = forms.ModelMultipleChoiceField(
        label=_("送往楼栋"),
        queryset=Building.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选则为本卡口服务的全部楼栋"),
    )

    def __init__(self, *args: Any, checkpoint: Checkpoint, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        buildings = self.fields["buildings"]
        assert isinstance(buildings, forms.ModelMultipleChoiceField)  # noqa: S101
        buildings.queryset = Building.objects.filter(compound_id=checkpoint.compound_id).order_by(
            "sort_key", "name"
        )


class DayForm(forms.Form):
    date = forms.DateField(
        label=_("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def day(self, today: dt.date) -> dt.date:
        if self.is_valid() and self.cleaned_data["date"]:
            day: dt.date = self.cleaned_data["date"]
            return day
        return today
