"""Exact path-dependent TreeSHAP for xgboost models, with precomputed path weights.

The values are those of xgboost's ``pred_contribs`` (and of
``shap.TreeExplainer``): path-dependent TreeSHAP of the log-odds margin
(Lundberg et al., 2020). The algorithm is FastTreeSHAP v2 (Yang, 2022, "Fast
TreeSHAP: Accelerating SHAP Value Computation for Trees", arXiv:2109.09847):

For a leaf with value ``v`` whose root path splits on ``k`` distinct features
(repeated features merged: their cover ratios multiplied into one "zero
fraction" ``z_j``), a row either satisfies every split on feature ``j`` along
the path or not; the set ``A`` of satisfied features is all the leaf needs to
know about the row. The leaf's share of ``phi_i`` is then, with
``w(s) = s! (k - s - 1)! / k!``, ``P = prod_{j not in A} z_j`` and ``e_m`` the
elementary symmetric polynomials of the ``z`` of a set,

- ``i in A``:     ``v (1 - z_i) P sum_m w(|A| - 1 - m) e_m(z[A - {i}])``
- ``i not in A``: ``-v P sum_m w(|A| - m) e_m(z[A])``.

Those ``2^k x k`` numbers are precomputed per leaf (:func:`compile_booster`);
explaining a row is then one pass over each tree: the satisfied-set bit mask
of every node follows from its parent's with one comparison, and each leaf adds
``k`` table entries: ``O(L k)`` per tree and row instead of TreeSHAP's
``O(L D^2)``. The tables grow as ``2^k``: they are built for as many trees
at a time as fit in ``max_table_bytes`` (all of them once, when they fit;
else group by group on every call); a tree whose own tables exceed it (deep
trees) makes :func:`compile_booster` raise :class:`Unsupported`, and the
caller keeps xgboost's own ``pred_contribs``.

Rows are compared as xgboost does: cast to float32, ``x < threshold`` goes
left, NaN takes the node's default direction. The tables and sums are float64,
so the values equal ``pred_contribs`` (float32) to its own rounding, about
1e-6 relative. Numba compiles the kernels once and caches them on disk; they
run in parallel over blocks of rows on numba's thread pool.
"""

from __future__ import annotations

import json
import math

import numba
import numpy as np
from numba import prange

__all__ = ["FastTreeShap", "Unsupported", "compile_booster"]

#: Default bound on the precomputed tables (float64): 256 MiB.
MAX_TABLE_BYTES = 256 * 2**20
_MAX_PATH_FEATURES = 24  # 2^24 x 24 entries for one leaf is past any budget
_BLOCK = 64  # rows per parallel block: every block walks all trees
_RAW_KEYS = ("left", "right", "feat", "cond", "dleft", "hess")


class Unsupported(ValueError):
    """The model cannot take the fast path; the message says why."""


# --------------------------------------------------------------------------- #
# Reading the booster
# --------------------------------------------------------------------------- #
def _parse_base_score(text) -> float:
    if isinstance(text, (int, float)):
        return float(text)
    values = [float(s) for s in str(text).strip("[]").split(",") if s.strip()]
    if len(values) != 1:
        raise Unsupported(f"base_score {text!r} has {len(values)} values, not 1.")
    return values[0]


