package market

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"ziyuan/billing"
	"ziyuan/rights"
)

// Refunds are by whole order lines. A refund names the lines it returns (by position) and
// returns what is left of each; without lines it returns everything not yet refunded. An
// amount, when given, must equal what the named lines (or, without lines, the whole rest) come
// to: an amount that is not whole lines is refused, since no licence could honestly be said to
// be paid back by it. A refund revokes the licences of the lines it refunds in full — all of
// them once the whole order is refunded — and each seller bears exactly its share of the
// refunded lines; where the seller was paid by transfer, that part of the transfer is reversed.
//
// A refund made at the provider for any other amount (the Stripe dashboard) arrives as a
// notification of the total refunded so far; what it adds is spread over the lines still
// unrefunded in proportion to what is left of them, and revokes only licences whose line it
// happens to refund in full — usually none until the order is refunded in full.

// RefundRequest says what to refund: Lines by position, and AmountFen as a check of their total.
// Neither: the rest of the order.
type RefundRequest struct {
	AmountFen *int64 `json:"amount_fen,omitempty"`
	Lines     []int  `json:"lines,omitempty"`
}

// Refund sources.
const (
	refundRequested = "request"  // asked for here (RefundOrder)
	refundReported  = "provider" // reported by the provider, made elsewhere
)

type orderRefundRow struct {
	ID            string `gorm:"primaryKey"`
	OrderID       string
	AmountFen     int64
	Positions     string
	Source        string
	ProviderRef   string
	Attempts      int
	NextAttemptAt time.Time
	LockedUntil   *time.Time
	LastError     string
	CreatedAt     time.Time
	AppliedAt     *time.Time
}

func (orderRefundRow) TableName() string { return "order_refunds" }

func (r orderRefundRow) positions() []int {
	var p []int
	json.Unmarshal([]byte(r.Positions), &p)
	return p
}

// RefundIdempotencyKey is the key a requested refund is made under at the provider: retrying
// it — by the admin, or by the payment worker after a crash — never returns the money twice.
func RefundIdempotencyKey(refundID string) string { return "refund:" + refundID }

// refundGrace is how long the payment worker leaves a requested refund to the request that
// made it before finishing it itself.
const refundGrace = time.Minute

// RefundOrder returns money of a paid order (platform admins): the lines req names, or all that
// is left. The refund is made at the provider with an explicit amount, then recorded: the
// lines' licences revoked with their ledger entries, the sellers debited their shares, their
// transfers reversed in part. Sending the same refund again changes nothing more; while one
// refund of an order is unfinished (the provider did not answer), another is refused until the
// same one is sent again or the payment worker finishes it.
func (m *Market) RefundOrder(ctx context.Context, id string, req RefundRequest) (Order, error) {
	if _, err := requireRole(ctx, RolePlatformAdmin); err != nil {
		m.auditDenied(ctx, "order.refund", id, err)
		return Order{}, err
	}
	row, err := m.loadOrder(ctx, m.db.DB, id)
	if err != nil {
		return Order{}, err
	}
	switch billing.Status(row.Status) {
	case billing.StatusRefunded:
		return m.Order(ctx, id)
	case billing.StatusPaid, billing.StatusPartiallyRefunded:
	default:
		return Order{}, Errorf(CodeConflict, MsgOrderState, row.Status)
	}
	items, err := m.orderItems(ctx, m.db.DB, id)
	if err != nil {
		return Order{}, err
	}
	positions, amount, err := resolveRefund(row, items, req)
	if err != nil {
		return Order{}, err
	}
	if amount == 0 {
		return m.Order(ctx, id) // the lines were refunded already
	}
	r, err := m.openRefund(ctx, row.ID, positions, amount)
	if err != nil {
		return Order{}, err
	}
	if err := m.completeRefund(ctx, r.ID, true); err != nil {
		return Order{}, err
	}
	return m.Order(ctx, id)
}

