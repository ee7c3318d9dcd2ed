"""ck.report: the sections, their numbers (hand-computed) and their format."""

import re
import warnings
from html import unescape
from html.parser import HTMLParser
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import churnkit as ck
from churnkit.exceptions import (
    ChurnkitError,
    ChurnkitTypeError,
    ChurnkitWarning,
    SchemaError,
)
from churnkit.reporting._format import fmt_money
from churnkit.reporting._kpis import last_day
from churnkit.reporting._risk import (
    _quality_note,
    calibration_bins,
    label,
    latest_labelled_cutoff,
    scoring_rows,
    tier_text,
    tier_thresholds,
)
from tests.reporting._fit import fitted_logistic

SECTIONS = ("headline", "trends", "risk", "model", "data")
# how a formatted number may read: 2.5%, +0.4 pp, $1,234, $9.99, 3,708, 0.839,
# 4.7×, a date
NUMBER = re.compile(
    r"^[+-]?(\$|-\$|\+\$)?[\d,]+(\.\d+)?(%| pp|×)?$"
    r"|^\d{4}-\d{2}-\d{2}( \d\d:\d\d)?$|^–$"
)


class Page(HTMLParser):
    """The parts of the report the tests read: sections, charts, cards, cells."""

    def __init__(self):
        super().__init__()
        self.ids, self.charts, self.text = set(), [], []
        self.cards, self.cells, self.remote = [], [], []
        self._stack, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "svg" and "chart" in (attrs.get("class") or ""):
            self.charts.append(attrs.get("data-chart"))
        for key in ("src", "href"):
            if (attrs.get(key) or "").startswith(("http:", "https:", "//")):
                self.remote.append(attrs[key])
        if tag in ("script", "style"):
            self._skip += 1
        self._stack.append((tag, attrs.get("class") or ""))

    def handle_endtag(self, tag):
        while self._stack:
            t, _ = self._stack.pop()
            if t == tag:
                break
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if self._skip or not data.strip():
            return
        self.text.append(data.strip())
        classes = [c for _, c in self._stack]
        if classes and classes[-1] == "value":
            self.cards.append(data.strip())
        if self._stack and self._stack[-1] == ("td", "num"):
            self.cells.append(data.strip())


def parse(path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_every_section_and_chart_is_present(report_with_model):
    page = parse(report_with_model)
    assert set(SECTIONS) <= page.ids
    assert "call-list-table" in page.ids
    for chart in (
        "logo-churn",
        "revenue-churn",
        "nrr",
        "mrr",
        "cohorts",
        "probability",
        "gains",
        "calibration",
        "drivers",
    ):
        assert chart in page.charts
    assert any(c.startswith("by-") for c in page.charts)  # plan, segment, region
    assert len(page.charts) == len(set(page.charts))


def test_numbers_are_formatted_by_unit(report_with_model):
    page = parse(report_with_model)
    assert page.cards and page.cells
    bad = [v for v in page.cards + page.cells if not NUMBER.match(v)]
    assert not bad, bad[:10]
    # no raw fractions or float noise anywhere in the visible text
    raw = [t for t in page.text if re.search(r"\d\.\d{4,}", t)]
    assert not raw, raw[:10]
    assert any(v.endswith("%") for v in page.cards)
    assert any(v.startswith("$") for v in page.cards)


def test_self_contained(report_with_model):
    html = report_with_model.read_text(encoding="utf-8")
    page = parse(report_with_model)
    assert not page.remote
    assert "<script src" not in html and "<link" not in html
    assert "<img" not in html  # charts are inline SVG


def _hand_events(observed_until="2024-04-01"):
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "signup_time": ["2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08"],
            "plan": ["pro", "pro", "basic", "basic"],
        }
    )
    churn = pd.DataFrame({"customer_id": ["a"], "time": ["2024-02-15"]})
    return ck.Events(customers=customers, churn=churn, observed_until=observed_until)


def test_headline_numbers_by_hand(tmp_path):
    # 4 customers sign up in January; a churns on Feb 15. February: 4 active at
    # the start, 1 churns (25%); March: 3 active, none churn (0%, -25 pp).
    path = ck.report(_hand_events(), path=tmp_path / "r.html")
    page = parse(path)
    assert page.cards == ["3", "0.0%"]
    html = path.read_text(encoding="utf-8")
    assert "-25.0 pp vs previous" in html
    assert "+0 vs previous" in html
    assert "Mar 2024" in html
    assert 'Data through <strong id="as-of">2024-03-31</strong>' in html
    # no MRR in this store: the report says so instead of showing $0
    assert "Revenue churn and NRR are not available" in html
    assert "risk" not in page.ids and "model" not in page.ids


