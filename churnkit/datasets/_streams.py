"""The random draws of :func:`churnkit.datasets.make_saas_events`.

Customers, billing anniversaries and churn, then the usage, billing and support
rows of each customer, all as numpy arrays of integer seconds since ``start``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.datasets._params import (
    CAUSE_SHARES,
    CHURN_CAUSES,
    CSAT_MISSING_RATE,
    DAY,
    DECLINE,
    DECLINE_DAYS,
    DECLINE_DROP,
    DECLINE_FULL_AT,
    DISCOUNT_RATE,
    DOWNGRADE,
    DOWNGRADE_DAYS,
    DOWNGRADE_RATE,
    DUNNING_GRACE_DAYS,
    EXISTING_MAX_AGE_DAYS,
    EXISTING_SHARE,
    FAILED,
    FAILED_PAYMENT_RATE,
    FAILURE_PRECURSOR_SHARE,
    FINAL_FAILURE_SHARES,
    MONTH,
    MONTHLY_CHURN,
    NOISE_FAILURE_SHARES,
    NOISE_PRICE_FACTOR,
    PAYMENT_ATTEMPT_DAYS,
    PLAN_CHURN_FACTOR,
    PLAN_MEDIAN_SEATS,
    PLAN_SEAT_RANGE,
    PLAN_SEGMENT_SHARES,
    PLAN_SHARES,
    PLAN_USAGE_FACTOR,
    PLANS,
    PRICE,
    PRICE_INCREASE_DAYS,
    PRICE_INCREASE_FACTOR,
    PRICE_INCREASE_RATE,
    PRICE_PER_SEAT,
    REFUND_RATE,
    REGION_SHARES,
    REGIONS,
    RESOLUTION_FACTOR,
    RESOLUTION_HOURS,
    RESOLUTION_SD,
    SEATS_CHURN_ELASTICITY,
    SEGMENTS,
    SIGNUP_GROWTH,
    TENURE_CHURN_FACTOR,
    TICKET_BURST_DAYS,
    TICKET_BURST_RATE,
    TICKET_BURST_SIZE,
    TICKET_CATEGORY,
    TICKET_CSAT,
    TICKET_PRIORITY,
    TICKET_RATE,
    TROUBLE,
    TROUBLE_TICKETS,
    TROUBLE_WINDOW_DAYS,
    UPGRADE_RATE,
    USAGE_DIP_DAYS,
    USAGE_DIP_DROP,
    USAGE_DIP_RATE,
    USAGE_EVENTS_PER_MONTH,
    USAGE_KIND_SHARES,
    USAGE_LEVEL_SD,
    USAGE_QUANTITY_MIN,
    USAGE_QUANTITY_SCALE,
    USAGE_SEATS_ELASTICITY,
    USAGE_TREND_SD,
    WEEK,
    draw_categorical,
    draw_days,
    draw_uniform,
    group_cumsum,
    sort_order,
)

_BLOCK = 65_536  # customers per usage block: bounds memory, fixes the random stream
_UPGRADE_ROW, _DOWNGRADE_ROW, _PRICE_ROW, _DISCOUNT_ROW = 1, 2, 3, 4


# --------------------------------------------------------------------------
# customers, billing anniversaries and churn


def draw_customers(rng, n, clock):
    n_old = int(round(EXISTING_SHARE * n))
    n_new = n - n_old
    old = -rng.integers(1, EXISTING_MAX_AGE_DAYS * DAY + 1, n_old)
    weights = (1 + SIGNUP_GROWTH) ** np.arange(clock.months)
    month = rng.choice(clock.months, n_new, p=weights / weights.sum())
    new = clock.draw(rng, clock.month_starts[month], clock.month_starts[month + 1])
    signup = np.sort(np.concatenate([old, new]))
    plan = rng.choice(len(PLANS), n, p=PLAN_SHARES).astype(np.int8)
    low, high = np.array(PLAN_SEAT_RANGE).T
    seats = np.round(np.asarray(PLAN_MEDIAN_SEATS)[plan] * rng.lognormal(0, 0.7, n))
    seats = np.clip(seats, low[plan], high[plan]).astype(np.int64)
    width = max(5, len(str(n - 1)))
    return {
        "n": n,
        "ids": np.strings.add("C-", np.strings.zfill(np.arange(n).astype("U"), width)),
        "signup": signup,
        "plan": plan,
        "seats": seats,
        "segment": draw_categorical(rng, PLAN_SEGMENT_SHARES, plan),
        "region": rng.choice(len(REGIONS), n, p=REGION_SHARES).astype(np.int8),
        "mrr": seats * np.asarray(PRICE_PER_SEAT)[plan],
        "delay": rng.integers(30, 2 * 3600, n),  # invoice -> payment, seconds
    }


def anniversaries(signup, clock):
    """Monthly billing anniversaries in [max(signup, start), end) as (n, K) seconds.

    Returns ``(times, k, valid)``: the anniversary times, how many months after
    signup each one is, and which ones fall inside the data.
    """
    t = clock.to_datetime(signup)
    day = t.astype("M8[D]")
    month = t.astype("M8[M]")
    dom = (day - month.astype("M8[D]")).astype(np.int64)
    tod = (t - day).astype("m8[s]").astype(np.int64)
    start_month = np.datetime64(clock.start.to_datetime64(), "M")
    k0 = np.maximum((start_month - month).astype(np.int64) - 1, 0)
    k = k0[:, None] + np.arange(clock.months + 3)
    mk = month[:, None] + k
    first = mk.astype("M8[D]")
    dim = ((mk + 1).astype("M8[D]") - first).astype(np.int64)
    date = first + np.minimum(dom[:, None], dim - 1)
    days = (date - np.datetime64(clock.start.floor("D").to_datetime64(), "D")).astype(
        np.int64
    )
    offset = int((clock.start - clock.start.floor("D")) // pd.Timedelta("1s"))
    times = days * DAY + tod[:, None] - offset
    valid = (times >= np.maximum(signup, 0)[:, None]) & (times < clock.end_s)
    return times, k, valid


def draw_churn(rng, cust, ann, clock):
    """Who churns, when, and why; plus each customer's active span [lo, hi)."""
    times, k, valid = ann
    n = cust["n"]
    tenure = np.asarray(TENURE_CHURN_FACTOR)[np.digitize(k, [4, 13])]
    rel_seats = cust["seats"] / np.asarray(PLAN_MEDIAN_SEATS)[cust["plan"]]
    hazard = (
        MONTHLY_CHURN
        * np.asarray(PLAN_CHURN_FACTOR)[cust["plan"]]
        * rel_seats**SEATS_CHURN_ELASTICITY
    )[:, None]
    hit = valid & (k >= 1) & (rng.random(times.shape) < hazard * tenure)
    initiated = hit.any(axis=1)
    col = hit.argmax(axis=1)
    anchor = times[np.arange(n), col]
    cause = rng.choice(len(CHURN_CAUSES), n, p=CAUSE_SHARES).astype(np.int8)
    cause[~initiated] = -1
    n_fail = rng.choice([1, 2, 3], n, p=FINAL_FAILURE_SHARES)
    last_fail = (
        anchor + cust["delay"] + np.asarray(PAYMENT_ATTEMPT_DAYS)[n_fail - 1] * DAY
    )
    churn = np.where(
        cause == FAILED, last_fail + draw_days(rng, DUNNING_GRACE_DAYS, n), anchor
    )
    churned = initiated & (churn < clock.end_s)
    lo = np.maximum(cust["signup"], 0)
    hi = np.where(churned, churn, clock.end_s)
    return {
        "cause": cause,  # -1: never initiated churn
        "churned": churned,
        "churn": churn,
        "col": col,  # anniversary column of the churn (the failing invoice)
        "n_fail": n_fail,
        "signup": cust["signup"],
        "lo": lo,
        "hi": hi,
        "precursor": rng.random(n) < FAILURE_PRECURSOR_SHARE,
    }


