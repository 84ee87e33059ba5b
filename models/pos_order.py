from datetime import timedelta

from werkzeug.urls import url_encode

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .shop_crm_analytics import create_write_date_index
from .shop_crm_points import POS_PAID_STATES

# The receipt shows the member points expiring within this many days.
RECEIPT_EXPIRY_DAYS = 30
TILL_FEEDBACK_FIELDS = ("shop_crm_satisfaction", "shop_crm_feedback_comment", "shop_crm_complaint")
TILL_COMMENT_SIZE = 500


class PosOrder(models.Model):
    _inherit = "pos.order"

    shop_crm_points_shortfall = fields.Float(
        "Points Not Covered",
        readonly=True,
        copy=False,
        help="Member points this order's rewards asked for that the card no longer held when the order "
        "synced (e.g. a till offline with a stale balance): they were not taken from the card.",
    )
    # What the cashier records on the receipt screen (travels with the order; processed once it is paid).
    shop_crm_satisfaction = fields.Selection(
        [("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5")], "Satisfaction at the Till", copy=False
    )
    shop_crm_feedback_comment = fields.Char("Comment at the Till", copy=False)
    shop_crm_complaint = fields.Boolean("Complaint at the Till", copy=False)
    shop_crm_feedback_id = fields.Many2one(
        "shop.crm.feedback", "Till Feedback Ticket", readonly=True, copy=False, index="btree_not_null"
    )
    # Printed on the receipt (read by the till when the paid order syncs).
    shop_crm_receipt_tier = fields.Char("Member Tier on the Receipt", compute="_compute_shop_crm_receipt")
    shop_crm_points_earned = fields.Float("Points Earned on the Order", compute="_compute_shop_crm_receipt")
    shop_crm_points_balance = fields.Float(
        "Points Balance after the Order", compute="_compute_shop_crm_receipt"
    )
    shop_crm_points_expiring = fields.Float(
        "Points Expiring within 30 Days", compute="_compute_shop_crm_receipt"
    )

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
        available = [
            self.env._("%(points)s points available on %(code)s", points=points, code=card.code)
            for card, points in zip(cards, short.values(), strict=True)
        ]
        return {
            "successful": False,
            "payload": {
                "message": self.env._(
                    "The member's points are no longer there: %(cards)s. Another till or an earlier "
                    "order has used them. Change the points redeemed on this order, then validate again.",
                    cards=", ".join(available),
                ),
                "updated_points": short,
            },
        }

    @api.depends("state", "partner_id")
    def _compute_shop_crm_receipt(self):
        """The member's tier, the points this order earned (earn + tier bonus), the card's balance and
        what expires within RECEIPT_EXPIRY_DAYS, for paid orders of members (nothing for drafts)."""
        Points = self.env["shop.crm.points"].sudo()
        for order in self:
            order.shop_crm_receipt_tier = False
            order.shop_crm_points_earned = order.shop_crm_points_balance = order.shop_crm_points_expiring = 0
            partner = order.partner_id
            if order.state not in POS_PAID_STATES or not partner.sudo().member_code:
                continue
            company = order.company_id
            card = Points._member_cards(partner, company, create=False).get(partner.id)
            if not card:
                continue
            order.shop_crm_receipt_tier = partner.sudo().tier_id.name or False
            order.shop_crm_points_earned = Points._earned_on(order, card)
            order.shop_crm_points_balance = card.points
            soon = company._shop_crm_today() + timedelta(days=RECEIPT_EXPIRY_DAYS)
            order.shop_crm_points_expiring = dict(Points._expiry_rows(company, soon, card)).get(card.id, 0.0)

    def init(self):
        result = super().init()
        create_write_date_index(self.env.cr, "pos_order")
        return result

    @api.constrains("shop_crm_feedback_comment")
    def _check_shop_crm_feedback_comment(self):
        for order in self:
            if len(order.shop_crm_feedback_comment or "") > TILL_COMMENT_SIZE:
                raise ValidationError(
                    self.env._("The comment at the till is at most %s characters.", TILL_COMMENT_SIZE)
                )

    def write(self, vals):
        if "partner_id" in vals or "company_id" in vals:
            # the analytics recompute the former customer and company at their next run
            self.flush_recordset(["partner_id", "company_id"])
            self.env["shop.crm.analytics"]._mark_dirty("pos_order", self.ids)
        result = super().write(vals)
        if any(field in vals for field in TILL_FEEDBACK_FIELDS):
            # Recorded on the receipt screen after the order was paid (queued by the till when offline).
            self._shop_crm_till_feedback()
        return result

    def unlink(self):
        self.flush_recordset(["partner_id", "company_id"])
        self.env["shop.crm.analytics"]._mark_dirty("pos_order", self.ids)
        return super().unlink()

    def action_pos_order_paid(self):
        result = super().action_pos_order_paid()
        self._ensure_access_token()  # orders paid in the backend get their feedback link too
        self.env["shop.crm.points"]._award_orders(self)
        self._shop_crm_till_feedback()
        return result

    def _shop_crm_till_feedback(self):
        """Create or update each paid order's ticket from what the cashier recorded at the till (once per
        order: a replayed sync or write finds the same ticket and changes nothing)."""
        for order in self.filtered(lambda o: o.state in POS_PAID_STATES):
            if order.shop_crm_satisfaction or order.shop_crm_complaint:
                self.env["shop.crm.feedback"]._till_order_answer(order)

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
