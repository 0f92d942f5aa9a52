"""The rules page (/triage/rules/): defaults and the community's own rules, add / edit /
switch off / override a default, and a try-it box that shows what a text triggers."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.registry.access import request_user, require, visible_communities
from linli.registry.forms import add_action_errors
from linli.registry.models import Community
from linli.triage import access, actions
from linli.triage.choices import Category, Urgency
from linli.triage.forms import RuleForm, TryForm
from linli.triage.models import TriageRule
from linli.triage.rules import classify


def _back(community: Community | None) -> str:
    url = reverse("triage:rules")
    return f"{url}?community={community.code}" if community else url


@require(access.can_triage)
def rule_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    community = access.rules_community(user, request.GET.get("community") or None)
    rules = list(
        access.visible_rules(user)
        .filter(pk__in=TriageRule.objects.for_community(community.pk if community else None))
        .order_by("community_id", "-priority", "pk")
    )
    own = [r for r in rules if r.community_id is not None]
    taken = {word for rule in own for word in rule.keyword_list}
    defaults = [(r, [w for w in r.keyword_list if w in taken]) for r in rules if r.is_default]
    context = {
        "community": community,
        "own": own,
        "defaults": defaults,
        "can_edit": access.can_edit_rules(user) and community is not None,
        "can_edit_defaults": access.can_edit_default_rules(user),
        "try_form": TryForm(),
        "communities": list(visible_communities(user).order_by("code")[:50]),
    }
    return render(request, "triage/rule_list.html", context)


def _save(
    request: HttpRequest, community: Community | None, rule: TriageRule | None
) -> HttpResponse:
    user = request_user(request)
    initial = {}
    if rule is not None:
        initial = {
            "name": rule.name,
            "keywords": rule.keywords,
            "category": rule.category,
            "urgency": rule.urgency,
            "priority": rule.priority,
            "negatable": rule.negatable,
            "enabled": rule.enabled,
            "note": rule.note,
        }
    form = RuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                saved = actions.rule_create(actor=user, community=community, data=form.as_input())
            else:
                saved = actions.rule_update(actor=user, rule=rule, data=form.as_input())
        except ValidationError as e:
            add_action_errors(form, e)
        else:
            messages.success(request, _("规则“%(name)s”已保存") % {"name": saved.name})
            return redirect(_back(community))
    context = {"form": form, "rule": rule, "community": community}
    status = 400 if request.method == "POST" else 200
    return render(request, "triage/rule_form.html", context, status=status)


@require(access.can_edit_rules)
def rule_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    community = access.rules_community(user, request.GET.get("community") or None)
    if community is None and not access.can_edit_default_rules(user):
        raise PermissionDenied(_("请先选择社区"))
    return _save(request, community, None)


@require(access.can_edit_rules)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    rule = access.get_rule_for(user, pk)
    if not access.may_edit(user, rule):
        raise PermissionDenied(_("默认规则只有系统管理员可以修改；请用“在本社区覆盖”"))
    return _save(request, rule.community, rule)


@require_POST
@require(access.can_edit_rules)
def rule_enabled(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    rule = access.get_rule_for(user, pk)
    enabled = request.POST.get("enabled") == "1"
    actions.rule_set_enabled(actor=user, rule=rule, enabled=enabled)
    messages.success(
        request,
        (_("规则“%(name)s”已启用") if enabled else _("规则“%(name)s”已停用（可随时重新启用）"))
        % {"name": rule.name},
    )
    return redirect(_back(rule.community))


@require_POST
@require(access.can_edit_rules)
def rule_override(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    rule = access.get_rule_for(user, pk)
    community = access.rules_community(user, request.POST.get("community") or None)
    if community is None:
        raise PermissionDenied(_("请先选择社区"))
    try:
        copy = actions.rule_override(actor=user, rule=rule, community=community)
    except ValidationError as e:
        messages.error(request, "；".join(e.messages))
        return redirect(_back(community))
    messages.success(request, _("已建立本社区的规则，可修改或停用"))
    return redirect("triage:rule_edit", pk=copy.pk)


@require_POST
@require(access.can_edit_rules)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    rule = access.get_rule_for(user, pk)
    community = rule.community
    try:
        actions.rule_delete(actor=user, rule=rule)
    except ValidationError as e:
        messages.error(request, "；".join(e.messages))
    else:
        messages.success(request, _("规则“%(name)s”已删除") % {"name": rule.name})
    return redirect(_back(community))


@require(access.can_triage)
def try_text(request: HttpRequest) -> HttpResponse:
    """The try-it box: category, urgency and the words that triggered them."""
    user = request_user(request)
    community = access.rules_community(user, request.POST.get("community") or None)
    form = TryForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = classify(form.cleaned_data["text"], community)
    context = {
        "try_form": form,
        "result": result,
        "community": community,
        "category_label": Category(result.category).label if result else "",
        "urgency_label": Urgency(result.urgency).label if result else "",
    }
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    template = "triage/partials/try.html" if request.htmx else "triage/try.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=status)
