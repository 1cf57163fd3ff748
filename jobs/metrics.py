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
