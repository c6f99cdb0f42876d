package billing_test

import (
	"math/big"
	"testing"

	"ziyuan/billing"
)

func TestSplit(t *testing.T) {
	cases := []struct {
		amount    int64
		kind      billing.SellerKind
		fee, rest int64
	}{
		{990, billing.SellerTeacher, 99, 891},
		{995, billing.SellerTeacher, 100, 895}, // 99.5 rounds half up
		{4900, billing.SellerVendor, 980, 3920},
		{1, billing.SellerVendor, 0, 1},
		{3, billing.SellerVendor, 1, 2}, // 0.6 rounds up
		{29900, billing.SellerPublic, 0, 29900},
		{0, billing.SellerTeacher, 0, 0},
	}
	for _, c := range cases {
		s, err := billing.DefaultFees.Split(c.amount, c.kind)
		if err != nil || s.FeeFen != c.fee || s.SellerFen != c.rest || s.FeeFen+s.SellerFen != c.amount {
			t.Errorf("Split(%d, %s) = %+v, %v; want fee %d, seller %d", c.amount, c.kind, s, err, c.fee, c.rest)
		}
	}
	for _, bad := range []struct {
		fees   billing.Fees
		amount int64
		kind   billing.SellerKind
	}{
		{billing.DefaultFees, -1, billing.SellerTeacher},
		{billing.DefaultFees, 100, "school"},
		{billing.Fees{TeacherBP: 10001}, 100, billing.SellerTeacher},
	} {
		if _, err := bad.fees.Split(bad.amount, bad.kind); err == nil {
			t.Errorf("Split(%+v) accepted", bad)
		}
	}
}

// FuzzSplit: for every amount and fee, the parts are non-negative and sum to the amount.
func FuzzSplit(f *testing.F) {
	f.Add(int64(990), 1000)
	f.Add(int64(1), 9999)
	f.Fuzz(func(t *testing.T, amount int64, bp int) {
		s, err := billing.Fees{TeacherBP: bp}.Split(amount, billing.SellerTeacher)
		if err != nil {
			return
		}
		if s.FeeFen < 0 || s.SellerFen < 0 || s.FeeFen+s.SellerFen != amount {
			t.Fatalf("Split(%d, %d bp) = %+v", amount, bp, s)
		}
	})
}

func TestOrderStates(t *testing.T) {
	allowed := map[[2]billing.Status]bool{
		{billing.StatusPending, billing.StatusPaid}: true, {billing.StatusPending, billing.StatusExpired}: true,
		{billing.StatusPending, billing.StatusCancelled}: true, {billing.StatusPending, billing.StatusFailed}: true,
		{billing.StatusPaid, billing.StatusRefunded}: true, {billing.StatusPaid, billing.StatusPartiallyRefunded}: true,
		{billing.StatusPartiallyRefunded, billing.StatusRefunded}: true, {billing.StatusPartiallyRefunded, billing.StatusPartiallyRefunded}: true,
	}
	all := []billing.Status{billing.StatusPending, billing.StatusPaid, billing.StatusRefunded, billing.StatusPartiallyRefunded,
		billing.StatusExpired, billing.StatusCancelled, billing.StatusFailed}
	for _, from := range all {
		for _, to := range all {
			if got := billing.CanTransition(from, to); got != allowed[[2]billing.Status{from, to}] {
				t.Errorf("CanTransition(%s, %s) = %v", from, to, got)
			}
		}
	}
}

func TestAllocate(t *testing.T) {
	cases := []struct {
		amount  int64
		weights []int64
		want    []int64
	}{
		{990, []int64{990}, []int64{990}},
		{100, []int64{1, 1, 1}, []int64{34, 33, 33}},     // the leftover fen goes to the first of equals
		{2, []int64{1, 1, 1}, []int64{1, 1, 0}},          // never more than a line has
		{500, []int64{891, 99}, []int64{450, 50}},        // a seller's and the platform's part of a refund
		{1, []int64{1, 1000}, []int64{0, 1}},             // the largest remainder wins
		{7, []int64{0, 3, 0, 4}, []int64{0, 3, 0, 4}},    // whole amounts, zero weights get nothing
		{0, []int64{5, 5}, []int64{0, 0}},                // nothing to allocate
		{1e12, []int64{1e12, 1e12}, []int64{5e11, 5e11}}, // products beyond 2⁶³
		{0, nil, []int64{}},
	}
	for _, c := range cases {
		got, err := billing.Allocate(c.amount, c.weights)
		if err != nil || len(got) != len(c.want) {
			t.Errorf("Allocate(%d, %v) = %v, %v; want %v", c.amount, c.weights, got, err, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("Allocate(%d, %v) = %v; want %v", c.amount, c.weights, got, c.want)
				break
			}
		}
	}
	for _, bad := range []struct {
		amount  int64
		weights []int64
	}{{1, nil}, {1, []int64{0, 0}}, {-1, []int64{1}}, {1, []int64{-1, 2}}, {1, []int64{1e13}}} {
		if got, err := billing.Allocate(bad.amount, bad.weights); err == nil {
			t.Errorf("Allocate(%d, %v) = %v; want an error", bad.amount, bad.weights, got)
		}
	}
}

// FuzzAllocate: the parts sum to the amount, each is within one fen of its exact share, and
// none exceeds its weight while the amount does not exceed the weights' sum.
func FuzzAllocate(f *testing.F) {
	f.Add(int64(500), int64(891), int64(99), int64(0))
	f.Add(int64(1), int64(1), int64(1), int64(1))
	f.Fuzz(func(t *testing.T, amount, a, b, c int64) {
		weights := []int64{a, b, c}
		parts, err := billing.Allocate(amount, weights)
		if err != nil {
			return
		}
		var sum, total int64
		for i, p := range parts {
			sum += p
			total += weights[i]
		}
		if sum != amount {
			t.Fatalf("Allocate(%d, %v) = %v sums to %d", amount, weights, parts, sum)
		}
		if total == 0 {
			return // nothing to divide (amount is 0 here, and so is every part)
		}
		for i, p := range parts {
			exact := new(big.Rat).SetFrac(big.NewInt(amount), big.NewInt(total))
			exact.Mul(exact, big.NewRat(weights[i], 1))
			lo := new(big.Rat).Sub(exact, big.NewRat(1, 1))
			hi := new(big.Rat).Add(exact, big.NewRat(1, 1))
			if r := big.NewRat(p, 1); p < 0 || r.Cmp(lo) <= 0 || r.Cmp(hi) >= 0 || (amount <= total && p > weights[i]) {
				t.Fatalf("Allocate(%d, %v) = %v: part %d is %d, exact share %s", amount, weights, parts, i, p, exact.FloatString(3))
			}
		}
	})
}
