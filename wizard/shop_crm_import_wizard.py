"""Import Customers / Import Purchase History (managers): upload a file, see the first rows with the
columns Shop CRM recognised, check it (a dry run: counts and the error rows, downloadable), then import.
The work is ``shop.crm.import.run``."""

import base64
import csv
import io
import os
import tempfile

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..lib import spreadsheet_import as sheet

PREVIEW_ROWS = 5
# a file with more rows is imported in the background, with its progress shown (system parameter
# shop_crm.import_background_rows)
BACKGROUND_ROWS = 5000


class ShopCrmImportWizard(models.TransientModel):
    _name = "shop.crm.import.wizard"
    _description = "Import Customers or Purchase History"

    kind = fields.Selection(
        [("customers", "Customers"), ("purchases", "Purchase History")], required=True, default="customers"
    )
    file = fields.Binary(required=True, attachment=False)
    file_name = fields.Char()
    skip_errors = fields.Boolean(
        "Import the Valid Rows", help="Import the rows without errors and leave out the others."
    )
    state = fields.Selection(
        [("upload", "Upload"), ("checked", "Checked"), ("running", "Importing"), ("done", "Imported")],
        default="upload",
    )
    job_id = fields.Many2one("shop.crm.import.job", "Background Import", readonly=True)
    job_state = fields.Selection(related="job_id.state", string="Import State")
    job_running = fields.Boolean(related="job_id.running")
    job_progress = fields.Float(related="job_id.progress", string="Progress")
    job_rows_done = fields.Integer(related="job_id.rows_done", string="Rows Done")
    job_message = fields.Text(related="job_id.message")
    preview = fields.Html(readonly=True, sanitize=True)
    rows = fields.Integer(readonly=True)
    created = fields.Integer("To Create / Created", readonly=True)
    updated = fields.Integer("To Update / Updated", readonly=True)
    unchanged = fields.Integer(readonly=True)
    error_count = fields.Integer("Errors", readonly=True)
    errors_html = fields.Html("Error Rows", readonly=True, sanitize=True)
    error_file = fields.Binary("Error Rows File", readonly=True, attachment=False)
    error_file_name = fields.Char()

    @api.model
    def _check_manager(self):
        if not self.env.user.has_group("shop_crm.group_shop_crm_manager"):
            raise AccessError(self.env._("Only Shop CRM managers can import customers and purchases."))

    @api.model_create_multi
    def create(self, vals_list):
        self._check_manager()
        return super().create(vals_list)

    def _run(self, dry_run):
        self.ensure_one()
        self._check_manager()
        if not self.file:
            raise UserError(self.env._("Upload a file first."))
        content = base64.b64decode(self.file)
        suffix = os.path.splitext(self.file_name or "")[1] or ".csv"
        with tempfile.TemporaryDirectory(prefix="shop_crm_import_") as folder:
            path = os.path.join(folder, os.path.basename(self.file_name or f"import{suffix}"))
            with open(path, "wb") as handle:
                handle.write(content)
            result = self.env["shop.crm.import"].run(
                path, self.kind, dry_run=dry_run, skip_errors=self.skip_errors
            )
        return content, result

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Import Customers")
            if self.kind == "customers"
            else self.env._("Import Purchase History"),
        }

    def _show(self, result, state):
        errors = result["errors"]
        values = {
            "state": state,
            "rows": result["rows"],
            "created": result["created"],
            "updated": result["updated"],
            "unchanged": result["unchanged"],
            "error_count": len(errors),
            "errors_html": self._errors_html(errors),
            "error_file": False,
            "error_file_name": False,
        }
        if errors:
            values["error_file"] = base64.b64encode(self._errors_csv(errors))
            values["error_file_name"] = self.env._(
                "errors-%s.csv", os.path.splitext(self.file_name or "import")[0]
            )
        self.write(values)

    def action_check(self):
        """Preview and dry run."""
        content, result = self._run(dry_run=True)
        self._show(result, "checked")
        self.preview = self._preview(content)
        return self._reopen()

    def action_import(self):
        """Import now; a file of more than BACKGROUND_ROWS rows (known from the check; the system parameter
        shop_crm.import_background_rows changes the number) is imported by a
        background job whose progress the wizard shows (Refresh) and whose end the manager is told of."""
        self.ensure_one()
        limit = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("shop_crm.import_background_rows", BACKGROUND_ROWS)
        )
        if self.rows > limit:
            return self.action_import_in_background()
        _content, result = self._run(dry_run=False)
        if result["errors"] and not self.skip_errors:
            self._show(result, "checked")
        else:
            self._show(result, "done")
        return self._reopen()

    def action_import_in_background(self):
        self.ensure_one()
        self._check_manager()
        if not self.file:
            raise UserError(self.env._("Upload a file first."))
        self.job_id = self.env["shop.crm.import.job"].create(
            {
                "kind": self.kind,
                "file": self.file,
                "file_name": self.file_name or "import.csv",
                "skip_errors": self.skip_errors,
            }
        )
        self.state = "running"
        return self._reopen()

    def action_refresh(self):
        """Show the background job's progress, or its outcome once it has finished."""
        self.ensure_one()
        job = self.job_id
        job.invalidate_recordset()
        if job.state != "queued":
            self.write(
                {
                    "state": "done" if job.state == "done" else "checked",
                    "created": job.created,
                    "updated": job.updated,
                    "unchanged": job.unchanged,
                    "error_count": job.error_count,
                    "error_file": job.error_file,
                    "error_file_name": job.error_file_name,
                }
            )
        return self._reopen()

    def action_back(self):
        self.write({"state": "upload"})
        return self._reopen()

    # ---- presentation ---------------------------------------------------------------------------------

    def _preview(self, content):
        """The first rows of the file, with the recognised column names above the file's headers."""
        try:
            table = sheet.read_table(content=content)
        except sheet.FileError:
            return False
        found = {header: name for name, header in sheet.recognise_columns(table.columns, self.kind).items()}
        head = Markup("").join(
            Markup("<th>%s<br/><small class='%s'>%s</small></th>")
            % (
                header,
                "text-success" if header in found else "text-muted",
                found.get(header) or self.env._("not imported"),
            )
            for header in table.columns
        )
        body = Markup("").join(
            Markup("<tr>%s</tr>")
            % Markup("").join(Markup("<td>%s</td>") % ("" if value is None else str(value)) for value in row)
            for row in table.head(PREVIEW_ROWS).itertuples(index=False)
        )
        return Markup("<table class='table table-sm table-bordered'><tr>%s</tr>%s</table>") % (head, body)

    def _errors_html(self, errors):
        if not errors:
            return False
        head = Markup("<tr><th>%s</th><th>%s</th><th>%s</th></tr>") % (
            self.env._("Row"),
            self.env._("Column"),
            self.env._("Problem"),
        )
        body = Markup("").join(
            Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>")
            % (error["row"], error["column"], error["message"])
            for error in errors[:200]
        )
        return Markup("<table class='table table-sm'>%s%s</table>") % (head, body)

    def _errors_csv(self, errors):
        """The error rows as a CSV file (UTF-8 with BOM, so that Excel opens it in Chinese)."""
        stream = io.StringIO()
        writer = csv.writer(stream)
        writer.writerow([self.env._("Row"), self.env._("Column"), self.env._("Problem")])
        for error in errors:
            writer.writerow([error["row"], error["column"], str(escape(error["message"]))])
        return ("\ufeff" + stream.getvalue()).encode("utf-8")
