from odoo import fields, models


class ShopCrmFeedbackCategory(models.Model):
    """What a complaint is about (product quality, freshness, service, waiting time...): configurable by
    managers, shared by every company unless it has a company; the complaints per category are the Pareto
    chart of the shop's problems and the categories of its improvement actions."""

    _name = "shop.crm.feedback.category"
    _description = "Ticket Category"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
    company_id = fields.Many2one(
        "res.company", index=True, help="Empty: a category of every company (the shipped categories)."
    )
    feedback_ids = fields.One2many("shop.crm.feedback", "category_id", "Tickets")
    complaint_count = fields.Integer(compute="_compute_complaint_count")

    def _compute_complaint_count(self):
        counts = dict(
            self.env["shop.crm.feedback"]._read_group(
                [("category_id", "in", self.ids), ("feedback_type", "=", "complaint")],
                ["category_id"],
                ["__count"],
            )
        )
        for category in self:
            category.complaint_count = counts.get(category, 0)
