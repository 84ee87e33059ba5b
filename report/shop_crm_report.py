"""Printable reports: the member card, a customer's points statement and the owner's monthly report."""

import base64

from odoo import api, models
from odoo.exceptions import AccessError

from ..lib import kpi, membership


def _png_uri(data):
    return "data:image/png;base64," + base64.b64encode(data).decode()


class ReportMemberCard(models.AbstractModel):
    _name = "report.shop_crm.report_member_card"
    _description = "Shop CRM member card"

    @api.model
    def _get_report_values(self, docids, data=None):
        partners = self.env["res.partner"].browse(docids)
        Report = self.env["ir.actions.report"]
        codes = {}
        for partner in partners.filtered("member_code"):
            codes[partner.id] = {
                "barcode": _png_uri(Report.barcode("EAN13", partner.member_code, width=600, height=120)),
                "qr": _png_uri(Report.barcode("QR", partner.member_code, width=240, height=240)),
            }
        return {"doc_ids": docids, "doc_model": "res.partner", "docs": partners, "codes": codes}


class ReportPointsStatement(models.AbstractModel):
    _name = "report.shop_crm.report_points_statement"
    _description = "Shop CRM points statement"

    @api.model
    def _get_report_values(self, docids, data=None):
        partners = self.env["res.partner"].browse(docids)
        company = self.env.company
        today = company._shop_crm_today()
        statements = {}
        for partner in partners:
            lines = partner.member_card_id.history_ids.sorted(lambda line: (line.shop_crm_date, line.id))
            ledger = [membership.Line(line.shop_crm_date, line.issued, line.used) for line in lines]
            statements[partner.id] = {
                "lines": kpi.running_balances(lines),
                "expiring": kpi.expiring_by_month(
                    ledger,
                    company.shop_crm_points_expiry_months,
                    today,
                    expiring=membership.expiring_points,
                ),
            }
        return {
            "doc_ids": docids,
            "doc_model": "res.partner",
            "docs": partners,
            "statements": statements,
            "today": today,
            "company": company,
        }


class ReportMonthly(models.AbstractModel):
    _name = "report.shop_crm.report_monthly"
    _description = "Shop CRM monthly customer report"

    @api.model
    def _get_report_values(self, docids, data=None):
        if not self.env.su and not self.env.user.has_group("shop_crm.group_shop_crm_manager"):
            raise AccessError(self.env._("Only Shop CRM managers can print the monthly customer report."))
        companies = self.env["res.company"].browse(docids) or self.env.company
        period = (data or {}).get("period") or "last_month"
        reports = {}
        for company in companies:
            Kpi = self.env["shop.crm.kpi"].with_company(company)
            reports[company.id] = Kpi.dashboard_data(period)
        return {
            "doc_ids": companies.ids,
            "doc_model": "res.company",
            "docs": companies,
            "reports": reports,
            "fmt": self._format,
        }

    @api.model
    def _format(self, key, value):
        if value is None:
            return ""
        if key == "change":
            return f"{value:.1f} %"
        if key in ("repeat_rate", "retention_rate", "member_sales_share", "followups_on_time"):
            return f"{value * 100:.1f} %"
        if isinstance(value, float):
            return f"{value:,.2f}"
        return f"{value:,}"
