"""The SMS gateways (lib/sms_gateway.py, sms.sms routing): the providers' real SDK clients talk to a local
HTTP server started by the test, which checks each request as the provider documents it (Aliyun
``SendBatchSms`` RPC 2017-05-25: x-acs-action header, TemplateCode in the query, PhoneNumberJson /
SignNameJson / TemplateParamJson in the form body, an ACS3 signature; Tencent ``SendSms`` 2021-01-11:
X-TC-Action header, a JSON body, a TC3 signature) and answers as the provider does, with success or
errors. No network, no mock of the SDKs."""

import json
import threading
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import common as test_common
from odoo.tests import tagged

from ..lib import sms_gateway
from .common import ShopCrmCase

START = datetime(2026, 3, 10, 2, 0)  # 10:00 in Shanghai: not in the quiet hours


class ProviderServer:
    """A local HTTP server playing Aliyun SMS and Tencent Cloud SMS. ``requests`` gets every request
    (provider, action, headers, query, form or JSON body); ``answers`` is a list of functions (request →
    (HTTP status, JSON answer)) used in turn, the last one for all further requests."""

    def __init__(self):
        self.requests = []
        self.answers = [self.success]
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                url = urlsplit(self.path)
                headers = {name.lower(): value for name, value in self.headers.items()}
                if "x-tc-action" in headers:
                    request = {
                        "provider": "tencent",
                        "action": headers["x-tc-action"],
                        "headers": headers,
                        "body": json.loads(raw or "{}"),
                    }
                else:
                    request = {
                        "provider": "aliyun",
                        "action": headers.get("x-acs-action"),
                        "headers": headers,
                        "query": {key: values[0] for key, values in parse_qs(url.query).items()},
                        "body": {key: values[0] for key, values in parse_qs(raw).items()},
                    }
                server.requests.append(request)
                answer = server.answers[min(len(server.requests) - 1, len(server.answers) - 1)]
                status, payload = answer(request)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    @staticmethod
    def success(request):
        if request["provider"] == "aliyun":
            return 200, {
                "Code": "OK",
                "Message": "OK",
                "RequestId": "ali-req-1",
                "BizId": "900619746936498440^0",
            }
        return 200, {
            "Response": {
                "RequestId": "tc-req-1",
                "SendStatusSet": [
                    {
                        "SerialNo": f"2640:{index}",
                        "PhoneNumber": phone,
                        "Fee": 1,
                        "SessionContext": "",
                        "Code": "Ok",
                        "Message": "send success",
                        "IsoCode": "CN",
                    }
                    for index, phone in enumerate(request["body"]["PhoneNumberSet"])
                ],
            }
        }

    @staticmethod
    def numbers(request):
        if request["provider"] == "aliyun":
            return json.loads(request["body"]["PhoneNumberJson"])
        return request["body"]["PhoneNumberSet"]


def aliyun_refused(_request):
    """Aliyun's business error: HTTP 200 with a code other than OK."""
    return 200, {
        "Code": "isv.BUSINESS_LIMIT_CONTROL",
        "Message": "触发号码天级流控",
        "RequestId": "ali-req-2",
    }


def aliyun_bad_key(_request):
    """Aliyun's authentication error: HTTP 404 (the SDK raises)."""
    return 404, {
        "Code": "InvalidAccessKeyId.NotFound",
        "Message": "Specified access key is not found.",
        "RequestId": "ali-req-3",
    }


def tencent_api_error(_request):
    """Tencent's API error (the SDK raises)."""
    return 200, {
        "Response": {
            "Error": {
                "Code": "AuthFailure.SignatureFailure",
                "Message": "The provided credentials could not be validated.",
            },
            "RequestId": "tc-req-9",
        }
    }


def tencent_number_refused(request):
    """Tencent accepts the call but refuses its number."""
    return 200, {
        "Response": {
            "RequestId": "tc-req-2",
            "SendStatusSet": [
                {
                    "SerialNo": "",
                    "PhoneNumber": phone,
                    "Fee": 0,
                    "SessionContext": "",
                    "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                    "Message": "incorrect phone number",
                    "IsoCode": "",
                }
                for phone in request["body"]["PhoneNumberSet"]
            ],
        }
    }


