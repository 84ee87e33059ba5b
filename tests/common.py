import json

from freezegun import freeze_time

from odoo import Command
from odoo.tests import TransactionCase, new_test_user


def confirmed_sale(env, partner, product, when, qty=1, price=None):
    """A sales order of ``qty`` × ``product`` (at ``price``, default the product's price; a negative
    ``qty`` is a refund) for ``partner``, without taxes, confirmed at ``when`` (a naive UTC datetime, as
    Odoo stores it: the order's date)."""
    line = {"product_id": product.id, "product_uom_qty": qty, "tax_id": [Command.clear()]}
    if price is not None:
        line["price_unit"] = price
    with freeze_time(when):
        order = env["sale.order"].create({"partner_id": partner.id, "order_line": [Command.create(line)]})
        order.action_confirm()
    order.date_order = when
    return order


class ShopCrmCase(TransactionCase):
    """Base class: a Shop CRM user (staff), a Shop CRM manager and an internal user without Shop CRM."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.staff = new_test_user(
            cls.env, login="crm_staff", name="Staff Xiao Li", groups="shop_crm.group_shop_crm_user"
        )
        cls.manager = new_test_user(
            cls.env, login="crm_manager", name="Manager Zhou", groups="shop_crm.group_shop_crm_manager"
        )
        cls.outsider = new_test_user(
            cls.env, login="crm_outsider", name="Warehouse Wu", groups="base.group_user"
        )

    def _activity_bus_count(self, user):
        """The activity counter change the web client of ``user`` was sent over the bus (the sum of the
        ``mail.activity/updated`` count_diff values of the notifications queued for this transaction)."""
        self.env.cr.precommit.run()  # core queues bus notifications until commit: write them now
        channel = json.dumps([self.env.cr.dbname, "res.partner", user.partner_id.id], separators=(",", ":"))
        total = 0
        for bus in self.env["bus.bus"].sudo().search([("channel", "=", channel)]):
            message = json.loads(bus.message)
            if message["type"] == "mail.activity/updated":
                total += message["payload"].get("count_diff", 0)
        return total

    def assertAssignedAsCoreDoes(self, activities, user, summary=False):
        """``activities`` are assigned to ``user`` as Odoo assigns an activity to someone: the user follows
        the records, got an "assigned to you" notification in their inbox for each (or, with ``summary``,
        one for them all: a large batch), and their activity counter (systray) counts them."""
        self.assertTrue(activities)
        self.assertEqual(activities.user_id, user)
        Message = self.env["mail.message"]
        for activity in activities:
            record = self.env[activity.res_model].browse(activity.res_id)
            self.assertIn(user.partner_id, record.message_partner_ids, "the assignee follows the record")
            notified = Message.search(
                [
                    ("model", "=", activity.res_model),
                    ("res_id", "=", activity.res_id),
                    ("message_type", "=", "user_notification"),
                    ("partner_ids", "in", user.partner_id.ids),
                ]
            )
            # (core also notifies a salesperson newly assigned to a customer: not an activity's message)
            label = activity.summary or activity.activity_type_id.name
            notified = notified.filtered(lambda message, label=label: label in (message.subject or ""))
            if summary:
                self.assertFalse(notified, "no notification per activity in a large batch")
            else:
                self.assertTrue(notified, "the assignee was notified of the activity")
        if summary:
            digest = Message.search(
                [
                    ("model", "=", False),
                    ("message_type", "=", "user_notification"),
                    ("partner_ids", "in", user.partner_id.ids),
                    ("subject", "ilike", f"{len(activities)} activities assigned to you"),
                ]
            )
            self.assertEqual(len(digest), 1, "one summary notification for the batch")
            self.assertIn(
                user.partner_id, digest.notification_ids.res_partner_id, "delivered to the assignee"
            )
        groups = {group["model"]: group for group in user.with_user(user)._get_activity_groups()}
        model = activities[0].res_model
        self.assertIn(model, groups)
        counted = sum(groups[model][f"{state}_count"] for state in ("today", "overdue", "planned"))
        self.assertGreaterEqual(counted, len(activities), "the assignee's activity counter counts them")
