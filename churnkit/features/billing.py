"""Billing features: MRR and its changes, payments, failures, refunds, plans."""

from __future__ import annotations

from churnkit.features._base import WindowBuilder, parse_windows
from churnkit.features._naming import feature_name, window_phrase
from churnkit.features._spec import Derived, FeatureSpec
from churnkit.features._statistics import store_categories

__all__ = ["BillingFeatures"]

PAYMENT_ATTEMPTS = ("payment", "payment_failed")


class BillingFeatures(WindowBuilder):
    """Billing rows aggregated as of each cutoff.

    Parameters
    ----------
    events : Events, default=None
        The event store.
    windows : tuple of str, default=("7D", "30D", "90D")
        Trailing windows.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        ``billing__mrr`` (MRR in effect at the cutoff), ``billing__mrr_change_W``
        (MRR now minus MRR at ``cutoff - W``: upgrades > 0, downgrades < 0),
        ``billing__payments_W``, ``billing__amount_paid_W``,
        ``billing__failed_payments_W``, ``billing__days_since_failed_payment``,
        ``billing__last_payment_failed`` (1 when the latest payment attempt
        failed and no payment has succeeded since), ``billing__refunds_W``,
        ``billing__discounts_W``, ``billing__plan_changes_W``,
        ``billing__days_since_invoice`` and ``billing__plan`` (categorical, the
        plan of the latest row that names one).

    Notes
    -----
    Only rows with ``time < cutoff_time`` count. ``mrr`` on a row is the MRR in
    effect after it; the MRR at a cutoff is the ``mrr`` of the latest earlier
    row that has one (NaN before the first).

    Examples
    --------
    >>> import churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=50, random_state=0)
    >>> X = ck.make_cutoffs(data.events, at="2024-06-01")
    >>> billing = ck.BillingFeatures(data.events, windows=("30D",)).fit(X)
    >>> list(billing.get_feature_names_out()[:3])
    ['billing__mrr', 'billing__mrr_change_30d', 'billing__payments_30d']
    >>> billing.transform(X).shape
    (27, 12)
    """

    group = "billing"

    def __init__(self, events=None, *, windows=("7D", "30D", "90D")):
        self.events = events
        self.windows = windows

    def _make_specs(self, events, max_cutoff):
        windows = parse_windows(self.windows_)
        table = events._engine.table("billing")
        cols = table.columns if table is not None else {}
        kinds = set(store_categories(table, "kind")) if table is not None else set()
        specs, categorical = [], {}
        mrr = _mrr_table(events, cols)
        if mrr:
            specs.append(
                _spec(
                    "billing__mrr",
                    "last",
                    table=mrr,
                    column="mrr",
                    unit="currency",
                    direction="either",
                    template="MRR {value:,.0f} (typical: {typical:,.0f})",
                )
            )
        for w in windows:
            phrase = window_phrase(w)
            if mrr:
                before = feature_name("billing", "mrr_at_start", w)
                specs.append(
                    _spec(
                        before, "last", table=mrr, column="mrr", offset=w, output=False
                    )
                )
                specs.append(
                    Derived(
                        feature_name("billing", "mrr_change", w),
                        "difference",
                        "billing__mrr",
                        before,
                        group="billing",
                        unit="currency",
                        direction="either",
                        template=f"MRR changed by {{value:+,.0f}} over {phrase} "
                        "(typical: {typical:+,.0f})",
                    )
                )
            for kind, what, direction in _WINDOW_COUNTS:
                if kind in kinds:
                    words = what.replace("_", " ")
                    specs.append(
                        _spec(
                            feature_name("billing", what, w),
                            "count",
                            window=w,
                            where={"kind": kind},
                            unit=words,
                            direction=direction,
                            template=f"{words} in {phrase}: {{value:.0f}} "
                            "(typical: {typical:.0f})",
                        )
                    )
            if "payment" in kinds and "amount" in cols:
                specs.append(
                    _spec(
                        feature_name("billing", "amount_paid", w),
                        "sum",
                        column="amount",
                        window=w,
                        where={"kind": "payment"},
                        unit="currency",
                        direction="lower",
                        template=f"paid {{value:,.0f}} in {phrase} "
                        "(typical: {typical:,.0f})",
                    )
                )
        if "payment_failed" in kinds:
            specs.append(
                _spec(
                    "billing__days_since_failed_payment",
                    "days_since_last",
                    where={"kind": "payment_failed"},
                    unit="days",
                    direction="lower",
                    template="last failed payment {value:.0f} days ago "
                    "(typical: {typical:.0f} days)",
                )
            )
            specs.append(
                _spec(
                    "billing__last_payment_failed",
                    "last",
                    column="kind",
                    where={"kind": list(PAYMENT_ATTEMPTS)},
                    match="payment_failed",
                    unit="flag",
                    direction="higher",
                    template="the latest payment attempt failed and is not recovered",
                )
            )
        if "invoice" in kinds:
            specs.append(
                _spec(
                    "billing__days_since_invoice",
                    "days_since_last",
                    where={"kind": "invoice"},
                    unit="days",
                    direction="higher",
                    template="last invoice {value:.0f} days ago "
                    "(typical: {typical:.0f} days)",
                )
            )
        if "plan" in cols:
            specs.append(
                _spec(
                    "billing__plan",
                    "last",
                    column="plan",
                    unit="category",
                    direction="either",
                    template="on the {value} plan",
                )
            )
            categorical["billing__plan"] = ("billing", "plan")
        return specs, categorical


# windowed counts per billing kind: (kind, name, direction of risk)
_WINDOW_COUNTS = (
    ("payment", "payments", "lower"),
    ("payment_failed", "failed_payments", "higher"),
    ("refund", "refunds", "higher"),
    ("discount", "discounts", "either"),
    ("plan_change", "plan_changes", "either"),
)


def _spec(name, agg, table="billing", **kwargs):
    return FeatureSpec(name, table, agg, **kwargs)


def _mrr_table(events, cols) -> str | None:
    """The table the MRR features read: billing's ``mrr``, else the MRR of
    the subscriptions beside a billing table without one (payments only: was
    no MRR feature at all), else none."""
    if "mrr" in cols:
        return "billing"
    derived = events._engine.table("subscriptions")
    return "subscriptions" if derived is not None and "mrr" in derived.columns else None
