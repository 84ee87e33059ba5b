import { patch } from "@web/core/utils/patch";
import { OrderSummary } from "@point_of_sale/app/screens/product_screen/order_summary/order_summary";
import { CustomerCard } from "@shop_crm/app/customer_card/customer_card";

patch(OrderSummary, {
    components: { ...OrderSummary.components, CustomerCard },
});
