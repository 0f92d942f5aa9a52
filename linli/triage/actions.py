"""All writes to triage rules: typed inputs, Chinese errors naming the field, who and when,
and the compiled-rule cache cleared once the change is committed."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.registry.models import Community
from linli.triage import access
from linli.triage.choices import Category, Urgency
from linli.triage.engine import split_keywords
from linli.triage.models import TriageRule
from linli.triage.rules import invalidate

MAX_KEYWORDS = 300
MAX_KEYWORD_LENGTH = 40


@dataclass(frozen=True)
class RuleInput:
    name: str
    keywords: str  # one per line, or separated by commas
    category: str = ""
    urgency: str = ""
    priority: int = 50
    negatable: bool = True
    enabled: bool = True
    note: str = ""


def _clean(data: RuleInput) -> tuple[RuleInput, str]:
    """The input checked, and its keywords one per line."""
    errors: dict[str, list[str]] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = [_("请填写规则名称")]
    elif len(name) > 64:
        errors["name"] = [_("规则名称不能超过64个字")]
    words = split_keywords(data.keywords)
    if not words:
        errors["keywords"] = [_("请至少填写一个关键词")]
    elif len(words) > MAX_KEYWORDS:
        errors["keywords"] = [_("关键词不能超过%(n)d个") % {"n": MAX_KEYWORDS}]
    elif any(len(w) > MAX_KEYWORD_LENGTH for w in words):
        errors["keywords"] = [_("每个关键词不能超过%(n)d个字") % {"n": MAX_KEYWORD_LENGTH}]
    if data.category and data.category not in Category.values:
        errors["category"] = [_("无效的类别：%(v)s") % {"v": data.category}]
    if data.urgency and data.urgency not in Urgency.values:
        errors["urgency"] = [_("无效的紧急程度：%(v)s") % {"v": data.urgency}]
    if not data.category and not data.urgency:
        errors["category"] = [_("类别和紧急程度至少选一项")]
    if not -1000 <= data.priority <= 1000:
        errors["priority"] = [_("优先级应在 -1000 到 1000 之间")]
    if len(data.note) > 200:
        errors["note"] = [_("备注不能超过200个字")]
    if errors:
        raise ValidationError(errors)
    return data, "\n".join(words)


def _apply(rule: TriageRule, data: RuleInput, keywords: str, actor: User) -> None:
    rule.name = data.name.strip()
    rule.keywords = keywords
    rule.category = data.category
    rule.urgency = data.urgency
    rule.priority = data.priority
    rule.negatable = data.negatable
    rule.enabled = data.enabled
    rule.note = data.note.strip()
    rule.updated_by = actor


def _check(actor: User, rule: TriageRule) -> None:
    if not access.may_edit(actor, rule):
        raise PermissionDenied(
            _("默认规则只有系统管理员可以修改；请用“在本社区覆盖”建立本社区的规则")
            if rule.community_id is None
            else _("您的角色无权修改分诊规则")
        )


@transaction.atomic
def rule_create(*, actor: User, community: Community | None, data: RuleInput) -> TriageRule:
    """A new rule of a community (or a default rule, for the site operator)."""
    rule = TriageRule(community=community, created_by=actor)
    _check(actor, rule)
    data, keywords = _clean(data)
    _apply(rule, data, keywords, actor)
    rule.save()
    transaction.on_commit(invalidate)
    return rule


@transaction.atomic
def rule_update(*, actor: User, rule: TriageRule, data: RuleInput) -> TriageRule:
    rule = TriageRule.objects.select_for_update().get(pk=rule.pk)
    _check(actor, rule)
    data, keywords = _clean(data)
    _apply(rule, data, keywords, actor)
    rule.save()
    transaction.on_commit(invalidate)
    return rule


@transaction.atomic
def rule_set_enabled(*, actor: User, rule: TriageRule, enabled: bool) -> TriageRule:
    """Switch a rule off (kept, and can be switched on again) or on."""
    rule = TriageRule.objects.select_for_update().get(pk=rule.pk)
    _check(actor, rule)
    rule.enabled = enabled
    rule.updated_by = actor
    rule.save(update_fields=["enabled", "updated_by", "updated_at"])
    transaction.on_commit(invalidate)
    return rule


@transaction.atomic
def rule_override(*, actor: User, rule: TriageRule, community: Community) -> TriageRule:
    """A community's own copy of a default rule: its words now follow the copy (edit it, or
    switch it off to stop the default words triggering in this community)."""
    if rule.community_id is not None:
        raise ValidationError({"rule": [_("只能覆盖默认规则")]})
    copy = TriageRule(community=community, created_by=actor)
    _check(actor, copy)
    data = RuleInput(
        name=rule.name,
        keywords=rule.keywords,
        category=rule.category,
        urgency=rule.urgency,
        priority=rule.priority,
        negatable=rule.negatable,
        enabled=True,
        note=_("覆盖默认规则“%(name)s”") % {"name": rule.name},
    )
    _apply(copy, data, rule.keywords, actor)
    copy.save()
    transaction.on_commit(invalidate)
    return copy


@transaction.atomic
def rule_delete(*, actor: User, rule: TriageRule) -> None:
    """Only a community's own rule goes away (its default words apply again)."""
    rule = TriageRule.objects.select_for_update().get(pk=rule.pk)
    _check(actor, rule)
    if rule.community_id is None:
        raise ValidationError({"rule": [_("默认规则不能删除，只能停用")]})
    rule.delete()
    transaction.on_commit(invalidate)
