# Fed to `scripts/odoo shell -d DB` by scripts/demo.sh: builds the demo shop (scripts/demo_shop.py, tooling
# that no database registers), runs Shop CRM's nightly run once (points expiry, tiers, analytics,
# follow-ups, care: in that order), commits, and prints a summary. Not part of the addon.
import time
from datetime import date

from odoo.addons.shop_crm.scripts.demo_shop import DemoShop

started = time.monotonic()
company = env.ref("base.main_company")
company.write({"name": "花语花店 Huayu Flower Shop", "city": "杭州", "email": "hello@huayu-flowers.example"})
demo = DemoShop(env)
summary = demo.generate(anchor=date.today(), company=company)
# the scheduled action itself, as the scheduler runs it every night
nightly = env.ref("shop_crm.ir_cron_shop_crm_nightly")
nightly.method_direct_trigger()
env.cr.commit()
print("SHOP_CRM_SUMMARY customers", summary["customers"])
print("SHOP_CRM_SUMMARY pos_orders", summary["pos_orders"])
print("SHOP_CRM_SUMMARY sale_orders", summary["sale_orders"])
print("SHOP_CRM_SUMMARY history", summary["first_day"], "...", summary["last_day"])
print("SHOP_CRM_SUMMARY nightly_run", nightly.name)
for line in demo.summary_lines():
    print("SHOP_CRM_SUMMARY", line)
print("SHOP_CRM_SUMMARY staff_logins", " ".join(summary["staff_logins"]))
print("SHOP_CRM_SUMMARY seconds", round(time.monotonic() - started, 1))
