"""Odoo's mail composer on customers: a marketing email to several customers (mass mailing, or a batch
of messages) skips those who did not consent to email marketing or asked not to be contacted
(``shop.crm.consent._consented_partners``), and says how many. An email to one customer, or one the
sender marks as not marketing, is sent as usual."""

from odoo import api, fields, models


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    shop_crm_marketing = fields.Boolean(
        "Marketing Message",
        default=True,
        help="Marketing emails go only to customers who consented to email marketing and did not ask not to "
        "be contacted. Untick for a service message (an order is ready, a receipt).",
    )
    shop_crm_skipped_count = fields.Integer(
        "Customers Skipped", compute="_compute_shop_crm_skipped_count", compute_sudo=False
    )
    shop_crm_applies = fields.Boolean(compute="_compute_shop_crm_skipped_count", compute_sudo=False)

    @api.depends(
        "model", "res_ids", "res_domain", "composition_mode", "composition_batch", "shop_crm_marketing"
    )
    def _compute_shop_crm_skipped_count(self):
        for composer in self:
            applies = composer._shop_crm_is_bulk()
            composer.shop_crm_applies = applies
            composer.shop_crm_skipped_count = (
                len(composer._shop_crm_skipped(composer._shop_crm_res_ids())) if applies else 0
            )

    def _shop_crm_is_bulk(self):
        return self.model == "res.partner" and (
            self.composition_mode == "mass_mail" or self.composition_batch
        )

    def _shop_crm_res_ids(self):
        if self.res_domain:
            return self.env[self.model].search(self._evaluate_res_domain()).ids
        return self._evaluate_res_ids()

    def _shop_crm_skipped(self, res_ids):
        """The customers of ``res_ids`` a marketing email must skip."""
        if not self.shop_crm_marketing or not self._shop_crm_is_bulk() or not res_ids:
            return []
        partners = self.env["res.partner"].browse(res_ids)
        consented = self.env["shop.crm.consent"].sudo()._consented_partners(partners, "email")
        return (partners - consented).ids

    def _action_send_mail_mass_mail(self, res_ids, auto_commit=False):
        skipped = set(self._shop_crm_skipped(res_ids))
        return super()._action_send_mail_mass_mail(
            [res_id for res_id in res_ids if res_id not in skipped], auto_commit=auto_commit
        )

    def _action_send_mail_comment(self, res_ids):
        if self.composition_batch:
            skipped = set(self._shop_crm_skipped(res_ids))
            res_ids = [res_id for res_id in res_ids if res_id not in skipped]
            if not res_ids:
                return self.env["mail.message"]
        return super()._action_send_mail_comment(res_ids)

    def action_send_mail(self):
        skipped = sum(composer.shop_crm_skipped_count for composer in self if composer.shop_crm_applies)
        result = super().action_send_mail()
        if not skipped:
            return result
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "message": self.env._(
                    "%(count)s customers were skipped: no email marketing consent, or they asked not to be "
                    "contacted.",
                    count=skipped,
                ),
                "next": result,
            },
        }
