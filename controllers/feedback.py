from werkzeug.urls import url_encode

from odoo import http
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.exceptions import AccessError, MissingError
from odoo.http import request


class ShopCrmFeedbackPage(http.Controller):
    """The public feedback links: a customer rates a ticket, or a paid POS order (a QR code on the
    receipt), without logging in: the link leads to the company's satisfaction questionnaire (Odoo survey,
    the answer linked to the order or ticket), or, without one, to a one-question page, through the
    record's ``portal.mixin`` access token (``/shop_crm/feedback/<id>?access_token=...``,
    ``/shop_crm/feedback/order/<id>?access_token=...``).
    Rating an order creates its ticket. Links of the earlier form, with the token in the path, redirect
    to these."""

    @staticmethod
    def _document(model, record_id, access_token):
        """The record (sudo) when ``access_token`` is its portal token (or the user may read it), else
        None: the portal's own check."""
        try:
            return CustomerPortal()._document_check_access(model, record_id, access_token=access_token)
        except (AccessError, MissingError):
            return None

    def _render_form(self, record, access_token, error=False, status=200):
        path = (
            f"/shop_crm/feedback/{record.id}"
            if record._name == "shop.crm.feedback"
            else f"/shop_crm/feedback/order/{record.id}"
        )
        values = {
            "company": record.company_id,
            "reference": record.name
            if record._name == "shop.crm.feedback"
            else record.pos_reference or record.name,
            "action": f"{path}?{url_encode({'access_token': access_token or ''})}",
            "error": error,
        }
        return request.render("shop_crm.feedback_page", values, status=status)

    @staticmethod
    def _answer(satisfaction, nps, comment):
        try:
            satisfaction, nps = int(satisfaction), int(nps)
        except (TypeError, ValueError):
            return None
        if satisfaction not in range(1, 6) or nps not in range(0, 11):
            return None
        return satisfaction, nps, (comment or "").strip()[:2000]

    def _open_ticket(self, ticket_id, access_token):
        ticket = self._document("shop.crm.feedback", ticket_id, access_token)
        return ticket if ticket and ticket._public_ticket_open() else None

    def _open_order(self, order_id, access_token):
        order = self._document("pos.order", order_id, access_token)
        return order if order and request.env["shop.crm.feedback"]._public_order_open(order) else None

    @staticmethod
    def _to_survey(record):
        """A redirect to the questionnaire of ``record`` (an order or ticket whose link was checked) when
        its company has one: one feedback path for the customer. None otherwise."""
        answer = request.env["survey.user_input"]._shop_crm_link_answer(record)
        return request.redirect(answer.get_start_url()) if answer else None

    @http.route("/shop_crm/feedback/<int:ticket_id>", type="http", auth="public", methods=["GET"])
    def feedback_form(self, ticket_id, access_token=None, **kwargs):
        ticket = self._open_ticket(ticket_id, access_token)
        if not ticket:
            return request.not_found()
        return self._to_survey(ticket) or self._render_form(ticket, access_token)

    @http.route("/shop_crm/feedback/<int:ticket_id>", type="http", auth="public", methods=["POST"])
    def feedback_submit(self, ticket_id, access_token=None, satisfaction=None, nps=None, comment=None, **kw):
        ticket = self._open_ticket(ticket_id, access_token)
        if not ticket:
            return request.not_found()
        answer = self._answer(satisfaction, nps, comment)
        if not answer:
            return self._render_form(ticket, access_token, error=True, status=400)
        ticket._public_answer(*answer)
        return request.render("shop_crm.feedback_thanks", {"company": ticket.company_id})

    @http.route("/shop_crm/feedback/order/<int:order_id>", type="http", auth="public", methods=["GET"])
    def order_feedback_form(self, order_id, access_token=None, **kwargs):
        order = self._open_order(order_id, access_token)
        if not order:
            return request.not_found()
        return self._to_survey(order) or self._render_form(order, access_token)

    @http.route("/shop_crm/feedback/order/<int:order_id>", type="http", auth="public", methods=["POST"])
    def order_feedback_submit(
        self, order_id, access_token=None, satisfaction=None, nps=None, comment=None, **kw
    ):
        order = self._open_order(order_id, access_token)
        if not order:
            return request.not_found()
        answer = self._answer(satisfaction, nps, comment)
        if not answer:
            return self._render_form(order, access_token, error=True, status=400)
        request.env["shop.crm.feedback"]._public_order_answer(order, *answer)
        return request.render("shop_crm.feedback_thanks", {"company": order.company_id})

    # ---- links printed before the portal tokens: the token was the last part of the path ----------------

    @http.route(
        [
            "/shop_crm/feedback/<int:record_id>/<string:token>",
            "/shop_crm/feedback/order/<int:record_id>/<string:token>",
        ],
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
    )
    def legacy_link(self, record_id, token, **kwargs):
        """Permanent redirect to the link of today's form (308: a form posted there is posted again)."""
        base = request.httprequest.path.rsplit("/", 1)[0]
        return request.redirect(f"{base}?{url_encode({'access_token': token})}", code=308)
