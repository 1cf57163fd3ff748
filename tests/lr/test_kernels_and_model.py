"""The LR kernel: gradients against finite differences, standardisation folded correctly,
and the numpy trainer learning a planted signal from blocks written as Spark would."""

import numpy as np
import pytest

from jobs.dataset import split
from jobs.dataset.synth_features import generate
from jobs.errors import DrcError
from jobs.lr import blocks as lr_blocks
from jobs.lr import kernels as lr_math
from jobs.lr.model import BlocksLogisticRegression
from jobs.metrics import quadratic_weighted_kappa


def objective_at(theta, x, y, cw, stats, reg):
    d = x.shape[1]
    w, b = theta[: d * 5].reshape(d, 5), theta[d * 5 :]
    w_raw, b_raw = lr_math.raw_weights(w, b, stats)
    loss, gx, gs = lr_math.block_gradient(x, y, cw[y], w_raw, b_raw)
    value, gw, gb = lr_math.objective(loss, gx, gs, float(cw[y].sum()), w, stats, reg)
    return value, np.concatenate([gw.ravel(), gb])


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (70, 6), dtype=np.uint8)  # more rows than one chunk
    y = rng.integers(0, 5, 70)
    stats = lr_math.stats_from_sums(*lr_math.feature_sums(x))
    cw = lr_math.class_weights(y)
    theta = rng.normal(0, 0.3, 6 * 5 + 5)
    _, grad = objective_at(theta, x, y, cw, stats, 0.05)
    eps = 1e-3
    for i in range(0, len(theta), 4):
        step = np.zeros_like(theta)
        step[i] = eps
        numeric = (objective_at(theta + step, x, y, cw, stats, 0.05)[0]
                   - objective_at(theta - step, x, y, cw, stats, 0.05)[0]) / (2 * eps)  # fmt: skip
        assert grad[i] == pytest.approx(numeric, rel=2e-2, abs=2e-4)


@pytest.mark.parametrize("rows", [1, 6, 37])
def test_fused_kernel_gives_the_numpy_kernels_gradient(rows):
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (rows, 300), dtype=np.uint8)
    y = rng.integers(0, 5, rows)
    weight = rng.uniform(0.5, 2.0, rows)
    w_raw = rng.normal(0, 1e-3, (300, 5)).astype(np.float32)
    b_raw = rng.normal(0, 0.1, 5).astype(np.float32)
    ref = lr_math.block_gradient(x, y, weight, w_raw, b_raw)
    got = lr_math.fused_gradient(x, y, weight, w_raw, b_raw)
    assert got[0] == pytest.approx(ref[0], rel=1e-5)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kernel", ["fused", "numpy"])
def test_a_far_off_logit_gives_a_finite_loss(kernel):
    """A wide row (256 px: 196,608 pixels) after a long first step puts the label's logit
    thousands below the top: its exp() underflows, and the loss must stay finite (it was
    inf in the fused kernel, and L-BFGS took that for convergence after one iteration)."""
    x = np.full((3, 4), 255, np.uint8)
    y = np.array([0, 1, 4])
    w_raw = np.zeros((4, 5), np.float32)
    w_raw[:, 4] = 2.0  # grade 4's logit 2,040 above the others
    b_raw = np.zeros(5, np.float32)
    gradient = lr_math.fused_gradient if kernel == "fused" else lr_math.block_gradient
    loss, gx, gs = gradient(x, y, np.ones(3), w_raw, b_raw)
    assert np.isfinite(loss) and loss == pytest.approx(2 * 2040.0, rel=1e-6)
    assert np.isfinite(gx).all() and np.isfinite(gs).all()


def test_blocks_are_dealt_evenly_to_the_cores():
    blocks = [{"n": n} for n in (1650, 1650, 1700, 900, 40, 1650, 1600)]
    groups = lr_blocks.balanced_groups(blocks, 2)
    assert sorted(b["n"] for g in groups for b in g) == sorted(b["n"] for b in blocks)
    loads = [sum(b["n"] for b in g) for g in groups]
    assert max(loads) - min(loads) <= 1700
    assert len(lr_blocks.balanced_groups(blocks[:1], 4)) == 1


