"""Fit a ``ChurnClassifier(model="xgboost")`` whose boosting an engine does.

:func:`fit_on_engine` is the engine-independent half of fitting churnkit's
xgboost model on data that lives on a cluster (Dask, Spark): everything
:meth:`ChurnClassifier.fit` decides is decided here, once, and only the
boosting passes run on the engine, through a small *trainer* object. The
result is an ordinary fitted :class:`~churnkit.ChurnClassifier` (or the
fitted pipeline around it): it pickles, saves with ``ck.save``, predicts and
explains on one machine or on any engine.

What happens on the driver
--------------------------
1. ``TablePrep`` (column types and the categorical levels) and the monotone
   constraints are fitted on ``sample``, a pandas sample of the feature rows
   (builder output, with its ``attrs``: the feature directions). Levels rarer
   than ``TablePrep.min_frequency`` rows *in the sample* are merged into
   ``"(infrequent)"``; pass every row (or a large sample) to get the levels of
   a single-machine fit.
2. The hold-out is the latest cutoffs, chosen from ``label_counts`` (rows per
   cutoff time and class, see :func:`count_labels`) exactly as
   :meth:`ChurnClassifier.fit` chooses them (``n_holdout_cutoffs``), with the
   same minimum of 10 rows of each class on each side. With one cutoff time,
   or too few rows of a class, there is no hold-out: 100 rounds on all rows,
   no calibrator (a single-machine fit would use a random hold-out; an engine
   fit does not).
3. The seeds are drawn from ``random_state`` as the single-machine fit draws
   them.
4. ``trainer.early_stop`` boosts on the training cutoffs, stopping on the
   hold-out; ``trainer.hold_margins`` returns the hold-out margins (1-D, small)
   to the driver, where the calibrator is fitted on them.
5. ``trainer.fit`` refits on all rows with ``scaled_rounds`` rounds; the
   booster becomes ``estimator_`` (an ``XGBClassifier``) and every fitted
   attribute is set as ``ChurnClassifier.fit`` sets it.

The trainer protocol
--------------------
A trainer holds the engine's data: the feature rows (indexed or keyed by
``customer_id`` and ``cutoff_time``) and their labels. Its three methods get a
:class:`BoostSpec` (the fitted ``prep``, the xgboost settings of
``models/_xgboost.py`` under both naming schemes, the hold-out cutoff times,
the early-stopping rule and the positive class) and return plain objects:

``early_stop(spec) -> (booster, best_rounds)``
    Boost on the rows whose cutoff time is not a hold-out cutoff
    (``~spec.is_hold(cutoff_times)``), evaluating the log-loss of the hold-out
    rows, and stop ``spec.early_stopping_rounds`` rounds after its last
    improvement (at most ``spec.max_rounds``). ``booster``: an
    :class:`xgboost.Booster` with at least ``best_rounds`` trees;
    ``best_rounds``: the number of rounds (>= 1) with the lowest hold-out
    log-loss.
``hold_margins(spec, booster, rounds) -> (margin, y01)``
    The margins (``output_margin=True``, ``iteration_range=(0, rounds)``) of
    the hold-out rows and their labels as 0/1 (``label ==
    spec.positive_class``), two 1-D numpy arrays in the same (any) row order.
``fit(spec, rounds) -> booster``
    Boost ``rounds`` rounds on all rows; return the :class:`xgboost.Booster`.

Each method builds the model input of a block of rows with
``spec.model_input(features)`` (float64 numerics and fixed-level pandas
Categoricals: use ``enable_categorical=True``) and boosts with
``spec.booster_params`` (native names, for ``xgboost.train`` and
``xgboost.dask.train``) or ``spec.params`` (``XGBClassifier`` names, for the
scikit-learn-style wrappers such as ``xgboost.spark.SparkXGBClassifier``).
:class:`LocalTrainer` is the in-process reference: it calls the same code as
``ChurnClassifier.fit``, so ``fit_on_engine`` with it gives the same model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from churnkit._logging import warn
from churnkit._validation import CUTOFF_TIME
from churnkit.exceptions import (
    CalibrationWarning,
    ChurnkitWarning,
    DataQualityWarning,
    LeakageWarning,
    SchemaError,
)
from churnkit.models._calibration import (
    MIN_CLASS_CALIBRATION,
    MIN_CLASS_HOLDOUT,
    Holdout,
    IsotonicCalibrator,
    SigmoidCalibrator,
    canonical_order,
    n_holdout_cutoffs,
    too_few,
)
from churnkit.models._checks import check_params, check_X
from churnkit.models._leakage import leak_notes
from churnkit.models._monotone import monotone_constraints
from churnkit.models._prep import TablePrep
from churnkit.models._xgboost import (
    EARLY_STOPPING_ROUNDS,
    EVAL_EVERY,
    FALLBACK_ROUNDS,
    MAX_ROUNDS,
    booster_params,
    check_xgboost_names,
    early_stop,
    fit_xgboost,
    scaled_rounds,
    xgboost_params,
)

__all__ = [
    "BoostSpec",
    "LocalTrainer",
    "count_labels",
    "early_stopping_callback",
    "fit_on_engine",
    "xgb_classifier",
]


def early_stopping_callback(every: int, patience: int, data: str, *, record=None):
    """An xgboost callback applying the single-machine early-stopping rule
    (``churnkit.models._xgboost.early_stop``) inside an engine's training.

    The log-loss of the evaluation set named ``data`` is read every ``every``
    rounds; the first strictly lowest wins, and training stops ``patience``
    rounds after it. With ``record``, the best number of rounds is stored on
    the booster as that attribute (text).
    """
    from xgboost.callback import TrainingCallback

    class EveryRoundsStop(TrainingCallback):
        def __init__(self):
            super().__init__()
            self.best, self.best_loss = every, np.inf

        def after_iteration(self, model, epoch, evals_log) -> bool:
            rounds = epoch + 1
            if rounds % every:
                return False
            loss = evals_log[data]["logloss"][-1]
            loss = float(loss[0] if isinstance(loss, tuple) else loss)  # (mean, std)
            if loss < self.best_loss:
                self.best, self.best_loss = rounds, loss
                return False
            return rounds - self.best >= patience

        def after_training(self, model):
            if record is not None:
                model.set_attr(**{record: str(self.best)})
            return model

    return EveryRoundsStop()


LABEL = "label"
N_ROWS = "n_rows"


@dataclass(frozen=True)
class BoostSpec:
    """What a trainer needs to boost churnkit's xgboost model (see module doc).

    Attributes
    ----------
    prep : TablePrep
        Fitted; :meth:`model_input` applies it.
    params : dict
        ``XGBClassifier`` keyword arguments (``xgboost_params``).
    booster_params : dict
        The same settings under the native ``xgboost.train`` names.
    hold_cutoffs : tuple of Timestamp
        The hold-out cutoff times (empty: no hold-out).
    positive_class : object
        The label value of churn; ``y01 = label == positive_class``.
    seed, n_jobs, monotone : int, int or None, dict
        What ``params`` was made from (the local code takes these).
    """

    prep: TablePrep
    params: dict
    booster_params: dict
    hold_cutoffs: tuple
    positive_class: object
    seed: int
    n_jobs: int | None
    monotone: dict = field(default_factory=dict)
    max_rounds: int = MAX_ROUNDS
    early_stopping_rounds: int = EARLY_STOPPING_ROUNDS
    eval_every: int = EVAL_EVERY

    @property
    def feature_names(self) -> list:
        """The feature columns the model reads, in order."""
        return list(self.prep.feature_names_in_)

    def model_input(self, features: pd.DataFrame) -> pd.DataFrame:
        """The base model's input of a block of feature rows."""
        return self.prep.transform(features[self.feature_names])

    def is_hold(self, cutoff_times) -> np.ndarray:
        """Boolean mask: which of ``cutoff_times`` are hold-out cutoffs."""
        times = pd.DatetimeIndex(cutoff_times)
        if not self.hold_cutoffs:
            return np.zeros(len(times), dtype=bool)
        return np.asarray(times.isin(pd.DatetimeIndex(self.hold_cutoffs)))


