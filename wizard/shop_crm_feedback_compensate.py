from odoo import api, fields, models


class ShopCrmFeedbackCompensate(models.TransientModel):
    _name = "shop.crm.feedback.compensate"
    _description = "Compensate a Complaint"

    feedback_id = fields.Many2one("shop.crm.feedback", "Ticket", required=True)
    points = fields.Float(required=True, default=100)
    reason = fields.Char(required=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "shop.crm.feedback":
            values.setdefault("feedback_id", self.env.context.get("active_id"))
        return values

    def action_apply(self):
        self.ensure_one()
        self.feedback_id.action_compensate(self.points, self.reason)
        return {"type": "ir.actions.act_window_close"}
