"""`linli triage "文本"` triages a text; `linli triage evaluate [FILE]` scores the rules on a
labelled set (exit 1 if a critical request is missed); `linli triage rules …` lists and
changes the rules."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.commandline import acting_as, format_fields, format_table, require
from linli.registry.models import Community
from linli.triage import access, actions
from linli.triage.choices import Category, Urgency
from linli.triage.evaluation import LABELLED_SET, ClassScore, evaluate, read_labelled
from linli.triage.models import TriageRule
from linli.triage.rules import classify

RULE_VERBS = ("list", "show", "add", "edit", "enable", "disable", "override", "delete")
USAGE = """linli triage "文本" [--community CODE]
linli triage evaluate [FILE] [--community CODE] [--misses]
linli triage rules list|show ID [--community CODE]
linli triage rules add|edit ID --actor USER --name … --keywords … [--category …] [--urgency …]
linli triage rules enable|disable|override|delete ID --actor USER"""


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


class Command(BaseCommand):
    help = "分诊：对一段文字分类并判断紧急程度；用标注样本评估规则；查看和修改规则。"

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.usage = USAGE
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("words", nargs="+", help=_("要分诊的文字，或 evaluate / rules …"))
        parser.add_argument("--community", help=_("社区编码：按该社区的规则"))
        parser.add_argument("--actor", help=_("以哪个账号的身份操作（用户名）"))
        parser.add_argument("--misses", action="store_true", help=_("评估时列出判错的样本"))
        parser.add_argument("--name")
        parser.add_argument("--keywords", help=_("关键词，逗号或换行分隔"))
        parser.add_argument("--category", choices=Category.values)
        parser.add_argument("--urgency", choices=Urgency.values)
        parser.add_argument("--priority", type=int)
        parser.add_argument("--no-negation", action="store_true", help=_("不识别否定"))
        parser.add_argument("--note")

    def handle(self, *args: Any, **options: Any) -> None:
        words: list[str] = options["words"]
        if words[0] == "evaluate" and len(words) <= 2:
            self.evaluate(Path(words[1]) if len(words) == 2 else LABELLED_SET, options)
        elif words[0] == "rules" and len(words) >= 2 and words[1] in RULE_VERBS:
            write = words[1] not in ("list", "show")
            with acting_as(options.get("actor"), write=write) as actor:
                getattr(self, "rules_" + words[1])(actor, words[2:], options)
        else:
            with acting_as(options.get("actor"), write=False) as actor:
                require(access.can_triage(actor), _("您的角色无权使用分诊"))
                community = access.rules_community(actor, options.get("community"))
                result = classify(" ".join(words), community)
            self.stdout.write(
                format_fields(
                    [
                        (_("类别"), f"{Category(result.category).label}（{result.category}）"),
                        (_("紧急程度"), f"{Urgency(result.urgency).label}（{result.urgency}）"),
                        (_("触发词"), "、".join(result.reasons) or _("（无：按一般处理）")),
                    ]
                )
            )

    # --- evaluate -----------------------------------------------------------------------------

    def evaluate(self, path: Path, options: dict[str, Any]) -> None:
        with acting_as(options.get("actor"), write=False) as actor:
            community = access.rules_community(actor, options.get("community"))
            examples = read_labelled(path)
            result = evaluate(examples, lambda text: classify(text, community))

        def table(title: str, scores: list[ClassScore], names: dict[str, Any]) -> None:
            self.stdout.write(title)
            self.stdout.write(
                format_table(
                    [_("类"), _("样本"), _("精确率"), _("召回率"), "F1"],
                    [
                        [
                            f"{names[s.label]} {s.label}",
                            s.support,
                            _percent(s.precision),
                            _percent(s.recall),
                            _percent(s.f1),
                        ]
                        for s in scores
                    ],
                )
            )
            self.stdout.write("")

        self.stdout.write(_("样本数：%(n)d（%(path)s）") % {"n": result.size, "path": path})
        self.stdout.write("")
        table(_("按类别"), result.categories, dict(Category.choices))
        table(_("按紧急程度"), result.urgencies, dict(Urgency.choices))
        self.stdout.write(
            format_fields(
                [
                    (_("类别准确率"), _percent(result.category_accuracy)),
                    (_("紧急程度准确率"), _percent(result.urgency_accuracy)),
                    (_("两项都对"), _percent(result.both_accuracy)),
                    (_("危急召回率"), _percent(result.critical_recall)),
                ]
            )
        )
        misses = result.misses if options["misses"] else result.missed_critical
        if misses:
            self.stdout.write("")
            self.stdout.write(
                format_table(
                    [_("标注"), _("判为"), _("触发词"), _("原文")],
                    [
                        [
                            f"{m.example.category}/{m.example.urgency}",
                            f"{m.got.category}/{m.got.urgency}",
                            "、".join(m.got.reasons),
                            m.example.text,
                        ]
                        for m in misses
                    ],
                )
            )
        if result.critical_recall < 1:
            raise CommandError(
                _("有 %(n)d 条危急诉求未被判为危急（危急召回率须为100%%）")
                % {"n": len(result.missed_critical)}
            )

    # --- rules --------------------------------------------------------------------------------

    def _one(self, actor: User, rest: list[str]) -> TriageRule:
        if len(rest) != 1:
            raise CommandError(_("请给出规则 id"))
        return access.get_rule_for(actor, rest[0])

    def _community(self, actor: User, options: dict[str, Any]) -> Community | None:
        return access.rules_community(actor, options.get("community"))

    def rules_list(self, actor: User, rest: list[str], options: dict[str, Any]) -> None:
        community = self._community(actor, options)
        rules = access.visible_rules(actor).filter(
            pk__in=TriageRule.objects.for_community(community.pk if community else None)
        )
        rows = [
            [
                r.pk,
                r.community.code if r.community else _("默认"),
                r.name,
                Category(r.category).label if r.category else "",
                Urgency(r.urgency).label if r.urgency else "",
                r.priority,
                _("启用") if r.enabled else _("停用"),
                "、".join(r.keyword_list[:6]) + ("…" if len(r.keyword_list) > 6 else ""),
            ]
            for r in rules.order_by("community_id", "-priority", "pk")
        ]
        headers = [
            "id",
            _("社区"),
            _("名称"),
            _("类别"),
            _("紧急"),
            _("优先级"),
            _("状态"),
            _("关键词"),
        ]
        self.stdout.write(format_table(headers, rows) if rows else _("（没有记录）"))

    def rules_show(self, actor: User, rest: list[str], options: dict[str, Any]) -> None:
        r = self._one(actor, rest)
        self.stdout.write(
            format_fields(
                [
                    ("id", r.pk),
                    (_("社区"), r.community.code if r.community else _("默认规则")),
                    (_("名称"), r.name),
                    (_("类别"), Category(r.category).label if r.category else ""),
                    (_("紧急程度"), Urgency(r.urgency).label if r.urgency else ""),
                    (_("优先级"), r.priority),
                    (_("识别否定"), _("是") if r.negatable else _("否")),
                    (_("状态"), _("启用") if r.enabled else _("停用")),
                    (_("关键词"), "、".join(r.keyword_list)),
                    (_("备注"), r.note),
                ]
            )
        )

    def _input(self, options: dict[str, Any], base: TriageRule | None) -> actions.RuleInput:
        def pick(key: str, default: Any) -> Any:
            value = options.get(key)
            return default if value is None else value

        return actions.RuleInput(
            name=pick("name", base.name if base else ""),
            keywords=pick("keywords", base.keywords if base else ""),
            category=pick("category", base.category if base else ""),
            urgency=pick("urgency", base.urgency if base else ""),
            priority=pick("priority", base.priority if base else 50),
            negatable=(not options["no_negation"])
            if base is None or options["no_negation"]
            else base.negatable,
            enabled=base.enabled if base else True,
            note=pick("note", base.note if base else ""),
        )

    def rules_add(self, actor: User, rest: list[str], options: dict[str, Any]) -> None:
        require(access.can_edit_rules(actor), _("您的角色无权修改分诊规则"))
        community = self._community(actor, options)
        rule = actions.rule_create(
            actor=actor, community=community, data=self._input(options, None)
        )
        self.stdout.write(self.style.SUCCESS(_("已添加规则 %(id)d") % {"id": rule.pk}))

    def rules_edit(self, actor: User, rest: list[str], options: dict[str, Any]) -> None:
        rule = self._one(actor, rest)
        actions.rule_update(actor=actor, rule=rule, data=self._input(options, rule))
        self.stdout.write(self.style.SUCCESS(_("已修改规则 %(id)d") % {"id": rule.pk}))

    def rules_enable(self, actor: User, rest: list[str], options: dict[str, Any]) -> None:
        actions.rule_set_enabled(actor=actor, rule=self._one(actor, rest), enabled=True)
        self.stdout.write(self.style.SUCCESS(_("规则已启用")))

    def rules_disable(self, actor: User, rest: list[str], options: dict[str, Any]) -> None:
        actions.rule_set_enabled(actor=actor, rule=self._one(actor, rest), enabled=False)
        self.stdout.write(self.style.SUCCESS(_("规则已停用")))

    def rules_override(self, actor: User, rest: list[str], options: dict[str, Any]) -> None:
        rule = self._one(actor, rest)
        community = self._community(actor, options)
        if community is None:
            raise CommandError(_("请用 --community 指定社区编码"))
        copy = actions.rule_override(actor=actor, rule=rule, community=community)
        self.stdout.write(self.style.SUCCESS(_("已建立本社区规则 %(id)d") % {"id": copy.pk}))

    def rules_delete(self, actor: User, rest: list[str], options: dict[str, Any]) -> None:
        actions.rule_delete(actor=actor, rule=self._one(actor, rest))
        self.stdout.write(self.style.SUCCESS(_("规则已删除")))


__all__ = ["Command", "argparse"]
