import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

registry.category("web_tour.tours").add("shop_crm_campaign_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: '.o_app[data-menu-xmlid="shop_crm.shop_crm_menu_root"]',
            run: "click",
        },
        {
            trigger: '.o_main_navbar button[data-menu-xmlid="shop_crm.shop_crm_menu_marketing"]',
            run: "click",
        },
        {
            content: "Open the segments",
            trigger: '.dropdown-item[data-menu-xmlid="shop_crm.shop_crm_segment_menu"]',
            run: "click",
        },
        {
            content: "The ready segments are there",
            trigger: ".o_list_view .o_data_row:contains(Churn warnings)",
        },
        {
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Name the segment",
            trigger: ".o_field_widget[name=name] input",
            run: "edit Tour audience",
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The segment is saved with its live count",
            trigger: "button[name=action_open_customers] .o_stat_value",
        },
        {
            content: "Start a campaign for the segment",
            trigger: "button[name=action_new_campaign]",
            run: "click",
        },
        {
            content: "The campaign is for the segment",
            trigger: ".o_field_widget[name=segment_id] input:value(Tour audience)",
        },
        {
            trigger: ".o_field_widget[name=control_share] input",
            run: "edit 0",
        },
        {
            content: "No message, a points gift",
            trigger: ".o_field_widget[name=channel] select",
            run: 'select "none"',
        },
        {
            trigger: ".o_field_widget[name=offer] select",
            run: 'select "points"',
        },
        {
            trigger: ".o_field_widget[name=gift_points] input",
            run: "edit 10",
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Start it",
            trigger: "button[name=action_schedule]:contains(Start)",
            run: "click",
        },
        {
            content: "The campaign runs",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Running)",
        },
        {
            content: "The results say there is no control group",
            trigger: ".o_field_widget[name=results_summary]:contains(No control group)",
        },
        {
            content: "The chart of responders is drawn",
            trigger: ".o_shop_crm_campaign_chart canvas",
        },
        {
            content: "Open the recipients",
            trigger: "button[name=action_view_recipients]",
            run: "click",
        },
        {
            content: "The customer is a treated recipient with 10 points",
            trigger: ".o_list_view .o_data_row:contains(Tour Customer):contains(Treated):contains(10.00)",
        },
    ],
});
