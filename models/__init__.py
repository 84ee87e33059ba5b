from . import (
    res_company,
    res_config_settings,
    res_partner,
    shop_crm_analytics,
    shop_crm_customer_value,
    shop_crm_demo,
    shop_crm_segment_change,
)
