"""PIPL requests of a customer: a copy of their personal information (JSON and XLSX) or its erasure
(anonymisation that keeps the orders, so sales and statistics stay true). Each request is a record with
who asked the system, when, and a chatter: the log the law asks for."""

import base64

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..lib import privacy

REQUEST_TYPES = [("export", "Export Personal Information"), ("anonymize", "Anonymisation")]

# Text of the customer that anonymisation empties (fields of res.partner, when installed).
PARTNER_CLEARED_FIELDS = (
    "phone",
    "mobile",
    "email",
    "street",
    "street2",
    "zip",
    "city",
    "state_id",
    "country_id",
    "website",
    "function",
    "title",
    "comment",
    "vat",
    "ref",
    "company_name",
    "image_1920",
    "wechat_id",
    "birthday",
    "gender",
    "preference_notes",
    "preferred_channel",
    "source_channel",
    "referred_by_id",
    "member_code",
    "member_since",
    "member_company_id",
    "tier_id",
    "tier_locked",
    "tier_below_since",
)


class ShopCrmPrivacyRequest(models.Model):
    _name = "shop.crm.privacy.request"
    _description = "Personal Information Request"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"

    name = fields.Char("Reference", required=True, readonly=True, copy=False, default="/")
    partner_id = fields.Many2one(
        "res.partner", "Customer", required=True, readonly=True, index=True, ondelete="restrict"
    )
    request_type = fields.Selection(REQUEST_TYPES, "Request", required=True, readonly=True)
    user_id = fields.Many2one(
        "res.users", "Done By", required=True, readonly=True, default=lambda self: self.env.user
    )
    date = fields.Datetime("Done On", required=True, readonly=True, default=fields.Datetime.now)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    note = fields.Text("Reason", help="How the customer asked (e.g. signed form at the counter).")
    export_json = fields.Binary("Export (JSON)", attachment=True, readonly=True, copy=False)
    export_json_name = fields.Char(readonly=True, copy=False)
    export_xlsx = fields.Binary("Export (XLSX)", attachment=True, readonly=True, copy=False)
    export_xlsx_name = fields.Char(readonly=True, copy=False)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("shop.crm.privacy.request") or "/"
        return super().create(vals_list)

    def write(self, vals):
        # The log is append-only: only the files may be cleared (by the customer's anonymisation).
        if (
            set(vals)
            - {"export_json", "export_xlsx", "export_json_name", "export_xlsx_name"}
            - {"message_main_attachment_id"}
        ):
            raise UserError(self.env._("A personal information request cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_log(self):
        raise UserError(self.env._("A personal information request is a log: it cannot be deleted."))

    # ---- entry points ----------------------------------------------------------------------------

    @api.model
    def _check_manager(self):
        if not self.env.user.has_group("shop_crm.group_shop_crm_manager"):
            raise AccessError(self.env._("Only Shop CRM managers handle personal information requests."))

    @api.model
    def _export(self, partner, note=False):
        """Create the export request of ``partner``: one document with their profile, consents,
        important dates, visits, tickets and answers, points ledger, tier history and purchases."""
        self._check_manager()
        partner.ensure_one()
        if partner.shop_crm_anonymized:
            raise UserError(
                self.env._("This customer was anonymised: there is no personal information left.")
            )
        request = self.create({"partner_id": partner.id, "request_type": "export", "note": note})
        sections, meta = request._export_document()
        request.write(
            {
                "export_json": base64.b64encode(privacy.to_json(sections, meta)),
                "export_json_name": f"{request.name.replace('/', '-')}.json",
                "export_xlsx": base64.b64encode(
                    privacy.to_xlsx(sections, meta, meta_title=self.env._("Export"))
                ),
                "export_xlsx_name": f"{request.name.replace('/', '-')}.xlsx",
            }
        )
        request.message_post(
            body=self.env._("Personal information exported by %s.", self.env.user.name),
            subtype_xmlid="mail.mt_note",
        )
        return request

    @api.model
    def _anonymize(self, partner, note=False):
        """Anonymise ``partner`` (irreversible) and log it. Returns the request."""
        self._check_manager()
        partner.ensure_one()
        if partner.shop_crm_anonymized:
            raise UserError(self.env._("This customer was already anonymised."))
        if partner.with_context(active_test=False).user_ids:
            raise UserError(
                self.env._(
                    "This customer has a user account: archive or delete the account before anonymising."
                )
            )
        request = self.create({"partner_id": partner.id, "request_type": "anonymize", "note": note})
        request.sudo()._anonymize_partner(partner.sudo())
        request.message_post(
            body=self.env._("Customer anonymised by %s.", self.env.user.name), subtype_xmlid="mail.mt_note"
        )
        return request

    # ---- export ----------------------------------------------------------------------------------

    def _labels(self, model, fname, value):
        field = self.env[model]._fields[fname]
        return dict(field._description_selection(self.env)).get(value, value) if value else None

    def _export_document(self):
        self.ensure_one()
        partner = self.partner_id.sudo()
        company = self.company_id
        label = self._labels
        profile = {
            "name": partner.name,
            "phone": partner.phone,
            "mobile": partner.mobile,
            "email": partner.email,
            "address": partner._display_address(without_company=True).strip() or None,
            "wechat_id": partner.wechat_id,
            "birthday": partner.birthday,
            "gender": label("res.partner", "gender", partner.gender),
            "preferred_channel": label("res.partner", "preferred_channel", partner.preferred_channel),
            "source_channel": label("res.partner", "source_channel", partner.source_channel),
            "preferences": partner.preference_notes,
            "notes": partner.comment and str(partner.comment),
            "tags": ", ".join(partner.category_id.mapped("name")) or None,
            "member_code": partner.member_code,
            "member_since": partner.member_since,
            "tier": partner.with_company(company).tier_id.name,
            "points": partner.with_company(company).points_balance if partner.member_code else None,
            "staff_member": partner.user_id.name,
            "do_not_contact": partner.do_not_contact,
            "created": partner.create_date,
        }
        profile_columns = [
            ("name", self.env._("Name")),
            ("phone", self.env._("Phone")),
            ("mobile", self.env._("Mobile")),
            ("email", self.env._("Email")),
            ("address", self.env._("Address")),
            ("wechat_id", self.env._("WeChat ID")),
            ("birthday", self.env._("Birthday")),
            ("gender", self.env._("Gender")),
            ("preferred_channel", self.env._("Preferred Contact Channel")),
            ("source_channel", self.env._("Source")),
            ("preferences", self.env._("Preferences")),
            ("notes", self.env._("Notes")),
            ("tags", self.env._("Tags")),
            ("member_code", self.env._("Member Code")),
            ("member_since", self.env._("Member Since")),
            ("tier", self.env._("Member Tier")),
            ("points", self.env._("Points")),
            ("staff_member", self.env._("Staff Member")),
            ("do_not_contact", self.env._("Asked Not to Be Contacted")),
            ("created", self.env._("Customer Since")),
        ]
        consents = [
            {
                "channel": label("shop.crm.consent", "channel", consent.channel),
                "granted": consent.granted,
                "granted_date": consent.granted_date,
                "withdrawn_date": consent.withdrawn_date,
                "note": consent.note,
            }
            for consent in partner.consent_ids
        ]
        occasions = [
            {
                "name": occasion.name,
                "calendar": label("shop.crm.occasion", "calendar_type", occasion.calendar_type),
                "date": occasion.date_label,
                "recurrence": label("shop.crm.occasion", "recurrence", occasion.recurrence),
                "remind_days": occasion.remind_days,
                "note": occasion.note,
            }
            for occasion in partner.occasion_ids
        ]
        visits = [
            {
                "date": visit.date,
                "staff_member": visit.user_id.name,
                "channel": label("shop.crm.visit", "channel", visit.channel),
                "purpose": label("shop.crm.visit", "purpose", visit.purpose),
                "outcome": label("shop.crm.visit", "outcome", visit.outcome),
                "notes": visit.notes,
                "next_date": visit.next_date,
            }
            for visit in partner.visit_ids.sudo()
        ]
        tickets = [
            {
                "reference": ticket.name,
                "received": ticket.received_date,
                "type": label("shop.crm.feedback", "feedback_type", ticket.feedback_type),
                "channel": label("shop.crm.feedback", "channel", ticket.channel),
                "stage": label("shop.crm.feedback", "stage", ticket.stage),
                "description": ticket.description,
                "resolution": ticket.resolution,
                "satisfaction": ticket.satisfaction and int(ticket.satisfaction),
                "nps": ticket.nps if ticket.nps >= 0 else None,
                "comment": ticket.customer_comment,
                "answered": ticket.answered_date,
            }
            for ticket in partner.feedback_ids.sudo()
        ]
        cards = self.env["loyalty.card"].sudo().search([("partner_id", "=", partner.id)])
        member_programs = self.env["res.company"]._shop_crm_member_programs()
        ledger = [
            {
                "date": line.shop_crm_date or line.create_date,
                "program": line.card_id.program_id.name,
                "kind": label("loyalty.history", "shop_crm_kind", line.shop_crm_kind),
                "description": line.description,
                "issued": line.issued,
                "used": line.used,
            }
            for line in cards.filtered(lambda card: card.program_id in member_programs).history_ids.sorted(
                lambda line: (line.shop_crm_date or line.create_date.date(), line.id)
            )
        ]
        tiers = [
            {
                "date": change.date,
                "from": change.from_tier_id.name,
                "to": change.to_tier_id.name,
                "reason": label("shop.crm.tier.history", "reason", change.reason),
            }
            for change in partner.tier_history_ids.sudo()
        ]
        sections = [
            privacy.Section("profile", self.env._("Profile"), profile_columns, [profile]),
            privacy.Section(
                "consents",
                self.env._("Consents"),
                [
                    ("channel", self.env._("Channel")),
                    ("granted", self.env._("Consent Given")),
                    ("granted_date", self.env._("Given On")),
                    ("withdrawn_date", self.env._("Withdrawn On")),
                    ("note", self.env._("Note")),
                ],
                consents,
            ),
            privacy.Section(
                "important_dates",
                self.env._("Important Dates"),
                [
                    ("name", self.env._("Occasion")),
                    ("calendar", self.env._("Calendar")),
                    ("date", self.env._("When")),
                    ("recurrence", self.env._("Recurrence")),
                    ("remind_days", self.env._("Remind Days Before")),
                    ("note", self.env._("Note")),
                ],
                occasions,
            ),
            privacy.Section(
                "visits",
                self.env._("Visits"),
                [
                    ("date", self.env._("Date")),
                    ("staff_member", self.env._("Staff Member")),
                    ("channel", self.env._("Channel")),
                    ("purpose", self.env._("Purpose")),
                    ("outcome", self.env._("Outcome")),
                    ("notes", self.env._("Notes")),
                    ("next_date", self.env._("Next Follow-up")),
                ],
                visits,
            ),
            privacy.Section(
                "tickets",
                self.env._("Feedback and Answers"),
                [
                    ("reference", self.env._("Reference")),
                    ("received", self.env._("Received")),
                    ("type", self.env._("Type")),
                    ("channel", self.env._("Channel")),
                    ("stage", self.env._("Stage")),
                    ("description", self.env._("Description")),
                    ("resolution", self.env._("Resolution")),
                    ("satisfaction", self.env._("Satisfaction (1-5)")),
                    ("nps", self.env._("NPS Answer (0-10)")),
                    ("comment", self.env._("Comment")),
                    ("answered", self.env._("Answered On")),
                ],
                tickets,
            ),
            privacy.Section(
                "points_ledger",
                self.env._("Points Ledger"),
                [
                    ("date", self.env._("Date")),
                    ("program", self.env._("Program")),
                    ("kind", self.env._("Kind")),
                    ("description", self.env._("Description")),
                    ("issued", self.env._("In")),
                    ("used", self.env._("Out")),
                ],
                ledger,
            ),
            privacy.Section(
                "tier_history",
                self.env._("Tier History"),
                [
                    ("date", self.env._("Date")),
                    ("from", self.env._("From")),
                    ("to", self.env._("To")),
                    ("reason", self.env._("Reason")),
                ],
                tiers,
            ),
            privacy.Section(
                "purchases",
                self.env._("Purchases"),
                [
                    ("day", self.env._("Day")),
                    ("date_order", self.env._("Order Date (UTC)")),
                    ("amount", self.env._("Amount")),
                    ("currency", self.env._("Currency")),
                    ("company", self.env._("Shop")),
                ],
                self._purchases(partner),
            ),
        ]
        meta = {
            self.env._("Reference"): self.name,
            self.env._("Shop"): company.name,
            self.env._("Exported By"): self.user_id.name,
            self.env._("Exported On"): self.date,
        }
        return sections, meta

    def _purchases(self, partner):
        """The customer's purchases (and refunds) in each of the user's companies, with their day in the
        shop's timezone (res.company._shop_crm_purchases: one definition of a purchase)."""
        rows = []
        for company in self.env.companies.sudo():
            self.env.cr.execute(
                SQL(
                    "SELECT p.day, p.date_order, p.amount FROM (%s) p WHERE p.partner_id = %s "
                    "ORDER BY p.date_order",
                    company._shop_crm_purchases(),
                    partner.id,
                )
            )
            rows += [
                {
                    "day": day,
                    "date_order": date_order,
                    "amount": company.currency_id.round(float(amount)),
                    "currency": company.currency_id.name,
                    "company": company.name,
                }
                for day, date_order, amount in self.env.cr.fetchall()
            ]
        return rows

    # ---- anonymisation ---------------------------------------------------------------------------

    def _anonymize_partner(self, partner):
        """Remove the personal information of ``partner`` (and of its contacts and addresses) from every
        place Shop CRM and Odoo keep it; keep the orders, attached to the anonymous customer."""
        self.ensure_one()
        env = self.env
        partners = env["res.partner"].with_context(active_test=False).search([("id", "child_of", partner.id)])
        old_names = [name for name in partners.mapped("name") if name]
        quiet = {"mail_notrack": True, "tracking_disable": True, "mail_create_nolog": True}

        # 1. consents withdrawn (dated), member card closed with its balance forfeited
        partners.consent_ids.filtered("granted").action_withdraw()
        partners.consent_ids.write({"note": False})
        cards = env["loyalty.card"].search([("partner_id", "in", partners.ids)])
        member_cards = cards.filtered(
            lambda card: card.program_id in env["res.company"]._shop_crm_member_programs()
        )
        env["shop.crm.points"]._post(
            [
                {
                    "card_id": card.id,
                    "kind": "forfeit",
                    "used": card.points,
                    "description": self.with_context(lang=card.company_id.partner_id.lang).env._(
                        "Member card closed: anonymised on request %s", self.name
                    ),
                }
                for card in member_cards
                if card.points > 0
            ]
        )
        cards.with_context(**quiet).write({"active": False})

        # 2. the customer's own Shop CRM records: free text removed, important dates deleted
        visits = env["shop.crm.visit"].search([("partner_id", "in", partners.ids)])
        tickets = env["shop.crm.feedback"].search([("partner_id", "in", partners.ids)])
        visits.with_context(**quiet).write({"notes": False})
        tickets.with_context(**quiet).write(
            {"description": env._("(anonymised)"), "resolution": False, "customer_comment": False}
        )
        partners.occasion_ids.unlink()
        env["shop.crm.tier.history"].search([("partner_id", "in", partners.ids)]).write({"note": False})
        env["shop.crm.care.log"].search([("partner_id", "in", partners.ids)]).write({"label": False})
        # earlier exports of this customer are personal information too
        env["shop.crm.privacy.request"].search(
            [("partner_id", "in", partners.ids), ("export_json", "!=", False)]
        ).write({"export_json": False, "export_xlsx": False})

        # 3. the contact itself (no tracking: the old values would stay in the chatter)
        vals = {fname: False for fname in PARTNER_CLEARED_FIELDS if fname in partners._fields}
        vals.update(
            category_id=[(5, 0, 0)],
            do_not_contact=True,
            shop_crm_anonymized=True,
            shop_crm_anonymized_date=self.company_id._shop_crm_today(),
        )
        for each in partners:
            each.with_context(**quiet, shop_crm_tier_engine=True).write(
                {**vals, "name": env._("Anonymised customer %s", each.id)}
            )
        # barcode is per company (the member card's scan code)
        # every company, archived ones too (a shop has a few)
        companies = env["res.company"].with_context(active_test=False).search([("id", "!=", 0)])
        for company in companies:
            partners.with_company(company).with_context(**quiet).write({"barcode": False})
        env["res.partner.bank"].search([("partner_id", "in", partners.ids)]).unlink()
        # the POS keeps a copy of the customer's email and mobile on each order; the orders stay
        orders = env["pos.order"].search([("partner_id", "in", partners.ids)])
        orders.with_context(**quiet).write({"email": False, "mobile": False})

        # 4. chatter, activities, attachments, followers, notifications, queued mails and texts
        records = {
            "res.partner": partners.ids,
            "shop.crm.visit": visits.ids,
            "shop.crm.feedback": tickets.ids,
            "loyalty.card": cards.ids,
        }
        on_records = ["|"] * (len(records) - 1)
        for model, ids in records.items():
            on_records += ["&", ("res_model", "=", model), ("res_id", "in", ids)]
        env["mail.activity"].search(on_records).unlink()
        message_domain = ["|"] * len(records) + [("author_id", "in", partners.ids)]
        for model, ids in records.items():
            message_domain += ["&", ("model", "=", model), ("res_id", "in", ids)]
        messages = env["mail.message"].search(message_domain)
        env["ir.attachment"].search(["|", ("id", "in", messages.attachment_ids.ids), *on_records]).unlink()
        env["mail.mail"].search(
            ["|", ("mail_message_id", "in", messages.ids), ("recipient_ids", "in", partners.ids)]
        ).unlink()
        messages.unlink()
        env["mail.notification"].search([("res_partner_id", "in", partners.ids)]).unlink()
        env["mail.followers"].search([("partner_id", "in", partners.ids)]).unlink()
        env["sms.sms"].search([("partner_id", "in", partners.ids)]).unlink()
        # the customer's name as copied into other records' tracking values (e.g. a ticket's customer)
        anonymous = {each.id: each.name for each in partners}
        partner_fields = env["ir.model.fields"].search(
            [("ttype", "=", "many2one"), ("relation", "=", "res.partner")]
        )
        for column in ("old_value_integer", "new_value_integer"):
            trackings = env["mail.tracking.value"].search(
                [("field_id", "in", partner_fields.ids), (column, "in", partners.ids)]
            )
            char = column.replace("integer", "char")
            for tracking in trackings:
                tracking[char] = anonymous[tracking[column]]
        # ledger lines of other members that name this customer (a referral reward)
        lines = env["loyalty.history"].search(
            [("order_model", "=", "res.partner"), ("order_id", "in", partners.ids)]
        )
        for line in lines:
            description = line.description or ""
            for old in old_names:
                description = description.replace(old, anonymous[line.order_id])
            if description != line.description:
                line.with_context(shop_crm_privacy_anonymize=True).write({"description": description})
        # notifications waiting on the bus carry copies of messages and names
        for old in old_names:
            env["bus.bus"].search([("message", "ilike", old)]).unlink()
        env.flush_all()
        partners.invalidate_recordset()
