"""Evaluate churn models: scores, lift, calibration, profit and backtests.

Every function takes ``(y_true, y_score)`` in scikit-learn's order, where
``y_true`` holds 1 for a churner and 0 for a customer who stayed, and
``y_score`` is the model's churn score (``model.predict_proba(X)[:, 1]``).
Arrays, lists and Series are accepted; two Series are matched on their index.
Ranking ("the top 10% by score", ties counted pro rata) is defined once, in
:mod:`churnkit.evaluation._scores`, for every function of this package.

The functions are:

* :func:`evaluate`: one Series with ROC-AUC, PR-AUC, log loss, Brier score,
  calibration error, and lift and capture at 5%, 10% and 20%;
* :func:`lift_table`: the decile table (also called a gains table);
* :func:`expected_calibration_error`;
* :func:`plot_gains`, :func:`plot_lift`, :func:`plot_calibration`;
* :func:`campaign_profit`: profit of a retention campaign by fraction targeted;
* :func:`emp_score` and :data:`emp_scorer`: the expected maximum profit measure
  for customer churn (Verbraken, Verbeke & Baesens, 2013), for model selection;
* :class:`CutoffSplit` and :func:`backtest`: forward-in-time validation, each
  fold testing on later cutoffs than it trains on;
* :func:`feature_drift`, :func:`score_drift` and
  :func:`population_stability_index`: drift between two scoring runs;
* :func:`concordance_index`, :func:`time_dependent_auc` and
  :func:`integrated_brier_score`: time-to-churn models.
"""

from churnkit.evaluation._backtest import CutoffSplit, backtest
from churnkit.evaluation._drift import (
    feature_drift,
    population_stability_index,
    score_drift,
)
from churnkit.evaluation._plots import plot_calibration, plot_gains, plot_lift
from churnkit.evaluation._profit import (
    campaign_profit,
    emp_fraction,
    emp_score,
    emp_scorer,
)
from churnkit.evaluation._scores import (
    evaluate,
    expected_calibration_error,
    lift_table,
)
from churnkit.evaluation._survival import (
    concordance_index,
    integrated_brier_score,
    time_dependent_auc,
)

__all__ = [
    "evaluate",
    "lift_table",
    "expected_calibration_error",
    "plot_gains",
    "plot_lift",
    "plot_calibration",
    "campaign_profit",
    "emp_score",
    "emp_fraction",
    "emp_scorer",
    "CutoffSplit",
    "backtest",
    "feature_drift",
    "score_drift",
    "population_stability_index",
    "concordance_index",
    "time_dependent_auc",
    "integrated_brier_score",
]
