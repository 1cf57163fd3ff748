"""Scores on the fixed grade scale 0-4: quadratic weighted kappa (the Kaggle DR metric), the
confusion matrix, recall per grade and kappa's bootstrap interval over subjects."""

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import cohen_kappa_score, confusion_matrix

GRADES = [0, 1, 2, 3, 4]


def quadratic_weighted_kappa(truth: Sequence[int], predicted: Sequence[int]) -> float:
    """Kappa with quadratic weights over all five grades.

    The label list is fixed: without it the weight matrix shrinks to the grades that happen
    to occur, and the score changes whenever a grade is missing from both raters.
    """
    if len(truth) != len(predicted):
        raise ValueError(f"truth has {len(truth)} labels, predictions {len(predicted)}")
    if len(truth) == 0:
        raise ValueError("no labels to score")
    truth_arr = np.asarray(truth, dtype=int)
    pred_arr = np.asarray(predicted, dtype=int)
    if np.array_equal(truth_arr, pred_arr):
        return 1.0  # sklearn gives nan when both raters use a single grade
    return float(cohen_kappa_score(truth_arr, pred_arr, labels=GRADES, weights="quadratic"))


def grade_confusion(truth: Sequence[int], predicted: Sequence[int]) -> list[list[int]]:
    """5x5 confusion matrix, rows = true grade, columns = predicted grade."""
    return confusion_matrix(truth, predicted, labels=GRADES).tolist()


def recall_per_grade(confusion: list[list[int]]) -> dict[int, float | None]:
    """Share of each true grade predicted right (None for a grade absent from the truth)."""
    return {g: (row[g] / sum(row) if sum(row) else None)
            for g, row in zip(GRADES, confusion, strict=True)}  # fmt: skip


def scores(truth: Sequence[int], predicted: Sequence[int]) -> dict:
    """kappa, confusion, recall and the number scored, as the LR reports carry them."""
    confusion = grade_confusion(truth, predicted)
    return {"kappa": quadratic_weighted_kappa(truth, predicted), "confusion": confusion,
            "recall": recall_per_grade(confusion), "n_scored": len(truth)}  # fmt: skip


def bootstrap_kappa(truth: dict[str, int], predicted: dict[str, int], resamples: int = 1000,
                    seed: int = 0, level: float = 0.95) -> tuple[float, float]:  # fmt: skip
    """`level` interval of kappa over images named like Kaggle's (SUBJECT_left/right),
    resampling subjects with replacement: a subject's two eyes are not independent, so
    they are drawn together. Images without a prediction are left out."""
    from jobs.dataset.labels import parse_image_name

    by_subject: dict[int, list[str]] = {}
    for image in truth:
        if image in predicted:
            by_subject.setdefault(parse_image_name(image).subject, []).append(image)
    if not by_subject:
        raise ValueError("no predicted image has a true grade")
    groups = list(by_subject.values())
    rng = np.random.default_rng(seed)
    kappas = []
    for _ in range(resamples):
        images = [i for g in rng.integers(len(groups), size=len(groups)) for i in groups[g]]
        kappas.append(quadratic_weighted_kappa([truth[i] for i in images],
                                               [predicted[i] for i in images]))  # fmt: skip
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(kappas, [tail, 100 - tail])
    return float(low), float(high)


# Cut points between grades for one score per image (a regression output, or an
# expected grade): shared by the CNN and the LR's ordinal output.
DEFAULT_THRESHOLDS = [0.5, 1.5, 2.5, 3.5]


def fit_thresholds(scores: np.ndarray, levels: np.ndarray, rounds: int = 3) -> list[float]:
    """Coordinate search over the four cut points, each on a grid between its neighbours,
    from the better start of the defaults and the cuts that give each grade its share of
    the truth (the defaults cannot reach scores that all lie beyond them)."""
    scores, levels = np.asarray(scores, dtype=np.float64), np.asarray(levels)
    if len(np.unique(levels)) < 2:
        return list(DEFAULT_THRESHOLDS)
    shares = [float(np.mean(levels < g)) for g in range(1, 5)]
    quantiles = np.maximum.accumulate(np.quantile(scores, shares)) + np.arange(4) * 1e-6

    def kappa_of(cuts) -> float:
        return quadratic_weighted_kappa(levels, np.digitize(scores, cuts))

    cuts = max([list(DEFAULT_THRESHOLDS), [float(q) for q in quantiles]], key=kappa_of)
    for _ in range(rounds):
        for i in range(4):
            # the outer cuts' ranges reach past the scores, never past a neighbour: the
            # cuts stay increasing
            high = cuts[i + 1] if i < 3 else max(float(scores.max()) + 1, cuts[i - 1] + 1)
            low = cuts[i - 1] if i else min(float(scores.min()) - 1, high - 1)
            grid = [cuts[i], *np.linspace(low, high, 41)[1:-1]]  # never worse than before
            cuts[i] = float(max(grid, key=lambda t: kappa_of([*cuts[:i], t, *cuts[i + 1 :]])))
    return cuts
