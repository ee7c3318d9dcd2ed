"""A model fitted the way the report tests need it."""

import warnings

import churnkit as ck


def fitted_logistic(events, cutoffs, horizon="30D"):
    """A logistic churn pipeline fitted on ``label_churn`` of ``cutoffs``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = ck.label_churn(events, cutoffs, horizon=horizon)
        model = ck.make_churn_pipeline(events, model="logistic", random_state=0)
        return model.fit(labels[["customer_id", "cutoff_time"]], labels["churned"])
