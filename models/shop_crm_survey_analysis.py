from odoo import fields, models
from odoo.tools import SQL

from ..lib.survey_rules import LOW_SCORE
from .survey_question import MEASURES


class ShopCrmSurveyAnalysis(models.Model):
    """One row per score of a finished satisfaction questionnaire (a 1-5 score or the 0-10
    recommendation): by question, month (the shop's day it was answered), staff member, product category
    of the order's main line and customer, for the averages per question and month, the share of each
    answer and the NPS trend. A SQL view over Odoo survey's answer lines."""

    _name = "shop.crm.survey.analysis"
    _description = "Questionnaire Analysis"
    _auto = False
    _order = "answer_day desc, id desc"

    user_input_id = fields.Many2one("survey.user_input", "Answer", readonly=True)
    survey_id = fields.Many2one("survey.survey", "Questionnaire", readonly=True)
    question_id = fields.Many2one("survey.question", readonly=True)
    measure = fields.Selection(MEASURES, readonly=True)
    category_id = fields.Many2one("shop.crm.feedback.category", "Ticket Category", readonly=True)
    answer_day = fields.Date("Answered On", readonly=True)
    answer_value = fields.Char("Answer", readonly=True, help="The score given, to count each answer's share.")
    score = fields.Float("Average Score (1-5)", readonly=True, aggregator="avg")
    low_score = fields.Integer("Scores of 2 or Less", readonly=True, aggregator="sum")
    recommendation = fields.Float("Average Recommendation (0-10)", readonly=True, aggregator="avg")
    nps_value = fields.Float(
        "NPS",
        readonly=True,
        aggregator="avg",
        help="100 for a promoter (9-10), 0 for a passive (7-8), -100 for a detractor (0-6): the average is "
        "the Net Promoter Score.",
    )
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    staff_id = fields.Many2one("res.users", "Staff Member", readonly=True)
    pos_order_id = fields.Many2one("pos.order", readonly=True)
    product_category_id = fields.Many2one("product.category", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT line.id AS id,
                   answer.id AS user_input_id,
                   answer.survey_id AS survey_id,
                   line.question_id AS question_id,
                   question.shop_crm_measure AS measure,
                   question.shop_crm_category_id AS category_id,
                   answer.shop_crm_answer_day AS answer_day,
                   line.value_scale::varchar AS answer_value,
                   CASE WHEN question.shop_crm_measure = 'score' THEN line.value_scale END AS score,
                   CASE WHEN question.shop_crm_measure = 'score' AND line.value_scale <= %(low)s
                        THEN 1 ELSE 0 END AS low_score,
                   CASE WHEN question.shop_crm_measure = 'nps' THEN line.value_scale END AS recommendation,
                   CASE WHEN question.shop_crm_measure = 'nps'
                        THEN CASE WHEN line.value_scale >= 9 THEN 100
                                  WHEN line.value_scale >= 7 THEN 0 ELSE -100 END END AS nps_value,
                   answer.partner_id AS partner_id,
                   answer.shop_crm_staff_id AS staff_id,
                   answer.shop_crm_pos_order_id AS pos_order_id,
                   main_line.categ_id AS product_category_id,
                   answer.shop_crm_company_id AS company_id
              FROM survey_user_input_line line
              JOIN survey_user_input answer ON answer.id = line.user_input_id
              JOIN survey_question question ON question.id = line.question_id
              JOIN survey_survey survey ON survey.id = answer.survey_id
              LEFT JOIN LATERAL (
                    SELECT template.categ_id
                      FROM pos_order_line order_line
                      JOIN product_product product ON product.id = order_line.product_id
                      JOIN product_template template ON template.id = product.product_tmpl_id
                     WHERE order_line.order_id = answer.shop_crm_pos_order_id
                  ORDER BY order_line.price_subtotal_incl DESC, order_line.id
                     LIMIT 1
              ) main_line ON TRUE
             WHERE survey.shop_crm_satisfaction IS TRUE
               AND answer.state = 'done'
               AND answer.test_entry IS NOT TRUE
               AND line.skipped IS NOT TRUE
               AND line.answer_type = 'scale'
               AND question.shop_crm_measure IN ('score', 'nps')
            """,
            low=LOW_SCORE,
        )
