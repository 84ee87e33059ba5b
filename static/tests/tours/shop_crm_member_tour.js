import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

registry.category("web_tour.tours").add("shop_crm_member_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: '.o_app[data-menu-xmlid="shop_crm.shop_crm_menu_root"]',
            run: "click",
        },
        {
            content: "The member's tier shows in the list",
            trigger: ".o_list_view .o_data_row:contains(Wang Member):contains(Silver)",
        },
        {
            content: "Open the member",
            trigger: ".o_list_view .o_data_row .o_data_cell[name=complete_name]:contains(Wang Member)",
            run: "click",
        },
        {
            content: "Open the Membership tab",
            trigger: ".o_notebook .nav-link:contains(Membership)",
            run: "click",
        },
        {
            content: "The points history lists the order",
            trigger: ".o_field_widget[name=points_history_ids] .o_data_row:contains(Earned)",
        },
        {
            content: "Adjust the points",
            trigger: "button:contains(Adjust Points)",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=amount] input",
            run: "edit 25",
        },
        {
            trigger: ".modal .o_field_widget[name=reason] input",
            run: "edit Late delivery",
        },
        {
            trigger: ".modal button:contains(Apply)",
            run: "click",
        },
        {
            content: "The adjustment is in the history and the balance",
            trigger: ".o_field_widget[name=points_history_ids] .o_data_row:contains(Late delivery)",
        },
        {
            content: "The new balance is shown",
            trigger: ".o_field_widget[name=points_balance]:contains(1,225)",
        },
    ],
});
