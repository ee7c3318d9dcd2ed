"""Stage 7: the same per-customer flow on partitions of the data, any engine.

Every step of churnkit is per customer, so the data can be split by a stable
hash bucket of ``customer_id`` (:func:`bucket_of`) into self-contained buckets
(:func:`write_layout`, :func:`open_layout`), and each bucket's ``Events`` store
processed on its own: cutoffs, labels, features and scores of the buckets,
concatenated, equal the single-machine run. This package is engine-agnostic
(plain pandas per bucket); ``churnkit.dask`` and ``churnkit.spark`` run it on
those engines, :func:`run_local` in one process.
"""

from churnkit.distributed._hash import HASH_NAME, bucket_of
from churnkit.distributed._layout import Layout, open_layout, write_layout
from churnkit.distributed._manifest import MANIFEST, bucket_column, write_manifest
from churnkit.distributed._reference import (
    REFERENCE_ROWS,
    bucket_reference,
    reference_fraction,
    set_reference,
)
from churnkit.distributed._statistics import (
    StoreStatistics,
    fit_builder,
    fit_statistics,
    merge_statistics,
)
from churnkit.distributed._work import (
    bucket_cutoffs,
    bucket_features,
    bucket_labels,
    bucket_scores,
    run_local,
)

__all__ = [
    "HASH_NAME",
    "MANIFEST",
    "REFERENCE_ROWS",
    "Layout",
    "StoreStatistics",
    "bucket_column",
    "bucket_cutoffs",
    "bucket_features",
    "bucket_labels",
    "bucket_reference",
    "bucket_scores",
    "fit_builder",
    "fit_statistics",
    "bucket_of",
    "merge_statistics",
    "open_layout",
    "reference_fraction",
    "run_local",
    "set_reference",
    "write_layout",
    "write_manifest",
]
