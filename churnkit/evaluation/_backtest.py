"""Forward-in-time validation: CutoffSplit and backtest.

A churn model is used on cutoffs later than the ones it was trained on, and the
label of a training row at cutoff ``t`` is only known at ``t + gap + horizon``.
:class:`CutoffSplit` reproduces that: each test fold is one later cutoff (or a
few), and training keeps only the earlier rows whose label window had closed by
then. :func:`backtest` runs such a split and scores each fold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import BaseCrossValidator, check_cv

from churnkit._progress import progress_bar
from churnkit._time import add_duration, parse_duration
from churnkit._validation import check_int, read_cutoff_table
from churnkit.evaluation._scores import evaluate
from churnkit.exceptions import ChurnkitTypeError, SchemaError

__all__ = ["CutoffSplit", "backtest"]


def _is_zero(duration) -> bool:
    if isinstance(duration, pd.Timedelta):
        return duration == pd.Timedelta(0)
    return getattr(duration, "n", 1) == 0


class CutoffSplit(BaseCrossValidator):
    """Forward-in-time cross-validation over cutoff rows.

    Each fold tests on all rows of one later cutoff (``test_size`` consecutive
    cutoffs, in general) and trains on the rows of earlier cutoffs whose label
    was already known at the test cutoff.

    Parameters
    ----------
    n_splits : int, default=3
        Number of folds. The folds test on the last ``n_splits * test_size``
        distinct cutoffs, oldest fold first.
    horizon : str, Timedelta or DateOffset
        The label horizon used to build ``y``, e.g. "30D" or "1MS". Required: it
        decides which training rows are too recent.
    gap : str, Timedelta or DateOffset, default="0D"
        The gap between a cutoff and its label window, as in ``label_churn``.
    test_size : int, default=1
        Number of distinct cutoffs in each test fold.

    See Also
    --------
    backtest : Fit and score a model on every fold.
    churnkit.label_churn : Builds the labels whose horizon this split respects.

    Notes
    -----
    The label of a row at cutoff ``c`` looks at ``[c + gap, c + gap + horizon)``.
    For a fold whose earliest test cutoff is ``t``, a row is in training iff
    ``c + gap + horizon <= t``: its label window closed by ``t``. Rows whose
    window reaches past ``t`` are dropped (they would use outcomes from the test
    period), so the rows between the training and the test cutoffs are in
    neither. Durations are Timedelta strings with a unit ("30D") or calendar
    offsets ("1MS"); a bare number such as "30" or a negative value is a
    :class:`~churnkit.SchemaError`.

    ``X`` must have a ``cutoff_time`` column (the cutoff table from
    ``label_churn``) or index level (feature builder output). Rows may be in any
    order; indices are positions.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnkit import CutoffSplit
    >>> X = pd.DataFrame({
    ...     "customer_id": [1, 2, 1, 2, 1, 2],
    ...     "cutoff_time": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 2
    ...                                   + ["2024-03-01"] * 2),
    ... })
    >>> cv = CutoffSplit(n_splits=1, horizon="1MS")
    >>> [(train.tolist(), test.tolist()) for train, test in cv.split(X)]
    [([0, 1, 2, 3], [4, 5])]
    """

    def __init__(self, n_splits=3, *, horizon, gap="0D", test_size=1):
        # A CV splitter is configuration, not a fitted estimator: it validates
        # eagerly (as sklearn's KFold does) so a bad horizon fails at once.
        self.n_splits = check_int(n_splits, "n_splits")
        self.test_size = check_int(test_size, "test_size")
        self.horizon = horizon
        self.gap = gap
        self._horizon = parse_duration(horizon, name="horizon", allow_zero=False)
        self._gap = parse_duration(gap, name="gap")

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of folds, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored, for compatibility.

        Returns
        -------
        int
        """
        return self.n_splits

    def _label_end(self, cutoffs: np.ndarray) -> np.ndarray:
        start = cutoffs if _is_zero(self._gap) else add_duration(cutoffs, self._gap)
        return add_duration(start, self._horizon)

    def _folds(self, X) -> list[tuple[np.ndarray, np.ndarray]]:
        _, times = read_cutoff_table(X, ids=False, caller="CutoffSplit")
        codes, uniques = pd.factorize(times, sort=True)
        uniques = np.asarray(uniques, dtype="datetime64[ns]")
        n_test = self.n_splits * self.test_size
        if len(uniques) < n_test + 1:
            raise SchemaError(
                f"CutoffSplit(n_splits={self.n_splits}, test_size={self.test_size}) "
                f"needs at least {n_test + 1} distinct cutoff times ({n_test} to "
                f"test on and earlier ones to train on); X has {len(uniques)}. Use "
                "fewer splits or more cutoffs."
            )
        label_end = self._label_end(uniques)
        folds = []
        for i in range(self.n_splits):
            lo = len(uniques) - (self.n_splits - i) * self.test_size
            test_cutoff = uniques[lo]
            train_cutoffs = label_end <= test_cutoff
            train = np.flatnonzero(train_cutoffs[codes])
            test = np.flatnonzero((codes >= lo) & (codes < lo + self.test_size))
            if len(train) == 0:
                raise SchemaError(
                    f"Fold {i} tests on cutoff {pd.Timestamp(test_cutoff)} but no "
                    "earlier cutoff has its label window (cutoff + gap + horizon = "
                    f"{self.gap!r} + {self.horizon!r}) closed by then, so there is "
                    "nothing to train on. Use fewer splits, or add earlier cutoffs."
                )
            folds.append((train, test))
        return folds

    def split(self, X, y=None, groups=None):
        """Generate (train, test) row positions, oldest test cutoff first.

        Parameters
        ----------
        X : DataFrame
            With a ``cutoff_time`` column or index level.
        y : array-like, default=None
            Ignored.
        groups : array-like, default=None
            Ignored.

        Yields
        ------
        train : ndarray of int
            Rows of earlier cutoffs whose label window closed by the test cutoff.
        test : ndarray of int
            Rows of the fold's test cutoff(s).
        """
        yield from self._folds(X)

    def _iter_test_indices(self, X=None, y=None, groups=None):
        for _, test in self._folds(X):
            yield test


