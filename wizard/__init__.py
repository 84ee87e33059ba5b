from . import (
    base_partner_merge,
    mail_compose_message,
    shop_crm_feedback_compensate,
    shop_crm_import_wizard,
    shop_crm_points_adjust,
    shop_crm_privacy_anonymize,
    shop_crm_reassign,
    sms_composer,
)
