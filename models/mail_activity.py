from collections import Counter, defaultdict

from odoo import api, fields, models
from odoo.tools import format_date, html2plaintext

# An assignee given more activities than this in one batch (a chain's first nightly analytics, a new
# follow-up plan) gets one summary notification instead of one per activity. Core's per-activity
# notification (a rendered message, and an email for users notified by email) costs about 17 ms each:
# 63,603 win-back calls of the benchmark chain would take 18 minutes and send as many emails; the
# batched create without it costs a fraction of a millisecond per activity (README, Performance).
NOTIFY_EACH_MAX = 20
# Activities that are contacts with the customer, and the purpose of the visit each records when done.
VISIT_ACTIVITY_TYPES = {
    "shop_crm.mail_activity_type_follow_up": "routine",
    "shop_crm.mail_activity_type_churn_warning": "win_back",
    "shop_crm.mail_activity_type_care": "care",
}


def batch_defaults(model, values, compute):
    """The create values ``values`` of ``model`` completed with its default values by ``compute`` (core's
    ``_add_missing_default_values``), computed once per environment and set of given field names when
    the context holds a ``shop_crm_defaults_memo`` dictionary (``_shop_crm_create_batch``). The defaults
    of activities and followers depend on the environment (user, context, today), never on a record's
    values, so every record of the batch gets the same ones; core computes them again for each record (a
    ``default_get`` over every missing field and a cached lookup of the user defaults, per activity and
    per follower)."""
    memo = model.env.context.get("shop_crm_defaults_memo")
    if memo is None:
        return compute(values)
    key = (model.env, model._name, frozenset(values))  # one environment: one user, context and company
    defaults = memo.get(key)
    if defaults is None:
        completed = compute(values)
        defaults = memo[key] = {name: value for name, value in completed.items() if name not in values}
        return completed
    return {**defaults, **values}