def _read_trees(booster, iteration_range):
    """Trees ``[iteration_range)`` of ``booster`` as concatenated raw arrays."""
    model = json.loads(bytes(booster.save_raw("json")))
    learner = model["learner"]
    objective = learner["objective"]["name"]
    if objective not in ("binary:logistic", "binary:logitraw"):
        raise Unsupported(f"objective {objective!r} is not a binary classifier.")
    gb = learner["gradient_booster"]
    if gb.get("name") != "gbtree":
        raise Unsupported(f"booster {gb.get('name')!r} is not gbtree.")
    params = learner["learner_model_param"]
    if int(params.get("num_class", 0)) > 1:
        raise Unsupported("multi-class models are not supported.")
    base_score = _parse_base_score(params["base_score"])
    if objective == "binary:logistic":
        if not 0.0 < base_score < 1.0:
            raise Unsupported(f"base_score {base_score} is not a probability.")
        base_margin = math.log(base_score / (1.0 - base_score))
    else:
        base_margin = base_score
    n_features = int(params["num_feature"])
    trees = gb["model"]["trees"]
    indptr = gb["model"].get("iteration_indptr")
    if indptr is None:  # one tree per iteration (binary, no parallel trees)
        indptr = list(range(len(trees) + 1))
    begin, end = (int(v) for v in iteration_range)
    n_iter = len(indptr) - 1
    end = n_iter if end <= 0 else min(end, n_iter)
    if not 0 <= begin <= end:
        raise Unsupported(f"iteration_range {iteration_range} is empty or invalid.")
    chosen = trees[indptr[begin] : indptr[end]]
    arrays = {k: [] for k in ("left", "right", "feat", "cond", "dleft", "hess")}
    offsets = [0]
    for tree in chosen:
        if any(int(s) != 0 for s in tree.get("split_type", [])):
            raise Unsupported("the model has categorical splits.")
        arrays["left"].append(np.asarray(tree["left_children"], dtype=np.int64))
        arrays["right"].append(np.asarray(tree["right_children"], dtype=np.int64))
        arrays["feat"].append(np.asarray(tree["split_indices"], dtype=np.int64))
        arrays["cond"].append(np.asarray(tree["split_conditions"], dtype=np.float64))
        arrays["dleft"].append(np.asarray(tree["default_left"], dtype=np.int64))
        arrays["hess"].append(np.asarray(tree["sum_hessian"], dtype=np.float64))
        offsets.append(offsets[-1] + len(tree["left_children"]))
    raw = {
        k: (
            np.concatenate(v)
            if v
            else np.zeros(0, np.float64 if k in ("cond", "hess") else np.int64)
        )
        for k, v in arrays.items()
    }
    return raw, np.asarray(offsets, dtype=np.int64), base_margin, n_features


