"""Training on a Dask cluster: xgboost.dask through the engine fit hook.

``fit(model, features)`` fits a ``ChurnClassifier`` (or the classifier of a
``make_churn_pipeline``) on a Dask DataFrame of features and labels:

* ``model="xgboost"``: the driver-side decisions (column types and levels,
  monotone constraints, the hold-out cutoffs, the calibrator, the refit's
  rounds) are those of a single-machine fit (``fit_on_engine`` in
  ``churnkit.models``); :class:`DaskTrainer` does the boosting with
  ``xgboost.dask`` on the workers' partitions. Column types and categorical
  levels are learned on a sample of whole partitions (``sample_rows``).
* ``model="logistic"`` (or any other classifier): fitted on one machine, on a
  sample of whole partitions collected to the driver (every row of the
  sampled buckets' customers; ``sample_rows`` rows or more): a linear model
  on a few hundred thousand rows is as good as on all of them, and the
  fitted model then scores every bucket on the cluster.

Why a cluster-trained xgboost model is close to, not equal to, the
single-machine one: ``xgboost.dask`` builds its histogram cut points from
per-worker quantile sketches merged across workers (the single machine
sketches all rows at once), its row subsampling draws per worker, and its
gradient sums add up in another order; early stopping reads the same
hold-out log-loss every ``EVAL_EVERY`` rounds with the same patience.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from churnkit._validation import CUSTOMER_ID, CUTOFF_TIME
from churnkit.distributed import bucket_column
from churnkit.exceptions import SchemaError
from churnkit.features._frozen import FrozenMapping
from churnkit.models._engine_fit import (
    count_labels,
    early_stopping_callback,
    fit_on_engine,
)

__all__ = ["DaskTrainer", "fit"]

BEST_ROUNDS_ATTR = "churnkit_best_rounds"


def _as_codes(Xm: pd.DataFrame) -> pd.DataFrame:
    """Model input with each categorical column as its level codes (NaN missing).

    The levels are fixed at fit (``TablePrep``), so the codes are what xgboost
    reads from the Categoricals; as plain floats, a worker whose partitions
    hold no row of a part (the hold-out) does not stop ``xgboost.dask``,
    which cannot take an empty categorical frame.
    """
    out = {}
    for name, column in Xm.items():
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes = column.cat.codes.to_numpy().astype("float64")
            codes[codes < 0] = np.nan
            out[name] = codes
        else:
            out[name] = column.to_numpy(dtype="float64")
    return pd.DataFrame(out, columns=Xm.columns)


def _feature_types(spec) -> list:
    cats = set(spec.prep.categorical_columns_)
    return ["c" if c in cats else "float" for c in spec.feature_names]


def _model_input(part, spec, which):
    """Model input of one partition's rows: all, training or hold-out rows."""
    if which != "all":
        hold = spec.is_hold(part[CUTOFF_TIME])
        part = part[hold if which == "hold" else ~hold]
    return _as_codes(spec.model_input(part).reset_index(drop=True))


def _label01(part, spec, label, which):
    if which != "all":
        hold = spec.is_hold(part[CUTOFF_TIME])
        part = part[hold if which == "hold" else ~hold]
    y = (part[label].to_numpy() == spec.positive_class).astype("float32")
    return pd.Series(y, name="label")


def _hold_margins(part, spec, label, booster, rounds):
    from xgboost import DMatrix

    Xm = _model_input(part, spec, "hold")
    y = _label01(part, spec, label, "hold").to_numpy()
    if len(Xm) == 0:
        return pd.DataFrame({"margin": np.zeros(0), "y": np.zeros(0, dtype=np.int64)})
    dmat = DMatrix(
        Xm, feature_types=_feature_types(spec), enable_categorical=True, nthread=1
    )
    margin = booster.predict(dmat, output_margin=True, iteration_range=(0, rounds))
    return pd.DataFrame({"margin": margin.astype("float64"), "y": y.astype(np.int64)})


