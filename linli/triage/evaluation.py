"""How well the rules triage a labelled set: precision, recall and F1 per category and per
urgency, accuracy, and the recall of critical requests (which must be 100%)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from linli.triage.choices import Category, Urgency
from linli.triage.engine import Triage

LABELLED_SET = Path(__file__).resolve().parent / "data" / "labelled.csv"


@dataclass(frozen=True)
class Example:
    text: str
    category: str
    urgency: str


@dataclass(frozen=True)
class ClassScore:
    label: str
    support: int
    predicted: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.support if self.support else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Miss:
    example: Example
    got: Triage


@dataclass(frozen=True)
class Evaluation:
    size: int
    categories: list[ClassScore]
    urgencies: list[ClassScore]
    category_accuracy: float
    urgency_accuracy: float
    both_accuracy: float
    misses: list[Miss] = field(default_factory=list)

    @property
    def critical_recall(self) -> float:
        return next(s.recall for s in self.urgencies if s.label == Urgency.CRITICAL)

    @property
    def missed_critical(self) -> list[Miss]:
        return [
            miss
            for miss in self.misses
            if miss.example.urgency == Urgency.CRITICAL and miss.got.urgency != Urgency.CRITICAL
        ]


def read_labelled(path: Path = LABELLED_SET) -> list[Example]:
    """Rows text,category,urgency (a header row first); a bad label names its line."""
    categories, urgencies = set(Category.values), set(Urgency.values)
    examples: list[Example] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            for line, row in enumerate(csv.DictReader(file), start=2):
                text = (row.get("text") or "").strip()
                category = (row.get("category") or "").strip()
                urgency = (row.get("urgency") or "").strip()
                if not text or category not in categories or urgency not in urgencies:
                    raise ValidationError(
                        _("第%(line)d行：需要 text、category、urgency 三列，且类别和紧急程度有效")
                        % {"line": line}
                    )
                examples.append(Example(text, category, urgency))
    except (OSError, UnicodeDecodeError) as error:
        raise ValidationError(_("无法读取文件：%(error)s") % {"error": error}) from error
    if not examples:
        raise ValidationError(_("文件中没有样本"))
    return examples


def _scores(labels: Sequence[str], truth: list[str], guess: list[str]) -> list[ClassScore]:
    return [
        ClassScore(
            label=label,
            support=sum(1 for t in truth if t == label),
            predicted=sum(1 for g in guess if g == label),
            correct=sum(1 for t, g in zip(truth, guess, strict=True) if t == g == label),
        )
        for label in labels
    ]


def evaluate(examples: Sequence[Example], classify: Callable[[str], Triage]) -> Evaluation:
    results = [(example, classify(example.text)) for example in examples]
    n = len(results)
    return Evaluation(
        size=n,
        categories=_scores(
            Category.values, [e.category for e, _ in results], [t.category for _, t in results]
        ),
        urgencies=_scores(
            Urgency.values, [e.urgency for e, _ in results], [t.urgency for _, t in results]
        ),
        category_accuracy=sum(e.category == t.category for e, t in results) / n,
        urgency_accuracy=sum(e.urgency == t.urgency for e, t in results) / n,
        both_accuracy=sum(e.category == t.category and e.urgency == t.urgency for e, t in results)
        / n,
        misses=[
            Miss(e, t) for e, t in results if e.category != t.category or e.urgency != t.urgency
        ],
    )
