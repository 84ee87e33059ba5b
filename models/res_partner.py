from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    birthday = fields.Date(help="The customer's date of birth, used for birthday care.")
