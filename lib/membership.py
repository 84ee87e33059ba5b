"""Membership rules in plain Python: member codes, age bands, tier qualification and the tier decision,
points expiry (FIFO). No ORM here; the models call these functions or run the same rules in set-based
SQL, and the tests check the SQL against these functions.

Tier rules
    A tier qualifies a member when its rule holds over the last ``period_months`` months (up to and
    including the evaluation day): ``spend >= min_spend`` (when the tier uses spend) and/or
    ``points earned >= min_points`` (when it uses points); ``require_both`` joins the two with AND,
    otherwise OR. A tier that uses neither is invalid. Tiers rank by (sequence, id): the member gets the
    highest-ranked tier they qualify for.

    Decision for one member (``decide``): a locked tier never changes; a better qualifying tier is an
    upgrade at once; a lower one is a downgrade only once ``grace_days`` days have passed since the
    first evaluation at which the member stopped qualifying for the current tier; otherwise nothing
    changes.

Points expiry (FIFO)
    Every ledger line that issues points opens a lot that expires ``months`` months after its date
    (month ends clamp: Jan 31 + 1 month = Feb 28/29). Every point used (redeemed, taken back, expired)
    consumes the oldest lots first. The points to expire at day ``T`` are therefore
    ``max(0, issued in lots expiring on or before T - everything used so far)``.

Redemptions (no double spend)
    A member card's points can be promised to one open order at a time: when a till validates an order
    that redeems points, the server reserves them for that order (its uuid) for ``RESERVATION_MINUTES``.
    What an order may redeem is ``min(requested, balance + earned on the order - reserved by other
    orders)``, never below zero (``redeemable``): two tills cannot both spend the same points, and an
    order validated offline with a stale balance redeems only what is still there when it syncs (the
    rest is its shortfall, recorded on the order). The balance therefore never becomes negative.
"""

import calendar
import datetime
from dataclasses import dataclass

# GS1 prefixes 20-29 are reserved for in-store numbers: member cards scanned at the shop's own counters.
MEMBER_CODE_PREFIX = "29"
MEMBER_CODE_DIGITS = 13

AGE_BANDS = (
    (0, 18, "under_18"),
    (18, 25, "18_24"),
    (25, 35, "25_34"),
    (35, 45, "35_44"),
    (45, 55, "45_54"),
    (55, 65, "55_64"),
    (65, 200, "65_plus"),
)


def ean13_check_digit(digits: str) -> int:
    """Return the EAN-13 check digit of the 12 digits ``digits``."""
    if len(digits) != 12 or not digits.isdigit():
        raise ValueError(f"an EAN-13 body has 12 digits, got {digits!r}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return (10 - total % 10) % 10


def member_code(number: int, prefix: str = MEMBER_CODE_PREFIX) -> str:
    """Return the barcode-friendly member code (a valid EAN-13) of sequence number ``number``."""
    if not isinstance(number, int) or number < 1:
        raise ValueError(f"member numbers start at 1, got {number!r}")
    width = 12 - len(prefix)
    if number >= 10**width:
        raise ValueError(f"member number {number} does not fit in {width} digits")
    body = f"{prefix}{number:0{width}d}"
    return body + str(ean13_check_digit(body))


def is_valid_member_code(code: str) -> bool:
    """True when ``code`` is 13 digits with a correct EAN-13 check digit."""
    return (
        isinstance(code, str)
        and len(code) == MEMBER_CODE_DIGITS
        and code.isdigit()
        and ean13_check_digit(code[:12]) == int(code[12])
    )


def age(birthday: datetime.date, today: datetime.date) -> int:
    """Completed years between ``birthday`` and ``today``."""
    return today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))


def age_band(birthday: datetime.date | None, today: datetime.date) -> str | None:
    """The age band code of someone born on ``birthday`` (None without a birthday or born after today)."""
    if not birthday or birthday > today:
        return None
    years = age(birthday, today)
    for low, high, code in AGE_BANDS:
        if low <= years < high:
            return code
    return None


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus ``months`` months, clamping to the month's end (as PostgreSQL's date + interval)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_before(day: datetime.date, months: int) -> datetime.date:
    """``day`` minus ``months`` months, clamping to the month's end."""
    return add_months(day, -months)


