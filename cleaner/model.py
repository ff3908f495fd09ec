"""The line model: gradient-boosted tree ensembles over line features.

Training fits scikit-learn estimators; the model keeps them as plain tree
arrays (``cleaner.forest``), which predict without scikit-learn and without
threads. A model file (``cleaner.model_file``) holds those arrays and a JSON
header recording the format version, the name of every column each stage
reads, the labels and the body threshold. Loading never runs code from the
file, reads only bounded regular files, and validates everything the
predictor relies on; anything else is a ModelError that names the file.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import math
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cleaner import model_file
from cleaner.features import FEATURE_NAMES, PREDICTION_CONTEXT_FEATURES, prediction_context
from cleaner.forest import Forest, ForestError
from cleaner.labels import BLANK, BODY, LABELS
from cleaner.lexicon import LEXICON_FEATURES, Lexicon, LexiconError, Tokens

FORMAT = "cleaner-line-model"
FORMAT_VERSION = 6
#: Versions this cleaner reads: 5 is 6 without a bag (``LineModel.with_bag``).
READABLE_VERSIONS = (5, FORMAT_VERSION)
#: Prefix of the arrays of the stages that read HTML pages, in a model whose input
#: formats have trees of their own (``LineModel.with_html``).
HTML_PREFIX = "html."
#: Prefix of the arrays of a model's i-th extra pair of keep stages (``bag0.``, ...; see
#: ``LineModel.with_bag``).
BAG_PREFIX = "bag"
#: The keep model's second class: every label but body.
DROP = "drop"
#: The word cues' arrays in a model file (Lexicon.arrays, in the order Lexicon takes them).
LEXICON_ARRAYS = tuple(f"lexicon.{name}" for name in Lexicon.empty().arrays)
#: A page none of whose lines reaches the body threshold keeps the lines within this
#: much of its best p(body) (and at least half the threshold) instead of coming out
#: empty: on the validation split such a page was far likelier a short or unusual
#: article the model doubted than a page without one (see the model card).
EMPTY_PAGE_MARGIN = 0.2
#: The three stages, in the order they run, as named in a model file.
STAGES = ("keep", "context", "reason")
#: The stages that give p(body), all that an extra pair in a model's bag holds.
KEEP_STAGES = STAGES[:2]
#: Where the shipped model lives: ``cleaner/models`` is a link to ``models/`` in a
#: checkout (where training writes) and a package-data folder in a wheel.
MODELS_DIR = Path(str(importlib.resources.files("cleaner") / "models"))
DEFAULT_MODEL_PATH = MODELS_DIR / "cleaner.npz"


class ModelError(RuntimeError):
    """A model file that cannot be used; the message names the file and the reason."""


def default_model_path() -> Path:
    """``$CLEANER_MODEL`` if set, else the model shipped in ``models/``."""
    return Path(os.environ.get("CLEANER_MODEL", DEFAULT_MODEL_PATH))


def stage_columns() -> dict[str, list[str]]:
    """The columns each stage reads: the line features and the learned word cues, then
    (second stage and reasons) the first stage's predictions around the line."""
    own = [*FEATURE_NAMES, *LEXICON_FEATURES]
    staged = [*own, *PREDICTION_CONTEXT_FEATURES]
    return {"keep": own, "context": staged, "reason": staged}


def one_thread() -> contextlib.AbstractContextManager:
    """Keep the thread pools already loaded (BLAS, OpenMP) to one thread.

    Prediction itself starts no threads (``cleaner.forest`` is plain numpy),
    so this only guards against libraries a caller loaded; parallel workers
    already use every core. It never imports scikit-learn, whose import would
    cost the start-up time of every run.
    """
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


#: Leaves per tree. 63 (was 31) with a 50% row sample beat 31 leaves at 40% on the
#: validation split by the rule in the model card; deeper trees cost a little speed.
MAX_LEAF_NODES = 63


def make_estimator(max_iter: int, learning_rate: float = 0.1, random_state: int = 0):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        learning_rate=learning_rate, max_iter=max_iter, max_leaf_nodes=MAX_LEAF_NODES,
        min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=random_state,
    )


