"""What an :class:`~churnkit.explain.Explanation` sums up and draws: group
totals, global importance, a ``shap.Explanation`` and the two plots.

A mixin of :class:`Explanation` (one class, split by what it is for): it
reads the explanation's values, names, groups and reason rules, and adds no
state of its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.exceptions import SchemaError
from churnkit.explain._lookup import check_k, row_label

__all__ = ["ExplanationViews"]


class ExplanationViews:
    """Names, references, summaries, export and plots of an :class:`Explanation`."""

    @property
    def display_names(self) -> pd.Series:
        """Readable name of each feature ("Product events, last 30 days")."""
        return pd.Series(self._display, index=self._names, name="display_name")

    @property
    def reference(self) -> pd.DataFrame:
        """The "typical" value of each feature for each account (see the Notes
        of :class:`Explanation`)."""
        n, p = self._values.shape
        rows, cols = np.repeat(np.arange(n), p), np.tile(np.arange(p), n)
        cells = self._rules().reference_cells(rows, cols).reshape(n, p)
        return pd.DataFrame(cells, index=self.index, columns=self._names)

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
            ``feature, display_name, group, importance`` (or ``group,
            importance``), sorted by decreasing ``importance``; ``share`` is
            importance / its total. ``feature`` is the raw column name,
            ``display_name`` the readable one from ``describe_features``.
        """
        if by == "feature":
            imp = np.abs(self._scaled(scale)).mean(axis=0) if len(self) else 0.0
            frame = pd.DataFrame(
                {
                    "feature": self._names,
                    "display_name": self._display,
                    "group": self._groups,
                    "importance": imp,
                }
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
                display[:, j] = self._plain[self._names[j]].to_numpy(dtype=object)
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
        scale="probability",
        display_names=True,
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
        scale : {"probability", "log-odds"}, default="probability"
            Probability points (they add up to the calibrated probability) or
            the base model's log-odds.
        display_names : bool, default=True
            Label bars with the features' display names ("Product events,
            last 30 days"); False uses the raw column names.

        Returns
        -------
        matplotlib.axes.Axes
            The Axes drawn on.
        """
        from churnkit.explain._plots import waterfall

        row = self._locate(customer_id, cutoff_time)
        V = self._scaled(scale)[row]
        base = self._base[row] if scale == "log-odds" else self._probabilities()[1][row]
        p = len(self._names)
        shown = self._rules().sentences(np.full(p, row), np.arange(p))[1]
        names = self._display if display_names else np.asarray(self._names)
        labels = [
            f"{name} = {text}" if text else f"{name}: none"
            for name, text in zip(names, shown, strict=True)
        ]
        prob = self._probabilities()[2][row]
        return waterfall(
            V,
            float(base),
            labels,
            ax=ax,
            max_display=check_k(max_display, None),
            title=f"{row_label(self.index[row])}: churn probability {prob:.1%}",
            xlabel="log-odds of churn" if scale == "log-odds" else "churn probability",
            points=scale == "probability",
        )

    def plot_global(
        self,
        *,
        ax=None,
        by="feature",
        max_display=20,
        scale="log-odds",
        display_names=True,
    ):
        """Bar chart of :meth:`global_importance`, strongest on top.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Where to draw; None draws on ``plt.gca()``.
        by : {"feature", "group"}, default="feature"
        max_display : int, default=20
            Bars shown (the strongest).
        scale : {"log-odds", "probability"}, default="log-odds"
            Mean absolute contribution in log-odds, or in probability points.
        display_names : bool, default=True
            Label bars with the features' display names; False uses the raw
            column names. Either way each label's ``gid`` is the raw name.

        Returns
        -------
        matplotlib.axes.Axes
            The Axes drawn on. All text is inside the axes (long names are
            shortened with "…"), the group legend above it.
        """
        from churnkit.explain._plots import global_bars

        frame = self.global_importance(by=by, scale=scale)
        frame = frame.head(check_k(max_display, None))
        return global_bars(
            frame, by=by, scale=scale, ax=ax, display_names=display_names
        )
