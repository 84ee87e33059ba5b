from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..lib import membership


class ShopCrmTier(models.Model):
    _name = "shop.crm.tier"
    _description = "Member Tier"
    _order = "company_id, sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10, help="Higher tiers have a higher sequence.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    color = fields.Integer()
    use_spend = fields.Boolean("Qualify by Spend", default=True)
    min_spend = fields.Monetary("Minimum Spend", currency_field="currency_id")
    use_points = fields.Boolean("Qualify by Points Earned")
    min_points = fields.Float("Minimum Points Earned")
    require_both = fields.Boolean(
        help="When both rules are used: the member must meet both (otherwise either)."
    )
    period_months = fields.Integer(
        "Over the Last (months)", default=12, help="Spend and points earned count over this many months."
    )
    points_multiplier = fields.Float(
        default=1.0, digits=(16, 2), help="Points earned on an order are multiplied by this number."
    )
    pricelist_id = fields.Many2one(
        "product.pricelist",
        "Member Pricelist",
        help="Members of this tier get this pricelist (member prices).",
    )
    benefits = fields.Text(translate=True)
    member_count = fields.Integer("Members", compute="_compute_member_count")

    _sql_constraints = [
        (
            "points_multiplier_positive",
            "CHECK(points_multiplier >= 1)",
            "The points multiplier must be at least 1.",
        ),
    ]

    def _compute_member_count(self):
        counts = dict(
            self.env["res.partner"]._read_group([("tier_id", "in", self.ids)], ["tier_id"], ["__count"])
        )
        for tier in self:
            tier.member_count = counts.get(tier, 0)

    @api.constrains(
        "use_spend", "use_points", "min_spend", "min_points", "period_months", "points_multiplier"
    )
    def _check_rule(self):
        for tier in self:
            problems = tier._rule().problems()
            if "no_rule" in problems:
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s has no qualifying rule: choose spend, points earned, or both.",
                        tier=tier.name,
                    )
                )
            if problems or tier.points_multiplier < 1:
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s: the minimum spend and points cannot be negative, the period must be "
                        "at least one month and the points multiplier at least 1.",
                        tier=tier.name,
                    )
                )

    def _rule(self):
        self.ensure_one()
        return membership.Tier(
            id=self.id,
            sequence=self.sequence,
            use_spend=self.use_spend,
            min_spend=self.min_spend,
            use_points=self.use_points,
            min_points=self.min_points,
            require_both=self.require_both,
            period_months=self.period_months,
        )

    @api.model
    def _evaluate(self, company, as_of=None, partners=None, order=None):
        """Give every member of ``company`` (or only ``partners``) the highest tier they qualify for,
        with the grace period before downgrades and locked tiers untouched (rules: lib/membership.py),
        in set-based SQL. Changes are recorded in shop.crm.tier.history and the customers' chatter.
        Returns the partners whose tier changed."""
        as_of = fields.Date.to_date(as_of) or company._shop_crm_today()
        tiers = self.sudo().search([("company_id", "=", company.id)])
        if not tiers:
            return self.env["res.partner"]
        self.env.flush_all()
        only = SQL("AND p.id = ANY(%s)", partners.ids) if partners is not None else SQL()
        self.env.cr.execute(
            SQL(
                """
                WITH members AS (
                    SELECT p.id, p.tier_id, COALESCE(p.tier_locked, FALSE) AS locked, p.tier_below_since
                      FROM res_partner p
                     WHERE p.member_company_id = %(company)s AND p.member_code IS NOT NULL %(only)s
                ), %(totals)s, qualified AS (
                    SELECT DISTINCT ON (m.id) m.id AS partner_id, t.id AS tier_id, t.sequence
                      FROM members m
                     CROSS JOIN tiers t
                      LEFT JOIN spend s ON s.tier_id = t.id AND s.partner_id = m.id
                      LEFT JOIN earned e ON e.tier_id = t.id AND e.partner_id = m.id
                     WHERE CASE WHEN t.use_spend AND t.use_points AND t.require_both
                                THEN COALESCE(s.spend, 0) >= t.min_spend
                                 AND COALESCE(e.points, 0) >= t.min_points
                                ELSE (t.use_spend AND COALESCE(s.spend, 0) >= t.min_spend)
                                  OR (t.use_points AND COALESCE(e.points, 0) >= t.min_points)
                           END
                     ORDER BY m.id, t.sequence DESC, t.id DESC
                ), ranked AS (
                    SELECT m.id, m.tier_id AS old_tier, q.tier_id AS q_tier, m.tier_below_since AS below,
                           ROW(COALESCE(q.sequence, -2147483648), COALESCE(q.tier_id, 0)) AS q_rank,
                           ROW(COALESCE(ct.sequence, -2147483648), COALESCE(m.tier_id, 0)) AS c_rank,
                           %(as_of)s::date - COALESCE(m.tier_below_since, %(as_of)s::date) >= %(grace)s
                               AS grace_over
                      FROM members m
                      LEFT JOIN qualified q ON q.partner_id = m.id
                      LEFT JOIN shop_crm_tier ct ON ct.id = m.tier_id
                     WHERE NOT m.locked
                ), decided AS (
                    SELECT id, old_tier,
                           CASE WHEN q_rank > c_rank THEN q_tier
                                WHEN q_rank = c_rank THEN old_tier
                                WHEN grace_over THEN q_tier
                                ELSE old_tier END AS new_tier,
                           CASE WHEN q_rank >= c_rank OR grace_over THEN NULL
                                ELSE COALESCE(below, %(as_of)s::date) END AS new_below,
                           CASE WHEN q_rank > c_rank THEN 'upgrade'
                                WHEN q_rank < c_rank AND grace_over THEN 'downgrade' END AS reason
                      FROM ranked
                )
                UPDATE res_partner p
                   SET tier_id = d.new_tier, tier_below_since = d.new_below,
                       write_uid = %(uid)s, write_date = NOW() AT TIME ZONE 'UTC'
                  FROM decided d
                 WHERE p.id = d.id
                   AND (p.tier_id IS DISTINCT FROM d.new_tier
                        OR p.tier_below_since IS DISTINCT FROM d.new_below)
             RETURNING p.id, d.old_tier, d.new_tier, d.reason
                """,
                as_of=as_of,
                company=company.id,
                totals=self._totals_sql(company, as_of, tiers),
                grace=company.shop_crm_tier_grace_days,
                uid=self.env.uid,
                only=only,
            )
        )
        changes = [row for row in self.env.cr.fetchall() if row[3]]
        self.env["res.partner"].invalidate_model(["tier_id", "tier_below_since"])
        return self._record_changes(company, changes, as_of, order=order)

    @api.model
    def _totals_sql(self, company, as_of, tiers):
        """The CTEs ``tiers``, ``orders``, ``spend`` (tier_id, partner_id, spend) and ``earned`` (tier_id,
        partner_id, points) of the members of a preceding CTE ``members`` (column ``id``): what each member
        spent and earned over each active tier's period up to ``as_of``, as the tier rules count them."""
        # the first day that counts for any tier (its spend counts the days after as_of - period)
        since = as_of - relativedelta(months=max(tiers.mapped("period_months"))) + timedelta(days=1)
        return SQL(
            """
                tiers AS (
                    SELECT id, sequence, use_spend, COALESCE(min_spend, 0) AS min_spend, use_points,
                           COALESCE(min_points, 0) AS min_points, require_both,
                           (%(as_of)s::date - make_interval(months => period_months))::date AS since
                      FROM shop_crm_tier
                     WHERE company_id = %(company)s AND active
                ), orders AS (  -- purchases minus refunds
                    SELECT o.partner_id, o.day, o.amount
                      FROM (%(purchases)s) o JOIN members m ON m.id = o.partner_id
                ), spend AS (
                    SELECT t.id AS tier_id, o.partner_id, SUM(o.amount) AS spend
                      FROM orders o JOIN tiers t ON o.day > t.since
                     GROUP BY t.id, o.partner_id
                ), earned AS (
                    SELECT t.id AS tier_id, c.partner_id,
                           SUM(CASE WHEN h.shop_crm_kind IN ('earn', 'bonus') THEN h.issued ELSE -h.used END)
                               AS points
                      FROM loyalty_history h
                      JOIN loyalty_card c ON c.id = h.card_id
                      JOIN members m ON m.id = c.partner_id
                      JOIN tiers t ON h.shop_crm_date > t.since AND h.shop_crm_date <= %(as_of)s
                     WHERE c.program_id = %(program)s
                       AND h.shop_crm_kind IN ('earn', 'bonus', 'refund', 'cancel')
                     GROUP BY t.id, c.partner_id
                )""",
            as_of=as_of,
            company=company.id,
            purchases=company._shop_crm_purchases(until=as_of, since=since),
            program=company._shop_crm_member_program().id,
        )

    @api.model
    def _member_totals(self, company, partners, as_of=None):
        """{partner id: {tier id: (spend, points earned)}} of ``partners`` over each tier's period (the
        numbers the tier evaluation compares with the tiers' minimums), in one query."""
        as_of = fields.Date.to_date(as_of) or company._shop_crm_today()
        tiers = self.sudo().search([("company_id", "=", company.id)])
        if not tiers or not partners:
            return {}
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH members AS (SELECT unnest(%(ids)s::int[]) AS id), %(totals)s
                SELECT m.id, t.id, COALESCE(s.spend, 0)::float8, COALESCE(e.points, 0)::float8
                  FROM members m
                 CROSS JOIN tiers t
                  LEFT JOIN spend s ON s.tier_id = t.id AND s.partner_id = m.id
                  LEFT JOIN earned e ON e.tier_id = t.id AND e.partner_id = m.id
                """,
                ids=list(partners.ids),
                totals=self._totals_sql(company, as_of, tiers),
            )
        )
        totals = {}
        for partner_id, tier_id, spend, points in self.env.cr.fetchall():
            totals.setdefault(partner_id, {})[tier_id] = (spend, points)
        return totals

    @api.model
    def _cron_evaluate(self):
        companies = self.env["res.company"].union(
            *(company for (company,) in self.sudo()._read_group([], ["company_id"]))
        )
        for done, company in enumerate(companies):
            self.with_company(company)._evaluate(company)
            self.env["ir.cron"]._notify_progress(done=done + 1, remaining=len(companies) - done - 1)

    @api.model
    def _record_changes(self, company, changes, as_of, order=None, note=None, log_partner_ids=None):
        """History lines, chatter notes and member pricelists for ``changes``: (partner id, old tier id,
        new tier id, reason) tuples. ``log_partner_ids``: the customers who get a chatter note (default:
        all; the import leaves out the customers it creates, whose tier history line says it)."""
        if not changes:
            return self.env["res.partner"]
        partner_ids = [change[0] for change in changes]
        # History lines in one set-based statement: the first evaluation after tiers are configured may
        # move every member of a chain at once.
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO shop_crm_tier_history
                    (partner_id, company_id, date, from_tier_id, to_tier_id, reason, order_ref, user_id, note,
                     create_uid, create_date, write_uid, write_date)
                SELECT v.partner_id, %(company)s, %(date)s, v.old, v.new, v.reason, %(order)s, %(uid)s,
                       %(note)s, %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                  FROM unnest(%(partners)s::int[], %(olds)s::int[], %(news)s::int[], %(reasons)s::varchar[])
                       AS v(partner_id, old, new, reason)
                """,
                company=company.id,
                date=as_of,
                order=f"{order._name},{order.id}" if order else None,
                uid=self.env.uid,
                note=note,
                partners=partner_ids,
                olds=[change[1] or None for change in changes],
                news=[change[2] or None for change in changes],
                reasons=[change[3] for change in changes],
            )
        )
        tiers = (
            self.sudo()
            .with_context(active_test=False)
            .browse({tier for _partner, old, new, _reason in changes for tier in (old, new) if tier})
        )
        names = {tier.id: tier.name for tier in tiers}
        reasons = dict(self.env["shop.crm.tier.history"]._fields["reason"]._description_selection(self.env))
        none = self.env._("no tier")
        bodies = {}
        for partner_id, old, new, reason in changes:
            if log_partner_ids is not None and partner_id not in log_partner_ids:
                continue
            text = self.env._(
                "Member tier: %(old)s → %(new)s (%(reason)s)",
                old=names.get(old, none),
                new=names.get(new, none),
                reason=reasons[reason],
            )
            if order:
                text += " · " + order.display_name
            bodies[partner_id] = text  # plain text: escaped by _message_log_batch
        # One internal note per customer through the chatter's batch API (its messages are real
        # mail.message records, with their author, note subtype and message id).
        if bodies:
            self.env["res.partner"].browse(list(bodies))._message_log_batch(bodies=bodies)
        self.env["shop.crm.tier.history"].invalidate_model()
        partners = self.env["res.partner"].sudo().browse(partner_ids)
        partners.invalidate_recordset(["tier_history_ids"])
        # Member prices: the new tier's pricelist (or the default one when leaving a tier that had one).
        by_pricelist = {}
        for partner_id, old, new, _reason in changes:
            old_tier = tiers.browse(old) if old else tiers.browse()
            new_tier = tiers.browse(new) if new else tiers.browse()
            if (old and old_tier.pricelist_id) or (new and new_tier.pricelist_id):
                target = new_tier.pricelist_id.id if new else False
                by_pricelist.setdefault(target, []).append(partner_id)
        for pricelist_id, partner_ids in by_pricelist.items():
            self.env["res.partner"].sudo().browse(partner_ids).with_company(company).write(
                {"property_product_pricelist": pricelist_id}
            )
        return partners

    def action_view_members(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("shop_crm.res_partner_action_shop_customers")
        action["domain"] = [("tier_id", "=", self.id)]
        action["context"] = {}
        return action


class ShopCrmTierHistory(models.Model):
    _name = "shop.crm.tier.history"
    _description = "Member Tier Change"
    _order = "date desc, id desc"

    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, index=True)
    date = fields.Date(required=True)
    from_tier_id = fields.Many2one("shop.crm.tier", "From", ondelete="set null")
    to_tier_id = fields.Many2one("shop.crm.tier", "To", ondelete="set null")
    reason = fields.Selection(
        [("upgrade", "Upgrade"), ("downgrade", "Downgrade"), ("manual", "Manual"), ("import", "Import")],
        required=True,
    )
    order_ref = fields.Reference(
        [("pos.order", "Point of Sale Order"), ("sale.order", "Sales Order")],
        "Triggering Order",
    )
    user_id = fields.Many2one("res.users", "By", default=lambda self: self.env.user)
    note = fields.Char()