class MailActivity(models.Model):
    _inherit = "mail.activity"

    # ---- batched creation: the same records as core creates, without its per-activity costs --------

    # Stored computed fields computed before the insert (core computes them after it, one activity at a
    # time for the record name, and writes them with an UPDATE per 100 activities at the next flush).
    res_name = fields.Char(compute="_compute_res_name", store=True, precompute=True)
    date_done = fields.Date(compute="_compute_date_done", store=True, precompute=True)
    user_tz = fields.Selection(related="user_id.tz", store=True, precompute=True)

    def _compute_res_name(self):
        """Core's record name of each activity, read for all the records of a model at once (core
        browses each record on its own: one query per activity when many are computed together)."""
        for model, activities in self.grouped("res_model").items():
            if not model:
                activities.res_name = False
                continue
            records = self.env[model].browse(activities.mapped("res_id"))
            for activity in activities:
                activity.res_name = records.browse(activity.res_id).with_prefetch(records._ids).display_name

    @api.model
    def _add_missing_default_values(self, values):
        return batch_defaults(self, values, super()._add_missing_default_values)

    @api.model
    def _add_precomputed_values(self, vals_list):
        """The precomputed fields of new open activities on records (document model, record name, the
        assignee's timezone, no done date), each read once per model, record and user for the whole
        batch; core's generic precomputation builds a new record for each activity and computes them on
        it one at a time. Other values (an activity created archived, ...) are left to core."""
        precomputed = {self._fields[name] for name in ("res_model", "res_name", "user_tz", "date_done")}
        todo = [
            vals
            for vals in vals_list
            if vals.get("active", True)
            and all(
                isinstance(vals.get(name), int) and vals[name]
                for name in ("res_model_id", "res_id", "user_id")
            )
            and not any(field.name in vals for field in precomputed)
        ]
        if todo:
            sudo = self.sudo()  # as core computes them (compute_sudo, related fields)
            model_names = {
                model.id: model.model
                for model in sudo.env["ir.model"].browse({vals["res_model_id"] for vals in todo})
            }
            res_ids = defaultdict(set)
            for vals in todo:
                res_ids[model_names[vals["res_model_id"]]].add(vals["res_id"])
            names = {}
            for model, ids in res_ids.items():
                records = sudo.env[model].browse(sorted(ids))
                names[model] = dict(zip(records._ids, records.mapped("display_name"), strict=True))
            users = sudo.env["res.users"].browse({vals["user_id"] for vals in todo})
            timezones = {user.id: user.tz for user in users}
            for vals in todo:
                model = model_names[vals["res_model_id"]]
                vals.update(
                    res_model=model,
                    res_name=names[model][vals["res_id"]],
                    user_tz=timezones[vals["user_id"]],
                    date_done=False,
                )
        result = super()._add_precomputed_values(vals_list)
        for vals in todo:  # as core marks the values it precomputes (not written back through an inverse)
            vals.setdefault("__precomputed__", set()).update(precomputed)
        return result

    def _classify_by_model(self):
        """Core's classification of the activities by document model, built in one pass (core adds the
        activities to a recordset one at a time: quadratic in the number of activities created together)."""
        activity_ids = defaultdict(list)
        record_ids = defaultdict(list)
        for activity in self.filtered(lambda act: act.res_model and act.res_id):
            activity_ids[activity.res_model].append(activity.id)
            record_ids[activity.res_model].append(activity.res_id)
        return {
            model: {"activities": self.env["mail.activity"].browse(ids), "record_ids": record_ids[model]}
            for model, ids in activity_ids.items()
        }

    @api.model
    def _shop_crm_create_batch(self, vals_list):
        """Create activities in batched ``create`` calls, as core does: their assignees follow the
        records, their activity counters move over the bus, and each assignee is notified of each
        activity, except that an assignee given more than NOTIFY_EACH_MAX activities at once gets one
        summary notification for them all. The defaults of the activities and of their followers are
        computed once for the batch (``batch_defaults``)."""
        per_user = Counter(vals["user_id"] for vals in vals_list)
        bulk_users = {user_id for user_id, count in per_user.items() if count > NOTIFY_EACH_MAX}
        each = [vals for vals in vals_list if vals["user_id"] not in bulk_users]
        bulk = [vals for vals in vals_list if vals["user_id"] in bulk_users]
        batch = self.with_context(shop_crm_defaults_memo={})
        activities = batch.create(each) if each else self.browse()
        if bulk:
            created = batch.with_context(mail_activity_quick_update=True).create(bulk).with_env(self.env)
            created._shop_crm_notify_summary()
            activities |= created
        return activities.with_env(self.env)

    def _shop_crm_notify_summary(self):
        """One "assigned to you" notification per assignee (other than the current user, as in core) for
        all of these activities, in the assignee's language, pointing to their work queue."""
        for user, activities in self.grouped("user_id").items():
            if not user or user == self.env.user:
                continue
            env = self.with_context(lang=user.lang or self.env.lang).env
            types = ", ".join(sorted(set(activities.activity_type_id.with_env(env).mapped("name"))))
            first = min(activities.mapped("date_deadline"))
            self.env["mail.thread"].sudo().message_notify(
                partner_ids=user.partner_id.ids,
                subject=env._(
                    "%(count)s activities assigned to you: %(types)s", count=len(activities), types=types
                ),
                body=env._(
                    "%(count)s new activities (%(types)s) were assigned to you, the first due on %(date)s. "
                    "They are in Shop CRM → Customers → Follow-ups Today.",
                    count=len(activities),
                    types=types,
                    date=format_date(env, first),
                ),
                email_layout_xmlid="mail.mail_notification_layout",
            )

    def _shop_crm_visit_purposes(self):
        """{activity type: the purpose of the visit it records when done}: the customer contacts that Shop
        CRM schedules (follow-ups, win-back calls, care)."""
        purposes = {}
        for xmlid, purpose in VISIT_ACTIVITY_TYPES.items():
            activity_type = self.env.ref(xmlid, raise_if_not_found=False)
            if activity_type:
                purposes[activity_type] = purpose
        return purposes

    def _shop_crm_follow_ups(self):
        """The activities among these that record a visit when done (on customers)."""
        types = self._shop_crm_visit_purposes()
        return self.filtered(lambda a: a.activity_type_id in types and a.res_model == "res.partner")

    def _action_done(self, feedback=False, attachment_ids=None):
        """A follow-up, win-back call or care activity done is a visit: it is recorded (by whoever did it,
        with the plan's purpose for a plan's follow-up, win-back or care otherwise, and the feedback as
        notes) before the activity disappears."""
        follow_ups = self._shop_crm_follow_ups()
        types = self._shop_crm_visit_purposes()
        purposes = {}
        if follow_ups:
            history = (
                self.env["shop.crm.followup.history"].sudo().search([("activity_id", "in", follow_ups.ids)])
            )
            purposes = {line.activity_id.id: line.rule_id.purpose for line in history}
        vals_list = [
            {
                "partner_id": activity.res_id,
                "user_id": self.env.user.id,
                "purpose": purposes.get(activity.id, types[activity.activity_type_id]),
                "outcome": "reached",
                "notes": html2plaintext(feedback) if feedback else activity.summary or False,
            }
            for activity in follow_ups
        ]
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        visits = self.env["shop.crm.visit"].create(vals_list) if vals_list else self.env["shop.crm.visit"]
        self.env.context.get("shop_crm_visits", []).extend(visits.ids)
        return result

    def action_feedback_schedule_next(self, feedback=False, attachment_ids=None):
        """Done & schedule next on a follow-up (or win-back call, or care) opens the visit just recorded:
        the staff member corrects the outcome and sets the next follow-up date, which schedules the next
        activity."""
        if len(self) != 1 or not self._shop_crm_follow_ups():
            return super().action_feedback_schedule_next(feedback=feedback, attachment_ids=attachment_ids)
        created = []
        self.with_context(shop_crm_visits=created)._action_done(
            feedback=feedback, attachment_ids=attachment_ids
        )
        return {
            "name": self.env._("Record the Visit"),
            "type": "ir.actions.act_window",
            "res_model": "shop.crm.visit",
            "res_id": created[0],
            "views": [(False, "form")],
            "target": "new",
        }

    # ---- done date: the shop's day (the KPIs compare it with the deadline) ---------------------------

    def write(self, vals):
        """Core stores the UTC date of the moment an activity is done (archived); Shop CRM stores the
        shop's day, taken when it is done (an activity done at 01:00 in Shanghai is done that day, not the
        UTC day before), so "done on or before the deadline" compares two shop days."""
        if vals.get("active") is False and "date_done" not in vals:
            vals = {**vals, "date_done": self.env.company._shop_crm_today()}
        return super().write(vals)
