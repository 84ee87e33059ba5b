from . import (
    mail_compose_message,
    shop_crm_feedback_compensate,
    shop_crm_points_adjust,
    shop_crm_reassign,
    sms_composer,
)
