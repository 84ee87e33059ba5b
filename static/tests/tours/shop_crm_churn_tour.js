import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

registry.category("web_tour.tours").add("shop_crm_churn_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: '.o_app[data-menu-xmlid="shop_crm.shop_crm_menu_root"]',
            run: "click",
        },
        {
            trigger: '.o_main_navbar button[data-menu-xmlid="shop_crm.shop_crm_menu_customers"]',
            run: "click",
        },
        {
            content: "Open the churn warnings",
            trigger: '.dropdown-item[data-menu-xmlid="shop_crm.res_partner_menu_churn_warnings"]',
            run: "click",
        },
        {
            content: "The customer is listed with the reason",
            trigger: ".o_list_view .o_data_row:contains(Zhang Churn):contains(usually every 10 days, last visit 30 days ago)",
        },
        {
            content: "Open the customer",
            trigger: ".o_list_view .o_data_row .o_data_cell[name=complete_name]:contains(Zhang Churn)",
            run: "click",
        },
        {
            content: "The form shows the warning",
            trigger: ".o_form_view .alert-warning:contains(usually every 10 days)",
        },
        {
            content: "Open the Customer Value tab",
            trigger: ".o_notebook .nav-link:contains(Customer Value)",
            run: "click",
        },
        {
            content: "Each score is explained",
            trigger: ".o_field_widget[name=rfm_explanation]:contains(R 5/5)",
        },
        {
            trigger: '.o_main_navbar button[data-menu-xmlid="shop_crm.shop_crm_menu_reporting"]',
            run: "click",
        },
        {
            trigger: '.dropdown-item[data-menu-xmlid="shop_crm.res_partner_menu_rfm_analysis"]',
            run: "click",
        },
        {
            content: "The RFM pivot shows the segment",
            trigger: ".o_pivot table:contains(Important value customer)",
        },
    ],
});
