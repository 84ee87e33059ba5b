from odoo import fields, models

MEASURES = [
    ("score", "Satisfaction score (1-5)"),
    ("nps", "Recommendation (0-10)"),
    ("comment", "Comment"),
]


class SurveyQuestion(models.Model):
    """What a question of a Shop CRM questionnaire measures: a 1-5 satisfaction score (about a ticket
    category: quality, service, environment, price...), the 0-10 recommendation, or the comment. The
    answer → ticket rules and the analysis read these, whatever the question's wording."""

    _inherit = "survey.question"

    shop_crm_measure = fields.Selection(MEASURES, "Shop CRM Measure")
    shop_crm_category_id = fields.Many2one(
        "shop.crm.feedback.category",
        "Ticket Category",
        help="A low score on this question opens a complaint of this category.",
    )
