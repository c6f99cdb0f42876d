package market

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"ziyuan/billing"
)

type paymentEventRow struct {
	ID          string `gorm:"primaryKey"`
	Provider    string
	Type        string
	Kind        string
	OrderID     string
	Payload     string
	ReceivedAt  time.Time
	ProcessedAt *time.Time
	Attempts    int
	LastError   string
}

func (paymentEventRow) TableName() string { return "payment_events" }

// ReceiveWebhook verifies a provider's notification and stores its event once by ID. It does
// not apply the event: the caller answers the provider at once and ProcessPaymentEvents applies
// stored events, so nothing is lost if the process stops after answering, and a replayed event
// is recognised by its ID and ignored.
func (m *Market) ReceiveWebhook(ctx context.Context, provider string, payload []byte, signature string) (billing.Event, error) {
	p, ok := m.opts.Providers[provider]
	parser, canParse := p.(billing.WebhookParser)
	if !ok || !canParse {
		return billing.Event{}, errNoProvider()
	}
	ev, err := parser.ParseWebhook(payload, signature)
	if err != nil {
		if errors.Is(err, billing.ErrBadSignature) || errors.Is(err, billing.ErrBadPayload) {
			return billing.Event{}, &Error{Code: CodeInvalid, Msg: Message{Key: MsgBadWebhook}, Err: err}
		}
		return billing.Event{}, Internal(err)
	}
	row := paymentEventRow{ID: ev.ID, Provider: provider, Type: ev.Type, Kind: string(ev.Kind), OrderID: ev.OrderID,
		Payload: string(payload), ReceivedAt: m.now()}
	if err := m.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return billing.Event{}, Internal(err)
	}
	return ev, nil
}

// ProcessPaymentEvents applies stored events that have not been applied yet, oldest first, and
// returns how many it applied. Each event is applied in its own transaction; one that fails is
// retried on the next call (its error kept), so a poisoned event cannot block the rest.
func (m *Market) ProcessPaymentEvents(ctx context.Context) (int, error) {
	var rows []paymentEventRow
	if err := m.db.WithContext(ctx).Where("processed_at IS NULL AND attempts < ?", 20).Order("received_at, id").Limit(100).Find(&rows).Error; err != nil {
		return 0, Internal(err)
	}
	done := 0
	for _, r := range rows {
		p := m.opts.Providers[r.Provider]
		parser, ok := p.(billing.WebhookParser)
		if !ok {
			continue
		}
		ev, err := parser.ParseStored([]byte(r.Payload))
		if err == nil {
			err = m.applyEvent(ctx, ev)
		}
		upd := map[string]any{"attempts": gorm.Expr("attempts + 1")}
		if err != nil {
			upd["last_error"] = err.Error()
			m.log.WarnContext(ctx, "payment event not applied; will retry", "event", r.ID, "type", r.Type, "err", err)
		} else {
			upd["processed_at"] = m.now()
			done++
		}
		if uerr := m.db.WithContext(ctx).Model(&paymentEventRow{}).Where("id = ?", r.ID).Updates(upd).Error; uerr != nil {
			return done, Internal(uerr)
		}
	}
	return done, nil
}

// RunPaymentEvents applies stored events and makes the provider calls they and refunds queued
// (ProcessQueuedPayments) until ctx ends: at once when notified, else every poll.
func (m *Market) RunPaymentEvents(ctx context.Context, notify <-chan struct{}, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := m.ProcessPaymentEvents(ctx); err != nil && ctx.Err() == nil {
			m.log.ErrorContext(ctx, "process payment events", "err", err)
		}
		if _, err := m.ProcessQueuedPayments(ctx); err != nil && ctx.Err() == nil {
			m.log.ErrorContext(ctx, "process queued payments", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-notify:
		case <-t.C:
		}
	}
}

// applyEvent turns one payment fact into order changes. Every branch is idempotent and checks
// the order's state, so duplicated and out-of-order events change nothing more.
func (m *Market) applyEvent(ctx context.Context, ev billing.Event) error {
	switch ev.Kind {
	case billing.EventAccountUpdated:
		return m.tx(ctx, func(tx *gorm.DB) error {
			res := tx.Model(&sellerAccountRow{}).Where("account_id = ? AND payouts_enabled <> ?", ev.AccountID, ev.PayoutsEnabled).
				Updates(map[string]any{"payouts_enabled": ev.PayoutsEnabled, "updated_at": m.now()})
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error // not ours, or no change
			}
			return m.audit(ctx, tx, "payout_account.updated", ev.AccountID, OutcomeOK, map[string]bool{"payouts_enabled": ev.PayoutsEnabled})
		})
	case billing.EventIgnored, billing.EventPending:
		return nil
	}
	if ev.OrderID == "" && ev.PaymentIntentID != "" {
		// Refunds and disputes name the payment, not always the order: the payment reference
		// was recorded when the order was paid.
		m.db.WithContext(ctx).Model(&orderRow{}).Where("provider = ? AND payment_ref = ?", ProviderStripe, ev.PaymentIntentID).
			Limit(1).Pluck("id", &ev.OrderID)
	}
	if ev.OrderID == "" {
		return nil // not one of ours
	}
	row, err := m.loadOrder(ctx, m.db.DB, ev.OrderID)
	if IsCode(err, CodeNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	switch ev.Kind {
	case billing.EventPaid:
		if row.Status != string(billing.StatusPending) {
			return nil
		}
		if ev.AmountFen != 0 && ev.AmountFen != row.AmountFen {
			m.log.ErrorContext(ctx, "paid amount differs from the order", "order", row.ID, "paid", ev.AmountFen, "order_amount", row.AmountFen)
		}
		ref := ev.PaymentIntentID
		if ref == "" {
			ref = ev.SessionID
		}
		return m.markPaid(ctx, row, ref, "order.paid")
	case billing.EventExpired:
		return m.setOrderStatus(ctx, row.ID, billing.StatusExpired, "order.expired")
	case billing.EventFailed:
		return m.setOrderStatus(ctx, row.ID, billing.StatusFailed, "order.failed")
	case billing.EventRefunded:
		if row.Status != string(billing.StatusPaid) && row.Status != string(billing.StatusPartiallyRefunded) {
			return nil
		}
		// amount_refunded is the total so far: what exceeds the recorded total is new.
		return m.applyRefund(ctx, row.ID, "", ev.AmountFen, ev.ChargeID)
	case billing.EventDisputed:
		return m.audit(ctx, nil, "order.disputed", row.ID, OutcomeOK, map[string]string{"charge": ev.ChargeID})
	}
	return nil
}

type sellerAccountRow struct {
	UserID         string `gorm:"primaryKey"`
	Provider       string
	AccountID      string
	PayoutsEnabled bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (sellerAccountRow) TableName() string { return "seller_accounts" }