def _take(data, rows):
    if data is None:
        return None
    if isinstance(data, (pd.DataFrame, pd.Series)):
        return data.iloc[rows]
    if hasattr(data, "shape"):
        return data[rows]
    return np.asarray(data)[rows]


def _fit_and_score(estimator, X, y, train, test):
    est = clone(estimator)
    est.fit(_take(X, train), _take(y, train))
    if not hasattr(est, "predict_proba"):
        raise ChurnkitTypeError(
            f"backtest needs an estimator with predict_proba; "
            f"{type(est).__name__} has none. Wrap it: ChurnClassifier(model=...)."
        )
    score = est.predict_proba(_take(X, test))[:, 1]
    y_test = np.asarray(_take(y, test))
    classes = getattr(est, "classes_", None)
    if classes is not None and len(classes) == 2:
        y_test = (y_test == classes[1]).astype(int)
    return evaluate(y_test, score)


def backtest(estimator, X, y, *, cv, n_jobs=None, progress=False) -> pd.DataFrame:
    """Fit a fresh clone of ``estimator`` on each fold and score its test rows.

    Parameters
    ----------
    estimator : estimator with predict_proba
        E.g. ``ChurnClassifier()`` or ``make_churn_pipeline(events)``; cloned
        for every fold.
    X : DataFrame
        The rows to split, with a ``cutoff_time`` column or index level when
        ``cv`` is a :class:`CutoffSplit`.
    y : array-like of shape (n_samples,)
        Labels, in the order of ``X``.
    cv : CutoffSplit, int or CV splitter
        The folds. An int means stratified k-fold (not forward in time).
    n_jobs : int or None, default=None
        Folds fitted in parallel (joblib); None means one at a time.
    progress : bool, default=False
        Show a tqdm progress bar over the folds.

    Returns
    -------
    DataFrame
        One row per fold, indexed by ``fold`` (0 = oldest): ``test_cutoff`` (the
        earliest test cutoff; NaT when X has none), ``last_train_cutoff``,
        ``n_train``, ``n_test``, then the metrics of :func:`churnkit.evaluate`
        on the test rows (``n``, ``positives``, ``base_rate``, ``roc_auc``,
        ``pr_auc``, ``log_loss``, ``brier``, ``ece``, lift and capture...).

    Examples
    --------
    >>> import churnkit as ck  # doctest: +SKIP
    >>> ck.backtest(ck.ChurnClassifier(), X, y,
    ...             cv=ck.CutoffSplit(3, horizon="30D"))  # doctest: +SKIP
    """
    from joblib import Parallel, delayed

    cv = check_cv(cv, y, classifier=True)
    folds = list(cv.split(X, y))
    _, times = read_cutoff_table(X, ids=False, required=False)
    folds_iter = progress_bar(folds, desc="backtest", unit="fold", enabled=progress)
    scores = Parallel(n_jobs=n_jobs)(
        delayed(_fit_and_score)(estimator, X, y, train, test)
        for train, test in folds_iter
    )
    rows = []
    for (train, test), metrics in zip(folds, scores, strict=True):
        info = {
            "test_cutoff": pd.NaT if times is None else pd.Timestamp(times[test].min()),
            "last_train_cutoff": (
                pd.NaT if times is None else pd.Timestamp(times[train].max())
            ),
            "n_train": len(train),
            "n_test": len(test),
        }
        rows.append({**info, **metrics.to_dict()})
    result = pd.DataFrame(rows)
    result.index.name = "fold"
    return result
