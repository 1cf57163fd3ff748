import numpy as np
import pytest

from jobs import metrics
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


def _eyes(levels):
    """{SUBJECT_left/right: level}, two eyes per subject."""
    return {f"{i // 2 + 1}_{'left' if i % 2 == 0 else 'right'}": g for i, g in enumerate(levels)}


def test_the_bootstrap_interval_of_a_perfect_rater_is_one():
    truth = _eyes([0, 0, 1, 2, 4, 3, 0, 2] * 10)
    assert metrics.bootstrap_kappa(truth, dict(truth), resamples=200) == (1.0, 1.0)


def test_the_bootstrap_interval_of_a_constant_rater_is_zero():
    truth = _eyes([0, 0, 1, 2, 4, 3, 0, 2] * 10)
    low, high = metrics.bootstrap_kappa(truth, dict.fromkeys(truth, 0), resamples=200)
    assert low == high == 0.0


def test_the_bootstrap_interval_holds_the_kappa_and_narrows_with_more_subjects():
    rng = np.random.default_rng(1)
    widths = []
    for subjects in (50, 800):
        levels = rng.integers(0, 5, 2 * subjects)
        noisy = np.clip(levels + rng.integers(-1, 2, levels.size), 0, 4)
        truth, pred = _eyes(levels.tolist()), _eyes(noisy.tolist())
        low, high = metrics.bootstrap_kappa(truth, pred, resamples=300)
        kappa = metrics.quadratic_weighted_kappa(list(truth.values()), list(pred.values()))
        assert low < kappa < high
        widths.append(high - low)
    assert widths[1] < widths[0] / 2


def test_the_bootstrap_draws_both_eyes_of_a_subject_together():
    # every subject's eyes disagree in opposite directions: kept together, each resample
    # sees both; drawn apart, some resamples would see one-sided errors
    truth = _eyes([1, 3] * 40)
    pred = _eyes([2, 2] * 40)
    low, high = metrics.bootstrap_kappa(truth, pred, resamples=200)
    assert low == high


def test_thresholds_stay_increasing_when_every_score_is_beyond_the_defaults():
    from jobs.metrics import fit_thresholds

    levels = np.array([0, 1, 2, 3, 4] * 4)
    for scores in (levels * 0.01 + 3.0, levels * 0.01 - 2.0):
        cuts = fit_thresholds(scores, levels)
        assert all(a < b for a, b in zip(cuts, cuts[1:], strict=False))
        assert quadratic_weighted_kappa(levels, np.digitize(scores, cuts)) > 0.9