def test_no_training_rows_is_one_clear_error():
    with pytest.raises(DrcError, match="no labelled images on the training side"):
        BlocksLogisticRegression(standardize=False).fit([{"n": 5, "validation": True}])


def test_standardisation_is_folded_into_the_weights():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 255, (50, 4), dtype=np.uint8)
    stats = lr_math.stats_from_sums(*lr_math.feature_sums(x))
    w, b = rng.normal(size=(4, 5)), rng.normal(size=5)
    z = (x - stats.mean) / stats.std
    w_raw, b_raw = lr_math.raw_weights(w, b, stats)
    assert np.allclose(x @ w_raw + b_raw, z @ w + b, atol=1e-3)


def test_class_weights_balance_the_grades():
    y = np.array([0] * 8 + [1] * 2)
    cw = lr_math.class_weights(y)
    assert cw[0] * 8 == pytest.approx(cw[1] * 2)
    assert cw[2] == 0


def blocks_like_spark(tmp_path, monkeypatch, count=600, size=8):
    """The blocks the Spark job builds, from a preprocess-shaped Parquet output."""
    monkeypatch.setenv(lr_blocks.CACHE_ENV, str(tmp_path / "cache"))
    generate(tmp_path / "data", count, (size,), seed=3)
    files = sorted((tmp_path / "data" / f"size={size}").glob("*.parquet"))
    return [b for i, f in enumerate(files)
            for b in lr_blocks.build_blocks(str(f), i, "key", size, 0.2, 42)]  # fmt: skip


@pytest.mark.parametrize("kernel", ["fused", "numpy"])
def test_numpy_trainer_learns_the_planted_signal(tmp_path, monkeypatch, kernel):
    blocks = blocks_like_spark(tmp_path, monkeypatch)
    assert sorted(b["validation"] for b in blocks) == [False, True]
    estimator = BlocksLogisticRegression(reg=0.01, max_iter=60, standardize=True, kernel=kernel)
    model = estimator.fit(blocks)
    assert model is estimator and model.coef_.shape == (8 * 8 * 3, 5) and model.size_ == 8
    _, truth, pred = model.predict_blocks([b for b in blocks if b["validation"]])
    assert len(truth) > 50
    assert quadratic_weighted_kappa(truth.tolist(), pred.tolist()) >= 0.8


