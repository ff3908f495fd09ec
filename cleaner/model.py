"""The line model: a gradient-boosted tree ensemble over line features.

Model files are skops archives, loaded with an explicit allow-list of types
so that no code from the file ever runs; anything else in the file, a
truncated file, or a model made for other features is refused with an error
that names the file.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np

from cleaner.features import FEATURE_NAMES
from cleaner.labels import BLANK, BODY, LABELS

FORMAT = "cleaner-line-model"
FORMAT_VERSION = 1
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


def make_estimator(max_iter: int, learning_rate: float = 0.1, random_state: int = 0):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        learning_rate=learning_rate, max_iter=max_iter, max_leaf_nodes=31, min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=random_state,
    )


class LineModel:
    """Two tree ensembles: one decides keep (body) or drop, one says why a line is dropped.

    Splitting the decision this way lets the keep/drop model learn from every
    labelled line of the large corpora (one tree per round) while the reason
    model, which has many classes, learns only from the dropped lines.
    Probabilities combine as p(body) and (1 - p(body)) * p(reason).
    """

    def __init__(self, keep_estimator, reason_estimator, metadata: dict | None = None) -> None:
        self.keep_estimator = keep_estimator
        self.reason_estimator = reason_estimator
        self.metadata = dict(metadata or {})
        if [str(c) for c in keep_estimator.classes_] != [BODY, DROP]:
            raise ModelError("keep model must predict exactly body/drop")
        reasons = [str(c) for c in reason_estimator.classes_]
        unknown = set(reasons) - set(LABELS) | (set(reasons) & {BODY, BLANK})
        if unknown:
            raise ModelError(f"reason model predicts labels it must not: {sorted(unknown)}")
        self.labels: list[str] = [BODY, *reasons]

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray, sample_weight: np.ndarray | None = None,
            metadata: dict | None = None, keep_iter: int = 300, reason_iter: int = 100,
            random_state: int = 0) -> LineModel:
        labels = np.asarray(labels, dtype=object)
        weights = np.ones(len(labels)) if sample_weight is None else np.asarray(sample_weight)
        keep = make_estimator(keep_iter, random_state=random_state)
        keep.fit(features, np.where(labels == BODY, BODY, DROP), sample_weight=weights)
        dropped = labels != BODY
        if len(set(labels[dropped])) > 1:
            reason = make_estimator(reason_iter, learning_rate=0.15, random_state=random_state)
        else:  # one kind of dropped line (or none): nothing to learn, the prior says it
            from sklearn.dummy import DummyClassifier

            reason = DummyClassifier(strategy="prior")
            if not dropped.any():
                dropped, labels = np.ones(len(labels), bool), np.full(len(labels), "nav", object)
        reason.fit(features[dropped], labels[dropped].astype(str), sample_weight=weights[dropped])
        return cls(keep, reason, metadata)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Probabilities with one column per entry of :attr:`labels` (body first)."""
        if len(features) == 0:
            return np.zeros((0, len(self.labels)))
        body = self.keep_estimator.predict_proba(features)[:, :1]
        reasons = self.reason_estimator.predict_proba(features)
        return np.hstack([body, (1.0 - body) * reasons])

    def to_bytes(self) -> bytes:
        import skops.io as sio

        payload = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "feature_names": list(FEATURE_NAMES), "labels": self.labels,
            "metadata": self.metadata, "keep_estimator": self.keep_estimator,
            "reason_estimator": self.reason_estimator,
        }
        return sio.dumps(payload)

    def save(self, path: str | Path) -> None:
        """Write atomically, so an interrupted training never leaves half a model."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(self.to_bytes())
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: str | Path | None = None) -> LineModel:
        path = Path(path) if path is not None else default_model_path()
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ModelError(f"{path}: model file not found (run `make train` or pass --model)") from None
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
            raise ModelError(f"{source}: corrupt model file ({type(error).__name__}: {error})") from None
        if untrusted:
            raise ModelError(
                f"{source}: refusing to load types a cleaner model never contains: {sorted(untrusted)}"
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
                             f"this cleaner reads version {FORMAT_VERSION}; retrain with `make train`")
        if payload.get("feature_names") != list(FEATURE_NAMES):
            raise ModelError(f"{source}: model was trained on other features than this cleaner "
                             f"computes; retrain with `make train`")
        try:
            return cls(payload["keep_estimator"], payload["reason_estimator"],
                       payload.get("metadata"))
        except (KeyError, AttributeError) as error:
            raise ModelError(f"{source}: incomplete model file ({error})") from None


__all__ = ["LineModel", "ModelError", "default_model_path"]