# --------------------------------------------------------------------------- #
# Compiling the trees: breadth-first order, path slots, per-leaf tables
# --------------------------------------------------------------------------- #
@numba.njit(cache=True, nogil=True)
def _layout(offsets, left, right, feat, cond, dleft, hess):  # pragma: no cover
    """Breadth-first renumbering and, per leaf, its merged path features.

    Returns node arrays (global, breadth-first within each tree), each tree's
    node offsets, per-tree expected value (xgboost's mean node value of the
    root), and per-leaf ``k``, path features and zero fractions.
    """
    n_trees = offsets.size - 1
    total = offsets[-1]
    order = np.empty(total, np.int64)  # new global -> raw global
    depth = np.zeros(total, np.int64)
    parent = np.full(total, -1, np.int64)  # new global -> new global
    new_off = np.zeros(n_trees + 1, np.int64)
    pos = 0
    max_depth = 0
    for t in range(n_trees):
        o = offsets[t]
        start = pos
        order[pos] = o
        pos += 1
        head = start
        while head < pos:
            r = order[head]
            lc = left[r]
            if lc >= 0:
                for c in (lc, right[r]):
                    order[pos] = o + c
                    depth[pos] = depth[head] + 1
                    parent[pos] = head
                    if depth[pos] > max_depth:
                        max_depth = depth[pos]
                    pos += 1
            head += 1
        new_off[t + 1] = pos
    n = pos
    width = max(max_depth, 1)
    n_left = np.full(n, -1, np.int64)  # local index within the tree
    n_right = np.full(n, -1, np.int64)
    n_feat = np.zeros(n, np.int64)
    n_thr = np.zeros(n, np.float32)
    n_dleft = np.zeros(n, np.bool_)
    n_slot = np.zeros(n, np.int64)
    n_k = np.zeros(n, np.int64)
    n_value = np.zeros(n, np.float64)
    path_f = np.full((n, width), -1, np.int64)
    path_z = np.ones((n, width), np.float64)
    mean = np.zeros(n, np.float64)
    expected = np.zeros(n_trees, np.float64)
    for t in range(n_trees):
        o = new_off[t]
        for j in range(new_off[t], new_off[t + 1]):
            r = order[j]
            p = parent[j]
            if p >= 0:  # inherit the parent's path, then add the parent's split
                k = n_k[p]
                for s in range(k):
                    path_f[j, s] = path_f[p, s]
                    path_z[j, s] = path_z[p, s]
                ratio = hess[r] / hess[order[p]]
                s = n_slot[p]
                if s == k:
                    path_f[j, s] = n_feat[p]
                    path_z[j, s] = ratio
                    k += 1
                else:
                    path_z[j, s] *= ratio
                n_k[j] = k
                if order[p] - offsets[t] >= 0 and left[order[p]] + offsets[t] == r:
                    n_left[p] = j - o
                else:
                    n_right[p] = j - o
            if left[r] >= 0:
                f = feat[r]
                n_feat[j] = f
                n_thr[j] = np.float32(cond[r])
                n_dleft[j] = dleft[r] != 0
                s = n_k[j]
                for q in range(n_k[j]):
                    if path_f[j, q] == f:
                        s = q
                        break
                n_slot[j] = s
            else:
                n_value[j] = cond[r]
        # xgboost's mean node values, leaves up (FillNodeMeanValues)
        for j in range(new_off[t + 1] - 1, new_off[t] - 1, -1):
            r = order[j]
            if left[r] < 0:
                mean[j] = n_value[j]
            else:
                a = o + n_left[j]
                b = o + n_right[j]
                mean[j] = (mean[a] * hess[order[a]] + mean[b] * hess[order[b]]) / hess[
                    r
                ]
        if new_off[t + 1] > new_off[t]:
            expected[t] = mean[o]
    return (
        new_off, n_left, n_right, n_feat, n_thr, n_dleft, n_slot, n_k, n_value,
        path_f, path_z, expected,
    )  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _elementary(z, members, k, e):  # pragma: no cover
    """``e[m]`` = m-th elementary symmetric polynomial of ``z[members[:k]]``."""
    e[0] = 1.0
    for m in range(1, k + 1):
        e[m] = 0.0
    for q in range(k):
        zq = z[members[q]]
        for m in range(q + 1, 0, -1):
            e[m] += zq * e[m - 1]


@numba.njit(cache=True, parallel=True, nogil=True)
def _fill_tables(leaves, table_off, n_k, n_value, path_z, table):  # pragma: no cover
    """Each leaf's ``2^k x k`` contributions, one row per satisfied-set mask."""
    for li in prange(leaves.size):
        j = leaves[li]
        k = n_k[j]
        v = n_value[j]
        z = path_z[j]
        w = np.empty(max(k, 1), np.float64)
        for s in range(k):  # s! (k - s - 1)! / k!
            w[s] = math.exp(
                math.lgamma(s + 1) + math.lgamma(k - s) - math.lgamma(k + 1)
            )
        e = np.empty(k + 1, np.float64)
        members = np.empty(max(k, 1), np.int64)
        base = table_off[li]
        for mask in range(1 << k):
            outside = 1.0
            a = 0
            for q in range(k):
                if mask >> q & 1:
                    members[a] = q
                    a += 1
                else:
                    outside *= z[q]
            absent = 0.0  # the value for every i not in A
            if a < k:
                _elementary(z, members, a, e)
                for m in range(a + 1):
                    absent += w[a - m] * e[m]
                absent *= -v * outside
            row = base + mask * k
            for i in range(k):
                if not (mask >> i & 1):
                    table[row + i] = absent
                    continue
                b = 0  # A - {i}
                for q in range(a):
                    if members[q] != i:
                        members[b] = members[q]
                        b += 1
                _elementary(z, members, b, e)
                total = 0.0
                for m in range(b + 1):
                    total += w[b - m] * e[m]
                table[row + i] = v * (1.0 - z[i]) * outside * total
                b = 0  # restore A
                for q in range(k):
                    if mask >> q & 1:
                        members[b] = q
                        b += 1


@numba.njit(cache=True, parallel=True, nogil=True)
def _explain(  # pragma: no cover
    X, tree_off, left, right, feat, thr, dleft, slot, n_k, leaf_row, table_off,
    path_f, table, t0, t1, tbase, out, block,
):  # fmt: skip
    """Add trees ``[t0, t1)``'s SHAP values of the rows of ``X`` to ``out``.

    ``table`` holds those trees' leaf tables, from ``table_off`` ``tbase`` on.
    """
    n = X.shape[0]
    n_trees = tree_off.size - 1
    widest = 1
    for t in range(n_trees):
        widest = max(widest, tree_off[t + 1] - tree_off[t])
    n_blocks = (n + block - 1) // block
    for bi in prange(n_blocks):
        r0 = bi * block
        r1 = min(n, r0 + block)
        masks = np.empty(widest, np.int64)
        for t in range(t0, t1):
            o = tree_off[t]
            size = tree_off[t + 1] - o
            for r in range(r0, r1):
                masks[0] = -1
                for jl in range(size):
                    j = o + jl
                    mk = masks[jl]
                    lc = left[j]
                    if lc < 0:
                        k = n_k[j]
                        li = leaf_row[j]
                        row = table_off[li] - tbase + (mk & ((1 << k) - 1)) * k
                        for i in range(k):
                            out[r, path_f[j, i]] += table[row + i]
                        continue
                    x = X[r, feat[j]]
                    if np.isnan(x):
                        go_left = dleft[j]
                    else:
                        go_left = x < thr[j]
                    off = mk & ~(np.int64(1) << slot[j])
                    if go_left:
                        masks[lc] = mk
                        masks[right[j]] = off
                    else:
                        masks[lc] = off
                        masks[right[j]] = mk


class FastTreeShap:
    """An xgboost booster compiled for :meth:`shap_values` (see the module doc).

    Build it with :func:`compile_booster`.
    """

    def __init__(self, arrays, fill, chunks, base_margin, n_features, expected):
        self._arrays = arrays
        self._fill = fill  # (leaves, n_value, path_z) to build a chunk's tables
        self._chunks = chunks  # [(t0, t1, leaf_lo, leaf_hi, table or None)]
        self.n_features = n_features
        self.n_trees = arrays[0].size - 1
        self.base_margin = base_margin
        self.bias = float(base_margin + expected.sum())
        table_off = arrays[9]
        #: peak bytes of tables held at once (one chunk of trees)
        self.table_bytes = max(
            (int(table_off[hi] - table_off[lo]) * 8 for _, _, lo, hi, _ in chunks),
            default=0,
        )

    def _table(self, lo, hi):
        leaves, n_value, path_z = self._fill
        table_off = self._arrays[9][lo : hi + 1] - self._arrays[9][lo]
        table = np.empty(max(int(table_off[-1]), 1), np.float64)
        _fill_tables(leaves[lo:hi], table_off, self._arrays[7], n_value, path_z, table)
        return table

    def shap_values(self, X, *, n_threads=None):
        """SHAP values of the margin and the bias, like ``pred_contribs``.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Numeric model input; NaN is missing. Cast to float32 as xgboost does.
        n_threads : int, default=None
            Numba threads; None keeps numba's current setting.

        Returns
        -------
        ndarray of shape (n, n_features + 1)
            float64; the last column is the bias (base margin plus the trees'
            expected values), each row sums to the margin.
        """
        X = np.ascontiguousarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise Unsupported(
                f"X has shape {X.shape}; the model expects {self.n_features} columns."
            )
        out = np.zeros((X.shape[0], self.n_features + 1), np.float64)
        before = numba.get_num_threads()
        if n_threads is not None:
            numba.set_num_threads(
                max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS))
            )
        out[:, -1] = self.bias
        try:
            for t0, t1, lo, hi, table in self._chunks:
                if table is None:  # more trees than fit: tables chunk by chunk
                    table = self._table(lo, hi)
                tbase = self._arrays[9][lo]
                _explain(X, *self._arrays, table, t0, t1, tbase, out, _BLOCK)
        finally:
            numba.set_num_threads(before)
        return out


