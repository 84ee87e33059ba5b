from odoo import fields, models

WHAT = [("rfm_class", "Value class"), ("rfm_segment", "RFM segment"), ("lifecycle_stage", "Lifecycle stage")]


class ShopCrmSegmentChange(models.Model):
    """One change of a customer's value class, RFM segment or lifecycle stage, written by the analytics."""

    _name = "shop.crm.segment.change"
    _description = "Customer segment change"
    _order = "date desc, id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(related="partner_id.user_id", string="Staff Member")
    date = fields.Date(required=True, index=True)
    what = fields.Selection(WHAT, required=True)
    old_value = fields.Char("From", help="Technical value before the change.")
    new_value = fields.Char("To", help="Technical value after the change.")
    old_label = fields.Char("Old", compute="_compute_labels")
    new_label = fields.Char("New", compute="_compute_labels")

    def _compute_labels(self):
        partner_fields = self.env["res.partner"]._fields
        for change in self:
            selection = (
                dict(partner_fields[change.what]._description_selection(self.env)) if change.what else {}
            )
            change.old_label = selection.get(change.old_value, change.old_value or "")
            change.new_label = selection.get(change.new_value, change.new_value or "")
