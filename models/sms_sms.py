"""Shop CRM's SMS through the shop's SMS gateway (Aliyun / Tencent Cloud, lib/sms_gateway.py) when one is
set in the settings, else through Odoo's own SMS as before.

Shop CRM marks the SMS it queues (``_shop_crm_mark``: the company, the provider's template code and the
template parameters); ``_send`` hands the marked SMS of a company with a gateway to the provider and the
others to Odoo. The provider's answer is written on the SMS and on the Shop CRM record it was sent for
(``shop.crm.sms.answer.mixin``). A refused SMS is left in error with the provider's code and message: it is
not lost and can be sent again (Odoo's "Resend")."""

import json
import logging

from odoo import api, fields, models
from odoo.tools import SQL

from ..lib import sms_gateway
from .res_company import SMS_GATEWAYS

_logger = logging.getLogger(__name__)

NO_TEMPLATE = "NoTemplateCode"
NOT_CONFIGURED = "GatewayNotConfigured"


class SmsSms(models.Model):
    _inherit = "sms.sms"

    shop_crm_company_id = fields.Many2one(
        "res.company", "Shop CRM Company", readonly=True, index="btree_not_null"
    )
    shop_crm_template_code = fields.Char("Provider Template", readonly=True)
    shop_crm_template_params = fields.Json("Provider Template Parameters", readonly=True)
    shop_crm_gateway = fields.Selection(SMS_GATEWAYS, "Sent Through", readonly=True)
    shop_crm_request_id = fields.Char("Provider Request ID", readonly=True)
    shop_crm_answer_code = fields.Char("Provider Code", readonly=True)
    shop_crm_answer_message = fields.Char("Provider Message", readonly=True)

    @api.model
    def _shop_crm_mark(self, sms, company, template_code, params_by_id):
        """Mark Shop CRM's ``sms`` of ``company`` for its gateway: the provider's ``template_code`` and
        ``params_by_id`` ({sms id: ordered {name: text}}), in one statement."""
        if not sms:
            return sms
        sms.flush_recordset()
        self.env.cr.execute(
            SQL(
                """UPDATE sms_sms s
                      SET shop_crm_company_id = %(company)s, shop_crm_template_code = %(code)s,
                          shop_crm_template_params = v.params
                     FROM unnest(%(ids)s::int[], %(params)s::jsonb[]) AS v(id, params)
                    WHERE s.id = v.id""",
                company=company.id,
                code=template_code or None,
                ids=sms.ids,
                params=[json.dumps(params_by_id.get(sms_id) or {}, ensure_ascii=False) for sms_id in sms.ids],
            )
        )
        sms.invalidate_recordset(
            ["shop_crm_company_id", "shop_crm_template_code", "shop_crm_template_params"]
        )
        return sms

    def _send(self, unlink_failed=False, unlink_sent=True, raise_exception=False):
        routed = self.filtered(
            lambda sms: sms.shop_crm_company_id
            and sms.shop_crm_company_id.sudo().shop_crm_sms_gateway != "odoo"
        )
        others = self - routed
        result = None
        if others:
            result = super(SmsSms, others)._send(
                unlink_failed=unlink_failed, unlink_sent=unlink_sent, raise_exception=raise_exception
            )
        for company, company_sms in routed.grouped("shop_crm_company_id").items():
            company_sms._shop_crm_send_gateway(company, unlink_failed=unlink_failed, unlink_sent=unlink_sent)
        return result

    def _shop_crm_send_gateway(self, company, unlink_failed=False, unlink_sent=True):
        provider = company.sudo().shop_crm_sms_gateway
        problem = company._shop_crm_sms_gateway_problem()
        if problem:
            answers = [sms_gateway.Answer(sms.uuid, False, "", NOT_CONFIGURED, problem) for sms in self]
        else:
            no_template = self.env._("No provider template code for this SMS")
            answers = [
                sms_gateway.Answer(sms.uuid, False, "", NO_TEMPLATE, no_template)
                for sms in self
                if not sms.shop_crm_template_code
            ]
            messages = [
                sms_gateway.Message(
                    sms.uuid, sms.number, sms.shop_crm_template_code, sms.shop_crm_template_params
                )
                for sms in self
                if sms.shop_crm_template_code
            ]
            if messages:
                answers += company._shop_crm_sms_gateway().send(messages)
        _logger.info(
            "Shop CRM: %s SMS through %s: %s accepted",
            len(self),
            provider,
            sum(answer.ok for answer in answers),
        )
        by_uuid = {sms.uuid: sms for sms in self}
        groups = {}
        for answer in answers:
            groups.setdefault((answer.ok, answer.request_id, answer.code, answer.message), []).append(
                answer.key
            )
        sudo_self = self.sudo().with_context(sms_skip_msg_notification=True)
        for (ok, request_id, code, message), keys in groups.items():
            batch = sudo_self.browse([by_uuid[key].id for key in keys])
            values = {
                "shop_crm_gateway": provider,
                "shop_crm_request_id": request_id,
                "shop_crm_answer_code": code,
                "shop_crm_answer_message": (message or "")[:500],
            }
            if ok:
                batch.sms_tracker_id._action_update_from_sms_state("pending")
                batch.write({**values, "state": "pending", "failure_type": False, "to_delete": unlink_sent})
            else:
                batch.sms_tracker_id._action_update_from_provider_error(f"{code}: {message}")
                batch.write(
                    {**values, "state": "error", "failure_type": "unknown", "to_delete": unlink_failed}
                )
        registry = self.env.registry
        for model_name in registry.descendants(["shop.crm.sms.answer.mixin"], "_inherit"):
            if not registry[model_name]._abstract:
                self.env[model_name].sudo()._shop_crm_sms_answered(answers)
        sudo_self.mail_message_id._notify_message_notification_update()
