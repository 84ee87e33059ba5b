"""Odoo's SMS composer on customers: a marketing SMS to several customers skips those who did not consent
to SMS marketing or asked not to be contacted (``shop.crm.consent._consented_partners``), and says how
many. A message to one customer, or one the sender marks as not marketing (an order is ready, a receipt),
is sent as usual."""

from odoo import api, fields, models


class SmsComposer(models.TransientModel):
    _inherit = "sms.composer"

    shop_crm_marketing = fields.Boolean(
        "Marketing Message",
        default=True,
        help="Marketing messages go only to customers who consented to SMS marketing and did not ask not to "
        "be contacted. Untick for a service message (an order is ready, a receipt).",
    )
    shop_crm_skipped_count = fields.Integer(
        "Customers Skipped", compute="_compute_shop_crm_skipped_count", compute_sudo=False
    )
    shop_crm_applies = fields.Boolean(compute="_compute_shop_crm_skipped_count", compute_sudo=False)

    @api.depends("res_model", "res_ids", "composition_mode", "comment_single_recipient", "shop_crm_marketing")
    def _compute_shop_crm_skipped_count(self):
        for composer in self:
            applies = composer.res_model == "res.partner" and not composer.comment_single_recipient
            composer.shop_crm_applies = applies
            skipped = composer._shop_crm_skipped(composer._get_records()) if applies else []
            composer.shop_crm_skipped_count = len(skipped)

    def _shop_crm_skipped(self, records):
        """The customers of ``records`` a marketing SMS must skip (none for another model or when the
        message is not marketing)."""
        if not self.shop_crm_marketing or records is None or records._name != "res.partner" or not records:
            return self.env["res.partner"]
        consented = self.env["shop.crm.consent"].sudo()._consented_partners(records, "sms")
        return records - consented

    def _get_optout_record_ids(self, records, recipients_info):
        """Mass mode: skipped customers get a cancelled SMS marked as opted out, as Odoo's SMS marketing
        does."""
        optout = super()._get_optout_record_ids(records, recipients_info)
        return list(optout) + self._shop_crm_skipped(records).ids

    def _action_send_sms_comment(self, records=None):
        records = records if records is not None else self._get_records()
        if not self.comment_single_recipient and records is not None and records._name == "res.partner":
            records = records - self._shop_crm_skipped(records)
        return super()._action_send_sms_comment(records=records)

    def action_send_sms(self):
        skipped = self.shop_crm_skipped_count if self.shop_crm_applies else 0
        result = super().action_send_sms()
        return self._shop_crm_skipped_notification(skipped) or result

    def action_send_sms_mass_now(self):
        skipped = self.shop_crm_skipped_count if self.shop_crm_applies else 0
        result = super().action_send_sms_mass_now()
        return self._shop_crm_skipped_notification(skipped) or result

    def _shop_crm_skipped_notification(self, skipped):
        if not skipped:
            return False
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "message": self.env._(
                    "%(count)s customers were skipped: no SMS marketing consent, or they asked not to be "
                    "contacted.",
                    count=skipped,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