// resolveRefund turns a request into the lines it refunds and their amount (0: nothing left
// to refund of the named lines).
func resolveRefund(row orderRow, items []orderItemRow, req RefundRequest) ([]int, int64, error) {
	rest := row.AmountFen - row.RefundedFen
	if req.AmountFen != nil && (*req.AmountFen <= 0 || *req.AmountFen > rest) {
		return nil, 0, Errorf(CodeInvalid, MsgFieldOneOf, "amount_fen", fmt.Sprint(*req.AmountFen), fmt.Sprintf("1–%d", rest))
	}
	left := func(i int) int64 { return items[i].AmountFen - items[i].RefundedFen }
	var open []int
	for i := range items {
		if left(i) > 0 {
			open = append(open, i)
		}
	}
	positions, sum := open, rest
	if len(req.Lines) > 0 {
		positions, sum = nil, 0
		refunded := -1
		for _, p := range req.Lines {
			if p < 0 || p >= len(items) {
				return nil, 0, Errorf(CodeInvalid, MsgFieldOneOf, "lines", fmt.Sprint(p), fmt.Sprintf("0–%d", len(items)-1))
			}
			switch {
			case slices.Contains(positions, p):
			case left(p) <= 0:
				refunded = p
			default:
				positions = append(positions, p)
				sum += left(p)
			}
		}
		if len(positions) == 0 {
			return nil, 0, nil
		}
		if refunded >= 0 {
			return nil, 0, Errorf(CodeConflict, MsgLineRefunded, refunded)
		}
		slices.Sort(positions)
		if slices.Equal(positions, open) {
			sum = rest // every line left: the rest of the order, to the fen
		}
	}
	if req.AmountFen != nil && *req.AmountFen != sum {
		var b strings.Builder
		for _, i := range open {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "#%d %d", i, left(i))
		}
		return nil, 0, Errorf(CodeUnprocessable, MsgRefundWholeLines, *req.AmountFen, sum, b.String())
	}
	return positions, sum, nil
}

// openRefund returns the order's unfinished refund if it is this one, else records this one.
func (m *Market) openRefund(ctx context.Context, orderID string, positions []int, amount int64) (orderRefundRow, error) {
	if positions == nil {
		positions = []int{}
	}
	p, _ := json.Marshal(positions)
	for range 2 {
		var open []orderRefundRow
		if err := m.db.WithContext(ctx).Where("order_id = ? AND applied_at IS NULL", orderID).Limit(1).Find(&open).Error; err != nil {
			return orderRefundRow{}, Internal(err)
		}
		if len(open) > 0 {
			if open[0].Positions == string(p) && open[0].AmountFen == amount {
				return open[0], nil // the same refund again: finish it
			}
			return orderRefundRow{}, Errorf(CodeConflict, MsgRefundOpen, open[0].Positions)
		}
		now := m.now()
		r := orderRefundRow{ID: NewID(), OrderID: orderID, AmountFen: amount, Positions: string(p), Source: refundRequested,
			NextAttemptAt: now.Add(refundGrace), CreatedAt: now}
		res := m.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&r)
		if res.Error != nil {
			return orderRefundRow{}, Internal(res.Error)
		}
		if res.RowsAffected == 1 {
			return r, nil
		}
		// A concurrent request opened a refund first: compare with it.
	}
	return orderRefundRow{}, Errorf(CodeConflict, MsgConcurrentEdit)
}

