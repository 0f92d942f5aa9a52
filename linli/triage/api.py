"""诉求分诊 in the REST API (errors: linli/api.py): triage a text, and the rules (defaults and a
community's own) for community staff."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.api import api_user
from linli.accounts.models import User
from linli.lib import rest
from linli.lib.rest import ERRORS, InputSchema, local_time
from linli.triage import access, actions
from linli.triage.choices import Category, Urgency
from linli.triage.evaluation import LABELLED_SET, ClassScore, evaluate, read_labelled
from linli.triage.models import TriageRule
from linli.triage.rules import classify

router = Router(tags=["分诊"])

CATEGORY_HELP = "类别：" + "、".join(f"{c.value}（{c.label}）" for c in Category)
URGENCY_HELP = "紧急程度：" + "、".join(f"{u.value}（{u.label}）" for u in Urgency)


def _triager(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_triage(user), _("您的角色无权使用分诊"))
    return user


def _editor(request: HttpRequest) -> User:
    user = api_user(request)
    rest.require(access.can_edit_rules(user), _("您的角色无权修改分诊规则"))
    return user


class TriageIn(InputSchema):
    text: str = Field(min_length=1, max_length=5000, description="诉求原文")
    community: str | None = Field(None, description="社区编码；不填则用本人社区（或默认规则）")


class TriageOut(Schema):
    category: str = Field(description=CATEGORY_HELP)
    category_label: str
    urgency: str = Field(description=URGENCY_HELP)
    urgency_label: str
    reasons: list[str] = Field(description="触发的关键词")


@router.post("/triage", response={200: TriageOut, **ERRORS})
def triage(request: HttpRequest, payload: TriageIn) -> TriageOut:
    """Category, urgency and the words that triggered them, by the community's rules."""
    user = _triager(request)
    community = access.rules_community(user, payload.community)
    result = classify(payload.text, community)
    return TriageOut(
        category=result.category,
        category_label=str(Category(result.category).label),
        urgency=result.urgency,
        urgency_label=str(Urgency(result.urgency).label),
        reasons=result.reasons,
    )


class RuleIn(InputSchema):
    name: str = Field(min_length=1, max_length=64)
    keywords: list[str] = Field(
        min_length=1, description="关键词；用“+”连接须同时出现的词，用“|”分隔可选的词"
    )
    # Plain strings checked by the action: a schema enum would list its values in the 400
    # that any role gets before the role check.
    category: str = Field("", max_length=16, description=CATEGORY_HELP)
    urgency: str = Field("", max_length=16, description=URGENCY_HELP)
    priority: int = Field(50, ge=-1000, le=1000)
    negatable: bool = Field(True, description="被否定的词（不痛、没有发烧）不算命中")
    enabled: bool = True
    note: str = Field("", max_length=200)

    def as_input(self) -> actions.RuleInput:
        return actions.RuleInput(
            name=self.name,
            keywords="\n".join(self.keywords),
            category=self.category,
            urgency=self.urgency,
            priority=self.priority,
            negatable=self.negatable,
            enabled=self.enabled,
            note=self.note,
        )


class RuleCreateIn(RuleIn):
    community: str | None = Field(None, description="社区编码；不填则为本人社区")


class RuleOut(Schema):
    id: int
    community: str | None = Field(description="社区编码；null = 默认规则")
    name: str
    keywords: list[str]
    category: str
    urgency: str
    priority: int
    negatable: bool
    enabled: bool
    note: str
    updated_at: dt.datetime | None
    updated_by: str


def _rule_out(rule: TriageRule) -> RuleOut:
    by = rule.updated_by
    return RuleOut(
        id=rule.pk,
        community=rule.community.code if rule.community else None,
        name=rule.name,
        keywords=list(rule.keyword_list),
        category=rule.category,
        urgency=rule.urgency,
        priority=rule.priority,
        negatable=rule.negatable,
        enabled=rule.enabled,
        note=rule.note,
        updated_at=local_time(rule.updated_at),
        updated_by=(by.display_name or by.username) if by else "",
    )


class RuleQuery(Schema):
    community: str | None = Field(None, description="社区编码：该社区的规则和默认规则")


@router.get("/triage/rules", response={200: list[RuleOut], **ERRORS})
def rule_list(request: HttpRequest, query: Query[RuleQuery]) -> list[RuleOut]:
    """The defaults and the rules of the communities in your area (or of one community)."""
    user = _triager(request)
    rules = access.visible_rules(user)
    if query.community:
        community = access.rules_community(user, query.community)
        rules = rules.filter(
            pk__in=TriageRule.objects.for_community(community.pk if community else None)
        )
    return [_rule_out(rule) for rule in rules.order_by("community_id", "-priority", "pk")]


