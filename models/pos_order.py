from werkzeug.urls import url_encode

from odoo import fields, models


class PosOrder(models.Model):
    _inherit = "pos.order"

    shop_crm_feedback_url = fields.Char(
        "Feedback Link",
        compute="_compute_shop_crm_feedback_url",
        help="The customer rates this order here without logging in (print it as a QR code on the receipt).",
    )

    def _compute_shop_crm_feedback_url(self):
        for order in self:
            # the order's portal.mixin access token opens its feedback page
            token = order.sudo().access_token
            path = f"/shop_crm/feedback/order/{order.id}"
            order.shop_crm_feedback_url = (
                f"{order.get_base_url()}{path}?{url_encode({'access_token': token})}" if token else False
            )

    def action_pos_order_paid(self):
        result = super().action_pos_order_paid()
        self.env["shop.crm.points"]._award_orders(self)
        return result

    def confirm_coupon_programs(self, coupon_data):
        """The member program's points are posted by the server when the order is paid (idempotent),
        never from what the till sends: this call may come twice after an offline sync. Its entries are
        taken out here and answered with the card's real balance."""
        coupon_data = {int(key): value for key, value in coupon_data.items()}
        programs = self.env["res.company"]._shop_crm_member_programs()
        member_entries = {
            key: value for key, value in coupon_data.items() if value.get("program_id") in programs.ids
        }
        for key in member_entries:
            coupon_data.pop(key)
        result = super().confirm_coupon_programs(coupon_data)
        if member_entries and self.partner_id:
            cards = self.env["shop.crm.points"].sudo()._member_cards(self.partner_id, self.company_id)
            card = cards.get(self.partner_id.id)
            if card:
                result["coupon_updates"] = [
                    update for update in result["coupon_updates"] if update["id"] != card.id
                ] + [
                    {
                        "old_id": key,
                        "id": card.id,
                        "points": card.points,
                        "code": card.code,
                        "program_id": card.program_id.id,
                        "partner_id": card.partner_id.id,
                    }
                    for key in member_entries
                ]
        return result

    def add_loyalty_history_lines(self, coupon_data, coupon_updates):
        """Member points history is written by the server (see confirm_coupon_programs)."""
        programs = self.env["res.company"]._shop_crm_member_programs()
        id_mapping = {item["old_id"]: int(item["id"]) for item in coupon_updates}

        def card_id(coupon):
            return id_mapping.get(int(coupon["card_id"])) or int(coupon["card_id"])

        member_cards = set(
            self.env["loyalty.card"]
            .sudo()
            .search(
                [
                    ("id", "in", [card_id(coupon) for coupon in coupon_data]),
                    ("program_id", "in", programs.ids),
                ]
            )
            .ids
        )
        kept = [coupon for coupon in coupon_data if card_id(coupon) not in member_cards]
        return super().add_loyalty_history_lines(kept, coupon_updates)
