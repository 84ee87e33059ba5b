from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .res_partner import CLASSES, STAGES
from .shop_crm_visit import PURPOSES

TIMINGS = [
    ("cadence", "Every N Days Since the Last Contact"),
    ("after_first_purchase", "N Days After the First Purchase"),
    ("once", "Once While the Customer Matches"),
]


class ShopCrmFollowupRule(models.Model):
    """A follow-up plan: which customers (tier, value class, lifecycle stage, churn warning), when
    (a cadence, days after the first purchase, or once) and why. The daily cron gives the staff member
    of each due customer one follow-up activity, never a second while one is open, never to customers
    who asked not to be contacted."""

    _name = "shop.crm.followup.rule"
    _description = "Follow-up Plan"
    _order = "company_id, sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    tier_id = fields.Many2one("shop.crm.tier", "Member Tier", domain="[('company_id', '=', company_id)]")
    rfm_class = fields.Selection(CLASSES, "Value Class")
    lifecycle_stage = fields.Selection(STAGES)
    churn_warning = fields.Boolean("Only Churn Warnings")
    timing = fields.Selection(TIMINGS, required=True, default="cadence")
    interval_days = fields.Integer("Days", default=30)
    purpose = fields.Selection(PURPOSES, required=True, default="routine")
    history_ids = fields.One2many("shop.crm.followup.history", "rule_id", "Follow-ups Created")

    @api.constrains("tier_id", "rfm_class", "lifecycle_stage", "churn_warning", "timing", "interval_days")
    def _check_rule(self):
        for rule in self:
            if not (rule.tier_id or rule.rfm_class or rule.lifecycle_stage or rule.churn_warning):
                raise ValidationError(
                    self.env._(
                        "Follow-up plan %(name)s: choose which customers it is for (a tier, a value class, a "
                        "lifecycle stage or churn warnings).",
                        name=rule.name,
                    )
                )
            if rule.interval_days < (1 if rule.timing == "cadence" else 0):
                raise ValidationError(
                    self.env._(
                        "Follow-up plan %(name)s: the number of days must be at least 1 for a cadence and "
                        "cannot be negative otherwise.",
                        name=rule.name,
                    )
                )

    def _partner_domain(self):
        self.ensure_one()
        domain = [
            ("is_shop_customer", "=", True),
            ("do_not_contact", "=", False),
            ("user_id", "!=", False),
            "|",
            ("company_id", "=", False),
            ("company_id", "=", self.company_id.id),
        ]
        if self.tier_id:
            domain.append(("tier_id", "=", self.tier_id.id))
        if self.rfm_class:
            domain.append(("rfm_class", "=", self.rfm_class))
        if self.lifecycle_stage:
            domain.append(("lifecycle_stage", "=", self.lifecycle_stage))
        if self.churn_warning:
            domain.append(("churn_warning", "=", True))
        return domain

    @api.model
    def _cron_create_followups(self, as_of=None):
        """Create the due follow-up activities of every active plan; returns how many were created.
        Running it twice on a day changes nothing the second time."""
        created = 0
        rules = self.sudo().search([("active", "=", True)], order="company_id, sequence, id")
        for done, rule in enumerate(rules):
            created += rule._create_due_activities(as_of or rule.company_id._shop_crm_today())
            self.env["ir.cron"]._notify_progress(done=done + 1, remaining=len(rules) - done - 1)
        return created

    def _create_due_activities(self, as_of):
        """Create the activities due under this plan on ``as_of`` (who is due: one SQL statement)."""
        self.ensure_one()
        activity_type = self.env.ref("shop_crm.mail_activity_type_follow_up")
        partners = (
            self.env["res.partner"].sudo().with_context(active_test=True)._search(self._partner_domain())
        )
        company = self.company_id.sudo()
        purchases = SQL(
            """
            SELECT partner_id, MIN(day) AS first_day, MAX(day) AS last_day
              FROM (%(purchases)s) o
             WHERE partner_id IN %(partners)s GROUP BY partner_id
            """,
            purchases=company._shop_crm_purchases(positive=True, until=as_of),
            partners=partners.subselect(),
        )
        if self.timing == "cadence":
            due = SQL(
                """COALESCE((SELECT MAX(%(visit_day)s) FROM shop_crm_visit v WHERE v.partner_id = p.id),
                            (SELECT MAX(h.date) FROM shop_crm_followup_history h
                              WHERE h.partner_id = p.id AND h.rule_id = %(rule)s),
                            %(never)s) + %(days)s <= %(as_of)s""",
                rule=self.id,
                visit_day=company._shop_crm_local_day("v.date"),
                never=as_of - timedelta(days=self.interval_days),
                days=self.interval_days,
                as_of=as_of,
            )
        elif self.timing == "after_first_purchase":
            due = SQL(
                """b.first_day + %(days)s <= %(as_of)s
                   AND NOT EXISTS (SELECT 1 FROM shop_crm_followup_history h
                                    WHERE h.partner_id = p.id AND h.rule_id = %(rule)s)""",
                days=self.interval_days,
                as_of=as_of,
                rule=self.id,
            )
        else:  # once per episode: again only after a new purchase
            due = SQL(
                """NOT EXISTS (SELECT 1 FROM shop_crm_followup_history h
                                WHERE h.partner_id = p.id AND h.rule_id = %(rule)s
                                  AND h.date >= COALESCE(b.last_day, '1900-01-01'::date))""",
                rule=self.id,
            )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH bought AS (%(purchases)s)
                SELECT p.id, p.user_id
                  FROM res_partner p
                  JOIN res_users u ON u.id = p.user_id AND u.active
                  LEFT JOIN bought b ON b.partner_id = p.id
                 WHERE p.id IN %(partners)s
                   AND (%(needs_purchase)s IS FALSE OR b.partner_id IS NOT NULL)
                   AND %(due)s
                   AND NOT EXISTS (SELECT 1 FROM mail_activity a
                                    WHERE a.res_model = 'res.partner' AND a.res_id = p.id
                                      AND a.activity_type_id = %(type)s AND a.active)
                 ORDER BY p.id
                """,
                purchases=purchases,
                partners=partners.subselect(),
                needs_purchase=self.timing == "after_first_purchase",
                due=due,
                type=activity_type.id,
            )
        )
        rows = self.env.cr.fetchall()
        if not rows:
            return 0
        # Who is due was decided in SQL; the activities are created in one batched create, so the staff
        # members are notified and follow their customers as for any activity assigned to them.
        summary = self.with_context(lang=self.company_id.partner_id.lang or "en_US").name
        model_id = self.env["ir.model"]._get_id("res.partner")
        activities = self.env["mail.activity"]._shop_crm_create_batch(
            [
                {
                    "res_model_id": model_id,
                    "res_id": partner_id,
                    "activity_type_id": activity_type.id,
                    "user_id": user_id,
                    "summary": summary,
                    "date_deadline": as_of,
                    "automated": True,
                }
                for partner_id, user_id in rows
            ]
        )
        self.env["shop.crm.followup.history"].create(
            [
                {"rule_id": self.id, "partner_id": activity.res_id, "date": as_of, "activity_id": activity.id}
                for activity in activities
            ]
        )
        return len(activities)


class ShopCrmFollowupHistory(models.Model):
    _name = "shop.crm.followup.history"
    _description = "Follow-up Created by a Plan"
    _order = "date desc, id desc"

    rule_id = fields.Many2one(
        "shop.crm.followup.rule", "Follow-up Plan", required=True, index=True, ondelete="cascade"
    )
    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, ondelete="cascade")
    date = fields.Date(required=True)
    activity_id = fields.Many2one("mail.activity", ondelete="set null")
