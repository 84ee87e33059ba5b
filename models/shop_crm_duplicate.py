"""Possible duplicate customers: customers sharing a normalised mobile, or the same name and birthday, one
row per customer and reason, grouped by what they share (a read-only SQL view). Merged with Odoo's own
contact merge wizard (``wizard/base_partner_merge.py`` keeps one member)."""

from odoo import fields, models, tools
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

REASONS = [("mobile", "Same mobile"), ("name_birthday", "Same name and birthday")]


class ShopCrmDuplicate(models.Model):
    _name = "shop.crm.duplicate"
    _description = "Possible Duplicate Customer"
    _auto = False
    _order = "reason, group_key, partner_id"
    _rec_name = "partner_id"

    group_key = fields.Char("Shared", readonly=True)
    reason = fields.Selection(REASONS, readonly=True)
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    group_size = fields.Integer("Customers in Group", readonly=True, aggregator="max")
    mobile = fields.Char(related="partner_id.mobile")
    birthday = fields.Date(related="partner_id.birthday")
    member_code = fields.Char(related="partner_id.member_code")
    tier_id = fields.Many2one(related="partner_id.tier_id")
    user_id = fields.Many2one(related="partner_id.user_id", string="Staff")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %s AS
                WITH customers AS (
                    SELECT p.id, p.name, p.birthday, p.mobile_normalized
                      FROM res_partner p
                     WHERE p.active AND NOT p.is_company AND p.partner_share IS NOT FALSE
                       AND NOT EXISTS (SELECT 1 FROM res_company c WHERE c.partner_id = p.id)
                ), keyed AS (
                    SELECT id, 'mobile' AS reason, mobile_normalized AS group_key,
                           COUNT(*) OVER (PARTITION BY mobile_normalized) AS group_size
                      FROM customers WHERE mobile_normalized IS NOT NULL
                     UNION ALL
                    SELECT id, 'name_birthday', lower(trim(name)) || ' · ' || birthday::text,
                           COUNT(*) OVER (PARTITION BY lower(trim(name)), birthday)
                      FROM customers WHERE birthday IS NOT NULL AND name IS NOT NULL
                )
                SELECT id * 2 + CASE WHEN reason = 'mobile' THEN 0 ELSE 1 END AS id, id AS partner_id, reason,
                       group_key, group_size::int AS group_size
                  FROM keyed WHERE group_size > 1
                """,
                SQL.identifier(self._table),
            )
        )

    def action_merge(self):
        """Open Odoo's contact merge wizard with the selected customers (or their whole group)."""
        if not self.env.user.has_group("shop_crm.group_shop_crm_manager"):
            raise AccessError(self.env._("Only Shop CRM managers can merge customers."))
        partners = self.partner_id
        if len(self) == 1:
            partners = self.search(
                [("reason", "=", self.reason), ("group_key", "=", self.group_key)]
            ).partner_id
        if len(partners) < 2:
            raise UserError(self.env._("Select at least two customers to merge."))
        return {
            "type": "ir.actions.act_window",
            "res_model": "base.partner.merge.automatic.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "active_model": "res.partner",
                "active_ids": partners.ids,
                "active_id": partners[0].id,
            },
        }