class DaskTrainer:
    """The boosting of ``fit_on_engine`` with ``xgboost.dask`` (see module doc).

    Parameters
    ----------
    features : dask.dataframe.DataFrame
        Feature rows with ``cutoff_time`` and the label column.
    label : str
        The label column.
    client : distributed.Client
        The cluster's client (xgboost.dask needs a distributed scheduler).
    """

    def __init__(self, features, label, client):
        self.features = features
        self.label = label
        self.client = client

    def _matrix(self, spec, which, ref=None):
        from xgboost import dask as dxgb

        meta = _model_input(self.features._meta, spec, "all")
        X = self.features.map_partitions(_model_input, spec, which, meta=meta)
        y = self.features.map_partitions(
            _label01, spec, self.label, which, meta=pd.Series([], dtype="float32")
        )
        kwargs = {"ref": ref} if ref is not None else {}
        return dxgb.DaskQuantileDMatrix(
            self.client,
            X,
            y,
            feature_types=_feature_types(spec),
            enable_categorical=True,
            **kwargs,
        )

    def early_stop(self, spec):
        """Boost on the training cutoffs, stop on the hold-out's log-loss."""
        from xgboost import dask as dxgb

        dtrain = self._matrix(spec, "train")
        dhold = self._matrix(spec, "hold", ref=dtrain)
        out = dxgb.train(
            self.client,
            {**spec.booster_params, "eval_metric": "logloss"},
            dtrain,
            num_boost_round=spec.max_rounds,
            evals=[(dhold, "hold")],
            callbacks=[
                early_stopping_callback(
                    spec.eval_every,
                    spec.early_stopping_rounds,
                    "hold",
                    record=BEST_ROUNDS_ATTR,
                )
            ],
            verbose_eval=False,
        )
        booster = out["booster"]
        return booster, int(booster.attr(BEST_ROUNDS_ATTR))

    def hold_margins(self, spec, booster, rounds):
        """Hold-out margins and labels, computed per partition, collected."""
        meta = pd.DataFrame({"margin": np.zeros(0), "y": np.zeros(0, dtype=np.int64)})
        out = self.features.map_partitions(
            _hold_margins, spec, self.label, booster, int(rounds), meta=meta
        ).compute()
        return out["margin"].to_numpy(), out["y"].to_numpy()

    def fit(self, spec, rounds):
        """``rounds`` rounds of ``xgboost.dask.train`` on all rows."""
        from xgboost import dask as dxgb

        out = dxgb.train(
            self.client,
            spec.booster_params,
            self._matrix(spec, "all"),
            num_boost_round=int(rounds),
            verbose_eval=False,
        )
        return out["booster"]


def _counts(part, label):
    """Rows per (cutoff, label) of one partition, and its row count."""
    counts = count_labels(part[CUTOFF_TIME], part[label])
    return counts, len(part)


def _sample(features, sizes, sample_rows, seed):
    """Whole partitions, in a seeded random order, until ``sample_rows`` rows."""
    order = np.random.default_rng(seed).permutation(len(sizes))
    total = np.cumsum(np.asarray(sizes)[order])
    k = int(np.searchsorted(total, sample_rows)) + 1
    chosen = sorted(order[: min(k, len(order))].tolist())
    return features.partitions[chosen].compute()


def _indexed(frame, columns, directions):
    """Feature rows indexed by (customer_id, cutoff_time), attrs attached."""
    out = frame.set_index([CUSTOMER_ID, CUTOFF_TIME])[columns]
    if directions is not None:
        out.attrs["feature_directions"] = directions
    return out


def _feature_columns(model, features, label):
    if isinstance(model, Pipeline):
        builder = model.steps[0][1]
        names = list(builder.get_feature_names_out())
        directions = None
        if hasattr(builder, "describe_features"):
            desc = builder.describe_features()
            pairs = zip(desc["feature"], desc["direction"], strict=True)
            directions = FrozenMapping(pairs)
        return names, directions
    skip = {CUSTOMER_ID, CUTOFF_TIME, bucket_column, label}
    return [c for c in features.columns if c not in skip], None


def fit(
    model,
    features,
    *,
    label="churned",
    client=None,
    sample_rows=250_000,
    persist=True,
):
    """Fit a classifier (or a pipeline's) on a Dask DataFrame of features.

    Parameters
    ----------
    model : ChurnClassifier or Pipeline
        For a pipeline, the feature step must be fitted (``compute_features``
        fits it) and only the classifier is fitted here.
    features : dask.dataframe.DataFrame
        From :func:`compute_features` on the labels: ``customer_id``,
        ``cutoff_time``, the label, the features (a pipeline's feature names;
        for a bare classifier every other column but ``bucket``).
    label : str, default="churned"
        The label column.
    client : distributed.Client, default=None
        The cluster (default: the current client). Needed for xgboost.
    sample_rows : int, default=250_000
        Rows of the driver-side sample (whole partitions, seeded by the
        classifier's ``random_state``): column types and categorical levels
        for xgboost, the whole fit for other models.
    persist : bool, default=True
        Keep the features in the workers' memory while fitting (they are read
        several times: the label counts, the sample, each boosting pass).
        False reads them again each time (from parquet, or by recomputing).

    Returns
    -------
    model : ChurnClassifier or Pipeline
        ``model``, fitted: an ordinary fitted churnkit model.
    """
    import dask

    if label not in features.columns:
        raise SchemaError(
            f"features has no label column {label!r} (columns: "
            f"{list(features.columns)[:8]}); compute the features from the "
            "labels (compute_features keeps their columns) or pass `label=`."
        )
    clf = model.steps[-1][1] if isinstance(model, Pipeline) else model
    columns, directions = _feature_columns(model, features, label)
    if persist:  # read by several passes: counts, the sample, the boosting
        features = features.persist()
    parts = [dask.delayed(_counts)(p, label) for p in features.to_delayed()]
    results = dask.compute(*parts)
    counts = pd.concat([c for c, _ in results], ignore_index=True)
    sizes = [n for _, n in results]
    seed = clf.random_state if isinstance(clf.random_state, int) else 0
    sample = _sample(features, sizes, sample_rows, seed)
    X = _indexed(sample, columns, directions)
    if clf.model != "xgboost":
        clf.fit(X, sample[label].to_numpy())
        return model
    if client is None:
        from distributed import get_client

        client = get_client()
    trainer = DaskTrainer(features, label, client)
    return fit_on_engine(model, X, counts, trainer, sample_y=sample[label].to_numpy())
