"""Explanation: SHAP values per account, and what a user reads from them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.exceptions import SchemaError
from churnkit.explain._cells import numeric_matrix
from churnkit.explain._describe import describe
from churnkit.explain._lookup import (
    check_k,
    check_points,
    index_columns,
    locate,
)
from churnkit.explain._points import probability_points
from churnkit.explain._reasons import (
    MIN_POINTS,
    NO_DRIVERS,
    NO_PROTECTIVE,
    ReasonRules,
    categorical_levels,
    plain_rows,
    strong_points,
    text_as_categories,
    typical_matrix,
)
from churnkit.explain._twins import (
    drop_restated,
    merge_twins,
    twin_positions,
    twin_sums,
)
from churnkit.explain._views import ExplanationViews
from churnkit.explain._whatif import WhatIf, keep_tested, top_cells

__all__ = ["Explanation"]

SCALES = ("log-odds", "probability")


class Explanation(ExplanationViews):
    """SHAP values of a churn model for a set of accounts, and what they say.

    Made by :meth:`ChurnExplainer.explain`; every table it returns is indexed
    like the explained features (``customer_id``, ``cutoff_time`` for a churn
    pipeline, the table's own index for a static table).

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_features)
        Contribution of each feature to the base model's log-odds of churn.
    base_values : ndarray of shape (n_samples,)
        The base value: ``base_values + values.sum(axis=1)`` is the margin.
    data : DataFrame of shape (n_samples, n_features)
        The features of the explained rows.
    calibrate : callable
        Margin -> calibrated churn probability (``ChurnClassifier.calibrate_margin``).
    descriptions : DataFrame, default=None
        ``[feature, group, template, ...]`` as from ``ck.describe_features``.
        Features it does not describe are in group ``"other"`` and read
        ``"<display name>: <value> (typical: <typical>)"``.
    reference : DataFrame, default=None
        Features of rows whose median defines "typical" when ``typical`` is
        None (the explainer's ``background``); None uses ``data``.
    model_kind : str, default=""
        "xgboost", "logistic" or "estimator" (shown by ``repr``).
    method : str, default=""
        How the values were computed: "tree_shap", "linear", "shap_exact" or
        "shap_permutation".
    typical : DataFrame, default=None
        The reference of each feature for each row (indexed like ``data``),
        e.g. the training median among accounts of the same tenure band.
    min_points : float, default=0.01
        Reason threshold in probability points (see Notes).
    currency : str, default=""
        Symbol put before money values ("$").
    numeric_levels : dict of str to list, default=None
        Numeric features read as levels (a ChurnClassifier's
        ``numeric_levels_``): compared like categorical ones when they have no
        direction; 0/1 ones read yes / no.
    twins : list of list of str, default=None
        Features that state one fact (a ChurnClassifier's ``twins_``: minutes
        and their charge): ranked as one reason, worded by the member with
        the most points, with the points of all (see :mod:`._twins`).
    margin_of : callable, default=None
        Feature table like ``data`` -> the base model's margin (the
        explainer passes the model's ``decision_function``): each reason is
        tested with it (see Notes); None shows reasons untested.

    Attributes
    ----------
    values : DataFrame
        Log-odds contributions, one column per feature.
    base_values : Series
        Base value of each row (log-odds).
    data : DataFrame
        Feature values.
    margin : Series
        ``base_values + values.sum(axis=1)``: the base model's log-odds
        (``decision_function``).
    probability : Series
        Calibrated churn probability, ``calibrate(margin)``.
    base_probability : Series
        ``calibrate(base_values)``.
    probability_values : DataFrame
        Contributions in probability points; ``base_probability +
        probability_values.sum(axis=1) == probability``.

    Notes
    -----
    **Probability points.** Calibration maps the margin ``m`` to ``p(m)``. Each
    row's change ``p(m) - p(base)`` is spread over the features in proportion to
    their log-odds contributions: ``probability_values = values * (p(m) -
    p(base)) / (m - base)``, the secant slope of the calibration map between
    the base value and the margin (its derivative when the two are within
    1e-6). The base probability ``p(base)`` is its own term, so the points add
    up to the calibrated probability exactly (up to float rounding), and each
    feature keeps the sign and the rank of its log-odds contribution.

    **Reasons.** A risk reason is a feature with a contribution > 0 whose
    value is on the risky side of its reference by its ``direction`` and does
    not read the same as it (a categorical feature: any level, the typical one
    reading "(most common)") and that moves the probability by at least
    ``min_points`` probability points (default 1 point), or by a tenth of the
    base probability when that is smaller (at a 3 % base rate, 0.3 points is
    strong); an account has reasons only when its probability is above the
    base probability. Else it has "No strong risk drivers". With
    ``margin_of``, a reason must also hold when tested: the account's row
    with that feature (all of a twin group) at its typical value scores a
    lower margin; one that does not (causes that stand in for each other:
    fewer service calls, and the day minutes drive the score higher) gives
    its place to the next. Protective reasons mirror this (contribution < 0,
    value on the safe side, a higher margin at the typical value). Numbers
    are formatted by unit (counts as integers, changes as %, money with
    separators), missing values phrased.

    **Typical.** The reference of a row is ``typical`` when given (the
    explainer passes the training medians of the row's tenure band, or a
    ChurnClassifier's ``typical_``); else the
    median (most frequent level) of the ``reference`` rows, else of the
    explained rows; with fewer than 30 such rows no "(typical: ...)".

    Examples
    --------
    >>> import pandas as pd
    >>> from scipy.special import expit
    >>> from churnkit import Explanation
    >>> data = pd.DataFrame({"logins": [2.0, 30.0], "tickets": [5.0, 0.0]},
    ...                     index=pd.Index(["C-1", "C-2"], name="customer_id"))
    >>> explanation = Explanation([[0.8, 0.4], [-0.6, -0.1]], [-1.0, -1.0],
    ...                           data, calibrate=expit)
    >>> explanation.probability.round(3).tolist()
    [0.55, 0.154]
    >>> explanation.reasons("C-1", k=1)
    ['Logins: 2']
    """

    def __init__(
        self,
        values,
        base_values,
        data,
        *,
        calibrate,
        descriptions=None,
        reference=None,
        model_kind="",
        method="",
        typical=None,
        min_points=MIN_POINTS,
        currency="",
        numeric_levels=None,
        twins=None,
        margin_of=None,
    ):
        self._values = np.asarray(values, dtype="float64")
        self._base = np.asarray(base_values, dtype="float64")
        self._data = data
        # columns read without the MultiIndex, text columns as categories
        self._plain = text_as_categories(plain_rows(data), (reference, typical))
        self._calibrate = calibrate
        self._reference = reference
        self._typical_frame = typical
        self._numeric_levels = dict(numeric_levels or {})
        self.min_points = check_points(min_points)
        self.currency = "" if currency is None else str(currency)
        self.model_kind = model_kind
        self.method = method
        self._names = [str(c) for c in data.columns]
        self._twins = twin_positions(self._names, twins)
        self._whatif = (
            None if margin_of is None else WhatIf(margin_of, data, self._twins)
        )
        self._describe(descriptions)
        self._proba = self._numeric_cache = self._rules_cache = None

    def _describe(self, descriptions):
        (
            self._groups,
            self._templates,
            self._units,
            self._directions,
            self._display,
            self._group_names,
        ) = describe(self._names, descriptions)

    # ------------------------------------------------------------ tables
    @property
    def feature_names(self) -> list:
        """The explained features, in column order."""
        return list(self._names)

    @property
    def groups(self) -> pd.Series:
        """Group of each feature (usage, billing, support, profile, other...)."""
        return pd.Series(self._groups, index=self._names, name="group")

    @property
    def index(self) -> pd.Index:
        """Index of the explained rows."""
        return self._data.index

    @property
    def values(self) -> pd.DataFrame:
        """Log-odds contributions: one row per account, one column per feature."""
        return pd.DataFrame(self._values, index=self.index, columns=self._names)

    @property
    def base_values(self) -> pd.Series:
        """Base value of each row, in log-odds."""
        return pd.Series(self._base, index=self.index, name="base_value")

    @property
    def data(self) -> pd.DataFrame:
        """The features of the explained rows."""
        return self._data

    @property
    def margin(self) -> pd.Series:
        """``base_values + values.sum(axis=1)``: the base model's log-odds."""
        return pd.Series(self._margin(), index=self.index, name="margin")

    @property
    def probability(self) -> pd.Series:
        """Calibrated churn probability of each row."""
        return pd.Series(self._probabilities()[2], index=self.index, name="probability")

    @property
    def base_probability(self) -> pd.Series:
        """Calibrated probability of the base value."""
        base = self._probabilities()[1]
        return pd.Series(base, index=self.index, name="base_probability")

    @property
    def probability_values(self) -> pd.DataFrame:
        """Contributions in probability points (see Notes)."""
        values = self._probabilities()[0]
        return pd.DataFrame(values, index=self.index, columns=self._names)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        n, p = self._values.shape
        base = float(np.mean(self._base)) if n else float("nan")
        hazard = str(self.model_kind) in ("survival cox", "survival linear")
        unit = "log relative hazard" if hazard else "log-odds"
        kind = f"model={self.model_kind!r}" + (
            f" ({self.method})" if self.method else ""
        )
        return (
            f"<Explanation: {n:,} account{'s' * (n != 1)} x {p} features, {kind}, "
            f"base value {base:+.3f} {unit}>"
        )

    def _margin(self) -> np.ndarray:
        return self._base + self._values.sum(axis=1)

    def _probabilities(self):
        """(probability points, base probability, probability), computed once."""
        if self._proba is None:
            self._proba = probability_points(self._values, self._base, self._calibrate)
        return self._proba

    def _scaled(self, scale) -> np.ndarray:
        if scale not in SCALES:
            raise SchemaError(
                f"`scale` must be 'log-odds' or 'probability'; got {scale!r}."
            )
        return self._values if scale == "log-odds" else self._probabilities()[0]

    # ------------------------------------------------------------ cells
    def _numeric(self) -> np.ndarray:
        """Feature values as floats (categorical columns: level codes, NaN missing)."""
        if self._numeric_cache is None:
            self._numeric_cache = numeric_matrix(self._plain)
        return self._numeric_cache

    def _is_categorical(self, j) -> bool:
        dtype = self._plain[self._names[j]].dtype
        return not pd.api.types.is_numeric_dtype(dtype) or isinstance(
            dtype, pd.CategoricalDtype
        )

    def _cells(self, rows, cols) -> np.ndarray:
        """The feature values at (rows, cols), an object array."""
        out = self._numeric()[rows, cols].astype(object)
        for j in np.unique(cols):
            if self._is_categorical(j):
                mask = cols == j
                column = self._plain[self._names[j]].to_numpy(dtype=object)
                out[mask] = column[rows[mask]]
        return out

    def _rules(self) -> ReasonRules:
        if self._rules_cache is None:
            self._rules_cache = ReasonRules(
                self._numeric(),
                typical_matrix(
                    self._plain, self._typical_frame, self._reference, len(self)
                ),
                categorical_levels(self._plain),
                self._templates,
                self._units,
                self._directions,
                self._display,
                currency=self.currency,
                numeric_levels=[self._numeric_levels.get(n) for n in self._names],
            )
        return self._rules_cache

    # ------------------------------------------------------------ drivers
    def _ranked(self, rows, k, protective, min_points=None):
        """(row, column, rank) of the top-k reasons of each row in ``rows``."""
        k = check_k(k, len(self._names))
        points = self.min_points if min_points is None else check_points(min_points)
        rows = np.asarray(rows)
        sign = -1.0 if protective else 1.0
        P, p0, prob = self._probabilities()
        S, Ps, allowed = merge_twins(  # one fact, one reason
            sign * self._values[rows],
            sign * P[rows],
            self._rules().admissible(rows, sign),
            self._twins,
        )
        # every reason moves the probability by the strong amount: a weak one
        # (0.08 points) in slot 3 is noise a customer-success manager acts on
        allowed &= (S > 0) & (Ps >= strong_points(points, p0[rows])[:, None])
        if not protective:
            allowed &= (prob[rows] > p0[rows])[:, None]
        S = np.where(allowed, S, -np.inf)
        groups = pd.factorize(self._groups)[0]
        shown = self._rules().shown_numbers(rows)

        def restate(S):
            return drop_restated(S, shown, groups, k)

        if self._whatif is None:
            S = restate(S)
        else:  # the score falls (rises) with the typical value, or no reason
            S = keep_tested(S, k, self._tester(rows, sign), restate)
        idx, keep = top_cells(S, k)
        ranks = np.cumsum(keep, axis=1)
        positions = np.broadcast_to(rows[:, None], idx.shape)
        return positions[keep], idx[keep], ranks[keep]

    def _tester(self, rows, sign):
        rules = self._rules()
        return lambda i, j: self._whatif.holds(rows[i], j, sign, rules)

    def top_drivers(
        self, k=3, *, protective=False, scale="log-odds", min_points=None
    ) -> pd.DataFrame:
        """The top ``k`` risk reasons of every account, one row each.

        Only drivers that pass the reason rules are listed (see Notes): an
        account with none (its risk is at or below the base probability, or no
        driver moves it by ``min_points``) has no row.

        Parameters
        ----------
        k : int, default=3
            Reasons per account (fewer when fewer drivers pass the rules).
        protective : bool, default=False
            List the risk-lowering features (contribution < 0, most negative
            first, values on the safe side of their reference) instead.
        scale : {"log-odds", "probability"}, default="log-odds"
            Unit of the ``contribution`` column. The ranking is the same.
        min_points : float, default=None
            Smallest contribution, in probability points (0.01 = 1 point), of
            a reason; None uses the explanation's ``min_points``.

        Returns
        -------
        DataFrame
            The index levels of the explained rows as columns (``customer_id``,
            ``cutoff_time``; an unnamed index becomes ``customer_id``), then
            ``rank`` (1 = strongest), ``feature``, ``value``, ``contribution``,
            ``group``, ``reason`` (a sentence), ``display_name``, ``reference``
            (the "typical" value), and ``value_text``, ``reference_text`` (both
            as shown in the sentence). Accounts in row order.
        """
        V = self._scaled(scale)
        rows, cols, ranks = self._ranked(
            np.arange(len(self)), k, protective, min_points
        )
        frame = index_columns(self.index, rows)
        frame["rank"] = ranks.astype("int64")
        frame["feature"] = np.asarray(self._names, dtype=object)[cols]
        frame["value"] = self._cells(rows, cols)
        frame["contribution"] = twin_sums(V, rows, cols, self._twins)
        frame["group"] = self._groups[cols]
        reason, vtext, ttext = self._rules().sentences(rows, cols)
        frame["reason"] = reason
        frame["display_name"] = self._display[cols]
        frame["reference"] = self._rules().reference_cells(rows, cols)
        frame["value_text"] = vtext
        frame["reference_text"] = ttext
        return pd.DataFrame(frame)

    def reasons(
        self, customer_id, cutoff_time=None, *, k=3, protective=False, min_points=None
    ) -> list:
        """The account's strongest risk reasons, as sentences.

        Parameters
        ----------
        customer_id : object
            The account: a ``customer_id`` (churn pipeline) or, for a static
            table, the row's index label.
        cutoff_time : str or Timestamp, default=None
            Which cutoff; None takes the account's latest explained cutoff.
        k : int or None, default=3
            At most this many sentences; None gives all of them.
        protective : bool, default=False
            The risk-lowering drivers instead (see :meth:`protective`).
        min_points : float, default=None
            Smallest contribution of a reason in probability points; None
            uses the explanation's ``min_points``.

        Returns
        -------
        list of str
            Strongest first, each with its reference, e.g. ``"Usage changed
            -62% vs the previous 30 days (typical: +3%)"``;
            ``["No strong risk drivers"]`` when no driver passes the rules
            (see Notes of :class:`Explanation`).
        """
        row = self._locate(customer_id, cutoff_time)
        rows, cols, _ = self._ranked(np.array([row]), k, protective, min_points)
        if not len(rows):
            return [NO_PROTECTIVE if protective else NO_DRIVERS]
        return [str(s) for s in self._rules().sentences(rows, cols)[0]]

    def protective(self, customer_id, cutoff_time=None, *, k=3) -> list:
        """The account's strongest risk-lowering drivers, as sentences.

        Same as ``reasons(customer_id, cutoff_time, k=k, protective=True)``.

        Parameters
        ----------
        customer_id : object
            The account: a ``customer_id`` (churn pipeline) or, for a static
            table, the row's index label.
        cutoff_time : str or Timestamp, default=None
            Which cutoff; None takes the account's latest explained cutoff.
        k : int or None, default=3
            At most this many sentences; None gives all of them.

        Returns
        -------
        list of str
            The features with a contribution < 0, most negative first, whose
            values are on the safe side of their reference, as sentences;
            ``["No strong protective drivers"]`` when there are none.

        Examples
        --------
        >>> import pandas as pd
        >>> from scipy.special import expit
        >>> from churnkit import Explanation
        >>> data = pd.DataFrame({"logins": [2.0, 30.0], "tickets": [5.0, 0.0]},
        ...                     index=pd.Index(["C-1", "C-2"], name="customer_id"))
        >>> explanation = Explanation([[0.8, 0.4], [-0.6, -0.1]], [-1.0, -1.0],
        ...                           data, calibrate=expit)
        >>> explanation.protective("C-2")
        ['Logins: 30', 'Tickets: 0']
        """
        return self.reasons(customer_id, cutoff_time, k=k, protective=True)

    def _locate(self, customer_id, cutoff_time) -> int:
        """Position of the account's row (latest cutoff when none is given)."""
        return locate(self.index, customer_id, cutoff_time)
