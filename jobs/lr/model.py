"""The blocks solver's model as one estimator (scikit-learn's shape: parameters in the
constructor, `fit` returns self, learned attributes end in `_`), used by the Spark app, the
numpy baseline and `drc predict`; and the Kaggle submission it writes."""

import csv
import io
import time
from pathlib import Path

import numpy as np

from jobs.dataset import fs, layout
from jobs.errors import DrcError
from jobs.lr import blocks as lr_blocks
from jobs.lr import kernels
from jobs.metrics import fit_thresholds

OUTPUTS = ("argmax", "ordinal")


class BlocksLogisticRegression:
    """Multinomial logistic regression on uint8 pixel rows: L-BFGS (scipy) on the driver,
    the loss and gradient summed over the blocks by Spark (`fit(blocks, spark)`) or in this
    process (`fit(blocks)`). Standardisation is folded into the weights, so the pixels are
    never copied as floats; `coef_` and `intercept_` apply to raw pixel values.

    output="argmax" grades by the most probable class; "ordinal" by the expected grade
    cut at thresholds fitted for kappa on the training rows: kappa weighs a miss by its
    squared distance, which argmax ignores (on deep features of real eyes: see
    docs/real-photographs.md)."""

    def __init__(
        self,
        reg: float = 0.01,
        max_iter: int = 100,
        class_weight: str | None = None,  # None or "balanced"
        standardize: bool = True,
        kernel: str = "fused",
        tol: float = 1e-6,
        output: str = "argmax",
    ) -> None:
        self.reg, self.max_iter, self.class_weight = reg, max_iter, class_weight
        self.standardize, self.kernel, self.tol = standardize, kernel, tol
        self.output = output

    def fit(self, blocks: list[dict], spark=None) -> "BlocksLogisticRegression":
        from scipy.optimize import minimize

        train = lr_blocks.training_blocks(blocks)
        sums = (lr_blocks.LocalSums(train, self.kernel) if spark is None
                else lr_blocks.SparkSums(spark, train, self.kernel))  # fmt: skip
        d = int(lr_blocks.pixels(train[0]).shape[1])
        balanced = self.class_weight == "balanced"
        self.class_weight_ = (kernels.class_weights(lr_blocks.levels(train)) if balanced
                              else np.ones(kernels.N_CLASSES))  # fmt: skip
        start = time.perf_counter()
        stats = (kernels.stats_from_sums(*sums.feature_sums()) if self.standardize
                 else kernels.Stats.identity(d))  # fmt: skip
        self.stats_seconds_ = time.perf_counter() - start
        self.evaluation_seconds_: list[float] = []
        self.worker_peak_mb_ = 0.0
        k = kernels.N_CLASSES

        def value_and_grad(theta):
            start = time.perf_counter()
            w, b = theta[: d * k].reshape(d, k), theta[d * k :]
            w_raw, b_raw = kernels.raw_weights(w, b, stats)
            loss, gx, gs, n_w, peak = sums.gradient_sums((w_raw, b_raw, self.class_weight_))
            self.worker_peak_mb_ = max(self.worker_peak_mb_, peak)
            value, gw, gb = kernels.objective(loss, gx, gs, n_w, w, stats, self.reg)
            self.evaluation_seconds_.append(time.perf_counter() - start)
            return value, np.concatenate([gw.ravel(), gb])

        result = minimize(value_and_grad, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                          options={"maxiter": self.max_iter, "ftol": self.tol})  # fmt: skip
        self.coef_, self.intercept_ = kernels.raw_weights(
            result.x[: d * k].reshape(d, k), result.x[d * k :], stats
        )
        self.n_features_in_ = d
        self.size_ = int(train[0]["size"])  # the size=N directory it was trained on
        self.n_iter_, self.converged_ = int(result.nit), bool(result.success)
        self.thresholds_ = None
        if self.output == "ordinal":
            scores, levels = self._training_scores(train, spark)
            self.thresholds_ = np.asarray(fit_thresholds(scores, levels))
        return self

    def _training_scores(self, train: list[dict], spark) -> tuple[np.ndarray, np.ndarray]:
        """Expected grades of the training rows, where their blocks are (Spark) or here."""
        w, b = self.coef_, self.intercept_

        def score(block: dict) -> tuple[np.ndarray, np.ndarray]:
            x, y = lr_blocks.load(block)
            return kernels.expected_grade(x, w, b), y

        light = [{k: v for k, v in blk.items() if k != "image"} for blk in train]
        parts = (spark.sparkContext.parallelize(light, len(light)).map(score).collect()
                 if spark is not None else [score(blk) for blk in light])  # fmt: skip
        return np.concatenate([s for s, _ in parts]), np.concatenate([y for _, y in parts])

    def decision_scores(self, x: np.ndarray) -> np.ndarray:
        """The expected grade of each row."""
        return kernels.expected_grade(x, self.coef_, self.intercept_)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Grades of uint8 rows (n x H*W*3, or n x features)."""
        if self.output == "ordinal":
            return np.digitize(self.decision_scores(x), self.thresholds_)
        return kernels.predict(x, self.coef_, self.intercept_)

    def predict_argmax(self, x: np.ndarray) -> np.ndarray:
        return kernels.predict(x, self.coef_, self.intercept_)

    def predict_blocks(self, blocks: list[dict], argmax: bool = False
                       ) -> tuple[list[str], np.ndarray, np.ndarray]:  # fmt: skip
        """(images, true grades, predicted grades) of the rows of `blocks` (`argmax`: by
        the most probable class whatever the model's output)."""
        images, truth, pred = [], [], []
        for b in blocks:
            x, y = lr_blocks.load(b)
            images += list(b["image"])
            truth.append(y)
            pred.append(self.predict_argmax(x) if argmax else self.predict(x))
        if not truth:
            return [], np.zeros(0, np.int64), np.zeros(0, np.int64)
        return images, np.concatenate(truth), np.concatenate(pred)

    def save(self, path: fs.PathLike) -> fs.PathLike:
        """To a local path or an hdfs:// URL, whole or not at all."""
        buffer = io.BytesIO()
        ordinal = {"thresholds": self.thresholds_} if self.output == "ordinal" else {}
        np.savez(buffer, w_raw=self.coef_, b_raw=self.intercept_, size=self.size_, reg=self.reg,
                 class_weight=str(self.class_weight), standardize=self.standardize,
                 output=self.output, **ordinal)  # fmt: skip
        fs.write_bytes(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: fs.PathLike) -> "BlocksLogisticRegression":
        if not fs.exists(path):
            raise DrcError(path, "no model here: run `drc train-lr` or `drc pipeline` first")
        saved = np.load(io.BytesIO(fs.read_bytes(path)))
        model = cls(reg=float(saved["reg"]) if "reg" in saved else 0.0,
                    output=str(saved["output"]) if "output" in saved else "argmax")  # fmt: skip
        model.coef_, model.intercept_ = saved["w_raw"], saved["b_raw"]
        model.size_ = int(saved["size"])
        model.n_features_in_ = model.coef_.shape[0]
        model.thresholds_ = saved["thresholds"] if "thresholds" in saved else None
        return model


def write_submission(model_path: fs.PathLike, data: fs.PathLike, out: Path) -> int:
    """Kaggle submission (`image,level`) for every image of a preprocess output (the model
    and the data: local paths or hdfs:// URLs)."""
    import pyarrow.parquet as pq

    model = BlocksLogisticRegression.load(model_path)
    source = layout.size_dir(data, model.size_)
    files = fs.glob(fs.join(source, "*.parquet"))
    if not files:
        raise DrcError(source, f"the model is for {model.size_} px; no Parquet of that size here")
    n = 0
    tmp = out.with_name(out.name + ".partial")
    with tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "level"])
        # batch by batch: a whole size is 6.9 GB at 256 px for the Kaggle training set
        for path in files:
            with fs.open_read(path) as handle:
                for batch in pq.ParquetFile(handle).iter_batches(
                    batch_size=256, columns=["image", "pixels"]
                ):
                    images = batch.column("image").to_pylist()
                    pixels = batch.column("pixels").to_pylist()
                    x = np.stack([np.frombuffer(p, np.uint8) for p in pixels])
                    if x.shape[1] != model.n_features_in_:
                        raise DrcError(path, f"rows of {x.shape[1]} values; the model takes "
                                             f"{model.n_features_in_} (a model trained on "
                                             "`drc features` output grades that output, not "
                                             "pixels)")  # fmt: skip
                    writer.writerows(zip(images, model.predict(x), strict=True))
                    n += len(images)
    tmp.replace(out)
    return n
