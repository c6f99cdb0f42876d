// Package billing owns payments: the order state machine, the platform fee and the seller's
// share of every sale (integer fen, always summing to the amount paid), the proportional
// allocation that spreads refunds over lines and shares, and the provider ports (checkout,
// webhooks, refunds, payouts), with Stripe and invoice providers in subpackages. It imports
// nothing else of Ziyuan.
package billing
