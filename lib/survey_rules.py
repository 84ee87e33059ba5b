"""Rules of the satisfaction questionnaires, in plain Python (no ORM): who gets an invitation, and what
an answer leads to (a complaint ticket, the satisfaction of a resolved ticket)."""

from dataclasses import dataclass
from datetime import timedelta

# An answer with any score at or below LOW_SCORE (of 5), or a recommendation at or below NPS_DETRACTOR
# (of 10) with a comment, opens or updates a complaint ticket.
LOW_SCORE = 2
NPS_DETRACTOR = 6
DEFAULT_CAP_DAYS = 30


@dataclass(frozen=True)
class Candidate:
    """Someone who could be invited: ``key`` is what the invitation is about (an order, a ticket, a
    visit: one invitation each at most)."""

    partner_id: int
    key: tuple


def invitations(candidates, consented, last_invited, already_invited, cap_days, today):
    """The candidates to invite now, at most one per customer: customers who consent (``consented``: a set
    of partner ids), whose last invitation (``last_invited``: {partner id: date}) is at least
    ``cap_days`` days before ``today``, for something not invited yet (``already_invited``: a set of
    keys). Returns (invited candidates, {reason: count} of the others)."""
    skipped = {"no_consent": 0, "capped": 0, "already": 0}
    chosen = []
    seen = set()
    for candidate in candidates:
        if candidate.key in already_invited:
            skipped["already"] += 1
        elif candidate.partner_id not in consented:
            skipped["no_consent"] += 1
        elif candidate.partner_id in seen or (
            candidate.partner_id in last_invited
            and last_invited[candidate.partner_id] > today - timedelta(days=cap_days)
        ):
            skipped["capped"] += 1
        else:
            seen.add(candidate.partner_id)
            chosen.append(candidate)
    return chosen, skipped


def is_complaint(scores, nps, comment):
    """Whether an answer (``scores``: the 1-5 scores given, ``nps``: the 0-10 recommendation or None,
    ``comment``: text) opens a complaint: any score of LOW_SCORE or less, or a detractor's recommendation
    with a comment."""
    if any(score <= LOW_SCORE for score in scores):
        return True
    return nps is not None and nps <= NPS_DETRACTOR and bool((comment or "").strip())


def satisfaction(scores):
    """The 1-5 satisfaction of an answer: the average of its scores, rounded half up (None without
    scores)."""
    if not scores:
        return None
    return int(sum(scores) / len(scores) + 0.5)
