"""The engine and the rules: negation, questions, joined words, a community's own rules."""

from __future__ import annotations

from django_scopes import scopes_disabled

from linli.test import BaseTestCase
from linli.triage import actions, classify
from linli.triage.choices import Category, Urgency
from linli.triage.engine import CompiledRule, is_negated, normalise, triage_text
from linli.triage.models import TriageRule


class EngineTests(BaseTestCase):
    def test_it_triages_the_issue_example_as_critical_with_its_reason(self) -> None:
        result = classify("我母亲92岁了，心绞痛发作")
        self.assertEqual((result.category, result.urgency), (Category.MEDICAL, Urgency.CRITICAL))
        self.assertIn("心绞痛", result.reasons)

    def test_it_ignores_negated_words(self) -> None:
        self.assertEqual(classify("没有发烧，就是咳嗽").urgency, Urgency.NORMAL)
        self.assertEqual(classify("我妈没有昏迷，刚才是睡着了").urgency, Urgency.NORMAL)
        self.assertNotEqual(classify("胸口不痛了").urgency, Urgency.CRITICAL)
        self.assertTrue(is_negated(normalise("没有再发烧"), 3))

    def test_it_reads_a_question_form_as_no_negation(self) -> None:
        self.assertEqual(classify("老人嘴歪了，是不是中风").urgency, Urgency.CRITICAL)
        self.assertFalse(is_negated("是不是中风", 3))

    def test_it_does_not_take_a_word_starting_with_bu_for_a_negation(self) -> None:
        self.assertEqual(classify("孩子不停地抽搐").urgency, Urgency.CRITICAL)
        self.assertEqual(classify("我不小心摔倒了").urgency, Urgency.URGENT)

    def test_it_needs_every_joined_part_and_takes_any_alternative(self) -> None:
        rule = CompiledRule(None, ("胰岛素+没了|用完",), "medicine", "critical", 80, True)
        self.assertEqual(triage_text("胰岛素用完了", [rule]).reasons, ["胰岛素+用完"])
        self.assertEqual(triage_text("胰岛素还有", [rule]).urgency, Urgency.NORMAL)

    def test_it_files_text_without_any_rule_as_other_normal(self) -> None:
        result = classify("你好")
        self.assertEqual((result.category, result.urgency, result.reasons), ("other", "normal", []))

    def test_it_reads_full_width_and_spaces_like_the_rules(self) -> None:
        self.assertEqual(classify("胸 痛，ＳＯＳ").urgency, Urgency.CRITICAL)


class CommunityRuleTests(BaseTestCase):
    def test_a_community_rule_extends_the_defaults_for_that_community_only(self) -> None:
        with scopes_disabled(), self.captureOnCommitCallbacks(execute=True):
            actions.rule_create(
                actor=self.carol,
                community=self.community,
                data=actions.RuleInput(
                    name="方言", keywords="心口头痛\n勿适意", category="medical", urgency="urgent"
                ),
            )
        self.assertEqual(classify("阿拉娘勿适意", self.community).urgency, Urgency.URGENT)
        self.assertEqual(classify("阿拉娘勿适意", self.community_b).urgency, Urgency.NORMAL)
        self.assertEqual(classify("阿拉娘勿适意").urgency, Urgency.NORMAL)

    def test_a_community_rule_takes_over_a_default_word_and_disabling_it_silences_it(self) -> None:
        self.assertEqual(classify("要去做核酸", self.community).category, Category.OTHER)
        default = TriageRule.objects.get(community=None, name="其他")
        with scopes_disabled():
            copy = actions.rule_override(actor=self.carol, rule=default, community=self.community)
            actions.rule_update(
                actor=self.carol,
                rule=copy,
                data=actions.RuleInput(
                    name="核酸归就医", keywords="核酸", category="medical", priority=60
                ),
            )
        self.assertEqual(classify("要去做核酸", self.community).category, Category.MEDICAL)
        self.assertEqual(classify("要去做核酸", self.community_b).category, Category.OTHER)
        with scopes_disabled():
            actions.rule_set_enabled(actor=self.carol, rule=copy, enabled=False)
        self.assertEqual(classify("要去做核酸", self.community).reasons, [])
        with scopes_disabled():
            actions.rule_delete(actor=self.carol, rule=copy)
        self.assertEqual(classify("要去做核酸", self.community).reasons, ["核酸"])
