"""``report``: one self-contained HTML churn report for an Events store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from churnkit._logging import warn
from churnkit._time import parse_duration
from churnkit._validation import check_choice, check_int
from churnkit.events import Events
from churnkit.events._columns import activity_table
from churnkit.exceptions import ChurnkitTypeError, ChurnkitWarning
from churnkit.features._auto_windows import trained_label
from churnkit.reporting._format import using_currency
from churnkit.reporting._render import write
from churnkit.reporting._risk import trained_horizon
from churnkit.reporting._sections import CALL_LIST, build_sections

DEFAULT_HORIZON = "30D"
LABELS = {
    "churn": "recorded churns (a churn table or subscriptions)",
    "inactivity": "no row in `table` for `horizon` (no cancellations recorded)",
}


def report(
    events,
    model=None,
    *,
    path="churnkit-report.html",
    label=None,
    horizon=None,
    table=None,
    freq="MS",
    by=None,
    at=None,
    test=None,
    top=CALL_LIST,
    title="Churn report",
    missing_tables=(),
    phrase=None,
    currency="$",
    value=None,
):
    """Write a self-contained HTML churn report and return its path.

    The report has five sections: a headline (as-of date, active customers,
    MRR, logo and revenue churn, NRR, each with its change from the previous
    period), trends (churn by kind, revenue churn, NRR and MRR over time, a
    cohort retention heatmap, churn by customer attribute), and, with a
    ``model``: the risk of today's accounts (probability distribution, risk
    tiers with value at risk, a sortable call list with top reasons) and the
    model's quality (AUC, PR-AUC, lift, gains, calibration, global drivers);
    last, the data (tables, rows, time range, exclusions, warnings met).
    Numbers are formatted by unit; charts are inline SVG, so the file opens
    with no network.

    Parameters
    ----------
    events : Events
        The event store (built from files, loaded with ``Events.load``, or
        the demo's data).
    model : Pipeline, default=None
        A fitted churn pipeline (:func:`churnkit.make_churn_pipeline`); None
        leaves out the risk and model sections.
    path : str or Path, default="churnkit-report.html"
        The HTML file to write (folders are created).
    label : {"churn", "inactivity"}, default=None
        How churn is defined: "churn" uses the recorded churns (churn table or
        subscriptions); "inactivity" counts a customer with no row in
        ``table`` for ``horizon`` as churned, for businesses without
        cancellations. None takes the model's (saved with ``ck.save`` or
        recorded by the ``label_churn``/``label_inactivity`` labels it was
        fitted on), else "churn"; a label that differs from the model's warns.
    horizon : str, default=None
        The model's label horizon; with ``label="inactivity"``, also the
        inactivity period of the KPIs. None takes the horizon the model was
        saved with (``ck.save(..., horizon=)``) or the one its training labels
        had (``label_churn``/``label_inactivity`` keep it), else "30D"; a
        horizon that differs from the model's warns.
    table : str or (str, list of str), default=None
        With ``label="inactivity"``: the table whose rows are activity, or a
        pair of a table and the kinds that count (``("billing", ["payment"])``).
        None takes the model's inactivity labels' table, else "usage".
    freq : str, default="MS"
        Period of the KPIs and cutoffs ("MS" months, "QS" quarters, "W-MON").
    by : str or list of str, default=None
        Customer attributes to break churn down by; None takes every column
        of the customers table with 2 to 12 distinct values.
    at : str or Timestamp, default=None
        Scoring date of the risk section; None is ``events.observed_until``,
        the end of the data (with times, just after the latest event, so the
        last day's events count).
    test : DataFrame, default=None
        Labelled rows (``customer_id``, ``cutoff_time``, ``churned``) the
        model section evaluates on, e.g. a forward-in-time test set; None
        evaluates on the latest cutoff whose outcome is observed.
    top : int, default=50
        Accounts in the call list.
    title : str, default="Churn report"
        The report's title.
    missing_tables : tuple of str, default=()
        Event tables the model was fitted with that ``events`` lacks, to score
        without them on purpose (see :func:`churnkit.set_events`): their
        features are missing and the report's warnings name them.
    phrase : callable, default=None
        ``str -> str`` applied to every note and warning the report shows
        (the command line spells the Python fixes they name as its options).
    currency : str, default="$"
        The sign money is shown with ("£", "€", "CHF "): MRR, value at risk
        and the money axes of the charts. Amounts are not converted.
    value : str, default=None
        A numeric column of the customers table holding each account's value
        (a balance, an ARR) for the call list and the value at risk. None
        takes 12 x the MRR in effect, else what was paid in the past 365
        days, else 1 per account.

    Returns
    -------
    Path
        The written HTML file.

    See Also
    --------
    churnkit.prioritize : The call list's ranking.
    churnkit.churn_rate : The trend numbers.

    Examples
    --------
    >>> import tempfile, pathlib, churnkit as ck
    >>> data = ck.datasets.make_saas_events(n_customers=300, random_state=0)
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> path = ck.report(data.events, path=folder / "report.html")
    >>> "Headline" in path.read_text()
    True
    """
    if not isinstance(events, Events):
        snapshot = ""
        if isinstance(events, pd.DataFrame):  # a static table, one row each
            snapshot = (
                " The report's trends and cohorts need events over time; a "
                "snapshot with one row per customer has none: model it with "
                "ck.ChurnClassifier().fit(X, y), explain it with "
                "ck.ChurnExplainer, rank the accounts with ck.prioritize."
            )
        raise ChurnkitTypeError(
            f"`events` must be a churnkit Events store; got {type(events).__name__}."
            " Build one with ck.Events(...) or load a saved one with "
            f"ck.Events.load(path).{snapshot}"
        )
    label, table = _label(model, label, table)
    if label == "inactivity":  # one clear error, not one note per section
        activity_table(events, table)
    horizon = _horizon(model, horizon)
    parse_duration(horizon, name="horizon", allow_zero=False)
    top = check_int(top, "top")
    if model is not None and not hasattr(model, "predict_proba"):
        raise ChurnkitTypeError(
            f"`model` must be a fitted churn pipeline with predict_proba; got "
            f"{type(model).__name__}."
        )
    if not isinstance(currency, str):
        raise ChurnkitTypeError(
            f"`currency` must be a string such as '£' or 'EUR '; got {currency!r}."
        )
    with using_currency(currency):
        sections = build_sections(
            events,
            model,
            label=label,
            horizon=horizon,
            table=table,
            freq=freq,
            by=by,
            at=at,
            test=test,
            top=top,
            title=str(title),
            missing_tables=tuple(missing_tables),
            value=value,
        )
        if phrase is not None:
            sections = rephrased(sections, phrase)
        return write(sections, Path(path))


def rephrased(sections, phrase):
    """``sections`` with ``phrase`` applied to its notes and warnings."""
    if isinstance(sections, dict):
        return {
            k: (
                phrase(v)
                if isinstance(v, str) and k in ("note", "message")
                else [phrase(x) if isinstance(x, str) else x for x in v]
                if k == "notes" and isinstance(v, list)
                else rephrased(v, phrase)
            )
            for k, v in sections.items()
        }
    if isinstance(sections, list):
        return [rephrased(v, phrase) for v in sections]
    return sections


def _label(model, label, table) -> tuple:
    """``label`` and ``table``, or the ones ``model`` was trained on (saved in
    its file, else recorded by its training labels), else churn and usage;
    warns when the label differs from the model's."""
    saved = getattr(model, "churnkit_metadata_", None) or {}
    trained = trained_label(model)
    kind = saved.get("label") or trained.get("label")
    kinds_table = saved.get("activity_table") or trained.get("activity_table")
    if label is None:
        label = kind or "churn"
    label = check_choice(label, "label", LABELS)
    if kind is not None and label != kind:
        warn(
            f"report: label={label!r} differs from the {kind!r} labels the model "
            "was trained on; its risk and quality sections then score and judge "
            "other accounts than those it learned from. Leave `label` out to "
            "use the model's.",
            ChurnkitWarning,
        )
    if table is None:
        table = kinds_table if label == kind and kinds_table else "usage"
    if isinstance(table, list):  # (table, kinds) as a model file keeps it
        table = (table[0], tuple(table[1]))
    return label, table


def _horizon(model, horizon) -> str:
    """``horizon``, or the one ``model`` was saved with or its labels had at
    fit, or "30D"; warns when the two differ (the report would judge the model
    on another question)."""
    saved = (getattr(model, "churnkit_metadata_", None) or {}).get("horizon")
    saved = saved or trained_horizon(model)
    if horizon is None:
        return saved or DEFAULT_HORIZON
    if saved is not None and str(horizon) != str(saved):
        warn(
            f"report: horizon={horizon!r} differs from the {saved!r} the model "
            "was trained or saved with; its risk and quality sections then "
            f"measure churn over {horizon}. Leave `horizon` out to use the model's.",
            ChurnkitWarning,
        )
    return str(horizon)
