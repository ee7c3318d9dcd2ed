"""The churn report: one self-contained HTML file for an Events store.

:func:`report` computes the headline KPIs, trends, cohort retention, churn by
customer attribute and, with a fitted model, today's risk (tiers, value at
risk, a sortable call list with reasons) and the model's quality, and writes
them to one HTML file that opens with no network (charts are inline SVG,
rendered with matplotlib; the page is laid out with jinja2 templates).
"""

from churnkit.reporting._api import report

__all__ = ["report"]