@tagged("post_install", "-at_install")
class TestSmsGateway(ShopCrmCase):
    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        """Odoo's test guard on outgoing requests compares ``timeout < 10``, but the Aliyun SDK passes a
        (connect, read) pair: requests to the local provider server go through unchanged."""
        if isinstance(kw.get("timeout"), tuple) and urlsplit(r.url).hostname == "127.0.0.1":
            return test_common._super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = ProviderServer()
        cls.addClassCleanup(cls.server.stop)
        cls.company = cls.env.company
        cls.company.write({"shop_crm_tz": "Asia/Shanghai", "shop_crm_campaign_cap_messages": 0})
        cls.tier = cls.env["shop.crm.tier"].search([], limit=1)
        cls.tag = cls.env["res.partner.category"].create({"name": "SMS audience"})
        cls.customers = cls.env["res.partner"].create(
            [
                {
                    "name": f"顾客 {index}",
                    "mobile": f"+86 138 0013 80{index:02d}",
                    "category_id": [Command.link(cls.tag.id)],
                    "birthday": date(1990, 11, 26),
                }
                for index in range(3)
            ]
        )
        cls.env["shop.crm.consent"].create([{"partner_id": p.id, "channel": "sms"} for p in cls.customers])
        cls.segment = cls.env["shop.crm.segment"].create(
            {"name": "SMS audience", "domain": repr([("category_id", "in", [cls.tag.id])])}
        )
        cls.program = cls.env["loyalty.program"].create(
            {
                "name": "SMS coupon",
                "program_type": "coupons",
                "applies_on": "current",
                "trigger": "with_code",
                "pos_ok": True,
                "rule_ids": [Command.clear()],
                "reward_ids": [
                    Command.clear(),
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount": 10,
                            "discount_mode": "percent",
                            "discount_applicability": "order",
                            "required_points": 1,
                        }
                    ),
                ],
            }
        )

    def setUp(self):
        super().setUp()
        self.server.requests.clear()
        self.server.answers = [ProviderServer.success]

    def _gateway(self, provider, **vals):
        values = {
            "shop_crm_sms_gateway": provider,
            "shop_crm_sms_sign_name": "花语小店",
            "shop_crm_sms_key_id": "LTAI-test-key",
            "shop_crm_sms_secret": "test-secret",
            "shop_crm_sms_endpoint": self.server.endpoint,
        }
        if provider == "tencent":
            values.update({"shop_crm_sms_app_id": "1400006666", "shop_crm_sms_region": "ap-guangzhou"})
        self.company.write({**values, **vals})

    def _run_campaign(self, template="SMS_465900001"):
        campaign = (
            self.env["shop.crm.campaign"]
            .with_user(self.manager)
            .create(
                {
                    "name": "Spring SMS",
                    "segment_id": self.segment.id,
                    "control_share": 0,
                    "channel": "sms",
                    "offer": "coupon",
                    "coupon_program_id": self.program.id,
                    "sms_gateway_template": template,
                }
            )
        )
        with freeze_time(START):
            campaign.action_schedule()
        sms = self.env["sms.sms"].search([("partner_id", "in", self.customers.ids)])
        self.assertEqual(len(sms), 3)
        sms.send(unlink_failed=False, unlink_sent=False)
        return campaign, sms

    def _numbers(self):
        return [partner.mobile_normalized for partner in self.customers]

    # ---- Aliyun ---------------------------------------------------------------------------------------

    def test_aliyun_campaign_request_and_success(self):
        self._gateway("aliyun")
        campaign, sms = self._run_campaign()
        self.assertEqual(len(self.server.requests), 1, "one SendBatchSms for three numbers")
        request = self.server.requests[0]
        self.assertEqual(request["action"], "SendBatchSms")
        self.assertEqual(request["headers"]["x-acs-version"], "2017-05-25")
        self.assertTrue(
            request["headers"]["authorization"].startswith("ACS3-HMAC-SHA256 Credential=LTAI-test-key")
        )
        self.assertEqual(request["query"]["TemplateCode"], "SMS_465900001")
        recipients = {r.partner_id.mobile_normalized: r for r in campaign.recipient_ids}
        numbers = json.loads(request["body"]["PhoneNumberJson"])
        self.assertEqual(sorted(numbers), sorted(self._numbers()))
        self.assertEqual(json.loads(request["body"]["SignNameJson"]), ["花语小店"] * 3)
        params = json.loads(request["body"]["TemplateParamJson"])
        for number, param in zip(numbers, params, strict=True):
            recipient = recipients[number]
            self.assertEqual(
                param,
                {
                    "name": recipient.partner_id.name,
                    "tier": recipient.tier_name or "",
                    "code": recipient.coupon_code,
                    "expiry": str(recipient.coupon_expiry),
                },
            )
            self.assertTrue(param["code"])
        self.assertEqual(set(sms.mapped("state")), {"pending"})
        self.assertEqual(set(sms.mapped("shop_crm_gateway")), {"aliyun"})
        for recipient in campaign.recipient_ids:
            self.assertEqual(recipient.sms_status, "sent")
            self.assertEqual(
                (recipient.sms_gateway_state, recipient.sms_request_id, recipient.sms_answer_code),
                ("accepted", "ali-req-1", "OK"),
            )

    def test_aliyun_refused_and_bad_key_are_recorded_not_lost(self):
        self._gateway("aliyun")
        self.server.answers = [aliyun_refused]
        campaign, sms = self._run_campaign()
        self.assertEqual(set(sms.mapped("state")), {"error"}, "kept in error: it can be sent again")
        self.assertEqual(set(sms.mapped("shop_crm_answer_code")), {"isv.BUSINESS_LIMIT_CONTROL"})
        for recipient in campaign.recipient_ids:
            self.assertEqual(recipient.sms_status, "failed")
            self.assertEqual(recipient.sms_gateway_state, "refused")
            self.assertEqual(recipient.sms_answer_message, "触发号码天级流控")
            self.assertEqual(recipient.sms_request_id, "ali-req-2")
        # resent with a wrong key: the SDK raises; the answer is recorded, nothing crashes
        self.server.answers = [aliyun_bad_key]
        sms.resend_failed()
        self.assertEqual(set(sms.exists().mapped("state")), {"error"})
        self.assertEqual(
            set(campaign.recipient_ids.mapped("sms_answer_code")), {"InvalidAccessKeyId.NotFound"}
        )
        # resent once the provider accepts: the recipients are sent again
        self.server.answers = [ProviderServer.success]
        sms.exists().resend_failed()
        self.assertEqual(set(campaign.recipient_ids.mapped("sms_status")), {"sent"})
        self.assertEqual(set(campaign.recipient_ids.mapped("sms_gateway_state")), {"accepted"})

    def test_aliyun_unreachable_gives_an_error_answer(self):
        self._gateway("aliyun", shop_crm_sms_endpoint="http://127.0.0.1:9")
        campaign, sms = self._run_campaign()
        self.assertEqual(set(sms.mapped("state")), {"error"})
        self.assertEqual(set(campaign.recipient_ids.mapped("sms_status")), {"failed"})
        self.assertEqual(set(campaign.recipient_ids.mapped("sms_answer_code")), {sms_gateway.NETWORK_ERROR})

    def test_aliyun_batches_of_100(self):
        gateway = sms_gateway.make_gateway("aliyun", "AK", "SK", "花语小店", endpoint=self.server.endpoint)
        messages = [
            sms_gateway.Message(f"k{index}", f"+861380000{index:04d}", "SMS_1", {"name": str(index)})
            for index in range(150)
        ]
        answers = gateway.send(messages)
        self.assertEqual([len(ProviderServer.numbers(r)) for r in self.server.requests], [100, 50])
        self.assertEqual([answer.key for answer in answers], [message.key for message in messages])
        self.assertTrue(all(answer.ok for answer in answers))

    # ---- Tencent --------------------------------------------------------------------------------------

    def test_tencent_campaign_one_call_per_parameter_set_and_errors(self):
        """Each recipient has their own coupon code: one SendSms per recipient. The first call is refused
        (the SDK raises), the second refuses the number, the third succeeds: each recipient gets its own
        answer and the batch goes on."""
        self._gateway("tencent")
        self.server.answers = [tencent_api_error, tencent_number_refused, ProviderServer.success]
        campaign, sms = self._run_campaign(template="2233445")
        self.assertEqual(len(self.server.requests), 3)
        recipients = {r.partner_id.mobile_normalized: r for r in campaign.recipient_ids}
        for request in self.server.requests:
            self.assertEqual(request["action"], "SendSms")
            self.assertEqual(request["headers"]["x-tc-version"], "2021-01-11")
            self.assertEqual(request["headers"]["x-tc-region"], "ap-guangzhou")
            self.assertTrue(
                request["headers"]["authorization"].startswith("TC3-HMAC-SHA256 Credential=LTAI-test-key/")
            )
            body = request["body"]
            self.assertEqual(
                (body["SmsSdkAppId"], body["SignName"], body["TemplateId"]),
                ("1400006666", "花语小店", "2233445"),
            )
            (number,) = body["PhoneNumberSet"]
            recipient = recipients[number]
            self.assertEqual(
                body["TemplateParamSet"],
                [
                    recipient.partner_id.name,
                    recipient.tier_name or "",
                    recipient.coupon_code,
                    str(recipient.coupon_expiry),
                ],
            )
        first, second, third = (recipients[r["body"]["PhoneNumberSet"][0]] for r in self.server.requests)
        self.assertEqual(
            (first.sms_status, first.sms_answer_code, first.sms_request_id),
            ("failed", "AuthFailure.SignatureFailure", "tc-req-9"),
        )
        self.assertEqual(
            (second.sms_status, second.sms_answer_code, second.sms_answer_message),
            ("failed", "InvalidParameterValue.IncorrectPhoneNumber", "incorrect phone number"),
        )
        self.assertEqual(
            (third.sms_status, third.sms_gateway_state, third.sms_answer_code, third.sms_request_id),
            ("sent", "accepted", "Ok", "tc-req-1"),
        )
        by_partner = {text.partner_id: text for text in sms}
        self.assertEqual(by_partner[first.partner_id].state, "error")
        self.assertEqual(by_partner[third.partner_id].state, "pending")

    def test_tencent_shared_parameters_in_one_call(self):
        gateway = sms_gateway.make_gateway(
            "tencent",
            "ID",
            "KEY",
            "花语小店",
            app_id="1400",
            region="ap-shanghai",
            endpoint=self.server.endpoint,
        )
        numbers = ["+8613800000001", "+8613800000002"]
        answers = gateway.send([sms_gateway.Message(n, n, "77", {"name": "会员"}) for n in numbers])
        (request,) = self.server.requests
        self.assertEqual(request["body"]["PhoneNumberSet"], numbers)
        self.assertEqual(request["body"]["TemplateParamSet"], ["会员"])
        self.assertEqual(request["headers"]["x-tc-region"], "ap-shanghai")
        self.assertEqual(
            [(a.key, a.ok, a.provider_id) for a in answers],
            [(numbers[0], True, "2640:0"), (numbers[1], True, "2640:1")],
        )

    def test_care_greeting_through_tencent(self):
        self._gateway("tencent")
        rule = (
            self.env["shop.crm.care.rule"]
            .with_user(self.manager)
            .create(
                {
                    "name": "Birthday SMS",
                    "trigger": "birthday",
                    "days_before": 0,
                    "create_activity": False,
                    "sms_template_id": self.env.ref("shop_crm.sms_template_care_greeting").id,
                    "sms_gateway_template": "1122334",
                }
            )
        )
        logs = rule._give_care(date(2026, 11, 26))
        self.assertEqual(logs.partner_id, self.customers)
        sms = self.env["sms.sms"].search([("partner_id", "in", self.customers.ids)])
        self.assertEqual(len(sms), 3)
        sms.send(unlink_sent=True)
        self.assertEqual(len(self.server.requests), 3, "a name each: one call per customer")
        sent = {}
        for request in self.server.requests:
            body = request["body"]
            self.assertEqual((body["TemplateId"], body["SignName"]), ("1122334", "花语小店"))
            sent[body["PhoneNumberSet"][0]] = body["TemplateParamSet"]
        for log in logs:
            self.assertEqual(sent[log.partner_id.mobile_normalized], [log.partner_id.name, log.label])
            self.assertEqual(
                (log.sms_gateway_state, log.sms_request_id, log.sms_answer_code),
                ("accepted", "tc-req-1", "Ok"),
            )
        self.assertFalse(
            sms.exists().filtered(lambda text: not text.to_delete), "sent SMS are cleaned up as usual"
        )
        self.assertEqual(set(logs.mapped("sms_answer_code")), {"Ok"}, "the answer stays on the care given")

    # ---- no gateway, bad settings, access --------------------------------------------------------------

    def test_without_gateway_odoo_sms_is_used(self):
        """Gateway "Odoo SMS": the SMS go to Odoo's IAP service (unavailable in tests: a server error),
        never to the provider."""
        self.assertEqual(self.company.shop_crm_sms_gateway, "odoo")
        campaign, sms = self._run_campaign()
        self.assertFalse(self.server.requests)
        self.assertEqual(set(sms.mapped("failure_type")), {"sms_server"})
        self.assertFalse(any(campaign.recipient_ids.mapped("sms_gateway_state")))

    def test_missing_template_code(self):
        self._gateway("aliyun")
        with self.assertRaises(UserError):
            self._run_campaign(template=False)
        # an SMS queued without a template (the gateway was set afterwards) is refused clearly
        self.company.shop_crm_sms_gateway = "odoo"
        campaign, _sms = self._run_campaign(template=False)
        self._gateway("aliyun")
        sms = self.env["sms.sms"].search([("partner_id", "in", self.customers.ids)])
        sms.resend_failed()
        self.assertFalse(self.server.requests)
        self.assertEqual(set(campaign.recipient_ids.mapped("sms_answer_code")), {"NoTemplateCode"})
        self.assertEqual(set(campaign.recipient_ids.mapped("sms_status")), {"failed"})

    def test_gateway_settings_need_credentials(self):
        Settings = self.env["res.config.settings"]
        with self.assertRaises(ValidationError):
            Settings.create(
                {"shop_crm_sms_gateway": "aliyun", "shop_crm_sms_sign_name": "花语小店"}
            ).execute()
        with self.assertRaises(ValidationError):
            Settings.create(
                {
                    "shop_crm_sms_gateway": "tencent",
                    "shop_crm_sms_sign_name": "花语小店",
                    "shop_crm_sms_key_id": "ID",
                    "shop_crm_sms_secret": "KEY",
                }
            ).execute()
        Settings.create(
            {
                "shop_crm_sms_gateway": "tencent",
                "shop_crm_sms_sign_name": "花语小店",
                "shop_crm_sms_key_id": "ID",
                "shop_crm_sms_secret": "KEY",
                "shop_crm_sms_app_id": "1400",
            }
        ).execute()
        self.assertEqual(self.company.shop_crm_sms_gateway, "tencent")
        self.assertEqual(self.company.shop_crm_sms_secret, "KEY")
        # an incomplete gateway (e.g. the secret removed) stops a campaign with an SMS, and queued SMS get
        # a clear error answer instead of a call
        self.company.shop_crm_sms_secret = False
        with self.assertRaises(UserError):
            self._run_campaign()
        self.company.shop_crm_sms_gateway = "odoo"
        campaign, sms = self._run_campaign()
        self._gateway("tencent", shop_crm_sms_secret=False)
        sms.resend_failed()
        self.assertFalse(self.server.requests)
        self.assertEqual(set(campaign.recipient_ids.mapped("sms_answer_code")), {"GatewayNotConfigured"})

    def test_credentials_only_for_managers(self):
        self._gateway("aliyun")
        company = self.company.with_user(self.staff)
        self.assertEqual(company.shop_crm_sms_gateway, "aliyun", "staff may see which gateway is used")
        for field in ("shop_crm_sms_key_id", "shop_crm_sms_secret", "shop_crm_sms_endpoint"):
            with self.assertRaises(AccessError):
                company.read([field])
        self.assertNotIn("shop_crm_sms_secret", company.fields_get())
        self.assertEqual(self.company.with_user(self.manager).shop_crm_sms_secret, "test-secret")
        settings = self.env["res.config.settings"].with_user(self.staff)
        self.assertNotIn("shop_crm_sms_secret", settings.fields_get())