// completeRefund finishes a requested refund: it claims the row, has the provider return the
// money (unless it already did, or the order was paid offline) and records the refund. The
// request that made the refund calls it at once (manual); the payment worker calls it for
// refunds whose request failed or stopped.
func (m *Market) completeRefund(ctx context.Context, id string, manual bool) error {
	now := m.now()
	q := m.db.WithContext(ctx).Model(&orderRefundRow{}).Where("id = ? AND applied_at IS NULL AND (locked_until IS NULL OR locked_until <= ?)", id, now)
	if !manual {
		q = q.Where("next_attempt_at <= ? AND attempts < ?", now, maxPaymentAttempts)
	}
	claim := q.Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "locked_until": now.Add(paymentLease)})
	if claim.Error != nil {
		return Internal(claim.Error)
	}
	var r orderRefundRow
	err := m.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Errorf(CodeConflict, MsgRefundRefused) // refused in another attempt, and dropped
	}
	if err != nil {
		return Internal(err)
	}
	if r.AppliedAt != nil {
		return nil
	}
	if claim.RowsAffected == 0 {
		if manual {
			return &Error{Code: CodeUnavailable, RetryAfterSeconds: 5, Msg: Message{Key: MsgRefundInProgress}}
		}
		return nil
	}
	release := func(cause error) {
		upd := map[string]any{"locked_until": nil, "next_attempt_at": m.now().Add(retryDelay(r.Attempts)), "last_error": cause.Error()}
		if err := m.db.WithContext(context.WithoutCancel(ctx)).Model(&orderRefundRow{}).Where("id = ? AND applied_at IS NULL", id).Updates(upd).Error; err != nil {
			m.log.ErrorContext(ctx, "refund not released", "refund", id, "err", err)
		}
	}
	row, err := m.loadOrder(ctx, m.db.DB, r.OrderID)
	if err != nil {
		release(err)
		return err
	}
	if row.Provider == ProviderStripe && r.ProviderRef == "" {
		refunds, ok := m.opts.Providers[ProviderStripe].(billing.Refunds)
		if !ok {
			err := Internal(errors.New("the Stripe provider cannot refund"))
			release(err)
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, paymentCallTimeout)
		ref, err := refunds.Refund(cctx, row.PaymentRef, r.AmountFen, RefundIdempotencyKey(r.ID))
		cancel()
		if errors.Is(err, billing.ErrUnavailable) {
			release(err)
			return &Error{Code: CodeUnavailable, RetryAfterSeconds: 5, Msg: Message{Key: MsgPaymentsDown}, Err: err}
		}
		if err != nil {
			// Refused: no money moved, so the refund is dropped and may be asked for again.
			if derr := m.db.WithContext(ctx).Where("id = ? AND applied_at IS NULL", id).Delete(&orderRefundRow{}).Error; derr != nil {
				return Internal(derr)
			}
			m.auditDenied(ctx, "order.refund", row.ID, Internal(err))
			return &Error{Code: CodeConflict, Msg: Message{Key: MsgRefundRefused}, Err: err}
		}
		if err := m.db.WithContext(ctx).Model(&orderRefundRow{}).Where("id = ?", id).Update("provider_ref", ref).Error; err != nil {
			release(err)
			return Internal(err)
		}
	}
	err = m.applyRefund(ctx, row.ID, id, 0, "")
	// Stripe's notification of this very refund may be recorded at the same moment (on
	// PostgreSQL the loser sees a concurrent change): try again on the new state, where the
	// refund is found recorded or is recorded on top.
	for try := 0; try < 3 && concurrentChange(err); try++ {
		err = m.applyRefund(ctx, row.ID, id, 0, "")
	}
	if err != nil {
		release(err)
		return err
	}
	return nil
}

// concurrentChange reports a conflict with a change committed meanwhile, which trying again
// on the new state resolves.
func concurrentChange(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Msg.Key == MsgConcurrentEdit
}