def _check_columns(features: np.ndarray) -> None:
    """Callers pass the line features; the model adds its word cues itself."""
    if features.ndim != 2 or features.shape[1] != len(FEATURE_NAMES):
        raise ValueError(f"features must have the {len(FEATURE_NAMES)} columns of "
                         f"FEATURE_NAMES, not shape {features.shape}")


_LOG_CHARS = FEATURE_NAMES.index("log_chars")


def _chars(features: np.ndarray) -> np.ndarray:
    """Each row's length in characters, from its ``log_chars`` column."""
    return np.expm1(features[:, _LOG_CHARS].astype(float))


def _threshold(name: str, value: object) -> float:
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or not 0.0 <= value <= 1.0):
        raise ModelError(f"{name} must be a number from 0 to 1, not {value!r}")
    return float(value)


def page_thresholds(p_body: np.ndarray, thresholds: float | np.ndarray,
                    lengths: list[int] | np.ndarray,
                    margin: float = EMPTY_PAGE_MARGIN) -> np.ndarray:
    """The threshold per row: ``thresholds`` (one, or one per row), lowered on a page
    none of whose rows reaches it to ``margin`` below the page's best p(body), so that
    the page keeps its likeliest lines rather than nothing; but never below half of
    itself, so that a page of nothing but chrome still comes out empty."""
    thresholds = np.broadcast_to(np.asarray(thresholds, dtype=float), p_body.shape)
    lengths = np.asarray(lengths, dtype=np.int64)
    if not len(p_body):
        return thresholds.copy()
    pages = lengths[lengths > 0]
    starts = np.concatenate(([0], np.cumsum(pages)[:-1]))
    best = np.repeat(np.maximum.reduceat(p_body, starts), pages)
    return np.where(best < thresholds, np.maximum(best - margin, thresholds / 2), thresholds)


def _as_forest(estimator) -> Forest:
    return estimator if isinstance(estimator, Forest) else Forest.from_estimator(estimator)


class KeepStages(NamedTuple):
    """The two keep stages and the word cues they read: all that p(body) needs."""

    keep: Forest
    context: Forest
    lexicon: Lexicon

    def body_and_staged(self, features: np.ndarray, lengths: list[int],
                        tokens: Tokens | None, ancestors: np.ndarray | None
                        ) -> tuple[np.ndarray, np.ndarray]:
        """p(body) from the context stage, and the rows it read (line features, word cues,
        first-stage context)."""
        cues = self.lexicon.columns(Tokens.empty() if tokens is None else tokens,
                                    len(features), lengths)
        features = np.hstack([features, cues.astype(features.dtype, copy=False)])
        first = self.keep.predict_proba(features)[:, 0]
        staged = np.hstack([features, prediction_context(first, lengths, ancestors,
                                                         _chars(features))])
        return self.context.predict_proba(staged)[:, 0], staged

    @property
    def forests(self) -> tuple[Forest, Forest]:
        return self.keep, self.context


def _check_stages(names: tuple[str, ...], forests) -> None:
    """Keep stages predict body/drop, and every stage reads the columns this cleaner
    computes for it."""
    columns = stage_columns()
    for stage, forest in zip(names, forests, strict=True):
        if stage != "reason" and [str(c) for c in forest.classes_] != [BODY, DROP]:
            raise ModelError("keep models must predict exactly body/drop")
        if forest.n_features != len(columns[stage]):
            raise ModelError(f"{stage} stage reads {forest.n_features} columns, this "
                             f"cleaner computes {len(columns[stage])}; retrain with "
                             "`make train`")


