"""The dates the engagement tests are set in: the reported week, the Wednesday after it, when
the tests look at it, a day long before, when their couples were created, and the year's end,
when every week they report on is over."""

from __future__ import annotations

import datetime as dt

W = dt.date(2026, 11, 16)  # the reported week, a Monday
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)  # the Wednesday after it, at noon
LONG_AGO = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
YEAR_END = dt.datetime(2026, 12, 31, tzinfo=dt.UTC)
