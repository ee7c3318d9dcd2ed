"""churnkit: predict which customers will churn, explain why, measure what it costs.

The public API is flat::

    import churnkit as ck

    events = ck.Events(customers=customers, usage=usage, billing=billing)
    cutoffs = ck.make_cutoffs(events, start="2024-01-01", end="2024-12-01")
    labels = ck.label_churn(events, cutoffs, horizon="30D")

Names are imported lazily, so ``import churnkit`` stays fast and heavy
dependencies (xgboost, shap, matplotlib) load only where they are used.
"""

from __future__ import annotations

import importlib

from churnkit._version import VERSION as __version__
from churnkit.exceptions import (
    AccountNotFoundError,
    CalibrationWarning,
    CensoringWarning,
    ChurnkitError,
    ChurnkitTypeError,
    ChurnkitWarning,
    DataQualityWarning,
    LeakageWarning,
    SchemaDriftWarning,
    SchemaError,
)

# public name -> module that defines it
_LAZY = {
    # events and labels
    "Events": "churnkit.events",
    "make_cutoffs": "churnkit.labels",
    "label_churn": "churnkit.labels",
    "label_inactivity": "churnkit.labels",
    "label_survival": "churnkit.survival",
    "survival_array": "churnkit.survival",
    # features
    "UsageFeatures": "churnkit.features",
    "BillingFeatures": "churnkit.features",
    "SupportFeatures": "churnkit.features",
    "ProfileFeatures": "churnkit.features",
    "ChurnFeatures": "churnkit.features",
    "FeatureSpec": "churnkit.features",
    "Derived": "churnkit.features",
    "CustomFeatures": "churnkit.features",
    "set_events": "churnkit.features",
    "describe_features": "churnkit.features",
    "compute_features": "churnkit.features",
    # models and validation
    "ChurnClassifier": "churnkit.models",
    "make_churn_pipeline": "churnkit.models",
    "ChurnSurvival": "churnkit.survival",
    "CutoffSplit": "churnkit.evaluation",
    "backtest": "churnkit.evaluation",
    # evaluation, profit and targeting
    "evaluate": "churnkit.evaluation",
    "lift_table": "churnkit.evaluation",
    "expected_calibration_error": "churnkit.evaluation",
    "plot_gains": "churnkit.evaluation",
    "plot_lift": "churnkit.evaluation",
    "plot_calibration": "churnkit.evaluation",
    "campaign_profit": "churnkit.evaluation",
    "emp_score": "churnkit.evaluation",
    "emp_fraction": "churnkit.evaluation",
    "emp_scorer": "churnkit.evaluation",
    "prioritize": "churnkit.targeting",
    # monitoring between scoring runs
    "feature_drift": "churnkit.evaluation",
    "score_drift": "churnkit.evaluation",
    "population_stability_index": "churnkit.evaluation",
    # time to churn
    "concordance_index": "churnkit.evaluation",
    "time_dependent_auc": "churnkit.evaluation",
    "integrated_brier_score": "churnkit.evaluation",
    # business KPIs
    "churn_rate": "churnkit.metrics",
    "revenue_churn": "churnkit.metrics",
    "cohort_retention": "churnkit.metrics",
    "convert_rate": "churnkit.metrics",
    "plot_churn_rate": "churnkit.metrics",
    "plot_revenue_churn": "churnkit.metrics",
    "plot_cohort_retention": "churnkit.metrics",
    # explanations
    "ChurnExplainer": "churnkit.explain",
    "Explanation": "churnkit.explain",
    "explain_change": "churnkit.explain",
    "ScoreChange": "churnkit.explain",
    "explain_survival": "churnkit.explain",
    # persistence
    "save": "churnkit.persistence",
    "load": "churnkit.persistence",
    "read_header": "churnkit.persistence",
    "skops_trusted_types": "churnkit._skops",
    # the HTML report
    "report": "churnkit.reporting",
    # process-wide memory tuning, off unless asked for
    "set_memory_tuning": "churnkit._memory",
    # submodules
    "datasets": "churnkit.datasets",
    # also scikit-learn's NotFittedError, so built on first use
    "NotFittedError": "churnkit.exceptions",
}

__all__ = [
    "AccountNotFoundError",
    "ChurnkitError",
    "ChurnkitTypeError",
    "ChurnkitWarning",
    "CalibrationWarning",
    "CensoringWarning",
    "DataQualityWarning",
    "LeakageWarning",
    "SchemaDriftWarning",
    "SchemaError",
    "__version__",
    *_LAZY,
]


def __getattr__(name):
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'churnkit' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name == f"churnkit.{name}" else getattr(module, name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__():
    return sorted(__all__)
