"""The xgboost.spark trainer: churnkit's boosting passes on a Spark cluster.

:class:`SparkTrainer` implements the trainer protocol of
``churnkit.models._engine_fit`` with :class:`xgboost.spark.SparkXGBClassifier`
(xgboost's own distributed training, one xgboost worker per Spark task):

- the feature rows become the model input on the executors (``TablePrep`` of
  the fitted classifier, categoricals as their fixed-level codes, marked
  ``"c"`` in ``feature_types``), once, cached;
- ``early_stop`` boosts on the training cutoffs with the hold-out cutoffs as
  ``validation_indicator_col`` and a callback that applies churnkit's rule (the
  hold-out log-loss read every ``eval_every`` rounds, stop
  ``early_stopping_rounds`` after the last improvement);
- ``hold_margins`` predicts the hold-out margins on the executors;
- ``fit`` boosts the chosen rounds on all rows.

The booster it returns holds the real feature names and types, so the
fitted classifier predicts on pandas on one machine as any other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._validation import CUSTOMER_ID, CUTOFF_TIME
from churnkit.models._engine_fit import early_stopping_callback
from churnkit.spark._frames import restore_dtypes

__all__ = ["SparkTrainer", "best_rounds"]

_LABEL, _HOLD = "__label", "__hold"
# XGBClassifier settings xgboost.spark sets itself or does not take
_NOT_SPARK = ("n_jobs", "enable_categorical", "monotone_constraints")


def best_rounds(losses, every, patience) -> int:
    """The rounds churnkit's early stopping picks from a hold-out loss curve.

    ``losses[i]`` is the hold-out log-loss after ``i + 1`` rounds; only every
    ``every``-th round is read, the first strictly lowest wins, and reading
    stops ``patience`` rounds after the last improvement (the rule of
    ``churnkit.models._xgboost.early_stop``).
    """
    best, best_loss = every, np.inf
    for rounds in range(every, len(losses) + 1, every):
        loss = losses[rounds - 1]
        if loss < best_loss:
            best, best_loss = rounds, loss
        elif rounds - best >= patience:
            break
    return best


class SparkTrainer:
    """Boosts churnkit's xgboost model with ``xgboost.spark`` on feature rows.

    Parameters
    ----------
    features : Spark DataFrame
        Feature rows: ``customer_id``, ``cutoff_time``, the feature columns (as
        :func:`compute_features` returns them) and the label column.
    template : DataFrame
        A pandas output of the same feature step (its dtypes and ``attrs``).
    label : str, default="churned"
        The label column.
    num_workers : int, default=None
        xgboost workers (Spark tasks training at once); by default the
        session's default parallelism.
    **spark_params
        Further :class:`xgboost.spark.SparkXGBClassifier` parameters (e.g.
        ``device="cuda"``); churnkit's booster settings are not overridable.

    See Also
    --------
    churnkit.spark.fit : Builds the feature rows and calls
        ``fit_on_engine`` with this trainer.

    Examples
    --------
    >>> from churnkit.models._engine_fit import fit_on_engine
    >>> from churnkit.spark import SparkTrainer
    >>> trainer = SparkTrainer(features, template, num_workers=2)  # doctest: +SKIP
    >>> fit_on_engine(model, sample, counts, trainer)  # doctest: +SKIP
    """

    def __init__(
        self, features, template, *, label="churned", num_workers=None, **spark_params
    ):
        self.features = features
        self.template = template
        self.label = label
        self.num_workers = num_workers
        self.spark_params = spark_params
        self._input = None

    def _workers(self) -> int:
        if self.num_workers is not None:
            return int(self.num_workers)
        return int(self.features.sparkSession.sparkContext.defaultParallelism)

    def model_columns(self, spec) -> tuple[list, list]:
        """(model input columns, their xgboost feature types)."""
        sample = spec.model_input(self.template.iloc[:0])
        kinds = [
            "c" if isinstance(sample[c].dtype, pd.CategoricalDtype) else "q"
            for c in sample.columns
        ]
        return list(sample.columns), kinds

    def model_input(self, spec):
        """The model input of every row, cached: ``f0..fk``, label and hold-out flag."""
        if self._input is not None and self._input[0] is spec:
            return self._input[1]
        self.release()
        columns, _ = self.model_columns(spec)
        template, label, positive = self.template, self.label, spec.positive_class
        names = [f"f{i}" for i in range(len(columns))]
        schema = ", ".join(
            [f"{n} double" for n in names] + [f"{_LABEL} int", f"{_HOLD} boolean"]
        )

        def to_input(blocks):
            for pdf in blocks:
                frame = restore_dtypes(pdf.drop(columns=[label]), template)
                Xm = spec.model_input(frame)
                out = {}
                for name, column in zip(names, columns, strict=True):
                    values = Xm[column]
                    if isinstance(values.dtype, pd.CategoricalDtype):
                        codes = values.cat.codes.to_numpy().astype("float64")
                        codes[codes < 0] = np.nan
                        out[name] = codes
                    else:
                        out[name] = values.to_numpy("float64")
                out[_LABEL] = (pdf[label].to_numpy() == positive).astype("int32")
                out[_HOLD] = spec.is_hold(pdf[CUTOFF_TIME])
                yield pd.DataFrame(out)

        wanted = [CUSTOMER_ID, CUTOFF_TIME, *spec.feature_names, label]
        keyed = (
            self.features.select(*[f"`{c}`" for c in wanted])
            .repartition(self._workers(), CUSTOMER_ID, CUTOFF_TIME)
            .sortWithinPartitions(CUTOFF_TIME, CUSTOMER_ID)
        )
        frame = keyed.mapInPandas(to_input, schema).persist()
        self._input = (spec, frame)
        return frame

    def release(self) -> None:
        """Drop the cached model input."""
        if self._input is not None:
            self._input[1].unpersist()
            self._input = None

    def _estimator(self, spec, rounds, *, validate):
        from xgboost.spark import SparkXGBClassifier

        columns, kinds = self.model_columns(spec)
        params = {k: v for k, v in spec.params.items() if k not in _NOT_SPARK}
        monotone = spec.booster_params.get("monotone_constraints")
        if monotone:
            params["monotone_constraints"] = monotone
        extra = dict(self.spark_params)
        if validate:
            extra.update(
                validation_indicator_col=_HOLD,
                callbacks=[
                    early_stopping_callback(
                        spec.eval_every, spec.early_stopping_rounds, "validation"
                    )
                ],
            )
        return SparkXGBClassifier(
            features_col=[f"f{i}" for i in range(len(columns))],
            label_col=_LABEL,
            num_workers=self._workers(),
            n_estimators=int(rounds),
            feature_names=columns,
            feature_types=kinds,
            missing=np.nan,
            verbose=False,  # no log line per boosting round
            **params,
            **extra,
        )

    def early_stop(self, spec):
        """Boost on the training cutoffs, stop on the hold-out's log-loss.

        Parameters
        ----------
        spec : BoostSpec
            The settings of the fit.

        Returns
        -------
        booster : xgboost.Booster
            The trees up to the stopping round.
        best : int
            The rounds with the lowest hold-out log-loss.
        """
        frame = self.model_input(spec)
        model = self._estimator(spec, spec.max_rounds, validate=True).fit(frame)
        history = model.training_summary.validation_objective_history["logloss"]
        best = best_rounds(history, spec.eval_every, spec.early_stopping_rounds)
        return model.get_booster(), best

    def hold_margins(self, spec, booster, rounds):
        """The hold-out rows' margins with the first ``rounds`` trees.

        Parameters
        ----------
        spec : BoostSpec
            The settings of the fit.
        booster : xgboost.Booster
            From :meth:`early_stop`.
        rounds : int
            The trees to use.

        Returns
        -------
        margin, y01 : ndarray
            1-D, row for row.
        """
        frame = self.model_input(spec).filter(f"`{_HOLD}`")
        raw = bytes(booster.save_raw("ubj"))
        columns, kinds = self.model_columns(spec)
        names = [f"f{i}" for i in range(len(columns))]

        def margins(blocks):
            import xgboost as xgb

            model = xgb.Booster(model_file=bytearray(raw))
            for pdf in blocks:
                data = xgb.DMatrix(
                    pdf[names].to_numpy("float64"),
                    feature_names=columns,
                    feature_types=kinds,
                    enable_categorical=True,
                    missing=np.nan,
                )
                margin = model.predict(
                    data, output_margin=True, iteration_range=(0, int(rounds))
                )
                yield pd.DataFrame(
                    {"margin": margin.astype("float64"), "y01": pdf[_LABEL]}
                )

        out = frame.mapInPandas(margins, "margin double, y01 int").toPandas()
        return out["margin"].to_numpy(), out["y01"].to_numpy().astype(np.int64)

    def fit(self, spec, rounds):
        """Boost ``rounds`` rounds on every row.

        Parameters
        ----------
        spec : BoostSpec
            The settings of the fit.
        rounds : int
            Boosting rounds.

        Returns
        -------
        xgboost.Booster
            The fitted booster.
        """
        frame = self.model_input(spec)
        return self._estimator(spec, rounds, validate=False).fit(frame).get_booster()
