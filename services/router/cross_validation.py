"""``griddesk classify --cross-validate``: the honest figure for writers the classifier has not seen. Leave
one author out: the model is trained on every other author's reports and judged on the left-out author's,
for the lexicon alone, the model alone and the combination (combination.py). Needs scikit-learn
(training.py). Every corpus author is a group, the two independent sets included."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from services.router.classification import Classification, Classifier, Evidence
from services.router.evaluation import Scores, evaluate
from services.router.ngram_model import NgramModel, Reading
from services.router.training import export, fit, iter_folds

METHODS = ("lexicon", "model", "combined")


@dataclass(frozen=True)
class Held:
    """One report judged by a model that never saw its author."""
    row: dict
    evidence: Evidence
    reading: Reading
    classifier: Classifier  # the lexicon with that fold's model


def held_out_readings(rows: list[dict], classifier: Classifier, fold: Callable[[str], str],
                      progress: Callable[[str], None] = lambda _: None, **options) -> list[Held]:
    evidence = [classifier.evidence(fold(r["text"]), r.get("hint")) for r in rows]
    held: list[Held] = []
    for author, train, test in iter_folds(rows):
        progress(f"fold {author}: training on {len(train)} reports, judging {len(test)}")
        subset = [rows[i] for i in train]
        fitted = fit([evidence[i].text for i in train], [r["category"] for r in subset],
                     [r["tier"] for r in subset], **options)
        model = NgramModel(export(fitted, subset))
        with_model = classifier.with_model(model)
        held += [Held(rows[i], evidence[i], model.read(evidence[i].text), with_model) for i in test]
    return held


def verdict(item: Held, method: str, classifier: Classifier | None = None) -> Classification:
    """The verdict of one method; ``classifier`` (default: the fold's) carries the combination's weights."""
    classifier = classifier or item.classifier
    if method == "lexicon":
        return classifier.decide(item.evidence)
    if method == "model":
        probabilities = item.reading.probabilities
        category = max(probabilities, key=lambda c: (probabilities[c], c))
        danger = item.reading.emergency >= classifier.blend.emergency_threshold
        calm = "general" if item.reading.coordination is None else classifier.blend.tier(item.reading.coordination)
        return Classification(category, "emergency" if danger else calm, probabilities[category])
    return classifier.decide(item.evidence, item.reading)


def scores_by_author(held: list[Held], method: str,
                     classifier_of: Callable[[Held], Classifier] | None = None) -> dict[str, Scores]:
    """Scores per left-out author and over all of them (key "all")."""
    by_author: dict[str, list[Held]] = {}
    for item in held:
        by_author.setdefault(item.row["author"], []).append(item)
    by_author["all"] = held
    return {author: _score(items, method, classifier_of) for author, items in by_author.items()}


def _score(items: list[Held], method: str, classifier_of) -> Scores:
    by_text = iter(items)  # evaluate() asks for the rows' verdicts one by one, in their order

    def classify(text: str, hint: str | None) -> Classification:
        item = next(by_text)
        return verdict(item, method, classifier_of(item) if classifier_of else None)

    return evaluate([item.row for item in items], classify)


def report(held: list[Held], triage_below: float = 0.35) -> str:
    """Per author (left out) and over all: category accuracy, emergency recall, false emergencies, tier
    accuracy; then how the combination's confidence sorts its verdicts for manual triage."""
    lines = [f"{'author':<12} {'reports':>7}  " + "  ".join(f"{m + ' cat/recall/false/tier':>35}" for m in METHODS)]
    tables = {method: scores_by_author(held, method) for method in METHODS}
    for author in tables["lexicon"]:
        cells = []
        for method in METHODS:
            s = tables[method][author]
            cells.append(f"{s.category_accuracy:>9.1%} {s.emergency_recall:>7.1%} ({s.emergencies_found}/"
                         f"{s.emergencies}) {s.false_emergency_rate:>5.1%} {s.tier_accuracy:>6.1%}")
        lines.append(f"{author:<12} {tables['lexicon'][author].total:>7}  " + "  ".join(f"{c:>35}" for c in cells))
    return "\n".join(lines + ["", triage(held, triage_below)])


def triage(held: list[Held], below: float) -> str:
    """Is the combination's confidence meaningful? Accuracy of what goes to manual triage and of the rest."""
    verdicts = [(verdict(item, "combined"), item.row["category"]) for item in held]
    low = [v.category == label for v, label in verdicts if v.tier != "emergency" and v.confidence < below]
    rest = [v.category == label for v, label in verdicts if not (v.tier != "emergency" and v.confidence < below)]
    return (f"combined, confidence below {below}: {len(low)} reports ({len(low) / len(held):.1%}) go to manual "
            f"triage, {_share(low)} of them right; the other {len(rest)}: {_share(rest)} right")


def _share(hits: list[bool]) -> str:
    return f"{sum(hits) / len(hits):.1%}" if hits else "-"
