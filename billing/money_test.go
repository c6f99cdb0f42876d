package billing_test

import (
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
