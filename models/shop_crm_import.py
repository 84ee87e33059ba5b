"""Import customers (members, balances, tiers, tags, consents, referrals) and purchase history from Excel
or CSV files: ``env["shop.crm.import"].run(path, kind, dry_run=False, skip_errors=False)``.

Reading and validation are in ``lib/spreadsheet_import.py`` (pandas, vectorised); here the rows are
matched with the existing customers in a few set-based queries and written in batches: one ORM ``create``
for the new customers, one UPDATE for the changed ones (followed by ``modified`` so Odoo recomputes what
depends on them), ledger lines through ``shop.crm.points._post``, tier changes through
``shop.crm.tier._record_changes`` and imported purchases with one COPY. Nothing is written by a dry run,
nor when a row has an error and ``skip_errors`` is false; a failure while writing leaves nothing behind
(savepoint).
"""

import io
import os

import numpy as np
import pandas as pd
import psycopg2.extensions
from markupsafe import escape

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..lib import membership
from ..lib import spreadsheet_import as sheet
from .shop_crm_import_job import ImportProgress

KINDS = ("customers", "purchases")
BULK_INSERT_ROWS = 1000  # rows per INSERT of new customers
COPY_ROWS = 100_000  # rows per COPY of imported purchases
PARTNER_COLUMNS = ("name", "mobile", "email", "gender", "birthday", "wechat_id", "comment", "user_id")


