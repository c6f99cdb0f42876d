package market

import (
	"testing"
	"time"
)

// Every retry of a provider call must fall inside the 24 hours for which Stripe answers a
// repeated idempotency key with its first answer; a later retry of a call whose answer was lost
// would be made afresh, paying twice. The lease must outlast a call.
func TestRetriesStayInsideStripesIdempotencyWindow(t *testing.T) {
	var last time.Duration
	for attempt := 1; attempt < maxPaymentAttempts; attempt++ {
		d := retryDelay(attempt)
		if d <= 0 || d > time.Hour || d < retryDelay(max(attempt-1, 1)) {
			t.Fatalf("retryDelay(%d) = %v", attempt, d)
		}
		last += d + paymentLease // a claimed attempt can hold its row for the lease before failing
	}
	if last > 20*time.Hour {
		t.Fatalf("the last attempt comes %v after the first, too close to Stripe's 24 hours", last)
	}
	if paymentLease <= paymentCallTimeout {
		t.Fatalf("lease %v does not outlast a call of %v", paymentLease, paymentCallTimeout)
	}
}
