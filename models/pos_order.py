from odoo import api, fields, models
from odoo.exceptions import UserError


class PosOrder(models.Model):
    _inherit = "pos.order"

    shop_crm_points_shortfall = fields.Float(
        "Points Not Covered",
        readonly=True,
        copy=False,
        help="Member points this order's rewards asked for that the card no longer held when the order "
        "synced (e.g. a till offline with a stale balance): they were not taken from the card.",
    )

    shop_crm_feedback_url = fields.Char(
        "Feedback Link",
        compute="_compute_shop_crm_feedback_url",
        help="The customer rates this order here without logging in (print it as a QR code on the receipt).",
    )

    def _compute_shop_crm_feedback_url(self):
        for order in self:
            base = order.get_base_url()
            token = order.sudo().access_token
            order.shop_crm_feedback_url = (
                f"{base}/shop_crm/feedback/order/{order.id}/{token}" if token else False
            )

    def _shop_crm_record_shortfall(self, points):
        """Record (once) that ``points`` of this order's redemption were not covered by the card."""
        self.ensure_one()
        if self.shop_crm_points_shortfall:
            return
        self.shop_crm_points_shortfall = points
        self._message_log(
            body=self.env._(
                "%(points)s member points of this order's rewards were no longer on the card when the "
                "order reached the server (another till or an offline sale used them): they were not "
                "redeemed, and the balance stays at zero or above.",
                points=points,
            )
        )

    @api.model
    def shop_crm_reserve_points(self, order_uuid, point_changes):
        """Called by the till when it validates an order, before Odoo's ``validate_coupon_programs``:
        reserves the member points the order redeems (see ``shop.crm.points._reserve``). Same answer as
        ``validate_coupon_programs``: ``{"successful": bool, "payload": {...}}``; when the points are no
        longer there, the payload has a message and ``updated_points`` (what this order can still use)
        so the cashier corrects the order before it is paid."""
        self.check_access("create")
        if not order_uuid or not isinstance(order_uuid, str) or not isinstance(point_changes, dict):
            raise UserError(self.env._("The till sent an invalid points reservation."))
        try:
            changes = {int(card_id): float(change) for card_id, change in point_changes.items()}
        except (TypeError, ValueError) as error:
            raise UserError(self.env._("The till sent an invalid points reservation.")) from error
        paid = self.search_count([("uuid", "=", order_uuid), ("state", "!=", "draft")], limit=1)
        if paid:
            # A validation replayed after the order synced: its redemption was decided then.
            return {"successful": True, "payload": {}}
        short = self.env["shop.crm.points"]._reserve(order_uuid, changes)
        if not short:
            return {"successful": True, "payload": {}}
        cards = self.env["loyalty.card"].browse(list(short))
        return {
            "successful": False,
            "payload": {
                "message": self.env._(
                    "The member's points are no longer there: %(cards)s. Another till or an earlier "
                    "order has used them. Change the points redeemed on this order, then validate again.",
                    cards=", ".join(
                        self.env._("%(points)s points available on %(code)s", points=points, code=card.code)
                        for card, points in zip(cards, short.values(), strict=True)
                    ),
                ),
                "updated_points": short,
            },
        }

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
