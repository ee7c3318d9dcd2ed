"""Which drivers are reasons, and what they say.

A feature with a positive contribution is a **risk reason** only when:

1. its value is on the risky side of its reference by the feature's
   ``direction`` (``"higher"``: above the reference, ``"lower"``: below;
   ``"either"``: different), compared at the shown precision. A tree
   model's contribution against the feature's direction (non-monotone
   effects, interactions) is therefore not shown as a reason:
   "1 login in 30 days (typical: 9)" can be a reason, "9 logins (typical: 1)"
   cannot;
2. its value does not read the same as its reference at the shown precision.
   A categorical feature has no risky side, and its most common level can be
   the strongest driver (Telco's month-to-month contract, riskier than the
   longer contracts other accounts have): any known level of it may be a
   reason, and the most common one reads "Contract: Month-to-month (most
   common)" instead of "(typical: Month-to-month)";
3. it moves the account's calibrated probability by at least ``min_points``
   (probability points, 0.01 = 1 point, see :class:`Explanation`), or by
   :data:`BASE_SHARE` of the base probability (of the room above it, at a
   churn rate above 50 %) when that is smaller: on data with a low churn rate
   (3 %) a move of 0.3 points raises the typical risk by a tenth, and a
   high-risk account's reasons are often several such moves. An account
   whose drivers all move it less has "no strong risk drivers" rather than
   three weak ones, and a weak driver never fills a
   second or third slot (Churn_Modelling read "Has cr card: yes" at 0.08
   points as a third reason); and
4. the account's churn probability is above the base probability (the model's
   typical account): an account at or below it has "no strong risk drivers".

A **protective reason** obeys the mirror rule: a negative contribution with
the value on the safe side of the reference (rules 1-3, rule 4 not applied).
A missing value is compared as "never" (+infinity) for days-since features
("no 'login' on record") and is otherwise not compared by direction.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from churnkit.explain._cells import objects_as_float
from churnkit.explain._format import is_signed, shown, text, unit_kind
from churnkit.explain._lookup import median_or_mode
from churnkit.explain._text import Sentence, is_days_ago

__all__ = [
    "ReasonRules",
    "categorical_levels",
    "typical_matrix",
    "plain_rows",
    "MIN_POINTS",
    "NO_DRIVERS",
    "NO_PROTECTIVE",
    "MIN_REFERENCE_ROWS",
    "strong_points",
]

MIN_POINTS = 0.01  #: default threshold: 1 probability point
NO_DRIVERS = "No strong risk drivers"
NO_PROTECTIVE = "No strong protective drivers"
MOST_COMMON = " (most common)"  #: a categorical reason whose level is the typical one
MIN_REFERENCE_ROWS = 30  #: fewer reference rows (and none given): no "typical"
BASE_SHARE = 0.1  #: a move of this share of the base probability is strong


def strong_points(min_points: float, base: np.ndarray) -> np.ndarray:
    """The smallest move a row's strongest reason needs: ``min_points``, or
    :data:`BASE_SHARE` of the row's base probability, or of the room above
    it, when smaller. At a 97 % base a move toward churn has 3 points of room:
    an Olist-shaped model's late deliveries (x7 the odds, 0.9 points each)
    read "No strong risk drivers" for 97 % of the accounts."""
    base = np.asarray(base)
    room = np.minimum(base, 1.0 - base)
    return np.maximum(np.minimum(min_points, BASE_SHARE * room), 1e-12)


class ReasonRules:
    """Reason rules and sentences for the features of one explanation.

    Parameters
    ----------
    numeric : ndarray of shape (n_samples, n_features)
        Feature values as floats (categorical features: level codes, NaN when
        missing).
    typical : ndarray of shape (n_samples, n_features)
        Reference of each cell in the same coding, NaN when unknown.
    levels : list
        For each feature, its categorical levels (code -> level), or None.
    templates, units, directions, displays : sequences of length n_features
        From ``describe_features`` (missing entries may be None).
    currency : str, default=""
        Symbol put before money values. Given, a feature without a template or
        unit whose name says money ("Monthly charges", "Balance") is money.
    numeric_levels : sequence, default=None
        For each feature, the whole-number values of a numeric feature read as
        levels (a classifier's ``numeric_levels_``), or None. Without a
        direction, such a feature is compared like a categorical one (any value
        may be a reason, the typical one reading "(most common)"); a 0/1 one
        without a unit reads yes / no unless its name counts something.
    """

    def __init__(
        self,
        numeric,
        typical,
        levels,
        templates,
        units,
        directions,
        displays,
        *,
        currency="",
        numeric_levels=None,
    ):
        self.numeric = numeric
        self.typical = typical
        self.levels = levels
        self.templates = list(templates)
        self.displays = list(displays)
        self.currency = currency or ""
        self.kinds = [
            "category" if lv is not None else unit_kind(u)
            for lv, u in zip(levels, units, strict=True)
        ]
        self.directions = np.array(
            [d if d in ("higher", "lower") else "either" for d in directions],
            dtype=object,
        )
        self.days_ago = np.array([is_days_ago(t) for t in self.templates], dtype=bool)
        self._categorical = np.array([k == "category" for k in self.kinds], bool)
        # numeric levels without a direction compare like categorical levels
        found = [None] * len(self.kinds) if numeric_levels is None else numeric_levels
        self._levels = np.array(
            [
                lv is not None and k != "category" and d == "either" and t is None
                for lv, k, d, t in zip(
                    found, self.kinds, self.directions, self.templates, strict=True
                )
            ],
            dtype=bool,
        )
        for j in np.flatnonzero(self._levels):
            if self.kinds[j] == "number":
                flag = set(found[j]) <= {0.0, 1.0} and not counts(self.displays[j])
                self.kinds[j] = "flag" if flag else "integer"
        self._as_level = self._categorical | self._levels
        if self.currency:  # a table of one's own: money named as money
            for j, kind in enumerate(self.kinds):
                if kind == "number" and self.templates[j] is None:
                    self.kinds[j] = "money" if is_money(self.displays[j]) else kind
        self._sentences = {}
        self._shown = None

    # ------------------------------------------------------------ numbers
    def _rounded(self):
        """(shown values, shown references), both (n_samples, n_features)."""
        if self._shown is None:
            v = np.empty_like(self.numeric)
            t = np.empty_like(self.typical)
            for j, kind in enumerate(self.kinds):
                if kind == "category":
                    v[:, j], t[:, j] = self.numeric[:, j], self.typical[:, j]
                else:
                    v[:, j] = shown(self.numeric[:, j], kind)
                    t[:, j] = shown(self.typical[:, j], kind)
            v[:, self.days_ago] = np.where(
                np.isnan(v[:, self.days_ago]), np.inf, v[:, self.days_ago]
            )
            self._shown = (v, t)
        return self._shown

    def admissible(self, rows, sign) -> np.ndarray:
        """Which cells of ``rows`` may be a reason of this ``sign`` (+1 risk, -1)."""
        v, t = self._rounded()
        v, t = v[rows], t[rows]
        known = ~np.isnan(v) & ~np.isnan(t)
        with np.errstate(invalid="ignore"):
            diff = sign * (v - t)
            diff = np.where(np.isinf(v) & np.isinf(t), 0.0, diff)
        higher = self.directions == "higher"
        lower = self.directions == "lower"
        ok = np.where(
            higher, diff > 0, np.where(lower, diff < 0, diff != 0)
        )  # differs at the shown precision, on the risky (safe) side
        return np.where(known & ~self._as_level, ok, True)

    def shown_numbers(self, rows) -> tuple:
        """(shown values, shown references) of ``rows``, and which features
        read as numbers (not as levels): what a reason says of each cell."""
        v, t = self._rounded()
        return v[rows], t[rows], ~self._as_level

    def reference_cells(self, rows, cols) -> np.ndarray:
        """References of the cells (rows, cols): numbers, or categorical levels."""
        rows, cols = np.asarray(rows), np.asarray(cols)
        out = self.typical[rows, cols].astype(object)
        for j in np.unique(cols):
            if self.levels[j] is not None:
                mask = cols == j
                cats = np.array([*self.levels[j], None], dtype=object)
                codes = np.nan_to_num(self.typical[rows[mask], j], nan=-1)
                out[mask] = cats[codes.astype(np.int64)]
        return out

    # ------------------------------------------------------------ text
    def value_text(self, rows, j, values) -> np.ndarray:
        """Shown text of ``values`` (numeric coding) of feature ``j``."""
        values = np.asarray(values, dtype="float64")
        if self.kinds[j] == "category":
            labels = np.array([*map(str, self.levels[j]), ""], dtype=object)
            codes = np.where(np.isnan(values), -1, values).astype(np.int64)
            return labels[codes]
        return text(
            values,
            self.kinds[j],
            signed=is_signed(self.templates[j]),
            currency=self.currency,
        )

    def sentences(self, rows, cols) -> tuple:
        """(reasons, value texts, reference texts) of the cells (rows, cols)."""
        rows, cols = np.asarray(rows), np.asarray(cols)
        out = np.empty(len(rows), dtype=object)
        vtext = np.empty(len(rows), dtype=object)
        ttext = np.empty(len(rows), dtype=object)
        for j in np.unique(cols):
            mask = cols == j
            r = rows[mask]
            values = self.numeric[r, j]
            vt = self.value_text(r, j, values)
            tt = self.value_text(r, j, self.typical[r, j])
            if j not in self._sentences:
                self._sentences[j] = Sentence(self.templates[j], self.displays[j])
            common = np.zeros(len(r), dtype=bool)
            if self._as_level[j]:  # the typical level: "(most common)"
                common = ~np.isnan(values) & (values == self.typical[r, j])
            said = self._sentences[j].many(
                vt,
                np.where(common, "", tt),
                np.isnan(values),
                flags=np.nan_to_num(values) != 0,
            )
            if common.any():
                said = np.array(said, dtype=object)  # may be a read-only view
                said[common] = said[common] + MOST_COMMON
            out[mask] = said
            vtext[mask], ttext[mask] = vt, tt
        return out, vtext, ttext


_COUNTING = re.compile(r"\b(num|number|count|counts|total|qty|quantity|n)\b")


_MONEY_WORDS = re.compile(
    r"\b(charges?|price|amount|amt|revenue|balance|salary|spend|spent|mrr|arr|"
    r"fees?|cost|payments?|income|bill)\b"
)


def is_money(display) -> bool:
    """Does a display name say its feature is money ("Monthly charges")?"""
    return bool(_MONEY_WORDS.search(str(display).lower()))


def counts(display) -> bool:
    """Does a display name say its feature counts something ("Num of calls")?"""
    return bool(_COUNTING.search(str(display).lower()))


def categorical_levels(frame) -> list:
    """Per column of ``frame``: its categories, ``[]`` for text, None for numbers."""
    levels = []
    for dtype in frame.dtypes:  # no column reads
        if isinstance(dtype, pd.CategoricalDtype):
            levels.append(list(dtype.categories))
        elif not pd.api.types.is_numeric_dtype(dtype):
            levels.append([])
        else:
            levels.append(None)
    return levels


def plain_rows(frame):
    """``frame`` with a RangeIndex (no copy), when it has another index.

    Reading a column of a frame indexed by (customer_id, cutoff_time) copies
    the MultiIndex into the Series; the explanation reads hundreds of columns
    of its features, positionally, so it reads them from this view.
    """
    if not isinstance(frame, pd.DataFrame) or isinstance(frame.index, pd.RangeIndex):
        return frame
    return frame.set_axis(pd.RangeIndex(len(frame)), axis=0)


def text_as_categories(frame, others=()):
    """``frame`` with its text columns as pandas Categoricals (others as they are).

    A static table's text columns (``object`` or pandas' ``str``, e.g. Telco's
    ``Contract``) are read as level codes like categorical ones; left as text
    they read as missing ("No contract recorded" for "Month-to-month"). The
    levels are the column's values, then those of the same column in
    ``others`` (reference rows, per-row typical values) that it lacks, so a
    typical level is coded even when no explained row has it.
    """
    if not isinstance(frame, pd.DataFrame):
        return frame
    text = [
        c
        for c, dtype in frame.dtypes.items()
        if not isinstance(dtype, pd.CategoricalDtype)
        and not pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_datetime64_any_dtype(dtype)
    ]
    if not text:
        return frame
    out = frame.copy(deep=False)
    for c in text:
        parts = [frame[c]] + [
            o[c] for o in others if isinstance(o, pd.DataFrame) and c in o.columns
        ]
        values = pd.concat([p.astype(object) for p in parts], ignore_index=True)
        levels = pd.unique(values[values.notna()].to_numpy(dtype=object))
        out[c] = pd.Categorical(frame[c].astype(object), categories=levels)
    return out


def typical_matrix(data, given, reference, n) -> np.ndarray:
    """Reference of every cell, coded like the explanation's numbers (NaN unknown).

    ``given`` (a table like ``data``, per-row references) wins; otherwise the
    median (most frequent level) of ``reference`` rows, else of ``data``, when
    there are at least :data:`MIN_REFERENCE_ROWS` of them.
    """
    names = [str(c) for c in data.columns]
    p = len(names)
    out = np.full((n, p), np.nan)
    data = plain_rows(data)
    ref = data if reference is None else plain_rows(reference)
    given_cells = {}
    if given is not None:  # one object block, read once (not column by column)
        block = np.asarray(given.to_numpy(dtype=object), dtype=object)
        given_cells = {str(c): block[:, j] for j, c in enumerate(given.columns)}
    dtypes = dict(zip(names, data.dtypes, strict=True))
    done = _given_numbers(out, names, dtypes, given_cells)
    for j, name in enumerate(names):
        dtype = dtypes[name]
        if j in done:
            continue
        if name in given_cells:
            cells = pd.Series(given_cells[name])
        elif len(ref) >= MIN_REFERENCE_ROWS and name in ref:
            cells = pd.Series([median_or_mode(ref[name])] * n, dtype=object)
        else:
            continue
        if isinstance(dtype, pd.CategoricalDtype):
            codes = pd.Categorical(cells, categories=dtype.categories).codes
            out[:, j] = np.where(codes >= 0, codes, np.nan)
        elif pd.api.types.is_numeric_dtype(dtype):
            out[:, j] = pd.to_numeric(cells, errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
    return out


def _given_numbers(out, names, dtypes, given_cells) -> set:
    """Write given references of numeric features into ``out`` in one step.

    Returns the positions written: all numeric features with a given
    reference when those are plain numbers, else none (then each is converted
    alone, by ``pd.to_numeric``, which gives the same floats for plain numbers).
    """
    numeric = [
        j
        for j, name in enumerate(names)
        if name in given_cells
        and pd.api.types.is_numeric_dtype(dtypes[name])
        and not isinstance(dtypes[name], pd.CategoricalDtype)
    ]
    if not numeric:
        return set()
    converted = objects_as_float(
        np.column_stack([given_cells[names[j]] for j in numeric])
    )
    if converted is None:
        return set()
    out[:, numeric] = converted
    return set(numeric)
