"""RFM value classes, Chinese RFM segments, lifecycle stages and churn warnings — the definitions.

The production computation is set-based SQL (``models/shop_crm_analytics.py``); this module holds the
same rules in plain Python: the settings and their defaults, the segment table, and
:func:`compute`, a straightforward reference implementation used by the tests to check the SQL on
hand-built and random data. No Odoo import.

Definitions (all numbers are per-company settings, defaults shown):

- Purchases: paid POS orders and confirmed sales orders with a positive total (company currency). Orders
  with a negative total (refunds) count only against monetary. A purchase's date is its ``date_order``'s
  date. Orders after the as-of date D are ignored.
- Window: the ``window_days`` (365) days ending at D, i.e. D-364 ... D.
- ``recency_days`` = D - date of the last purchase ever; ``frequency`` = purchases in the window;
  ``monetary`` = purchase totals minus refunds in the window.
- Scores 1-5 among customers with a purchase in the window: ``CEIL(5 * CUME_DIST() OVER (ORDER BY v))``
  with v = frequency (F), monetary (M), -recency (R); ties share a score. Customers who purchased, but
  not in the window, score 0.
- Class from R+F+M: A >= 13, B >= 10, C >= 7, else D (also unscored customers who purchased); none for
  customers who never purchased.
- Segment: R, F, M each "high" when its score >= 3 (``high_score``); see :data:`SEGMENTS`.
- Lifecycle: ``potential`` never purchased; ``new`` first purchase at most ``new_days`` (90) days before
  D; ``lost`` last purchase more than ``lost_days`` (180) days before D; ``returning`` otherwise; in that
  order of precedence.
- Churn warning: a customer who purchased and is not lost, whose recency is greater than
  max(``gap_factor`` (2) x typical gap, ``min_days`` (14)). The typical gap is the median gap between the
  customer's consecutive distinct purchase days; a customer with a single purchase day has no gaps of
  their own and uses the shop-wide median of the personal median gaps (of customers with two or more
  purchase days); with no such customers at all, only ``min_days`` applies.
- Complaint weight (from the feedback tickets): for a customer with an open complaint (new or in
  progress) or a complaint answered with satisfaction 1-2, received in the ``complaint_days`` (90) days up
  to D, the gap factor is multiplied by ``complaint_factor`` (0.5): the warning comes twice as early
  (still never before ``min_days``).
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from statistics import median

CLASSES = ("A", "B", "C", "D")
STAGES = ("potential", "new", "returning", "lost")

# (R high, F high, M high) -> segment code. The eight classes of Chinese retail RFM analysis.
SEGMENTS = {
    (True, True, True): "important_value",  # 重要价值客户
    (True, False, True): "important_development",  # 重要发展客户
    (False, True, True): "important_keep",  # 重要保持客户
    (False, False, True): "important_retain",  # 重要挽留客户
    (True, True, False): "general_value",  # 一般价值客户
    (True, False, False): "general_development",  # 一般发展客户
    (False, True, False): "general_keep",  # 一般保持客户
    (False, False, False): "general_retain",  # 一般挽留客户
}


@dataclass(frozen=True)
class Settings:
    window_days: int = 365
    class_a_min: int = 13
    class_b_min: int = 10
    class_c_min: int = 7
    high_score: int = 3
    new_days: int = 90
    lost_days: int = 180
    gap_factor: float = 2.0
    min_days: int = 14
    complaint_factor: float = 0.5
    complaint_days: int = 90

    def problems(self):
        """Codes of the rules these settings break (empty when they are usable)."""
        found = []
        if self.window_days < 1:
            found.append("window")
        if not 15 >= self.class_a_min > self.class_b_min > self.class_c_min >= 1:
            found.append("classes")
        if not 1 <= self.high_score <= 5:
            found.append("high_score")
        if self.new_days < 0 or self.lost_days < 1:
            found.append("lifecycle")
        if self.gap_factor <= 0 or self.min_days < 0:
            found.append("churn")
        if not 0 < self.complaint_factor <= 1 or self.complaint_days < 1:
            found.append("complaints")
        return found

    def validate(self):
        """Raise ValueError when the settings cannot describe classes and stages."""
        if found := self.problems():
            raise ValueError(f"Invalid RFM settings: {', '.join(found)} ({PROBLEMS[found[0]]})")


PROBLEMS = {
    "window": "the RFM window must be at least one day",
    "classes": "class thresholds must satisfy 15 >= A > B > C >= 1",
    "high_score": "the 'high' score must be between 1 and 5",
    "lifecycle": "the new days cannot be negative and the lost days must be positive",
    "churn": "the churn gap factor must be positive and the minimum days not negative",
    "complaints": "the complaint factor must be in (0, 1] and the complaint days at least 1",
}


DEFAULT_SETTINGS = Settings()


@dataclass(frozen=True)
class CustomerValues:
    recency_days: int | None
    frequency: int
    monetary: float
    r_score: int
    f_score: int
    m_score: int
    rfm_class: str | None
    segment: str | None
    stage: str
    churn_warning: bool
    typical_gap: float | None
    purchase_days: int
    net_spend: float


def score_class(total, settings=DEFAULT_SETTINGS):
    """The value class of an R+F+M total (0 for customers who purchased but not in the window)."""
    if total >= settings.class_a_min:
        return "A"
    if total >= settings.class_b_min:
        return "B"
    if total >= settings.class_c_min:
        return "C"
    return "D"


def segment(r_score, f_score, m_score, settings=DEFAULT_SETTINGS):
    high = settings.high_score
    return SEGMENTS[(r_score >= high, f_score >= high, m_score >= high)]


def cume_dist_scores(values):
    """``{key: CEIL(5 * CUME_DIST() OVER (ORDER BY value))}`` for a ``{key: value}`` mapping."""
    ordered = sorted(values.values())
    count = len(ordered)
    scores = {}
    for key, value in values.items():
        # CUME_DIST: fraction of rows whose value is <= this one (peers included).
        at_or_below = _bisect_right(ordered, value)
        scores[key] = math.ceil(5 * (at_or_below / count))
    return scores


def _bisect_right(ordered, value):
    low, high = 0, len(ordered)
    while low < high:
        middle = (low + high) // 2
        if value < ordered[middle]:
            high = middle
        else:
            low = middle + 1
    return low


def compute(orders, as_of, customers=(), settings=DEFAULT_SETTINGS, complaining=frozenset()):
    """Reference computation.

    :param orders: iterable of ``(customer, date, amount)`` (amount in company currency).
    :param as_of: the as-of date D.
    :param customers: customers to report even without orders (they are ``potential``).
    :param complaining: customers with an open or unsatisfied recent complaint (complaint weight).
    :return: ``{customer: CustomerValues}``
    """
    window_start = date.fromordinal(as_of.toordinal() - settings.window_days + 1)
    by_customer = defaultdict(list)
    for customer, day, amount in orders:
        rows = by_customer[customer]  # a customer whose orders all come after D is still a customer
        if day <= as_of:
            rows.append((day, amount))
    for customer in customers:
        by_customer.setdefault(customer, [])

    raw = {}
    for customer, rows in by_customer.items():
        purchase_days = sorted({day for day, amount in rows if amount > 0})
        in_window = [(day, amount) for day, amount in rows if window_start <= day]
        gaps = [(b - a).days for a, b in pairwise(purchase_days)]
        raw[customer] = {
            "purchase_days": purchase_days,
            "frequency": sum(1 for _day, amount in in_window if amount > 0),
            "monetary": sum(amount for _day, amount in in_window),
            "net_spend": sum(amount for _day, amount in rows),
            "median_gap": median(gaps) if gaps else None,
        }
    personal_medians = [values["median_gap"] for values in raw.values() if values["median_gap"] is not None]
    shop_median = median(personal_medians) if personal_medians else None

    scored = {customer: values for customer, values in raw.items() if values["frequency"] > 0}
    r_scores = cume_dist_scores(
        {customer: -(as_of - values["purchase_days"][-1]).days for customer, values in scored.items()}
    )
    f_scores = cume_dist_scores({customer: values["frequency"] for customer, values in scored.items()})
    m_scores = cume_dist_scores({customer: values["monetary"] for customer, values in scored.items()})

    result = {}
    for customer, values in raw.items():
        days = values["purchase_days"]
        r, f, m = r_scores.get(customer, 0), f_scores.get(customer, 0), m_scores.get(customer, 0)
        if not days:
            result[customer] = CustomerValues(
                None, values["frequency"], values["monetary"], 0, 0, 0, None, None, "potential", False,
                None, 0, values["net_spend"],
            )  # fmt: skip
            continue
        recency = (as_of - days[-1]).days
        if (as_of - days[0]).days <= settings.new_days:
            stage = "new"
        elif recency > settings.lost_days:
            stage = "lost"
        else:
            stage = "returning"
        typical_gap = values["median_gap"] if len(days) >= 2 else shop_median
        factor = settings.gap_factor * (settings.complaint_factor if customer in complaining else 1)
        threshold = (
            max(factor * typical_gap, settings.min_days) if typical_gap is not None else settings.min_days
        )
        result[customer] = CustomerValues(
            recency_days=recency,
            frequency=values["frequency"],
            monetary=values["monetary"],
            r_score=r,
            f_score=f,
            m_score=m,
            rfm_class=score_class(r + f + m, settings),
            segment=segment(r, f, m, settings),
            stage=stage,
            churn_warning=stage != "lost" and recency > threshold,
            typical_gap=typical_gap,
            purchase_days=len(days),
            net_spend=values["net_spend"],
        )
    return result
