package market

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"ziyuan/billing"
)

// Sellers with a Stripe Connect account that can take payouts are paid their share of every card
// order by a transfer; a refund takes the matching part back by reversing it. Sellers without
// one are settled offline from the monthly statement.
//
// Provider calls are never made inside a database transaction. What is to be paid is queued in
// the transaction that decides it (seller_transfers when an order is paid, transfer_reversals
// and order_refunds when it is refunded); the payment worker claims each row with a conditional
// update (moving next_attempt_at, or an order_refunds row's locked_until, past the call), makes
// the call with an idempotency key derived from the row, and records the answer. A crash between a call and its record is repaired by the next
// attempt, which gets the same answer for the same key, so nothing is paid twice; several
// instances may run the worker side by side.

// Payout account states, as sellers see them.
const (
	PayoutAccountNone    = "none"    // no account yet (未开通)
	PayoutAccountPending = "pending" // opened, onboarding not finished (待完善)
	PayoutAccountEnabled = "enabled" // Stripe pays it out (已开通)
)

// PayoutAccount is a seller's payout account with the card provider.
type PayoutAccount struct {
	AccountID      string `json:"account_id"`
	PayoutsEnabled bool   `json:"payouts_enabled"`
	Status         string `json:"status"`
	// OnboardingURL is where the seller completes the account at the provider; it works once
	// and for a few minutes, so it is only returned by StartPayoutOnboarding.
	OnboardingURL string `json:"onboarding_url,omitempty"`
}

// Retries of queued provider calls.
const (
	// maxPaymentAttempts bounds the worker's attempts at one call. With retryDelay the last
	// one falls about 12 hours after the first, inside the 24 hours for which Stripe answers a
	// repeated idempotency key with the first answer: a call whose answer was lost is never
	// made afresh. A row that runs out of attempts keeps its last error for an operator.
	maxPaymentAttempts = 20
	// paymentLease is how long a claimed row is left to the worker that claimed it; it
	// outlasts paymentCallTimeout, so two workers never call for one row at once.
	paymentLease       = 5 * time.Minute
	paymentCallTimeout = 2 * time.Minute
)

// retryDelay is the wait after a failed attempt: 10 s, doubling, at most an hour.
func retryDelay(attempts int) time.Duration {
	return min(10*time.Second<<min(max(attempts-1, 0), 9), time.Hour)
}

type sellerTransferRow struct {
	OrderID       string `gorm:"primaryKey"`
	SellerID      string `gorm:"primaryKey"`
	AccountID     string
	AmountFen     int64
	Currency      string
	TransferID    *string
	ReversedFen   int64
	Attempts      int
	Rejections    int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	TransferredAt *time.Time
}

func (sellerTransferRow) TableName() string { return "seller_transfers" }

type transferReversalRow struct {
	RefundID      string `gorm:"primaryKey"`
	SellerID      string `gorm:"primaryKey"`
	OrderID       string
	AmountFen     int64
	ReversalID    *string
	Attempts      int
	Rejections    int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	ReversedAt    *time.Time
}

func (transferReversalRow) TableName() string { return "transfer_reversals" }

// TransferIdempotencyKey is the key of a seller's transfer for an order: one transfer per seller
// and order, however often the worker tries. A refused transfer is tried afresh under a new key
// (Stripe answers a key with its first answer, refusals included).
func TransferIdempotencyKey(orderID, sellerID string, rejections int) string {
	return withRetry("transfer:order:"+orderID+":seller:"+sellerID, rejections)
}

// ReversalIdempotencyKey is the key of the reversal of a seller's transfer after one refund.
func ReversalIdempotencyKey(refundID, sellerID string, rejections int) string {
	return withRetry("reversal:refund:"+refundID+":seller:"+sellerID, rejections)
}

func withRetry(key string, rejections int) string {
	if rejections == 0 {
		return key
	}
	return key + ":retry:" + strconv.Itoa(rejections)
}

