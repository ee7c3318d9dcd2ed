"""churnkit on a Dask cluster: the single-machine flow, bucket by bucket.

Install with ``pip install churnkit[dask]``; ``import churnkit`` never
imports Dask, this module does.

The data is a partitioned layout (``churnkit.distributed``): every table's
rows split by a stable hash bucket of ``customer_id``, each bucket
self-contained. Every step runs churnkit's single-machine code on one
bucket's ``Events`` store at a time, in Dask tasks, one partition per group
of buckets; nothing loops over customers in Python.

::

    import churnkit as ck
    import churnkit.dask as ckd

    layout = ckd.write_layout(tables, "/data/churn-layout", n_buckets=64)
    cutoffs = ckd.make_cutoffs(layout, start="2024-01-01", end="2024-12-01")
    labels = ckd.label_churn(layout, cutoffs, horizon="30D")
    model = ck.make_churn_pipeline(None)                   # stores come per bucket
    features = ckd.compute_features(model, layout, labels)  # fits the features
    ckd.fit(model, features)                                # xgboost.dask
    scores = ckd.score(model, layout, cutoffs, explain=3)
    ckd.write_results(scores, "/data/churn-scores")

What equals the single-machine run, on the same data: cutoffs, labels and
features (bit for bit), and the scores of a given fitted model (bit for bit:
a model fitted on one machine scores on the cluster and the other way
round). A model trained with ``xgboost.dask`` is close to, not equal to, one
trained on one machine (see :func:`fit`).
"""

from churnkit.dask._flow import (
    compute_features,
    fit_feature_step,
    label_churn,
    make_cutoffs,
    score,
)
from churnkit.dask._train import DaskTrainer, fit
from churnkit.dask._write import write_layout, write_results

__all__ = [
    "DaskTrainer",
    "compute_features",
    "fit",
    "fit_feature_step",
    "label_churn",
    "make_cutoffs",
    "score",
    "write_layout",
    "write_results",
]
