"""The date orders a partner may declare (``date_format`` in the partnership file).

A module of its own, without polars, so that the command line can offer them as choices
without loading the normalisers.
"""

from __future__ import annotations

from typing import Literal, get_args

DateOrder = Literal["iso", "dmy", "mdy"]
#: iso: 1990-03-25 only; dmy: 25/03/1990; mdy: 03/25/1990.
DATE_ORDERS: tuple[str, ...] = get_args(DateOrder)
