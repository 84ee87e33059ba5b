import { patch } from "@web/core/utils/patch";
import { ResPartner } from "@point_of_sale/app/models/res_partner";

// The till's own search of loaded customers also matches the normalised mobile (+8613800138000), so a
// mobile typed with +86, spaces or dashes finds the customer offline too.
patch(ResPartner.prototype, {
    get searchString() {
        const normalized = (this.mobile_normalized || "").replace(/[+\s()-]/g, "");
        return normalized ? `${super.searchString} ${normalized}` : super.searchString;
    },
});