def count_labels(cutoff_times, y) -> pd.DataFrame:
    """Rows per (cutoff time, label): the ``label_counts`` of :func:`fit_on_engine`.

    Engines call it on each block of rows and concatenate the results;
    :func:`fit_on_engine` adds up repeated (cutoff time, label) pairs.

    Parameters
    ----------
    cutoff_times : array-like of datetime
        The cutoff time of each row.
    y : array-like
        The label of each row, same length.

    Returns
    -------
    DataFrame
        Columns ``cutoff_time``, ``label``, ``n_rows`` (int64).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"])
    >>> count_labels(t, [0, 1, 1])["n_rows"].tolist()
    [1, 1, 1]
    """
    frame = pd.DataFrame(
        {CUTOFF_TIME: pd.DatetimeIndex(cutoff_times), LABEL: np.asarray(y)}
    )
    out = frame.groupby([CUTOFF_TIME, LABEL], sort=True).size()
    return out.rename(N_ROWS).astype("int64").reset_index()


def xgb_classifier(booster, params: dict, rounds: int):
    """An ``XGBClassifier`` holding ``booster``, as ``fit_xgboost`` returns one."""
    from xgboost import XGBClassifier

    est = XGBClassifier(n_estimators=rounds, **params)
    est.load_model(bytearray(booster.save_raw("ubj")))
    # load_model copies these from the booster's config into the wrapper's
    # parameters; a fitted XGBClassifier leaves them at their defaults
    est.base_score = est.booster = est.feature_types = None
    return est


