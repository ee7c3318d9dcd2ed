"""Stage 8: churnkit on Spark, one pandas call per hash bucket of customers.

The data lives in a partitioned layout (:func:`write_layout`, or
:func:`churnkit.distributed.write_layout` on one machine): parquet datasets
partitioned by ``bucket = bucket_of(customer_id, n_buckets)``. Every step is
``groupBy("bucket").applyInPandas(...)``: each group reads its bucket's
``Events`` store from the layout and runs churnkit's single-machine code on it
(:mod:`churnkit.distributed`), so cutoffs, labels, features and scores equal
the single-machine run. Training boosts with ``xgboost.spark`` and returns an
ordinary fitted pipeline.

::

    import churnkit as ck
    import churnkit.spark as cks

    layout = cks.write_layout({"customers": c, "usage": u, "churn": k}, path)
    cutoffs = cks.make_cutoffs(layout, start="2024-03-01", end="2025-05-01")
    labels = cks.label_churn(layout, cutoffs, horizon="30D")
    model = ck.make_churn_pipeline(None, random_state=0)
    cks.fit(model, layout, labels, horizon="30D")
    today = cks.make_cutoffs(layout, at="2025-07-01")
    cks.write_results(cks.score(model, layout, today, explain=3), out_path)

Requires ``pyspark`` and a Java runtime (``pip install churnkit[spark]``);
they are imported only when a function runs. The layout's path must be
readable by the executors' Python (local disk, NFS, a Databricks volume).
"""

from churnkit.spark._fit import fit, fit_features
from churnkit.spark._layout import write_layout
from churnkit.spark._results import delta_available, write_results
from churnkit.spark._steps import (
    by_bucket,
    compute_features,
    label_churn,
    make_cutoffs,
    score,
)
from churnkit.spark._trainer import SparkTrainer

__all__ = [
    "SparkTrainer",
    "by_bucket",
    "compute_features",
    "delta_available",
    "fit",
    "fit_features",
    "label_churn",
    "make_cutoffs",
    "score",
    "write_layout",
    "write_results",
]
