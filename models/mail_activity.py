from collections import Counter

from odoo import api, models
from odoo.tools import format_date, html2plaintext

# An assignee given more activities than this in one batch (a chain's first nightly analytics, a new
# follow-up plan) gets one summary notification instead of one per activity. Core's per-activity
# notification (a rendered message, and an email for users notified by email) costs about 17 ms each:
# 63,603 win-back calls of the benchmark chain would take 18 minutes and send as many emails; the
# batched create without it takes about half a millisecond per activity (README, Performance).
NOTIFY_EACH_MAX = 20
# Activities that are contacts with the customer, and the purpose of the visit each records when done.
VISIT_ACTIVITY_TYPES = {
    "shop_crm.mail_activity_type_follow_up": "routine",
    "shop_crm.mail_activity_type_churn_warning": "win_back",
    "shop_crm.mail_activity_type_care": "care",
}


class MailActivity(models.Model):
    _inherit = "mail.activity"

    @api.model
    def _shop_crm_create_batch(self, vals_list):
        """Create activities in batched ``create`` calls, as core does: their assignees follow the
        records, their activity counters move over the bus, and each assignee is notified of each
        activity, except that an assignee given more than NOTIFY_EACH_MAX activities at once gets one
        summary notification for them all."""
        per_user = Counter(vals["user_id"] for vals in vals_list)
        bulk_users = {user_id for user_id, count in per_user.items() if count > NOTIFY_EACH_MAX}
        each = [vals for vals in vals_list if vals["user_id"] not in bulk_users]
        bulk = [vals for vals in vals_list if vals["user_id"] in bulk_users]
        activities = self.create(each) if each else self.browse()
        if bulk:
            created = self.with_context(mail_activity_quick_update=True).create(bulk)
            created._shop_crm_notify_summary()
            activities |= created
        return activities

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
