"""ChurnClassifier: one estimator for churn, preprocessing and calibration included.

``ChurnClassifier(model="xgboost")`` takes the feature table (builder output or a
user's own customer table), prepares it for the chosen base model, fits the base
model, and calibrates its log-odds on a later hold-out. It follows the
scikit-learn estimator contract, so it works in ``Pipeline``, ``clone``,
``cross_validate`` and ``GridSearchCV``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight

from churnkit._logging import warn
from churnkit._plainstate import PlainStateMixin
from churnkit.exceptions import (
    CalibrationWarning,
    ChurnkitWarning,
    DataQualityWarning,
    LeakageWarning,
)
from churnkit.models._auto import search_models
from churnkit.models._calibration import (
    MIN_CLASS_CALIBRATION,
    IsotonicCalibrator,
    SigmoidCalibrator,
    canonical_order,
    choose_holdout,
    too_few,
)
from churnkit.models._checks import check_params
from churnkit.models._encoder import encoder_sources, fit_encoder
from churnkit.models._leakage import leak_notes
from churnkit.models._linear import DEFAULT_C, choose_c, fit_logistic
from churnkit.models._monotone import DIRECTIONS_ATTR, model_directions
from churnkit.models._output import as_input, random_holdout_note
from churnkit.models._predict import ClassifierPredictions
from churnkit.models._prep import TablePrep
from churnkit.models._target import check_labels
from churnkit.models._transforms import FeatureShaper
from churnkit.models._typical import numeric_levels, twin_columns, typical_values
from churnkit.models._weights import (
    check_sample_weight,
    combine_weights,
    fit_weighted,
)
from churnkit.models._xgboost import (
    FALLBACK_ROUNDS,
    check_xgboost_names,
    early_stop,
    fit_xgboost,
    scaled_rounds,
)

__all__ = ["ChurnClassifier"]


class ChurnClassifier(
    ClassifierPredictions, PlainStateMixin, ClassifierMixin, BaseEstimator
):
    """Churn classifier: preprocessing, a base model and a calibrator in one.

    Parameters
    ----------
    model : {"xgboost", "logistic", "auto"} or sklearn classifier, default="xgboost"
        The base model. ``"xgboost"``: gradient-boosted trees
        (:class:`xgboost.XGBClassifier` with the settings of ``XGBOOST_PARAMS``),
        native missing values and categoricals, early stopping on the hold-out.
        ``"logistic"``: :class:`~sklearn.linear_model.LogisticRegression`
        (its ``C`` chosen on the hold-out, see Notes) on numeric columns as
        percentile ranks at fit, constant ones dropped
        (``preprocessor_["shape"]``, a ``FeatureShaper``), then imputed,
        scaled and one-hot encoded. An estimator instance (with ``predict_proba``
        or ``decision_function``) is cloned in fit and gets the encoded columns
        without the shaping. ``"auto"`` (opt-in): a small fixed search on the
        fit rows only (``churnkit.models._auto.AUTO_CANDIDATES``: five xgboost
        configurations and the logistic model) scores each candidate's
        ROC-AUC forward in time (with a ``cutoff_time`` index level: up to 3
        forward-chaining splits, the latest cutoffs first) or by 3-fold
        stratified CV, then fits the best one exactly as that plain model is
        fitted (hold-out, calibration, refit on all rows); the choice is in
        ``search_``. It costs up to 18 candidate fits on part of the rows
        before the final fit.
    calibration : {"sigmoid", "isotonic"} or None, default="sigmoid"
        How the base model's log-odds become probabilities: a calibrator fitted
        on the hold-out (the latest cutoffs). ``"sigmoid"`` (Platt scaling, two
        parameters) is the default because hold-outs of churners are small (a
        few hundred positives) and isotonic regression overfits them, giving
        step-shaped, tie-ridden probabilities; sigmoid is also an affine map of
        the log-odds, so explanations in log-odds carry over exactly. ``None``:
        ``predict_proba`` is the base model's own probability.
    class_weight : "balanced", dict or None, default=None
        Weights of the classes while fitting the base model (``"xgboost"`` and
        ``"logistic"`` only; set it on your own estimator instead). The default
        keeps the base model's margin an honest log-odds of churn; with
        ``"balanced"``, rely on calibration to bring the probabilities back to
        the real churn rate.
    validation_fraction : float, default=0.2
        Share of rows held out for calibration and early stopping, in (0, 0.5].
    random_state : int, RandomState or None, default=None
        Seeds the random hold-out and xgboost's row and column sampling. With an
        int, two fits on the same data give identical probabilities.
    n_jobs : int or None, default=None
        Threads used by xgboost. None means 1, as everywhere in scikit-learn
        (parallelise over folds with ``GridSearchCV(n_jobs=...)`` or
        ``backtest(n_jobs=...)`` instead); -1 means all cores.
    monotone : {"auto", True, False} or dict, default="auto"
        Monotone constraints for ``"xgboost"``: the churn log-odds may only rise
        with a feature whose risk ``direction`` (see
        :func:`~churnkit.describe_features`) is ``"higher"`` and only fall with
        one whose direction is ``"lower"``, so the model cannot learn "more
        logins, more risk" and a reason cannot say it. ``"auto"``: use the
        directions of the feature builder in a pipeline
        (:class:`~churnkit.ChurnFeatures` stores them on its output table) when
        ``X`` carries them, else none (a user's own table is unconstrained).
        ``True``: the same, with a warning when ``X`` carries none. A dict
        ``{column: "higher" | "lower" | "either"}`` (or +1, -1, 0) gives them
        for your own columns. ``False``: never. Categorical columns and
        ``"either"`` are never constrained. The builder's directions are
        priors (every usage event kind is read as engagement, which
        'unfriend' or 'error' is not): "auto" drops the ones the training
        labels contradict (a one-column ROC-AUC on the wrong side of 0.5 by
        more than 2 standard errors; listed in ``monotone_released_``);
        True and a dict keep them and warn. "auto" is the default because,
        forward in time over 3 seeds, it changed ROC-AUC by +0.018 to +0.025 on
        the built-in data, +0.034 to +0.072 on fightchurn and -0.0003 to +0.0009
        on CDNOW (``benchmarks/monotone_auc.py``; the bar was a loss < 0.005).
        With other models nothing is constrained and True or a dict is an
        error; "auto" still releases the contradicted directions, which the
        reasons read (a logistic model's 'error' events raise the risk, and a
        reason may say so).

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels, sorted; ``classes_[1]`` (1, True, or the larger label) is
        the churn class, the second column of ``predict_proba``.
    n_features_in_ : int
        Number of columns of ``X`` at fit.
    feature_names_in_ : ndarray of str
        Column names of ``X`` at fit (only when they are all strings).
    preprocessor_ : TablePrep or Pipeline
        Maps ``X`` to the base model's input, see :meth:`model_input`. For
        ``"xgboost"`` a :class:`TablePrep` (float64 numerics, pandas Categorical
        with fixed levels); otherwise ``Pipeline(table=TablePrep, [shape=
        FeatureShaper,] encode=ColumnTransformer)`` that imputes medians, adds
        missing indicators (for columns missing at fit), scales, and one-hot
        encodes categoricals. It takes a DataFrame with the columns of
        ``feature_names_in_`` (``x0, x1, ...`` for array input); prefer
        :meth:`model_input`, which accepts anything ``fit`` accepted.
    estimator_ : XGBClassifier, LogisticRegression or estimator
        The fitted base model.
    best_iteration_ : int or None
        For ``"xgboost"``, the last boosting round used (0-based): predictions
        and explanations use trees ``[0, best_iteration_ + 1)``. None otherwise.
    calibrator_ : SigmoidCalibrator, IsotonicCalibrator or None
        Maps :meth:`decision_function` to ``predict_proba[:, 1]``; None when
        ``calibration=None`` or the hold-out was too small (then the map is
        ``expit``).
    feature_map_ : dict of str to str
        Model input column (see :meth:`model_input`) -> the user's feature it
        comes from. One-hot levels and missing indicators map to their column.
    holdout_ : dict
        How the hold-out was made: ``kind`` ("latest_cutoffs",
        "stratified_random" or None), ``n_rows``, ``cutoffs`` (the hold-out
        cutoff times), ``refit`` (whether the base model was refit on all
        rows) and ``rounds`` (xgboost: the rounds chosen on the hold-out).
    model_kind_ : str
        "xgboost", "logistic" or "estimator" (with ``"auto"``: the chosen one).
    search_ : dict
        Only with ``model="auto"``: ``scheme`` ("latest_cutoffs",
        "stratified_kfold", or None when the rows were too few to search and
        the default xgboost was fitted), ``n_splits``, ``n_rows``,
        ``scored_rows`` (per inner split), ``candidates`` (one dict each:
        ``name``, ``model``, ``params`` replacing ``XGBOOST_PARAMS``,
        ``inner_roc_auc``, ``fold_roc_auc``, ``fit_s``) and ``chosen`` (the
        name of the fitted candidate).
    typical_ : dict of str to scalar
        The median of each feature over the fit rows (the most frequent level
        of text and categorical ones; from a seeded sample of 200,000 rows
        beyond that; the most frequent value of ``numeric_levels_``): the
        "typical" value reasons on a feature table compare an account with,
        the same in any batch.
    twins_ : list of list of str
        Numeric features that order the fit rows the same way (Spearman
        correlation 0.9999 or more: minutes and their charge at a fixed
        price): one fact, which reasons state once, with the points of all.
    numeric_levels_ : dict of str to list of float
        Numeric features with 2 to 10 whole-number values over at least 100
        fit rows, and no known direction (``NumOfProducts``: 1 to 4; 0/1
        flags) -> those values. Reasons read them as levels: any value may be
        a reason, the most frequent one as "(most common)", and 0/1 flags as
        yes / no.
    input_mean_ : dict of str to float
        Only with ``model="logistic"``: the mean of each model-input column
        over the fit rows, the reference its explanations are taken from (so a
        row's reasons do not depend on the batch it is scored in).
    monotone_constraints_ : dict of str to int
        The constraints the base model was fitted with: column -> +1 (risk
        rises with it) or -1 (falls); empty when unconstrained.
    monotone_released_ : dict of str to float
        With ``monotone="auto"``: the feature directions the training labels
        contradict, left unconstrained, with the z-score of the contradiction
        (e.g. ``{"usage__days_since_last_unfriend": -2.88}``); the
        explanations treat them as "either" too.

    See Also
    --------
    churnkit.CutoffSplit : Forward-in-time cross-validation over cutoffs.
    churnkit.ChurnExplainer : Explains ``decision_function`` per customer.

    Notes
    -----
    **Fitting.** Rows are sorted by their index (the ``cutoff_time`` level
    first), so the fitted model does not depend on the row order of ``X``. A
    hold-out is split off: the latest cutoffs (together at least
    ``validation_fraction`` of the rows, leaving at least one cutoff to train
    on) when ``X`` has a ``cutoff_time`` index level with two or more values, a
    stratified random ``validation_fraction`` otherwise. The base model is fit on
    the other rows (xgboost: up to 1000 rounds, the hold-out log-loss read every
    5 rounds, stopping 25 rounds after it last improved; logistic: one fit per
    ``C`` in 0.001, 0.003, ..., 10, the lowest hold-out log-loss wins) and the
    calibrator on the hold-out's margins. Then the base model is refit once on
    every row, so the latest cutoffs train it too (xgboost: the chosen rounds
    times ``n_rows / n_training_rows``; logistic: the chosen ``C``, read it in
    ``estimator_.C``); with and without calibration the base model
    is the same, and a sigmoid calibrator cannot change the ranking (ROC-AUC).

    The early-stopping round is chosen on the same hold-out the calibrator uses;
    one integer picked there adds a negligible optimism. The hold-out is split by
    cutoff only: the label windows of the last training cutoffs may overlap the
    hold-out period (use :class:`~churnkit.CutoffSplit` to evaluate without that
    overlap).

    **Small data.** The hold-out is used only when it and the remaining rows each
    have at least 10 rows of each class (for a random hold-out, 10 expected);
    otherwise the base model is fit on all rows (xgboost with a fixed 100
    rounds, logistic with ``C=1``) with no calibrator. A calibrator is fitted
    only when the hold-out has at least 50 rows of each class: with fewer
    churners the two Platt
    parameters are noisier than the base model's own log-odds. A requested
    calibration that is skipped raises a :class:`~churnkit.ChurnkitWarning`.

    **Outputs.** :meth:`decision_function` is the base model's log-odds (margin),
    the quantity explanations add up to; ``predict_proba[:, 1]`` is
    ``calibrate_margin(decision_function(X))``; ``predict`` thresholds the
    calibrated probability at 0.5, so with a calibrator ``predict`` can differ
    from the sign of ``decision_function`` near the boundary. For an estimator
    instance the margin is ``logit(predict_proba[:, 1])`` (clipped to
    [1e-12, 1 - 1e-12]) or its ``decision_function``.

    **Columns.** Text columns holding numbers are read as numbers (a
    :class:`~churnkit.ChurnkitWarning` counts what could not be read); other text
    and Categorical columns are categorical with levels fixed at fit (see
    :class:`TablePrep`); unseen levels never fail. A numeric column whose
    ROC-AUC alone is above 0.99 or below 0.01 raises a warning: it probably
    leaks the label.

    Examples
    --------
    >>> import numpy as np
    >>> from churnkit import ChurnClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> y = (X[:, 0] + rng.normal(size=400) > 1).astype(int)
    >>> clf = ChurnClassifier("logistic", calibration=None).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(
        self,
        model="xgboost",
        *,
        calibration="sigmoid",
        class_weight=None,
        validation_fraction=0.2,
        random_state=None,
        n_jobs=None,
        monotone="auto",
    ):
        self.model = model
        self.calibration = calibration
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.monotone = monotone

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, sample_weight=None) -> ChurnClassifier:
        """Fit the preprocessing, the base model and the calibrator.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Features, one row per customer (and cutoff). A ``cutoff_time`` index
            level makes the hold-out the latest cutoffs.
        y : array-like of shape (n_samples,)
            Two classes: 0/1, bool, or two labels (``classes_[1]`` is churn).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row (finite, >= 0). The base model is fit with
            these weights (times the ``class_weight`` weights) and the
            calibrator with these weights on the hold-out. In a pipeline pass
            ``model__sample_weight=w``; with scikit-learn's metadata routing
            call ``set_fit_request(sample_weight=True)`` first.

        Returns
        -------
        self : ChurnClassifier
        """
        kind = check_params(self)
        X = as_input(X)
        frame = self._check_X(X, reset=True)
        y_raw, y01, self.classes_ = check_labels(y, frame, type(self).__name__)
        sw = check_sample_weight(sample_weight, len(y01))
        order = canonical_order(frame.index)
        if order is not None:  # the model never depends on the row order of X
            frame, y_raw, y01 = frame.iloc[order], y_raw[order], y01[order]
            sw = None if sw is None else sw[order]
        # model="auto": a fixed search on these rows only (churnkit.models._auto)
        self._overrides = self.__dict__.pop("_auto_overrides", None)
        self.__dict__.pop("search_", None)
        if kind == "auto":
            kind, self._overrides, self.search_ = search_models(
                self._candidate, frame, y_raw, y01, frame.index, sw,
                fraction=self.validation_fraction,
                seed=int(check_random_state(self.random_state).randint(2**31 - 1)),
            )  # fmt: skip
        prep = TablePrep()
        Xp = prep.fit_transform(frame)  # codes each text column once
        for note in prep.notes_:
            warn(note, DataQualityWarning)
        self.numeric_levels_ = numeric_levels(
            frame, getattr(X, "attrs", {}).get(DIRECTIONS_ATTR, {})
        )
        self.typical_ = typical_values(
            frame,
            [
                c
                for c in prep.numeric_columns_
                if c in frame and not pd.api.types.is_numeric_dtype(frame[c].dtype)
            ],
            self.numeric_levels_,
        )
        self.twins_ = twin_columns(Xp, prep.numeric_columns_)
        for note in leak_notes(Xp, y01):
            warn(note, LeakageWarning)
        self.monotone_constraints_, notes, self.monotone_released_ = model_directions(
            kind,
            self.monotone,
            X,
            list(frame.columns),
            prep.numeric_columns_,
            Xp[prep.numeric_columns_],
            y01,
        )
        for note in notes:
            warn(note, ChurnkitWarning)
        if kind == "xgboost":
            check_xgboost_names(frame.columns)
            self.preprocessor_, Xm = prep, Xp
            self.feature_map_ = {c: c for c in Xp.columns}
        else:
            steps = [("table", prep)]
            if kind == "logistic":  # heavy tails and constants, see FeatureShaper
                shaper = FeatureShaper(prep.numeric_columns_).fit(Xp)
                Xp, prep = shaper.transform(Xp), shaper
                steps.append(("shape", shaper))
            enc = fit_encoder(Xp, prep)
            self.preprocessor_ = Pipeline([*steps, ("encode", enc)])
            Xm = enc.transform(Xp)
            self.feature_map_ = dict(zip(Xm.columns, encoder_sources(enc), strict=True))
        self.__dict__.pop("input_mean_", None)
        if kind == "logistic":  # the explainer's reference, the same on any batch
            self.input_mean_ = {c: float(v) for c, v in Xm.mean().items()}
        self.model_kind_ = kind
        weights = combine_weights(
            None
            if self.class_weight is None
            else compute_sample_weight(self.class_weight, y_raw),
            sw,
        )
        skipped = self._fit_models(Xm, y01, weights, frame.index, sw)
        if skipped and self.calibration is not None:
            warn(
                f"calibration={self.calibration!r} was skipped: {skipped}. "
                "predict_proba is the base model's own probability. Fit on more "
                "rows, or pass calibration=None to silence this warning.",
                CalibrationWarning,
            )
        return self

    def _fit_models(self, Xm, y01, weights, index, sample_weight=None) -> str:
        """Fit base model (and calibrator); return why calibration was skipped."""
        rng = check_random_state(self.random_state)
        split_seed, model_seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=2))
        # xgboost stops early and the logistic model chooses its C on the hold-out
        needs_holdout = self.model_kind_ != "estimator" or self.calibration is not None
        split, reason = (None, "no hold-out was requested")
        if needs_holdout:
            split, reason = choose_holdout(
                index, y01, self.validation_fraction, split_seed
            )
            note = split is not None and split.kind == "stratified_random"
            if note and (note := random_holdout_note(index)):
                warn(note, CalibrationWarning)
        self.calibrator_ = None
        if split is None:
            self.estimator_, self.best_iteration_ = self._fit_base(
                Xm, y01, weights, model_seed, rounds=FALLBACK_ROUNDS
            )
            self.holdout_ = {
                "kind": None,
                "n_rows": 0,
                "cutoffs": [],
                "refit": False,
                "rounds": None,
            }
            return reason
        base, best = self._fit_base(Xm, y01, weights, model_seed, split=split)
        hold_y = y01[split.hold]
        margin = self._margin(base, best, Xm.iloc[split.hold])
        counts = np.bincount(hold_y, minlength=2)
        if self.calibration is not None and counts.min() >= MIN_CLASS_CALIBRATION:
            self.calibrator_ = (
                SigmoidCalibrator()
                if self.calibration == "sigmoid"
                else IsotonicCalibrator()
            ).fit(
                margin,
                hold_y,
                sample_weight=None
                if sample_weight is None
                else sample_weight[split.hold],
            )
            reason = ""
        elif self.calibration is not None:
            reason = too_few("hold-out", counts, MIN_CLASS_CALIBRATION)
        # one refit on every row: the latest cutoffs, the most informative,
        # train the final model too (xgboost: the chosen rounds, scaled)
        rounds = None
        if best is not None:
            rounds = scaled_rounds(best + 1, len(y01), len(split.train))
        self.estimator_, self.best_iteration_ = self._fit_base(
            Xm, y01, weights, model_seed, rounds=rounds, C=getattr(base, "C", None)
        )
        self.holdout_ = {
            "kind": split.kind,
            "n_rows": len(split.hold),
            "cutoffs": split.cutoffs,
            "refit": True,
            "rounds": None if best is None else best + 1,
        }
        return reason

    def _candidate(self, kind, overrides):
        """An unfitted plain classifier of ``kind`` for the model="auto" search."""
        monotone = self.monotone if kind == "xgboost" else "auto"
        clf = clone(self).set_params(model=kind, calibration=None, monotone=monotone)
        clf._auto_overrides = overrides  # read (and dropped) by its fit
        return clf

    def _fit_base(self, Xm, y01, weights, seed, *, split=None, rounds=None, C=None):
        """Fit the base model on all rows, or on split.train (xgboost: with early
        stopping on split.hold, returns the booster and its best round;
        logistic: with ``C`` chosen on split.hold, see ``_linear.choose_c``)."""
        if self.model_kind_ == "xgboost":
            kwargs = {"seed": seed, "n_jobs": self.n_jobs}
            kwargs["monotone"] = self.monotone_constraints_
            kwargs["overrides"] = getattr(self, "_overrides", None)
            if split is None:
                return fit_xgboost(Xm, y01, weights, rounds=rounds, **kwargs)
            booster, best_rounds = early_stop(Xm, y01, weights, split, **kwargs)
            return booster, best_rounds - 1
        rows = slice(None) if split is None else split.train
        X_fit, y_fit = Xm.iloc[rows], y01[rows]
        w_fit = None if weights is None else weights[rows]
        if self.model_kind_ == "logistic" and split is not None:
            est, _ = choose_c(Xm, y01, weights, split)
        elif self.model_kind_ == "logistic":
            est = fit_logistic(X_fit, y_fit, w_fit, C=DEFAULT_C if C is None else C)
        else:
            est = fit_weighted(clone(self.model), X_fit, y_fit, w_fit)
        return est, None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags
