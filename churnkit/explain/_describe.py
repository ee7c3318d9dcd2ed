"""What each explained feature is: its group, template, unit, direction and
the name a person reads, from ``describe_features`` rows (or defaults)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.features._naming import display_name

__all__ = ["GROUP_ORDER", "OTHER_GROUP", "describe"]

GROUP_ORDER = ("usage", "billing", "support", "profile")
OTHER_GROUP = "other"  #: group of features without a description


def describe(names: list, descriptions) -> tuple:
    """``(groups, templates, units, directions, display names, group names)``
    of the features ``names``; the first five are object arrays in their
    order, the group names in :data:`GROUP_ORDER` first, then by name.

    ``descriptions``: a DataFrame with a ``feature`` column and any of
    ``group``, ``display_name``, ``template``, ``unit``, ``direction`` (the
    last row of a feature wins), or None.
    """
    p = len(names)
    groups = np.full(p, OTHER_GROUP, dtype=object)
    columns = {"template": None, "unit": "", "direction": "either"}
    found = {k: np.full(p, v, dtype=object) for k, v in columns.items()}
    shown = np.full(p, None, dtype=object)
    if descriptions is not None and len(descriptions):
        desc = pd.DataFrame(descriptions).drop_duplicates("feature", keep="last")
        desc = desc.set_index("feature").reindex(names)
        for col, out in [("group", groups), ("display_name", shown)] + [
            (k, found[k]) for k in columns
        ]:
            if col in desc:
                known = desc[col].notna().to_numpy()
                out[known] = desc[col].to_numpy(dtype=object)[known]
    templates = found["template"]
    display = np.array(
        [
            n if isinstance(n, str) and n else display_name(t, f)
            for n, t, f in zip(shown, templates, names, strict=True)
        ],
        dtype=object,
    )
    present = list(dict.fromkeys(groups))
    group_names = [g for g in GROUP_ORDER if g in present] + sorted(
        g for g in present if g not in GROUP_ORDER
    )
    return groups, templates, found["unit"], found["direction"], display, group_names
