from markupsafe import escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class ShopCrmReassign(models.TransientModel):
    """Move customers to another staff member (分户管理): a selection, or everyone of one staff member.
    Who, when and why is written in each customer's chatter."""

    _name = "shop.crm.reassign"
    _description = "Reassign Customers"

    mode = fields.Selection(
        [("selected", "Selected Customers"), ("staff", "All Customers of a Staff Member")],
        required=True,
        default="selected",
    )
    partner_ids = fields.Many2many("res.partner", string="Customers")
    from_user_id = fields.Many2one("res.users", "From Staff Member", domain=[("share", "=", False)])
    to_user_id = fields.Many2one(
        "res.users", "To Staff Member", required=True, domain=[("share", "=", False)]
    )
    reason = fields.Char(required=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "res.partner" and self.env.context.get("active_ids"):
            values.setdefault("partner_ids", [fields.Command.set(self.env.context["active_ids"])])
        return values

    def _customers(self):
        if self.mode == "staff":
            if not self.from_user_id:
                raise UserError(self.env._("Choose the staff member whose customers move."))
            return self.env["res.partner"].search(
                [("user_id", "=", self.from_user_id.id), ("is_shop_customer", "=", True)]
            )
        return self.partner_ids

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("shop_crm.group_shop_crm_manager"):
            raise AccessError(self.env._("Only Shop CRM managers can reassign customers."))
        customers = self._customers()
        if not customers:
            raise UserError(self.env._("There is no customer to reassign."))
        if not (self.reason or "").strip():
            raise UserError(self.env._("Give the reason for this reassignment."))
        bodies = {
            customer.id: escape(
                self.env._(
                    "Staff member changed from %(old)s to %(new)s by %(user)s: %(reason)s",
                    old=customer.user_id.name or self.env._("nobody"),
                    new=self.to_user_id.name,
                    user=self.env.user.name,
                    reason=self.reason.strip(),
                )
            )
            for customer in customers
        }
        customers.write({"user_id": self.to_user_id.id})
        customers._message_log_batch(bodies=bodies)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(count)s customers now belong to %(user)s.",
                    count=len(customers),
                    user=self.to_user_id.name,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
