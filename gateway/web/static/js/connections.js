// The latest connection check of each shop in this tab: the shop's plan and API budget, which
// the live run shows its cost against. (Checks spend the shop's API points, so none is automatic.)
export const checkedConnections = new Map(); // shop name -> ShopConnection
