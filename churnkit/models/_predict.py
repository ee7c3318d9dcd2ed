"""What a fitted :class:`~churnkit.models.ChurnClassifier` answers: the base
model's input and margin, calibrated probabilities and labels.

A mixin of :class:`ChurnClassifier` (one estimator, split by what it is for):
it reads the fitted attributes (``preprocessor_``, ``estimator_``,
``best_iteration_``, ``calibrator_``, ``model_kind_``, ``classes_``) and adds
no state of its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from joblib import effective_n_jobs
from scipy.special import expit, logit

from churnkit.models._checks import EstimatorNotFittedError, check_X

__all__ = ["ClassifierPredictions"]


class ClassifierPredictions:
    """Scoring methods of :class:`ChurnClassifier`."""

    def _check_X(self, X, *, reset: bool) -> pd.DataFrame:
        """Validate X and return it as a DataFrame with string column names."""
        return check_X(self, X, reset=reset)

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise EstimatorNotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' "
                "with appropriate arguments before using this estimator."
            )

    def model_input(self, X) -> pd.DataFrame:
        """The exact table the base model sees: ``preprocessor_`` applied to X.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Same columns as at fit.

        Returns
        -------
        DataFrame
            Indexed like ``X``; columns are the keys of ``feature_map_``. For
            ``"xgboost"``, float64 and pandas Categorical columns (build a
            ``xgboost.DMatrix(..., enable_categorical=True)`` from it); otherwise
            float64 columns.
        """
        self._check_fitted()
        return self.preprocessor_.transform(self._check_X(X, reset=False))

    def _margin(self, est, best, Xm) -> np.ndarray:
        if self.model_kind_ == "xgboost":
            from churnkit.models._dmatrix import dmatrix  # fast for few rows

            dmat = dmatrix(Xm, nthread=effective_n_jobs(self.n_jobs))
            booster = est.get_booster() if hasattr(est, "get_booster") else est
            margin = booster.predict(
                dmat, output_margin=True, iteration_range=(0, best + 1)
            )
            return np.asarray(margin, dtype="float64")
        if self.model_kind_ == "logistic" or not hasattr(est, "predict_proba"):
            return np.asarray(est.decision_function(Xm), dtype="float64").ravel()
        proba = est.predict_proba(Xm)[:, list(est.classes_).index(1)]
        return logit(np.clip(proba, 1e-12, 1 - 1e-12))

    def decision_function(self, X) -> np.ndarray:
        """Base model log-odds of churn (the margin) for each row.

        For ``"xgboost"`` this is ``estimator_.get_booster().predict(DMatrix(
        model_input(X), enable_categorical=True), output_margin=True,
        iteration_range=(0, best_iteration_ + 1))``; for ``"logistic"``,
        ``estimator_.decision_function(model_input(X))``. It is what explanations
        add up to; :meth:`calibrate_margin` turns it into ``predict_proba``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        self._check_fitted()
        frame = self._check_X(X, reset=False)
        if len(frame) == 0:  # nothing to score: no rows out, not an error
            return np.zeros(0, dtype="float64")
        Xm = self.preprocessor_.transform(frame)
        return self._margin(self.estimator_, self.best_iteration_, Xm)

    def calibrate_margin(self, margin) -> np.ndarray:
        """Map base-model log-odds to calibrated churn probabilities.

        Parameters
        ----------
        margin : float or array-like
            Values on the scale of :meth:`decision_function`.

        Returns
        -------
        ndarray
            Same shape as ``margin``: ``calibrator_.predict(margin)``, or
            ``expit(margin)`` when there is no calibrator.
        """
        self._check_fitted()
        m = np.asarray(margin, dtype="float64")
        if self.calibrator_ is None:
            return expit(m)
        return self.calibrator_.predict(m.ravel()).reshape(m.shape)

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated class probabilities; column 1 is the churn probability.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Columns ordered as ``classes_``.
        """
        p = self.calibrate_margin(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict_log_proba(self, X) -> np.ndarray:
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Same columns as at fit.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            ``log(predict_proba(X))``, columns ordered as ``classes_``;
            ``-inf`` where a probability is exactly 0.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Most probable class (calibrated churn probability above 0.5).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]