// applyRefund records refunds of an order in one transaction: the requested refund refundID,
// or, when refundID is empty, what a provider reports as refunded in all (providerTotal): the
// open requested refund that report covers, and any rest as a refund made elsewhere. Reports
// of totals already recorded change nothing, so replays and reordered reports are harmless.
func (m *Market) applyRefund(ctx context.Context, orderID, refundID string, providerTotal int64, providerRef string) error {
	row, err := m.loadOrder(ctx, m.db.DB, orderID)
	if err != nil {
		return err
	}
	if refundID == "" && min(providerTotal, row.AmountFen) <= row.RefundedFen {
		return nil
	}
	// Revocations cite their grants; waiting for the ledger belongs outside the transaction.
	var active []licenseRow
	if err := m.db.WithContext(ctx).Where("order_id = ? AND status = ?", orderID, LicenseActive).Find(&active).Error; err != nil {
		return Internal(err)
	}
	grants := map[string]rights.Parent{}
	for _, l := range active {
		p, err := m.pin(ctx, "license.granted:"+l.ID)
		if err != nil {
			return err
		}
		grants[l.ID] = p
	}
	now := m.now()
	queued := false
	err = m.tx(ctx, func(tx *gorm.DB) error {
		var cur orderRow
		if err := tx.Where("id = ?", orderID).Take(&cur).Error; err != nil {
			return err
		}
		// Claim the order first (and check that no refund was recorded since it was read):
		// concurrent recorders of one order take turns here.
		claim := tx.Model(&orderRow{}).Where("id = ? AND refunded_fen = ?", orderID, cur.RefundedFen).Update("updated_at", now)
		if claim.Error != nil {
			return claim.Error
		}
		if claim.RowsAffected == 0 {
			return Errorf(CodeConflict, MsgConcurrentEdit)
		}
		var steps []orderRefundRow
		action := "order.refund"
		if refundID != "" {
			var r orderRefundRow
			if err := tx.Where("id = ?", refundID).Take(&r).Error; err != nil {
				return err
			}
			if r.AppliedAt != nil {
				return nil
			}
			steps = append(steps, r)
		} else {
			action = "order.refunded"
			added := min(providerTotal, cur.AmountFen) - cur.RefundedFen
			if added <= 0 {
				return nil
			}
			var open []orderRefundRow
			if err := tx.Where("order_id = ? AND applied_at IS NULL", orderID).Limit(1).Find(&open).Error; err != nil {
				return err
			}
			// The report covers the open refund if the provider confirmed it, or if the report
			// adds at least its amount (the answer to our request was lost).
			if len(open) > 0 && (open[0].ProviderRef != "" || open[0].AmountFen <= added) {
				steps = append(steps, open[0])
				added -= open[0].AmountFen
			}
			if added > 0 {
				r := orderRefundRow{ID: NewID(), OrderID: orderID, AmountFen: added, Positions: "[]", Source: refundReported,
					ProviderRef: providerRef, NextAttemptAt: now, CreatedAt: now, AppliedAt: &now}
				if err := tx.Create(&r).Error; err != nil {
					return err
				}
				steps = append(steps, r)
			}
		}
		items, err := m.orderItems(ctx, tx, orderID)
		if err != nil {
			return err
		}
		from := billing.Status(cur.Status)
		before := cur.RefundedFen
		var lines []int
		for _, r := range steps {
			q, err := m.applyRefundStep(ctx, tx, &cur, items, r, grants, now)
			if err != nil {
				return err
			}
			queued = queued || q
			lines = append(lines, r.positions()...)
		}
		if cur.RefundedFen == before {
			return nil
		}
		status := billing.StatusPartiallyRefunded
		if cur.RefundedFen >= cur.AmountFen {
			status = billing.StatusRefunded
		}
		if !billing.CanTransition(from, status) {
			return Errorf(CodeConflict, MsgOrderState, from)
		}
		if err := tx.Model(&orderRow{}).Where("id = ?", orderID).
			Updates(map[string]any{"status": status, "refunded_fen": cur.RefundedFen}).Error; err != nil {
			return err
		}
		return m.audit(ctx, tx, action, orderID, OutcomeOK, map[string]any{"refunded_fen": cur.RefundedFen,
			"amount_fen": cur.RefundedFen - before, "lines": lines, "full": status == billing.StatusRefunded})
	})
	if err != nil {
		return err
	}
	if queued {
		m.opts.PaymentsChanged()
	}
	return nil
}