def _before_churn(rng, clock, life, who, days):
    """Seasonal times ``days[0]``-``days[1]`` days before the churn of ``who``.

    The part of a window before ``start`` is not in the extract: a time drawn
    there comes back as -1 (and is dropped). A window before a new customer's
    signup is squeezed into its life.
    """
    churn, lo = life["churn"][who], life["lo"][who]
    w_lo = churn - int(days[1] * DAY)
    w_hi = churn - int(days[0] * DAY)
    visible = w_lo + rng.random(len(who)) * (w_hi - w_lo) >= 0
    new = life["signup"][who] >= 0
    w_lo = np.maximum(w_lo, lo)
    w_hi = np.where(new & (w_hi <= lo), churn, w_hi)
    w_hi = np.maximum(w_hi, w_lo + 1)
    t = clock.draw(rng, w_lo, w_hi)
    return np.where(visible | new, t, -1)


def _noise_counts(rng, life, rate):
    """Occurrences per customer of a noise event happening ``rate`` times a month."""
    months = (life["hi"] - life["lo"]) / MONTH
    return rng.poisson(rate * months)


# --------------------------------------------------------------------------
# usage


def _usage_params(rng, cust, life, usage_rate):
    n = cust["n"]
    plan = cust["plan"]
    level = rng.lognormal(-(USAGE_LEVEL_SD**2) / 2, USAGE_LEVEL_SD, n)
    rel_seats = cust["seats"] / np.asarray(PLAN_MEDIAN_SEATS)[plan]
    rate = (
        usage_rate
        * USAGE_EVENTS_PER_MONTH
        * np.asarray(PLAN_USAGE_FACTOR)[plan]
        * rel_seats**USAGE_SEATS_ELASTICITY
        * level
    )
    lo, hi = life["lo"], life["hi"]
    dip_len = draw_days(rng, USAGE_DIP_DAYS, n)
    has_dip = rng.random(n) < -np.expm1(-USAGE_DIP_RATE * (hi - lo) / MONTH)
    dip_start = lo + (rng.random(n) * np.maximum(hi - lo - dip_len, 0)).astype(np.int64)
    decline = life["churned"] & (life["cause"] == DECLINE)
    return {
        "rate": rate,
        "slope": rng.normal(0, USAGE_TREND_SD, n),
        "dip_start": np.where(has_dip, dip_start, -1),
        "dip_end": np.where(has_dip, dip_start + dip_len, -1),
        "dip_keep": 1 - draw_uniform(rng, USAGE_DIP_DROP, n),
        "decline_start": life["churn"] - draw_days(rng, DECLINE_DAYS, n),
        "decline_drop": np.where(decline, draw_uniform(rng, DECLINE_DROP, n), 0.0),
    }


