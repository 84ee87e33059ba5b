"""The customer card at the Point of Sale in plain Python: progress to the next tier and which flags (and
popup alerts) apply to a customer. No ORM here; ``res.partner`` builds the card of the loaded
customers with a few set-based queries and calls these functions.

Tier progress
    The next tier is the lowest-ranked tier above the member's current tier (any tier for a customer
    without one) that the member does not qualify for yet. What is missing is ``min_spend - spend`` for a
    tier that uses spend and ``min_points - points`` for one that uses points, over that tier's own
    period; with both rules the member needs both (``require_both``) or either.

Flags
    ``churn`` (a churn warning), ``date`` (a birthday or important date within ``DATE_WINDOW_DAYS`` days,
    today included), ``complaint`` (an open complaint) and ``do_not_contact``. The once-per-order popup
    shows the first three; "asked not to be contacted" is only shown on the card.
"""

from dataclasses import dataclass

from . import membership

DATE_WINDOW_DAYS = 7
FLAGS = ("churn", "date", "complaint", "do_not_contact")
POPUP_FLAGS = ("churn", "date", "complaint")


@dataclass(frozen=True)
class Progress:
    tier: membership.Tier
    spend_missing: float | None  # None when the tier does not count spend
    points_missing: float | None  # None when the tier does not count points
    require_both: bool  # with both rules: True = both needed, False = either


def tier_progress(tiers, current_id, totals):
    """The progress of a member to their next tier, or None (top tier, no tiers).

    ``tiers``: ``membership.Tier`` of the company; ``current_id``: the member's tier id (or None);
    ``totals``: {tier id: (spend, points earned)} over each tier's period."""
    ranked = sorted(tiers, key=lambda tier: tier.rank)
    current = next((tier for tier in ranked if tier.id == current_id), None)
    for tier in ranked:
        if current is not None and tier.rank <= current.rank:
            continue
        spend, points = totals.get(tier.id, (0.0, 0.0))
        if tier.qualifies(spend, points):
            continue  # the upgrade is due (it happens on the next order or at night)
        return Progress(
            tier=tier,
            spend_missing=round(max(0.0, tier.min_spend - spend), 2) if tier.use_spend else None,
            points_missing=round(max(0.0, tier.min_points - points), 2) if tier.use_points else None,
            require_both=bool(tier.use_spend and tier.use_points and tier.require_both),
        )
    return None


def within_window(day, today, window=DATE_WINDOW_DAYS):
    """Whether ``day`` (the next occurrence of a date, see ``chinese_calendar.next_occurrence``) is today or
    within the next ``window`` days."""
    return day is not None and 0 <= (day - today).days < window


def flags(churn_warning, dates, open_complaints, do_not_contact, today, window=DATE_WINDOW_DAYS):
    """The flags of a customer, in ``FLAGS`` order. ``dates``: the next occurrences of their birthday and
    important dates; ``open_complaints``: their open complaint references."""
    found = []
    if churn_warning:
        found.append("churn")
    if any(within_window(day, today, window) for day in dates):
        found.append("date")
    if open_complaints:
        found.append("complaint")
    if do_not_contact:
        found.append("do_not_contact")
    return found


def popup_flags(card_flags):
    """The flags that open the once-per-order popup at the till."""
    return [flag for flag in card_flags if flag in POPUP_FLAGS]