class LineModel:
    """Three tree ensembles: keep (body) or drop, the same again in context, and why a line goes.

    The first keep model reads each line's own features. The second reads
    them plus where the first model sees body around the line (see
    ``prediction_context``); it is trained on out-of-fold first-stage
    probabilities so that it learns how far to trust them. The reason model,
    which has many classes, learns only from the dropped lines. Probabilities
    combine as p(body) and (1 - p(body)) * p(reason).

    The stages are :class:`~cleaner.forest.Forest` tree arrays; fitted
    scikit-learn estimators passed in are exported to them. A line is body
    when p(body) reaches ``body_threshold`` (by default the metadata's
    ``body_threshold``, else 0.5); lines of HTML pages use
    ``html_body_threshold`` (the metadata's, else ``body_threshold``), as the
    two input formats score differently.

    A model may hold a second model of its own for HTML pages (``html_model``,
    see :meth:`with_html`): fitted on HTML rows only, so that what helps one
    input format does not cost the other, as it did with shared trees. It may
    also hold a bag of extra keep stages (``bag``, see :meth:`with_bag`), fitted
    on other rows: its p(body) is then the mean of its own and theirs.
    """

    def __init__(self, keep_estimator, context_estimator, reason_estimator,
                 metadata: dict | None = None, body_threshold: float | None = None,
                 lexicon: Lexicon | None = None,
                 html_body_threshold: float | None = None,
                 html_model: LineModel | None = None,
                 bag: tuple[KeepStages, ...] | list[KeepStages] = ()) -> None:
        self.metadata = dict(metadata or {})
        if html_model is not None and html_model.html_model is not None:
            raise ModelError("the HTML model cannot hold a model of its own")
        self.html_model = html_model
        self.lexicon = Lexicon.empty() if lexicon is None else lexicon
        reasons = [str(c) for c in reason_estimator.classes_]
        unknown = set(reasons) - set(LABELS) | (set(reasons) & {BODY, BLANK})
        if unknown:
            raise ModelError(f"reason model predicts labels it must not: {sorted(unknown)}")
        self.keep_estimator = _as_forest(keep_estimator)
        self.context_estimator = _as_forest(context_estimator)
        self.reason_estimator = _as_forest(reason_estimator)
        _check_stages(STAGES, self.stages)
        self.bag = tuple(bag)
        for member in self.bag:
            if not isinstance(member, KeepStages):
                raise ModelError("a bag holds KeepStages")
            _check_stages(KEEP_STAGES, member.forests)
        self.labels: list[str] = [BODY, *reasons]
        if body_threshold is None:
            body_threshold = self.metadata.get("body_threshold", 0.5)
        self.body_threshold = _threshold("body_threshold", body_threshold)
        if html_body_threshold is None:
            html_body_threshold = self.metadata.get("html_body_threshold", self.body_threshold)
        self.html_body_threshold = _threshold("html_body_threshold", html_body_threshold)
        if html_model is not None and not set(html_model.labels) <= set(self.labels):
            raise ModelError("the HTML model gives labels the text model does not: "
                             f"{sorted(set(html_model.labels) - set(self.labels))}")

    @property
    def stages(self) -> tuple[Forest, Forest, Forest]:
        return self.keep_estimator, self.context_estimator, self.reason_estimator

    def with_html(self, html_model: LineModel | None) -> LineModel:
        """This model (for text pages) with ``html_model`` for HTML pages."""
        return self._copy(html_model, self.bag)

    def with_bag(self, bag: list[KeepStages]) -> LineModel:
        """This model with ``bag``: keep stages fitted on other rows, whose p(body) is
        averaged with this model's (reasons stay this model's). On the validation split,
        two models on disjoint halves of the text rows read better averaged than either
        alone or one model on all the rows (see the model card)."""
        return self._copy(self.html_model, bag)

    def _copy(self, html_model: LineModel | None, bag) -> LineModel:
        return LineModel(*self.stages, self.metadata, self.body_threshold, self.lexicon,
                         self.html_body_threshold, html_model, bag)

    @property
    def keep_stages(self) -> KeepStages:
        return KeepStages(self.keep_estimator, self.context_estimator, self.lexicon)

    def _per_format(self, html: np.ndarray | None, lengths: list[int], features: np.ndarray,
                    tokens: Tokens | None, ancestors: np.ndarray | None
                    ) -> list[tuple[np.ndarray, LineModel, dict]] | None:
        """Per input format present in the batch: its rows, the model that reads them and
        the arguments of that model's call. None when this model reads every row (it
        holds no HTML model, or the batch has no HTML page)."""
        if self.html_model is None or html is None:
            return None
        html = np.asarray(html, bool)
        if len(html) != len(lengths):
            raise ValueError("html must say, per page, whether it is an HTML page")
        if not html.any():
            return None
        rows = np.repeat(html, lengths)
        parts = []
        for chosen, model in ((False, self), (True, self.html_model)):
            if not (html == chosen).any():
                continue
            mine = rows == chosen
            parts.append((mine, model, {
                "features": features[mine],
                "lengths": [n for n, page in zip(lengths, html, strict=True) if page == chosen],
                "tokens": None if tokens is None else tokens.select(mine),
                "ancestors": None if ancestors is None else ancestors[mine]}))
        return parts

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray, pages: np.ndarray | None = None,
            sample_weight: np.ndarray | None = None, folds: np.ndarray | None = None,
            fit_mask: np.ndarray | None = None, metadata: dict | None = None,
            keep_iter: int = 300, reason_iter: int = 100, random_state: int = 0,
            keep_learning_rate: float = 0.1, reason_learning_rate: float = 0.15,
            tokens: Tokens | None = None, groups: np.ndarray | None = None,
            ancestors: np.ndarray | None = None, reasons: bool = True) -> LineModel:
        """Fit the word cues and all three stages (``reasons=False``: the reason stage is
        the labels' prior only, for a model whose keep stages join another's bag).

        ``pages`` gives each row's page (rows of one page are consecutive);
        ``folds`` (0 or 1 per row, whole pages) splits the rows for the
        out-of-fold first stage, by default by page; ``fit_mask`` picks the
        rows the trees are fitted on, while context is computed on whole pages.
        ``tokens`` are the rows' words (``lexicon.line_tokens``), from which the
        word cues are learned (none without them); ``groups`` names each row's
        source page, which the cues count distinct pages of (default ``pages``).
        ``ancestors`` are the rows' block elements (``features.pages_ancestors``; -1
        on text pages), for the second stage's view of the element tree.
        """
        # What save() will need is checked before hours of fitting, not after.
        columns = stage_columns()
        _check_columns(features)
        model_file.check_header({"metadata": metadata or {}})
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
        tokens = Tokens.empty() if tokens is None else tokens
        groups = pages if groups is None else np.asarray(groups)
        # The word cues of a row come from a table its own fold did not build (as the
        # first stage's context does), so the trees learn how far the cues carry to
        # pages whose words were never counted.
        cues = np.zeros((n, len(LEXICON_FEATURES)), np.float32)
        for fold in (0, 1):
            rows = folds == fold
            if rows.any():
                table = Lexicon.fit(tokens, labels, groups, ~rows if (~rows).any() else None)
                cues[rows] = table.columns(tokens, n, lengths)[rows]
        lexicon = Lexicon.fit(tokens, labels, groups)
        features = np.hstack([features, cues])
        del cues

        def fit_keep(x: np.ndarray, rows: np.ndarray):
            estimator = make_estimator(keep_iter, keep_learning_rate, random_state)
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
        staged = np.hstack([features, prediction_context(out_of_fold, lengths, ancestors,
                                                         _chars(features))])
        if staged.shape[1] != len(columns["context"]):
            raise ValueError("the second stage's columns must be FEATURE_NAMES, "
                             "LEXICON_FEATURES, then "
                             "PREDICTION_CONTEXT_FEATURES (see stage_columns)")
        context = fit_keep(staged, fit_mask)

        dropped = fit_mask & (labels != BODY)
        if reasons and len(set(labels[dropped])) > 1:
            reason = make_estimator(reason_iter, reason_learning_rate, random_state)
        else:  # one kind of dropped line (or no reasons wanted): the prior says it
            from sklearn.dummy import DummyClassifier

            reason = DummyClassifier(strategy="prior")
        _fit(reason, staged[dropped], labels[dropped].astype(str), weights[dropped])
        return cls(keep, context, reason, metadata, lexicon=lexicon)

    def _body_and_staged(self, features: np.ndarray, lengths: list[int] | None,
                         tokens: Tokens | None, ancestors: np.ndarray | None
                         ) -> tuple[np.ndarray, np.ndarray]:
        """p(body) from the context stage (the mean over the bag's too), and the staged rows
        the reason model reads."""
        lengths = [len(features)] if lengths is None else lengths
        if sum(lengths) != len(features):
            raise ValueError("page lengths must add up to the number of rows")
        _check_columns(features)
        body, staged = self.keep_stages.body_and_staged(features, lengths, tokens, ancestors)
        for member in self.bag:
            body = body + member.body_and_staged(features, lengths, tokens, ancestors)[0]
        return body / (1 + len(self.bag)), staged

    def predict_proba(self, features: np.ndarray, lengths: list[int] | None = None,
                      tokens: Tokens | None = None, ancestors: np.ndarray | None = None,
                      html: np.ndarray | None = None) -> np.ndarray:
        """Probabilities, one column per entry of :attr:`labels` (body first).

        ``lengths`` are the row counts of consecutive pages (default: one page);
        ``tokens`` the rows' words (``lexicon.line_tokens``; without them every
        line reads as holding no known word); ``ancestors`` the rows' block
        elements on HTML pages (``features.pages_ancestors``; without them the
        element-tree columns are missing); ``html`` says per page whether it is an
        HTML page (read by the HTML model, if this model holds one).
        """
        if len(features) == 0:
            return np.zeros((0, len(self.labels)))
        lengths = [len(features)] if lengths is None else lengths
        parts = self._per_format(html, lengths, features, tokens, ancestors)
        if parts is not None:
            out = np.zeros((len(features), len(self.labels)))
            for mine, model, part in parts:
                columns = [self.labels.index(label) for label in model.labels]
                out[np.ix_(mine, columns)] = model.predict_proba(**part)
            return out
        body, staged = self._body_and_staged(features, lengths, tokens, ancestors)
        body = body[:, None]
        return np.hstack([body, (1.0 - body) * self.reason_estimator.predict_proba(staged)])

    def predict(self, features: np.ndarray, lengths: list[int] | None = None,
                body_threshold: float | np.ndarray | None = None,
                tokens: Tokens | None = None, reasons: bool = True,
                empty_page_margin: float | None = EMPTY_PAGE_MARGIN,
                ancestors: np.ndarray | None = None, html: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """Label and its probability per row: body when p(body) reaches the threshold
        (one for all rows, or one per row; the model's text threshold by default; on a
        page where no row reaches it, `page_thresholds` with ``empty_page_margin``, unless
        that is None), else the likeliest reason. Reasons are computed only for dropped
        rows, and not at all with ``reasons=False`` (dropped rows are then ``drop``, with
        1 - p(body)): the reason model walks more trees than the keep stages, and a
        caller that keeps only body lines does not read its answer. ``html`` says per
        page whether it is an HTML page (read by the HTML model, if this model holds
        one; the threshold stays the caller's)."""
        if body_threshold is None:
            body_threshold = self.body_threshold
        labels = np.full(len(features), BODY, dtype=object)
        if len(features) == 0:
            return labels, np.ones(0)
        lengths = [len(features)] if lengths is None else lengths
        parts = self._per_format(html, lengths, features, tokens, ancestors)
        if parts is not None:
            probability = np.ones(len(features))
            thresholds = np.broadcast_to(np.asarray(body_threshold, float), len(features))
            for mine, model, part in parts:
                labels[mine], probability[mine] = model.predict(
                    **part, body_threshold=thresholds[mine], reasons=reasons,
                    empty_page_margin=empty_page_margin)
            return labels, probability
        body, staged = self._body_and_staged(features, lengths, tokens, ancestors)
        probability = body.copy()
        if empty_page_margin is not None:
            body_threshold = page_thresholds(body, body_threshold, lengths, empty_page_margin)
        dropped = body < body_threshold
        if not dropped.any():
            return labels, probability
        if not reasons:
            labels[dropped] = DROP
            probability[dropped] = 1.0 - body[dropped]
            return labels, probability
        odds = self.reason_estimator.predict_proba(staged[dropped])
        best = odds.argmax(axis=1)
        labels[dropped] = np.asarray(self.labels[1:], dtype=object)[best]
        probability[dropped] = (1.0 - body[dropped]) * odds[np.arange(len(best)), best]
        return labels, probability

    def _description(self) -> dict:
        """The header's description of this model's stages (and its bag's, if any)."""
        columns = stage_columns()

        def describe(names: tuple[str, ...], forests) -> dict:
            return {stage: {"classes": forest.classes, "link": forest.link,
                            "feature_names": columns[stage]}
                    for stage, forest in zip(names, forests, strict=True)}

        description = {"stages": describe(STAGES, self.stages)}
        if self.bag:
            description["bag"] = [describe(KEEP_STAGES, member.forests) for member in self.bag]
        return description

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = _stage_arrays(STAGES, self.stages, self.lexicon)
        for i, member in enumerate(self.bag):
            arrays.update({f"{BAG_PREFIX}{i}.{name}": array for name, array in
                           _stage_arrays(KEEP_STAGES, member.forests, member.lexicon).items()})
        return arrays

    def to_bytes(self) -> bytes:
        """The model file: tree arrays per stage and a JSON header (see the module doc);
        those of the HTML model, if any, under ``html``."""
        header = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "labels": self.labels,
            "body_threshold": self.body_threshold,
            "html_body_threshold": self.html_body_threshold, "metadata": self.metadata,
            **self._description(),
        }
        arrays = self._arrays()
        if self.html_model is not None:
            header["html"] = {"labels": self.html_model.labels,
                              **self.html_model._description()}
            arrays.update({HTML_PREFIX + name: array
                           for name, array in self.html_model._arrays().items()})
        return model_file.pack(arrays, header)

    def save(self, path: str | Path) -> None:
        """Write atomically, so an interrupted training never leaves half a model."""
        path = Path(path)
        data = self.to_bytes()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            temporary.write_bytes(data)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | Path | None = None) -> LineModel:
        """Load a model file (default: ``$CLEANER_MODEL`` or the shipped model)."""
        path = Path(path) if path is not None else default_model_path()
        try:
            data = model_file.read_file(path)
        except FileNotFoundError:
            raise ModelError(
                f"{path}: model file not found (run `make train` or pass --model)") from None
        except model_file.ModelFileError as error:
            raise ModelError(f"{path}: cannot use as a model file: {error}") from None
        except OSError as error:
            raise ModelError(f"{path}: cannot read model file: {error.strerror or error}") from None
        return cls.from_bytes(data, str(path))

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<bytes>") -> LineModel:
        """A model from the bytes of a model file; ModelError naming ``source`` if unusable."""
        try:
            arrays, header = model_file.unpack(data)
        except model_file.ModelFileError as error:
            raise ModelError(f"{source}: {error}") from None
        try:
            return cls._from_parts(arrays, header)
        except (ModelError, ForestError) as error:
            raise ModelError(f"{source}: {error}") from None

    @classmethod
    def _from_parts(cls, arrays: dict[str, np.ndarray], header: dict) -> LineModel:
        if header.get("format") != FORMAT:
            raise ModelError("not a cleaner model file")
        version = header.get("format_version")
        if version not in READABLE_VERSIONS or isinstance(version, bool):
            raise ModelError(f"model format version {version!r}, this cleaner reads version "
                             f"{FORMAT_VERSION}; retrain with `make train`")
        if version < FORMAT_VERSION and ("bag" in header or "bag" in (header.get("html") or {})):
            raise ModelError(f"a bag in a model file of version {version}")
        html = header.get("html")
        if html is not None and not isinstance(html, dict):
            raise ModelError("the HTML model's description is not a mapping")
        own = {name: array for name, array in arrays.items()
               if not name.startswith(HTML_PREFIX)}
        html_arrays = {name.removeprefix(HTML_PREFIX): array
                       for name, array in arrays.items() if name.startswith(HTML_PREFIX)}
        if html is None and html_arrays:
            raise ModelError("unexpected arrays in the model file")
        forests, lexicon, bag = cls._parts_from(own, header)
        metadata = header.get("metadata", {})
        if not isinstance(metadata, dict):
            raise ModelError("model metadata is not a mapping")
        threshold = header.get("body_threshold")
        if threshold is None:
            raise ModelError("no body_threshold")
        html_model = None
        if html is not None:
            try:
                html_forests, html_lexicon, html_bag = cls._parts_from(html_arrays, html)
                html_model = cls(*html_forests, lexicon=html_lexicon, bag=html_bag)
            except ModelError as error:
                raise ModelError(f"HTML model: {error}") from None
            if html.get("labels") != html_model.labels:
                raise ModelError("HTML model: labels in the header do not match the reason "
                                 "stage's classes")
        model = cls(*forests, metadata, body_threshold=threshold, lexicon=lexicon,
                    html_body_threshold=header.get("html_body_threshold"),
                    html_model=html_model, bag=bag)
        if header.get("labels") != model.labels:
            raise ModelError("labels in the header do not match the reason stage's classes")
        return model

    @classmethod
    def _parts_from(cls, arrays: dict[str, np.ndarray], description: dict
                    ) -> tuple[list[Forest], Lexicon, list[KeepStages]]:
        """One model's stages, word cues and bag, from its arrays and its description in
        the header (``stages``, and ``bag`` if it has one)."""
        members = description.get("bag", [])
        if not isinstance(members, list):
            raise ModelError("the bag's description is not a list")
        bag = []
        for i, stages in enumerate(members):
            prefix = f"{BAG_PREFIX}{i}."
            try:
                forests, lexicon = cls._stages_from(
                    {name.removeprefix(prefix): array for name, array in arrays.items()
                     if name.startswith(prefix)}, stages, KEEP_STAGES)
            except ModelError as error:
                raise ModelError(f"bag model {i}: {error}") from None
            bag.append(KeepStages(*forests, lexicon))
        own = {name: array for name, array in arrays.items()
               if not name.startswith(BAG_PREFIX)}
        if any(not name.startswith(tuple(f"{BAG_PREFIX}{i}." for i in range(len(bag))))
               for name in arrays.keys() - own.keys()):
            raise ModelError("unexpected arrays in the model file")
        forests, lexicon = cls._stages_from(own, description.get("stages"))
        return forests, lexicon, bag

    @staticmethod
    def _stages_from(arrays: dict[str, np.ndarray], stages: object,
                     names: tuple[str, ...] = STAGES) -> tuple[list[Forest], Lexicon]:
        """The stages ``names`` and the word cues of one model, checked against ``stages``,
        their description in the header."""
        if not isinstance(stages, dict) or set(stages) != set(names):
            raise ModelError(f"header must describe the stages {list(names)}")
        columns = stage_columns()
        forests = []
        for stage in names:
            spec = stages[stage]
            if not isinstance(spec, dict):
                raise ModelError(f"{stage} stage: description is not a mapping")
            if spec.get("feature_names") != columns[stage]:
                raise ModelError(f"{stage} stage was trained on other columns than this "
                                 "cleaner computes (names or order differ); retrain with "
                                 "`make train`")
            classes, link = spec.get("classes"), spec.get("link")
            if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
                raise ModelError(f"{stage} stage: classes must be a list of strings")
            if stage != "reason" and classes != [BODY, DROP]:
                raise ModelError("keep models must predict exactly body/drop")
            prefix = f"{stage}."
            stage_arrays = {name.removeprefix(prefix): array for name, array in arrays.items()
                            if name.startswith(prefix)}
            try:
                forests.append(Forest(classes, link, len(columns[stage]), stage_arrays))
            except ForestError as error:
                raise ModelError(f"{stage} stage: {error}") from None
        if any(not name.startswith(tuple(f"{s}." for s in names))
               and name not in LEXICON_ARRAYS for name in arrays):
            raise ModelError("unexpected arrays in the model file")
        try:
            lexicon = Lexicon(*(arrays[name] for name in LEXICON_ARRAYS))
        except KeyError:
            raise ModelError(f"no word cues ({', '.join(LEXICON_ARRAYS)})") from None
        except LexiconError as error:
            raise ModelError(f"word cues: {error}") from None
        return forests, lexicon


def _stage_arrays(names: tuple[str, ...], forests, lexicon: Lexicon) -> dict[str, np.ndarray]:
    arrays = {f"{stage}.{name}": array for stage, forest in zip(names, forests, strict=True)
              for name, array in forest.arrays.items()}
    arrays.update({f"lexicon.{name}": array for name, array in lexicon.arrays.items()})
    return arrays


__all__ = ["KeepStages", "LineModel", "ModelError", "default_model_path", "one_thread"]