// errNoProvider is the answer for a provider that is not configured here.
func errNoProvider() *Error { return Errorf(CodeNotFound, MsgNotFound, "payment provider") }

// payouts returns the provider that pays sellers, when one is configured.
func (m *Market) payouts() (billing.Payouts, bool) {
	p, ok := m.opts.Providers[ProviderStripe].(billing.Payouts)
	return p, ok
}

// requireSeller admits verified teachers and vendors, who are paid for what they sell. Students
// never are, whatever else they hold.
func requireSeller(ctx context.Context) (Actor, error) {
	a, err := RequireActive(ctx)
	if err != nil {
		return a, err
	}
	if a.Has(RoleStudent) || !(a.Has(RoleTeacher) || a.Has(RoleVendor)) {
		return a, Errorf(CodeForbidden, MsgPayoutSellers)
	}
	return a, nil
}

func (m *Market) sellerAccount(ctx context.Context, userID string) (*sellerAccountRow, error) {
	var rows []sellerAccountRow
	if err := m.db.WithContext(ctx).Where("user_id = ?", userID).Limit(1).Find(&rows).Error; err != nil {
		return nil, Internal(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

func payoutAccountView(row *sellerAccountRow) PayoutAccount {
	switch {
	case row == nil:
		return PayoutAccount{Status: PayoutAccountNone}
	case row.PayoutsEnabled:
		return PayoutAccount{AccountID: row.AccountID, PayoutsEnabled: true, Status: PayoutAccountEnabled}
	default:
		return PayoutAccount{AccountID: row.AccountID, Status: PayoutAccountPending}
	}
}

// MyPayoutAccount returns the acting seller's payout account and its state.
func (m *Market) MyPayoutAccount(ctx context.Context) (PayoutAccount, error) {
	a, err := requireSeller(ctx)
	if err != nil {
		return PayoutAccount{}, err
	}
	if _, ok := m.payouts(); !ok {
		return PayoutAccount{}, errNoProvider()
	}
	row, err := m.sellerAccount(ctx, a.UserID)
	if err != nil {
		return PayoutAccount{}, err
	}
	return payoutAccountView(row), nil
}

// StartPayoutOnboarding opens the acting seller's payout account if it has none and returns a
// fresh onboarding link for it: refreshURL is where the provider sends a seller whose link has
// expired (it should start onboarding again), returnURL where it sends one who is done.
//
// The account is stored before the link is made, so a seller who never finishes keeps the
// account it began. Concurrent calls store one account: the provider opens accounts under a
// per-seller idempotency key, and the row is keyed by the seller.
func (m *Market) StartPayoutOnboarding(ctx context.Context, refreshURL, returnURL string) (PayoutAccount, error) {
	const action = "payout_account.onboard"
	a, err := requireSeller(ctx)
	if err != nil {
		m.auditDenied(ctx, action, "", err)
		return PayoutAccount{}, err
	}
	p, ok := m.payouts()
	if !ok {
		return PayoutAccount{}, errNoProvider()
	}
	row, err := m.sellerAccount(ctx, a.UserID)
	if err != nil {
		return PayoutAccount{}, err
	}
	if row == nil {
		id, err := p.CreateAccount(ctx, a.UserID, "")
		if err != nil {
			err = payoutsError(err)
			m.auditDenied(ctx, action, a.UserID, err)
			return PayoutAccount{}, err
		}
		now := m.now()
		fresh := sellerAccountRow{UserID: a.UserID, Provider: ProviderStripe, AccountID: id, CreatedAt: now, UpdatedAt: now}
		err = m.tx(ctx, func(tx *gorm.DB) error {
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&fresh)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error // a concurrent call stored the account first
			}
			return m.audit(ctx, tx, "payout_account.create", a.UserID, OutcomeOK, map[string]string{"account": id})
		})
		if err != nil {
			return PayoutAccount{}, err
		}
		if row, err = m.sellerAccount(ctx, a.UserID); err != nil {
			return PayoutAccount{}, err
		}
		if row == nil {
			// The account ID belongs to another seller: the provider answered one seller's
			// request with another's account.
			return PayoutAccount{}, Internal(fmt.Errorf("payout account %s for seller %s is taken", id, a.UserID))
		}
	}
	link, err := p.OnboardingLink(ctx, row.AccountID, refreshURL, returnURL)
	if err != nil {
		err = payoutsError(err)
		m.auditDenied(ctx, action, a.UserID, err)
		return PayoutAccount{}, err
	}
	if err := m.audit(ctx, nil, action, a.UserID, OutcomeOK, map[string]string{"account": row.AccountID}); err != nil {
		return PayoutAccount{}, Internal(err)
	}
	out := payoutAccountView(row)
	out.OnboardingURL = link
	return out, nil
}

// payoutsError maps a provider's failure to open an account or a link.
func payoutsError(err error) error {
	if errors.Is(err, billing.ErrUnavailable) {
		return &Error{Code: CodeUnavailable, RetryAfterSeconds: 5, Msg: Message{Key: MsgPayoutsDown}, Err: err}
	}
	return Internal(err)
}

// queueTransfers queues, in the transaction that marks a card order paid, one transfer per
// seller whose account can take payouts: the sum of the seller's shares of the order's lines.
func (m *Market) queueTransfers(tx *gorm.DB, row orderRow, items []orderItemRow, now time.Time) (bool, error) {
	if _, ok := m.payouts(); !ok || row.Provider != ProviderStripe {
		return false, nil
	}
	shares := map[string]int64{}
	var sellers []string
	for _, it := range items {
		if it.SellerFen <= 0 {
			continue
		}
		if _, seen := shares[it.SellerID]; !seen {
			sellers = append(sellers, it.SellerID)
		}
		shares[it.SellerID] += it.SellerFen
	}
	queued := false
	for _, seller := range sellers {
		var accounts []sellerAccountRow
		if err := tx.Where("user_id = ? AND provider = ? AND payouts_enabled = ?", seller, ProviderStripe, true).Limit(1).Find(&accounts).Error; err != nil {
			return false, err
		}
		if len(accounts) == 0 {
			continue // settled from the monthly statement
		}
		t := sellerTransferRow{OrderID: row.ID, SellerID: seller, AccountID: accounts[0].AccountID, AmountFen: shares[seller],
			Currency: row.Currency, NextAttemptAt: now, CreatedAt: now}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&t)
		if res.Error != nil {
			return false, res.Error
		}
		queued = queued || res.RowsAffected > 0
	}
	return queued, nil
}

