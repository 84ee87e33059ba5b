"""Odoo's own mass SMS and mass mail composers on customers skip those without marketing consent and
those who asked not to be contacted, say how many, and leave service messages alone."""

from odoo.tests import tagged

from .common import ShopCrmCase


@tagged("post_install", "-at_install")
class TestMarketingComposers(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.consenting, cls.silent, cls.blocked = Partner.create(
            [
                {"name": name, "mobile": f"+86 139 0013 900{index}", "email": f"{name.lower()}@example.com"}
                for index, name in enumerate(("Consenting", "Silent", "Blocked"))
            ]
        )
        Consent = cls.env["shop.crm.consent"]
        for partner in (cls.consenting, cls.blocked):
            Consent.create([{"partner_id": partner.id, "channel": channel} for channel in ("sms", "email")])
        cls.blocked.do_not_contact = True
        cls.partners = cls.consenting | cls.silent | cls.blocked

    def _sms_composer(self, partners, **vals):
        return (
            self.env["sms.composer"]
            .with_context(
                active_model="res.partner", active_ids=partners.ids, default_composition_mode="mass"
            )
            .create({"body": "Spring sale!", "mass_keep_log": False, **vals})
        )

    def _sms_of(self, partner):
        return self.env["sms.sms"].search([("partner_id", "=", partner.id)])

    def test_mass_sms_skips_without_consent_and_do_not_contact(self):
        composer = self._sms_composer(self.partners)
        self.assertTrue(composer.shop_crm_applies)
        self.assertEqual(composer.shop_crm_skipped_count, 2)
        action = composer.action_send_sms()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("2 customers were skipped", action["params"]["message"])
        self.assertEqual(self._sms_of(self.consenting).state, "outgoing")
        for partner in (self.silent, self.blocked):
            sms = self._sms_of(partner)
            self.assertEqual((sms.state, sms.failure_type), ("canceled", "sms_optout"), partner.name)

    def test_service_sms_is_not_filtered(self):
        composer = self._sms_composer(self.partners, shop_crm_marketing=False)
        self.assertEqual(composer.shop_crm_skipped_count, 0)
        self.assertFalse(composer.action_send_sms(), "no skipped customers: the usual result, no warning")
        self.assertEqual(
            set(self.env["sms.sms"].search([("partner_id", "in", self.partners.ids)]).mapped("state")),
            {"outgoing"},
        )

    def test_single_customer_sms_is_not_filtered(self):
        composer = (
            self.env["sms.composer"]
            .with_context(
                active_model="res.partner", active_id=self.silent.id, default_composition_mode="comment"
            )
            .create({"body": "Your bouquet is ready"})
        )
        self.assertFalse(composer.shop_crm_applies)
        composer.action_send_sms()
        self.assertTrue(self._sms_of(self.silent))

    def test_mass_mail_skips_without_consent_and_do_not_contact(self):
        composer = self.env["mail.compose.message"].create(
            {
                "model": "res.partner",
                "res_ids": repr(self.partners.ids),
                "composition_mode": "mass_mail",
                "subject": "Spring sale",
                "body": "<p>Spring sale!</p>",
                "email_from": "shop@example.com",
            }
        )
        self.assertTrue(composer.shop_crm_applies)
        self.assertEqual(composer.shop_crm_skipped_count, 2)
        action = composer.action_send_mail()
        self.assertIn("2 customers were skipped", action["params"]["message"])
        mails = self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "in", self.partners.ids)]
        )
        self.assertEqual(mails.mapped("res_id"), [self.consenting.id])

    def test_service_mail_is_not_filtered(self):
        composer = self.env["mail.compose.message"].create(
            {
                "model": "res.partner",
                "res_ids": repr(self.partners.ids),
                "composition_mode": "mass_mail",
                "subject": "Opening hours",
                "body": "<p>We are closed on Monday.</p>",
                "email_from": "shop@example.com",
                "shop_crm_marketing": False,
            }
        )
        self.assertEqual(composer.shop_crm_skipped_count, 0)
        composer.action_send_mail()
        mails = self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "in", self.partners.ids)]
        )
        self.assertEqual(sorted(mails.mapped("res_id")), sorted(self.partners.ids))