def test_breakdown_by_attribute_by_hand(tmp_path):
    # the latest cutoff whose 30-day window is observed is 2024-03-01 (data to
    # 2024-04-01); first_full_cutoff needs 90 days: move the end later
    events = _hand_events(observed_until="2024-05-01")
    churn = pd.DataFrame(
        {"customer_id": ["a", "c"], "time": ["2024-04-10", "2024-04-20"]}
    )
    events = ck.Events(
        customers=events.customers, churn=churn, observed_until="2024-05-01"
    )
    path = ck.report(events, path=tmp_path / "r.html", by="plan")
    html = path.read_text(encoding="utf-8")
    assert "Customers active on 2024-04-01 who churned within 30D" in html
    page = parse(path)
    # plan pro: a churned of a, b -> 50%; basic: c of c, d -> 50%
    assert page.cells.count("50.0%") == 2
    with pytest.raises(ChurnkitError, match="no column"):
        ck.report(events, path=tmp_path / "x.html", by="tier")


def test_tiers_are_relative_and_the_call_list_holds_no_low_tier(report_with_model):
    html = report_with_model.read_text(encoding="utf-8")
    table = html[html.index('id="call-list-table"') :]
    table = table[: table.index("</table>")]
    assert 'class="tier-low"' not in table
    assert table.count("<tr>") == 21  # header + top=20
    p = pd.Series(range(100)) / 100
    tiers = tier_thresholds(p.to_numpy())
    assert (p >= tiers["high"]).sum() == 10
    assert (p >= tiers["medium"]).sum() == 30


def test_calibration_bins_by_hand():
    y = pd.Series([0, 0, 1, 0, 1, 1]).to_numpy()
    p = pd.Series([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]).to_numpy()
    bins = calibration_bins(y, p)
    assert len(bins) == 6
    assert bins["observed"].tolist() == [0, 0, 1, 0, 1, 1]


def test_inactivity_report_without_churn_table(tmp_path):
    usage = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "c"],
            "time": [
                "2024-01-10",
                "2024-05-02",
                "2024-01-12",
                "2024-01-15",
                "2024-03-01",
                "2024-05-20",
            ],
            "event": "purchase",
        }
    )
    customers = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "signup_time": ["2024-01-01"] * 3}
    )
    events = ck.Events(customers=customers, usage=usage, observed_until="2024-07-01")
    path = ck.report(
        events, path=tmp_path / "r.html", label="inactivity", horizon="60D"
    )
    html = path.read_text(encoding="utf-8")
    assert "no usage activity for 60D" in html
    assert "Logo churn" in html
    # the kinds that count are named where the churn rule is
    events = ck.Events(
        customers=customers,
        usage=usage.assign(event=["purchase", "purchase", "return"] * 2),
        observed_until="2024-07-01",
    )
    path = ck.report(
        events, path=tmp_path / "k.html", label="inactivity", horizon="60D",
        table=("usage", ["purchase"]),
    )  # fmt: skip
    assert "no purchase in usage for 60D" in path.read_text(encoding="utf-8")


def test_bad_input_is_refused_clearly(tmp_path, small_business):
    events, _ = small_business
    with pytest.raises(ChurnkitTypeError, match="Events store.*ck.ChurnClassifier"):
        ck.report(pd.DataFrame(), path=tmp_path / "r.html")
    with pytest.raises(ChurnkitError, match="label"):
        ck.report(events, path=tmp_path / "r.html", label="contract")
    with pytest.raises(ChurnkitTypeError, match="predict_proba"):
        ck.report(events, object(), path=tmp_path / "r.html")
    # an activity table the store lacks: one error, not a note in every section
    with pytest.raises(SchemaError, match="`table`='nosuch': this Events store"):
        ck.report(events, path=tmp_path / "r.html", label="inactivity", table="nosuch")
    assert not (tmp_path / "r.html").exists()


