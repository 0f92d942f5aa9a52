"""诉求分诊: the rules that triage a request, as data (defaults, and each community's own)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.registry.models import Community
from linli.triage.choices import Category, Urgency
from linli.triage.engine import CompiledRule, split_keywords


class TriageRuleQuerySet(models.QuerySet["TriageRule"]):
    def defaults(self) -> TriageRuleQuerySet:
        return self.filter(community__isnull=True)

    def for_community(self, community_id: int | None) -> TriageRuleQuerySet:
        """The defaults and the community's own rules (what its rules page lists)."""
        if community_id is None:
            return self.defaults()
        return self.filter(Q(community__isnull=True) | Q(community_id=community_id))

    def effective_for(self, community_id: int | None) -> list[tuple[TriageRule, frozenset[str]]]:
        """The rules that apply in a community, each with the keywords to leave out of it: a
        community's own rule (enabled or not) takes over every keyword it names from the
        defaults, so a community can change or switch off one default word."""
        rules = list(self.for_community(community_id).order_by("-priority", "pk"))
        own_words = frozenset(
            word for rule in rules if rule.community_id is not None for word in rule.keyword_list
        )
        effective: list[tuple[TriageRule, frozenset[str]]] = []
        for rule in rules:
            if not rule.enabled:
                continue
            drop = own_words if rule.community_id is None else frozenset()
            effective.append((rule, drop))
        return effective


TriageRuleManager = models.Manager.from_queryset(TriageRuleQuerySet)


class TriageRule(models.Model):
    community = models.ForeignKey(
        Community,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="triage_rules",
        verbose_name=_("社区"),
        help_text=_("留空 = 所有社区的默认规则"),
    )
    name = models.CharField(_("规则名称"), max_length=64)
    keywords = models.TextField(
        _("关键词"),
        help_text=_("每行一个词或短语；用“+”连接的几个词须同时出现，如“胰岛素+没了”"),
    )
    category = models.CharField(_("归入类别"), max_length=16, choices=Category.choices, blank=True)
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, blank=True)
    priority = models.SmallIntegerField(
        _("优先级"), default=50, help_text=_("多条规则命中不同类别时，优先级高的决定类别")
    )
    negatable = models.BooleanField(
        _("识别否定"), default=True, help_text=_("“不痛”“没有发烧”这样被否定的词不算命中")
    )
    enabled = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("修改人"),
    )

    objects: ClassVar[TriageRuleManager[TriageRule]] = TriageRuleManager()

    class Meta:
        ordering = ["community_id", "-priority", "pk"]
        verbose_name = _("分诊规则")
        verbose_name_plural = _("分诊规则")
        constraints = [
            models.CheckConstraint(
                condition=~Q(category="", urgency=""), name="triage_rule_implies_something"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def keyword_list(self) -> tuple[str, ...]:
        return split_keywords(self.keywords)

    @property
    def is_default(self) -> bool:
        return self.community_id is None

    def compiled(self, *, drop: frozenset[str] = frozenset()) -> CompiledRule:
        return CompiledRule(
            rule_id=self.pk,
            keywords=tuple(word for word in self.keyword_list if word not in drop),
            category=self.category,
            urgency=self.urgency,
            priority=self.priority,
            negatable=self.negatable,
        )
