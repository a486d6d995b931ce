"""Scoring the classifier on a labelled set (``griddesk classify --evaluate``): accuracy per category
and per tier, a confusion table, emergency recall and the false-emergency rate. Pure."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable

from services.router.classification import Classification


@dataclass(frozen=True)
class Scores:
    total: int
    category_hits: int
    tier_hits: int
    by_category: dict[str, tuple[int, int]]  # label -> (right, of)
    by_tier: dict[str, tuple[int, int]]
    confusion: Counter  # (label, predicted) -> n
    emergencies: int
    emergencies_found: int
    non_emergencies: int
    false_emergencies: int
    misses: list[dict]

    @property
    def category_accuracy(self) -> float:
        return self.category_hits / self.total if self.total else 0.0

    @property
    def tier_accuracy(self) -> float:
        return self.tier_hits / self.total if self.total else 0.0

    @property
    def emergency_recall(self) -> float:
        return self.emergencies_found / self.emergencies if self.emergencies else 1.0

    @property
    def false_emergency_rate(self) -> float:
        return self.false_emergencies / self.non_emergencies if self.non_emergencies else 0.0


def evaluate(rows: Iterable[dict], classify: Callable[[str, str | None], Classification]) -> Scores:
    by_category: Counter = Counter()
    category_right: Counter = Counter()
    by_tier: Counter = Counter()
    tier_right: Counter = Counter()
    confusion: Counter = Counter()
    emergencies = found = non_emergencies = false_alarms = 0
    misses = []
    for row in rows:
        verdict = classify(row["text"], row.get("hint"))
        label, tier = row["category"], row["tier"]
        by_category[label] += 1
        by_tier[tier] += 1
        confusion[(label, verdict.category)] += 1
        category_right[label] += verdict.category == label
        tier_right[tier] += verdict.tier == tier
        if tier == "emergency":
            emergencies += 1
            found += verdict.tier == "emergency"
        else:
            non_emergencies += 1
            false_alarms += verdict.tier == "emergency"
        if verdict.category != label or verdict.tier != tier:
            misses.append({"text": row["text"], "expected": [label, tier], "got": [verdict.category, verdict.tier],
                           "matched": verdict.explanation.get("matched")})
    return Scores(sum(by_category.values()), sum(category_right.values()), sum(tier_right.values()),
                  {c: (category_right[c], n) for c, n in sorted(by_category.items())},
                  {t: (tier_right[t], n) for t, n in sorted(by_tier.items())},
                  confusion, emergencies, found, non_emergencies, false_alarms, misses)


def report(scores: Scores) -> str:
    lines = [f"reports: {scores.total}",
             f"category accuracy: {scores.category_accuracy:.1%} ({scores.category_hits}/{scores.total})",
             f"tier accuracy: {scores.tier_accuracy:.1%} ({scores.tier_hits}/{scores.total})",
             f"emergency recall: {scores.emergency_recall:.1%} ({scores.emergencies_found}/{scores.emergencies})",
             f"false emergencies: {scores.false_emergency_rate:.1%} "
             f"({scores.false_emergencies}/{scores.non_emergencies})", "", "per category:"]
    lines += [f"  {c:<13} {r / n:6.1%}  ({r}/{n})" for c, (r, n) in scores.by_category.items()]
    lines += ["", "per tier:"] + [f"  {t:<13} {r / n:6.1%}  ({r}/{n})" for t, (r, n) in scores.by_tier.items()]
    labels = sorted({label for label, _ in scores.confusion} | {got for _, got in scores.confusion})
    short = {label: label[:4] for label in labels}
    lines += ["", "confusion (rows: label, columns: predicted):",
              " " * 14 + " ".join(f"{short[p]:>4}" for p in labels)]
    for label in labels:
        cells = " ".join(f"{scores.confusion.get((label, p), 0) or '.':>4}" for p in labels)
        lines.append(f"  {label:<12}{cells}")
    return "\n".join(lines)