def compile_booster(
    booster, iteration_range=(0, 0), *, max_table_bytes=MAX_TABLE_BYTES
):
    """Read ``booster``'s trees ``[iteration_range)`` and precompute their tables.

    Parameters
    ----------
    booster : xgboost.Booster
        A binary ``gbtree`` model (``binary:logistic`` or ``binary:logitraw``)
        without categorical splits.
    iteration_range : tuple of int, default=(0, 0)
        Boosting rounds to use, as in ``Booster.predict``; ``(0, 0)``: all.
    max_table_bytes : int, default=MAX_TABLE_BYTES
        Bound on the tables held at once (``sum over leaves 2^k k`` float64).
        When all trees' tables exceed it, they are built group of trees by
        group of trees in each :meth:`FastTreeShap.shap_values` call.

    Returns
    -------
    FastTreeShap

    Raises
    ------
    Unsupported
        When the model is outside the above, or one tree's tables exceed the
        bound (deep trees): the message gives the reason; use ``pred_contribs``.
    """
    raw, offsets, base_margin, n_features = _read_trees(booster, iteration_range)
    laid = _layout(offsets, *(raw[k] for k in _RAW_KEYS))
    (new_off, n_left, n_right, n_feat, n_thr, n_dleft, n_slot, n_k, n_value,
     path_f, path_z, expected) = laid  # fmt: skip
    leaves = np.flatnonzero(n_left < 0)
    k = n_k[leaves]
    if k.size and k.max() > _MAX_PATH_FEATURES:
        raise Unsupported(
            f"a leaf's path has {int(k.max())} distinct features (the tables grow "
            f"as 2^k; at most {_MAX_PATH_FEATURES})."
        )
    sizes = (np.int64(1) << k) * k
    table_off = np.zeros(leaves.size + 1, np.int64)
    np.cumsum(sizes, out=table_off[1:])
    # leaves are in tree order: tree t's leaves are [leaf_start[t], leaf_start[t+1])
    n_trees = new_off.size - 1
    leaf_start = np.searchsorted(leaves, new_off)
    tree_bytes = np.diff(table_off[leaf_start]) * 8
    if n_trees and tree_bytes.max() > max_table_bytes:
        raise Unsupported(
            f"one tree's path-weight tables would take "
            f"{tree_bytes.max() / 2**20:.0f} MiB, more than max_table_bytes="
            f"{max_table_bytes / 2**20:.0f} MiB (deep trees)."
        )
    # groups of consecutive trees whose tables fit the bound together
    bounds, used = [0], 0
    for t, size in enumerate(tree_bytes.tolist()):
        if used + size > max_table_bytes:
            bounds.append(t)
            used = 0
        used += size
    bounds.append(n_trees)
    leaf_row = np.full(n_left.size, -1, np.int64)
    leaf_row[leaves] = np.arange(leaves.size)
    arrays = (new_off, n_left, n_right, n_feat, n_thr, n_dleft, n_slot, n_k,
              leaf_row, table_off, path_f)  # fmt: skip
    chunks = [
        (t0, t1, int(leaf_start[t0]), int(leaf_start[t1]), None)
        for t0, t1 in zip(bounds[:-1], bounds[1:], strict=True)
        if t1 > t0
    ]
    model = FastTreeShap(
        arrays, (leaves, n_value, path_z), chunks, base_margin, n_features, expected
    )
    if len(chunks) == 1:  # all tables fit: build them once
        t0, t1, lo, hi, _ = chunks[0]
        chunks[0] = (t0, t1, lo, hi, model._table(lo, hi))
    return model
