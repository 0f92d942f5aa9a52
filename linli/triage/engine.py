"""The triage engine: compiled rules matched against Chinese free text (pure: no database)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from linli.triage.choices import Category, Urgency, severity

# A negation right before a keyword, within its clause: 不/没/没有/无/未/并没有, optionally
# followed by one or two filler words (没有再发烧, 不太喘, 没怎么咳嗽, 无明显胸痛).
_NEGATION = re.compile(
    r"(?:不|没|沒|无|無|未|并没|並沒|别|莫|否认|差点|差一点|险些)"
    r"(?:有|再|是|太|怎么|明显|什么|任何|出现|感觉|觉得|发生|见|了|咋|啥|得)?"
    r"(?:有|再|是|太|怎么|明显|什么|任何|出现|感觉|觉得|发生|见|了|咋|啥|得)?$"
)
# Where a clause ends: a negation before it does not reach past these.
_CLAUSE_END = re.compile(r"[，。,.;；！!？?\n、：:~～]|但|可是|不过|然后|而且|现在|今天|又")
# A part of a keyword joined by '+' must appear in the same text: "胰岛素+没了".
JOIN = "+"
ANY = "|"


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, no spaces: how both rules and requests are read."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


@dataclass(frozen=True)
class Triage:
    """What a request was triaged as, and the words that decided it."""

    category: str
    urgency: str
    reasons: list[str]


@dataclass(frozen=True)
class CompiledRule:
    """One rule as the engine reads it (from a TriageRule row or the defaults)."""

    rule_id: int | None
    keywords: tuple[str, ...]
    category: str  # "" = implies no category
    urgency: str  # "" = implies no urgency
    priority: int
    negatable: bool


def is_negated(text: str, start: int) -> bool:
    """Whether the word at `start` is negated within its clause ("没有发烧", "不太喘")."""
    clause = text[max(0, start - 8) : start]
    ends = list(_CLAUSE_END.finditer(clause))
    if ends:
        clause = clause[ends[-1].end() :]
    match = _NEGATION.search(clause)
    if match is None:
        return False
    # A question, not a negation: 是不是中风, 有没有发烧, 会不会临产.
    before = clause[: match.start()]
    negation = match.group(0)
    return not (before and len(negation) > 1 and before[-1] == negation[1])


def _find(text: str, word: str, negatable: bool) -> int:
    """Where `word` first appears un-negated in `text`, or -1."""
    at = text.find(word)
    while at >= 0:
        if not negatable or not is_negated(text, at):
            return at
        at = text.find(word, at + 1)
    return -1


def match_keyword(text: str, keyword: str, negatable: bool) -> tuple[int, str] | None:
    """Where the keyword matches and the words that did: every '+' part must appear, and a
    part may offer alternatives with '|' ("胰岛素+没了|用完|断")."""
    first, words = -1, []
    for part in keyword.split(JOIN):
        found = [
            (at, option)
            for option in part.split(ANY)
            if option and (at := _find(text, option, negatable)) >= 0
        ]
        if not found:
            if any(part.split(ANY)):
                return None
            continue
        at, option = min(found)
        words.append(option)
        first = at if first < 0 else min(first, at)
    if first < 0:
        return None
    return first, JOIN.join(words)


def triage_text(text: str, rules: Sequence[CompiledRule]) -> Triage:
    """Classify `text`: the most severe urgency any matching rule implies (normal when none),
    and the category of the matching rule with the highest priority (then the most words,
    then the earliest word). `reasons` lists each matching word with what it implied."""
    clean = normalise(text)
    hits: list[tuple[CompiledRule, str, int]] = []
    for rule in rules:
        for keyword in rule.keywords:
            found = match_keyword(clean, keyword, rule.negatable)
            if found is not None:
                hits.append((rule, found[1], found[0]))
    urgency = str(Urgency.NORMAL)
    urgent_hits = [hit for hit in hits if hit[0].urgency]
    if urgent_hits:
        urgency = min((hit[0].urgency for hit in urgent_hits), key=severity)
    category = str(Category.OTHER)
    scores: dict[str, tuple[int, int, int]] = {}
    for rule, _keyword, at in hits:
        if not rule.category:
            continue
        best, count, first = scores.get(rule.category, (-(10**9), 0, 10**9))
        scores[rule.category] = (max(best, rule.priority), count + 1, min(first, at))
    if scores:
        category = max(scores, key=lambda c: (scores[c][0], scores[c][1], -scores[c][2]))
    reasons: list[str] = []
    for rule, keyword, _at in sorted(hits, key=lambda hit: hit[2]):
        used_category = rule.category == category
        used_urgency = rule.urgency == urgency
        if (used_category or used_urgency) and keyword not in reasons:
            reasons.append(keyword)
    return Triage(category=category, urgency=urgency, reasons=reasons)


def split_keywords(raw: str | Iterable[str]) -> tuple[str, ...]:
    """Keywords as typed on the rules page (one per line, or separated by commas) → clean list."""
    parts = re.split(r"[\n,，、;；]+", raw) if isinstance(raw, str) else list(raw)
    seen: list[str] = []
    for part in parts:
        word = JOIN.join(
            p
            for p in (
                ANY.join(o for o in map(normalise, x.split(ANY)) if o) for x in part.split(JOIN)
            )
            if p
        )
        if word and word not in seen:
            seen.append(word)
    return tuple(seen)
