import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

registry.category("web_tour.tours").add("shop_crm_dashboard_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Shop CRM app",
            trigger: '.o_app[data-menu-xmlid="shop_crm.shop_crm_menu_root"]',
            run: "click",
        },
        {
            trigger: '.o_main_navbar button[data-menu-xmlid="shop_crm.shop_crm_menu_reporting"]',
            run: "click",
        },
        {
            content: "Open the dashboard",
            trigger: '.dropdown-item[data-menu-xmlid="shop_crm.shop_crm_dashboard_menu"]',
            run: "click",
        },
        {
            content: "This month: one active customer",
            trigger: '.o_shop_crm_tile[data-key="active_customers"] .o_shop_crm_tile_value:contains(1)',
        },
        {
            content: "The monthly chart is drawn",
            trigger: ".o_shop_crm_dashboard canvas",
        },
        {
            content: "Switch to last month",
            trigger: '.o_shop_crm_period button[data-period="last_month"]',
            run: "click",
        },
        {
            content: "Last month: two active customers",
            trigger: '.o_shop_crm_tile[data-key="active_customers"] .o_shop_crm_tile_value:contains(2)',
        },
        {
            content: "Top movers: last month's buyers, up from nothing",
            trigger: ".o_shop_crm_top_movers tr:contains(Dashboard Dong) .fa-arrow-up",
        },
        {
            content: "The festival demand card is shown",
            trigger: ".o_shop_crm_dashboard h5:contains(Festival demand)",
        },
        {
            content: "Open the active customers",
            trigger: '.o_shop_crm_tile[data-key="active_customers"]',
            run: "click",
        },
        {
            content: "The list shows last month's buyers",
            trigger: ".o_list_view .o_data_row:contains(Dashboard Dong)",
        },
        {
            trigger: ".o_list_view .o_data_row:contains(Dashboard Xi)",
        },
    ],
});
