from . import res_partner
from . import shop_crm_demo
