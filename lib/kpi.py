"""Pure helpers of the Shop CRM KPIs (no ORM): periods, shares, the Net Promoter Score and the change of a
figure against the previous period. The figures themselves are computed in SQL by ``shop.crm.kpi``."""

from datetime import date, timedelta

# The published keys of ``shop.crm.kpi.compute()``, in the dashboard's order.
KEYS = (
    "active_customers",
    "new_customers",
    "returning_customers",
    "repeat_rate",
    "retention_rate",
    "lost_customers",
    "won_back_customers",
    "sales",
    "purchases",
    "average_ticket",
    "member_sales_share",
    "points_issued",
    "points_redeemed",
    "points_expired",
    "points_liability",
    "followups_due",
    "followups_on_time",
    "visits",
    "tickets",
    "complaints",
    "avg_resolution_hours",
    "satisfaction_avg",
    "nps",
)
# Figures where less is better (the dashboard colours their rise red).
LOWER_IS_BETTER = frozenset({"lost_customers", "points_liability", "complaints", "avg_resolution_hours"})
# Ledger kinds counted as points issued (adjustments only when they add points).
ISSUED_KINDS = ("earn", "bonus", "gift", "referral")


def previous_period(date_from, date_to):
    """P': the period of the same number of days just before ``[date_from, date_to]`` (inclusive)."""
    days = (date_to - date_from).days + 1
    return date_from - timedelta(days=days), date_from - timedelta(days=1)


def share(part, whole):
    """``part / whole`` as a float, 0 when ``whole`` is 0."""
    return float(part) / float(whole) if whole else 0.0


def net_promoter_score(promoters, detractors, answers):
    """% promoters − % detractors (from −100 to 100), 0 without answers."""
    if not answers:
        return 0.0
    return 100.0 * (promoters - detractors) / answers


def change(current, previous):
    """The change of a figure against P': ``(direction, percent)`` with direction 'up', 'down' or 'same'
    and percent the relative change (None when the previous figure is 0 and the current is not)."""
    current, previous = float(current or 0), float(previous or 0)
    direction = "up" if current > previous else "down" if current < previous else "same"
    if previous == 0:
        return direction, (0.0 if current == 0 else None)
    return direction, 100.0 * (current - previous) / abs(previous)


def month_start(day):
    return day.replace(day=1)


def add_months(day, months):
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(day):
    return add_months(day, 1) - timedelta(days=1)


def preset(name, today):
    """``(date_from, date_to)`` of the dashboard's period presets: this_month, last_month, this_quarter."""
    if name == "this_month":
        return month_start(today), month_end(today)
    if name == "last_month":
        start = add_months(today, -1)
        return start, month_end(start)
    if name == "this_quarter":
        start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return start, add_months(start, 3) - timedelta(days=1)
    raise ValueError(name)


def running_balances(lines):
    """``[(line, balance after it)]`` for a card's ledger ``lines`` (objects with issued and used), in
    the order given."""
    balance, result = 0.0, []
    for line in lines:
        balance = round(balance + (line.issued or 0.0) - (line.used or 0.0), 2)
        result.append((line, balance))
    return result


def expiring_by_month(lines, months, as_of, count=12, expiring=None):
    """``[(first day of month, points expiring in that month)]`` for the ``count`` months from ``as_of``'s
    month on, from ``expiring(lines, months, day)`` (the points expired by ``day``, FIFO by lot: see
    ``lib.membership.expiring_points``); months without expiring points are left out."""
    if months <= 0:
        return []
    result = []
    previous = expiring(lines, months, as_of)
    for index in range(count):
        end = month_end(add_months(as_of, index))
        total = expiring(lines, months, end)
        if total - previous > 0.005:
            result.append((month_start(end), round(total - previous, 2)))
        previous = total
    return result
