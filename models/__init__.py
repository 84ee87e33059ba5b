from . import res_partner, shop_crm_demo
