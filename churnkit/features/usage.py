"""Usage features: activity counts, volumes, active days, recency and trends."""

from __future__ import annotations

import numpy as np

from churnkit.features._base import WindowBuilder, frequent_categories, parse_windows
from churnkit.features._naming import feature_name, unique_slugs, window_phrase
from churnkit.features._rfm import rfm_specs
from churnkit.features._spec import Derived, FeatureSpec

__all__ = ["UsageFeatures"]


class UsageFeatures(WindowBuilder):
    """Usage events aggregated over trailing windows that end at each cutoff.

    Parameters
    ----------
    events : Events, default=None
        The event store (shared by reference, never copied).
    windows : "auto" or tuple of str, default="auto"
        Trailing windows. ``"auto"`` chooses three at ``fit`` from the data: the
        typical gap between a customer's active days before each training
        cutoff and the label horizon (recorded by ``label_churn`` /
        ``label_inactivity`` in the labels' ``attrs``); daily activity keeps
        ``("7D", "30D", "90D")``, monthly buyers get ``("30D", "90D", "365D")``
        and quarterly buyers ``("90D", "180D", "365D")`` (see
        ``window_choice_``).
    per_kind : bool, default=True
        Add counts and recency per event kind.
    min_frequency : int, default=100
        Event kinds seen fewer times before the latest training cutoff are left
        out of the per-kind features.
    max_kinds : int, default=20
        At most this many kinds (the most frequent) get their own features.

    Attributes
    ----------
    windows_ : tuple of str
        The windows used: as given, or those ``"auto"`` chose.
    window_choice_ : WindowChoice or None
        With ``windows="auto"``: the typical gap and horizon measured and
        ``window_choice_.summary()``, a sentence saying what was chosen and
        why (also logged at INFO on the ``churnkit`` logger); None otherwise.
    specs_ : list of FeatureSpec
        The kernel specs this builder evaluates.
    feature_names_out_ : ndarray of str
        Output columns, e.g. ``usage__events_30d``, ``usage__login_count_30d``,
        ``usage__active_days_30d``, ``usage__events_change_30d``,
        ``usage__days_since_last``.

    Notes
    -----
    Only events with ``time < cutoff_time`` count; a window ``W`` is
    ``[cutoff - W, cutoff)``. Empty windows give 0 counts and sums; recency is
    NaN for customers without events. ``usage__events_change_W`` compares the
    last window with the one before it: ``(now - before) / before`` (NaN when
    there was nothing before); a window before that began before the
    customer's signup counts per day of the customer, scaled to the window.
    ``usage__events_per_month`` divides all events by tenure in months (at
    least one); ``usage__events_per_seat_W`` appears when
    customers have a numeric ``seats`` column.

    Non-contractual signals, over all history before the cutoff (for shops
    and other businesses where customers never cancel): frequency
    ``usage__active_days_total`` (distinct active days), customer age
    ``usage__days_since_first``, ``usage__active_span_days`` (first to last
    event), ``usage__gap_mean_days`` and ``usage__gap_cv`` (mean and
    coefficient of variation of the whole days between consecutive active
    days), ``usage__overdue_ratio`` (days since the last event over the
    customer's own mean gap) and, when usage has a numeric ``amount`` column,
    ``usage__amount_mean`` (monetary value per event).

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=50, random_state=0)
    >>> X = ck.make_cutoffs(data.events, at="2024-06-01")
    >>> ck.UsageFeatures(data.events).fit_transform(X).shape[0] == len(X)
    True
    """

    group = "usage"

    def __init__(
        self,
        events=None,
        *,
        windows="auto",
        per_kind=True,
        min_frequency=100,
        max_kinds=20,
    ):
        self.events = events
        self.windows = windows
        self.per_kind = per_kind
        self.min_frequency = min_frequency
        self.max_kinds = max_kinds

    def _make_specs(self, events, max_cutoff):
        windows = parse_windows(self.windows_)
        table = events._engine.table("usage")
        kinds = self._kinds(table, max_cutoff) if self.per_kind else []
        slugs = unique_slugs(kinds)
        has_qty = table is not None and "quantity" in table.columns
        has_amount = (
            table is not None
            and "amount" in table.columns
            and table.kinds.get("amount") == "number"
        )
        has_seats = "seats" in events.customers and np.issubdtype(
            events.customers["seats"].dtype, np.number
        )
        g, specs = "usage", []
        for w in windows:
            phrase = window_phrase(w)
            events_w = feature_name(g, "events", w)
            specs.append(
                FeatureSpec(
                    events_w,
                    "usage",
                    "count",
                    window=w,
                    unit="events",
                    direction="lower",
                    template=f"product events in {phrase}: {{value:,.0f}} "
                    "(typical: {typical:,.0f})",
                )
            )
            if has_qty:
                specs.append(
                    FeatureSpec(
                        feature_name(g, "quantity", w),
                        "usage",
                        "sum",
                        column="quantity",
                        window=w,
                        unit="units",
                        direction="lower",
                        template=f"usage volume {{value:,.0f}} in {phrase} "
                        "(typical: {typical:,.0f})",
                    )
                )
            specs.append(
                FeatureSpec(
                    feature_name(g, "active_days", w),
                    "usage",
                    "active_days",
                    window=w,
                    unit="days",
                    direction="lower",
                    template=f"active days in {phrase}: {{value:.0f}} "
                    "(typical: {typical:.0f})",
                )
            )
            before = feature_name(g, "events_before", w)
            specs.append(
                FeatureSpec(before, "usage", "count", window=w, offset=w, output=False)
            )
            specs.append(
                Derived(
                    feature_name(g, "events_change", w),
                    "pct_change",
                    events_w,
                    before,
                    group=g,
                    unit="fraction",
                    direction="lower",
                    template=f"usage changed {{value:+.0%}} vs the previous "
                    f"{phrase.removeprefix('the last ')} (typical: {{typical:+.0%}})",
                )
            )
            if has_seats:
                seats = "usage__seats"
                if not any(s.name == seats for s in specs):
                    specs.append(
                        FeatureSpec(
                            seats,
                            "customers",
                            "attribute",
                            column="seats",
                            output=False,
                        )
                    )
                specs.append(
                    Derived(
                        feature_name(g, "events_per_seat", w),
                        "ratio",
                        events_w,
                        seats,
                        group=g,
                        unit="events per seat",
                        direction="lower",
                        template=f"{{value:,.1f}} events per seat in {phrase} "
                        "(typical: {typical:,.1f})",
                    )
                )
            for kind in kinds:
                specs.append(
                    FeatureSpec(
                        feature_name(g, f"{slugs[kind]}_count", w),
                        "usage",
                        "count",
                        window=w,
                        where={"event": kind},
                        unit="events",
                        direction="lower",
                        template=f"'{kind}' events in {phrase}: {{value:,.0f}} "
                        "(typical: {typical:,.0f})",
                    )
                )
        specs.append(
            FeatureSpec(
                "usage__days_since_last",
                "usage",
                "days_since_last",
                unit="days",
                direction="higher",
                template="last active {value:.0f} days ago "
                "(typical: {typical:.0f} days)",
            )
        )
        for kind in kinds:
            specs.append(
                FeatureSpec(
                    f"usage__days_since_last_{slugs[kind]}",
                    "usage",
                    "days_since_last",
                    where={"event": kind},
                    unit="days",
                    direction="higher",
                    template=f"last '{kind}' {{value:.0f}} days ago "
                    "(typical: {typical:.0f} days)",
                )
            )
        specs += rfm_specs(has_amount=has_amount)
        specs.append(FeatureSpec("usage__events_total", "usage", "count", output=False))
        specs.append(
            FeatureSpec("usage__tenure_days", "customers", "tenure_days", output=False)
        )
        specs.append(
            Derived(
                "usage__events_per_month",
                "per_month",
                "usage__events_total",
                "usage__tenure_days",
                group=g,
                unit="events per month",
                direction="lower",
                template="{value:,.0f} events per month of tenure (typical: "
                "{typical:,.0f})",
            )
        )
        return specs, {}

    def _kinds(self, table, max_cutoff):
        return frequent_categories(
            table, "event", max_cutoff, top=self.max_kinds, min_count=self.min_frequency
        )
