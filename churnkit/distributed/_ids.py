"""Customer ids typed alike in every table of a layout written by an engine.

A single machine refuses usage whose ids are text when the subscriptions'
are integers (the usage rows belong to no known customer). An engine writing
a layout sees each table's column type before any row is read: the types are
compared there, so the write fails at once with the same advice, instead of
a per-bucket error at the first job. :func:`bucket_of` hashes 5 and "5"
alike, so such rows would land in one bucket and fail only later.
"""

from __future__ import annotations

from churnkit.exceptions import SchemaError

__all__ = ["check_id_kinds"]


def check_id_kinds(kinds: dict) -> None:
    """Raise when some tables' ``customer_id`` are numbers and others text.

    Parameters
    ----------
    kinds : dict of str to (str, str)
        Table name -> (``"number"``, ``"text"`` or ``"unknown"``, the type as
        the engine names it). Unknown kinds (pandas ``object`` columns) are
        checked row by row where the table is read.
    """
    number = {n: t for n, (kind, t) in kinds.items() if kind == "number"}
    text = {n: t for n, (kind, t) in kinds.items() if kind == "text"}
    if number and text:
        a, b = next(iter(number.items())), next(iter(text.items()))
        raise SchemaError(
            f"write_layout: column 'customer_id' is {a[1]} in table {a[0]!r} but "
            f"{b[1]} in table {b[0]!r} (numbers in {sorted(number)}, text in "
            f"{sorted(text)}): the rows of one customer would not match across "
            "tables. Use one type in every table, e.g. cast the ids to text "
            "(`.astype(str)`, or `col('customer_id').cast('string')` in Spark)."
        )
