"""Explanation: SHAP values per account, and what a user reads from them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit._validation import CUTOFF_TIME
from churnkit.exceptions import (
    AccountNotFoundError,
    ChurnkitTypeError,
    SchemaError,
)
from churnkit.explain._text import Phrase, format_value

__all__ = ["Explanation"]

SCALES = ("log-odds", "probability")
GROUP_ORDER = ("usage", "billing", "support", "profile")
OTHER_GROUP = "other"  #: group of features without a description
MIN_REFERENCE_ROWS = 30  #: fewer reference rows: sentences show no "typical"


class Explanation:
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
        ``"Value of <feature>: <value> (typical: <typical>)"``.
    reference : DataFrame, default=None
        Features of the rows that define "typical" (the explainer's
        ``background``); None uses ``data``.
    model_kind : str, default=""
        "xgboost", "logistic" or "estimator" (shown by ``repr``).
    method : str, default=""
        How the values were computed: "tree_shap", "linear", "shap_exact" or
        "shap_permutation".

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

    **Drivers.** Risk-raising drivers are the features with a contribution
    > 0, by decreasing log-odds contribution; protective ones those < 0, by
    increasing contribution. Ranks are the same in probability points.

    **Typical.** Sentences compare the account's value to the median of the
    feature (its most frequent level for categorical features) over the
    ``reference`` rows: the explainer's ``background`` when it was given one,
    otherwise the explained rows. With fewer than 30 reference rows the
    "(typical: ...)" part is left out. Missing values read "unknown" ("last
    'login': never" for days-since features).

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
    ['Value of logins: 2.0']
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
    ):
        self._values = np.asarray(values, dtype="float64")
        self._base = np.asarray(base_values, dtype="float64")
        self._data = data
        self._calibrate = calibrate
        self._reference = reference
        self.model_kind = model_kind
        self.method = method
        self._names = [str(c) for c in data.columns]
        self._describe(descriptions)
        self._proba = None
        self._numeric_cache = None
        self._phrases = {}

    def _describe(self, descriptions):
        groups = np.full(len(self._names), OTHER_GROUP, dtype=object)
        templates = np.full(len(self._names), None, dtype=object)
        if descriptions is not None and len(descriptions):
            desc = pd.DataFrame(descriptions).drop_duplicates("feature", keep="last")
            desc = desc.set_index("feature").reindex(self._names)
            if "group" in desc:
                known = desc["group"].notna().to_numpy()
                groups[known] = desc["group"].to_numpy(dtype=object)[known]
            if "template" in desc:
                templates = desc["template"].to_numpy(dtype=object)
        self._groups = groups
        self._templates = templates
        present = list(dict.fromkeys(groups))
        self._group_names = [g for g in GROUP_ORDER if g in present] + sorted(
            g for g in present if g not in GROUP_ORDER
        )

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
        kind = f"model={self.model_kind!r}" + (
            f" ({self.method})" if self.method else ""
        )
        return (
            f"<Explanation: {n:,} account{'s' * (n != 1)} x {p} features, {kind}, "
            f"base value {base:+.3f} log-odds>"
        )

    def _margin(self) -> np.ndarray:
        return self._base + self._values.sum(axis=1)

    def _probabilities(self):
        """(probability points, base probability, probability), computed once."""
        if self._proba is None:
            margin = self._margin()
            p = np.asarray(self._calibrate(margin), dtype="float64")
            p0 = np.asarray(self._calibrate(self._base), dtype="float64")
            delta = margin - self._base
            close = np.abs(delta) < 1e-6
            slope = np.empty_like(delta)
            with np.errstate(invalid="ignore", divide="ignore"):
                slope[~close] = (p - p0)[~close] / delta[~close]
            if close.any():
                h = 1e-4
                m = margin[close]
                up = np.asarray(self._calibrate(m + h), dtype="float64")
                down = np.asarray(self._calibrate(m - h), dtype="float64")
                slope[close] = (up - down) / (2 * h)
            self._proba = (self._values * slope[:, None], p0, p)
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
            cols = []
            for name in self._names:
                col = self._data[name]
                if isinstance(col.dtype, pd.CategoricalDtype):
                    codes = col.cat.codes.to_numpy().astype("float64")
                    codes[codes < 0] = np.nan
                    cols.append(codes)
                elif pd.api.types.is_numeric_dtype(col.dtype):
                    cols.append(col.to_numpy(dtype="float64", na_value=np.nan))
                else:
                    cols.append(np.full(len(col), np.nan))
            self._numeric_cache = (
                np.column_stack(cols) if cols else np.empty((len(self), 0))
            )
        return self._numeric_cache

    def _is_categorical(self, j) -> bool:
        dtype = self._data[self._names[j]].dtype
        return not pd.api.types.is_numeric_dtype(dtype) or isinstance(
            dtype, pd.CategoricalDtype
        )

    def _cells(self, rows, cols) -> np.ndarray:
        """The feature values at (rows, cols), an object array."""
        out = self._numeric()[rows, cols].astype(object)
        for j in np.unique(cols):
            if self._is_categorical(j):
                mask = cols == j
                column = self._data[self._names[j]].to_numpy(dtype=object)
                out[mask] = column[rows[mask]]
        return out

    def _typical(self, j):
        ref = self._data if self._reference is None else self._reference
        if len(ref) < MIN_REFERENCE_ROWS or self._names[j] not in ref:
            return np.nan
        col = ref[self._names[j]]
        if self._is_categorical(j):
            mode = col.mode(dropna=True)
            return mode.iloc[0] if len(mode) else np.nan
        values = col.to_numpy(dtype="float64", na_value=np.nan)
        values = values[~np.isnan(values)]
        return float(np.median(values)) if len(values) else np.nan

    def _phrase(self, j) -> Phrase:
        if j not in self._phrases:
            self._phrases[j] = Phrase(
                self._names[j], self._templates[j], self._typical(j)
            )
        return self._phrases[j]

    def _sentences(self, rows, cols) -> np.ndarray:
        out = np.empty(len(rows), dtype=object)
        numeric = self._numeric()
        for j in np.unique(cols):
            mask = cols == j
            if self._is_categorical(j):
                column = self._data[self._names[j]].to_numpy(dtype=object)
                values = column[rows[mask]]
            else:
                values = numeric[rows[mask], j]
            out[mask] = self._phrase(j).many(values)
        return out

    # ------------------------------------------------------------ drivers
    def _ranked(self, rows, k, protective):
        """(row, column, rank) of the top-k drivers of each row in ``rows``."""
        k = _check_k(k, len(self._names))
        all_rows = len(rows) == len(self) and np.array_equal(rows, np.arange(len(self)))
        V = self._values if all_rows else self._values[rows]
        S = -V if protective else V
        if k < S.shape[1]:
            idx = np.argpartition(S, S.shape[1] - k, axis=1)[:, -k:]
        else:
            idx = np.broadcast_to(np.arange(S.shape[1]), S.shape)
        top = np.take_along_axis(S, idx, axis=1)
        order = np.argsort(-top, axis=1, kind="stable")
        idx = np.take_along_axis(idx, order, axis=1)
        keep = np.take_along_axis(top, order, axis=1) > 0
        positions = np.broadcast_to(np.asarray(rows)[:, None], idx.shape)
        ranks = np.broadcast_to(np.arange(1, idx.shape[1] + 1), idx.shape)
        return positions[keep], idx[keep], ranks[keep]

    def top_drivers(self, k=3, *, protective=False, scale="log-odds") -> pd.DataFrame:
        """The top ``k`` risk-raising drivers of every account, one row each.

        Parameters
        ----------
        k : int, default=3
            Drivers per account (fewer when fewer features raise the risk).
        protective : bool, default=False
            List the risk-lowering features (contribution < 0, most negative
            first) instead.
        scale : {"log-odds", "probability"}, default="log-odds"
            Unit of the ``contribution`` column. The ranking is the same.

        Returns
        -------
        DataFrame
            The index levels of the explained rows as columns (``customer_id``,
            ``cutoff_time``; an unnamed index becomes ``customer_id``), then
            ``rank`` (1 = strongest), ``feature``, ``value``, ``contribution``,
            ``group`` and ``reason`` (a sentence). Accounts in row order.
        """
        V = self._scaled(scale)
        rows, cols, ranks = self._ranked(np.arange(len(self)), k, protective)
        frame = _index_columns(self.index, rows)
        frame["rank"] = ranks.astype("int64")
        frame["feature"] = np.asarray(self._names, dtype=object)[cols]
        frame["value"] = self._cells(rows, cols)
        frame["contribution"] = V[rows, cols]
        frame["group"] = self._groups[cols]
        frame["reason"] = self._sentences(rows, cols)
        return pd.DataFrame(frame)

    def reasons(self, customer_id, cutoff_time=None, *, k=3, protective=False) -> list:
        """The account's strongest risk-raising drivers, as sentences.

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

        Returns
        -------
        list of str
            Strongest first, e.g. ``"Usage changed -62% vs the previous 30 days
            (typical: +3%)"``. Empty when nothing raises the risk.
        """
        row = self._locate(customer_id, cutoff_time)
        rows, cols, _ = self._ranked(np.array([row]), k, protective)
        return [str(s) for s in self._sentences(rows, cols)]

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
            The features with a contribution < 0, most negative first, as
            sentences. Empty when nothing lowers the risk.

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
        ['Value of logins: 30.0', 'Value of tickets: 0.0']
        """
        return self.reasons(customer_id, cutoff_time, k=k, protective=True)

    def _locate(self, customer_id, cutoff_time) -> int:
        """Position of the account's row (latest cutoff when none is given)."""
        index = self.index
        names = list(index.names)
        if (
            isinstance(index, pd.MultiIndex)
            and CUTOFF_TIME in names
            and index.nlevels == 2
        ):
            id_level = 1 - names.index(CUTOFF_TIME)
            pos = np.flatnonzero(index.get_level_values(id_level) == customer_id)
            if not len(pos):
                raise AccountNotFoundError(
                    _missing_account(customer_id, index, id_level)
                )
            times = index.get_level_values(CUTOFF_TIME)[pos]
            if cutoff_time is None:
                return int(pos[np.argmax(times.to_numpy())])
            try:
                when = pd.Timestamp(cutoff_time)
            except (TypeError, ValueError):
                raise SchemaError(
                    f"`cutoff_time` must be a date such as '2025-01-01'; got "
                    f"{cutoff_time!r}."
                ) from None
            match = pos[times == when]
            if not len(match):
                shown = ", ".join(str(t.date()) for t in times.sort_values()[:5])
                raise AccountNotFoundError(
                    f"Account {customer_id!r} has no explained row at cutoff "
                    f"{str(cutoff_time)!r}; its cutoffs are: {shown}."
                )
            return int(match[-1])
        if cutoff_time is not None:
            raise ChurnkitTypeError(
                f"`cutoff_time` applies to rows indexed by (customer_id, "
                f"cutoff_time); these rows are indexed by {names}. Call "
                f"reasons({customer_id!r}) without it."
            )
        pos = np.flatnonzero(index == customer_id) if index.nlevels == 1 else []
        if not len(pos):
            raise AccountNotFoundError(_missing_account(customer_id, index, None))
        return int(pos[-1])

    # ------------------------------------------------------------ summaries
    def by_group(self, *, scale="log-odds") -> pd.DataFrame:
        """Total contribution of each group of features, per account.

        Parameters
        ----------
        scale : {"log-odds", "probability"}, default="log-odds"

        Returns
        -------
        DataFrame
            Indexed like the features; one column per group (usage, billing,
            support, profile, then any other) summing its features'
            contributions, so the columns add up like the features do.
        """
        V = self._scaled(scale)
        G = (self._groups[:, None] == np.asarray(self._group_names)[None, :]).astype(
            "float64"
        )
        return pd.DataFrame(V @ G, index=self.index, columns=self._group_names)

    def global_importance(self, *, by="feature", scale="log-odds") -> pd.DataFrame:
        """Mean absolute contribution over the explained accounts.

        Parameters
        ----------
        by : {"feature", "group"}, default="feature"
            Per feature (with its group), or per group: the mean over accounts
            of the absolute group total (see :meth:`by_group`), so features of
            one group that cancel out count for little.
        scale : {"log-odds", "probability"}, default="log-odds"

        Returns
        -------
        DataFrame
            ``feature, group, importance`` (or ``group, importance``), sorted by
            decreasing ``importance``; ``share`` is importance / its total.
        """
        if by == "feature":
            imp = np.abs(self._scaled(scale)).mean(axis=0) if len(self) else 0.0
            frame = pd.DataFrame(
                {"feature": self._names, "group": self._groups, "importance": imp}
            )
        elif by == "group":
            totals = self.by_group(scale=scale)
            frame = pd.DataFrame(
                {"group": totals.columns, "importance": totals.abs().mean().to_numpy()}
            )
        else:
            raise SchemaError(f"`by` must be 'feature' or 'group'; got {by!r}.")
        total = frame["importance"].sum()
        frame["share"] = frame["importance"] / total if total > 0 else 0.0
        frame = frame.sort_values("importance", ascending=False, kind="stable")
        return frame.reset_index(drop=True)

    def to_shap(self, *, scale="log-odds"):
        """The explanation as a :class:`shap.Explanation`, for every shap plot.

        Parameters
        ----------
        scale : {"log-odds", "probability"}, default="log-odds"

        Returns
        -------
        shap.Explanation
            ``values`` (n_samples, n_features), 1-D ``base_values``, ``data``
            (numbers; categorical features as level codes), ``display_data``
            (the values as shown, when there are categorical features) and
            ``feature_names``.
        """
        import shap

        values = self._scaled(scale)
        base = self._base if scale == "log-odds" else self._probabilities()[1]
        categorical = [j for j in range(len(self._names)) if self._is_categorical(j)]
        display = None
        if categorical:
            display = self._numeric().astype(object)
            for j in categorical:
                display[:, j] = self._data[self._names[j]].to_numpy(dtype=object)
        return shap.Explanation(
            values=values.copy(),
            base_values=base.copy(),
            data=self._numeric().copy(),
            display_data=display,
            feature_names=list(self._names),
        )

    # ------------------------------------------------------------ plots
    def plot(
        self,
        customer_id,
        cutoff_time=None,
        *,
        ax=None,
        max_display=10,
        scale="log-odds",
    ):
        """Waterfall of one account: from the base value to its prediction.

        Parameters
        ----------
        customer_id, cutoff_time :
            The account, as in :meth:`reasons`.
        ax : matplotlib.axes.Axes, default=None
            Where to draw; None draws on ``plt.gca()``.
        max_display : int, default=10
            Bars shown; the remaining features share one bar.
        scale : {"log-odds", "probability"}, default="log-odds"

        Returns
        -------
        matplotlib.axes.Axes
            The Axes drawn on.
        """
        from churnkit.explain._plots import waterfall

        row = self._locate(customer_id, cutoff_time)
        V = self._scaled(scale)[row]
        base = self._base[row] if scale == "log-odds" else self._probabilities()[1][row]
        cells = self._cells(np.full(len(self._names), row), np.arange(len(self._names)))
        labels = [
            f"{name} = {format_value(t, v)}"
            for name, t, v in zip(self._names, self._templates, cells, strict=True)
        ]
        prob = self._probabilities()[2][row]
        return waterfall(
            V,
            float(base),
            labels,
            ax=ax,
            max_display=_check_k(max_display, None),
            title=f"{_row_label(self.index[row])}: churn probability {prob:.1%}",
            xlabel="log-odds of churn" if scale == "log-odds" else "churn probability",
        )

    def plot_global(self, *, ax=None, by="feature", max_display=20, scale="log-odds"):
        """Bar chart of :meth:`global_importance`, strongest on top.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Where to draw; None draws on ``plt.gca()``.
        by : {"feature", "group"}, default="feature"
        max_display : int, default=20
            Bars shown (the strongest).
        scale : {"log-odds", "probability"}, default="log-odds"

        Returns
        -------
        matplotlib.axes.Axes
            The Axes drawn on.
        """
        from churnkit.explain._plots import importance_bars

        frame = self.global_importance(by=by, scale=scale)
        frame = frame.head(_check_k(max_display, None))
        labels = frame["feature" if by == "feature" else "group"].tolist()
        unit = "log-odds" if scale == "log-odds" else "probability points"
        return importance_bars(
            frame["importance"].to_numpy(),
            labels,
            frame["group"].tolist(),
            ax=ax,
            xlabel=f"mean |contribution| ({unit})",
        )


def _check_k(k, n_features):
    if k is None and n_features is not None:
        return n_features
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise SchemaError(f"`k` must be a positive integer; got {k!r}.")
    return int(k) if n_features is None else min(int(k), max(n_features, 1))


def _index_columns(index: pd.Index, rows) -> dict:
    names = list(index.names)
    if len(names) == 1 and names[0] is None:
        names = ["customer_id"]
    out = {}
    for level, name in enumerate(names):
        values = index.get_level_values(level)[rows]
        out[name if name is not None else f"level_{level}"] = values
    return out


def _row_label(key) -> str:
    parts = key if isinstance(key, tuple) else (key,)
    out = []
    for part in parts:
        if isinstance(part, pd.Timestamp) and part == part.normalize():
            out.append(str(part.date()))
        else:
            out.append(str(part))
    return " at ".join(out)


def _missing_account(customer_id, index, level) -> str:
    ids = index.get_level_values(level) if level is not None else index
    examples = ", ".join(repr(v) for v in pd.unique(np.asarray(ids))[:3])
    return (
        f"Account {customer_id!r} is not among the {len(index):,} explained rows "
        f"(e.g. {examples}). Explain rows that include it: "
        "explainer.explain(X[X['customer_id'] == ...])."
    )
