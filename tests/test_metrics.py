import pytest

from jobs.metrics import grade_confusion, quadratic_weighted_kappa


def test_perfect_agreement_is_one():
    assert quadratic_weighted_kappa([0, 2, 4, 4], [0, 2, 4, 4]) == 1.0


def test_matches_the_kaggle_formula():
    truth = [0, 0, 1, 2, 3, 4, 4, 2]
    pred = [0, 1, 1, 2, 4, 3, 4, 0]
    # Kaggle's definition, written out: 1 - sum(w*O) / sum(w*E), w = (i-j)^2 / 16
    import numpy as np

    observed = np.zeros((5, 5))
    for t, p in zip(truth, pred, strict=True):
        observed[t, p] += 1
    expected = np.outer(observed.sum(1), observed.sum(0)) / observed.sum()
    weights = np.array([[(i - j) ** 2 / 16 for j in range(5)] for i in range(5)])
    reference = 1 - (weights * observed).sum() / (weights * expected).sum()
    assert quadratic_weighted_kappa(truth, pred) == pytest.approx(reference)


def test_missing_grades_do_not_shift_the_weights():
    # Grade 2 appears in neither list: 1 and 3 must stay two grades apart.
    from sklearn.metrics import cohen_kappa_score

    truth, pred = [0, 1, 3, 4, 0, 1, 3], [0, 3, 3, 4, 1, 1, 1]
    fixed = quadratic_weighted_kappa(truth, pred)
    shrunk = cohen_kappa_score(truth, pred, weights="quadratic")
    assert fixed != pytest.approx(shrunk)


def test_confusion_is_five_by_five():
    matrix = grade_confusion([0, 4], [0, 3])
    assert len(matrix) == 5 and all(len(row) == 5 for row in matrix)
    assert matrix[0][0] == 1 and matrix[4][3] == 1


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        quadratic_weighted_kappa([0, 1], [0])
