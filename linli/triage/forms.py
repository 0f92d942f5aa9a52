"""The rule form and the try-it box of the rules page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.triage.actions import RuleInput
from linli.triage.choices import Category, Urgency


class RuleForm(forms.Form):
    name = forms.CharField(label=_("规则名称"), max_length=64)
    keywords = forms.CharField(
        label=_("关键词"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "每行一个词或短语。用“+”连接须同时出现的词（胰岛素+没了），"
            "用“|”分隔可以互换的词（胰岛素+没了|用完|断）。"
        ),
    )
    category = forms.ChoiceField(
        label=_("归入类别"), choices=[("", _("（不决定类别）")), *Category.choices], required=False
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"),
        choices=[("", _("（不决定紧急程度）")), *Urgency.choices],
        required=False,
    )
    priority = forms.IntegerField(
        label=_("优先级"),
        initial=50,
        min_value=-1000,
        max_value=1000,
        help_text=_("命中多个类别时，优先级高的决定类别（默认规则在 10–96 之间）"),
    )
    negatable = forms.BooleanField(
        label=_("识别否定（“不痛”“没有发烧”不算命中）"), required=False, initial=True
    )
    enabled = forms.BooleanField(label=_("启用"), required=False, initial=True)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def as_input(self) -> RuleInput:
        data = self.cleaned_data
        return RuleInput(
            name=data["name"],
            keywords=data["keywords"],
            category=data["category"],
            urgency=data["urgency"],
            priority=data["priority"],
            negatable=data["negatable"],
            enabled=data["enabled"],
            note=data["note"],
        )


class TryForm(forms.Form):
    text = forms.CharField(
        label=_("试一试"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("例：我母亲92岁了，心绞痛发作")}),
    )
