from collections import Counter

from odoo import api, models
from odoo.tools import format_date, html2plaintext

# An assignee given more activities than this in one batch (a chain's first nightly analytics, a new
# follow-up plan) gets one summary notification instead of one per activity. Core's per-activity
# notification (a rendered message, and an email for users notified by email) costs about 17 ms each:
# 63,603 win-back calls of the benchmark chain would take 18 minutes and send as many emails; the
# batched create without it takes about half a millisecond per activity (README, Performance).
NOTIFY_EACH_MAX = 20


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

    def _shop_crm_follow_ups(self):
        follow_up = self.env.ref("shop_crm.mail_activity_type_follow_up", raise_if_not_found=False)
        return self.filtered(lambda a: a.activity_type_id == follow_up and a.res_model == "res.partner")

    def _action_done(self, feedback=False, attachment_ids=None):
        """A follow-up done is a visit: it is recorded (by whoever did it, with the plan's purpose and the
        feedback as notes) before the activity disappears."""
        follow_ups = self._shop_crm_follow_ups()
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
                "purpose": purposes.get(activity.id, "routine"),
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
        """Done & schedule next on a follow-up opens the visit just recorded: the staff member corrects the
        outcome and sets the next follow-up date, which schedules the next activity."""
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
