"""Campaigns: act on a segment with a coupon, a points gift and an SMS and/or email, with a random control
group to measure the lift.

When a campaign starts, its audience (the segment) is frozen into recipients in one batched create; a
seeded random share of it (default 10 %) is the control group and gets nothing. The treated recipients
get the offer (one coupon of an Odoo loyalty program each, usable at the Point of Sale and in sales, or
member points through the ledger) unless they asked not to be contacted, and the message on the
channels they consented to, within the frequency cap; SMS wait for the end of the quiet hours. Every
recipient row says its group, what was sent and why not. The results follow the published definitions
of ``lib/campaign.py`` over the shared purchases definition (``res.company._shop_crm_purchases``)."""

import random
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, float_round

from ..lib import campaign as rules

STATES = [
    ("draft", "Draft"),
    ("scheduled", "Scheduled"),
    ("running", "Running"),
    ("done", "Done"),
    ("cancelled", "Cancelled"),
]
OFFERS = [("none", "No Offer"), ("coupon", "Coupon"), ("points", "Points Gift")]
CHANNELS = [
    ("sms", "SMS"),
    ("email", "Email"),
    ("sms_email", "SMS and Email"),
    ("none", "No Message (Offer Only)"),
]
GROUPS = [("treated", "Treated"), ("control", "Control Group")]
MESSAGE_STATES = [
    ("none", "Not Planned"),
    ("pending", "To Send"),
    ("sent", "Sent"),
    ("skipped", "Not Sent"),
    ("failed", "Refused by the SMS Provider"),
]
REASONS = [
    ("control", "Control group"),
    ("do_not_contact", "Asked not to be contacted"),
    ("no_consent", "No consent for this channel"),
    ("no_address", "No mobile number / email address"),
    ("frequency_cap", "Frequency cap reached"),
    ("quiet_hours", "Quiet hours: sent when they end"),
]
# A campaign coupon carries this many points, the cost of the coupon program's reward (used once).
COUPON_POINTS = 1


