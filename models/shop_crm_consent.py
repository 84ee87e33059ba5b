from odoo import api, fields, models

from .res_partner import CONTACT_CHANNELS


class ShopCrmConsent(models.Model):
    """Marketing consent of one customer for one channel (PIPL: explicit, dated, and as easy to withdraw
    as to give). Without consent a customer still buys and earns points; they only get no marketing."""

    _name = "shop.crm.consent"
    _description = "Marketing Consent"
    _order = "partner_id, channel"
    _rec_name = "channel"

    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, ondelete="cascade")
    channel = fields.Selection(CONTACT_CHANNELS, required=True)
    granted = fields.Boolean("Consent Given", readonly=True)
    granted_date = fields.Date("Given On", readonly=True)
    withdrawn_date = fields.Date("Withdrawn On", readonly=True)
    note = fields.Char(help="How the consent was given, e.g. signed form, WeChat message.")
    source = fields.Selection(
        [("backend", "Backend"), ("till", "Point of Sale")],
        default="backend",
        readonly=True,
        help="Where the consent was recorded: by staff in the backend, or by the cashier at the till.",
    )

    _sql_constraints = [
        ("partner_channel_unique", "UNIQUE(partner_id, channel)", "There is one consent line per channel."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        today = self.env.company._shop_crm_today()
        for vals in vals_list:
            if vals.get("granted", True):
                vals.update(granted=True, granted_date=vals.get("granted_date") or today)
        records = super().create(vals_list)
        records.filtered("granted")._log(self.env._("Marketing consent given"))
        return records

    def action_grant(self):
        todo = self.filtered(lambda consent: not consent.granted)
        todo.write(
            {"granted": True, "granted_date": self.env.company._shop_crm_today(), "withdrawn_date": False}
        )
        todo._log(self.env._("Marketing consent given"))
        return True

    def action_withdraw(self):
        todo = self.filtered("granted")
        todo.write({"granted": False, "withdrawn_date": self.env.company._shop_crm_today()})
        todo._log(self.env._("Marketing consent withdrawn"))
        return True

    def _log(self, what):
        channels = dict(self._fields["channel"]._description_selection(self.env))
        for consent in self:
            consent.partner_id.message_post(
                body=self.env._("%(what)s: %(channel)s", what=what, channel=channels[consent.channel]),
                subtype_xmlid="mail.mt_note",
            )

    @api.model
    def _consented_partners(self, partners, channel):
        """The partners of ``partners`` who currently consent to marketing on ``channel``."""
        return self.search(
            [
                ("partner_id", "in", partners.ids),
                ("channel", "=", channel),
                ("granted", "=", True),
                ("partner_id.do_not_contact", "=", False),
            ]
        ).partner_id