// ProcessQueuedPayments makes the provider calls that paid and refunded orders queued —
// transfers of sellers' shares, refunds asked for here that are not finished, and reversals of
// transfers after refunds — and records their results. It returns how many it completed. A
// failed call is retried later (see retryDelay); several instances may run this at once.
func (m *Market) ProcessQueuedPayments(ctx context.Context) (int, error) {
	done := 0
	p, canPay := m.payouts()
	if canPay {
		var due []sellerTransferRow
		if err := m.db.WithContext(ctx).Where("transfer_id IS NULL AND next_attempt_at <= ? AND attempts < ?", m.now(), maxPaymentAttempts).
			Order("next_attempt_at, order_id, seller_id").Limit(100).Find(&due).Error; err != nil {
			return done, Internal(err)
		}
		for _, t := range due {
			ok, err := m.makeTransfer(ctx, p, t)
			if err != nil {
				return done, err
			}
			if ok {
				done++
			}
		}
	}
	var refunds []orderRefundRow
	if err := m.db.WithContext(ctx).Where("applied_at IS NULL AND source = ? AND next_attempt_at <= ? AND attempts < ?", refundRequested, m.now(), maxPaymentAttempts).
		Order("next_attempt_at, id").Limit(100).Find(&refunds).Error; err != nil {
		return done, Internal(err)
	}
	for _, r := range refunds {
		if err := m.completeRefund(ctx, r.ID, false); err != nil {
			if ctx.Err() != nil {
				return done, err
			}
			m.log.WarnContext(ctx, "refund not finished; will retry", "refund", r.ID, "order", r.OrderID, "err", err)
			continue
		}
		done++
	}
	if canPay {
		// A reversal waits for its transfer.
		var due []transferReversalRow
		err := m.db.WithContext(ctx).Where("reversal_id IS NULL AND next_attempt_at <= ? AND attempts < ?", m.now(), maxPaymentAttempts).
			Where("EXISTS (SELECT 1 FROM seller_transfers t WHERE t.order_id = transfer_reversals.order_id AND t.seller_id = transfer_reversals.seller_id AND t.transfer_id IS NOT NULL)").
			Order("next_attempt_at, refund_id, seller_id").Limit(100).Find(&due).Error
		if err != nil {
			return done, Internal(err)
		}
		for _, r := range due {
			ok, err := m.makeReversal(ctx, p, r)
			if err != nil {
				return done, err
			}
			if ok {
				done++
			}
		}
	}
	return done, nil
}

