"""Campaigns — the definitions: the control-group draw, quiet hours, and the published results.

No Odoo import. ``models/shop_crm_campaign.py`` gathers the numbers with set-based SQL and calls these.

Results of a campaign started at time S with a results window of W days (published definitions):

- T, the treated group: the recipients not in the control group (whether or not a message could be
  sent); C, the control group. n = a group's size, r = its responders.
- A customer responds when they have at least one purchase (the shared purchases definition) with a day
  in [day(S), day(S) + W - 1].
- ``response_rate`` = r / n for each group; ``lift_pp`` = 100 x (r_T/n_T - r_C/n_C);
- ``lift_ci95_pp`` = 100 x 1.96 x sqrt(p_T(1-p_T)/n_T + p_C(1-p_C)/n_C) (half-width, p = r/n);
- ``spend_per_customer`` = net purchases in the window / n for each group;
- ``incremental_revenue`` = (spend_per_customer_T - spend_per_customer_C) x n_T;
- ``redemption_rate`` = coupons of the campaign used / coupons issued (T only).

An empty group has no rate (None); a difference that needs a missing rate is None too (a campaign with
a 0 % control group has no baseline: no lift, no interval, no incremental revenue).
"""

import math
import random
from datetime import time, timedelta
from decimal import ROUND_HALF_UP, Decimal

Z_95 = 1.96


def control_size(audience_size, share_percent):
    """How many of ``audience_size`` customers go to the control group: ``share_percent`` % rounded half
    up (10 % of 25 = 3), never the whole audience when the share is below 100 %."""
    if not 0 <= share_percent <= 100:
        raise ValueError("share_percent must be between 0 and 100")
    size = math.floor(audience_size * share_percent / 100 + 0.5)
    if share_percent < 100 and audience_size and size >= audience_size:
        size = audience_size - 1
    return size


def draw_control(partner_ids, share_percent, seed):
    """The control group: a uniform random sample of ``control_size`` of ``partner_ids``, drawn with the
    generator seeded by ``seed`` from the ids in ascending order — the same audience and seed always
    give the same group, whatever order the ids come in. Returns a set of ids."""
    ordered = sorted(set(partner_ids))
    size = control_size(len(ordered), share_percent)
    # A reproducible statistical draw, not a secret: a seeded Mersenne Twister is what is wanted.
    return set(random.Random(seed).sample(ordered, size))  # noqa: S311


def in_quiet_hours(moment, start_hour, end_hour):
    """Whether the local ``moment`` (a datetime or time) is in the quiet hours from ``start_hour`` to
    ``end_hour`` (floats, 21.0 and 9.0: 21:00 to 09:00, across midnight). Equal hours: no quiet hours."""
    clock = moment if isinstance(moment, time) else moment.time()
    hours = clock.hour + clock.minute / 60 + clock.second / 3600
    if start_hour == end_hour:
        return False
    if start_hour < end_hour:
        return start_hour <= hours < end_hour
    return hours >= start_hour or hours < end_hour


def quiet_hours_end(moment, start_hour, end_hour):
    """The first local datetime at or after ``moment`` that is not in the quiet hours."""
    if not in_quiet_hours(moment, start_hour, end_hour):
        return moment
    end = moment.replace(hour=int(end_hour), minute=round((end_hour % 1) * 60) % 60, second=0, microsecond=0)
    return end if end > moment else end + timedelta(days=1)


def _rate(part, whole):
    return part / whole if whole else None


def group_results(size, responders, net_spend):
    """One group's results: ``{"size", "responders", "response_rate", "spend", "spend_per_customer"}``."""
    return {
        "size": size,
        "responders": responders,
        "response_rate": _rate(responders, size),
        "spend": net_spend,
        "spend_per_customer": _rate(net_spend, size),
    }


def results(treated, control, coupons_issued, coupons_used):
    """The published results. ``treated``/``control``: (n, r, net spend) of each group."""
    t = group_results(*treated)
    c = group_results(*control)
    t["coupons_issued"] = coupons_issued
    t["coupons_used"] = coupons_used
    t["redemption_rate"] = _rate(coupons_used, coupons_issued)
    p_t, p_c = t["response_rate"], c["response_rate"]
    lift = ci = incremental = None
    if p_t is not None and p_c is not None:
        lift = 100 * (p_t - p_c)
        ci = 100 * Z_95 * math.sqrt(p_t * (1 - p_t) / t["size"] + p_c * (1 - p_c) / c["size"])
        incremental = (t["spend_per_customer"] - c["spend_per_customer"]) * t["size"]
    return {
        "treated": t,
        "control": c,
        "lift_pp": lift,
        "lift_ci95_pp": ci,
        "incremental_revenue": incremental,
    }


def cumulative_by_day(first_days, start_day, window_days):
    """Cumulative responders per day: ``first_days`` is {day: responders whose first purchase in the
    window is on that day}; returns [(day, cumulative count)] for every day of the window."""
    total = 0
    series = []
    for offset in range(window_days):
        day = start_day + timedelta(days=offset)
        total += first_days.get(day, 0)
        series.append((day, total))
    return series


# ---- member days (会员日) ----------------------------------------------------------------------------


def member_day_on(day, recurrence, weekday=None, month_day=None):
    """Whether ``day`` (a date) is a member day: ``weekly`` on ``weekday`` (0 = Monday ... 6 = Sunday), or
    ``monthly`` on ``month_day`` (1-31; in a shorter month, its last day: the 31st falls on 30 April)."""
    if recurrence == "weekly":
        return weekday is not None and day.weekday() == int(weekday)
    if recurrence == "monthly":
        if not month_day:
            return False
        next_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        last = (next_month - timedelta(days=1)).day
        return day.day == min(int(month_day), last)
    raise ValueError(f"unknown recurrence {recurrence!r}")


def next_member_day(after, recurrence, weekday=None, month_day=None):
    """The first member day on or after ``after`` (within the next 62 days; None if there is none)."""
    for offset in range(62):
        day = after + timedelta(days=offset)
        if member_day_on(day, recurrence, weekday, month_day):
            return day
    return None


def member_day_extra(points, multiplier):
    """The extra points of a member day with ``multiplier`` (2 = double) on ``points`` earned (the tier
    bonus included), rounded half up to the cent (as the decimal numbers read: 16.665 gives 16.67)."""
    if multiplier <= 1 or points <= 0:
        return 0.0
    extra = Decimal(str(points)) * (Decimal(str(multiplier)) - 1)
    return float(extra.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
