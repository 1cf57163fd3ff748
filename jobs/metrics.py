"""Scores on the fixed grade scale 0-4: quadratic weighted kappa (the Kaggle DR metric), the
confusion matrix and recall per grade."""

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
