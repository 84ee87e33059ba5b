# Fed to `scripts/odoo shell -d DB` by scripts/demo.sh: builds the demo shop, runs every Shop CRM
# scheduled action once, commits, and prints a summary. Not part of the addon.
import time
from datetime import date

started = time.monotonic()
company = env.ref("base.main_company")
company.write({"name": "花语花店 Huayu Flower Shop", "city": "杭州", "email": "hello@huayu-flowers.example"})
summary = env["shop.crm.demo"]._generate(anchor=date.today(), company=company)
crons = env["ir.cron"].search(
    [
        (
            "id",
            "in",
            env["ir.model.data"]
            .search([("module", "=", "shop_crm"), ("model", "=", "ir.cron")])
            .mapped("res_id"),
        )
    ]
)
# in the order of the nightly schedule: analytics, tiers, expiry, then the follow-ups that use them
for cron in crons.sorted("id"):
    cron.method_direct_trigger()
env.cr.commit()
print("SHOP_CRM_SUMMARY customers", summary["customers"])
print("SHOP_CRM_SUMMARY pos_orders", summary["pos_orders"])
print("SHOP_CRM_SUMMARY sale_orders", summary["sale_orders"])
print("SHOP_CRM_SUMMARY history", summary["first_day"], "...", summary["last_day"])
print("SHOP_CRM_SUMMARY scheduled_actions_run", len(crons))
for line in env["shop.crm.demo"]._summary_lines():
    print("SHOP_CRM_SUMMARY", line)
print("SHOP_CRM_SUMMARY staff_logins", " ".join(summary["staff_logins"]))
print("SHOP_CRM_SUMMARY seconds", round(time.monotonic() - started, 1))