def _classifier(model):
    """The ChurnClassifier of ``model`` (itself, or a pipeline's last step)."""
    if isinstance(model, Pipeline):
        for name, step in model.steps[:-1]:
            if step is None or step == "passthrough":
                continue
            try:
                check_is_fitted(step)
            except Exception:  # sklearn's NotFittedError or a builder's own
                raise SchemaError(
                    f"The pipeline's step {name!r} is not fitted: an engine fit "
                    "boosts the classifier only. Fit the feature step first (with "
                    "the statistics of all buckets), compute the features, then "
                    "call fit_on_engine."
                ) from None
        return model.steps[-1][1]
    return model


def _labels(label_counts) -> tuple[pd.DataFrame, np.ndarray]:
    """Counts summed per (cutoff, label), and the two sorted classes."""
    missing = {CUTOFF_TIME, LABEL, N_ROWS} - set(label_counts.columns)
    if missing:
        raise SchemaError(
            f"label_counts lacks the column(s) {sorted(missing)}; it must have "
            f"{CUTOFF_TIME}, {LABEL}, {N_ROWS}, as count_labels returns."
        )
    if label_counts[LABEL].isna().any():
        raise SchemaError(
            "label_counts counts rows with a missing label; drop the censored "
            "rows (label_churn leaves them unlabelled) before fitting."
        )
    counts = label_counts.groupby([CUTOFF_TIME, LABEL], sort=True)[N_ROWS].sum()
    classes = np.unique(counts.index.get_level_values(LABEL).to_numpy())
    if len(classes) != 2:
        raise SchemaError(
            f"The labels take {len(classes)} value(s) ({list(classes)[:5]}); the "
            "classifier needs exactly two (churned and not churned). With labels "
            "from label_churn, use more or later cutoffs so that some customers "
            "churn."
        )
    return counts.reset_index(), classes


