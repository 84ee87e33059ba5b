"""Reports of Shop CRM (report models and QWeb templates)."""

from . import shop_crm_report
