"""The fix of a statement repeated within one request (N+1): the batched statement.

>>> batched("SELECT order_items.* FROM order_items WHERE order_items.order_id = ?")
'SELECT order_items.* FROM order_items WHERE order_items.order_id IN (?, ?, ...)'
>>> batched("SELECT SUM(i.quantity) FROM inventory AS i WHERE i.product_id = ?")
'SELECT i.product_id, SUM(i.quantity) FROM inventory AS i WHERE i.product_id IN (?, ?, ...) GROUP BY i.product_id'
>>> batched("SELECT SUM(i.quantity) FROM inventory AS i WHERE i.product_id = ? AND i.warehouse_id = ?") is None
True
"""

from __future__ import annotations

import re

_WHERE = re.compile(r"\bWHERE\b", re.IGNORECASE)
_FROM = re.compile(r"\bFROM\b", re.IGNORECASE)
_EQ = re.compile(r"((?:`[^`]+`|\b[\w$]+)(?:\.(?:`[^`]+`|[\w$]+))?)\s*=\s*\?")
_AGGREGATE = re.compile(r"\b(?:SUM|COUNT|AVG|MIN|MAX|GROUP_CONCAT)\s*\(", re.IGNORECASE)
_TAIL_CLAUSE = re.compile(r"\b(?:GROUP BY|ORDER BY|LIMIT|HAVING)\b", re.IGNORECASE)


def batched(fingerprint: str) -> str | None:
    """The SELECT with its one ``column = ?`` predicate made an ``IN`` list (grouped by that
    column when it aggregates), or None when it is not such a single-key lookup."""
    text = " ".join(fingerprint.split())
    upper = text.upper()
    if not upper.startswith("SELECT") or " JOIN " in upper or " UNION " in upper:
        return None
    where = _WHERE.search(text)
    frm = _FROM.search(text)
    if where is None or frm is None:
        return None
    head, tail = text[: where.end()], text[where.end() :]
    found = list(_EQ.finditer(tail))
    if len(found) != 1:
        return None
    m = found[0]
    column = m.group(1)
    rewritten = head + tail[: m.start()] + f"{column} IN (?, ?, ...)" + tail[m.end() :]
    select_list = text[len("SELECT") : frm.start()]
    if _AGGREGATE.search(select_list):
        if _TAIL_CLAUSE.search(tail[m.end() :]):
            return None  # already grouped, ordered or limited: the batched form needs a human
        rewritten = f"SELECT {column}," + rewritten[len("SELECT") :] + f" GROUP BY {column}"
    return rewritten


def advice(fingerprint: str, per_request: float) -> str:
    """One sentence: how to stop running it ``per_request`` times per request."""
    times = f"{per_request:.0f} times per request"
    kind = " ".join(fingerprint.split()[:1]).upper()
    if kind == "INSERT":
        return f"Batch the loop ({times}): one multi-row INSERT ... VALUES (...), (...) per request."
    if kind in ("UPDATE", "DELETE", "REPLACE"):
        return (
            f"Batch the loop ({times}): one {kind} ... WHERE key IN (...) when every row gets the same change, "
            "else one INSERT ... ON DUPLICATE KEY UPDATE with all the rows."
        )
    rewrite = batched(fingerprint)
    if rewrite is not None:
        return f"Batch the loop ({times}): one statement per request, {rewrite}, or eager loading in the ORM."
    return f"Batch the loop ({times}): join it into the query that produced the list, or eager loading in the ORM."
