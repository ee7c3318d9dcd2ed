"""ChurnSurvival: time to churn on the churn features, one model for every horizon."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from churnkit._logging import warn
from churnkit._validation import check_choice, check_fraction, check_number
from churnkit.exceptions import ChurnkitTypeError, ChurnkitWarning, SchemaError
from churnkit.models._monotone import monotone_constraints
from churnkit.models._xgboost import XGBOOST_PARAMS
from churnkit.survival._cox import breslow, fit_linear_cox
from churnkit.survival._discrete import (
    INTERVAL,
    expand,
    follow_up,
    interval_edges,
)
from churnkit.survival._input import SurvivalInput, read_target
from churnkit.survival._predict import SurvivalPredictions

__all__ = ["ChurnSurvival"]

MODELS = {
    "xgboost": "discrete-time hazards: boosted trees per interval after the cutoff",
    "cox": "gradient-boosted trees with xgboost's survival:cox objective",
    "linear": "a linear Cox model (ridge-penalised partial likelihood)",
}
#: the churn classifier's booster settings (learning rate, depth, sampling)
TREE_PARAMS = {k: v for k, v in XGBOOST_PARAMS.items() if k != "eval_metric"}
OBJECTIVES = {
    "xgboost": {"objective": "binary:logistic", "eval_metric": "logloss"},
    "cox": {"objective": "survival:cox", "eval_metric": "cox-nloglik"},
}
MAX_ROUNDS, PATIENCE = 2000, 50
MIN_ROUNDS = 50  #: floor on boosting rounds: tiny hold-outs can stop at round 1
MIN_DURATION = 1e-3  #: days; a churn at the cutoff itself (duration 0) is moved here


class ChurnSurvival(SurvivalPredictions, BaseEstimator):
    """Time to churn from the churn features: survival curves for every horizon.

    One fitted model gives the survival curve of each account, P(churn
    within h) for any ``h`` up to the longest training follow-up, and the
    median or restricted mean time to churn.

    Parameters
    ----------
    model : {"xgboost", "cox", "linear"}, default="xgboost"
        "xgboost": discrete-time hazards, a boosted classifier of churn in
        each interval ``[0, h), [h, 2h), [2h, 3h), [3h, 6h), [6h, 12h), ...``
        (``h`` = ``horizon``) given survival to its start, with the interval
        as a feature: no proportional-hazards assumption, and the first
        interval is the ``horizon`` classifier's question. "cox": boosted
        trees with xgboost's ``survival:cox`` objective and Breslow's
        baseline hazard (proportional hazards). "linear": a linear Cox model
        (ridge-penalised partial likelihood, Breslow ties), a baseline.
    horizon : str, default="30D"
        The horizon of :meth:`predict_proba` (``[:, 1]`` = P(churn within
        ``horizon``)), so the model plugs into tools made for classifiers;
        also the first interval of ``model="xgboost"``.
    alpha : float, default=0.01
        Ridge penalty of the linear model (on standardised features).
    validation_fraction : float, default=0.2
        Share of the rows, the latest cutoffs (random rows without a
        ``cutoff_time`` index), on which boosting stops early (after at least
        50 rounds); the model is then refitted on all rows.
    monotone : {"auto", True, False} or dict, default="auto"
        As for :class:`~churnkit.ChurnClassifier`: the trees' risk score is
        constrained to rise with every feature whose ``direction`` is "higher"
        and fall with every "lower" one (directions stored on the features by
        :class:`~churnkit.ChurnFeatures`); False leaves it free. As there,
        "auto" leaves unconstrained the directions the training rows
        contradict (churn within ``horizon``, one-column ROC-AUC more than 2
        standard errors the other way; :attr:`monotone_released_`).
    random_state : int, RandomState instance or None, default=None
        Seeds xgboost's row and column sampling and the random hold-out.
    n_jobs : int, default=None
        Threads of xgboost; None uses one.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        The feature columns seen in ``fit``.
    booster_ : xgboost.Booster or None
        The fitted trees ("xgboost", "cox").
    coef_ : Series or None
        Coefficients of the standardised model input ("linear").
    best_iteration_ : int or None
        Boosting rounds kept, minus one.
    intervals_ : ndarray or None
        Interval edges in days ("xgboost").
    event_times_, baseline_cumulative_hazard_ : ndarray or None
        Distinct training event times (days) and Breslow's ``H0`` there
        ("cox", "linear"): ``S(t | x) = exp(-H0(t) * exp(risk(x)))``.
    max_duration_ : float
        Longest training follow-up (days): the last horizon answered.
    monotone_released_ : dict of str to float
        Stored directions the training rows contradict, with their z-scores,
        left unconstrained by ``monotone="auto"`` (see
        :class:`~churnkit.ChurnClassifier`).

    See Also
    --------
    churnkit.label_survival : The ``(duration, event)`` target.

    Notes
    -----
    Durations of 0 (a churn at the cutoff itself) count as 0.001 days. In the
    discrete-time model a row censored inside an interval counts there as
    "stayed" when followed for at least half of it (the actuarial rule), and
    the hazard is constant within an interval, so ``S(t)`` is continuous.

    Examples
    --------
    >>> import churnkit as ck
    >>> from sklearn.pipeline import make_pipeline
    >>> data = ck.datasets.make_saas_events(n_customers=300, random_state=0)
    >>> cutoffs = ck.make_cutoffs(data.events, start="2024-03-01", end="2025-03-01")
    >>> frame = ck.label_survival(data.events, cutoffs, max_horizon="180D")
    >>> X, y = frame[["customer_id", "cutoff_time"]], ck.survival_array(frame)
    >>> model = make_pipeline(ck.ChurnFeatures(data.events),
    ...                       ck.ChurnSurvival(random_state=0)).fit(X, y)
    >>> today = ck.make_cutoffs(data.events, at="2025-04-01")
    >>> p30 = model.predict_proba(today)[:, 1]  # P(churn within 30 days)
    >>> curves = model[-1].predict_survival_function(model[:-1].transform(today))
    >>> steps = curves.diff(axis=1).iloc[:, 1:]
    >>> bool((p30 >= 0).all() and (steps <= 1e-12).all().all())
    True
    """

    def __init__(
        self,
        model="xgboost",
        *,
        horizon="30D",
        alpha=0.01,
        validation_fraction=0.2,
        monotone="auto",
        random_state=None,
        n_jobs=None,
    ):
        self.model = model
        self.horizon = horizon
        self.alpha = alpha
        self.validation_fraction = validation_fraction
        self.monotone = monotone
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------ fit
    def fit(self, X, y):
        """Fit the risk function (and the baseline hazard of the Cox models).

        Parameters
        ----------
        X : DataFrame
            Features, one row per (customer, cutoff), e.g. from
            :class:`~churnkit.ChurnFeatures`.
        y : structured array or DataFrame
            ``(event, duration)`` per row: :func:`~churnkit.survival_array`
            of :func:`~churnkit.label_survival`, scikit-survival's ``Surv``,
            or a DataFrame with ``duration`` and ``event`` columns.

        Returns
        -------
        self : ChurnSurvival
            Fitted.
        """
        check_choice(self.model, "model", MODELS)
        horizon = self._horizon_days()
        check_number(self.alpha, "alpha", low=0)
        check_fraction(self.validation_fraction, "validation_fraction", allow_zero=True)
        event, duration = read_target(y, len(X) if hasattr(X, "__len__") else None)
        if not event.any():
            raise SchemaError(
                "ChurnSurvival: no row of y is an event (every duration is "
                "censored); a time-to-churn model needs churns to learn from. Use "
                "more cutoffs or a longer follow-up; on a store that records no "
                "churn (no churn table, no subscriptions) every duration is "
                "censored: time to churn needs recorded churns."
            )
        self._input = SurvivalInput(linear=self.model == "linear").fit(X)
        self.feature_names_in_ = np.asarray(self._input.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.max_duration_ = float(duration.max())
        time = np.maximum(duration, MIN_DURATION)
        Xm = self._input.transform(X)
        self._monotone, self.monotone_released_ = None, {}
        if self.model != "linear":
            # each stored direction is tested as the classifier tests it, on
            # churn within `horizon` (rows censored before it are unknown):
            # fightchurn's "days since the last unfriend" contradicts its prior
            known = np.flatnonzero(event & (duration <= horizon) | (duration > horizon))
            signs, notes, self.monotone_released_ = monotone_constraints(
                self.monotone,
                X,
                list(Xm.columns),
                self._input.numeric,
                Xm[self._input.numeric].iloc[known],
                (event & (duration <= horizon))[known].astype(int),
            )
            for note in notes:
                warn(note, ChurnkitWarning)
            if signs:
                self._monotone = signs
        self.booster_ = self.coef_ = self.best_iteration_ = None
        self.intervals_ = self.event_times_ = self.baseline_cumulative_hazard_ = None
        self.boosters_ = None
        hold = _hold_out(X, self.validation_fraction, _seed(self.random_state))
        if self.model == "xgboost":
            self.intervals_ = interval_edges(horizon, self.max_duration_)
            followed = follow_up(getattr(X, "index", None), duration, event)
            Xe, target, rows = expand(Xm, duration, event, self.intervals_, followed)
            k = np.searchsorted(self.intervals_, Xe.pop(INTERVAL).to_numpy())
            self.boosters_ = []
            for j in range(len(self.intervals_) - 1):
                mine = k == j
                hold_j = None if hold is None else hold[rows[mine]]
                self.boosters_.append(
                    self._boost(Xe[mine], target[mine], hold_j)
                    if target[mine].any()
                    else None
                )
            self.booster_, self.best_iteration_ = self.boosters_[0]
            return self
        if self.model == "cox":
            label = np.where(event, time, -time)
            self.booster_, self.best_iteration_ = self._boost(Xm, label, hold, event)
        else:
            beta = fit_linear_cox(Xm.to_numpy(), time, event, l2=self.alpha)
            self.coef_ = pd.Series(beta, index=Xm.columns, name="coef")
        risk = self._margin(Xm)
        self.event_times_, self.baseline_cumulative_hazard_ = breslow(risk, time, event)
        return self

    def _boost(self, Xm, label, hold, event=None):
        """(booster refitted on all rows, rounds - 1) after early stopping."""
        import xgboost as xgb

        positive = (label > 0) if event is None else event
        params = dict(
            TREE_PARAMS,
            **OBJECTIVES[self.model],
            seed=_seed(self.random_state),
            nthread=self.n_jobs or 1,
        )
        if self._monotone:
            signs = [self._monotone.get(c, 0) for c in Xm.columns]
            params["monotone_constraints"] = "(" + ",".join(map(str, signs)) + ")"
        rounds = 300
        if hold is not None and not (positive[hold].any() and positive[~hold].any()):
            # e.g. late intervals: the latest cutoffs are not followed that long
            rng = np.random.default_rng(_seed(self.random_state))
            hold = rng.random(len(label)) < max(self.validation_fraction, 0.1)
        if hold is not None and positive[hold].any() and positive[~hold].any():
            train = xgb.DMatrix(Xm[~hold], label=label[~hold], enable_categorical=True)
            valid = xgb.DMatrix(Xm[hold], label=label[hold], enable_categorical=True)
            booster = xgb.train(
                params,
                train,
                MAX_ROUNDS,
                evals=[(valid, "hold")],
                early_stopping_rounds=PATIENCE,
                verbose_eval=False,
            )
            best = max(int(booster.best_iteration) + 1, MIN_ROUNDS)
            rounds = max(best, int(round(best * len(Xm) / max((~hold).sum(), 1))))
        full = xgb.DMatrix(Xm, label=label, enable_categorical=True)
        return xgb.train(params, full, rounds), rounds - 1

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.target_tags.required = True
        return tags


def _seed(random_state) -> int:
    if random_state is None:
        return 0
    if isinstance(random_state, (int, np.integer)):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    raise ChurnkitTypeError(
        f"`random_state` must be an int, a RandomState or None; got {random_state!r}."
    )


def _hold_out(X, fraction, seed):
    """Mask of hold-out rows: the latest cutoffs, else random rows."""
    n = len(X)
    if not fraction or n < 50:
        return None
    index = getattr(X, "index", None)
    if isinstance(index, pd.MultiIndex) and "cutoff_time" in index.names:
        t = np.asarray(index.get_level_values("cutoff_time"), dtype="datetime64[ns]")
        threshold = np.quantile(t.view("int64"), 1 - fraction)
        hold = t.view("int64") > threshold
        if 0 < hold.sum() < n:
            return hold
    rng = np.random.default_rng(seed)
    return rng.random(n) < fraction
