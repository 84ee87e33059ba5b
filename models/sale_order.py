from odoo import models

from .shop_crm_analytics import create_write_date_index


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _get_program_domain(self):
        """The member program is handled by Shop CRM's ledger (awarded on confirmation, idempotently),
        not by the sales loyalty engine."""
        domain = super()._get_program_domain()
        programs = self.env["res.company"]._shop_crm_member_programs()
        return [*domain, ("id", "not in", programs.ids)] if programs else domain

    def init(self):
        result = super().init()
        create_write_date_index(self.env.cr, "sale_order")
        return result

    def write(self, vals):
        if "partner_id" in vals or "company_id" in vals:
            # the analytics recompute the former customer and company at their next run
            self.flush_recordset(["partner_id", "company_id"])
            self.env["shop.crm.analytics"]._mark_dirty("sale_order", self.ids)
        return super().write(vals)

    def unlink(self):
        self.flush_recordset(["partner_id", "company_id"])
        self.env["shop.crm.analytics"]._mark_dirty("sale_order", self.ids)
        return super().unlink()

    def action_confirm(self):
        result = super().action_confirm()
        self.env["shop.crm.points"]._award_orders(self.filtered(lambda order: order.state == "sale"))
        return result

    def _action_cancel(self):
        confirmed = self.filtered(lambda order: order.state == "sale")
        result = super(SaleOrder, self.with_context(shop_crm_keep_member_lines=True))._action_cancel()
        self.env["shop.crm.points"]._cancel_sale_orders(
            confirmed.filtered(lambda order: order.state == "cancel")
        )
        return result
