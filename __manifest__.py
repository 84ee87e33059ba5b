# Part of Shop CRM. License LGPL-3: see LICENSE.
{
    "name": "Shop CRM",
    "summary": "Customer management for small shops: members, tiers, points, RFM value classes, "
    "churn warnings, follow-ups and care, at the Point of Sale and in the backend",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "author": "Shop CRM",
    "website": "https://github.com/shop-crm/shop_crm",
    "license": "LGPL-3",
    "depends": ["contacts", "mail", "point_of_sale", "pos_loyalty", "sale_loyalty"],
    "external_dependencies": {"python": ["numpy", "scipy", "lunar_python"]},
    "data": [
        "security/shop_crm_groups.xml",
        "security/ir.model.access.csv",
        "security/shop_crm_security.xml",
        "data/shop_crm_analytics_data.xml",
        "data/shop_crm_member_data.xml",
        "wizard/shop_crm_points_adjust_views.xml",
        "wizard/shop_crm_reassign_views.xml",
        "views/res_partner_views.xml",
        "views/shop_crm_tier_views.xml",
        "views/loyalty_history_views.xml",
        "views/shop_crm_occasion_views.xml",
        "views/shop_crm_visit_views.xml",
        "views/shop_crm_segment_change_views.xml",
        "views/res_config_settings_views.xml",
        "views/shop_crm_menus.xml",
    ],
    "assets": {
        "web.assets_tests": ["shop_crm/static/tests/tours/**/*"],
    },
    "application": True,
}