# ---- tiers -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    id: int
    sequence: int
    use_spend: bool = False
    min_spend: float = 0.0
    use_points: bool = False
    min_points: float = 0.0
    require_both: bool = False
    period_months: int = 12

    @property
    def rank(self):
        return (self.sequence, self.id)

    def problems(self):
        """Plain-English problems of this tier's rule (empty when it is valid)."""
        found = []
        if not (self.use_spend or self.use_points):
            found.append("no_rule")
        if self.use_spend and self.min_spend < 0:
            found.append("negative_spend")
        if self.use_points and self.min_points < 0:
            found.append("negative_points")
        if self.period_months < 1:
            found.append("period")
        return found

    def qualifies(self, spend: float, points: float) -> bool:
        """Whether a member with ``spend`` and ``points`` earned over this tier's period qualifies."""
        checks = []
        if self.use_spend:
            checks.append(spend >= self.min_spend)
        if self.use_points:
            checks.append(points >= self.min_points)
        if not checks:
            return False
        return all(checks) if self.require_both else any(checks)


def best_tier(tiers, totals):
    """The highest-ranked tier a member qualifies for, or None.

    ``totals`` maps a tier id to the (spend, points earned) of the member over that tier's period.
    """
    qualifying = [tier for tier in tiers if tier.qualifies(*totals.get(tier.id, (0.0, 0.0)))]
    return max(qualifying, key=lambda tier: tier.rank) if qualifying else None


@dataclass(frozen=True)
class Decision:
    tier: Tier | None  # the tier after the decision
    reason: str | None  # 'upgrade', 'downgrade' or None (no change)
    below_since: datetime.date | None  # first day the member stopped qualifying for the tier they keep


def decide(current, qualifying, locked, below_since, grace_days, today):
    """The tier decision for one member on ``today``.

    ``below_since`` is the first evaluation day on which the member qualified only for a lower tier
    than ``current`` (None while they qualify). A locked tier never changes; a higher qualifying tier
    is an upgrade at once; a lower one becomes a downgrade once ``grace_days`` days have passed since
    ``below_since`` (at once with no grace).
    """
    if locked:
        return Decision(current, None, below_since)

    def rank(tier):
        return tier.rank if tier else (float("-inf"), 0)

    if rank(qualifying) > rank(current):
        return Decision(qualifying, "upgrade", None)
    if rank(qualifying) == rank(current):
        return Decision(current, None, None)
    since = below_since or today
    if (today - since).days >= grace_days:
        return Decision(qualifying, "downgrade", None)
    return Decision(current, None, since)


# ---- points expiry ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    date: datetime.date
    issued: float = 0.0
    used: float = 0.0


def expiring_points(lines, months: int, as_of: datetime.date) -> float:
    """Points of ``lines`` (a card's ledger) that have expired by ``as_of`` and are not yet used.

    Reference implementation by lots: each issuing line is a lot; uses consume the oldest lots first,
    in date order; at ``as_of`` the remaining points of the lots whose expiry is on or before ``as_of``
    expire. ``months`` <= 0 means points never expire.
    """
    if months <= 0:
        return 0.0
    lots = sorted(
        ([line.date, add_months(line.date, months), line.issued] for line in lines if line.issued > 0),
        key=lambda lot: lot[0],
    )
    to_consume = sum(line.used for line in lines)
    for lot in lots:
        take = min(lot[2], to_consume)
        lot[2] -= take
        to_consume -= take
    return round(sum(lot[2] for lot in lots if lot[1] <= as_of), 2)


# ---- redemptions ------------------------------------------------------------------------------------

# How long points reserved by a till's validation stay promised to that order (a validated order normally
# syncs within seconds; after this, an order that never synced no longer blocks the member's points).
RESERVATION_MINUTES = 60


def redeemable(
    requested: float, balance: float, reserved_by_others: float = 0.0, earned: float = 0.0
) -> float:
    """Points an order may redeem now: what it asks for, at most the card's ``balance`` plus what the
    order itself ``earned``, minus what other open orders have ``reserved_by_others``; never negative."""
    if requested < 0:
        raise ValueError(f"a redemption is a positive number of points, got {requested!r}")
    available = balance + earned - reserved_by_others
    return round(max(0.0, min(requested, available)), 2)
