"""Non-contractual signals of the usage builder: RFM, customer age, gaps, overdue.

For businesses where customers never cancel (a shop, a marketplace), the
purchase rhythm says more than fixed windows: how many days a customer was
active (frequency), how long ago the first and the last active day were
(customer age ``T`` and recency), how regular the gaps between active days are,
and how late the customer is against their own usual gap. Every value uses the
customer's whole history strictly before the cutoff and is computed by the
kernel (no loop over customers); "active days" are distinct UTC days with an
event, so several events on one day (several items in one order) count once,
as in the BG/NBD and Pareto/NBD literature.
"""

from __future__ import annotations

from churnkit.features._spec import Derived, FeatureSpec

__all__ = ["rfm_specs", "RFM_FEATURES"]

#: Output columns of :func:`rfm_specs` (``usage__amount_mean`` only with amounts).
RFM_FEATURES = (
    "usage__active_days_total",
    "usage__days_since_first",
    "usage__active_span_days",
    "usage__gap_mean_days",
    "usage__gap_cv",
    "usage__overdue_ratio",
    "usage__amount_mean",
)


def rfm_specs(*, has_amount: bool) -> list:
    """Kernel specs of the non-contractual signals (all history before the cutoff).

    The ratio and the span read ``usage__days_since_last``, which the usage
    builder always computes.

    * ``usage__active_days_total``: frequency, distinct active days (0 without
      events);
    * ``usage__days_since_first``: customer age ``T``, days from the first
      event to the cutoff (NaN without events);
    * ``usage__active_span_days``: days from the first to the last event
      (BG/NBD's ``t_x``; 0 with one active day, NaN without events);
    * ``usage__gap_mean_days``: mean whole days between consecutive active
      days (NaN with fewer than two);
    * ``usage__gap_cv``: their standard deviation over their mean (NaN with
      fewer than two gaps);
    * ``usage__overdue_ratio``: days since the last event over the customer's
      own mean gap: above 1, later than usual (NaN with fewer than two active
      days);
    * ``usage__amount_mean``: mean ``amount`` per event, when usage has a
      numeric ``amount`` column (monetary value).
    """
    g = "usage"
    specs = [
        FeatureSpec(
            "usage__active_days_total",
            "usage",
            "active_days",
            unit="days",
            direction="lower",
            template="{value:,.0f} active days in all (typical: {typical:,.0f})",
            display_name="Active days, all history",
        ),
        FeatureSpec(
            "usage__days_since_first",
            "usage",
            "days_since_first",
            unit="days",
            direction="lower",
            template="first active {value:,.0f} days ago "
            "(typical: {typical:,.0f} days)",
            display_name="Days since first activity",
        ),
        Derived(
            "usage__active_span_days",
            "difference",
            "usage__days_since_first",
            "usage__days_since_last",
            group=g,
            unit="days",
            direction="lower",
            template="active over {value:,.0f} days, first to last event "
            "(typical: {typical:,.0f})",
            display_name="Days from first to last activity",
        ),
        FeatureSpec(
            "usage__gap_mean_days",
            "usage",
            "gap_mean",
            unit="days",
            direction="either",
            template="active every {value:,.0f} days on average (typical: "
            "{typical:,.0f})",
            display_name="Mean days between active days",
        ),
        FeatureSpec(
            "usage__gap_cv",
            "usage",
            "gap_cv",
            unit="fraction",
            direction="either",
            template="gaps between active days vary by {value:.0%} of their mean "
            "(typical: {typical:.0%})",
            display_name="Irregularity of the gaps (CV)",
        ),
        Derived(
            "usage__overdue_ratio",
            "ratio",
            "usage__days_since_last",
            "usage__gap_mean_days",
            group=g,
            unit="ratio",
            direction="higher",
            template="silent for {value:.1f}x the customer's usual gap (typical: "
            "{typical:.1f}x)",
            display_name="Days since last activity / usual gap",
        ),
    ]
    if has_amount:
        specs.append(
            FeatureSpec(
                "usage__amount_mean",
                "usage",
                "mean",
                column="amount",
                unit="amount",
                direction="lower",
                template="spends {value:,.2f} per event on average (typical: "
                "{typical:,.2f})",
                display_name="Mean amount per event",
            )
        )
    return specs