def test_tiers_with_ties_stay_ordered():
    # 40% of the accounts share the top probability: high holds all of them,
    # and medium (whose quantile is the same value) is left out
    p = np.array([0.97] * 40 + list(np.linspace(0.1, 0.5, 60)))
    tiers = tier_thresholds(p)
    assert tiers == {"high": 0.97, "low": 0.0}
    assert "(from 97.0%; it holds 40.0% of the accounts, tied at its threshold)" in (
        tier_text(tiers, p)
    )
    assert "holds" not in tier_text(tier_thresholds(np.linspace(0, 1, 100)), p[:0])
    risk = pd.Series(p, index=pd.Index(range(100), name="customer_id"))
    ranked = ck.prioritize(risk, value=1.0, tiers=tiers)
    assert ranked["tier"].eq("high").sum() == 40
    # nearly everyone at 0: high starts at the smallest positive probability
    assert tier_thresholds(np.array([0.0] * 95 + [0.2] * 5))["high"] == 0.2


def _purchases():
    usage = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "c"],
            "time": ["2024-01-10", "2024-05-02", "2024-01-12", "2024-01-15",
                     "2024-03-01", "2024-05-20"],
            "event": "purchase",
        }
    )  # fmt: skip
    customers = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "signup_time": ["2024-01-01"] * 3}
    )
    return ck.Events(customers=customers, usage=usage, observed_until="2024-07-01")


def test_a_log_without_recorded_churn_reads_not_measured(tmp_path):
    # recorded churns asked of a purchase log: every customer would stay
    # active forever and churn read 0.0 %; the headline says why instead
    path = ck.report(_purchases(), path=tmp_path / "r.html")
    page = parse(path)
    html = path.read_text(encoding="utf-8")
    assert page.cards == []
    assert "0.0%" not in html
    headline = html[html.index('id="headline"') : html.index('id="trends"')]
    headline = unescape(headline)
    assert "Churn is not measured" in headline
    assert "recorded cancellations" not in html
    assert "Churn: none recorded in this data (see below)" in html
    assert "label='inactivity'" in headline
    assert "Churn by customer attribute" not in html
    # the same log with inactivity churn has its cards
    path = ck.report(_purchases(), path=tmp_path / "i.html", label="inactivity")
    assert "Logo churn" in path.read_text(encoding="utf-8")


def test_inactivity_quality_is_measured_on_the_accounts_it_scores():
    # at the 2024-03-15 cutoff with a 60-day horizon, a (last purchase
    # 2024-01-10) and b (2024-01-12) have been idle for longer than 60 days:
    # churned already by the rule, not scored, so not evaluated either
    events = _purchases()
    rows = ck.make_cutoffs(events, at="2024-03-15")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labelled = label(events, rows, "inactivity", "60D", "usage")
        scored = scoring_rows(events, "2024-03-15", "inactivity", "usage", "60D")
    assert labelled["customer_id"].tolist() == ["c"]
    assert scored["customer_id"].tolist() == ["c"]


def test_the_report_takes_the_saved_model_horizon(tmp_path, small_business):
    events, model = small_business
    saved = ck.save(model, tmp_path / "m.ckm", horizon="60D")
    loaded = ck.load(saved, events=events)
    path = ck.report(events, loaded, path=tmp_path / "r.html", top=5)
    assert "who churned within 60D" in path.read_text(encoding="utf-8")
    with pytest.warns(ChurnkitWarning, match="differs from the '60D'"):
        ck.report(events, loaded, path=tmp_path / "x.html", horizon="30D", top=5)


def test_the_report_takes_the_horizon_the_model_was_trained_with(small_business):
    # labels carry their horizon to the fit: a model fitted on 90-day labels
    # is judged over 90 days, and a cutoff its training outcomes reach into
    # is in-sample (was: judged over 30D, "the model was not trained on it")
    from churnkit.reporting._api import _horizon

    _, model = small_business
    assert model.named_steps["features"].training_cutoffs_["horizon"] == "30D"
    features = SimpleNamespace(
        training_cutoffs_={"last": "2023-08-01 00:00:00", "horizon": "90D"}
    )
    stub = SimpleNamespace(named_steps={"features": features})
    assert _horizon(stub, None) == "90D"
    with pytest.warns(ChurnkitWarning, match="differs from the '90D' the model was"):
        _horizon(stub, "30D")
    note, _ = _quality_note(stub, pd.Timestamp("2023-10-01"), "90D")
    assert (
        "the model's training labels reach into (cutoffs to 2023-08-01 with a " in note
    )
    assert "90D horizon, outcomes to 2023-10-30): in-sample" in note
    note, _ = _quality_note(stub, pd.Timestamp("2023-11-01"), "90D")
    assert note.endswith("the model was not trained on it.")