// makeTransfer claims a queued transfer, makes it and records it with the seller's payout.
func (m *Market) makeTransfer(ctx context.Context, p billing.Payouts, t sellerTransferRow) (bool, error) {
	now := m.now()
	claim := m.db.WithContext(ctx).Model(&sellerTransferRow{}).
		Where("order_id = ? AND seller_id = ? AND transfer_id IS NULL AND next_attempt_at <= ? AND attempts < ?", t.OrderID, t.SellerID, now, maxPaymentAttempts).
		Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "next_attempt_at": now.Add(paymentLease)})
	if claim.Error != nil {
		return false, Internal(claim.Error)
	}
	if claim.RowsAffected == 0 {
		return false, nil // another worker has it, or it was made meanwhile
	}
	t.Attempts++
	cctx, cancel := context.WithTimeout(ctx, paymentCallTimeout)
	id, err := p.Transfer(cctx, t.AccountID, t.AmountFen, t.Currency, t.OrderID, TransferIdempotencyKey(t.OrderID, t.SellerID, t.Rejections))
	cancel()
	where := m.db.WithContext(ctx).Model(&sellerTransferRow{}).Where("order_id = ? AND seller_id = ? AND transfer_id IS NULL", t.OrderID, t.SellerID)
	if err != nil {
		return false, m.callFailed(ctx, where, "payout.transfer", t.OrderID, t.Attempts, err,
			map[string]any{"seller": t.SellerID, "amount_fen": t.AmountFen})
	}
	err = m.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&sellerTransferRow{}).Where("order_id = ? AND seller_id = ? AND transfer_id IS NULL", t.OrderID, t.SellerID).
			Updates(map[string]any{"transfer_id": id, "transferred_at": now, "last_error": ""})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error // recorded by a worker whose lease ran out under a slow call: same key, same transfer
		}
		payout := balanceRow{SellerID: t.SellerID, Kind: "payout", AmountFen: -t.AmountFen, OrderID: t.OrderID, Reference: id, CreatedAt: now}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&payout).Error; err != nil {
			return err
		}
		return m.audit(ctx, tx, "payout.transfer", t.OrderID, OutcomeOK, map[string]any{"seller": t.SellerID, "amount_fen": t.AmountFen, "transfer": id})
	})
	return err == nil, err
}

