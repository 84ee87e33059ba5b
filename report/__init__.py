"""Reports of Shop CRM (report models and QWeb templates)."""
