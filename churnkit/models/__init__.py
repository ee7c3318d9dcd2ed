"""Stage 4 of the flow: the churn model.

:class:`ChurnClassifier` prepares the feature table, fits a base model
(xgboost, logistic regression or your own classifier) and calibrates its
log-odds on a later hold-out; :func:`make_churn_pipeline` puts the feature
builders in front of it.
"""

from churnkit.models._classifier import ChurnClassifier
from churnkit.models._pipeline import make_churn_pipeline

__all__ = ["ChurnClassifier", "make_churn_pipeline"]
