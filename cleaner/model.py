"""The line model: a gradient-boosted tree ensemble over line features.

Model files are skops archives, loaded with an explicit allow-list of types
so that no code from the file ever runs; anything else in the file, a
truncated file, or a model made for other features is refused with an error
that names the file.
"""

from __future__ import annotations

import contextlib
import io
import os
import zipfile
from pathlib import Path

import numpy as np

from cleaner.features import FEATURE_NAMES, prediction_context
from cleaner.labels import BLANK, BODY, LABELS

FORMAT = "cleaner-line-model"
FORMAT_VERSION = 2
#: The keep model's second class: every label but body.
DROP = "drop"
#: The one type a cleaner model holds beyond what skops itself deems safe.
TRUSTED_TYPES = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "cleaner.skops"


class ModelError(RuntimeError):
    """A model file that cannot be used; the message names the file and the reason."""


def default_model_path() -> Path:
    """``$CLEANER_MODEL`` if set, else the model shipped in ``models/``."""
    return Path(os.environ.get("CLEANER_MODEL", DEFAULT_MODEL_PATH))


def one_thread() -> contextlib.AbstractContextManager:
    """Keep OpenMP/BLAS to one thread: the model is called on a few pages' lines at a
    time, where thread start-up costs more than it saves (8x slower on two cores), and
    parallel workers already use every core. The tree code is imported first: before
    its OpenMP runtime is loaded, threadpoolctl finds nothing to limit."""
    import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime)

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1)


def page_lengths(pages: np.ndarray) -> list[int]:
    """Lengths of the runs of equal page ids (rows of a page are consecutive)."""
    if len(pages) == 0:
        return []
    breaks = np.flatnonzero(np.diff(pages) != 0) + 1
    return np.diff(np.concatenate(([0], breaks, [len(pages)]))).tolist()


def _fit(estimator, x: np.ndarray, y: np.ndarray, weights: np.ndarray):
    """Fit on a copy of the rows; columns with no value at all (HTML features when training
    only on text pages) become constant, which sklearn's binning needs and no tree splits on."""
    empty = np.isnan(x).all(axis=0)
    if empty.any():
        x[:, empty] = 0.0
    return estimator.fit(x, y, sample_weight=weights)


def make_estimator(max_iter: int, learning_rate: float = 0.1, random_state: int = 0):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        learning_rate=learning_rate, max_iter=max_iter, max_leaf_nodes=31, min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=random_state,
    )