def make_usage(rng, cust, life, clock, usage_rate):
    """Usage rows (customer, seconds, kind, quantity), sorted by time."""
    p = _usage_params(rng, cust, life, usage_rate)
    n_weeks = -(-clock.end_s // WEEK)
    edges = np.minimum(np.arange(n_weeks + 1) * WEEK, clock.end_s)
    parts = [
        _usage_block(rng, p, life, clock, edges, slice(i, min(i + _BLOCK, cust["n"])))
        for i in range(0, cust["n"], _BLOCK)
    ]
    cid = np.concatenate([q[0] for q in parts])
    t = np.concatenate([q[1] for q in parts])
    order = sort_order([t], [clock.end_s])
    cid, t = cid[order], t[order]
    kind = draw_categorical(rng, USAGE_KIND_SHARES, cust["plan"][cid])
    scale = np.asarray(USAGE_QUANTITY_SCALE)[kind]
    qty = np.asarray(USAGE_QUANTITY_MIN, dtype=np.float64)[kind] + np.floor(
        rng.exponential(1.0, len(kind)) * scale
    )
    return cid, t, kind, qty


def _usage_block(rng, p, life, clock, edges, sl):
    """Events of the customers in ``sl``, in week-major order (cheap to sort)."""
    lo, hi = life["lo"][sl], life["hi"][sl]
    weeks = np.arange(len(edges) - 1)[:, None]
    mid = ((edges[:-1] + edges[1:]) / 2)[:, None]
    mult = np.maximum(1.0 + mid / MONTH * p["slope"][sl], 0.2)
    dip = np.flatnonzero(p["dip_start"][sl] >= 0)  # few customers: sparse updates
    in_dip = (mid >= p["dip_start"][sl][dip]) & (mid < p["dip_end"][sl][dip])
    mult[:, dip] *= np.where(in_dip, p["dip_keep"][sl][dip], 1.0)
    dec = np.flatnonzero(p["decline_drop"][sl] > 0)
    d0, d1 = p["decline_start"][sl][dec], life["churn"][sl][dec]
    ramp = np.clip((mid - d0) / np.maximum(DECLINE_FULL_AT * (d1 - d0), 1), 0.0, 1.0)
    mult[:, dec] *= 1.0 - p["decline_drop"][sl][dec] * ramp
    # activity mass of each (week, customer) cell inside [lo, hi)
    m_edges = clock.mass(edges)
    first, last = lo // WEEK, (hi - 1) // WEEK
    a = np.where(weeks == first, clock.mass(lo), m_edges[:-1, None])
    b = np.where(weeks == last, clock.mass(hi), m_edges[1:, None])
    active = (weeks >= first) & (weeks <= last) & (hi > lo)
    lam = np.where(active, (b - a) / clock.per_month, 0.0) * mult * p["rate"][sl]
    counts = rng.poisson(lam).ravel()
    cells = np.flatnonzero(counts)
    reps = counts[cells]
    a_e = np.repeat(a.ravel()[cells], reps)
    b_e = np.repeat(b.ravel()[cells], reps)
    cid = np.repeat(cells % lam.shape[1], reps) + sl.start
    y = a_e + rng.random(len(a_e)) * (b_e - a_e)
    return cid.astype(np.int32), clock.invert(y, life["lo"][cid], life["hi"][cid])


# --------------------------------------------------------------------------
# billing


def _payment_attempts(rng, cust, life, ann):
    """Invoice, payment and payment_failed rows: (customer, seconds, kind, invoice)."""
    times, _, valid = ann
    lo, hi = life["lo"], life["hi"]
    # no invoices while a failed-payment churner is in dunning
    dunning = life["cause"] == FAILED
    is_inv = valid & (times >= lo[:, None]) & (times < hi[:, None])
    is_inv &= ~dunning[:, None] | (np.arange(times.shape[1]) <= life["col"][:, None])
    ci, cj = np.nonzero(is_inv)
    inv_t = times[ci, cj]
    row = np.full(times.shape, -1, dtype=np.int64)
    row[ci, cj] = np.arange(len(ci))
    n_fail = np.where(
        rng.random(len(ci)) < FAILED_PAYMENT_RATE,
        rng.choice([1, 2, 3], len(ci), p=NOISE_FAILURE_SHARES),
        0,
    )
    recovered = np.ones(len(ci), dtype=bool)
    fp = np.flatnonzero(life["cause"] == FAILED)
    prev = row[fp, np.maximum(life["col"][fp] - 1, 0)]
    prev = prev[(life["col"][fp] > 0) & (prev >= 0) & life["precursor"][fp]]
    n_fail[prev] = 1
    final = row[fp, life["col"][fp]]  # always issued: the anchor is in [lo, hi)
    fp, final = fp[final >= 0], final[final >= 0]
    n_fail[final] = life["n_fail"][fp]
    recovered[final] = False
    tries = n_fail + recovered
    inv = np.repeat(np.arange(len(ci)), tries)
    attempt = np.arange(len(inv)) - np.repeat(np.cumsum(tries) - tries, tries)
    c = ci[inv]
    t = inv_t[inv] + cust["delay"][c] + np.asarray(PAYMENT_ATTEMPT_DAYS)[attempt] * DAY
    kind = np.where(attempt < n_fail[inv], 2, 1)
    refund = rng.random(len(ci)) < REFUND_RATE
    r_t = inv_t[refund] + draw_days(rng, (1, 20), int(refund.sum()))
    return (
        np.concatenate([ci, c, ci[refund]]),
        np.concatenate([inv_t, t, r_t]),
        np.concatenate([np.zeros(len(ci)), kind, np.full(len(r_t), 3)]).astype(np.int8),
        np.concatenate(
            [np.zeros(len(ci) + len(t)), draw_uniform(rng, (0.1, 1.0), len(r_t))]
        ),
    )


def _plan_changes(rng, life, clock):
    """plan_change and discount rows: (customer, seconds, row type, factor)."""
    n = len(life["lo"])
    rows = []
    for kind, rate, bounds in (
        (_UPGRADE_ROW, UPGRADE_RATE, (1.1, 1.6)),
        (_DOWNGRADE_ROW, DOWNGRADE_RATE, (0.5, 0.85)),
        (_PRICE_ROW, PRICE_INCREASE_RATE, NOISE_PRICE_FACTOR),
        (_DISCOUNT_ROW, DISCOUNT_RATE, (0.75, 0.9)),
    ):
        who = np.repeat(np.arange(n), _noise_counts(rng, life, rate))
        who = who[life["hi"][who] > life["lo"][who]]
        t = clock.draw(rng, life["lo"][who], life["hi"][who])
        rows.append((who, t, kind, draw_uniform(rng, bounds, len(who))))
    for cause, kind, days, bounds in (
        (PRICE, _PRICE_ROW, PRICE_INCREASE_DAYS, PRICE_INCREASE_FACTOR),
        (DOWNGRADE, _DOWNGRADE_ROW, DOWNGRADE_DAYS, (0.5, 0.85)),
    ):
        who = np.flatnonzero(life["churned"] & (life["cause"] == cause))
        t = _before_churn(rng, clock, life, who, days)
        rows.append((who, t, kind, draw_uniform(rng, bounds, len(who))))
    return (
        np.concatenate([r[0] for r in rows]),
        np.concatenate([r[1] for r in rows]),
        np.concatenate([np.full(len(r[0]), r[2], dtype=np.int8) for r in rows]),
        np.concatenate([r[3] for r in rows]),
    )


def make_billing(rng, cust, life, ann, clock):
    """Billing rows with amounts, MRR and plan, sorted by time."""
    pc, pt, pkind, pfrac = _payment_attempts(rng, cust, life, ann)
    cc, ct, ctype, cfactor = _plan_changes(rng, life, clock)
    c = np.concatenate([pc, cc])
    t = np.concatenate([pt, ct])
    ctype = np.concatenate([np.zeros(len(pc), dtype=np.int8), ctype])
    kind = np.where(ctype == 0, np.concatenate([pkind, np.zeros(len(cc))]), 4)
    kind = np.where(ctype == _DISCOUNT_ROW, 5, kind).astype(np.int8)
    value = np.concatenate([pfrac, cfactor])
    keep = (t >= life["lo"][c]) & (t < life["hi"][c])
    c, t, kind, ctype, value = c[keep], t[keep], kind[keep], ctype[keep], value[keep]
    order = sort_order([c, t, kind], [cust["n"], clock.end_s, 5])
    c, t, kind, ctype, value = (
        c[order],
        t[order],
        kind[order],
        ctype[order],
        value[order],
    )
    amount, mrr, plan = _mrr_path(cust, c, kind, ctype, value)
    order = sort_order([t, c, kind], [clock.end_s, cust["n"], 5])
    return c[order], t[order], kind[order], amount[order], mrr[order], plan[order]


def _mrr_path(cust, c, kind, ctype, value):
    """Plan and MRR after each row (rows grouped by customer, in time order)."""
    first = np.r_[True, c[1:] != c[:-1]] if len(c) else np.zeros(0, dtype=bool)
    step = np.select([ctype == _UPGRADE_ROW, ctype == _DOWNGRADE_ROW], [1, -1], 0)
    plan0 = cust["plan"][c].astype(np.int64)
    plan = np.clip(plan0 + group_cumsum(step, first), 0, len(PLANS) - 1)
    plan_before = np.where(first, plan0, np.r_[0, plan[:-1]])
    price = np.asarray(PRICE_PER_SEAT)
    tier = price[plan] / price[plan_before]
    factor = np.where(ctype == 0, 1.0, np.where(plan != plan_before, tier, value))
    mrr = np.round(cust["mrr"][c] * np.exp(group_cumsum(np.log(factor), first)), 2)
    mrr_before = np.where(first, np.round(cust["mrr"][c], 2), np.r_[0.0, mrr[:-1]])
    idx = np.arange(len(c))
    last_inv = np.maximum.accumulate(np.where(kind == 0, idx, -1))
    has_inv = (last_inv >= 0) & (c[np.maximum(last_inv, 0)] == c)
    invoiced = np.where(has_inv, mrr[np.maximum(last_inv, 0)], mrr_before)
    amount = np.select(
        [kind == 0, kind == 3, kind == 4, kind == 5],
        [
            mrr,
            np.round(value * invoiced, 2),
            np.round(mrr - mrr_before, 2),
            np.round(mrr_before - mrr, 2),
        ],
        invoiced,
    )
    return amount, mrr, plan.astype(np.int8)


# --------------------------------------------------------------------------
# support


def make_support(rng, cust, life, clock):
    """Tickets: (customer, opened, closed or -1, priority, category, csat)."""
    n = cust["n"]
    lo, hi = life["lo"], life["hi"]
    seg_rate = np.array([TICKET_RATE[s] for s in SEGMENTS])[cust["segment"]]
    seg_rate = (
        seg_rate * (cust["seats"] / np.asarray(PLAN_MEDIAN_SEATS)[cust["plan"]]) ** 0.2
    )
    base = np.repeat(np.arange(n), rng.poisson(seg_rate * (hi - lo) / MONTH))
    base = base[hi[base] > lo[base]]
    base_t = clock.draw(rng, lo[base], hi[base])
    # bursts: several tickets within three weeks, no churn implied
    burst_c = np.repeat(np.arange(n), _noise_counts(rng, life, TICKET_BURST_RATE))
    burst_c = burst_c[hi[burst_c] > lo[burst_c]]
    b0 = clock.draw(rng, lo[burst_c], hi[burst_c])
    size = rng.integers(TICKET_BURST_SIZE[0], TICKET_BURST_SIZE[1] + 1, len(burst_c))
    burst = np.repeat(burst_c, size)
    burst_t = np.repeat(b0, size) + draw_days(rng, (0, TICKET_BURST_DAYS), len(burst))
    # trouble before a support-driven churn
    who = np.flatnonzero(life["churned"] & (life["cause"] == TROUBLE))
    size = rng.integers(TROUBLE_TICKETS[0], TROUBLE_TICKETS[1] + 1, len(who))
    trouble = np.repeat(who, size)
    trouble_t = _before_churn(rng, clock, life, trouble, (0.5, TROUBLE_WINDOW_DAYS))
    c = np.concatenate([base, burst, trouble])
    t = np.concatenate([base_t, burst_t, trouble_t])
    typ = np.repeat([0, 1, 2], [len(base), len(burst), len(trouble)])
    keep = (t >= lo[c]) & (t < hi[c])
    c, t, typ = c[keep], t[keep], typ[keep]
    order = sort_order([t, c], [clock.end_s, n])
    c, t, typ = c[order], t[order], typ[order]
    return (c, t, *_ticket_details(rng, t, typ, clock))


def _ticket_details(rng, t, typ, clock):
    priority = draw_categorical(rng, TICKET_PRIORITY, typ)
    category = draw_categorical(rng, TICKET_CATEGORY, typ)
    hours = (
        np.asarray(RESOLUTION_HOURS)[priority]
        * np.asarray(RESOLUTION_FACTOR)[typ]
        * rng.lognormal(0.0, RESOLUTION_SD, len(t))
    )
    closed = t + np.maximum(np.round(hours * 3600), 60).astype(np.int64)
    is_open = closed >= clock.end_s
    csat = (draw_categorical(rng, TICKET_CSAT, typ) + 1).astype(np.float64)
    csat[is_open | (rng.random(len(t)) < CSAT_MISSING_RATE)] = np.nan
    return np.where(is_open, -1, closed), priority, category, csat
