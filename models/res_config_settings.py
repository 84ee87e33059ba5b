from odoo import fields, models


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
    shop_crm_churn_gap_factor = fields.Float(related="company_id.shop_crm_churn_gap_factor", readonly=False)
    shop_crm_churn_min_days = fields.Integer(related="company_id.shop_crm_churn_min_days", readonly=False)
    shop_crm_churn_complaint_factor = fields.Float(
        related="company_id.shop_crm_churn_complaint_factor", readonly=False
    )
    shop_crm_clv_min_customers = fields.Integer(
        related="company_id.shop_crm_clv_min_customers", readonly=False
    )
    shop_crm_clv_min_repeat = fields.Integer(related="company_id.shop_crm_clv_min_repeat", readonly=False)
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

    shop_crm_campaign_cap_messages = fields.Integer(
        related="company_id.shop_crm_campaign_cap_messages", readonly=False
    )
    shop_crm_campaign_cap_days = fields.Integer(
        related="company_id.shop_crm_campaign_cap_days", readonly=False
    )
    shop_crm_quiet_start = fields.Float(related="company_id.shop_crm_quiet_start", readonly=False)
    shop_crm_quiet_end = fields.Float(related="company_id.shop_crm_quiet_end", readonly=False)

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
