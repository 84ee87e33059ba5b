from . import (
    shop_crm_feedback_compensate,
    shop_crm_points_adjust,
    shop_crm_privacy_anonymize,
    shop_crm_reassign,
)