def test_in_sample_quality_says_so_and_prefers_the_saved_validation(small_business):
    _, model = small_business
    last = pd.Timestamp(model.named_steps["features"].training_cutoffs_["last"])
    note, saved = _quality_note(model, last + pd.offsets.MonthBegin(1), "30D")
    assert saved is None and "the model was not trained on it" in note
    note, saved = _quality_note(model, last, "30D")
    assert saved is None and "in-sample, they overstate its quality" in note
    assert "Pass `test=`" in note
    metrics = {"roc_auc": 0.704, "pr_auc": 0.1, "base_rate": 0.03, "lift@10%": 2.0,
               "capture@10%": 0.2, "n": 1322.0, "positives": 32.0}  # fmt: skip
    with_saved = SimpleNamespace(
        named_steps=model.named_steps, churnkit_metadata_={"metrics": metrics}
    )
    note, saved = _quality_note(with_saved, last, "30D")
    assert saved == metrics
    assert note.startswith("The figures are the forward validation saved with")


def test_the_latest_labelled_cutoff_is_at_midnight():
    # data to one nanosecond after the last event (the default end of a log
    # with times): the cutoff is June 1st at midnight, not 1 ns after it
    events = _purchases().with_observed_until("2024-07-01 00:00:00.000000001")
    assert latest_labelled_cutoff(events, "MS", "30D") == pd.Timestamp("2024-06-01")


@pytest.mark.parametrize(
    ("cards", "charts", "card_name", "title"),
    [
        (True, True, "AUC (in-sample)", "Cumulative gains (in-sample)"),
        (False, True, "AUC", "Cumulative gains (in-sample)"),  # saved validation
        (False, False, "AUC", "Cumulative gains"),
    ],
)
def test_in_sample_figures_say_so_where_they_are_read(cards, charts, card_name, title):
    from churnkit.reporting._risk import calibration_bins
    from churnkit.reporting._sections import model_section

    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.2).astype(int)
    p = np.clip(0.2 + 0.3 * y + rng.normal(0, 0.1, 200), 0, 1)
    quality = {
        "metrics": ck.evaluate(y, p),
        "y": y,
        "p": p,
        "calibration": calibration_bins(y, p),
        "note": None,
        "cards_in_sample": cards,
        "charts_in_sample": charts,
    }
    section = model_section(quality, None)
    assert [m[0] for m in section["metrics"]][0] == card_name
    assert all(m[0].endswith(" (in-sample)") == cards for m in section["metrics"][:3])
    assert title in unescape(section["charts"][0])


def test_notes_and_warnings_are_rephrased_for_the_command_line(tmp_path):
    from churnkit.cli import for_the_command_line
    from churnkit.reporting._api import rephrased

    sections = {
        "trends": {"notes": ["map yours with `columns={'billing': {...}}`."]},
        "model": {"note": "in-sample. Pass `test=` (later labelled rows) for honest "
                  "figures.", "metrics": [("AUC", "0.7", "x")]},
        "data": {"warnings": [{"category": "W", "message": "see `labels.attrs"
                               "['excluded']`", "count": 1}]},
        "title": "Churn report `columns=`",
    }  # fmt: skip
    out = rephrased(sections, for_the_command_line)
    assert out["trends"]["notes"] == ["map yours with `--map billing.YOUR_COLUMN=mrr`."]
    assert (
        "churnkit train" in out["model"]["note"] and "test=" not in out["model"]["note"]
    )
    assert out["model"]["metrics"] == [("AUC", "0.7", "x")]  # figures untouched
    assert out["title"] == sections["title"]  # only notes and messages


@pytest.mark.parametrize(
    "observed_until, day",
    [
        ("2024-04-01", "2024-03-31"),  # dates only: the whole last day
        ("2024-03-31 15:00:00.000000001", "2024-03-31"),  # timed rows
        # events end 06-30 23:59, renewals booked at 07-01 00:00 (fightchurn)
        ("2020-07-01 00:00:00.000000001", "2020-06-30"),
    ],
)
def test_data_through_names_the_last_day_with_data(observed_until, day):
    assert last_day(pd.Timestamp(observed_until)) == pd.Timestamp(day)