// makeReversal claims a queued reversal, makes it and records it: the seller's balance gets
// back what the refund took, since Stripe takes it from the seller's account instead.
func (m *Market) makeReversal(ctx context.Context, p billing.Payouts, r transferReversalRow) (bool, error) {
	var transfer sellerTransferRow
	if err := m.db.WithContext(ctx).Where("order_id = ? AND seller_id = ?", r.OrderID, r.SellerID).Take(&transfer).Error; err != nil {
		return false, Internal(err)
	}
	transferID := *transfer.TransferID
	now := m.now()
	claim := m.db.WithContext(ctx).Model(&transferReversalRow{}).
		Where("refund_id = ? AND seller_id = ? AND reversal_id IS NULL AND next_attempt_at <= ? AND attempts < ?", r.RefundID, r.SellerID, now, maxPaymentAttempts).
		Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "next_attempt_at": now.Add(paymentLease)})
	if claim.Error != nil {
		return false, Internal(claim.Error)
	}
	if claim.RowsAffected == 0 {
		return false, nil
	}
	r.Attempts++
	cctx, cancel := context.WithTimeout(ctx, paymentCallTimeout)
	id, err := p.ReverseTransfer(cctx, transferID, r.AmountFen, ReversalIdempotencyKey(r.RefundID, r.SellerID, r.Rejections))
	cancel()
	where := m.db.WithContext(ctx).Model(&transferReversalRow{}).Where("refund_id = ? AND seller_id = ? AND reversal_id IS NULL", r.RefundID, r.SellerID)
	if err != nil {
		return false, m.callFailed(ctx, where, "payout.reversal", r.OrderID, r.Attempts, err,
			map[string]any{"seller": r.SellerID, "amount_fen": r.AmountFen, "transfer": transferID})
	}
	err = m.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&transferReversalRow{}).Where("refund_id = ? AND seller_id = ? AND reversal_id IS NULL", r.RefundID, r.SellerID).
			Updates(map[string]any{"reversal_id": id, "reversed_at": now, "last_error": ""})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		if err := tx.Model(&sellerTransferRow{}).Where("order_id = ? AND seller_id = ?", r.OrderID, r.SellerID).
			UpdateColumn("reversed_fen", gorm.Expr("reversed_fen + ?", r.AmountFen)).Error; err != nil {
			return err
		}
		back := balanceRow{SellerID: r.SellerID, Kind: "payout", AmountFen: r.AmountFen, OrderID: r.OrderID, Reference: id,
			Reason: "transfer_reversed", CreatedAt: now}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&back).Error; err != nil {
			return err
		}
		return m.audit(ctx, tx, "payout.reversal", r.OrderID, OutcomeOK, map[string]any{"seller": r.SellerID, "amount_fen": r.AmountFen,
			"transfer": transferID, "reversal": id})
	})
	return err == nil, err
}

// callFailed schedules the next attempt at a failed call (where selects its row). A refusal
// also moves the row to a fresh idempotency key; a call whose outcome is unknown keeps its key,
// so that a call that did go through is answered, not repeated. The last attempt is audited
// as failed, for an operator to settle by hand.
func (m *Market) callFailed(ctx context.Context, where *gorm.DB, action, orderID string, attempts int, cause error, detail map[string]any) error {
	upd := map[string]any{"next_attempt_at": m.now().Add(retryDelay(attempts)), "last_error": cause.Error()}
	if !errors.Is(cause, billing.ErrUnavailable) {
		upd["rejections"] = gorm.Expr("rejections + 1")
	}
	if err := where.Updates(upd).Error; err != nil {
		return Internal(err)
	}
	if attempts < maxPaymentAttempts {
		m.log.WarnContext(ctx, "payment call failed; will retry", "action", action, "order", orderID, "attempt", attempts, "err", cause)
		return nil
	}
	m.log.ErrorContext(ctx, "payment call failed for the last time; settle it by hand", "action", action, "order", orderID, "err", cause)
	detail["error"] = cause.Error()
	if err := m.audit(ctx, nil, action, orderID, OutcomeFailed, detail); err != nil {
		return Internal(err)
	}
	return nil
}
