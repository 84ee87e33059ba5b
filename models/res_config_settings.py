from odoo import fields, models
from odoo.exceptions import ValidationError

from .res_company import SMS_CREDENTIALS_GROUP


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    shop_crm_tz = fields.Selection(related="company_id.shop_crm_tz", readonly=False)
    shop_crm_rfm_window_days = fields.Integer(related="company_id.shop_crm_rfm_window_days", readonly=False)
    shop_crm_class_a_min = fields.Integer(related="company_id.shop_crm_class_a_min", readonly=False)
    shop_crm_class_b_min = fields.Integer(related="company_id.shop_crm_class_b_min", readonly=False)
    shop_crm_class_c_min = fields.Integer(related="company_id.shop_crm_class_c_min", readonly=False)
    shop_crm_high_score = fields.Integer(related="company_id.shop_crm_high_score", readonly=False)
    shop_crm_new_days = fields.Integer(related="company_id.shop_crm_new_days", readonly=False)
    shop_crm_lost_days = fields.Integer(related="company_id.shop_crm_lost_days", readonly=False)
    shop_crm_neglected_days = fields.Integer(related="company_id.shop_crm_neglected_days", readonly=False)
    shop_crm_monthly_report_email = fields.Boolean(
        related="company_id.shop_crm_monthly_report_email", readonly=False
    )
    shop_crm_churn_gap_factor = fields.Float(related="company_id.shop_crm_churn_gap_factor", readonly=False)
    shop_crm_churn_min_days = fields.Integer(related="company_id.shop_crm_churn_min_days", readonly=False)
    shop_crm_churn_complaint_factor = fields.Float(
        related="company_id.shop_crm_churn_complaint_factor", readonly=False
    )
    shop_crm_clv_min_customers = fields.Integer(
        related="company_id.shop_crm_clv_min_customers", readonly=False
    )
    shop_crm_clv_min_repeat = fields.Integer(related="company_id.shop_crm_clv_min_repeat", readonly=False)
    shop_crm_clv_penalizer = fields.Float(related="company_id.shop_crm_clv_penalizer", readonly=False)
    shop_crm_clv_calibration_date = fields.Date(
        related="company_id.shop_crm_clv_calibration_date", readonly=False
    )
    shop_crm_clv_validation_id = fields.Many2one(related="company_id.shop_crm_clv_validation_id")
    shop_crm_clv_validation_summary = fields.Text(related="company_id.shop_crm_clv_validation_id.summary")
    shop_crm_analytics_date = fields.Date(related="company_id.shop_crm_analytics_date")
    shop_crm_clv_method = fields.Selection(related="company_id.shop_crm_clv_method")
    shop_crm_clv_summary = fields.Char(related="company_id.shop_crm_clv_summary")
    shop_crm_program_id = fields.Many2one(related="company_id.shop_crm_program_id", readonly=False)
    shop_crm_points_expiry_months = fields.Integer(
        related="company_id.shop_crm_points_expiry_months", readonly=False
    )
    shop_crm_expiry_notice_days = fields.Integer(
        related="company_id.shop_crm_expiry_notice_days", readonly=False
    )
    shop_crm_tier_grace_days = fields.Integer(related="company_id.shop_crm_tier_grace_days", readonly=False)
    shop_crm_referral_points = fields.Float(related="company_id.shop_crm_referral_points", readonly=False)
    shop_crm_assign_team_id = fields.Many2one(related="company_id.shop_crm_assign_team_id", readonly=False)
    shop_crm_sla_hours_low = fields.Integer(related="company_id.shop_crm_sla_hours_low", readonly=False)
    shop_crm_sla_hours_normal = fields.Integer(related="company_id.shop_crm_sla_hours_normal", readonly=False)
    shop_crm_sla_hours_high = fields.Integer(related="company_id.shop_crm_sla_hours_high", readonly=False)
    shop_crm_sla_hours_urgent = fields.Integer(related="company_id.shop_crm_sla_hours_urgent", readonly=False)
    shop_crm_feedback_link_days = fields.Integer(
        related="company_id.shop_crm_feedback_link_days", readonly=False
    )

    def action_shop_crm_validate_predictions(self):
        validation = self.env["shop.crm.clv.validation"].validate(company=self.company_id)
        return validation.action_open()

    def action_shop_crm_validations(self):
        return self.env["ir.actions.act_window"]._for_xml_id("shop_crm.shop_crm_clv_validation_action")

    shop_crm_own_customers_only = fields.Boolean(
        related="company_id.shop_crm_own_customers_only", readonly=False
    )
    shop_crm_campaign_cap_messages = fields.Integer(
        related="company_id.shop_crm_campaign_cap_messages", readonly=False
    )
    shop_crm_survey_id = fields.Many2one(related="company_id.shop_crm_survey_id", readonly=False)
    shop_crm_survey_after_order = fields.Boolean(
        related="company_id.shop_crm_survey_after_order", readonly=False
    )
    shop_crm_survey_after_ticket = fields.Boolean(
        related="company_id.shop_crm_survey_after_ticket", readonly=False
    )
    shop_crm_survey_after_visit = fields.Boolean(
        related="company_id.shop_crm_survey_after_visit", readonly=False
    )
    shop_crm_survey_cap_days = fields.Integer(related="company_id.shop_crm_survey_cap_days", readonly=False)
    shop_crm_campaign_cap_days = fields.Integer(
        related="company_id.shop_crm_campaign_cap_days", readonly=False
    )
    shop_crm_quiet_start = fields.Float(related="company_id.shop_crm_quiet_start", readonly=False)
    shop_crm_quiet_end = fields.Float(related="company_id.shop_crm_quiet_end", readonly=False)
    shop_crm_sms_gateway = fields.Selection(related="company_id.shop_crm_sms_gateway", readonly=False)
    shop_crm_sms_sign_name = fields.Char(related="company_id.shop_crm_sms_sign_name", readonly=False)
    shop_crm_sms_key_id = fields.Char(
        related="company_id.shop_crm_sms_key_id", readonly=False, groups=SMS_CREDENTIALS_GROUP
    )
    shop_crm_sms_secret = fields.Char(
        related="company_id.shop_crm_sms_secret", readonly=False, groups=SMS_CREDENTIALS_GROUP
    )
    shop_crm_sms_app_id = fields.Char(related="company_id.shop_crm_sms_app_id", readonly=False)
    shop_crm_sms_region = fields.Char(related="company_id.shop_crm_sms_region", readonly=False)
    shop_crm_sms_endpoint = fields.Char(
        related="company_id.shop_crm_sms_endpoint", readonly=False, groups=SMS_CREDENTIALS_GROUP
    )

    def set_values(self):
        result = super().set_values()
        problem = self.company_id._shop_crm_sms_gateway_problem()
        if problem:
            raise ValidationError(problem)
        return result

    def action_shop_crm_recompute_analytics(self):
        self.env["shop.crm.analytics"].run(company=self.company_id)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("Customer analytics recomputed."),
                "next": {"type": "ir.actions.client", "tag": "reload"},
            },
        }
