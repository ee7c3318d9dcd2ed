"""Support features: tickets, open tickets, resolution times, priority, CSAT."""

from __future__ import annotations

from churnkit.features._base import WindowBuilder, frequent_categories, parse_windows
from churnkit.features._naming import feature_name, unique_slugs, window_phrase
from churnkit.features._spec import FeatureSpec

__all__ = ["SupportFeatures"]

HIGH_PRIORITIES = ("high", "urgent")


class SupportFeatures(WindowBuilder):
    """Support tickets aggregated as of each cutoff.

    Parameters
    ----------
    events : Events, default=None
        The event store.
    windows : tuple of str, default=("7D", "30D", "90D")
        Trailing windows.
    max_categories : int, default=10
        At most this many ticket categories (the most frequent before the
        latest training cutoff) get a count over the longest window.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        ``support__tickets_W``, ``support__high_priority_tickets_W``,
        ``support__resolution_days_W`` (mean time to close, tickets closed in
        the window), ``support__csat_mean_W`` and ``support__csat_min_W``
        (tickets closed in the window), ``support__open_tickets``,
        ``support__days_since_ticket`` and ``support__<category>_tickets_W`` for
        the longest window.

    Notes
    -----
    Tickets count by their opening ``time``. A ticket's ``closed_time`` and
    ``csat`` exist only from its close: a ticket closed at or after the cutoff
    is open at the cutoff and has no CSAT yet, so resolution times and CSAT are
    taken over tickets *closed* in ``[cutoff - W, cutoff)``. Without a
    ``closed_time`` column there are no open-ticket, resolution or CSAT
    features (the store's build warns when ``csat`` is given without it).

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=50, random_state=0)
    >>> X = ck.make_cutoffs(data.events, at="2024-06-01")
    >>> support = ck.SupportFeatures(data.events, windows=("30D",)).fit(X)
    >>> list(support.get_feature_names_out()[:2])
    ['support__tickets_30d', 'support__high_priority_tickets_30d']
    >>> support.transform(X).shape
    (27, 12)
    """

    group = "support"

    def __init__(self, events=None, *, windows=("7D", "30D", "90D"), max_categories=10):
        self.events = events
        self.windows = windows
        self.max_categories = max_categories

    def _make_specs(self, events, max_cutoff):
        windows = parse_windows(self.windows_)
        table = events._engine.table("support")
        cols = table.columns if table is not None else {}
        g, specs = "support", []
        closed = "closed_time" in cols
        for w in windows:
            phrase = window_phrase(w)
            specs.append(
                FeatureSpec(
                    feature_name(g, "tickets", w),
                    "support",
                    "count",
                    window=w,
                    unit="tickets",
                    direction="higher",
                    template=f"support tickets in {phrase}: {{value:.0f}} "
                    "(typical: {typical:.0f})",
                )
            )
            if "priority" in cols:
                specs.append(
                    FeatureSpec(
                        feature_name(g, "high_priority_tickets", w),
                        "support",
                        "count",
                        window=w,
                        where={"priority": list(HIGH_PRIORITIES)},
                        unit="tickets",
                        direction="higher",
                        template=f"high-priority tickets in {phrase}: {{value:.0f}}",
                    )
                )
            if closed:
                specs.append(
                    FeatureSpec(
                        feature_name(g, "resolution_days", w),
                        "support",
                        "mean",
                        column="resolution_days",
                        window=w,
                        by="closed_time",
                        unit="days",
                        direction="higher",
                        template="tickets took {value:.1f} days to resolve in "
                        f"{phrase} (typical: {{typical:.1f}})",
                    )
                )
            if "csat" in cols and closed:  # a rating is known from the close
                by = "closed_time"
                specs.append(
                    FeatureSpec(
                        feature_name(g, "csat_mean", w),
                        "support",
                        "mean",
                        column="csat",
                        window=w,
                        by=by,
                        unit="score",
                        direction="lower",
                        template=f"mean CSAT {{value:.1f}} in {phrase} "
                        "(typical: {typical:.1f})",
                    )
                )
                specs.append(
                    FeatureSpec(
                        feature_name(g, "csat_min", w),
                        "support",
                        "min",
                        column="csat",
                        window=w,
                        by=by,
                        unit="score",
                        direction="lower",
                        template=f"worst CSAT {{value:.0f}} in {phrase}",
                    )
                )
        if closed:  # without close times no ticket is known to be open
            specs.append(
                FeatureSpec(
                    "support__open_tickets",
                    "support",
                    "open",
                    unit="tickets",
                    direction="higher",
                    template="open tickets: {value:.0f} (typical: {typical:.0f})",
                )
            )
        specs.append(
            FeatureSpec(
                "support__days_since_ticket",
                "support",
                "days_since_last",
                unit="days",
                direction="lower",
                template="last ticket {value:.0f} days ago "
                "(typical: {typical:.0f} days)",
            )
        )
        if "category" in cols:
            longest = windows[-1]
            categories = self._categories(table, max_cutoff)
            slugs = unique_slugs(categories, reserved=("high_priority",))
            for category in categories:
                specs.append(
                    FeatureSpec(
                        feature_name(g, f"{slugs[category]}_tickets", longest),
                        "support",
                        "count",
                        window=longest,
                        where={"category": category},
                        unit="tickets",
                        direction="higher",
                        template=f"'{category}' tickets in "
                        f"{window_phrase(longest)}: {{value:.0f}}",
                    )
                )
        return specs, {}

    def _categories(self, table, max_cutoff):
        return frequent_categories(
            table, "category", max_cutoff, top=self.max_categories
        )
