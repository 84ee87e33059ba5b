from odoo.tests import BaseCase, tagged

from ..lib import phone
from .common import ShopCrmCase


@tagged("post_install", "-at_install")
class TestPhoneNumbers(BaseCase):
    def test_chinese_mobiles_normalise_to_one_form(self):
        for raw in (
            "13800138000",
            "138 0013 8000",
            "138-0013-8000",
            "+86 138 0013 8000",
            "+8613800138000",
            "0086 13800138000",
            "(+86) 138.0013.8000",
            13800138000,
            "13800138000.0",
        ):
            self.assertEqual(phone.normalize(raw, mobile_only=True), "+8613800138000", raw)

    def test_empty_and_bad_numbers(self):
        self.assertIsNone(phone.normalize(None))
        self.assertIsNone(phone.normalize("  "))
        for raw in ("12345", "138001380001234", "not a phone", "+86 10"):
            with self.assertRaises(phone.PhoneError) as caught:
                phone.normalize(raw)
            self.assertEqual(caught.exception.reason, "invalid", raw)
            self.assertIsNone(phone.normalize_or_none(raw))
        # a fixed line is a phone number but not a mobile
        self.assertEqual(phone.normalize("0571 8888 8888"), "+8657188888888")
        with self.assertRaises(phone.PhoneError):
            phone.normalize("0571 8888 8888", mobile_only=True)

    def test_foreign_numbers(self):
        self.assertEqual(phone.normalize("+852 9123 4567"), "+85291234567")
        with self.assertRaises(phone.PhoneError) as caught:
            phone.normalize("+852 9123 4567", allowed_regions={"CN"})
        self.assertEqual(caught.exception.reason, "foreign")
        # a number of another region read with that region
        self.assertEqual(phone.normalize("9123 4567", region="HK"), "+85291234567")


@tagged("post_install", "-at_install")
class TestNormalisedMobile(ShopCrmCase):
    def test_stored_normalised_mobile(self):
        """Numbers without a country code are read in the customer's country, else the company's."""
        self.env.company.country_id = self.env.ref("base.cn")
        Partner = self.env["res.partner"].with_user(self.staff)
        a, b, bad = Partner.create(
            [
                {"name": "Typed with spaces", "mobile": "138 0013 8000"},
                {"name": "Typed with +86", "mobile": "+8613800138000"},
                {"name": "Typo", "mobile": "1380013"},
            ]
        )
        self.assertEqual(a.mobile_normalized, "+8613800138000")
        self.assertEqual(b.mobile_normalized, a.mobile_normalized)
        self.assertFalse(bad.mobile_normalized)
        found = Partner.search([("mobile_normalized", "=", "+8613800138000")])
        self.assertEqual(found, a | b)
        a.mobile = "139-0000-1111"
        self.assertEqual(a.mobile_normalized, "+8613900001111")

    def test_region_of_the_customer_or_company(self):
        self.env.company.country_id = self.env.ref("base.us")
        Partner = self.env["res.partner"].with_user(self.staff)
        american = Partner.create({"name": "Local", "mobile": "(650) 253-0000"})
        self.assertEqual(american.mobile_normalized, "+16502530000")
        visitor = Partner.create(
            {"name": "Visitor", "mobile": "138 0013 8000", "country_id": self.env.ref("base.cn").id}
        )
        self.assertEqual(visitor.mobile_normalized, "+8613800138000")
