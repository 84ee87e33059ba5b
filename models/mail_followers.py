from odoo import api, models

from .mail_activity import batch_defaults


class MailFollowers(models.Model):
    _inherit = "mail.followers"

    @api.model
    def _add_missing_default_values(self, values):
        """The followers of a batch of activities get their defaults computed once (see
        ``mail_activity.batch_defaults``)."""
        return batch_defaults(self, values, super()._add_missing_default_values)
