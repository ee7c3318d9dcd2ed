"""ScoreChange: what :func:`explain_change` returns, and what a user reads from it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.exceptions import AccountNotFoundError, SchemaError
from churnkit.explain._change_reasons import group_onehot, group_sentences, join, top_k
from churnkit.explain._format import format_numbers
from churnkit.explain._lookup import check_k, check_points
from churnkit.explain._text import is_days_ago

__all__ = ["ScoreChange"]

DIRECTIONS = ("both", "up", "down")
NO_MOVERS = "No group of features moved the risk by {points:g} point(s) or more"


class ScoreChange:
    """Per-account changes in churn risk, split exactly into features.

    Made by :func:`churnkit.explain_change`; tables are indexed by
    ``customer_id``. All contributions are in probability points (0.01 = 1
    point).

    Parameters
    ----------
    values : DataFrame
        Probability points of each feature's part of the change (the data
        part when two models are compared).
    log_odds : DataFrame
        The change of each feature's log-odds contribution (the model that
        scored ``after``).
    probability_before, probability_after : Series
        Calibrated churn probabilities at the two scorings.
    base_change : Series
        Points from a change of the explainer's base value (0 for one model
        on one reference).
    model_change : Series
        Points due to the change of model (0 with one model).
    data_before, data_after : DataFrame
        Feature values at the two scorings.
    cutoffs : tuple of (DatetimeIndex or None, DatetimeIndex or None)
        Cutoff times of each account before and after, when known.
    descriptions : DataFrame
        ``[feature, group, display_name, unit, template]``.

    Attributes
    ----------
    values : DataFrame
        Per-feature points; ``values.sum(axis=1) + base_change +
        model_change == change`` (to float rounding).
    change : Series
        ``probability_after - probability_before``.
    data_change : Series
        The part of the change due to the data: ``change - model_change``.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnkit import ScoreChange
    >>> idx = pd.Index(["C-1"], name="customer_id")
    >>> values = pd.DataFrame({"logins": [0.15], "tickets": [0.03]}, index=idx)
    >>> zero = pd.Series([0.0], index=idx)
    >>> desc = pd.DataFrame({"feature": ["logins", "tickets"],
    ...                      "group": ["usage", "support"],
    ...                      "display_name": ["Logins", "Tickets"],
    ...                      "unit": ["logins", "tickets"], "template": None})
    >>> change = ScoreChange(values, values * 5, pd.Series([0.1], index=idx),
    ...     pd.Series([0.28], index=idx), zero, zero,
    ...     pd.DataFrame({"logins": [40.0], "tickets": [0.0]}, index=idx),
    ...     pd.DataFrame({"logins": [6.0], "tickets": [2.0]}, index=idx),
    ...     (None, None), desc)
    >>> change.reasons("C-1")
    ['Logins: 40 → 6 (+15.0 pts)', 'Tickets: 0 → 2 (+3.0 pts)']
    """

    def __init__(
        self,
        values,
        log_odds,
        probability_before,
        probability_after,
        base_change,
        model_change,
        data_before,
        data_after,
        cutoffs,
        descriptions,
    ):
        self._values = values
        self._log_odds = log_odds
        self._before = probability_before.rename("probability_before")
        self._after = probability_after.rename("probability_after")
        self._base = base_change.rename("base_change")
        self._model = model_change.rename("model_change")
        self._data_before = data_before
        self._data_after = data_after
        self._cutoffs = cutoffs
        desc = descriptions.set_index("feature").reindex(list(values.columns))
        self._groups = desc["group"].fillna("other").to_numpy(dtype=object)
        self._display = desc["display_name"].to_numpy(dtype=object)
        self._units = desc["unit"].to_numpy(dtype=object)
        self._templates = desc["template"].to_numpy(dtype=object)
        self._group_names, self._onehot = group_onehot(self._groups)
        self._texts = None

    # ------------------------------------------------------------ tables
    @property
    def index(self) -> pd.Index:
        """The compared accounts (``customer_id``)."""
        return self._values.index

    @property
    def values(self) -> pd.DataFrame:
        """Probability points of each feature's part of the change."""
        return self._values

    @property
    def log_odds_values(self) -> pd.DataFrame:
        """Change of each feature's log-odds contribution."""
        return self._log_odds

    @property
    def probability_before(self) -> pd.Series:
        """Calibrated churn probability at the first scoring."""
        return self._before

    @property
    def probability_after(self) -> pd.Series:
        """Calibrated churn probability at the second scoring."""
        return self._after

    @property
    def change(self) -> pd.Series:
        """``probability_after - probability_before``, in probability points."""
        return (self._after - self._before).rename("change")

    @property
    def base_change(self) -> pd.Series:
        """Points from a change of the base value (0 for one model)."""
        return self._base

    @property
    def model_change(self) -> pd.Series:
        """Points due to the change of model (0 when one model scored both)."""
        return self._model

    @property
    def data_change(self) -> pd.Series:
        """Points due to the data: ``change - model_change``."""
        return (self.change - self._model).rename("data_change")

    @property
    def data_before(self) -> pd.DataFrame:
        """Feature values at the first scoring."""
        return self._data_before

    @property
    def data_after(self) -> pd.DataFrame:
        """Feature values at the second scoring."""
        return self._data_after

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        n, p = self._values.shape
        up = int((self.change > 0).sum())
        return (
            f"<ScoreChange: {n:,} account{'s' * (n != 1)} x {p} features, "
            f"{up:,} up, {n - up:,} not up, mean change "
            f"{100 * float(self.change.mean()) if n else 0.0:+.2f} pts>"
        )

    def by_group(self) -> pd.DataFrame:
        """The change of every account summed by feature group.

        Returns
        -------
        DataFrame
            One column per group (usage, billing, support, profile, ...), in
            probability points; with ``base_change`` and ``model_change``
            they add up to ``change``.
        """
        return pd.DataFrame(
            self._values.to_numpy() @ self._onehot,
            index=self.index,
            columns=pd.Index(self._group_names.tolist()),
        )

    # ------------------------------------------------------------ reasons
    def _value_texts(self):
        if self._texts is None:
            before, after = [], []
            for j, name in enumerate(self._values.columns):
                for frame, out in (
                    (self._data_before, before),
                    (self._data_after, after),
                ):
                    out.append(_texts(frame[name], self._units[j], self._templates[j]))
            self._texts = (np.column_stack(before), np.column_stack(after))
        return self._texts

    def _sign(self, rows, direction) -> np.ndarray:
        if direction == "both":
            return np.sign(self.change.to_numpy()[rows])
        return np.full(len(rows), 1.0 if direction == "up" else -1.0)

    def _ranked(self, rows, k, min_points, direction):
        """(row, column, rank) of each row's top features, in change's direction."""
        rows = np.asarray(rows)
        S = self._values.to_numpy()[rows] * self._sign(rows, direction)[:, None]
        pos, cols, ranks = top_k(S, k, min_points)
        return rows[pos], cols, ranks

    def _group_reasons(self, rows, k, min_points, direction) -> dict:
        """Each row's top groups in the change's direction, with their sentences."""
        rows = np.asarray(rows)
        sign = self._sign(rows, direction)
        V = self._values.to_numpy()[rows]
        G = V @ self._onehot
        pos, groups, ranks = top_k(G * sign[:, None], k, min_points)
        at = rows[pos]
        totals = G[pos, groups]
        # name the members whose shown value changed ("0 → 0" explains no
        # move: its points come from interactions); all when none did
        whole = self._onehot[:, groups].T.astype(bool)
        before, after = self._value_texts()
        moved = whole & (before[at] != after[at])
        members = np.where(moved.any(axis=1)[:, None], moved, whole)
        sentences, feature, contributors = group_sentences(
            V[pos],
            sign[pos],
            members,
            totals,
            np.char.capitalize(self._group_names[groups].astype(str)),
            lambda pairs, cols: self._sentences(at[pairs], cols),
            whole,
        )
        return {
            "row": at,
            "rank": ranks,
            "group": self._group_names[groups],
            "points": totals,
            "feature": feature,
            "contributors": contributors,
            "reason": sentences,
        }

    def _sentences(self, rows, cols) -> np.ndarray:
        before, after = self._value_texts()
        points = np.char.mod("%+.1f", self._values.to_numpy()[rows, cols] * 100)
        return join(
            self._display[cols],
            ": ",
            before[rows, cols],
            " → ",
            after[rows, cols],
            " (",
            points,
            " pts)",
        )

    def top_features(self, k=3, *, direction="both", min_points=0.01) -> pd.DataFrame:
        """The features that moved each account's risk most, one row each.

        Parameters
        ----------
        k : int, default=3
            Features per account (fewer when fewer pass ``min_points``).
        direction : {"both", "up", "down"}, default="both"
            "both": features pushing in the direction of the account's own
            change; "up": those that raised the risk; "down": lowered it.
        min_points : float, default=0.01
            Smallest part of the change, in probability points, listed.

        Returns
        -------
        DataFrame
            ``customer_id``, ``rank`` (1 = largest), ``feature``,
            ``display_name``, ``group``, ``value_before``, ``value_after``,
            ``points`` and ``reason`` (a sentence).
        """
        k = check_k(k, self._values.shape[1])
        direction = _direction(direction)
        min_points = check_points(min_points)
        rows, cols, ranks = self._ranked(np.arange(len(self)), k, min_points, direction)
        return pd.DataFrame(
            {
                "customer_id": self.index.to_numpy()[rows],
                "rank": ranks.astype("int64"),
                "feature": self._values.columns.to_numpy()[cols],
                "display_name": self._display[cols],
                "group": self._groups[cols],
                "value_before": self._data_before.to_numpy(dtype=object)[rows, cols],
                "value_after": self._data_after.to_numpy(dtype=object)[rows, cols],
                "points": self._values.to_numpy()[rows, cols],
                "reason": self._sentences(rows, cols),
            }
        )

    def top_reasons(self, k=3, *, direction="both", min_points=0.01) -> pd.DataFrame:
        """The groups of features that moved each account's risk most, one row each.

        A reason is a feature group (usage, billing, support, ...; the columns
        of :meth:`by_group`) ranked by its total points, not a single
        feature: a fall of usage spread over logins, sessions and their 7,
        30 and 90-day windows outranks one billing feature that moved less
        than their sum.

        Parameters
        ----------
        k : int, default=3
            Reasons per account (fewer when fewer groups pass ``min_points``).
        direction : {"both", "up", "down"}, default="both"
            "both": groups pushing in the direction of the account's own
            change; "up": those that raised the risk; "down": lowered it.
        min_points : float, default=0.01
            Smallest group total, in probability points, listed.

        Returns
        -------
        DataFrame
            ``customer_id``, ``rank`` (1 = largest), ``group``, ``points``
            (the group's total), ``top_feature`` (its largest contributor),
            ``n_features`` (its features pushing in the reason's direction)
            and ``reason``: the feature's sentence when only one feature of
            the group moved, else e.g. ``"Usage (+21.3 pts): Logins: 40 → 6
            (+8.0 pts), Sessions: 30 → 2 (+5.0 pts) and 4 more"``.
        """
        k = check_k(k, max(len(self._group_names), 1))
        direction = _direction(direction)
        found = self._group_reasons(
            np.arange(len(self)), k, check_points(min_points), direction
        )
        return pd.DataFrame(
            {
                "customer_id": self.index.to_numpy()[found["row"]],
                "rank": found["rank"].astype("int64"),
                "group": found["group"],
                "points": found["points"],
                "top_feature": self._values.columns.to_numpy()[found["feature"]],
                "n_features": found["contributors"].astype("int64"),
                "reason": found["reason"],
            }
        )

    def reasons(self, customer_id, *, k=3, min_points=0.01) -> list:
        """Why the account's risk moved, one sentence per group of features.

        Parameters
        ----------
        customer_id : object
            The account.
        k : int, default=3
            At most this many sentences.
        min_points : float, default=0.01
            Smallest group total listed (0.01 = 1 point).

        Returns
        -------
        list of str
            The groups in the direction of the account's change, largest
            total first (see :meth:`top_reasons`), e.g. ``"Usage (+21.3 pts):
            Logins: 40 → 6 (+8.0 pts), Sessions: 30 → 2 (+5.0 pts) and 4
            more"``, or ``"Failed payments: 0 → 2 (+4.1 pts)"`` when one
            feature of the group moved.
        """
        row = self._locate(customer_id)
        k = check_k(k, max(len(self._group_names), 1))
        found = self._group_reasons(
            np.array([row]), k, check_points(min_points), "both"
        )
        if not len(found["row"]):
            return [NO_MOVERS.format(points=100 * min_points)]
        return [str(s) for s in found["reason"]]

    def summary(self, customer_id, *, k=2) -> str:
        """One line: the change, since when, and its main reasons.

        Parameters
        ----------
        customer_id : object
            The account.
        k : int, default=2
            Reasons shown.

        Returns
        -------
        str
            E.g. ``"Risk +18.0 pts since 2024-11-01 (12% → 30%): Logins: 40 →
            6 (+12.5 pts); Failed payments: 0 → 2 (+4.1 pts)"``.
        """
        row = self._locate(customer_id)
        return self._summaries(np.array([row]), k)[0]

    def _summaries(self, rows, k) -> list:
        change = self.change.to_numpy()[rows] * 100
        since = self._cutoffs[0]
        pb, pa = self._before.to_numpy()[rows], self._after.to_numpy()[rows]
        found = self._group_reasons(rows, k, 0.01, "both")
        by_row = (
            pd.Series(found["reason"], dtype=object)
            .groupby(found["row"], sort=False)
            .agg("; ".join)
        )
        out = []
        for i, row in enumerate(rows):
            when = f" since {since[row].date()}" if since is not None else ""
            model = self._model.iloc[row] * 100
            extra = f", model {model:+.1f} pts" if abs(model) >= 0.05 else ""
            head = f"Risk {change[i]:+.1f} pts{when} ({pb[i]:.0%} → {pa[i]:.0%}{extra})"
            out.append(f"{head}: {by_row[row]}" if row in by_row.index else head)
        return out

    def movers(self, k=10, *, direction="both") -> pd.DataFrame:
        """The accounts whose risk moved most, with their main reason.

        Parameters
        ----------
        k : int, default=10
            Accounts listed.
        direction : {"both", "up", "down"}, default="both"
            Largest absolute change, largest rise or largest fall.

        Returns
        -------
        DataFrame
            Indexed by ``customer_id``: ``cutoff_before``, ``cutoff_after``
            (when known), ``probability_before``, ``probability_after``,
            ``change``, ``data_change``, ``model_change``, ``top_group`` and
            ``top_points`` (the group with the largest total in the direction
            of the change, see :meth:`top_reasons`), ``top_feature`` (that
            group's largest contributor) and ``summary``.
        """
        k = check_k(k, max(len(self), 1))
        direction = _direction(direction)
        change = self.change.to_numpy()
        key = {"both": -np.abs(change), "up": -change, "down": change}[direction]
        rows = np.argsort(key, kind="stable")[:k]
        if direction != "both":
            rows = rows[(change[rows] > 0) if direction == "up" else (change[rows] < 0)]
        V = self._values.to_numpy()[rows]
        sign = np.sign(change[rows])[:, None]
        totals = V @ self._onehot
        if V.shape[1]:
            group = np.argmax(totals * sign, axis=1)
            members = self._onehot[:, group].T.astype(bool)
            top = np.argmax(np.where(members, V * sign, -np.inf), axis=1)
        else:
            group = top = np.zeros(len(rows), int)
        out = pd.DataFrame(index=self.index[rows])
        for name, times in zip(
            ("cutoff_before", "cutoff_after"), self._cutoffs, strict=True
        ):
            if times is not None:
                out[name] = times[rows]
        out["probability_before"] = self._before.to_numpy()[rows]
        out["probability_after"] = self._after.to_numpy()[rows]
        out["change"] = change[rows]
        out["data_change"] = self.data_change.to_numpy()[rows]
        out["model_change"] = self._model.to_numpy()[rows]
        if V.shape[1]:
            out["top_group"] = self._group_names[group]
            out["top_points"] = totals[np.arange(len(rows)), group]
            out["top_feature"] = self._values.columns.to_numpy()[top]
        out["summary"] = self._summaries(rows, 2)
        return out

    def _locate(self, customer_id) -> int:
        pos = self.index.get_indexer([customer_id])[0]
        if pos < 0:
            raise AccountNotFoundError(
                f"Account {customer_id!r} is not among the {len(self)} compared "
                f"accounts (e.g. {self.index[:3].tolist()})."
            )
        return int(pos)


def _direction(direction) -> str:
    if direction not in DIRECTIONS:
        raise SchemaError(
            f"`direction` must be one of {list(DIRECTIONS)}; got {direction!r}."
        )
    return direction


def _texts(values, unit, template) -> np.ndarray:
    """Feature values as reasons show them (numbers by unit, levels as text;
    a missing days-since value is "never", another "none recorded")."""
    missing = "never" if is_days_ago(template) else "none recorded"
    if pd.api.types.is_numeric_dtype(values.dtype) and not isinstance(
        values.dtype, pd.CategoricalDtype
    ):
        x = values.to_numpy(dtype="float64", na_value=np.nan)
        out = format_numbers(x, unit, template=template)
        return np.where(np.isnan(x), missing, out)
    return np.array([missing if pd.isna(v) else str(v) for v in values], dtype=object)