class LineModel:
    """Three tree ensembles: keep (body) or drop, the same again in context, and why a line goes.

    The first keep model reads each line's own features. The second reads
    them plus where the first model sees body around the line (see
    ``prediction_context``); it is trained on out-of-fold first-stage
    probabilities so that it learns how far to trust them. The reason model,
    which has many classes, learns only from the dropped lines. Probabilities
    combine as p(body) and (1 - p(body)) * p(reason).
    """

    def __init__(self, keep_estimator, context_estimator, reason_estimator,
                 metadata: dict | None = None) -> None:
        self.keep_estimator = keep_estimator
        self.context_estimator = context_estimator
        self.reason_estimator = reason_estimator
        self.metadata = dict(metadata or {})
        for estimator in (keep_estimator, context_estimator):
            if [str(c) for c in estimator.classes_] != [BODY, DROP]:
                raise ModelError("keep models must predict exactly body/drop")
        reasons = [str(c) for c in reason_estimator.classes_]
        unknown = set(reasons) - set(LABELS) | (set(reasons) & {BODY, BLANK})
        if unknown:
            raise ModelError(f"reason model predicts labels it must not: {sorted(unknown)}")
        self.labels: list[str] = [BODY, *reasons]

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray, pages: np.ndarray | None = None,
            sample_weight: np.ndarray | None = None, folds: np.ndarray | None = None,
            fit_mask: np.ndarray | None = None, metadata: dict | None = None,
            keep_iter: int = 300, reason_iter: int = 100, random_state: int = 0) -> LineModel:
        """Fit all three stages.

        ``pages`` gives each row's page (rows of one page are consecutive);
        ``folds`` (0 or 1 per row, whole pages) splits the rows for the
        out-of-fold first stage, by default by page; ``fit_mask`` picks the
        rows the trees are fitted on, while context is computed on whole pages.
        """
        labels = np.asarray(labels, dtype=object)
        n = len(labels)
        pages = np.zeros(n, np.int64) if pages is None else np.asarray(pages)
        weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
        folds = pages % 2 if folds is None else np.asarray(folds)
        fit_mask = np.ones(n, bool) if fit_mask is None else np.asarray(fit_mask, bool)
        keep_labels = np.where(labels == BODY, BODY, DROP)
        if len(set(keep_labels[fit_mask])) < 2:
            raise ValueError("training needs both body lines and dropped lines")
        lengths = page_lengths(pages)

        def fit_keep(x: np.ndarray, rows: np.ndarray):
            estimator = make_estimator(keep_iter, random_state=random_state)
            return _fit(estimator, x[rows], keep_labels[rows], weights[rows])

        out_of_fold = np.zeros(n)
        for fold in (0, 1):
            if not (folds == fold).any():
                continue
            train_rows = fit_mask & (folds != fold)
            if len(set(keep_labels[train_rows])) < 2:
                train_rows = fit_mask  # too little data for folds: fall back to in-sample
            out_of_fold[folds == fold] = fit_keep(features, train_rows).predict_proba(
                features[folds == fold])[:, 0]
        keep = fit_keep(features, fit_mask)
        staged = np.hstack([features, prediction_context(out_of_fold, lengths)])
        context = fit_keep(staged, fit_mask)

        dropped = fit_mask & (labels != BODY)
        if len(set(labels[dropped])) > 1:
            reason = make_estimator(reason_iter, learning_rate=0.15, random_state=random_state)
        else:  # one kind of dropped line: nothing to learn, the prior says it
            from sklearn.dummy import DummyClassifier

            reason = DummyClassifier(strategy="prior")
        _fit(reason, staged[dropped], labels[dropped].astype(str), weights[dropped])
        return cls(keep, context, reason, metadata)

    def _body_and_staged(self, features: np.ndarray,
                         lengths: list[int] | None) -> tuple[np.ndarray, np.ndarray]:
        """p(body) from the context stage, and the staged rows the reason model reads."""
        lengths = [len(features)] if lengths is None else lengths
        if sum(lengths) != len(features):
            raise ValueError("page lengths must add up to the number of rows")
        first = self.keep_estimator.predict_proba(features)[:, 0]
        staged = np.hstack([features, prediction_context(first, lengths)])
        return self.context_estimator.predict_proba(staged)[:, 0], staged

    def predict_proba(self, features: np.ndarray, lengths: list[int] | None = None) -> np.ndarray:
        """Probabilities, one column per entry of :attr:`labels` (body first).

        ``lengths`` are the row counts of consecutive pages (default: one page).
        """
        if len(features) == 0:
            return np.zeros((0, len(self.labels)))
        body, staged = self._body_and_staged(features, lengths)
        body = body[:, None]
        return np.hstack([body, (1.0 - body) * self.reason_estimator.predict_proba(staged)])

    def predict(self, features: np.ndarray, lengths: list[int] | None = None,
                body_threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
        """Label and its probability per row: body when p(body) reaches the threshold,
        else the likeliest reason. Reasons are computed only for dropped rows."""
        labels = np.full(len(features), BODY, dtype=object)
        if len(features) == 0:
            return labels, np.ones(0)
        body, staged = self._body_and_staged(features, lengths)
        probability = body.copy()
        dropped = body < body_threshold
        if dropped.any():
            reasons = self.reason_estimator.predict_proba(staged[dropped])
            best = reasons.argmax(axis=1)
            labels[dropped] = np.asarray(self.labels[1:], dtype=object)[best]
            probability[dropped] = (1.0 - body[dropped]) * reasons[np.arange(len(best)), best]
        return labels, probability

    def to_bytes(self) -> bytes:
        import skops.io as sio

        payload = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "feature_names": list(FEATURE_NAMES), "labels": self.labels,
            "metadata": self.metadata, "keep_estimator": self.keep_estimator,
            "context_estimator": self.context_estimator, "reason_estimator": self.reason_estimator,
        }
        return sio.dumps(payload)

    def save(self, path: str | Path) -> None:
        """Write atomically, so an interrupted training never leaves half a model."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            temporary.write_bytes(self.to_bytes())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | Path | None = None) -> LineModel:
        path = Path(path) if path is not None else default_model_path()
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ModelError(
                f"{path}: model file not found (run `make train` or pass --model)") from None
        except OSError as error:
            raise ModelError(f"{path}: cannot read model file: {error.strerror or error}") from None
        return cls.from_bytes(data, str(path))

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<bytes>") -> LineModel:
        import skops.io as sio

        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise ModelError(f"{source}: not a cleaner model file (not a skops archive)")
        try:
            untrusted = set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES)
        except Exception as error:  # skops raises many kinds on damaged archives
            raise ModelError(
                f"{source}: corrupt model file ({type(error).__name__}: {error})") from None
        if untrusted:
            raise ModelError(
                f"{source}: refusing to load types a cleaner model never contains: "
                f"{sorted(untrusted)}"
            )
        try:
            payload = sio.loads(data, trusted=TRUSTED_TYPES)
        except Exception as error:
            raise ModelError(f"{source}: corrupt or incompatible model file "
                             f"({type(error).__name__}: {error})") from None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ModelError(f"{source}: not a cleaner model file")
        if payload.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"{source}: model format version {payload.get('format_version')!r}, "
                             f"this cleaner reads version {FORMAT_VERSION}; "
                             "retrain with `make train`")
        if payload.get("feature_names") != list(FEATURE_NAMES):
            raise ModelError(f"{source}: model was trained on other features than this cleaner "
                             f"computes; retrain with `make train`")
        metadata = payload.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise ModelError(f"{source}: model metadata is not a mapping")
        try:
            return cls(payload["keep_estimator"], payload["context_estimator"],
                       payload["reason_estimator"], metadata)
        except (KeyError, AttributeError) as error:
            raise ModelError(f"{source}: incomplete model file ({error})") from None
        except ModelError as error:
            raise ModelError(f"{source}: {error}") from None


__all__ = ["LineModel", "ModelError", "default_model_path", "one_thread"]
