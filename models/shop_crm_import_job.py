"""An import that runs in the background (the wizard starts one for a large file): the scheduled action
``ir_cron_shop_crm_import_jobs`` is triggered, runs each queued job as the manager who started it with
``shop.crm.import.run`` (one transaction per job: nothing is half-imported) and reports through Odoo's
cron progress (``ir.cron._notify_progress``, one job per batch). While a job runs, the import reports
rows done / total into ``shop.crm.import.progress`` through a cursor of its own, so that the wizard and
the job list see them before the import's transaction ends (the job's own row is written only by the
job's transaction: two transactions writing one row would fail under Odoo's repeatable-read isolation).
The published ``run()`` is unchanged."""

import base64
import logging
import os
import tempfile
import time

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

PROGRESS_SECONDS = 1.0  # the progress of a running job is written at most this often


class ShopCrmImportJob(models.Model):
    _name = "shop.crm.import.job"
    _description = "Background Import"
    _order = "id desc"
    _rec_name = "file_name"

    kind = fields.Selection(
        [("customers", "Customers"), ("purchases", "Purchase History")], required=True, readonly=True
    )
    file = fields.Binary(required=True, readonly=True, attachment=True)
    file_name = fields.Char(readonly=True)
    skip_errors = fields.Boolean("Import the Valid Rows", readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(
        "res.users", "Started By", required=True, readonly=True, default=lambda self: self.env.user
    )
    state = fields.Selection(
        [("queued", "Queued"), ("done", "Imported"), ("failed", "Failed")],
        default="queued",
        required=True,
        readonly=True,
    )
    running = fields.Boolean(compute="_compute_progress", help="The import of this file has started.")
    rows_total = fields.Integer("Rows", compute="_compute_progress")
    rows_done = fields.Integer(compute="_compute_progress")
    progress = fields.Float(compute="_compute_progress", help="Rows done, in percent of the rows.")
    created = fields.Integer(readonly=True)
    updated = fields.Integer(readonly=True)
    unchanged = fields.Integer(readonly=True)
    error_count = fields.Integer("Errors", readonly=True)
    error_file = fields.Binary("Error Rows File", readonly=True, attachment=True)
    error_file_name = fields.Char(readonly=True)
    message = fields.Text(readonly=True)

    @api.depends("state")
    def _compute_progress(self):
        """From the progress rows the running import commits (read as they are now, not cached)."""
        self.env.cr.execute(
            SQL(
                "SELECT job_id, rows_done, rows_total FROM shop_crm_import_progress WHERE job_id = ANY(%s)",
                self.ids,
            )
        )
        progress = {job_id: (done, total) for job_id, done, total in self.env.cr.fetchall()}
        for job in self:
            done, total = progress.get(job.id, (0, 0))
            job.running = job.state == "queued" and job.id in progress
            job.rows_done, job.rows_total = (total, total) if job.state == "done" else (done, total)
            job.progress = 100.0 if job.state == "done" else (100.0 * done / total if total else 0.0)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.user.has_group("shop_crm.group_shop_crm_manager"):
            raise AccessError(self.env._("Only Shop CRM managers can import customers and purchases."))
        jobs = super().create(vals_list)
        self.env.ref("shop_crm.ir_cron_shop_crm_import_jobs").sudo()._trigger()
        return jobs

    # ---- the scheduled action ----------------------------------------------------------------------

    @api.model
    def _cron_run_jobs(self):
        """Run the oldest queued job; Odoo's cron calls again (a new transaction) while jobs remain."""
        queued = self.sudo().search([("state", "=", "queued")], order="id")
        if not queued:
            return
        job = queued[0]
        job._run()
        self.env["ir.cron"]._notify_progress(done=1, remaining=len(queued) - 1)

    def _run(self):
        """Run this job as the manager who started it, in its company; the outcome is written on the job.
        A failure (an error the import raises, e.g. a file that is not a spreadsheet) rolls the import
        back and is recorded on the job and in the log."""
        self.ensure_one()
        self._progress_write(0, 0)
        importer = (
            self.env["shop.crm.import"]
            .with_user(self.user_id)
            .with_company(self.company_id)
            .with_context(shop_crm_import_job_id=self.id)
        )
        with tempfile.TemporaryDirectory(prefix="shop_crm_import_") as folder:
            path = os.path.join(folder, os.path.basename(self.file_name or "import.csv"))
            with open(path, "wb") as handle:
                handle.write(base64.b64decode(self.file))
            try:
                with self.env.cr.savepoint():
                    result = importer.run(path, self.kind, skip_errors=self.skip_errors)
            except (UserError, ValidationError, AccessError) as error:
                _logger.warning("Shop CRM import job %s failed: %s", self.id, error)
                self.write({"state": "failed", "message": str(error)})
                self._notify_user()
                return
        errors = result["errors"]
        values = {
            "state": "failed" if errors and not self.skip_errors else "done",
            "created": result["created"],
            "updated": result["updated"],
            "unchanged": result["unchanged"],
            "error_count": len(errors),
            "message": self.env._("Nothing was imported: the file has errors (see the error rows file).")
            if errors and not self.skip_errors
            else False,
        }
        if errors:
            wizard = self.env["shop.crm.import.wizard"]
            values["error_file"] = base64.b64encode(wizard._errors_csv(errors))
            values["error_file_name"] = self.env._(
                "errors-%s.csv", os.path.splitext(self.file_name or "import")[0]
            )
        self.write(values)
        self._notify_user()

    def _notify_user(self):
        """A notification in the browser of the manager who started the job (Odoo's bus)."""
        self.ensure_one()
        if self.state == "done":
            text = self.env._(
                "%(file)s imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
                file=self.file_name,
                created=self.created,
                updated=self.updated,
                unchanged=self.unchanged,
            )
        else:
            text = self.env._(
                "%(file)s was not imported: %(reason)s", file=self.file_name, reason=self.message
            )
        self.user_id._bus_send(
            "simple_notification",
            {"type": "success" if self.state == "done" else "warning", "message": text, "sticky": False},
        )

    # ---- progress ------------------------------------------------------------------------------------

    def _progress_write(self, done, total):
        """Rows done / total of this job, written and committed through a cursor of its own: the import's
        transaction is still open, and the wizard reads the progress from another one. In test mode the
        registry hands out the test's cursor (nothing is committed)."""
        self.ensure_one()
        with self.env.registry.cursor() as cr:
            cr.execute(
                SQL(
                    """INSERT INTO shop_crm_import_progress
                           (job_id, company_id, rows_done, rows_total, create_uid, create_date, write_uid,
                            write_date)
                       VALUES (%(job)s, %(company)s, %(done)s, %(total)s, %(uid)s, NOW() AT TIME ZONE 'UTC',
                               %(uid)s, NOW() AT TIME ZONE 'UTC')
                       ON CONFLICT (job_id) DO UPDATE
                          SET rows_done = EXCLUDED.rows_done, rows_total = EXCLUDED.rows_total,
                              write_date = EXCLUDED.write_date""",
                    job=self.id,
                    company=self.company_id.id,
                    done=done,
                    total=total,
                    uid=self.env.uid,
                )
            )
        self.invalidate_recordset(["running", "rows_done", "rows_total", "progress"])


class ShopCrmImportProgressRow(models.Model):
    """The progress of a running job: one row per job, written only by ``_progress_write``'s own
    cursor. ``job_id`` is a plain integer (no foreign key: the job may not be committed yet when its
    first progress is written, e.g. in tests, and a key check would wait for it)."""

    _name = "shop.crm.import.progress"
    _description = "Background Import Progress"

    job_id = fields.Integer(required=True, index=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    rows_done = fields.Integer(readonly=True)
    rows_total = fields.Integer(readonly=True)

    _sql_constraints = [("job_unique", "UNIQUE(job_id)", "One progress row per import job.")]


class ImportProgress:
    """Reports an import's progress to its job (``shop_crm_import_job_id`` in the context), at most once
    every PROGRESS_SECONDS and always at the end; does nothing for an import without a job."""

    def __init__(self, env, total):
        self.job = env["shop.crm.import.job"].sudo().browse(env.context.get("shop_crm_import_job_id"))
        self.total = total
        self.last = None

    def __call__(self, done, final=False):
        if not self.job:
            return
        now = time.monotonic()
        if final or self.last is None or now - self.last >= PROGRESS_SECONDS:
            self.last = now
            self.job._progress_write(min(done, self.total), self.total)
