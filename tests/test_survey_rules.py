from datetime import date

from odoo.tests import BaseCase, tagged

from ..lib.survey_rules import Candidate, invitations, is_complaint, satisfaction

TODAY = date(2026, 10, 31)


@tagged("post_install", "-at_install")
class TestSurveyRules(BaseCase):
    def test_invitations_consent_cap_and_once_per_record(self):
        candidates = [
            Candidate(1, ("pos.order", 10)),  # consents, never invited
            Candidate(1, ("pos.order", 11)),  # same customer, second order today: one invitation
            Candidate(2, ("pos.order", 12)),  # no consent
            Candidate(3, ("pos.order", 13)),  # invited 10 days ago
            Candidate(4, ("pos.order", 14)),  # invited exactly 30 days ago: may be invited again
            Candidate(5, ("pos.order", 15)),  # this order was invited already
        ]
        chosen, skipped = invitations(
            candidates,
            consented={1, 3, 4, 5},
            last_invited={3: date(2026, 10, 21), 4: date(2026, 10, 1)},
            already_invited={("pos.order", 15)},
            cap_days=30,
            today=TODAY,
        )
        self.assertEqual([c.key for c in chosen], [("pos.order", 10), ("pos.order", 14)])
        self.assertEqual(skipped, {"no_consent": 1, "capped": 2, "already": 1})
        chosen, _skipped = invitations(candidates[3:5], {3, 4}, {3: date(2026, 10, 21)}, set(), 7, TODAY)
        self.assertEqual([c.partner_id for c in chosen], [3, 4], "a shorter cap lets the customer in again")

    def test_complaint_thresholds(self):
        self.assertTrue(is_complaint([5, 4, 2, 5], 9, ""), "one score of 2 is enough")
        self.assertFalse(is_complaint([3, 3, 3, 3], 8, "ok"))
        self.assertTrue(is_complaint([4, 4], 6, "Too expensive"), "a detractor with a comment")
        self.assertFalse(is_complaint([4, 4], 6, "  "), "a detractor without a comment is no complaint")
        self.assertFalse(is_complaint([4, 4], 7, "Could be cheaper"), "a passive is no complaint")
        self.assertFalse(is_complaint([], None, "hello"))

    def test_satisfaction_is_the_rounded_average(self):
        self.assertEqual(satisfaction([5, 4]), 5)
        self.assertEqual(satisfaction([4, 4, 3]), 4)
        self.assertEqual(satisfaction([1, 2]), 2)
        self.assertIsNone(satisfaction([]))
