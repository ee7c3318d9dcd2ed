"""What a fitted :class:`~churnkit.survival.ChurnSurvival` answers: expected
time to churn, survival curves, churn probability by a horizon, concordance
and each feature's part of the risk.

A mixin of :class:`ChurnSurvival` (one estimator, split by what it is for):
it reads the fitted attributes and adds no state of its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from churnkit._time import NS_PER_DAY, parse_duration
from churnkit._validation import check_choice
from churnkit.exceptions import SchemaError
from churnkit.survival._cox import concordance
from churnkit.survival._discrete import (
    survival_at,
)
from churnkit.survival._input import read_target

__all__ = ["SurvivalPredictions"]


class SurvivalPredictions:
    """Prediction methods of :class:`ChurnSurvival`."""

    def _check(self):
        if not hasattr(self, "max_duration_"):
            from churnkit.exceptions import NotFittedError

            raise NotFittedError(
                "This ChurnSurvival instance is not fitted yet. Call 'fit' with "
                "features and a survival target (ck.survival_array) first."
            )

    def _margin(self, Xm, fitted=None) -> np.ndarray:
        """A booster's (the first) or the linear model's margin of model input."""
        booster, best = fitted or (self.booster_, self.best_iteration_)
        if booster is not None:
            import xgboost as xgb

            dm = xgb.DMatrix(Xm, enable_categorical=True, nthread=self.n_jobs or 1)
            rng = (0, best + 1)
            out = booster.predict(dm, output_margin=True, iteration_range=rng)
            return np.asarray(out, dtype="float64")
        return Xm.to_numpy() @ self.coef_.to_numpy()

    def _hazards(self, Xm) -> np.ndarray:
        """Discrete-time hazard of every interval (rows x intervals)."""
        return np.column_stack(
            [
                expit(self._margin(Xm, fitted))
                if fitted is not None
                else np.zeros(len(Xm))
                for fitted in self.boosters_
            ]
        )

    def _survival(self, X, days) -> np.ndarray:
        self._check()
        days = self._check_days(days)
        Xm = self._input.transform(X)
        if self.intervals_ is not None:
            return survival_at(self._hazards(Xm), self.intervals_, days)
        H0 = self._baseline(days)
        return np.exp(-np.exp(self._margin(Xm))[:, None] * H0[None, :])

    def _check_days(self, days) -> np.ndarray:
        days = np.atleast_1d(np.asarray(days, dtype="float64"))
        bad = (days > self.max_duration_ + 1e-9) | ~(days >= 0)
        if bad.any():
            raise SchemaError(
                f"Horizons must be within [0, {self.max_duration_:g}] days, the "
                f"longest training follow-up; got {days[bad][:3].tolist()}. Fit "
                "on a longer follow-up (label_survival's max_horizon) to answer "
                "later horizons."
            )
        return days

    def predict(self, X) -> np.ndarray:
        """The risk score: higher churns sooner.

        Parameters
        ----------
        X : DataFrame
            Features like those of ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            The log relative hazard ``risk(x)`` of the Cox models (hazard
            ``h0(t) * exp(risk)``); for "xgboost" the log-odds of churn
            within ``horizon`` (the first interval's margin).
        """
        self._check()
        return self._margin(self._input.transform(X))

    def predict_survival_function(self, X, times=None) -> pd.DataFrame:
        """P(still a customer ``t`` days after the cutoff), per row and time.

        Parameters
        ----------
        X : DataFrame
            Features like those of ``fit``.
        times : array-like of float, default=None
            Days after the cutoff, at most ``max_duration_``; None: every
            whole day up to it.

        Returns
        -------
        DataFrame
            Indexed like ``X``, one column per time (float days), values
            non-increasing along a row.
        """
        self._check()
        if times is None:
            times = np.arange(1.0, np.floor(self.max_duration_) + 1)
        S = self._survival(X, times)
        return pd.DataFrame(
            S, index=getattr(X, "index", None), columns=self._check_days(times)
        )

    def predict_proba(self, X, horizon=None) -> np.ndarray:
        """P(stays, churns) within ``horizon`` of the cutoff, like a classifier.

        Parameters
        ----------
        X : DataFrame
            Features like those of ``fit``.
        horizon : str, default=None
            "30D", "90D", ...; None uses the estimator's ``horizon``.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            ``[:, 1]`` = P(churn within the horizon) = ``1 - S(horizon)``.
        """
        S = self._survival(X, [self._horizon_days(horizon)])[:, 0]
        return np.column_stack([S, 1.0 - S])

    def predict_time(self, X, *, kind="median") -> np.ndarray:
        """Time to churn, in days after the cutoff.

        Parameters
        ----------
        X : DataFrame
            Features like those of ``fit``.
        kind : {"median", "restricted_mean"}, default="median"
            "median": the first time the survival curve falls to 0.5 or below
            (``inf`` when it stays above within ``max_duration_``);
            "restricted_mean": the area under the curve up to
            ``max_duration_`` (the mean time as a customer within it).

        Returns
        -------
        ndarray of shape (n_samples,)
            Days, on a grid of 1/4 day.
        """
        check_choice(kind, "kind", {"median": "", "restricted_mean": ""})
        self._check()
        grid = np.linspace(0.0, self.max_duration_, int(4 * self.max_duration_) + 1)
        S = self._survival(X, grid)
        if kind == "median":
            below = S <= 0.5
            return np.where(below.any(axis=1), grid[np.argmax(below, axis=1)], np.inf)
        return np.trapezoid(S, grid, axis=1)

    def score(self, X, y) -> float:
        """Harrell's concordance index of the risk score on ``(X, y)``.

        Parameters
        ----------
        X : DataFrame
            Features.
        y : structured array or DataFrame
            ``(event, duration)`` as in :meth:`fit`.

        Returns
        -------
        float
            Share of comparable pairs ordered correctly (0.5: random).
        """
        event, duration = read_target(y, len(X))
        conc, comp = concordance(duration, event, self.predict(X))
        return conc / comp if comp else float("nan")

    def risk_contributions(self, X):
        """SHAP values of the risk score, summed back to the user's features.

        Parameters
        ----------
        X : DataFrame
            Features like those of ``fit``.

        Returns
        -------
        values : ndarray of shape (n_samples, n_features)
            Contribution of each feature to :meth:`predict` (xgboost's
            TreeSHAP for the trees, ``coef * x`` on the standardised input
            for "linear"); ``base + values.sum(axis=1) == predict(X)``.
        base : ndarray of shape (n_samples,)
            The base value.
        features : DataFrame
            The features of ``X`` as the model reads them.
        """
        self._check()
        Xm = self._input.transform(X)
        if self.booster_ is not None:
            import xgboost as xgb

            dm = xgb.DMatrix(Xm, enable_categorical=True, nthread=self.n_jobs or 1)
            contribs = self.booster_.predict(
                dm,
                pred_contribs=True,
                iteration_range=(0, self.best_iteration_ + 1),
            )
            values, base = contribs[:, :-1], contribs[:, -1]
        else:
            values = Xm.to_numpy() * self.coef_.to_numpy()[None, :]
            base = np.zeros(len(Xm))
        values = self._to_features(np.asarray(values, "float64"), list(Xm.columns))
        return values, np.asarray(base, "float64"), self._input.features(X)

    def probability_map(self, horizon=None):
        """The map from risk score to P(churn within ``horizon``).

        Parameters
        ----------
        horizon : str, default=None
            None uses the estimator's ``horizon``; ``model="xgboost"``
            answers only that one (its risk score is the first interval's
            log-odds).

        Returns
        -------
        callable
            ``risk -> P(churn within horizon)``, increasing: ``expit`` for
            "xgboost", ``1 - exp(-H0(h) * exp(risk))`` for the Cox models.
        """
        self._check()
        days = self._horizon_days(horizon)
        if self.intervals_ is not None:
            if abs(days - self.intervals_[1]) > 1e-9:
                raise SchemaError(
                    f"model='xgboost' maps its risk score to P(churn within "
                    f"{self.horizon}) only (its first interval); got horizon="
                    f"{horizon!r}. Refit with that horizon, or use model='cox', "
                    "whose risk score serves every horizon."
                )
            return expit
        H0 = float(self._baseline(np.array([days]))[0])

        def to_probability(risk):
            return 1.0 - np.exp(-H0 * np.exp(np.asarray(risk, dtype="float64")))

        return to_probability

    def _to_features(self, values, columns) -> np.ndarray:
        """Sum model-input columns (one-hot levels) back to the user's features."""
        features = list(self._input.columns)
        if columns == features:
            return values
        position = {f: j for j, f in enumerate(features)}
        target = np.array([position[self._input.feature_of(c)] for c in columns])
        M = np.zeros((len(columns), len(features)))
        M[np.arange(len(columns)), target] = 1.0
        return values @ M

    def _baseline(self, days) -> np.ndarray:
        pos = np.searchsorted(self.event_times_, days, side="right")
        return np.concatenate([[0.0], self.baseline_cumulative_hazard_])[pos]

    def _horizon_days(self, horizon=None) -> float:
        value = self.horizon if horizon is None else horizon
        if isinstance(value, (int, float, np.integer, np.floating)) and not (
            isinstance(value, (bool, np.timedelta64))
        ):  # a survival horizon is a number of days, with its unit
            raise SchemaError(
                f"`horizon`={value!r} must carry a unit: an exact span such as "
                f"'{value}D' (days)."
            )
        parsed = parse_duration(value, name="horizon", allow_zero=False)
        if not isinstance(parsed, pd.Timedelta):
            raise SchemaError(
                f"`horizon`={value!r}: use an exact span such as '30D'; a calendar "
                "offset has no fixed length in days."
            )
        return parsed.value / NS_PER_DAY
