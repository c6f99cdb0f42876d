package billing

import (
	"errors"
	"fmt"
	"math/bits"
)

// Seller kinds decide the platform fee.
type SellerKind string

const (
	SellerTeacher SellerKind = "teacher"
	SellerVendor  SellerKind = "vendor"
	// SellerPublic is a public-welfare provider: its items carry no fee.
	SellerPublic SellerKind = "public"
)

// Fees are the platform's cut in basis points (1/100 of a percent) per seller kind.
type Fees struct {
	TeacherBP int
	VendorBP  int
}

// DefaultFees: 10 % of teachers' sales, 20 % of vendors', nothing on public-welfare items.
var DefaultFees = Fees{TeacherBP: 1000, VendorBP: 2000}

// Split is one sale divided between the platform and the seller. Fee + Seller == Amount, always.
type Split struct {
	AmountFen int64 `json:"amount_fen"`
	FeeFen    int64 `json:"fee_fen"`
	SellerFen int64 `json:"seller_fen"`
}

var errAmount = errors.New("billing: amount must be between 0 and 10^12 fen")

// Split divides amountFen for a seller of kind. The fee is rounded half up to the fen, and the
// seller gets exactly the rest, so no fen is lost or invented.
func (f Fees) Split(amountFen int64, kind SellerKind) (Split, error) {
	if amountFen < 0 || amountFen > 1e12 {
		return Split{}, errAmount
	}
	var bp int
	switch kind {
	case SellerTeacher:
		bp = f.TeacherBP
	case SellerVendor:
		bp = f.VendorBP
	case SellerPublic:
		bp = 0
	default:
		return Split{}, fmt.Errorf("billing: unknown seller kind %q", kind)
	}
	if bp < 0 || bp > 10000 {
		return Split{}, fmt.Errorf("billing: fee of %d basis points is outside 0–10000", bp)
	}
	fee := (amountFen*int64(bp) + 5000) / 10000
	return Split{AmountFen: amountFen, FeeFen: fee, SellerFen: amountFen - fee}, nil
}

// Status is an order's payment state.
type Status string

const (
	StatusPending           Status = "pending"
	StatusPaid              Status = "paid"
	StatusRefunded          Status = "refunded"
	StatusPartiallyRefunded Status = "partially_refunded"
	StatusExpired           Status = "expired"
	StatusCancelled         Status = "cancelled"
	StatusFailed            Status = "failed"
)

// transitions are the order state machine: pending → paid → (partially) refunded;
// pending → expired, cancelled or failed. Nothing leaves a final state.
var transitions = map[Status][]Status{
	StatusPending:           {StatusPaid, StatusExpired, StatusCancelled, StatusFailed},
	StatusPaid:              {StatusRefunded, StatusPartiallyRefunded},
	StatusPartiallyRefunded: {StatusRefunded, StatusPartiallyRefunded},
}

// CanTransition reports whether an order may move from one state to another.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Allocate divides amountFen into parts proportional to weights (largest remainder: each part
// is its exact share rounded down, and the fen left over go one each to the largest remainders,
// the earlier part first on a tie). The parts sum to amountFen exactly, and while amountFen does
// not exceed the sum of the weights no part exceeds its weight, so a refund spread over an
// order's lines never takes more from a line than the line has left.
func Allocate(amountFen int64, weights []int64) ([]int64, error) {
	var total uint64
	for _, w := range weights {
		if w < 0 || w > 1e12 {
			return nil, errAmount
		}
		total += uint64(w)
	}
	if amountFen < 0 || amountFen > 1e12 || (amountFen > 0 && total == 0) {
		return nil, fmt.Errorf("billing: cannot allocate %d fen over weights summing to %d", amountFen, total)
	}
	parts := make([]int64, len(weights))
	rems := make([]uint64, len(weights))
	var given int64
	for i, w := range weights {
		if w == 0 {
			continue
		}
		// w·amount can exceed 2⁶³ (10¹² · 10¹²), so the product is taken in 128 bits; w ≤ total
		// keeps the high word below the divisor, as bits.Div64 requires.
		hi, lo := bits.Mul64(uint64(w), uint64(amountFen))
		q, r := bits.Div64(hi, lo, total)
		parts[i], rems[i] = int64(q), r
		given += int64(q)
	}
	for left := amountFen - given; left > 0; left-- {
		best := -1
		for i := range rems {
			if weights[i] > 0 && (best < 0 || rems[i] > rems[best]) {
				best = i
			}
		}
		parts[best]++
		rems[best] = 0
	}
	return parts, nil
}