def _holdout(counts, classes, fraction) -> tuple[tuple, str, int]:
    """(hold-out cutoffs, why there is none, training rows), as choose_holdout."""
    table = counts.pivot_table(
        index=CUTOFF_TIME, columns=LABEL, values=N_ROWS, aggfunc="sum", fill_value=0
    ).reindex(columns=classes, fill_value=0)
    n = int(table.to_numpy().sum())
    if len(table) < 2:
        return (), "there is one cutoff time, so no latest cutoffs to hold out", n
    first = len(table) - n_holdout_cutoffs(table.sum(axis=1).to_numpy(), fraction)
    for part, rows in (
        ("hold-out", table.iloc[first:]),
        ("training part", table.iloc[:first]),
    ):
        per_class = rows.sum(axis=0).to_numpy()
        if per_class.min() < MIN_CLASS_HOLDOUT:
            return (), too_few(part, per_class, MIN_CLASS_HOLDOUT), n
    return tuple(table.index[first:]), "", int(table.iloc[:first].to_numpy().sum())


def fit_on_engine(model, sample, label_counts, trainer, *, sample_y=None):
    """Fit ``ChurnClassifier(model="xgboost")`` with an engine's ``trainer``.

    Parameters
    ----------
    model : ChurnClassifier or Pipeline
        ``model="xgboost"``, ``class_weight=None``; a pipeline's feature steps
        must already be fitted (only its classifier is fitted here).
    sample : DataFrame
        A sample of the feature rows (indexed by ``customer_id`` and
        ``cutoff_time``, with the builder's ``attrs``): column types,
        categorical levels and monotone constraints are learned on it.
    label_counts : DataFrame
        Rows per cutoff time and label over *all* rows (``count_labels``).
    trainer : object
        ``early_stop``, ``hold_margins`` and ``fit`` (see the module doc).
    sample_y : array-like, default=None
        Labels of ``sample``: when given, columns that alone predict them
        almost perfectly raise a ``LeakageWarning``.

    Returns
    -------
    model : ChurnClassifier or Pipeline
        ``model``, fitted.
    """
    clf = _classifier(model)
    kind = check_params(clf)
    if kind != "xgboost" or clf.class_weight is not None:
        raise SchemaError(
            f"An engine fit boosts model='xgboost' with class_weight=None; got "
            f"model={clf.model!r}, class_weight={clf.class_weight!r}. Fit other "
            "models on a sample collected to one machine (ChurnClassifier.fit)."
        )
    frame = check_X(clf, sample, reset=True)
    counts, clf.classes_ = _labels(label_counts)
    prep = TablePrep().fit(frame)
    for note in prep.notes_:
        warn(note, DataQualityWarning)
    if sample_y is not None:
        y01 = (np.asarray(sample_y) == clf.classes_[1]).astype(np.int64)
        Xp = prep.transform(frame)
        for note in leak_notes(Xp[prep.numeric_columns_], y01):
            warn(note, LeakageWarning)
    tested = (None, None) if sample_y is None else (Xp[prep.numeric_columns_], y01)
    clf.monotone_constraints_, notes, clf.monotone_released_ = monotone_constraints(
        clf.monotone, sample, list(frame.columns), prep.numeric_columns_, *tested
    )
    for note in notes:
        warn(note, ChurnkitWarning)
    check_xgboost_names(frame.columns)
    clf.preprocessor_, clf.model_kind_ = prep, kind
    clf.feature_map_ = {c: c for c in prep.feature_names_in_}
    skipped = _boost(clf, prep, counts, trainer)
    if skipped and clf.calibration is not None:
        warn(
            f"calibration={clf.calibration!r} was skipped: {skipped}. "
            "predict_proba is the base model's own probability.",
            CalibrationWarning,
        )
    return model