def test_scores_that_do_not_differ_make_no_high_tier():
    # a model giving every account 0.7 % made them all "high" (top 10 %)
    p = np.full(28, 0.007)
    tiers = tier_thresholds(p)
    assert tiers == {"low": 0.0}
    assert tier_text(tiers, p) == (
        "high: none (the scores do not single out a top 10%: 100.0% of the "
        "accounts share the highest probability, 0.7%); the rest: low"
    )
    risk = pd.Series(p, index=pd.Index(range(28), name="customer_id"))
    assert ck.prioritize(risk, value=1.0, tiers=tiers)["tier"].eq("low").all()
    # 20 of 28 tied at the bottom: medium starts above the tie (1 %), not at it
    p = np.array([0.007] * 20 + [0.01, 0.02, 0.03, 0.5, 0.6, 0.7, 0.8, 0.9])
    tiers = tier_thresholds(p)
    assert tiers["medium"] == 0.01 and tiers["high"] > 0.5
    ranked = ck.prioritize(
        pd.Series(p, index=pd.Index(range(28), name="customer_id")),
        value=1.0,
        tiers=tiers,
    )
    assert ranked["tier"].eq("low").sum() == 20


def test_a_report_on_a_loaded_store_names_the_warnings_of_its_build(tmp_path):
    # 'Login' and 'login ' are read as 'login' with a warning when the store is
    # built; a report written later, from the saved store, still lists it
    usage = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "event": ["login", "Login", "login "],
            "time": ["2024-01-10", "2024-02-10", "2024-03-10"],
        }
    )
    with pytest.warns(ChurnkitWarning) as record:
        built = ck.Events(
            customers=_hand_events().customers[["customer_id", "signup_time"]],
            usage=usage,
            observed_until="2024-04-01",
        )
    built.save(tmp_path / "store")
    events = ck.Events.load(tmp_path / "store")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = ck.report(events, path=tmp_path / "r.html", label="inactivity")
    html = unescape(path.read_text(encoding="utf-8"))
    data = html[html.index('id="data"') :]
    reading = data[
        data.index("Warnings met while reading the data") : data.index(
            "Warnings met while building this report"
        )
    ]
    (message,) = {str(w.message) for w in record}
    first_line = message.splitlines()[0]
    assert first_line in reading
    assert "(1×)" in reading


def test_the_warnings_a_report_lists_reach_the_caller_too(tmp_path):
    # a model whose scores mean nothing at `at` was said in the HTML only: the
    # caller (and `churnkit report` on stderr) now gets each warning once
    events = _purchases()
    with pytest.warns(ChurnkitWarning) as record:
        path = ck.report(events, path=tmp_path / "r.html", label="inactivity")
    html = unescape(path.read_text(encoding="utf-8"))
    listed = html[html.index("Warnings met while building this report") :]
    messages = [str(w.message) for w in record]
    assert messages and len(set(messages)) == len(messages)  # once each
    for message in messages:
        assert message.splitlines()[0] in listed


def test_a_breakdown_of_many_values_keeps_the_rest_in_one_row():
    from churnkit.reporting._kpis import MAX_LEVELS, breakdown

    # 15 countries: k0 has 15 customers, k1 14, ..., k14 1; the first of each
    # country's customers churned. 11 largest shown, the other 4 in one row
    sizes = {f"k{i}": 15 - i for i in range(15)}
    ids = [f"{k}-{j}" for k, n in sizes.items() for j in range(n)]
    customers = pd.DataFrame(
        {"customer_id": ids, "country": [i.split("-")[0] for i in ids]}
    )
    labels = pd.DataFrame(
        {"customer_id": ids, "churned": [i.endswith("-0") for i in ids]}
    )
    (item,) = breakdown(SimpleNamespace(customers=customers), labels, ["country"])
    table = item["table"]
    assert len(table) == MAX_LEVELS == 12
    assert table.index[-1] == "(the other 4 values)"
    # k11..k14: 4 + 3 + 2 + 1 = 10 customers, 4 churned
    assert table.iloc[-1][["customers", "churned"]].tolist() == [10, 4]
    assert table["customers"].sum() == len(ids) and table["churned"].sum() == 15
    # the named values by churn rate: k10 (1 of 5) first, k0 (1 of 15) last
    assert table.index[:-1].tolist() == [f"k{i}" for i in range(10, -1, -1)]


