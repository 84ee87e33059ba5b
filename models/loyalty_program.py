from odoo import api, fields, models


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"

    shop_crm_member_program = fields.Boolean(
        "Shop CRM Member Program",
        compute="_compute_shop_crm_member_program",
        help="The program whose cards hold the members' points (Shop CRM's ledger owns them). At the Point "
        "of Sale only its rewards are redeemed in part and reserved; other programs behave as in Odoo.",
    )

    def _compute_shop_crm_member_program(self):
        programs = self.env["res.company"]._shop_crm_member_programs()
        for program in self:
            program.shop_crm_member_program = program in programs

    @api.model
    def _load_pos_data_fields(self, config_id):
        return [*super()._load_pos_data_fields(config_id), "shop_crm_member_program"]
