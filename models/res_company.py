from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib import rfm


class ResCompany(models.Model):
    _inherit = "res.company"

    shop_crm_rfm_window_days = fields.Integer(
        "RFM Window (days)", default=365, help="Frequency and monetary count purchases in this many days."
    )
    shop_crm_class_a_min = fields.Integer("Class A from R+F+M", default=13)
    shop_crm_class_b_min = fields.Integer("Class B from R+F+M", default=10)
    shop_crm_class_c_min = fields.Integer("Class C from R+F+M", default=7)
    shop_crm_high_score = fields.Integer(
        "High Score From", default=3, help="R, F and M count as 'high' for the segments from this score on."
    )
    shop_crm_new_days = fields.Integer(
        "New Customer Days", default=90, help="A customer is new for this many days after the first purchase."
    )
    shop_crm_lost_days = fields.Integer(
        "Lost After (days)", default=180, help="A customer is lost after this many days without a purchase."
    )
    shop_crm_churn_gap_factor = fields.Float(
        "Churn Gap Factor",
        default=2.0,
        help="A churn warning is raised when the days since the last visit exceed this many times the "
        "customer's usual gap between visits.",
    )
    shop_crm_churn_min_days = fields.Integer(
        "Churn Minimum Days", default=14, help="No churn warning before this many days without a visit."
    )
    shop_crm_clv_min_customers = fields.Integer(
        "Lifetime Value: Minimum Customers",
        default=30,
        help="Below this many customers with purchases, the lifetime value uses a simple estimate.",
    )
    shop_crm_clv_min_repeat = fields.Integer(
        "Lifetime Value: Minimum Repeat Buyers",
        default=10,
        help="Below this many repeat buyers, the lifetime value uses a simple estimate.",
    )
    shop_crm_analytics_date = fields.Date("Customer Analytics As Of", readonly=True)
    shop_crm_analytics_fingerprint = fields.Char(
        "Customer Analytics Fingerprint",
        readonly=True,
        copy=False,
        groups="base.group_system",
        help="Technical: inputs of the last analytics run.",
    )
    shop_crm_clv_method = fields.Selection(
        [("bgnbd_gamma_gamma", "BG/NBD + Gamma-Gamma model"), ("simple", "Simple estimate")],
        "Lifetime Value Method",
        readonly=True,
    )
    shop_crm_clv_summary = fields.Char("Lifetime Value Model", readonly=True)

    @api.constrains(
        "shop_crm_rfm_window_days",
        "shop_crm_class_a_min",
        "shop_crm_class_b_min",
        "shop_crm_class_c_min",
        "shop_crm_high_score",
        "shop_crm_new_days",
        "shop_crm_lost_days",
        "shop_crm_churn_gap_factor",
        "shop_crm_churn_min_days",
        "shop_crm_clv_min_customers",
        "shop_crm_clv_min_repeat",
    )
    def _check_shop_crm_analytics_settings(self):
        messages = {
            "window": self.env._("The RFM window must be at least one day."),
            "classes": self.env._(
                "The class thresholds must satisfy 15 ≥ A > B > C ≥ 1 (R+F+M is between 3 and 15)."
            ),
            "high_score": self.env._("The 'high' score must be between 1 and 5."),
            "lifecycle": self.env._("The new and lost customer days must be positive."),
            "churn": self.env._(
                "The churn gap factor must be positive and the churn minimum days cannot be negative."
            ),
        }
        for company in self:
            if problems := company._shop_crm_rfm_settings().problems():
                raise ValidationError(messages[problems[0]])
            if company.shop_crm_clv_min_customers < 1 or company.shop_crm_clv_min_repeat < 1:
                raise ValidationError(self.env._("The lifetime value minimums must be at least 1."))

    def _shop_crm_rfm_settings(self):
        self.ensure_one()
        return rfm.Settings(
            window_days=self.shop_crm_rfm_window_days,
            class_a_min=self.shop_crm_class_a_min,
            class_b_min=self.shop_crm_class_b_min,
            class_c_min=self.shop_crm_class_c_min,
            high_score=self.shop_crm_high_score,
            new_days=self.shop_crm_new_days,
            lost_days=self.shop_crm_lost_days,
            gap_factor=self.shop_crm_churn_gap_factor,
            min_days=self.shop_crm_churn_min_days,
        )