@router.post("/triage/rules", response={201: RuleOut, **ERRORS})
def rule_create(request: HttpRequest, payload: RuleCreateIn) -> Status[RuleOut]:
    """A rule of your community (its words override the same words of the defaults)."""
    user = _editor(request)
    community = access.rules_community(user, payload.community)
    rule = actions.rule_create(actor=user, community=community, data=payload.as_input())
    return Status(201, _rule_out(access.get_rule_for(user, rule.pk)))


@router.get("/triage/rules/{rule_id}", response={200: RuleOut, **ERRORS})
def rule_detail(request: HttpRequest, rule_id: int) -> RuleOut:
    user = _triager(request)
    return _rule_out(access.get_rule_for(user, rule_id))


@router.put("/triage/rules/{rule_id}", response={200: RuleOut, **ERRORS})
def rule_update(request: HttpRequest, rule_id: int, payload: RuleIn) -> RuleOut:
    """Change a rule of your community (a default one: the site operator only)."""
    user = _editor(request)
    rule = access.get_rule_for(user, rule_id)
    actions.rule_update(actor=user, rule=rule, data=payload.as_input())
    return _rule_out(access.get_rule_for(user, rule_id))


@router.delete("/triage/rules/{rule_id}", response={204: None, **ERRORS})
def rule_delete(request: HttpRequest, rule_id: int) -> Status[None]:
    """Delete a community's own rule (defaults can only be switched off)."""
    user = _editor(request)
    actions.rule_delete(actor=user, rule=access.get_rule_for(user, rule_id))
    return Status(204, None)


class EnabledIn(InputSchema):
    enabled: bool


@router.post("/triage/rules/{rule_id}/enabled", response={200: RuleOut, **ERRORS})
def rule_enabled(request: HttpRequest, rule_id: int, payload: EnabledIn) -> RuleOut:
    """Switch a rule on or off (kept either way)."""
    user = _editor(request)
    rule = access.get_rule_for(user, rule_id)
    actions.rule_set_enabled(actor=user, rule=rule, enabled=payload.enabled)
    return _rule_out(access.get_rule_for(user, rule_id))


class OverrideIn(InputSchema):
    community: str | None = Field(None, description="社区编码；不填则为本人社区")


@router.post("/triage/rules/{rule_id}/override", response={201: RuleOut, **ERRORS})
def rule_override(request: HttpRequest, rule_id: int, payload: OverrideIn) -> Status[RuleOut]:
    """Your community's own copy of a default rule, to edit or switch off."""
    user = _editor(request)
    rule = access.get_rule_for(user, rule_id)
    community = access.rules_community(user, payload.community)
    if community is None:
        rest.require(False, _("请指定社区"))
    assert community is not None  # noqa: S101
    copy = actions.rule_override(actor=user, rule=rule, community=community)
    return Status(201, _rule_out(access.get_rule_for(user, copy.pk)))


class ScoreOut(Schema):
    label: str
    name: str
    support: int
    precision: float
    recall: float
    f1: float


class EvaluationOut(Schema):
    size: int
    category_accuracy: float
    urgency_accuracy: float
    both_accuracy: float
    critical_recall: float
    categories: list[ScoreOut]
    urgencies: list[ScoreOut]


@router.get("/triage/evaluation", response={200: EvaluationOut, **ERRORS})
def evaluation(request: HttpRequest, query: Query[RuleQuery]) -> EvaluationOut:
    """How the rules (of a community, or the defaults) score on the shipped labelled set."""
    user = _triager(request)
    community = access.rules_community(user, query.community)
    result = evaluate(read_labelled(LABELLED_SET), lambda text: classify(text, community))
    names = {**dict(Category.choices), **dict(Urgency.choices)}

    def scores(items: list[ClassScore]) -> list[ScoreOut]:
        return [
            ScoreOut(
                label=s.label,
                name=str(names[s.label]),
                support=s.support,
                precision=round(s.precision, 4),
                recall=round(s.recall, 4),
                f1=round(s.f1, 4),
            )
            for s in items
        ]

    return EvaluationOut(
        size=result.size,
        category_accuracy=round(result.category_accuracy, 4),
        urgency_accuracy=round(result.urgency_accuracy, 4),
        both_accuracy=round(result.both_accuracy, 4),
        critical_recall=round(result.critical_recall, 4),
        categories=scores(result.categories),
        urgencies=scores(result.urgencies),
    )
