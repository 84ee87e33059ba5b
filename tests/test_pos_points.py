"""Member points redeemed at the Point of Sale: reservations when the till validates, the server's decision
when the order syncs (never below zero), replays and bad input."""

from datetime import date, datetime, time, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from ..lib import membership
from .test_members import MembersCase


class PosPointsCase(MembersCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cashier = new_test_user(
            cls.env, login="pos_cashier", name="Cashier Chen", groups="point_of_sale.group_pos_user"
        )

    def setUp(self):
        super().setUp()
        self.session = self._pos_session()
        self.now = datetime.combine(date.today(), time(4))
        self.index = 0
        self.PosOrder = self.env["pos.order"].with_user(self.cashier)

    def _payload(self, customer, qty, redeem=0):
        self.index += 1
        return self._pos_payload(
            self.session, customer, qty, self.now + timedelta(minutes=self.index), self.index, redeem=redeem
        )

    def _member(self, name, points):
        """A member whose card holds ``points`` (earned on one paid POS order)."""
        customer = self._customer(name)
        self.env["pos.order"].sync_from_ui([self._payload(customer, float(points))])
        self.assertEqual(customer.points_balance, points)
        return customer

    def _order(self, payload):
        return self.env["pos.order"].search([("uuid", "=", payload["uuid"])])

    def _reserve(self, payload, customer, change):  # the till's call when it validates the order
        return self.PosOrder.shop_crm_reserve_points(
            payload["uuid"], {str(customer.member_card_id.id): change}
        )


@tagged("post_install", "-at_install")
class TestPosRedemption(PosPointsCase):
    def test_two_tills_cannot_spend_the_same_points(self):
        """128 points, two tills each redeem 100 for the same member: the first till's validation reserves
        them, the second is refused with the points it can still use, and even if the second order reaches
        the server anyway the card only gives what it still holds (it used to end at -62)."""
        customer = self._member("双收银 朱", 128)
        card = customer.member_card_id
        till_a = self._payload(customer, 10.0, redeem=100)
        till_b = self._payload(customer, 10.0, redeem=100)
        # the tills send the order's net change of the card: +10 earned, -100 redeemed
        self.assertEqual(self._reserve(till_a, customer, -90), {"successful": True, "payload": {}})
        refused = self._reserve(till_b, customer, -90)
        self.assertFalse(refused["successful"])
        self.assertEqual(refused["payload"]["updated_points"], {card.id: 38.0}, "128 - the 90 of till A")
        self.assertIn("38.0 points available", refused["payload"]["message"])
        reservation = self.env["shop.crm.points.reservation"].search([("card_id", "=", card.id)])
        self.assertEqual((reservation.order_uuid, reservation.points), (till_a["uuid"], 90))

        self.env["pos.order"].sync_from_ui([till_a])
        order_a = self._order(till_a)
        self.assertEqual(customer.points_balance, 128 + 10 - 100)
        self.assertEqual((reservation.state, reservation.pos_order_id), ("confirmed", order_a))
        # the second till was not corrected (an old client): the server still keeps the card at >= 0
        self.env["pos.order"].sync_from_ui([till_b])
        order_b = self._order(till_b)
        self.assertEqual(order_b.state, "paid", "the sale itself is kept")
        self.assertEqual(customer.points_balance, 0)
        self.assertEqual(order_b.shop_crm_points_shortfall, 100 - 48)
        self.assertIn("no longer on the card", order_b.message_ids[:1].body)
        self.assertEqual(self._lines(customer, "redeem").mapped("used"), [48.0, 100.0])
        # replays of both syncs change nothing
        self.env["pos.order"].sync_from_ui([dict(till_a), dict(till_b)])
        self.Points._award_orders(order_a | order_b)
        self.assertEqual(customer.points_balance, 0)
        self.assertEqual(order_b.shop_crm_points_shortfall, 52)
        self.assertEqual(len(order_b.message_ids.filtered(lambda m: "no longer on the card" in m.body)), 1)
        self.assertLedgerBalanced(customer)

    def test_offline_till_with_stale_balance(self):
        """Two orders made offline (no validation reached the server) both redeem 100 of 150 points: the
        first takes 100, the second only what is left plus what it earned itself."""
        customer = self._member("离线 王", 150)
        first = self._payload(customer, 20.0, redeem=100)
        second = self._payload(customer, 20.0, redeem=100)
        self.env["pos.order"].sync_from_ui([first])
        self.assertEqual(customer.points_balance, 150 + 20 - 100)
        self.env["pos.order"].sync_from_ui([second, second])
        self.assertEqual(customer.points_balance, 0)
        self.assertEqual(self._order(second).shop_crm_points_shortfall, 10)
        self.assertEqual(len(self.env["pos.order"].search([("uuid", "=", second["uuid"])])), 1)
        self.assertFalse(self._order(first).shop_crm_points_shortfall)
        self.assertLedgerBalanced(customer)

    def test_points_earned_on_the_order_count(self):
        """50 points and an order that earns 60: redeeming 100 on it is allowed (Odoo's till allows it)."""
        customer = self._member("当单 李", 50)
        payload = self._payload(customer, 60.0, redeem=100)
        self.assertTrue(self._reserve(payload, customer, 60 - 100)["successful"])
        self.env["pos.order"].sync_from_ui([payload])
        self.assertEqual(customer.points_balance, 10)
        self.assertFalse(self._order(payload).shop_crm_points_shortfall)
        self.assertLedgerBalanced(customer)

    def test_revalidation_and_expiry_of_a_reservation(self):
        customer = self._member("改单 赵", 128)
        card = customer.member_card_id
        till_a = self._payload(customer, 20.0, redeem=100)
        till_b = self._payload(customer, 20.0, redeem=100)
        with freeze_time(self.now):
            self.assertTrue(self._reserve(till_a, customer, -100)["successful"])
            # the cashier corrects the order and validates again: its reservation is replaced, not added
            self.assertTrue(self._reserve(till_a, customer, -120)["successful"])
            reservation = self.env["shop.crm.points.reservation"].search([("card_id", "=", card.id)])
            self.assertEqual(reservation.points, 120)
            self.assertEqual(
                self._reserve(till_b, customer, -10)["payload"]["updated_points"], {card.id: 8.0}
            )
            self.assertTrue(self._reserve(till_b, customer, -8)["successful"])
            # earning (no draw) needs no reservation
            self.assertTrue(self._reserve(self._payload(customer, 5.0), customer, 5)["successful"])
        with freeze_time(self.now + timedelta(minutes=membership.RESERVATION_MINUTES + 1)):
            # till A never synced: after the reservation time its points are free again
            self.assertTrue(self._reserve(till_b, customer, -100)["successful"])
        # a validation replayed after the order synced is answered without reserving anything more
        self.env["pos.order"].sync_from_ui([till_b])
        self.assertEqual(customer.points_balance, 128 + 20 - 100)
        self.assertTrue(self._reserve(till_b, customer, -100)["successful"])
        self.assertEqual(
            self.env["shop.crm.points.reservation"].search([("order_uuid", "=", till_b["uuid"])]).state,
            "confirmed",
        )
        self.assertLedgerBalanced(customer)

    def test_other_programs_are_left_to_odoo(self):
        customer = self._member("券 孙", 10)
        other = self.env["loyalty.program"].create(
            {"name": "Gift card", "program_type": "gift_card", "pos_ok": True}
        )
        gift = self.env["loyalty.card"].create({"program_id": other.id, "points": 5})
        result = self.PosOrder.shop_crm_reserve_points("till-uuid-1", {str(gift.id): -500})
        self.assertTrue(result["successful"], "only member cards are reserved")
        self.assertFalse(self.env["shop.crm.points.reservation"].search([("card_id", "in", (gift.id,))]))
        self.assertEqual(customer.points_balance, 10)

    def test_bad_input_and_access(self):
        customer = self._member("坏 周", 10)
        card = str(customer.member_card_id.id)
        for uuid, changes in (
            (False, {card: -5}),
            ("u-1", [card]),
            ("u-1", {card: "many"}),
            ("u-1", {"x": 1}),
        ):
            with self.assertRaises(UserError):
                self.PosOrder.shop_crm_reserve_points(uuid, changes)
        with self.assertRaises(AccessError):
            self.env["pos.order"].with_user(self.outsider).shop_crm_reserve_points("u-1", {card: -5})
        self.assertFalse(self.env["shop.crm.points.reservation"].search([]))
        with self.assertRaises(AccessError):
            self.env["shop.crm.points.reservation"].with_user(self.staff).create(
                {
                    "card_id": customer.member_card_id.id,
                    "order_uuid": "u-2",
                    "points": 1,
                    "reserved_until": self.now,
                }
            )
        # staff read reservations (what a till promised), the cashier without Shop CRM rights does not
        self.env["shop.crm.points.reservation"].with_user(self.staff).search([])
        with self.assertRaises(AccessError):
            self.env["shop.crm.points.reservation"].with_user(self.cashier).search([])


@tagged("post_install", "-at_install")
class TestTillFeedbackAndReceipt(PosPointsCase):
    def _tickets(self, order):
        return self.env["shop.crm.feedback"].search([("pos_order_id", "=", order.id)])

    def test_feedback_travels_with_the_order(self):
        """Recorded before the order synced (offline): it arrives with the order and makes one ticket,
        however often the order is synced again."""
        customer = self._customer("评价 钱")
        payload = self._payload(customer, 30.0)
        payload.update(shop_crm_satisfaction="2", shop_crm_feedback_comment="花有点蔫")
        self.env["pos.order"].sync_from_ui([payload])
        self.env["pos.order"].sync_from_ui([dict(payload), dict(payload)])
        order = self._order(payload)
        ticket = self._tickets(order)
        self.assertEqual(len(ticket), 1)
        self.assertEqual(
            (ticket.feedback_type, ticket.satisfaction, ticket.customer_comment, ticket.channel),
            ("complaint", "2", "花有点蔫", "in_store"),
        )
        self.assertEqual(order.shop_crm_feedback_id, ticket)

    def test_feedback_after_payment(self):
        """Recorded on the receipt screen after the order synced (the till writes the order's fields, a
        queued write when offline): the ticket is created once, updated when the cashier changes it."""
        customer = self._customer("评价 孙")
        payload = self._payload(customer, 30.0)
        self.env["pos.order"].sync_from_ui([payload])
        order = self._order(payload)
        self.assertFalse(self._tickets(order))
        till_order = order.with_user(self.cashier)
        till_order.write({"shop_crm_satisfaction": "5", "shop_crm_feedback_comment": "包装很漂亮"})
        ticket = self._tickets(order)
        self.assertEqual((len(ticket), ticket.feedback_type, ticket.satisfaction), (1, "praise", "5"))
        ticket_written = ticket.write_date
        till_order.write({"shop_crm_satisfaction": "5", "shop_crm_feedback_comment": "包装很漂亮"})
        self.assertEqual(ticket.write_date, ticket_written, "the same answer again changes nothing")
        till_order.write({"shop_crm_complaint": True})
        self.assertEqual(self._tickets(order), ticket, "still one ticket")
        self.assertEqual((ticket.feedback_type, ticket.priority), ("complaint", "1"))
        with self.assertRaises(ValidationError):
            till_order.write({"shop_crm_feedback_comment": "太" * 501})
        with self.assertRaises(ValueError):
            till_order.write({"shop_crm_satisfaction": "9"})
        self.assertEqual(ticket.customer_comment, "包装很漂亮")

    def test_receipt_values(self):
        """What the receipt prints: tier, points earned on the order, the new balance, and the points
        that expire within 30 days (FIFO, 12 months after they were earned)."""
        customer = self._customer("小票 吴")
        last_year = self._pos_payload(self.session, customer, 120.0, self.now - timedelta(days=350), 99)
        self.env["pos.order"].sync_from_ui([last_year])
        customer.sudo().tier_id = self.silver
        payload = self._payload(customer, 40.0)
        self.env["pos.order"].sync_from_ui([payload])
        order = self._order(payload)
        self.assertEqual(order.shop_crm_receipt_tier, "Silver")
        self.assertEqual(order.shop_crm_points_earned, 40 * 1.5, "earned + the Silver bonus")
        self.assertEqual(order.shop_crm_points_balance, 120 + 60)
        self.assertEqual(order.shop_crm_points_expiring, 120, "last year's 120 points expire in 15 days")
        self.assertTrue(order.shop_crm_feedback_url)
        draft = self.env["pos.order"].create(
            {
                "session_id": self.session.id,
                "partner_id": customer.id,
                "amount_total": 0,
                "amount_tax": 0,
                "amount_paid": 0,
                "amount_return": 0,
            }
        )
        self.assertFalse(draft.shop_crm_points_balance, "drafts print nothing")

    def test_order_paid_in_the_backend_gets_a_feedback_link(self):
        customer = self._customer("后台 郑")
        order = self.env["pos.order"].create(
            {
                "session_id": self.session.id,
                "partner_id": customer.id,
                "lines": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "qty": 20,
                            "price_unit": 1,
                            "price_subtotal": 20,
                            "price_subtotal_incl": 20,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
                "amount_total": 20,
                "amount_tax": 0,
                "amount_paid": 0,
                "amount_return": 0,
            }
        )
        cash = self.session.config_id.payment_method_ids[:1]
        self.env["pos.make.payment"].with_context(active_id=order.id, active_ids=order.ids).create(
            {"amount": 20, "payment_method_id": cash.id}
        ).check()
        self.assertEqual(order.state, "paid")
        self.assertIn(f"/shop_crm/feedback/order/{order.id}", order.shop_crm_feedback_url)
        self.assertIn(order.access_token, order.shop_crm_feedback_url)
        self.assertEqual(customer.points_balance, 20)