// applyRefundStep records one refund in tx: what each line returns, each seller's share of it,
// the licences of lines now refunded in full, and reversals of the sellers' transfers. cur and
// items are updated to match. It reports whether it queued a reversal.
func (m *Market) applyRefundStep(ctx context.Context, tx *gorm.DB, cur *orderRow, items []orderItemRow, r orderRefundRow,
	grants map[string]rights.Parent, now time.Time) (bool, error) {
	left := func(i int) int64 { return items[i].AmountFen - items[i].RefundedFen }
	rest := cur.AmountFen - cur.RefundedFen
	// A report recorded meanwhile may have taken part of what a requested refund asked for.
	amount := min(r.AmountFen, rest)
	parts := make([]int64, len(items))
	if amount > 0 && amount == rest {
		for i := range items {
			parts[i] = max(left(i), 0)
		}
	} else if amount > 0 {
		// The named lines, or (for a report, or when the named lines have less left than
		// asked) every line with something left, in proportion to what is left of it.
		var on []int
		var weights []int64
		var sum int64
		for _, pick := range [][]int{r.positions(), nil} {
			on, weights, sum = nil, nil, 0
			for i := range items {
				if left(i) > 0 && (pick == nil || slices.Contains(pick, i)) {
					on, weights, sum = append(on, i), append(weights, left(i)), sum+left(i)
				}
			}
			if len(on) > 0 && sum >= amount {
				break
			}
		}
		if len(on) > 0 {
			split, err := billing.Allocate(amount, weights)
			if err != nil {
				return false, err
			}
			for k, i := range on {
				parts[i] = split[k]
			}
		}
	}
	debits := map[string]int64{}
	var sellers []string
	for i := range items {
		it := &items[i]
		if parts[i] <= 0 {
			continue
		}
		sellerLeft := max(it.SellerFen-it.SellerRefundedFen, 0)
		share := sellerLeft
		if parts[i] < left(i) {
			// The seller and the platform bear a partial refund of a line as they shared it.
			split, err := billing.Allocate(parts[i], []int64{sellerLeft, max(left(i)-sellerLeft, 0)})
			if err != nil {
				return false, err
			}
			share = split[0]
		}
		it.RefundedFen += parts[i]
		it.SellerRefundedFen += share
		if err := tx.Model(&orderItemRow{}).Where("order_id = ? AND position = ?", it.OrderID, it.Position).
			Updates(map[string]any{"refunded_fen": it.RefundedFen, "seller_refunded_fen": it.SellerRefundedFen}).Error; err != nil {
			return false, err
		}
		if share == 0 {
			continue
		}
		var balance int64
		if err := tx.Model(&balanceRow{}).Where("seller_id = ?", it.SellerID).Select("COALESCE(SUM(amount_fen), 0)").Scan(&balance).Error; err != nil {
			return false, err
		}
		reason := ""
		if balance-share < 0 {
			reason = "refund_after_payout"
		}
		debit := balanceRow{SellerID: it.SellerID, Kind: "refund", AmountFen: -share, OrderID: cur.ID,
			Reference: fmt.Sprintf("%d:%d", it.Position, cur.RefundedFen+amount), Reason: reason, CreatedAt: now}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&debit).Error; err != nil {
			return false, err
		}
		if _, seen := debits[it.SellerID]; !seen {
			sellers = append(sellers, it.SellerID)
		}
		debits[it.SellerID] += share
	}
	cur.RefundedFen += max(amount, 0)
	if err := m.revokeRefunded(ctx, tx, *cur, items, grants, now); err != nil {
		return false, err
	}
	queued := false
	for _, seller := range sellers {
		var transfers []sellerTransferRow
		if err := tx.Where("order_id = ? AND seller_id = ?", cur.ID, seller).Limit(1).Find(&transfers).Error; err != nil {
			return false, err
		}
		if len(transfers) == 0 {
			continue // not paid by transfer: the statement shows the debit
		}
		var reversing int64
		if err := tx.Model(&transferReversalRow{}).Where("order_id = ? AND seller_id = ?", cur.ID, seller).
			Select("COALESCE(SUM(amount_fen), 0)").Scan(&reversing).Error; err != nil {
			return false, err
		}
		amt := min(debits[seller], transfers[0].AmountFen-reversing)
		if amt <= 0 {
			continue
		}
		rev := transferReversalRow{RefundID: r.ID, SellerID: seller, OrderID: cur.ID, AmountFen: amt, NextAttemptAt: now, CreatedAt: now}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rev)
		if res.Error != nil {
			return false, res.Error
		}
		queued = queued || res.RowsAffected > 0
	}
	if r.AppliedAt == nil {
		if err := tx.Model(&orderRefundRow{}).Where("id = ? AND applied_at IS NULL", r.ID).
			Updates(map[string]any{"applied_at": now, "locked_until": nil, "last_error": ""}).Error; err != nil {
			return false, err
		}
	}
	return queued, nil
}

// revokeRefunded revokes, with their ledger entries, the active licences of lines refunded in
// full — every licence of the order once the order is. Licences bought before lines were
// recorded with them (order_position NULL) go with the whole order.
func (m *Market) revokeRefunded(ctx context.Context, tx *gorm.DB, cur orderRow, items []orderItemRow, grants map[string]rights.Parent, now time.Time) error {
	full := cur.RefundedFen >= cur.AmountFen
	var lics []licenseRow
	if err := tx.Where("order_id = ? AND status = ?", cur.ID, LicenseActive).Find(&lics).Error; err != nil {
		return err
	}
	for _, l := range lics {
		line := l.OrderPosition
		if !full && (line == nil || *line < 0 || *line >= len(items) || items[*line].RefundedFen < items[*line].AmountFen) {
			continue
		}
		grant, ok := grants[l.ID]
		if !ok {
			return Errorf(CodeConflict, MsgConcurrentEdit)
		}
		if err := tx.Model(&licenseRow{}).Where("id = ?", l.ID).
			Updates(map[string]any{"status": LicenseRevoked, "revoked_at": now, "revoke_reason": "refund"}).Error; err != nil {
			return err
		}
		e := rights.Entry{Type: rights.LicenseRevoked, Time: now, Reason: "refund", Parents: []rights.Parent{grant},
			Subjects: []rights.Subject{{Role: subjectLicense, ID: l.ID}, {Role: subjectWork, ID: l.ResourceID}, {Role: subjectHolder, ID: l.HolderID}}}
		if err := m.record(ctx, tx, "license.revoked:"+l.ID, e, l.ID); err != nil {
			return err
		}
	}
	return nil
}