def test_blocks_split_by_subject_and_hold_the_parquet_rows(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    blocks = blocks_like_spark(tmp_path, monkeypatch, count=200)
    table = pq.read_table(tmp_path / "data" / "size=8").to_pydict()
    row = {name: i for i, name in enumerate(table["image"])}
    for b in blocks:
        x, y = lr_blocks.load(b)
        for j in (0, len(y) - 1):  # first and last row: the pixels and grade of that image
            i = row[b["image"][j]]
            assert y[j] == table["level"][i]
            assert x[j].tobytes() == table["pixels"][i]
        subjects = {table["subject"][row[name]] for name in b["image"]}
        assert all(split.is_validation(s, 0.2, 42) == b["validation"] for s in subjects)
    assert sum(b["n"] for b in blocks) == 200


def test_a_block_missing_from_this_node_is_built_again(tmp_path, monkeypatch):
    blocks = blocks_like_spark(tmp_path, monkeypatch, count=100)
    before = np.array(lr_blocks.pixels(blocks[0]))
    lr_blocks.block_path(blocks[0]).unlink()  # another node, or a cache cleared
    np.testing.assert_array_equal(lr_blocks.pixels(blocks[0]), before)
    assert not list(lr_blocks.block_path(blocks[0]).parent.glob(".*"))  # no partial left


def test_a_saved_model_predicts_the_same_after_loading(tmp_path, monkeypatch):
    blocks = blocks_like_spark(tmp_path, monkeypatch, count=200)
    model = BlocksLogisticRegression(max_iter=10, class_weight="balanced").fit(blocks)
    x = np.array(lr_blocks.pixels(blocks[0]))
    loaded = BlocksLogisticRegression.load(model.save(tmp_path / "model.npz"))
    assert loaded.size_ == 8
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert not list(tmp_path.glob("*.partial*")) and not list(tmp_path.glob(".*"))


def test_both_entry_points_offer_every_kernel():
    from jobs.cli.main import build_parser
    from jobs.lr.config import KERNELS, LRConfig

    assert set(KERNELS) == set(lr_math.KERNELS)
    for kernel in lr_math.KERNELS:
        assert build_parser().parse_args(["train-lr", "d", "--kernel", kernel]).kernel == kernel
        cfg = LRConfig.from_json(LRConfig("i", "o", kernel=kernel).to_json())  # as the app gets it
        assert cfg.kernel == kernel


def features_parquet(root, count=500, width=37, size=64, seed=5):
    """Rows as `drc features` writes them: WIDTH values a row under size=SIZE, the grade
    planted as a shift along every value (ordered, as retinopathy is)."""
    import pyarrow.parquet as pq

    from jobs.dataset.parquet import PARQUET_OPTIONS, label_columns, pixels_table

    rng = np.random.default_rng(seed)
    levels = rng.choice(5, count, p=[0.6, 0.1, 0.15, 0.08, 0.07])
    x = np.clip(rng.normal(80, 30, (count, width)) + levels[:, None] * 12, 0, 255)
    rows = [{"image": f"{i // 2 + 1}_{'left' if i % 2 else 'right'}", "subject": i // 2 + 1,
             "eye": "left" if i % 2 else "right", "level": int(lv), "format": "features"}
            for i, lv in enumerate(levels)]  # fmt: skip
    out = root / f"size={size}"
    out.mkdir(parents=True)
    table = pixels_table(label_columns(rows), x.astype(np.uint8))
    pq.write_table(table, out / "part-00000.parquet", **PARQUET_OPTIONS)
    return out / "part-00000.parquet"


def test_feature_rows_of_any_width_train_with_an_ordinal_output(tmp_path, monkeypatch):
    monkeypatch.setenv(lr_blocks.CACHE_ENV, str(tmp_path / "cache"))
    source = features_parquet(tmp_path / "features")
    blocks = lr_blocks.build_blocks(str(source), 0, "key", 64, 0.2, 42)
    assert lr_blocks.pixels(blocks[0]).shape[1] == 37
    model = BlocksLogisticRegression(max_iter=60, output="ordinal").fit(blocks)
    assert model.coef_.shape == (37, 5) and model.size_ == 64
    assert list(model.thresholds_) == sorted(model.thresholds_)
    val = [b for b in blocks if b["validation"]]
    _, truth, ordinal = model.predict_blocks(val)
    _, _, argmax = model.predict_blocks(val, argmax=True)
    x = np.array(lr_blocks.pixels(val[0]))
    np.testing.assert_array_equal(
        model.predict(x), np.digitize(model.decision_scores(x), model.thresholds_)
    )
    # thresholds fitted on the training rows: held out, no worse than argmax within noise
    by_argmax = quadratic_weighted_kappa(truth, argmax)
    assert quadratic_weighted_kappa(truth, ordinal) >= by_argmax - 0.02
    loaded = BlocksLogisticRegression.load(model.save(tmp_path / "model.npz"))
    assert loaded.output == "ordinal" and loaded.size_ == 64 and loaded.n_features_in_ == 37
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_a_row_of_another_width_names_the_file_and_image(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from jobs.dataset.parquet import PARQUET_OPTIONS, label_columns, pixels_table

    monkeypatch.setenv(lr_blocks.CACHE_ENV, str(tmp_path / "cache"))
    rows = [{"image": f"{i}_left", "subject": i, "level": 0} for i in (1, 2)]
    path = tmp_path / "part-00000.parquet"
    pq.write_table(pixels_table(label_columns(rows), [b"\x01" * 8, b"\x01" * 9]), path,
                   **PARQUET_OPTIONS)  # fmt: skip
    with pytest.raises(DrcError, match="2_left has 9 values, the file's first row 8") as err:
        lr_blocks.build_blocks(str(path), 0, "key", 8, 0.2, 42)
    assert str(path) in str(err.value)
