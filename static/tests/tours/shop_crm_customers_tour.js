import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

registry.category("web_tour.tours").add("shop_crm_customers_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Shop CRM app",
            trigger: '.o_app[data-menu-xmlid="shop_crm.shop_crm_menu_root"]',
            run: "click",
        },
        {
            content: "The customers list is shown",
            trigger: ".o_breadcrumb .active:contains(Customers)",
        },
        {
            content: "It lists the shop's customers",
            trigger: ".o_list_view .o_data_row:contains(Lin Meimei)",
        },
        {
            content: "Open the Customers menu explicitly",
            trigger: '.o_main_navbar button[data-menu-xmlid="shop_crm.shop_crm_menu_customers"]',
            run: "click",
        },
        {
            trigger: '.dropdown-item[data-menu-xmlid="shop_crm.res_partner_menu_shop_customers"]',
            run: "click",
        },
        {
            content: "Still the customers list, with the customer",
            trigger: ".o_list_view .o_data_row:contains(Lin Meimei)",
        },
    ],
});
