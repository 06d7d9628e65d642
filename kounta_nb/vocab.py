"""Words the API and every layer of kounta_nb share: one copy each, at the bottom of the imports.

Nothing here imports anything, so the client side (``endpoints``, ``pull``) and ``frames`` can all
use these without depending on one another. (The sandbox keeps its own copies on purpose: it is
an independent implementation of the API.)
"""

from __future__ import annotations

__all__ = ["ORDER_STATUSES", "WEEKDAYS"]

#: Order statuses as the API spells them in records (docs/api.md §4); the path filter is the
#: lower-case form (``/orders/complete``).
ORDER_STATUSES: tuple[str, ...] = (
    "SUBMITTED", "ON_HOLD", "PENDING", "ACCEPTED", "REJECTED", "COMPLETE",
)  # fmt: skip

#: Day names Monday first, as ``datetime.weekday()`` numbers them and pandas' ``day_name()`` spells them.
WEEKDAYS: tuple[str, ...] = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
)  # fmt: skip
