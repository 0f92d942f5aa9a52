"""The issue form, the revoke form and the checkpoint's code box."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.passes.choices import PassReason


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class PassForm(forms.Form):
    reason = forms.ChoiceField(label=_("外出事由"), choices=PassReason.choices)
    destination = forms.CharField(label=_("前往医院/地点"), max_length=120)
    valid_from = forms.DateTimeField(label=_("有效期自"), widget=DateTimeInput())
    valid_until = forms.DateTimeField(label=_("有效期至"), widget=DateTimeInput())
    companion_name = forms.CharField(label=_("陪同人"), max_length=32, required=False)
    companion_phone = forms.CharField(label=_("陪同人电话"), max_length=20, required=False)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("作废原因"), max_length=200)


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=_("证明编码"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "autofocus": True}
        ),
    )
