// The slides' estimates ("Parameter Estimates": market constants and interaction terms) and
// summary statistics, used as the simulator's true parameters and as the targets it must match.
import type { SharingParameters } from './model.js';

/** The 14 customer characteristics, in the slides' table order. */
export const PAPER_COVARIATES: ReadonlyArray<{ name: string; label: string }> = [
  { name: 'days_since_last_purchase', label: 'Number of Days Since Most Recent Purchase' },
  { name: 'orders_past_year', label: 'Number of Orders in the Past Year' },
  { name: 'purchased_promoted_before', label: 'Purchased Promoted Product Before' },
  { name: 'avg_order_value_past_year', label: 'Average Monetary Value Per Order in the Past Year' },
  { name: 'coupon_orders', label: 'Number of Orders Using Coupons' },
  { name: 'gift_card_orders', label: 'Number of Orders Using Gift Cards' },
  { name: 'direct_discount_orders', label: 'Number of Orders Using Direct Discounts' },
  { name: 'avg_coupon_value', label: 'Average Monetary Value of Coupons Per Order' },
  { name: 'avg_gift_card_value', label: 'Average Monetary Value of Gift Cards Per Order' },
  { name: 'avg_direct_discount_value', label: 'Average Monetary Value of Direct Discounts Per Order' },
  { name: 'new_customer', label: 'New Customer' },
  { name: 'tenure', label: 'Customer Tenure' },
  { name: 'city_pc1', label: 'City Characteristics First Principal Component' },
  { name: 'share_clicks_past_month', label: 'Number of Times Clicking Share Button in the Past Month' },
];

/** Interaction terms: [baseline utility, price sensitivity, sharing cost, log referrals] per covariate. */
const INTERACTIONS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0.130, -0.000, 0.024, -0.055],
  [0.111, 0.001, -0.011, -0.048],
  [0.130, -0.002, 0.075, 0.150],
  [0.119, -0.001, 0.049, -0.173],
  [0.131, 0.003, 0.001, 0.054],
  [0.158, 0.003, -0.001, -0.932],
  [0.082, 0.001, 0.007, -0.635],
  [0.018, -0.000, 0.001, 0.150],
  [0.041, 0.001, -0.011, 0.170],
  [0.007, 0.001, -0.020, 0.106],
  [0.151, -0.001, 0.042, 0.074],
  [0.150, 0.002, 0.001, 0.194],
  [-0.020, -0.000, 0.006, -0.009],
  [-0.014, 0.001, -0.009, 0.164],
];

/** Standard errors of the interaction terms, same layout. */
const INTERACTION_SES: ReadonlyArray<readonly [number, number, number, number]> = [
  [0.101, 0.001, 0.008, 0.072],
  [0.408, 0.006, 0.013, 0.540],
  [0.105, 0.001, 0.009, 0.069],
  [0.139, 0.002, 0.009, 0.104],
  [0.352, 0.005, 0.011, 0.451],
  [0.324, 0.005, 0.003, 1.370],
  [0.307, 0.004, 0.006, 0.288],
  [0.109, 0.002, 0.007, 0.073],
  [0.144, 0.002, 0.007, 0.378],
  [0.215, 0.003, 0.006, 0.056],
  [0.120, 0.002, 0.008, 0.067],
  [0.109, 0.002, 0.006, 0.090],
  [0.122, 0.002, 0.007, 0.057],
  [0.374, 0.006, 0.004, 0.103],
];

/** The slides' estimates as a parameter set (no market shocks: the simulator calibrates them). */
export const PAPER_PARAMETERS: Readonly<SharingParameters> = Object.freeze({
  vbar: 0.790,
  abar: 0.023,
  scbar: 0.401,
  sigma: 18.858,
  r0: -2.284,
  L: 125.742,
  covariates: PAPER_COVARIATES.map((c) => c.name),
  beta_v: INTERACTIONS.map((r) => r[0]),
  beta_alpha: INTERACTIONS.map((r) => r[1]),
  beta_sc: INTERACTIONS.map((r) => r[2]),
  beta_r: INTERACTIONS.map((r) => r[3]),
  xi_y: {},
  xi_w: {},
});

/** The slides' standard errors, same shape (shocks omitted). */
export const PAPER_STANDARD_ERRORS = Object.freeze({
  vbar: 0.062, abar: 0.001, scbar: 0.001, sigma: 7.773, r0: 0.078, L: 47.043,
  beta_v: INTERACTION_SES.map((r) => r[0]),
  beta_alpha: INTERACTION_SES.map((r) => r[1]),
  beta_sc: INTERACTION_SES.map((r) => r[2]),
  beta_r: INTERACTION_SES.map((r) => r[3]),
});

/** One row of the slides' "Summary Statistics: Propensity to Share/Purchase" table. */
export interface PriceGroupSummary {
  price: number;
  markets: number;
  customers: number;
  averageDurationDays: number;
  wholesaleCost: number;
  shareRate: number;
  purchaseRate: number;
  referralsPerCustomer: number;
}

export const PAPER_SUMMARY: readonly PriceGroupSummary[] = [
  { price: 59, markets: 6, customers: 9760, averageDurationDays: 5.5, wholesaleCost: 48.1, shareRate: 0.332, purchaseRate: 0.342, referralsPerCustomer: 0.054 },
  { price: 79, markets: 4, customers: 6793, averageDurationDays: 3.5, wholesaleCost: 71.0, shareRate: 0.257, purchaseRate: 0.260, referralsPerCustomer: 0.023 },
  { price: 88, markets: 5, customers: 4127, averageDurationDays: 7.2, wholesaleCost: 78.7, shareRate: 0.191, purchaseRate: 0.147, referralsPerCustomer: 0.007 },
  { price: 98, markets: 2, customers: 1193, averageDurationDays: 10.5, wholesaleCost: 80.0, shareRate: 0.165, purchaseRate: 0.125, referralsPerCustomer: 0.009 },
  { price: 118, markets: 4, customers: 1393, averageDurationDays: 13.5, wholesaleCost: 89.1, shareRate: 0.128, purchaseRate: 0.054, referralsPerCustomer: 0.004 },
];

export const PAPER_SUMMARY_TOTAL = { markets: 21, customers: 23266, averageDurationDays: 7.5, wholesaleCost: 64.3, shareRate: 0.264, purchaseRate: 0.255, referralsPerCustomer: 0.031 };

/** The slides' counterfactual profit table (average profit per customer, focal + referral). */
export const PAPER_PROFITS = { noPersonalization: 9.638, pricesOnly: 9.871, broadcastingOnly: 12.245, integrated: 13.526, socialShareUnderPP: 0.778 };