def test_headline_changes_are_against_the_period_just_before():
    from churnkit.reporting._kpis import headline, trends

    # a, b, c, d leave in February; e and f start in April, f leaves in May.
    # March and April start with no customer (no rate), May with 2 (1 left):
    # May's cards compare with April (2 customers, $20 at its end), not with
    # February (0, $0), and the rates with April's, which has none
    subs = pd.DataFrame(
        {
            "customer_id": list("abcdef"),
            "start": ["2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08",
                      "2024-04-10", "2024-04-12"],
            "end": ["2024-02-10", "2024-02-11", "2024-02-12", "2024-02-20", None,
                    "2024-05-15"],
            "mrr": 10.0,
        }
    )  # fmt: skip
    events = ck.Events(subscriptions=subs, observed_until="2024-06-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cards = headline(events, trends(events, "MS", {}), "MS")["cards"]
    got = {c["name"]: (c["value"], c["change"]) for c in cards}
    assert got["Active customers"] == ("1", "-1")
    assert got["MRR"] == ("$10", "-$10")
    assert got["Logo churn"] == ("50.0%", "–")


def test_money_in_the_currency_given(small_business, tmp_path):
    # a business billing in pounds: the report showed '$' on MRR and value at
    # risk, with no way to say otherwise
    events, model = small_business
    path = ck.report(events, model, path=tmp_path / "gbp.html", top=5, currency="£")
    page = parse(path)
    html = path.read_text(encoding="utf-8")
    assert any(v.startswith("£") for v in page.cards)
    assert not [v for v in page.cards + page.cells if v.lstrip("+-").startswith("$")]
    assert "£" in html.split("<svg", 1)[1]  # the money axes of the charts too
    # the default stays dollars, and the sign is not a setting left behind
    assert fmt_money(1200) == "$1,200"
    with pytest.raises(ck.ChurnkitTypeError, match="`currency` must be a string"):
        ck.report(events, path=tmp_path / "x.html", currency=1)


def test_a_model_trained_on_inactivity_is_reported_as_such(tmp_path):
    from churnkit.reporting._api import _label

    # the labels record how they were made and the pipeline keeps it: the
    # report (and a saved file) score the model by inactivity without being
    # told again (was: recorded churns, "Churn is not measured" on a log)
    events = ck.datasets.make_saas_events(n_customers=300, random_state=1).events
    rows = ck.make_cutoffs(events, start="2024-06-01", end="2024-12-01", freq="MS")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = ck.label_inactivity(
            events, rows, horizon="60D", table=("billing", ["payment"])
        )
        model = ck.make_churn_pipeline(events, model="logistic", random_state=0)
        model.fit(labels[["customer_id", "cutoff_time"]], labels["churned"])
    assert labels.attrs["label"] == "inactivity"
    trained = model.named_steps["features"].training_cutoffs_
    assert trained["label"] == "inactivity"
    assert trained["activity_table"] == ["billing", ["payment"]]
    header = ck.read_header(ck.save(model, tmp_path / "m.ckm"))
    assert (header["label"], header["horizon"]) == ("inactivity", "60D")
    assert header["activity_table"] == ["billing", ["payment"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = ck.report(events, model, path=tmp_path / "r.html", top=5)
    assert "no payment in billing for 60D" in path.read_text(encoding="utf-8")
    with pytest.warns(ChurnkitWarning, match="differs from the 'inactivity'"):
        assert _label(model, "churn", None) == ("churn", "usage")
    assert _label(None, None, None) == ("churn", "usage")
    churn = ck.label_churn(events, rows, horizon="30D")
    assert churn.attrs["label"] == "churn"


def test_accounts_that_gave_notice_are_flagged_in_the_scores():
    # a RevenueCat app: 63 users had turned off auto-renew; scored without a
    # flag, 50 of them sat in the low tier of the call list
    from churnkit.reporting._risk import score_today

    n = 120
    ids = [f"u{i:03d}" for i in range(n)]
    starts = pd.date_range("2023-01-01", periods=n, freq="2D")
    subs = pd.DataFrame({"customer_id": ids, "start": starts, "end": None,
                         "cancel_time": None, "mrr": 9.99})  # fmt: skip
    subs.loc[::4, "end"] = pd.Timestamp("2024-03-01") + pd.to_timedelta(
        np.arange(0, n, 4), "D"
    )
    subs.loc[::4, "cancel_time"] = subs.loc[::4, "end"] - pd.Timedelta("20D")
    events = ck.Events(subscriptions=subs, observed_until="2024-06-01")
    rows = ck.make_cutoffs(events, start="2023-10-01", end="2024-02-01")
    model = fitted_logistic(events, rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scored = score_today(
            model, events, pd.Timestamp("2024-04-01"), "churn", "usage"
        )
    table = scored["table"]
    at = pd.Timestamp("2024-04-01")
    given = (subs["cancel_time"] < at) & (subs["end"] >= at)
    expected = set(subs.loc[given, "customer_id"])
    assert set(table.loc[table["notice_given"], "customer_id"]) == expected
    assert len(expected) > 0
