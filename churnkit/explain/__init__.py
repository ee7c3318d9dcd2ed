"""Explanations: why the model thinks an account will churn.

:class:`ChurnExplainer` computes SHAP values of a fitted churn model's log-odds
(xgboost's native TreeSHAP, the closed form for logistic regression, or
``shap.Explainer`` for any other estimator) and sums them back to the user's
features. :class:`Explanation` turns them into drivers, reason sentences,
group totals, global importances and plots. :func:`explain_change` splits a
change of risk between two scorings into features (:class:`ScoreChange`).
"""

from __future__ import annotations

from churnkit.explain._change import explain_change
from churnkit.explain._explainer import ChurnExplainer
from churnkit.explain._explanation import Explanation
from churnkit.explain._score_change import ScoreChange
from churnkit.explain._survival import explain_survival

__all__ = [
    "ChurnExplainer",
    "Explanation",
    "ScoreChange",
    "explain_change",
    "explain_survival",
]
