from odoo import fields, models


class SurveySurvey(models.Model):
    _inherit = "survey.survey"

    shop_crm_satisfaction = fields.Boolean(
        "Shop Satisfaction Questionnaire",
        help="Its answers are linked to customers, orders, tickets and staff, low scores open complaint "
        "tickets, and they appear in Shop CRM's satisfaction analysis.",
    )
