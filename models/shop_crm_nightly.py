"""The nightly run of Shop CRM: one scheduled action runs every nightly job in the order in which they
depend on each other, so that a late or slow job can never leave a later one working on stale data:

1. points expiry (the ledger of the day: expired lots, expiry notices),
2. member tiers (spend and points earned up to today; upgrades, downgrades after grace),
3. customer analytics (RFM, classes, segments, stages, churn warnings, lifetime value; win-back
   activities for new churn warnings),
4. follow-up plans (their target customers by tier, class, stage and churn warning: steps 2 and 3),
5. care (birthday, important date and festival care; rules can target a tier: step 2),
6. the monthly report by email to the managers, on the 1st of the month when the setting is on (last
   month's KPIs, with tonight's segments: step 3),
7. overdue improvement actions (an activity for the owner of each planned action past its deadline),
8. questionnaire invitations for the customers of yesterday's paid orders.
"""

import logging
import time

from odoo import api, models

_logger = logging.getLogger(__name__)

# (model, method, what) in the order they run.
STEPS = (
    ("shop.crm.points", "_cron_expire_points", "points expiry"),
    ("shop.crm.tier", "_cron_evaluate", "member tiers"),
    ("shop.crm.analytics", "_cron_recompute", "customer analytics"),
    ("shop.crm.followup.rule", "_cron_create_followups", "follow-up plans"),
    ("shop.crm.care.rule", "_cron_care", "care"),
    ("shop.crm.kpi", "_cron_send_monthly_report", "monthly report"),
    ("shop.crm.improvement", "_cron_overdue_activities", "overdue improvement actions"),
    ("survey.user_input", "_cron_survey_invitations", "questionnaire invitations"),
)


class ShopCrmNightly(models.AbstractModel):
    _name = "shop.crm.nightly"
    _description = "Shop CRM nightly run"

    @api.model
    def _cron_nightly(self):
        """Run every nightly job once, in order (see the module docstring), in the scheduled action's
        transaction: when one fails, the whole night is rolled back and retried by the scheduler, never
        half done. Each job is idempotent, so running the night twice changes nothing the second time."""
        for done, (model, method, what) in enumerate(STEPS):
            started = time.monotonic()
            getattr(self.env[model], method)()
            _logger.info("Shop CRM nightly run: %s done in %.1f s", what, time.monotonic() - started)
            self.env["ir.cron"]._notify_progress(done=done + 1, remaining=len(STEPS) - done - 1)
