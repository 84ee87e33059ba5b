from odoo import fields, models

STATES = [("reserved", "Reserved"), ("confirmed", "Confirmed")]


class ShopCrmPointsReservation(models.Model):
    """Member points promised to one POS order while it is being paid.

    Written only by ``shop.crm.points`` in the transaction that holds the card's row lock (set-based SQL:
    a till's validation reserves, the paid order's sync confirms); read-only for everyone in the UI."""

    _name = "shop.crm.points.reservation"
    _description = "Member Points Reservation"
    _order = "id desc"

    card_id = fields.Many2one("loyalty.card", "Member Card", required=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one(related="card_id.partner_id", string="Member")
    order_uuid = fields.Char("Order UUID", required=True, help="The till's order identifier.")
    points = fields.Float(required=True)
    state = fields.Selection(STATES, required=True, default="reserved")
    reserved_until = fields.Datetime(required=True)
    pos_order_id = fields.Many2one("pos.order", "POS Order", index="btree_not_null", ondelete="set null")

    _sql_constraints = [
        (
            "card_order_unique",
            "UNIQUE(card_id, order_uuid)",
            "An order reserves a member card's points once (a new validation updates the reservation).",
        ),
        ("points_positive", "CHECK(points > 0)", "A reservation is a positive number of points."),
    ]