def _boost(clf, prep, counts, trainer) -> str:
    """``ChurnClassifier._fit_models`` with the boosting done by ``trainer``."""
    rng = check_random_state(clf.random_state)
    _, seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=2))
    hold, reason, n_train = _holdout(counts, clf.classes_, clf.validation_fraction)
    params = xgboost_params(seed, clf.n_jobs, clf.monotone_constraints_)
    spec = BoostSpec(
        prep=prep,
        params=params,
        booster_params=booster_params(params, list(prep.feature_names_in_)),
        hold_cutoffs=hold,
        positive_class=clf.classes_[1],
        seed=seed,
        n_jobs=clf.n_jobs,
        monotone=dict(clf.monotone_constraints_),
    )
    clf.calibrator_ = None
    n = int(counts[N_ROWS].sum())
    if not hold:
        clf.estimator_ = xgb_classifier(
            trainer.fit(spec, FALLBACK_ROUNDS), params, FALLBACK_ROUNDS
        )
        clf.best_iteration_ = FALLBACK_ROUNDS - 1
        clf.holdout_ = {
            "kind": None,
            "n_rows": 0,
            "cutoffs": [],
            "refit": False,
            "rounds": None,
        }
        return reason
    booster, best_rounds = trainer.early_stop(spec)
    margin, hold_y = trainer.hold_margins(spec, booster, best_rounds)
    margin = np.asarray(margin, dtype="float64").ravel()
    hold_y = np.asarray(hold_y, dtype=np.int64).ravel()
    counts01 = np.bincount(hold_y, minlength=2)
    if clf.calibration is not None and counts01.min() >= MIN_CLASS_CALIBRATION:
        calibrator = (
            SigmoidCalibrator()
            if clf.calibration == "sigmoid"
            else IsotonicCalibrator()
        )
        clf.calibrator_ = calibrator.fit(margin, hold_y)
        reason = ""
    elif clf.calibration is not None:
        reason = too_few("hold-out", counts01, MIN_CLASS_CALIBRATION)
    rounds = scaled_rounds(best_rounds, n, n_train)
    clf.estimator_ = xgb_classifier(trainer.fit(spec, rounds), params, rounds)
    clf.best_iteration_ = rounds - 1
    clf.holdout_ = {
        "kind": "latest_cutoffs",
        "n_rows": len(hold_y),
        "cutoffs": list(hold),
        "refit": True,
        "rounds": int(best_rounds),
    }
    return reason


class LocalTrainer:
    """The in-process trainer: the code ``ChurnClassifier.fit`` boosts with.

    Parameters
    ----------
    X : DataFrame
        Feature rows indexed by ``customer_id`` and ``cutoff_time``.
    y : array-like
        Their labels, in ``X``'s order.
    """

    def __init__(self, X, y):
        self.X = X
        self.y = np.asarray(y)

    def _data(self, spec):
        frame, y = self.X, self.y
        order = canonical_order(frame.index)  # the row order of a local fit
        if order is not None:
            frame, y = frame.iloc[order], y[order]
        y01 = (y == spec.positive_class).astype(np.int64)
        hold = spec.is_hold(frame.index.get_level_values(CUTOFF_TIME))
        return spec.model_input(frame), y01, hold

    def early_stop(self, spec):
        """Boost on the training cutoffs, stop on the hold-out (``early_stop``)."""
        Xm, y01, hold = self._data(spec)
        split = Holdout(np.flatnonzero(~hold), np.flatnonzero(hold), "", [])
        return early_stop(
            Xm,
            y01,
            None,
            split,
            seed=spec.seed,
            n_jobs=spec.n_jobs,
            monotone=spec.monotone,
        )

    def hold_margins(self, spec, booster, rounds):
        """Hold-out margins with the first ``rounds`` trees, and 0/1 labels."""
        from churnkit.models._dmatrix import dmatrix

        Xm, y01, hold = self._data(spec)
        dmat = dmatrix(Xm.iloc[np.flatnonzero(hold)], nthread=spec.params["n_jobs"])
        margin = booster.predict(dmat, output_margin=True, iteration_range=(0, rounds))
        return np.asarray(margin, dtype="float64"), y01[hold]

    def fit(self, spec, rounds):
        """``rounds`` rounds on all rows (``fit_xgboost``); the booster."""
        Xm, y01, _ = self._data(spec)
        est, _ = fit_xgboost(
            Xm,
            y01,
            None,
            seed=spec.seed,
            n_jobs=spec.n_jobs,
            rounds=rounds,
            monotone=spec.monotone,
        )
        return est.get_booster()
