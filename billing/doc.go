// Package billing owns payments: the order state machine, the platform fee and the seller's
// share of every sale (integer fen, always summing to the amount paid), and — as billing grows —
// the Provider interface, seller balances and payouts, with Stripe and invoice providers in
// subpackages. It imports nothing else of Ziyuan.
package billing
