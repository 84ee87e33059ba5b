import re
from collections import Counter
from datetime import date

from odoo.tests import BaseCase, tagged

from ..lib import demo_plan


@tagged("post_install", "-at_install", "shop_crm_unit")
class TestDemoPlan(BaseCase):
    anchor = date(2026, 6, 30)
    festivals = {date(2025, 2, 14): "valentines", date(2026, 2, 14): "valentines", date(2025, 8, 29): "qixi"}

    def _plan(self, **kwargs):
        return demo_plan.build_plan(
            **{"seed": 11, "anchor": self.anchor, "festivals": self.festivals, **kwargs}
        )

    def test_deterministic(self):
        first, second = self._plan(), self._plan()
        self.assertEqual(first.customers, second.customers)
        self.assertEqual(first.orders, second.orders)
        self.assertNotEqual(first.orders, self._plan(seed=12).orders, "another seed gives another shop")

    def test_sizes_and_window(self):
        plan = self._plan(customers=300, days=730)
        self.assertEqual(len(plan.customers), 300)
        self.assertEqual(plan.start, date(2024, 7, 1))
        self.assertTrue(all(plan.start <= order.when.date() <= self.anchor for order in plan.orders))
        self.assertGreater(plan.count("pos"), 1000)
        self.assertGreater(plan.count("sale"), 50)
        self.assertEqual(plan.count("pos") + plan.count("sale"), len(plan.orders))
        keys = {customer.key for customer in plan.customers}
        self.assertEqual(keys, set(range(1, 301)))
        self.assertTrue({order.customer_key for order in plan.orders} <= keys)
        self.assertTrue(all(9 <= order.when.hour < 21 for order in plan.orders), "orders in shop hours")

    def test_customers_look_real(self):
        plan = self._plan(customers=300, days=730)
        phones = [customer.phone for customer in plan.customers]
        self.assertEqual(len(set(phones)), 300, "phone numbers are unique")
        self.assertTrue(all(re.fullmatch(r"1[3-9]\d{9}", phone) for phone in phones))
        people = [customer for customer in plan.customers if not customer.is_company]
        self.assertTrue(all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", customer.name) for customer in people))
        with_birthday = sum(1 for customer in people if customer.birthday)
        self.assertTrue(0.4 * len(people) < with_birthday < 0.8 * len(people), "birthdays for some")
        self.assertEqual({customer.staff_index for customer in plan.customers}, set(range(plan.staff_count)))

    def test_behaviours(self):
        plan = self._plan(customers=300, days=730)
        archetype = {customer.key: customer.archetype for customer in plan.customers}
        orders_by_customer = Counter(order.customer_key for order in plan.orders)
        last_order = {}
        for order in plan.orders:
            last_order[order.customer_key] = order.when.date()
        for key, kind in archetype.items():
            if kind == "one_time":
                self.assertEqual(orders_by_customer[key], 1)
            elif kind == "prospect":
                self.assertEqual(orders_by_customer[key], 0, "prospects have not bought yet")
            elif kind == "lapsed":
                self.assertGreater(
                    (self.anchor - last_order[key]).days, 180, "lapsed customers stopped coming"
                )
            elif kind == "new":
                self.assertLess(
                    min((self.anchor - o.when.date()).days for o in plan.orders if o.customer_key == key), 90
                )
        regulars = sorted(orders_by_customer[key] for key, kind in archetype.items() if kind == "regular")
        occasionals = sorted(
            orders_by_customer[key] for key, kind in archetype.items() if kind == "occasional"
        )
        self.assertGreaterEqual(regulars[len(regulars) // 2], 8, "a typical regular comes many times")
        self.assertGreater(regulars[len(regulars) // 2], occasionals[len(occasionals) // 2])
        self.assertTrue(
            all(o.channel == "sale" for o in plan.orders if archetype[o.customer_key] == "business")
        )
        self.assertTrue(
            all(o.channel == "pos" for o in plan.orders if archetype[o.customer_key] != "business")
        )

    def test_festival_peaks(self):
        plan = self._plan(customers=300, days=730)
        per_day = Counter(order.when.date() for order in plan.orders)
        average = len(plan.orders) / 730
        self.assertGreater(per_day[date(2026, 2, 14)], 4 * average, "情人节 is a peak day")
        roses = sum(
            1
            for o in plan.orders
            if o.when.date() == date(2026, 2, 14)
            and any(code in ("BQ-ROSE11", "ROSE-RED", "BQ-ROSE99") for code, _q in o.lines)
        )
        self.assertGreater(roses, per_day[date(2026, 2, 14)] / 2, "people buy roses on 情人节")

    def test_bad_sizes(self):
        with self.assertRaises(ValueError):
            demo_plan.build_plan(customers=0)
        with self.assertRaises(ValueError):
            demo_plan.build_plan(days=7)

    def test_member_extras(self):
        plan = demo_plan.build_plan(seed=3, anchor=date(2026, 6, 30), customers=200, days=365)
        extras = demo_plan.member_extras(plan)
        self.assertEqual(extras, demo_plan.member_extras(plan), "deterministic")
        first = {}
        for order in plan.orders:
            first.setdefault(order.customer_key, order.when)
        self.assertTrue(extras.referrals)
        for referred, referrer in extras.referrals.items():
            self.assertLess(first[referrer], first[referred], "the referrer bought first")
        companies = {c.key for c in plan.customers if c.is_company}
        self.assertFalse(companies & set(extras.channels))
        upcoming = [
            o
            for o in extras.occasions
            if o.calendar == "solar" and 0 < (date(2026, o.month, o.day) - plan.anchor).days <= 30
        ]
        self.assertGreaterEqual(len(upcoming), 6)
        self.assertTrue(any(withdrawn for _key, _channel, withdrawn in extras.consents))
