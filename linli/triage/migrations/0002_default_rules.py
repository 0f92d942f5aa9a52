"""Seed the default triage rules (community = NULL: they apply in every community)."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def seed_defaults(apps: Any, schema_editor: Any) -> None:
    from linli.triage.defaults import DEFAULT_RULES

    TriageRule = apps.get_model("triage", "TriageRule")
    if TriageRule.objects.filter(community__isnull=True).exists():
        return
    TriageRule.objects.bulk_create(
        TriageRule(
            community=None,
            name=rule.name,
            keywords="\n".join(rule.keywords),
            category=str(rule.category),
            urgency=str(rule.urgency),
            priority=rule.priority,
            negatable=rule.negatable,
            enabled=True,
        )
        for rule in DEFAULT_RULES
    )


def remove_defaults(apps: Any, schema_editor: Any) -> None:
    apps.get_model("triage", "TriageRule").objects.filter(community__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("triage", "0001_initial")]

    operations = [migrations.RunPython(seed_defaults, remove_defaults)]