def _none(value):
    """None for the pandas / numpy empty values, plain Python values otherwise."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _id(value):
    """A record id from a pandas cell (ints become floats in a column with empty cells), or None."""
    value = _none(value)
    return None if value is None else int(value)


def _notes_html(text):
    return None if text is None else "<p>" + str(escape(text)).replace("\n", "<br>") + "</p>"


class ShopCrmImport(models.AbstractModel):
    _name = "shop.crm.import"
    _description = "Shop CRM customer and purchase import"

    # ---- published entry point ----------------------------------------------------------------------

    @api.model
    def run(self, path, kind, dry_run=False, skip_errors=False):
        """Import the customers or purchases (``kind``) of the .xlsx, .xls or .csv file ``path``. Returns
        ``{"rows", "created", "updated", "unchanged", "errors": [{"row", "column", "message"}]}`` (row: the
        1-based data row; 0 for the file itself). A dry run writes nothing; with errors and without
        ``skip_errors`` nothing is written either (and the counts are 0)."""
        if not self.env.user.has_group("shop_crm.group_shop_crm_manager"):
            raise AccessError(self.env._("Only Shop CRM managers can import customers and purchases."))
        if kind not in KINDS:
            raise UserError(self.env._("The import kind must be 'customers' or 'purchases'."))
        try:
            table = sheet.read_table(path)
        except FileNotFoundError as error:
            raise UserError(self.env._("The file %s does not exist.", path)) from error
        except sheet.FileError as error:
            raise UserError(self._file_error(error)) from error
        company = self.env.company
        file_name = os.path.basename(path)
        planner = self._plan_customers if kind == "customers" else self._plan_purchases
        plan = planner(table, company)
        errors = sorted(
            (
                {"row": issue.row, "column": issue.column, "message": self._message(issue)}
                for issue in plan["issues"]
            ),
            key=lambda error: (error["row"], error["column"]),
        )
        result = {"rows": plan["rows"], "created": 0, "updated": 0, "unchanged": 0, "errors": errors}
        if errors and (not skip_errors or plan.get("fatal")):
            return result
        result.update(created=plan["created"], updated=plan["updated"], unchanged=plan["unchanged"])
        if not dry_run and (plan["created"] or plan["updated"]):
            writer = self._write_customers if kind == "customers" else self._write_purchases
            # rows done / total for a background job (shop.crm.import.job); nothing otherwise
            plan["progress"] = ImportProgress(self.env, plan["rows"])
            plan["progress"](0)
            with self.env.cr.savepoint():
                writer(plan, company, file_name)
            plan["progress"](plan["rows"], final=True)
        return result

    # ---- messages -------------------------------------------------------------------------------------

    def _file_error(self, error):
        return {
            "empty": self.env._("The file is empty."),
            "encoding": self.env._(
                "The file's text is neither UTF-8 nor GBK: save it as UTF-8 CSV or as Excel."
            ),
        }.get(error.code) or self.env._(
            "This file is not a spreadsheet: upload an Excel file (.xlsx, .xls) or a CSV file."
        )

    def _message(self, issue):
        params = issue.params
        messages = {
            "missing_column": lambda: self.env._("The required column %s is missing.", params["column"]),
            "required": lambda: self.env._("This cell is required."),
            "mobile_or_code": lambda: self.env._("A mobile or a member code is required."),
            "bad_member_code": lambda: self.env._("A member code has letters and digits only."),
            "bad_mobile": lambda: self.env._("This is not a valid mobile number."),
            "foreign_mobile": lambda: self.env._("This mobile number is from another country."),
            "bad_email": lambda: self.env._("This is not a valid email address."),
            "bad_gender": lambda: self.env._("Gender must be male, female, other, 男 or 女."),
            "bad_date": lambda: self.env._(
                "Unreadable date: write it as 1990-03-05, 1990/3/5 or 1990年3月5日."
            ),
            "unknown_tier": lambda: self.env._("Unknown member tier: %s.", params["value"]),
            "bad_number": lambda: self.env._("This is not a number."),
            "negative_points": lambda: self.env._("The points balance cannot be negative."),
            "unknown_staff": lambda: self.env._(
                "Unknown staff member (a user's login or name): %s.", params["value"]
            ),
            "bad_yes_no": lambda: self.env._("Write yes or no (是/否, 1/0)."),
            "duplicate_in_file": lambda: self.env._(
                "%(value)s is already in row %(first)s of this file.",
                value=params["value"],
                first=params["first"],
            ),
            "same_customer": lambda: self.env._(
                "This row and row %s are the same existing customer.", params["first"]
            ),
            "unknown_referrer": lambda: self.env._(
                "No customer with this mobile or member code: %s.", params["value"]
            ),
            "unknown_customer": lambda: self.env._("No customer with this member code or mobile."),
            "reference_conflict": lambda: self.env._(
                "Purchase %s was already imported with other values (imported purchases cannot be changed).",
                params["value"],
            ),
        }
        return messages[issue.code]()

    # ---- lookups ----------------------------------------------------------------------------------------

    def _tier_names(self, company):
        """{lower-case name of a tier in any language: tier id} of the company's active tiers."""
        self.env.cr.execute(
            SQL(
                "SELECT t.id, lower(n.value) FROM shop_crm_tier t, jsonb_each_text(t.name) n "
                "WHERE t.company_id = %s AND t.active ORDER BY t.sequence DESC, t.id",
                company.id,
            )
        )
        names = {}
        for tier_id, name in self.env.cr.fetchall():
            names.setdefault(name, tier_id)
        return names

    def _staff_names(self, company):
        users = (
            self.env["res.users"].sudo().search([("share", "=", False), ("company_ids", "in", company.ids)])
        )
        names = {}
        for user in users:
            names.setdefault(user.login.lower(), user.id)
        for user in users:
            names.setdefault((user.name or "").lower(), user.id)
        return names

    def _match(self, company, codes, mobiles, emails):
        """{member code: id}, {normalised mobile: id}, {email: id} of existing customers. A mobile or email
        matches a customer that is not yet a member of the company with another member code (members
        first, then the oldest)."""
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            SQL(
                "SELECT member_code, id FROM res_partner "
                "WHERE member_company_id = %s AND member_code = ANY(%s)",
                company.id,
                list(codes),
            )
        )
        by_code = dict(cr.fetchall())

        def first_by(column, values):
            cr.execute(
                SQL(
                    """SELECT DISTINCT ON (k) k, id FROM (
                           SELECT %(key)s AS k, id, member_company_id = %(company)s AS member
                             FROM res_partner
                            WHERE %(key)s = ANY(%(values)s) AND active AND NOT is_company
                              AND (company_id IS NULL OR company_id = %(company)s)
                              AND NOT EXISTS (SELECT 1 FROM res_company c WHERE c.partner_id = res_partner.id)
                       ) p ORDER BY k, member DESC NULLS LAST, id""",
                    key=column,
                    company=company.id,
                    values=list(values),
                )
            )
            return dict(cr.fetchall())

        by_mobile = first_by(SQL("mobile_normalized"), mobiles) if mobiles else {}
        by_email = first_by(SQL("lower(email)"), emails) if emails else {}
        return by_code, by_mobile, by_email

    # ---- customers: plan ------------------------------------------------------------------------------

    def _plan_customers(self, table, company):
        region = company._shop_crm_phone_region()
        parsed = sheet.validate_customers(
            table, self._tier_names(company), self._staff_names(company), region=region
        )
        issues = list(parsed.issues)
        plan = {"rows": parsed.rows, "issues": issues, "created": 0, "updated": 0, "unchanged": 0}
        if parsed.frame.empty:
            plan["fatal"] = bool(issues)
            return plan
        frame = parsed.frame[~parsed.frame["bad"]].copy()
        codes = set(frame["member_code"].dropna())
        mobiles = set(frame["mobile_normalized"].dropna())
        emails = set(frame["email"].dropna())
        by_code, by_mobile, by_email = self._match(company, codes, mobiles, emails)
        existing_codes = set(by_code)
        frame["partner_id"] = frame["member_code"].map(by_code)
        for key, found in (("mobile_normalized", by_mobile), ("email", by_email)):
            missing = frame["partner_id"].isna()
            frame.loc[missing, "partner_id"] = frame.loc[missing, key].map(found)
        frame["partner_id"] = pd.Series(
            [_id(value) for value in frame["partner_id"]], index=frame.index, dtype=object
        )
        current = self._current_values(company, [int(pid) for pid in frame["partner_id"].dropna().unique()])
        # a customer found by mobile or email who is a member with another code is someone else
        other_code = (
            frame.apply(
                lambda row: row["partner_id"] is not None
                and row["member_code"] is not None
                and current[int(row["partner_id"])]["member_code"] not in (None, row["member_code"]),
                axis=1,
            )
            if len(frame)
            else pd.Series(dtype=bool)
        )
        frame.loc[other_code, "partner_id"] = None
        # two rows of the file are the same existing customer
        matched = frame["partner_id"].dropna()
        repeats = sheet.repeated_rows(matched)
        issues.extend(
            sheet.Issue(int(row), "mobile", "same_customer", {"first": int(first)}) for row, first in repeats
        )
        frame = frame.drop(index=[row for row, _first in repeats])
        # referrers: a member code or a mobile of an existing customer or of another row of this file
        self._resolve_referrers(frame, company, issues)
        bad = {issue.row for issue in issues}
        frame = frame[~frame.index.isin(bad)]
        frame["member"] = frame["member_code"].notna() | frame["tier_id"].notna() | frame["points"].notna()
        imported_points = self._imported_points(company, [int(pid) for pid in frame["partner_id"].dropna()])
        changes = []
        for row in frame.itertuples():
            changes.append(
                self._changes(row, current.get(row.partner_id) if row.partner_id else None, imported_points)
            )
        frame["changes"] = changes
        new = frame["partner_id"].isna()
        plan.update(
            frame=frame,
            existing_codes=existing_codes,
            created=int(new.sum()),
            updated=int((~new & frame["changes"].map(bool)).sum()),
            unchanged=int((~new & ~frame["changes"].map(bool)).sum()),
        )
        return plan

    def _resolve_referrers(self, frame, company, issues):
        wanted = frame[frame["referred_by"].notna()]
        frame["referrer_id"] = None
        frame["referrer_row"] = None
        if wanted.empty:
            return
        by_code, by_mobile, _by_email = self._match(
            company, set(wanted["referred_by"]), set(wanted["referred_by_mobile"].dropna()), set()
        )
        row_by_code = {code: row for row, code in frame["member_code"].dropna().items()}
        row_by_mobile = {}
        for row, mobile in frame["mobile_normalized"].dropna().items():
            row_by_mobile.setdefault(mobile, row)
        for row, value, mobile in zip(
            wanted.index, wanted["referred_by"], wanted["referred_by_mobile"], strict=True
        ):
            row_by_file = row_by_code.get(value) or row_by_mobile.get(mobile)
            partner_id = by_code.get(value) or by_mobile.get(mobile)
            if row_by_file is not None and frame.at[row_by_file, "partner_id"] is None:
                frame.at[row, "referrer_row"] = row_by_file
            elif row_by_file is not None:
                frame.at[row, "referrer_id"] = frame.at[row_by_file, "partner_id"]
            elif partner_id:
                frame.at[row, "referrer_id"] = partner_id
            else:
                issues.append(sheet.Issue(int(row), "referred_by", "unknown_referrer", {"value": value}))

    def _current_values(self, company, partner_ids):
        """The imported fields of existing customers: {id: {field: value}}."""
        if not partner_ids:
            return {}
        self.env.cr.execute(
            SQL(
                """SELECT p.id, p.name, p.mobile, p.mobile_normalized, lower(p.email), p.gender, p.birthday,
                          p.wechat_id, p.comment, p.user_id, p.tier_id,
                          CASE WHEN p.member_company_id = %(company)s THEN p.member_code END,
                          CASE WHEN p.member_company_id = %(company)s THEN p.member_since END,
                          p.referred_by_id,
                          ARRAY(SELECT c.name->>'en_US' FROM res_partner_res_partner_category_rel r
                                  JOIN res_partner_category c ON c.id = r.category_id
                                 WHERE r.partner_id = p.id),
                          ARRAY(SELECT s.channel || ':' || s.granted::text FROM shop_crm_consent s
                                 WHERE s.partner_id = p.id)
                     FROM res_partner p WHERE p.id = ANY(%(ids)s)""",
                company=company.id,
                ids=partner_ids,
            )
        )
        keys = (
            "name",
            "mobile",
            "mobile_normalized",
            "email",
            "gender",
            "birthday",
            "wechat_id",
            "comment",
            "user_id",
            "tier_id",
            "member_code",
            "member_since",
            "referred_by_id",
            "tags",
            "consents",
        )
        current = {}
        for values in self.env.cr.fetchall():
            record = dict(zip(keys, values[1:], strict=True))
            record["tags"] = set(record["tags"])
            record["consents"] = dict(item.split(":") for item in record["consents"])
            current[values[0]] = record
        return current

    def _imported_points(self, company, partner_ids):
        """{partner id: (points imported so far (opening + import adjustments), import adjustments)}."""
        program = company.shop_crm_program_id
        if not partner_ids or not program:
            return {}
        self.env.cr.execute(
            SQL(
                """SELECT c.partner_id, SUM(h.issued - h.used),
                          COUNT(*) FILTER (WHERE h.shop_crm_kind = 'adjust')
                     FROM loyalty_card c JOIN loyalty_history h ON h.card_id = c.id
                    WHERE c.program_id = %s AND c.partner_id = ANY(%s) AND h.order_model = 'res.partner'
                      AND (h.shop_crm_kind = 'opening'
                           OR (h.shop_crm_kind = 'adjust' AND h.order_id = c.partner_id))
                    GROUP BY c.partner_id""",
                program.id,
                partner_ids,
            )
        )
        return {partner_id: (total, count) for partner_id, total, count in self.env.cr.fetchall()}

    def _changes(self, row, current, imported_points):
        """What importing ``row`` changes: {field: new value} (empty: unchanged). Empty cells change
        nothing."""
        wanted = {
            "name": row.name,
            "mobile": row.mobile or None,
            "email": row.email,
            "gender": row.gender,
            "birthday": _none(row.birthday),
            "wechat_id": row.wechat_id,
            "comment": _notes_html(row.notes),
            "user_id": _id(row.user_id),
            "tier_id": _id(row.tier_id),
            "member_code": row.member_code,
            "member_since": _none(row.member_since),
        }
        wanted = {key: value for key, value in wanted.items() if value is not None}
        consents = {
            channel: getattr(row, column)
            for column, channel in sheet.CONSENT_CHANNELS.items()
            if getattr(row, column) is not None
        }
        points = _none(row.points)
        if current is None:
            new = {**wanted, "tags": set(row.tags), "consents": consents, "new": True}
            if points is not None:
                new["points"] = points
            if _id(row.referrer_id):
                new["referred_by_id"] = _id(row.referrer_id)
            return new
        changes = {}
        for key, value in wanted.items():
            old = current[key]
            if key == "mobile":
                if row.mobile_normalized != current["mobile_normalized"]:
                    changes[key] = value
            elif key == "email":
                if value != (old or None):
                    changes[key] = value
            elif old != value:
                changes[key] = value
        if row.member and not current["member_code"] and "member_code" not in changes:
            changes["member_code"] = None  # becomes a member: a code is generated
        tags = set(row.tags) - current["tags"]
        if tags:
            changes["tags"] = tags
        changed_consents = {
            channel: granted
            for channel, granted in consents.items()
            if current["consents"].get(channel) != str(granted).lower()
        }
        if changed_consents:
            changes["consents"] = changed_consents
        if points is not None:
            imported, _count = imported_points.get(row.partner_id, (0.0, 0))
            if abs(imported - points) >= 0.005:
                changes["points"] = points
        if _id(row.referrer_id) and _id(row.referrer_id) != current["referred_by_id"]:
            changes["referred_by_id"] = _id(row.referrer_id)
        return changes

    # ---- customers: write -----------------------------------------------------------------------------

    def _write_customers(self, plan, company, file_name):
        frame = plan["frame"]
        Partner = self.env["res.partner"].sudo().with_company(company)
        today = company._shop_crm_today()
        new = frame[frame["partner_id"].isna()]
        changed = frame[frame["partner_id"].notna() & frame["changes"].map(bool)]
        # member codes for the new members without one: a block of the company's member sequence
        needs_code = [
            row
            for row, changes in frame["changes"].items()
            if changes.get("member_code", "") is None
            or (changes.get("new") and frame.at[row, "member"] and not changes.get("member_code"))
        ]
        codes = dict(zip(needs_code, self._reserve_member_codes(company, len(needs_code)), strict=True))
        tag_ids = self._tag_ids({tag for changes in frame["changes"] for tag in changes.get("tags", ())})
        # The normalised mobile is already known (lib/spreadsheet_import.py, the same lib/phone.py the
        # stored field computes with); phone_validation's sanitised number is the same E.164 form when it
        # reads the number in the same region (the company's country): given, not computed again.
        sanitized = company.country_id.code == company._shop_crm_phone_region()
        vals_list = []
        for row, changes in new["changes"].items():
            vals = {key: changes[key] for key in (*PARTNER_COLUMNS, "member_since") if key in changes}
            if vals.get("mobile"):
                vals["mobile_normalized"] = frame.at[row, "mobile_normalized"]
                if sanitized:
                    vals["phone_sanitized"] = vals["mobile_normalized"]
            code = changes.get("member_code") or codes.get(row)
            if code:
                vals.update(
                    member_code=code,
                    member_company_id=company.id,
                    member_since=changes.get("member_since") or today,
                )
            if changes.get("tags"):
                vals["category_id"] = [Command.set([tag_ids[tag] for tag in changes["tags"]])]
            vals_list.append(vals)
        Quiet = Partner.with_context(
            tracking_disable=True,
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            shop_crm_member_codes_checked=True,
        )
        created = self._create_partners(Quiet, vals_list, plan["progress"])
        frame.loc[new.index, "partner_id"] = created.ids
        partner_of = frame["partner_id"].astype(int).to_dict()
        self._write_barcodes(created.filtered("member_code"), company)
        if not changed.empty:
            self._update_partners(changed, codes, company, today, tag_ids)
        self._write_tiers(frame, partner_of, company, today, file_name, set(created.ids))
        self._write_consents(frame, partner_of, today, file_name)
        self._write_points(frame, partner_of, company, file_name)
        self._write_referrers(frame, partner_of)

    def _create_partners(self, Partner, vals_list, progress):
        """The new customers, created as the ORM's ``create`` does without tracking, with the work that is
        the same for every row done once for the file (core's create costs about 5 ms per contact in
        defaults, cache bookkeeping and precomputations, see bench/import.py):

        - the defaults (``default_get``) and their column values are computed once, not once per row;
        - the rows are inserted in batches of BULK_INSERT_ROWS with the log columns (create/write uid and
          date) as the ORM sets them, the column values converted by their fields
          (``convert_to_column_insert``: HTML sanitised, company-dependent values, dates);
        - the stored computed fields of every module (commercial partner, complete name, normalised
          mobile and email, partner share...) are then marked to compute as the ORM's create does
          (``modified(create=True)``, the given values protected) and computed by the fields' own
          methods, in batches, at the flush;
        - the Python constraints of the written fields run (``_validate_fields``); SQL constraints hold
          by construction.

        What core's create does besides and the import does not need: tracking and the creation message
        (disabled by the import's context anyway), followers (``mail_create_nosubscribe``), the sync with
        a parent company (imported customers have none). Many2many values (tags) are inserted into their
        relation table. Falls back to the ORM's ``create`` when a default is a many2many/one2many or a
        non-stored value, which this path does not write."""
        fields_ = Partner._fields
        # The defaults do not depend on the row: computed once for the file, not once per customer.
        # All fields, as core's create asks (some defaults come from default_get overrides, e.g. lang).
        defaults = Partner.default_get(list(fields_))
        # What the ORM does with the defaults that are no column: non-stored fields without an inverse
        # are only cached (left out here), an empty many2many writes nothing; anything else goes through
        # the ORM's create.
        unused = {
            name
            for name, value in defaults.items()
            if (not fields_[name].store and not fields_[name].inverse)
            or (fields_[name].type == "many2many" and value in ([], [Command.set([])]))
        }
        defaults = {name: value for name, value in defaults.items() if name not in unused}
        if any(not fields_[name].column_type for name in defaults):
            created = Partner.create([{**defaults, **vals} for vals in vals_list])
            Partner.env.flush_all()
            return created
        cr = self.env.cr
        now = cr.now()
        log_access = {
            "create_uid": self.env.uid,
            "create_date": now,
            "write_uid": self.env.uid,
            "write_date": now,
        }
        fixed = {
            name: fields_[name].convert_to_column_insert(value, Partner, defaults)
            for name, value in {**defaults, **log_access}.items()
        }
        relations = [
            name for name in {key for vals in vals_list for key in vals} if not fields_[name].column_type
        ]
        given = sorted({key for vals in vals_list for key in vals} - set(relations))
        columns = sorted(set(fixed) | set(given))
        ids = []
        self.env.flush_all()
        for start in range(0, len(vals_list), BULK_INSERT_ROWS):
            rows = []
            for vals in vals_list[start : start + BULK_INSERT_ROWS]:
                rows.append(
                    tuple(
                        fields_[name].convert_to_column_insert(vals[name], Partner, vals)
                        if name in vals
                        else fixed.get(name)
                        for name in columns
                    )
                )
            cr.execute(
                SQL(
                    "INSERT INTO res_partner (%s) VALUES %s RETURNING id",
                    SQL(", ").join(map(SQL.identifier, columns)),
                    SQL(", ").join(rows),
                )
            )
            ids.extend(partner_id for (partner_id,) in cr.fetchall())
            progress(len(ids))
        created = Partner.browse(ids)
        self._cache_new_partners(created, vals_list, {**defaults, **log_access}, relations)
        for name in relations:  # many2many values (the tags): rows of the relation table
            field = fields_[name]
            pairs = [
                (partner_id, target)
                for partner_id, vals in zip(ids, vals_list, strict=True)
                for command in vals.get(name, ())
                for target in command[2]
            ]
            if field.type != "many2many" or any(
                command[0] != Command.SET for vals in vals_list for command in vals.get(name, ())
            ):
                raise UserError(self.env._("The import cannot write the field %s.", field.string))
            if pairs:
                cr.execute(
                    SQL(
                        "INSERT INTO %s (%s, %s) SELECT * FROM unnest(%s::int[], %s::int[])",
                        SQL.identifier(field.relation),
                        SQL.identifier(field.column1),
                        SQL.identifier(field.column2),
                        [pair[0] for pair in pairs],
                        [pair[1] for pair in pairs],
                    )
                )
        # As the ORM's create: the stored computed fields are to compute, except the given ones (and the
        # fields computed together with them), which are protected; inverse one2many caches are reset.
        protected_by_names = {}
        for partner, vals in zip(created, vals_list, strict=True):  # the defaults count as given values
            protected_by_names.setdefault(frozenset(vals) | frozenset(defaults), []).append(partner.id)
        protected = []
        for names, partner_ids in protected_by_names.items():
            guarded = {
                computed
                for name in names
                for computed in self.pool.field_computed.get(fields_[name], [fields_[name]])
            }
            protected.append((guarded, Partner.browse(partner_ids)))
        for name in columns:
            for inverse in self.pool.field_inverses[fields_[name]]:
                self.env[inverse.model_name].invalidate_model([inverse.name])
        with self.env.protecting(protected):
            created.modified(fields_, create=True)
        created._validate_fields([*columns, *relations])
        Partner.env.flush_all()  # computes in the import's context (no tracking)
        return created

    def _cache_new_partners(self, created, vals_list, common, relations):
        """What the ORM's ``_create`` puts in the cache of new records: their written values, None for
        the stored fields nobody gave, nothing yet for the x2many ones. The stored computed fields then
        compute from the cache instead of reading each row (an empty image is otherwise one attachment
        query per customer). One ``update`` per field for the whole batch."""
        cache = self.env.cache
        count = len(created)
        ids = created.ids
        for name, field in created._fields.items():
            if field.company_dependent:
                continue  # read when needed
            if field.type in ("one2many", "many2many"):
                if name not in relations:
                    cache.update(created, field, [()] * count)
                continue
            if field.related and not field.column_type:
                cache.update(created, field, [field.convert_to_cache(None, created)] * count)
                continue
            if not field.store:
                continue
            given = [index for index, vals in enumerate(vals_list) if name in vals]
            if field.compute and not given:
                continue
            fallback = field.convert_to_cache(common.get(name), created)
            values = [
                field.convert_to_cache(vals[name], created) if name in vals else fallback
                for vals in vals_list
            ]
            if field.compute:  # only the given values of a computed field
                cache.update(
                    created.browse([ids[index] for index in given]),
                    field,
                    [values[index] for index in given],
                )
            else:
                cache.update(created, field, values)

    def _write_barcodes(self, partners, company):
        """The member code is also the new members' barcode (scanned at the till), in one UPDATE; a code
        that is already some contact's barcode is left out (core's unique barcode rule, checked with one
        query for the whole file instead of one per customer)."""
        if not partners:
            return
        codes = dict(zip(partners.ids, partners.mapped("member_code"), strict=True))
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT b.value FROM res_partner p, jsonb_each_text(p.barcode) b "
                "WHERE b.value = ANY(%s)",
                list(codes.values()),
            )
        )
        taken = {value for (value,) in self.env.cr.fetchall()}
        ids = [partner_id for partner_id, code in codes.items() if code not in taken]
        self.env.cr.execute(
            SQL(
                """UPDATE res_partner p
                      SET barcode = COALESCE(p.barcode, '{}'::jsonb) || jsonb_build_object(%s::text, v.code)
                     FROM unnest(%s::int[], %s::varchar[]) AS v(id, code)
                    WHERE p.id = v.id""",
                str(company.id),
                ids,
                [codes[partner_id] for partner_id in ids],
            )
        )
        partners.invalidate_recordset(["barcode"])

    def _member_cards(self, partners, company):
        """{partner id: card} of the company's member program, the missing cards inserted in one statement
        (Odoo's card create checks each new code with a query of its own and logs a message per card)."""
        cards = self.env["shop.crm.points"].sudo()._member_cards(partners, company, create=False)
        missing = [partner_id for partner_id in partners.ids if partner_id not in cards]
        if missing:
            program = company._shop_crm_member_program()
            Card = self.env["loyalty.card"].sudo()
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """INSERT INTO loyalty_card (program_id, company_id, partner_id, code, points, active,
                                                 create_uid, create_date, write_uid, write_date)
                       SELECT %(program)s, %(company)s, v.partner_id, v.code, 0, TRUE,
                              %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                         FROM unnest(%(partners)s::int[], %(codes)s::varchar[]) AS v(partner_id, code)
                    RETURNING partner_id, id""",
                    program=program.id,
                    company=program.company_id.id or None,
                    uid=self.env.uid,
                    partners=missing,
                    codes=self._new_card_codes(Card, len(missing)),
                )
            )
            cards.update({partner_id: Card.browse(card_id) for partner_id, card_id in self.env.cr.fetchall()})
            self.env["res.partner"].invalidate_model(["member_card_id", "points_balance"])
        return cards

    def _new_card_codes(self, Card, count):
        """``count`` new card codes from loyalty's own generator, unique among themselves and among the
        existing cards (its codes carry about 9 random hex digits: among 100,000 new cards a repeat is
        likely, and the unique code would fail the whole import); repeats are drawn again."""
        codes, drawn = [], set()
        while len(codes) < count:
            batch = {Card._generate_code() for _index in range(count - len(codes))} - drawn
            drawn |= batch
            self.env.cr.execute(SQL("SELECT code FROM loyalty_card WHERE code = ANY(%s)", list(batch)))
            codes.extend(batch - {code for (code,) in self.env.cr.fetchall()})
        return codes

    def _reserve_member_codes(self, company, count):
        if not count:
            return []
        sequence = company._shop_crm_member_sequence()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE ir_sequence SET number_next = number_next + %s WHERE id = %s "
                "RETURNING number_next - %s",
                count,
                sequence.id,
                count,
            )
        )
        first = self.env.cr.fetchone()[0]
        sequence.invalidate_recordset(["number_next"])
        return [membership.member_code(first + index) for index in range(count)]

    def _tag_ids(self, names):
        """{tag name: res.partner.category id}, creating the missing tags."""
        if not names:
            return {}
        Category = self.env["res.partner.category"].sudo()
        found = {tag.name: tag.id for tag in Category.search([("name", "in", list(names))])}
        missing = sorted(names - set(found))
        if missing:
            found.update({tag.name: tag.id for tag in Category.create([{"name": name} for name in missing])})
        return found

    def _update_partners(self, changed, codes, company, today, tag_ids):
        """One UPDATE of the changed customers' columns (unchanged cells keep their value), then Odoo
        recomputes what depends on them (normalised mobile and email, display names)."""
        ids, columns = [], {key: [] for key in (*PARTNER_COLUMNS, "member_code", "member_since")}
        for row, changes in changed["changes"].items():
            ids.append(int(changed.at[row, "partner_id"]))
            for key, values in columns.items():
                values.append(changes.get(key))
            if "member_code" in changes:
                columns["member_code"][-1] = changes["member_code"] or codes[row]
                columns["member_since"][-1] = changes.get("member_since") or today
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE res_partner p
                      SET name = COALESCE(v.name, p.name), mobile = COALESCE(v.mobile, p.mobile),
                          email = COALESCE(v.email, p.email), gender = COALESCE(v.gender, p.gender),
                          birthday = COALESCE(v.birthday, p.birthday),
                          wechat_id = COALESCE(v.wechat_id, p.wechat_id),
                          comment = COALESCE(v.comment, p.comment),
                          user_id = COALESCE(v.user_id, p.user_id),
                          member_code = COALESCE(v.member_code, p.member_code),
                          member_since = COALESCE(v.member_since, p.member_since),
                          member_company_id = CASE WHEN v.member_code IS NULL THEN p.member_company_id
                                                   ELSE %(company)s END,
                          write_uid = %(uid)s, write_date = NOW() AT TIME ZONE 'UTC'
                     FROM unnest(%(ids)s::int[], %(name)s::varchar[], %(mobile)s::varchar[],
                                 %(email)s::varchar[],
                                 %(gender)s::varchar[], %(birthday)s::date[], %(wechat_id)s::varchar[],
                                 %(comment)s::text[], %(user_id)s::int[], %(member_code)s::varchar[],
                                 %(member_since)s::date[])
                          AS v(id, name, mobile, email, gender, birthday, wechat_id, comment, user_id,
                               member_code,
                               member_since)
                    WHERE p.id = v.id""",
                company=company.id,
                uid=self.env.uid,
                ids=ids,
                **columns,
            )
        )
        partners = self.env["res.partner"].sudo().browse(ids)
        fnames = [*PARTNER_COLUMNS, "member_code", "member_since", "member_company_id"]
        partners.invalidate_recordset(fnames)
        partners.modified(fnames)
        pairs = [
            (int(changed.at[row, "partner_id"]), tag_ids[tag])
            for row, changes in changed["changes"].items()
            for tag in changes.get("tags", ())
        ]
        if pairs:
            self.env.cr.execute(
                SQL(
                    """INSERT INTO res_partner_res_partner_category_rel (partner_id, category_id)
                       SELECT * FROM unnest(%s::int[], %s::int[]) ON CONFLICT DO NOTHING""",
                    [pair[0] for pair in pairs],
                    [pair[1] for pair in pairs],
                )
            )
            partners.invalidate_recordset(["category_id"])
        self.env.flush_all()

    def _write_tiers(self, frame, partner_of, company, today, file_name, created_ids):
        """An imported tier is a manual tier change (reason "import"): the normal rules re-evaluate it after
        the grace period unless a manager locks it. Existing customers get a chatter note of the change;
        the customers created by this import only their tier history line (no note of their creation
        either)."""
        rows = [
            (row, changes["tier_id"]) for row, changes in frame["changes"].items() if changes.get("tier_id")
        ]
        if not rows:
            return
        ids = [partner_of[row] for row, _tier in rows]
        self.env.cr.execute(
            SQL(
                """UPDATE res_partner p SET tier_id = v.tier_id, tier_below_since = NULL
                     FROM (SELECT * FROM unnest(%s::int[], %s::int[]) AS v(id, tier_id)) v
                     JOIN res_partner old ON old.id = v.id
                    WHERE p.id = v.id
                RETURNING p.id, old.tier_id, v.tier_id""",
                ids,
                [tier for _row, tier in rows],
            )
        )
        changes = [(pid, old, new, "import") for pid, old, new in self.env.cr.fetchall() if old != new]
        self.env["res.partner"].invalidate_model(["tier_id", "tier_below_since"])
        self.env["shop.crm.tier"].sudo()._record_changes(
            company,
            changes,
            today,
            note=file_name,
            log_partner_ids={change[0] for change in changes} - created_ids,
        )

    def _write_consents(self, frame, partner_of, today, file_name):
        partners, channels, granted = [], [], []
        for row, changes in frame["changes"].items():
            for channel, answer in changes.get("consents", {}).items():
                partners.append(partner_of[row])
                channels.append(channel)
                granted.append(bool(answer))
        if not partners:
            return
        self.env.cr.execute(
            SQL(
                """INSERT INTO shop_crm_consent
                       (partner_id, channel, granted, granted_date, withdrawn_date, note,
                                                 create_uid, create_date, write_uid, write_date)
                   SELECT v.partner_id, v.channel, v.granted, CASE WHEN v.granted THEN %(today)s END,
                          CASE WHEN NOT v.granted THEN %(today)s END, %(note)s,
                          %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                     FROM unnest(%(partners)s::int[], %(channels)s::varchar[], %(granted)s::bool[])
                          AS v(partner_id, channel, granted)
                   ON CONFLICT (partner_id, channel) DO UPDATE
                      SET granted = EXCLUDED.granted,
                          granted_date = COALESCE(EXCLUDED.granted_date, shop_crm_consent.granted_date),
                          withdrawn_date = EXCLUDED.withdrawn_date, note = EXCLUDED.note,
                          write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date""",
                today=today,
                note=self.env._("Imported from %s", file_name),
                uid=self.env.uid,
                partners=partners,
                channels=channels,
                granted=granted,
            )
        )
        self.env["shop.crm.consent"].invalidate_model()

    def _write_points(self, frame, partner_of, company, file_name):
        """The opening balance: one "Opening balance" ledger line per customer (the ledger's unique key makes
        it once); a different balance in a later file posts the difference as an adjustment named after the
        file. The card's balance stays the sum of its ledger (``shop.crm.points._post``)."""
        Points = self.env["shop.crm.points"].sudo()
        members = (
            self.env["res.partner"].sudo().browse([partner_of[row] for row in frame.index[frame["member"]]])
        )
        cards = self._member_cards(members, company)  # every member has a card
        rows = {row: changes["points"] for row, changes in frame["changes"].items() if "points" in changes}
        if not rows:
            return
        partners = self.env["res.partner"].sudo().browse([partner_of[row] for row in rows])
        imported = self._imported_points(company, partners.ids)
        opening = self.env._("Opening balance")
        entries = []
        for row, points in rows.items():
            partner_id = partner_of[row]
            card = cards[partner_id]
            common = {"card_id": card.id, "order_model": "res.partner", "order_id": partner_id}
            if partner_id not in imported:
                entries.append({**common, "kind": "opening", "issued": points, "description": opening})
                continue
            total, count = imported[partner_id]
            difference = round(points - total, 2)
            entries.append(
                {
                    **common,
                    "kind": "adjust",
                    "round": count + 1,
                    "issued": max(difference, 0.0),
                    "used": min(-difference, card.points) if difference < 0 else 0.0,
                    "description": self.env._("Import adjustment: %s", file_name),
                }
            )
        Points._post(entries)

    def _write_referrers(self, frame, partner_of):
        pairs = []
        for row in frame.index:
            referrer_row = frame.at[row, "referrer_row"]
            changes = frame.at[row, "changes"]
            if referrer_row is not None:
                pairs.append((partner_of[row], partner_of[referrer_row]))
            elif changes.get("referred_by_id"):
                pairs.append((partner_of[row], changes["referred_by_id"]))
        if not pairs:
            return
        partners = self.env["res.partner"].sudo().browse([pair[0] for pair in pairs])
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE res_partner p SET referred_by_id = v.referrer
                     FROM unnest(%s::int[], %s::int[]) AS v(id, referrer) WHERE p.id = v.id""",
                [pair[0] for pair in pairs],
                [pair[1] for pair in pairs],
            )
        )
        partners.invalidate_recordset(["referred_by_id"])
        partners._check_referred_by()

    # ---- purchases ------------------------------------------------------------------------------------

    def _plan_purchases(self, table, company):
        parsed = sheet.validate_purchases(table, region=company._shop_crm_phone_region())
        issues = list(parsed.issues)
        plan = {"rows": parsed.rows, "issues": issues, "created": 0, "updated": 0, "unchanged": 0}
        if parsed.frame.empty:
            plan["fatal"] = bool(issues)
            return plan
        frame = parsed.frame[~parsed.frame["bad"]].copy()
        by_code, by_mobile, _by_email = self._match(
            company, set(frame["member_code"].dropna()), set(frame["mobile_normalized"].dropna()), set()
        )
        partner = frame["member_code"].map(by_code)
        partner = partner.where(partner.notna(), frame["mobile_normalized"].map(by_mobile))
        unknown = partner.isna()
        column = np.where(frame["member_code"].notna(), "member_code", "mobile")
        issues.extend(
            sheet.Issue(int(row), str(col), "unknown_customer")
            for row, col in zip(frame.index[unknown], column[unknown.to_numpy()], strict=True)
        )
        frame["partner_id"] = partner
        frame = frame[~unknown]
        self.env.cr.execute(
            SQL(
                """SELECT reference, partner_id, date, amount::float8, items, channel
                     FROM shop_crm_legacy_purchase WHERE company_id = %s AND reference = ANY(%s)""",
                company.id,
                list(frame["reference"]),
            )
        )
        existing = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        known = frame["reference"].isin(existing.keys())
        same = (
            frame[known].apply(
                lambda row: existing[row["reference"]][0] == int(row["partner_id"])
                and existing[row["reference"]][1] == row["date"]
                and abs(existing[row["reference"]][2] - row["amount"]) < 1e-6
                and (existing[row["reference"]][3] or None) == row["items"]
                and (existing[row["reference"]][4] or None) == row["channel"],
                axis=1,
            )
            if known.any()
            else pd.Series(dtype=bool)
        )
        conflict = same[~same].index if len(same) else []
        issues.extend(
            sheet.Issue(int(row), "reference", "reference_conflict", {"value": frame.at[row, "reference"]})
            for row in conflict
        )
        new = frame[~known]
        plan.update(frame=new, created=len(new), unchanged=int(known.sum()) - len(conflict))
        return plan

    def _write_purchases(self, plan, company, file_name):
        """The new purchases COPied into shop_crm_legacy_purchase from a buffer pandas writes, with the
        columns the ORM sets (company, create/write uid and date: the transaction's time, as ``create``);
        then the ORM cache of the model is invalidated. The unique reference per company makes a
        concurrent duplicate fail the whole import."""
        frame = plan["frame"]
        now = fields.Datetime.to_string(self.env.cr.now())
        out = pd.DataFrame(
            {
                "partner_id": frame["partner_id"].astype(int),
                "company_id": company.id,
                "date": frame["date"].astype(str),
                "amount": frame["amount"],
                "reference": frame["reference"],
                "items": frame["items"],
                "channel": frame["channel"],
                "import_file": file_name,
                "create_uid": self.env.uid,
                "write_uid": self.env.uid,
                "create_date": now,
                "write_date": now,
            }
        )
        self.env.flush_all()
        # as in core (ir.model.data): no asynchronous wait callback (gevent) during a COPY
        callback = psycopg2.extensions.get_wait_callback()
        psycopg2.extensions.set_wait_callback(None)
        try:
            # in blocks of COPY_ROWS rows (one COPY each, in the same transaction) for the progress
            for start in range(0, len(out), COPY_ROWS):
                buffer = io.StringIO()
                out.iloc[start : start + COPY_ROWS].to_csv(buffer, index=False, header=False, na_rep="")
                self.env.cr.copy_expert(
                    "COPY shop_crm_legacy_purchase (partner_id, company_id, date, amount, reference, items, "
                    "channel, import_file, create_uid, write_uid, create_date, write_date) "
                    "FROM STDIN WITH (FORMAT csv)",
                    io.BytesIO(buffer.getvalue().encode()),
                )
                plan["progress"](start + COPY_ROWS)
        finally:
            psycopg2.extensions.set_wait_callback(callback)
        self.env["shop.crm.legacy.purchase"].invalidate_model()