class ShopCrmCampaign(models.Model):
    _name = "shop.crm.campaign"
    _description = "Campaign"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(STATES, default="draft", required=True, readonly=True, copy=False, tracking=True)
    segment_id = fields.Many2one(
        "shop.crm.segment",
        "Audience",
        required=True,
        domain="[('company_id', '=', company_id)]",
        tracking=True,
        help="The segment's customers when the campaign starts become its recipients.",
    )
    control_share = fields.Float(
        "Control Group (%)",
        default=10.0,
        digits=(5, 1),
        help="This share of the audience, drawn at random, gets nothing: the baseline of the results.",
    )
    seed = fields.Integer(
        "Draw Seed",
        default=lambda self: random.SystemRandom().randint(1, 2**31 - 1),
        copy=False,
        help="The random draw of the control group: the same audience and seed give the same group.",
    )
    offer = fields.Selection(OFFERS, default="none", required=True)
    coupon_program_id = fields.Many2one(
        "loyalty.program",
        domain="[('program_type', '=', 'coupons'), ('company_id', 'in', [company_id, False])]",
        help="One coupon of this program per treated recipient, usable once at the Point of Sale and in "
        "sales.",
    )
    coupon_valid_days = fields.Integer("Coupon Valid (days)", default=30)
    gift_points = fields.Float(digits=(16, 2))
    channel = fields.Selection(CHANNELS, default="sms", required=True)
    sms_template_id = fields.Many2one(
        "sms.template",
        "SMS",
        domain=[("model", "=", "shop.crm.campaign.recipient")],
        default=lambda self: self.env.ref("shop_crm.sms_template_campaign", raise_if_not_found=False),
    )
    sms_gateway_template = fields.Char(
        "SMS Provider Template",
        help="With an Aliyun or Tencent Cloud SMS gateway: the provider's approved template (code or id) of "
        "this SMS. Its parameters, in this order: name, tier, code (the coupon), expiry.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        "Email",
        domain=[("model", "=", "shop.crm.campaign.recipient")],
        default=lambda self: self.env.ref("shop_crm.mail_template_campaign", raise_if_not_found=False),
    )
    schedule = fields.Selection(
        [("now", "Now"), ("later", "At a Date and Time")], default="now", required=True
    )
    scheduled_day = fields.Date("Send On")
    scheduled_time = fields.Float("At (shop time)", default=10.0, help="In the shop's timezone.")
    scheduled_at = fields.Datetime(
        "Starts At", compute="_compute_scheduled_at", store=True, help="When the cron starts the campaign."
    )
    results_days = fields.Integer(
        "Results Window (days)",
        default=30,
        help="A customer responds with a purchase on one of this many days from the start day on.",
    )
    started_at = fields.Datetime(readonly=True, copy=False)
    start_day = fields.Date(readonly=True, copy=False, help="The shop's day of the start.")
    recipient_ids = fields.One2many("shop.crm.campaign.recipient", "campaign_id", "Campaign Recipients")
    recipient_count = fields.Integer("Recipients", compute="_compute_counts")
    treated_count = fields.Integer("Treated", compute="_compute_counts")
    control_count = fields.Integer("Control", compute="_compute_counts")
    messaged_count = fields.Integer("Messaged", compute="_compute_counts")
    coupon_count = fields.Integer("Coupons", compute="_compute_counts")
    results_summary = fields.Char("Result", compute="_compute_results")
    treated_response_rate = fields.Float("Treated: Response Rate (%)", compute="_compute_results")
    control_response_rate = fields.Float("Control: Response Rate (%)", compute="_compute_results")
    treated_spend = fields.Monetary("Treated: Spend per Customer", compute="_compute_results")
    control_spend = fields.Monetary("Control: Spend per Customer", compute="_compute_results")
    incremental_revenue = fields.Monetary(compute="_compute_results")
    redemption_rate = fields.Float("Coupons Used (%)", compute="_compute_results")
    results_chart = fields.Json(compute="_compute_results")

    @api.depends("schedule", "scheduled_day", "scheduled_time", "company_id")
    def _compute_scheduled_at(self):
        for campaign in self:
            if campaign.schedule != "later" or not campaign.scheduled_day:
                campaign.scheduled_at = False
                continue
            tz = pytz.timezone(campaign.company_id._shop_crm_timezone())
            minutes = round(campaign.scheduled_time * 60)
            local = datetime.combine(campaign.scheduled_day, time(min(minutes // 60, 23), minutes % 60))
            campaign.scheduled_at = tz.localize(local).astimezone(pytz.utc).replace(tzinfo=None)

    def _compute_counts(self):
        self.recipient_count = self.treated_count = self.control_count = 0
        self.messaged_count = self.coupon_count = 0
        if not self.ids:
            return
        self.env["shop.crm.campaign.recipient"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT campaign_id, COUNT(*), COUNT(*) FILTER (WHERE recipient_group = 'treated'),
                          COUNT(*) FILTER (WHERE recipient_group = 'control'),
                          COUNT(sent_at), COUNT(coupon_id)
                     FROM shop_crm_campaign_recipient WHERE campaign_id IN %s GROUP BY campaign_id""",
                tuple(self.ids),
            )
        )
        for campaign_id, total, treated, control, messaged, coupons in self.env.cr.fetchall():
            campaign = self.browse(campaign_id)
            campaign.recipient_count = total
            campaign.treated_count = treated
            campaign.control_count = control
            campaign.messaged_count = messaged
            campaign.coupon_count = coupons

    @api.depends("state", "start_day", "results_days")
    def _compute_results(self):
        for campaign in self:
            if not campaign.start_day:
                campaign.update(
                    {
                        "results_summary": self.env._("The results appear when the campaign has started."),
                        "treated_response_rate": 0,
                        "control_response_rate": 0,
                        "treated_spend": 0,
                        "control_spend": 0,
                        "incremental_revenue": 0,
                        "redemption_rate": 0,
                        "results_chart": False,
                    }
                )
                continue
            results = campaign.results()
            treated, control = results["treated"], results["control"]
            campaign.update(
                {
                    "results_summary": campaign._results_sentence(results),
                    "treated_response_rate": 100 * (treated["response_rate"] or 0),
                    "control_response_rate": 100 * (control["response_rate"] or 0),
                    "treated_spend": treated["spend_per_customer"] or 0,
                    "control_spend": control["spend_per_customer"] or 0,
                    "incremental_revenue": results["incremental_revenue"] or 0,
                    "redemption_rate": 100 * (treated["redemption_rate"] or 0),
                    "results_chart": campaign._results_chart(treated["size"], control["size"]),
                }
            )

    @api.constrains(
        "control_share", "offer", "coupon_program_id", "coupon_valid_days", "gift_points", "results_days"
    )
    def _check_campaign(self):
        for campaign in self:
            if not 0 <= campaign.control_share < 100:
                raise ValidationError(
                    self.env._("The control group share must be from 0 to less than 100 %.")
                )
            if campaign.results_days < 1:
                raise ValidationError(self.env._("The results window must be at least one day."))
            if campaign.offer == "coupon" and not campaign.coupon_program_id:
                raise ValidationError(self.env._("Choose the coupon program of the offer."))
            if campaign.offer == "coupon" and campaign.coupon_valid_days < 1:
                raise ValidationError(self.env._("The coupons must be valid for at least one day."))
            if campaign.offer == "points" and campaign.gift_points <= 0:
                raise ValidationError(self.env._("The points gift must be positive."))

    def write(self, vals):
        frozen = set(vals) & {
            "segment_id",
            "control_share",
            "seed",
            "offer",
            "coupon_program_id",
            "gift_points",
        }
        if frozen and self.filtered(lambda campaign: campaign.state in ("running", "done")):
            raise UserError(self.env._("A campaign that has started keeps its audience, draw and offer."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_started(self):
        if self.filtered(lambda campaign: campaign.state in ("running", "done")):
            raise UserError(
                self.env._("A campaign that has started cannot be deleted; it keeps its results.")
            )

    # ---- actions ------------------------------------------------------------------------------------

    def action_schedule(self):
        """Draft → scheduled (a date and time) or started at once (now)."""
        for campaign in self:
            if campaign.state != "draft":
                raise UserError(self.env._("Only a draft campaign can be scheduled."))
            campaign._check_ready()
            if campaign.schedule == "later":
                if not campaign.scheduled_day:
                    raise UserError(self.env._("Choose the day on which the campaign starts."))
                campaign.state = "scheduled"
                campaign.message_post(
                    body=self.env._(
                        "Scheduled for %(when)s.", when=campaign._local_label(campaign.scheduled_at)
                    )
                )
            else:
                campaign._start()
        return True

    def action_start_now(self):
        for campaign in self:
            if campaign.state not in ("draft", "scheduled"):
                raise UserError(self.env._("Only a draft or scheduled campaign can be started."))
            campaign._check_ready()
            campaign._start()
        return True

    def action_cancel(self):
        if self.filtered(lambda campaign: campaign.state not in ("draft", "scheduled")):
            raise UserError(self.env._("Only a draft or scheduled campaign can be cancelled."))
        self.write({"state": "cancelled"})
        return True

    def action_reset_draft(self):
        if self.filtered(lambda campaign: campaign.state != "cancelled"):
            raise UserError(self.env._("Only a cancelled campaign can be set back to draft."))
        self.write({"state": "draft"})
        return True

    def action_done(self):
        if self.filtered(lambda campaign: campaign.state != "running"):
            raise UserError(self.env._("Only a running campaign can be closed."))
        self.write({"state": "done"})
        return True

    def action_view_recipients(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("shop_crm.shop_crm_campaign_recipient_action")
        action["domain"] = [("campaign_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # ---- starting: freeze the audience, draw the control group, give the offer -----------------------

    def _check_ready(self):
        self.ensure_one()
        self.check_access("write")
        if self.channel in ("sms", "sms_email") and not self.sms_template_id:
            raise UserError(self.env._("Choose the SMS of the campaign."))
        problem = self.channel in ("sms", "sms_email") and self.company_id._shop_crm_sms_gateway_problem()
        if problem:
            raise UserError(problem)
        if (
            self.channel in ("sms", "sms_email")
            and self.company_id.shop_crm_sms_gateway != "odoo"
            and not self.sms_gateway_template
        ):
            raise UserError(
                self.env._(
                    "The SMS gateway sends only approved templates: enter the provider's template code."
                )
            )
        if self.channel in ("email", "sms_email") and not self.mail_template_id:
            raise UserError(self.env._("Choose the email of the campaign."))
        if self.channel == "none" and self.offer == "none":
            raise UserError(self.env._("A campaign without a message needs an offer."))

    def _start(self):
        """Freeze the audience into recipients (set-based), then send what can be sent now."""
        self.ensure_one()
        company = self.company_id
        partner_ids = self.segment_id._partner_ids()
        if not partner_ids:
            raise UserError(self.env._("The segment %(name)s has no customers.", name=self.segment_id.name))
        now = fields.Datetime.now()
        today = company._shop_crm_today()
        control = rules.draw_control(partner_ids, self.control_share, self.seed)
        treated = [partner_id for partner_id in sorted(partner_ids) if partner_id not in control]
        contacts = self._contact_data(partner_ids, now)
        reachable = [partner_id for partner_id in treated if not contacts[partner_id]["do_not_contact"]]
        coupons = self._issue_coupons(reachable, today)
        points = self._give_points(reachable)
        vals_list = []
        for partner_id in sorted(partner_ids):
            data = contacts[partner_id]
            vals = {
                "campaign_id": self.id,
                "partner_id": partner_id,
                "recipient_group": "control" if partner_id in control else "treated",
                "coupon_id": coupons.get(partner_id, False),
                "points_given": points.get(partner_id, 0.0),
            }
            for channel in ("sms", "email"):
                vals[f"{channel}_status"], vals[f"{channel}_reason"] = self._decide(
                    channel, vals["recipient_group"], data
                )
            vals_list.append(vals)
        self.env["shop.crm.campaign.recipient"].sudo().create(vals_list)
        self.write({"state": "running", "started_at": now, "start_day": today})
        self.message_post(
            body=self.env._(
                "Started: %(total)s recipients, %(control)s in the control group "
                "(%(share)s %%, seed %(seed)s), %(coupons)s coupons, %(points)s points gifts.",
                total=len(partner_ids),
                control=len(control),
                share=self.control_share,
                seed=self.seed,
                coupons=len(coupons),
                points=len(points),
            )
        )
        self._send_pending()

    def _contact_data(self, partner_ids, now):
        """{partner id: {"do_not_contact", "sms", "email" (consent and address), "capped"}} in a few
        set-based queries."""
        company = self.company_id
        self.env.flush_all()
        cap_messages = company.shop_crm_campaign_cap_messages
        cap_since = company._shop_crm_day_start(
            company._shop_crm_today() - timedelta(days=company.shop_crm_campaign_cap_days - 1)
        )
        Consent = self.env["shop.crm.consent"].sudo()
        partners = self.env["res.partner"].sudo().browse(partner_ids)
        consented = {
            channel: set(Consent._consented_partners(partners, channel).ids) for channel in ("sms", "email")
        }
        self.env.cr.execute(
            SQL(
                """SELECT p.id, COALESCE(p.do_not_contact, FALSE),
                          p.mobile_normalized IS NOT NULL, COALESCE(p.email, '') <> '',
                          COALESCE(cap.messages, 0) >= %(cap)s AND %(cap)s > 0
                     FROM res_partner p
                     LEFT JOIN (
                         SELECT r.partner_id, COUNT(DISTINCT r.campaign_id) AS messages
                           FROM shop_crm_campaign_recipient r
                          WHERE r.partner_id = ANY(%(ids)s) AND r.sent_at >= %(since)s
                          GROUP BY r.partner_id
                     ) cap ON cap.partner_id = p.id
                    WHERE p.id = ANY(%(ids)s)""",
                ids=list(partner_ids),
                cap=cap_messages,
                since=cap_since,
            )
        )
        return {
            partner_id: {
                "do_not_contact": do_not_contact,
                "sms": (partner_id in consented["sms"], has_mobile),
                "email": (partner_id in consented["email"], has_email),
                "capped": capped,
            }
            for partner_id, do_not_contact, has_mobile, has_email, capped in self.env.cr.fetchall()
        }

    def _decide(self, channel, group, data):
        """(status, reason) of one channel for one recipient."""
        if self.channel not in (channel, "sms_email"):
            return "none", False
        if group == "control":
            return "skipped", "control"
        if data["do_not_contact"]:
            return "skipped", "do_not_contact"
        consent, address = data[channel]
        if not consent:
            return "skipped", "no_consent"
        if not address:
            return "skipped", "no_address"
        if data["capped"]:
            return "skipped", "frequency_cap"
        return "pending", False

    def _issue_coupons(self, partner_ids, today):
        """One coupon of the campaign's program per partner (Odoo's loyalty cards, as the coupon generation
        wizard creates them, with their history line); {partner id: coupon id}."""
        if self.offer != "coupon" or not partner_ids:
            return {}
        expiry = today + timedelta(days=self.coupon_valid_days)
        Card = self.env["loyalty.card"].sudo().with_context(action_no_send_mail=True)
        codes = self._unique_coupon_codes(len(partner_ids))
        coupons = Card.create(
            [
                {
                    "program_id": self.coupon_program_id.id,
                    "partner_id": partner_id,
                    "points": COUPON_POINTS,
                    "expiration_date": expiry,
                    "code": code,
                }
                for partner_id, code in zip(partner_ids, codes, strict=True)
            ]
        )
        description = self.env._("Campaign: %s", self.name)
        self.env["loyalty.history"].sudo().create(
            [
                {"card_id": coupon.id, "description": description, "issued": COUPON_POINTS}
                for coupon in coupons
            ]
        )
        return dict(zip(partner_ids, coupons.ids, strict=True))

    def _unique_coupon_codes(self, count):
        """``count`` coupon codes in Odoo's format (``loyalty.card._generate_code``) that no card has and
        that differ from each other: Odoo's codes have 32 random bits, so among a chain's hundreds of
        thousands of cards some would clash with the unique constraint. Clashes are drawn again."""
        Card = self.env["loyalty.card"]
        codes = [Card._generate_code() for _ in range(count)]
        redraw = range(count)
        while redraw:
            self.env.cr.execute(
                SQL(
                    "SELECT code FROM loyalty_card WHERE code = ANY(%s)",
                    list({codes[index] for index in redraw}),
                )
            )
            taken = {code for (code,) in self.env.cr.fetchall()}
            seen = set()
            clashes = []
            for index, code in enumerate(codes):
                if code in seen or code in taken:
                    clashes.append(index)
                seen.add(code)
            for index in clashes:
                codes[index] = Card._generate_code()
            redraw = clashes
        return codes

    def _give_points(self, partner_ids):
        """The points gift through the member points ledger (once per campaign and card); {partner id:
        points}."""
        if self.offer != "points" or not partner_ids:
            return {}
        company = self.company_id
        partners = self.env["res.partner"].sudo().browse(partner_ids)
        partners._shop_crm_enroll(company)
        ledger = self.env["shop.crm.points"].sudo()
        cards = ledger._member_cards(partners, company)
        points = float_round(self.gift_points, precision_digits=2)
        description = self.env._("Campaign gift: %s", self.name)
        posted = ledger._post(
            [
                {
                    "card_id": cards[partner_id].id,
                    "kind": "gift",
                    "issued": points,
                    "order_model": self._name,
                    "order_id": self.id,
                    "description": description,
                }
                for partner_id in partner_ids
            ]
        )
        by_card = {cards[partner_id].id: partner_id for partner_id in partner_ids}
        return {by_card[card_id]: delta for card_id, delta in posted.items() if delta}

    # ---- sending --------------------------------------------------------------------------------------

    def _send_pending(self):
        """Queue the pending emails, and the pending SMS outside the quiet hours (they wait otherwise)."""
        Recipient = self.env["shop.crm.campaign.recipient"].sudo()
        now = fields.Datetime.now()
        for campaign in self:
            company = campaign.company_id
            local_now = pytz.utc.localize(now).astimezone(pytz.timezone(company._shop_crm_timezone()))
            quiet = rules.in_quiet_hours(local_now, company.shop_crm_quiet_start, company.shop_crm_quiet_end)
            emails = Recipient.search([("campaign_id", "=", campaign.id), ("email_status", "=", "pending")])
            if emails:
                campaign.mail_template_id.sudo().send_mail_batch(emails.ids)
                emails.write({"email_status": "sent"})
                emails.filtered(lambda recipient: not recipient.sent_at).write({"sent_at": now})
            texts = Recipient.search([("campaign_id", "=", campaign.id), ("sms_status", "=", "pending")])
            if texts and quiet:
                texts.filtered(lambda recipient: recipient.sms_reason != "quiet_hours").write(
                    {"sms_reason": "quiet_hours"}
                )
            elif texts:
                bodies = campaign.sms_template_id.sudo()._render_field("body", texts.ids, compute_lang=True)
                sms = (
                    self.env["sms.sms"]
                    .sudo()
                    .create(
                        [
                            {
                                "number": recipient.partner_id.mobile_normalized,
                                "partner_id": recipient.partner_id.id,
                                "body": bodies[recipient.id],
                                "state": "outgoing",
                                "shop_crm_company_id": company.id,
                                "shop_crm_template_code": campaign.sms_gateway_template,
                                "shop_crm_template_params": recipient._sms_gateway_params(),
                            }
                            for recipient in texts
                        ]
                    )
                )
                texts._shop_crm_link_sms(sms)
                texts.write({"sms_status": "sent", "sms_reason": False})
                texts.filtered(lambda recipient: not recipient.sent_at).write({"sent_at": now})

    @api.model
    def _cron_campaigns(self):
        """Start the scheduled campaigns that are due, send the SMS that waited for the quiet hours to end,
        and close the campaigns whose results window is over. A second run changes nothing."""
        now = fields.Datetime.now()
        due = self.search([("state", "=", "scheduled"), ("scheduled_at", "<=", now)])
        for campaign in due:
            campaign._start()
        running = self.search([("state", "=", "running")])
        running._send_pending()
        over = running.filtered(
            lambda campaign: campaign.company_id._shop_crm_today()
            > campaign.start_day + timedelta(days=campaign.results_days - 1)
        )
        over.write({"state": "done"})
        self.env["shop.crm.member.day"]._roll_programs()

    # ---- results (published definitions, lib/campaign.py) -------------------------------------------

    def _window(self):
        self.ensure_one()
        return self.start_day, self.start_day + timedelta(days=self.results_days - 1)

    def _purchases_in_window(self):
        """SQL: per recipient, (partner_id, group, responded, net spend, first purchase day) in the window."""
        first_day, last_day = self._window()
        purchases = self.company_id.sudo()._shop_crm_purchases(since=first_day, until=last_day)
        return SQL(
            """SELECT r.partner_id, r.recipient_group,
                      COALESCE(BOOL_OR(p.amount > 0), FALSE) AS responded,
                      COALESCE(SUM(p.amount), 0) AS spend,
                      MIN(p.day) FILTER (WHERE p.amount > 0) AS first_day
                 FROM shop_crm_campaign_recipient r
                 LEFT JOIN (%s) p ON p.partner_id = r.partner_id
                WHERE r.campaign_id = %s
                GROUP BY r.partner_id, r.recipient_group
            """,
            purchases,
            self.id,
        )

    def results(self):
        """The campaign's results, exactly the published definitions (``lib/campaign.py``)::

        {"treated": {"size", "responders", "response_rate", "spend", "spend_per_customer",
                     "coupons_issued", "coupons_used", "redemption_rate"},
         "control": {"size", "responders", "response_rate", "spend", "spend_per_customer"},
         "lift_pp", "lift_ci95_pp", "incremental_revenue"}
        """
        self.ensure_one()
        self.check_access("read")
        groups = {"treated": (0, 0, 0.0), "control": (0, 0, 0.0)}
        issued = used = 0
        if self.start_day:
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """SELECT w.recipient_group, COUNT(*), COUNT(*) FILTER (WHERE w.responded), SUM(w.spend)
                         FROM (%s) w GROUP BY w.recipient_group
                    """,
                    self._purchases_in_window(),
                )
            )
            for group, size, responders, spend in self.env.cr.fetchall():
                groups[group] = (size, responders, float(spend or 0))
            self.env.cr.execute(
                SQL(
                    """SELECT COUNT(c.id), COUNT(c.id) FILTER (WHERE c.points < %s)
                         FROM shop_crm_campaign_recipient r JOIN loyalty_card c ON c.id = r.coupon_id
                        WHERE r.campaign_id = %s AND r.recipient_group = 'treated'""",
                    COUPON_POINTS,
                    self.id,
                )
            )
            issued, used = self.env.cr.fetchone()
        return rules.results(groups["treated"], groups["control"], issued, used)

    def _results_chart(self, treated_size, control_size):
        """Cumulative responders per day of the window for both groups (counts and % of the group)."""
        self.ensure_one()
        first_day, last_day = self._window()
        last_day = min(last_day, self.company_id._shop_crm_today())
        if last_day < first_day:
            return False
        self.env.cr.execute(
            SQL(
                """SELECT w.recipient_group, w.first_day, COUNT(*) FROM (%s) w
                    WHERE w.first_day IS NOT NULL GROUP BY w.recipient_group, w.first_day""",
                self._purchases_in_window(),
            )
        )
        by_group = {"treated": {}, "control": {}}
        for group, day, count in self.env.cr.fetchall():
            by_group[group][day] = count
        days = (last_day - first_day).days + 1
        series = {
            group: rules.cumulative_by_day(counts, first_day, days) for group, counts in by_group.items()
        }
        sizes = {"treated": treated_size, "control": control_size}
        return {
            "labels": [fields.Date.to_string(day) for day, _count in series["treated"]],
            "datasets": [
                {
                    "group": group,
                    "label": label,
                    "counts": [count for _day, count in series[group]],
                    "rates": [
                        round(100 * count / sizes[group], 2) if sizes[group] else 0
                        for _day, count in series[group]
                    ],
                }
                for group, label in (
                    ("treated", self.env._("Treated")),
                    ("control", self.env._("Control group")),
                )
            ],
        }

    def _results_sentence(self, results):
        lift, ci = results["lift_pp"], results["lift_ci95_pp"]
        if not results["treated"]["size"]:
            return self.env._("No treated recipients.")
        if lift is None:
            return self.env._("No control group: the lift cannot be measured.")
        if lift >= 0:
            return self.env._(
                "+%(lift)s points (±%(ci)s) more customers came back than without the campaign",
                lift=round(lift, 1),
                ci=round(ci, 1),
            )
        return self.env._(
            "%(lift)s points (±%(ci)s) fewer customers came back than without the campaign",
            lift=round(lift, 1),
            ci=round(ci, 1),
        )

    def _local_label(self, moment):
        tz = pytz.timezone(self.company_id._shop_crm_timezone())
        return pytz.utc.localize(moment).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


class ShopCrmCampaignRecipient(models.Model):
    """One customer of a started campaign: group, what was sent, why not, the offer."""

    _name = "shop.crm.campaign.recipient"
    _description = "Campaign Recipient"
    _inherit = ["shop.crm.sms.answer.mixin"]
    _order = "campaign_id, id"
    _rec_name = "partner_id"

    campaign_id = fields.Many2one(
        "shop.crm.campaign", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="campaign_id.company_id", store=True, index=True)
    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, readonly=True)
    recipient_group = fields.Selection(GROUPS, "Group", required=True, readonly=True)
    sms_status = fields.Selection(MESSAGE_STATES, "SMS", default="none", readonly=True)
    sms_reason = fields.Selection(REASONS, "SMS Not Sent Because", readonly=True)
    email_status = fields.Selection(MESSAGE_STATES, "Email", default="none", readonly=True)
    email_reason = fields.Selection(REASONS, "Email Not Sent Because", readonly=True)
    sent_at = fields.Datetime("Messaged At", readonly=True, index=True)
    coupon_id = fields.Many2one("loyalty.card", readonly=True)
    coupon_code = fields.Char(related="coupon_id.code", string="Coupon Code")
    coupon_expiry = fields.Date(related="coupon_id.expiration_date", string="Coupon Valid Until")
    coupon_used = fields.Boolean(compute="_compute_coupon_used")
    points_given = fields.Float(readonly=True, digits=(16, 2))
    tier_name = fields.Char(related="partner_id.tier_id.name", string="Tier")

    _sql_constraints = [
        ("campaign_partner_unique", "UNIQUE(campaign_id, partner_id)", "A customer is a recipient once."),
    ]

    @api.depends("coupon_id.points")
    def _compute_coupon_used(self):
        for recipient in self:
            recipient.coupon_used = bool(recipient.coupon_id) and recipient.coupon_id.points < COUPON_POINTS

    def _sms_gateway_params(self):
        """The template parameters of the campaign SMS for an SMS gateway (name, tier, code, expiry)."""
        self.ensure_one()
        return {
            "name": self.partner_id.name or "",
            "tier": self.tier_name or "",
            "code": self.coupon_code or "",
            "expiry": fields.Date.to_string(self.coupon_expiry) if self.coupon_expiry else "",
        }

    @api.model
    def _shop_crm_sms_answered(self, answers):
        """A refused SMS makes the recipient's SMS "refused" (an accepted resend makes it "sent" again)."""
        ids = super()._shop_crm_sms_answered(answers)
        if ids:
            self.env.cr.execute(
                SQL(
                    """UPDATE shop_crm_campaign_recipient
                          SET sms_status = CASE WHEN sms_gateway_state = 'accepted'
                                                THEN 'sent' ELSE 'failed' END
                        WHERE id = ANY(%s) AND sms_status IN ('sent', 'failed')""",
                    ids,
                )
            )
            self.browse(ids).invalidate_recordset(["sms_status"])
        return ids
