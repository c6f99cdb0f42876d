package market

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"ziyuan/billing"
)

// Order providers.
const (
	ProviderInvoice = "invoice"
	ProviderStripe  = "stripe"
)

// Limits of an order.
const (
	maxOrderItems     = 20
	maxBeneficiaries  = 200
	maxIdempotencyKey = 128
	orderLifetime     = 24 * time.Hour
)

// OrderItemRequest asks for one licence scope of one resource. Classroom licences name the
// students they cover.
type OrderItemRequest struct {
	ResourceID    string   `json:"resource_id"`
	Scope         string   `json:"scope"`
	Beneficiaries []string `json:"beneficiaries,omitempty"`
}

// OrderRequest is the body of POST /orders.
type OrderRequest struct {
	Items         []OrderItemRequest `json:"items"`
	Provider      string             `json:"provider"`
	BeneficiaryID string             `json:"beneficiary_id,omitempty"`
	PurchaseOrder string             `json:"purchase_order,omitempty"`
	// ReturnURL is where a card checkout sends the buyer back (the order page by default).
	ReturnURL string `json:"-"`
}

// OrderItem is one line of an order with its price and how the money divides.
type OrderItem struct {
	ResourceID    string   `json:"resource_id"`
	Title         string   `json:"title"`
	Scope         string   `json:"scope"`
	Quantity      int64    `json:"quantity"`
	UnitFen       int64    `json:"unit_fen"`
	AmountFen     int64    `json:"amount_fen"`
	FeeFen        int64    `json:"fee_fen"`
	SellerFen     int64    `json:"seller_fen"`
	Beneficiaries []string `json:"beneficiaries,omitempty"`
	// Position names the line in a refund; RefundedFen is what has been returned of it.
	Position    int   `json:"position"`
	RefundedFen int64 `json:"refunded_fen"`
}

// Order is a purchase of licences.
type Order struct {
	ID            string      `json:"id"`
	BuyerID       string      `json:"buyer_id"`
	InstitutionID *string     `json:"institution_id,omitempty"`
	Provider      string      `json:"provider"`
	Status        string      `json:"status"`
	AmountFen     int64       `json:"amount_fen"`
	RefundedFen   int64       `json:"refunded_fen"`
	Currency      string      `json:"currency"`
	PurchaseOrder string      `json:"purchase_order,omitempty"`
	CheckoutURL   string      `json:"checkout_url,omitempty"`
	Instructions  string      `json:"instructions,omitempty"`
	PaymentRef    string      `json:"payment_reference,omitempty"`
	Items         []OrderItem `json:"items"`
	Licenses      []License   `json:"licenses"`
	CreatedAt     time.Time   `json:"created_at"`
	PaidAt        *time.Time  `json:"paid_at,omitempty"`
	ExpiresAt     *time.Time  `json:"expires_at,omitempty"`
}

type orderRow struct {
	ID             string `gorm:"primaryKey"`
	BuyerID        string
	InstitutionID  *string
	Provider       string
	Status         string
	AmountFen      int64
	RefundedFen    int64
	Currency       string
	IdempotencyKey string
	RequestHash    string
	PurchaseOrder  string
	SessionID      string
	CheckoutURL    string
	Instructions   string
	PaymentRef     string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	PaidAt         *time.Time
	ExpiresAt      *time.Time
}

func (orderRow) TableName() string { return "orders" }

type orderItemRow struct {
	OrderID       string `gorm:"primaryKey"`
	Position      int    `gorm:"primaryKey"`
	ResourceID    string
	Title         string
	Scope         string
	Quantity      int64
	UnitFen       int64
	AmountFen     int64
	SellerID      string
	SellerKind    string
	FeeFen        int64
	SellerFen     int64
	Beneficiaries string
	// RefundedFen is what has been returned of the line; SellerRefundedFen the seller's part of it.
	RefundedFen       int64
	SellerRefundedFen int64
}

func (orderItemRow) TableName() string { return "order_items" }

type balanceRow struct {
	ID        int64 `gorm:"primaryKey"`
	SellerID  string
	Kind      string
	AmountFen int64
	OrderID   string
	Reference string
	Reason    string
	CreatedAt time.Time
}

func (balanceRow) TableName() string { return "balance_transactions" }

// requireBuyer admits verified adults: minors never pay (a guardian or the institution buys).
func requireBuyer(ctx context.Context) (Actor, error) {
	a, err := RequireActive(ctx)
	if err != nil {
		return a, err
	}
	if a.Has(RoleStudent) {
		return a, Errorf(CodeForbidden, MsgStudentsDoNotPay)
	}
	return a, nil
}

// requestHash fingerprints an order request, so that a retried request with the same
// idempotency key is recognised and a different one is refused.
func requestHash(r OrderRequest) string {
	b, _ := json.Marshal(r)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// CreateOrder creates an order from the offers' current prices and starts its checkout with the
// provider. The idempotency key makes retries safe: the same key and body give the same order
// (created is false), the same key with another body is a conflict, and concurrent requests
// with one key create one order.
func (m *Market) CreateOrder(ctx context.Context, key string, req OrderRequest) (Order, bool, error) {
	a, err := requireBuyer(ctx)
	if err != nil {
		m.auditDenied(ctx, "order.create", "", err)
		return Order{}, false, err
	}
	key = strings.TrimSpace(key)
	if key == "" || len(key) > maxIdempotencyKey || !utf8.ValidString(key) || strings.ContainsAny(key, "\x00\r\n") {
		return Order{}, false, Errorf(CodeInvalid, MsgIdempotencyKey, maxIdempotencyKey)
	}
	hash := requestHash(req)
	if o, found, err := m.orderByKey(ctx, a.UserID, key, hash); err != nil || found {
		if err == nil && o.Status == string(billing.StatusPending) && o.CheckoutURL == "" && o.Provider == ProviderStripe {
			return m.startCheckout(ctx, o.ID, req.ReturnURL)
		}
		return o, false, err
	}
	provider, ok := m.opts.Providers[req.Provider]
	if !ok {
		return Order{}, false, Errorf(CodeInvalid, MsgFieldOneOf, "provider", req.Provider, strings.Join(m.providerNames(), ", "))
	}
	po := strings.TrimSpace(req.PurchaseOrder)
	if utf8.RuneCountInString(po) > 64 {
		return Order{}, false, Errorf(CodeInvalid, MsgFieldTooLong, "purchase_order", 64)
	}
	if req.Provider == ProviderInvoice {
		if !a.Has(RoleInstitutionAdmin) || a.InstitutionID == "" {
			return Order{}, false, Errorf(CodeForbidden, MsgInvoiceInstitutions)
		}
		if po == "" {
			return Order{}, false, Errorf(CodeInvalid, MsgFieldRequired, "purchase_order")
		}
	}
	items, err := m.priceItems(ctx, a, req)
	if err != nil {
		return Order{}, false, err
	}
	now := m.now()
	exp := now.Add(orderLifetime)
	row := orderRow{ID: NewID(), BuyerID: a.UserID, Provider: provider.Name(), Status: string(billing.StatusPending), Currency: "CNY",
		IdempotencyKey: key, RequestHash: hash, PurchaseOrder: po, CreatedAt: now, UpdatedAt: now, ExpiresAt: &exp}
	if a.InstitutionID != "" {
		inst := a.InstitutionID
		row.InstitutionID = &inst
	}
	for _, it := range items {
		row.AmountFen += it.AmountFen
	}
	created := false
	err = m.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // a concurrent request with this key won
		}
		created = true
		for i := range items {
			items[i].OrderID, items[i].Position = row.ID, i
			if err := tx.Create(&items[i]).Error; err != nil {
				return err
			}
		}
		return m.audit(ctx, tx, "order.create", row.ID, OutcomeOK, map[string]any{"amount_fen": row.AmountFen, "provider": row.Provider, "items": len(items)})
	})
	if err != nil {
		return Order{}, false, err
	}
	if !created {
		o, _, err := m.orderByKey(ctx, a.UserID, key, hash)
		return o, false, err
	}
	o, _, err := m.startCheckout(ctx, row.ID, req.ReturnURL)
	return o, true, err
}

func (m *Market) providerNames() []string {
	var names []string
	for _, n := range []string{ProviderInvoice, ProviderStripe} {
		if _, ok := m.opts.Providers[n]; ok {
			names = append(names, n)
		}
	}
	return names
}

// orderByKey finds the buyer's order for an idempotency key; another body is a conflict.
func (m *Market) orderByKey(ctx context.Context, buyer, key, hash string) (Order, bool, error) {
	var rows []orderRow
	if err := m.db.WithContext(ctx).Where("buyer_id = ? AND idempotency_key = ?", buyer, key).Limit(1).Find(&rows).Error; err != nil {
		return Order{}, false, Internal(err)
	}
	if len(rows) == 0 {
		return Order{}, false, nil
	}
	if rows[0].RequestHash != hash {
		return Order{}, true, Errorf(CodeConflict, MsgIdempotencyReused)
	}
	o, err := m.orderView(ctx, rows[0])
	return o, true, err
}

// priceItems checks the items and prices them from the published offers.
func (m *Market) priceItems(ctx context.Context, a Actor, req OrderRequest) ([]orderItemRow, error) {
	if len(req.Items) == 0 {
		return nil, Errorf(CodeInvalid, MsgFieldRequired, "items")
	}
	if len(req.Items) > maxOrderItems {
		return nil, Errorf(CodeInvalid, MsgTooMany, "items", maxOrderItems)
	}
	var out []orderItemRow
	for i, it := range req.Items {
		field := fmt.Sprintf("items[%d]", i)
		row, meta, err := m.publishedOffer(ctx, m.db.DB, it.ResourceID)
		if err != nil {
			return nil, err
		}
		if meta.Offer.Free() {
			return nil, Errorf(CodeInvalid, MsgNotForSale, meta.Title)
		}
		if !containsString(PaidScopes, it.Scope) {
			return nil, Errorf(CodeInvalid, MsgFieldOneOf, field+".scope", it.Scope, strings.Join(PaidScopes, ", "))
		}
		unit, ok := meta.Offer.PriceFor(it.Scope)
		if !ok {
			return nil, Errorf(CodeInvalid, MsgScopeNotSold, meta.Title, it.Scope)
		}
		if row.OwnerID == a.UserID {
			return nil, Errorf(CodeInvalid, MsgOwnPurchase)
		}
		beneficiaries, err := m.beneficiaries(ctx, a, it, req.BeneficiaryID, field)
		if err != nil {
			return nil, err
		}
		qty := int64(1)
		if it.Scope == ScopeClassroom {
			qty = int64(len(beneficiaries))
		}
		kind, err := m.sellerKind(ctx, row)
		if err != nil {
			return nil, err
		}
		split, err := m.opts.Fees.Split(unit*qty, kind)
		if err != nil {
			return nil, Internal(err)
		}
		b, _ := json.Marshal(beneficiaries)
		out = append(out, orderItemRow{ResourceID: row.ID, Title: meta.Title, Scope: it.Scope, Quantity: qty, UnitFen: unit,
			AmountFen: split.AmountFen, SellerID: row.OwnerID, SellerKind: string(kind), FeeFen: split.FeeFen, SellerFen: split.SellerFen,
			Beneficiaries: string(b)})
	}
	return out, nil
}

// beneficiaries decides who a line's licences go to: the buyer or a ward for personal
// licences, the named students of the buyer's institution for classroom licences, and the
// institution itself for institution licences.
func (m *Market) beneficiaries(ctx context.Context, a Actor, it OrderItemRequest, beneficiary, field string) ([]string, error) {
	switch it.Scope {
	case ScopeInstitution:
		if !a.Has(RoleInstitutionAdmin) || a.InstitutionID == "" {
			return nil, Errorf(CodeForbidden, MsgInstitutionScope)
		}
		return nil, nil
	case ScopeClassroom:
		if !a.Has(RoleInstitutionAdmin) && !a.Has(RoleTeacher) {
			return nil, Errorf(CodeForbidden, MsgClassroomScope)
		}
		if len(it.Beneficiaries) == 0 {
			return nil, Errorf(CodeInvalid, MsgFieldRequired, field+".beneficiaries")
		}
		if len(it.Beneficiaries) > maxBeneficiaries {
			return nil, Errorf(CodeInvalid, MsgTooMany, field+".beneficiaries", maxBeneficiaries)
		}
		seen := map[string]bool{}
		var out []string
		for _, id := range it.Beneficiaries {
			if seen[id] {
				continue
			}
			seen[id] = true
			u, err := m.User(ctx, id)
			if err != nil {
				return nil, Errorf(CodeInvalid, MsgBeneficiary, id)
			}
			if u.InstitutionID == nil || *u.InstitutionID != a.InstitutionID || !u.Verified {
				return nil, Errorf(CodeInvalid, MsgBeneficiary, id)
			}
			out = append(out, id)
		}
		return out, nil
	default: // personal
		if beneficiary == "" || beneficiary == a.UserID {
			return []string{a.UserID}, nil
		}
		u, err := m.User(ctx, beneficiary)
		if err != nil || !u.Verified || u.ConsentNeeded {
			return nil, Errorf(CodeInvalid, MsgBeneficiary, beneficiary)
		}
		allowed := a.Has(RoleInstitutionAdmin) && u.InstitutionID != nil && *u.InstitutionID == a.InstitutionID
		if !allowed && a.Has(RoleParent) {
			var n int64
			m.db.WithContext(ctx).Model(&guardianRow{}).Where("student_id = ? AND guardian_id = ?", beneficiary, a.UserID).Count(&n)
			allowed = n > 0
		}
		if !allowed {
			return nil, Errorf(CodeForbidden, MsgBeneficiary, beneficiary)
		}
		return []string{beneficiary}, nil
	}
}

// sellerKind decides the platform fee: vendors pay more, public-welfare providers nothing.
func (m *Market) sellerKind(ctx context.Context, row resourceRow) (billing.SellerKind, error) {
	if row.InstitutionID != nil {
		inst, err := m.institution(ctx, *row.InstitutionID)
		if err != nil {
			return "", err
		}
		if inst.Kind == KindPublic {
			return billing.SellerPublic, nil
		}
	}
	var vendor int64
	if err := m.db.WithContext(ctx).Model(&roleRow{}).Where("user_id = ? AND role = ?", row.OwnerID, RoleVendor).Count(&vendor).Error; err != nil {
		return "", Internal(err)
	}
	if vendor > 0 {
		return billing.SellerVendor, nil
	}
	return billing.SellerTeacher, nil
}

// startCheckout asks the order's provider for a checkout and records it.
func (m *Market) startCheckout(ctx context.Context, id, returnURL string) (Order, bool, error) {
	row, err := m.loadOrder(ctx, m.db.DB, id)
	if err != nil {
		return Order{}, false, err
	}
	provider := m.opts.Providers[row.Provider]
	var items []orderItemRow
	if err := m.db.WithContext(ctx).Where("order_id = ?", id).Order("position").Find(&items).Error; err != nil {
		return Order{}, false, Internal(err)
	}
	req := billing.CheckoutRequest{OrderID: id, Currency: row.Currency, PurchaseOrder: row.PurchaseOrder,
		SuccessURL: returnURL, CancelURL: returnURL}
	if row.ExpiresAt != nil {
		req.ExpiresAt = *row.ExpiresAt
	}
	for _, it := range items {
		req.Lines = append(req.Lines, billing.Line{Name: it.Title + "（" + it.Scope + "）", AmountFen: it.UnitFen, Quantity: it.Quantity})
	}
	co, err := provider.Checkout(ctx, req)
	if err != nil {
		if errors.Is(err, billing.ErrUnavailable) {
			return Order{}, false, &Error{Code: CodeUnavailable, RetryAfterSeconds: 5, Msg: Message{Key: MsgPaymentsDown}, Err: err}
		}
		return Order{}, false, Internal(err)
	}
	err = m.db.WithContext(ctx).Model(&orderRow{}).Where("id = ?", id).Updates(map[string]any{
		"session_id": co.SessionID, "checkout_url": co.RedirectURL, "instructions": co.Instructions, "updated_at": m.now()}).Error
	if err != nil {
		return Order{}, false, Internal(err)
	}
	o, err := m.Order(ctx, id)
	return o, true, err
}

func (m *Market) loadOrder(ctx context.Context, db *gorm.DB, id string) (orderRow, error) {
	var row orderRow
	if !ValidID(id) {
		return row, Errorf(CodeNotFound, MsgNotFound, "order")
	}
	err := db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, Errorf(CodeNotFound, MsgNotFound, "order")
	}
	if err != nil {
		return row, Internal(err)
	}
	return row, nil
}

// canSeeOrder: the buyer, admins of the buying institution, platform admins.
func canSeeOrder(a Actor, row orderRow) bool {
	return a.UserID == row.BuyerID || a.Has(RolePlatformAdmin) ||
		a.Has(RoleInstitutionAdmin) && row.InstitutionID != nil && *row.InstitutionID == a.InstitutionID
}

// Order returns an order to those who may see it.
func (m *Market) Order(ctx context.Context, id string) (Order, error) {
	a, err := requireSignedIn(ctx)
	if err != nil {
		return Order{}, err
	}
	row, err := m.loadOrder(ctx, m.db.DB, id)
	if err != nil {
		return Order{}, err
	}
	if !canSeeOrder(a, row) {
		return Order{}, Errorf(CodeNotFound, MsgNotFound, "order")
	}
	return m.orderView(ctx, row)
}

func (m *Market) orderView(ctx context.Context, row orderRow) (Order, error) {
	o := Order{ID: row.ID, BuyerID: row.BuyerID, InstitutionID: row.InstitutionID, Provider: row.Provider, Status: row.Status,
		AmountFen: row.AmountFen, RefundedFen: row.RefundedFen, Currency: row.Currency, PurchaseOrder: row.PurchaseOrder,
		CheckoutURL: row.CheckoutURL, Instructions: row.Instructions, PaymentRef: row.PaymentRef, CreatedAt: row.CreatedAt,
		PaidAt: row.PaidAt, ExpiresAt: row.ExpiresAt, Items: []OrderItem{}, Licenses: []License{}}
	items, err := m.orderItems(ctx, m.db.DB, row.ID)
	if err != nil {
		return o, err
	}
	for _, it := range items {
		oi := OrderItem{ResourceID: it.ResourceID, Title: it.Title, Scope: it.Scope, Quantity: it.Quantity, UnitFen: it.UnitFen,
			AmountFen: it.AmountFen, FeeFen: it.FeeFen, SellerFen: it.SellerFen, Position: it.Position, RefundedFen: it.RefundedFen}
		json.Unmarshal([]byte(it.Beneficiaries), &oi.Beneficiaries)
		o.Items = append(o.Items, oi)
	}
	var lics []licenseRow
	if err := m.db.WithContext(ctx).Where("order_id = ?", row.ID).Order("granted_at, id").Find(&lics).Error; err != nil {
		return o, Internal(err)
	}
	if len(lics) == 0 {
		return o, nil
	}
	lvs, err := m.licenseViews(ctx, lics)
	if err != nil {
		return o, err
	}
	o.Licenses = lvs
	return o, nil
}

// MyOrders lists the acting user's orders, newest first; an institution admin also sees its
// institution's orders.
func (m *Market) MyOrders(ctx context.Context, p Paging) (Page[Order], error) {
	var out Page[Order]
	a, err := requireSignedIn(ctx)
	if err != nil {
		return out, err
	}
	if p, err = p.normalize(); err != nil {
		return out, err
	}
	q := m.db.WithContext(ctx).Model(&orderRow{}).Where("buyer_id = ?", a.UserID)
	if a.Has(RoleInstitutionAdmin) && a.InstitutionID != "" {
		q = m.db.WithContext(ctx).Model(&orderRow{}).Where("buyer_id = ? OR institution_id = ?", a.UserID, a.InstitutionID)
	}
	if err := q.Count(&out.Total).Error; err != nil {
		return out, Internal(err)
	}
	var rows []orderRow
	if err := q.Order("created_at DESC, id").Offset(p.offset()).Limit(p.PerPage).Find(&rows).Error; err != nil {
		return out, Internal(err)
	}
	out.Page, out.PerPage, out.Items = p.Page, p.PerPage, make([]Order, 0, len(rows))
	for _, r := range rows {
		o, err := m.orderView(ctx, r)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, o)
	}
	return out, nil
}

// ConfirmOrder records that an institution received an invoiced order's payment (its finance
// reference), marks it paid and grants its licences — once, however often it is confirmed.
func (m *Market) ConfirmOrder(ctx context.Context, id, reference string) (Order, error) {
	a, err := requireRole(ctx, RoleInstitutionAdmin, RolePlatformAdmin)
	if err != nil {
		m.auditDenied(ctx, "order.confirm", id, err)
		return Order{}, err
	}
	reference = strings.TrimSpace(reference)
	if reference == "" {
		return Order{}, Errorf(CodeInvalid, MsgFieldRequired, "reference")
	}
	if utf8.RuneCountInString(reference) > 64 {
		return Order{}, Errorf(CodeInvalid, MsgFieldTooLong, "reference", 64)
	}
	row, err := m.loadOrder(ctx, m.db.DB, id)
	if err != nil {
		return Order{}, err
	}
	if !canSeeOrder(a, row) || (!a.Has(RolePlatformAdmin) && a.UserID != row.BuyerID && (row.InstitutionID == nil || *row.InstitutionID != a.InstitutionID)) {
		err := Errorf(CodeForbidden, MsgForbidden)
		m.auditDenied(ctx, "order.confirm", id, err)
		return Order{}, err
	}
	if row.Provider != ProviderInvoice {
		return Order{}, Errorf(CodeConflict, MsgNotInvoice)
	}
	if row.Status == string(billing.StatusPaid) {
		return m.orderView(ctx, row) // confirming again changes nothing
	}
	if err := m.markPaid(ctx, row, reference, "order.confirm"); err != nil {
		return Order{}, err
	}
	return m.Order(ctx, id)
}

// markPaid moves a pending order to paid and grants its licences, records the sellers' sales
// and the ledger entries, and queues the transfers of sellers paid through their payout
// accounts, in one transaction; a second call finds the order paid and does nothing.
func (m *Market) markPaid(ctx context.Context, row orderRow, reference, action string) error {
	now := m.now()
	queued := false
	err := m.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&orderRow{}).Where("id = ? AND status = ?", row.ID, billing.StatusPending).
			Updates(map[string]any{"status": billing.StatusPaid, "paid_at": now, "payment_ref": reference, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var cur orderRow
			if err := tx.Where("id = ?", row.ID).Take(&cur).Error; err != nil {
				return err
			}
			if cur.Status == string(billing.StatusPaid) {
				return nil
			}
			return Errorf(CodeConflict, MsgOrderState, cur.Status)
		}
		var items []orderItemRow
		if err := tx.Where("order_id = ?", row.ID).Order("position").Find(&items).Error; err != nil {
			return err
		}
		for _, it := range items {
			var holders []string
			json.Unmarshal([]byte(it.Beneficiaries), &holders)
			var holderInst *string
			if it.Scope == ScopeInstitution {
				holders, holderInst = []string{row.BuyerID}, row.InstitutionID
			}
			for _, h := range holders {
				orderID, line := row.ID, it.Position
				lic := licenseRow{ID: NewID(), ResourceID: it.ResourceID, HolderID: h, HolderInstitutionID: holderInst, Scope: it.Scope,
					Source: SourceOrder, License: LicensePaid, PriceFen: it.UnitFen, OrderID: &orderID, OrderPosition: &line,
					Status: LicenseActive, GrantedAt: now}
				if err := tx.Create(&lic).Error; err != nil {
					return err
				}
				if err := m.recordGrant(ctx, tx, lic); err != nil {
					return err
				}
			}
			sale := balanceRow{SellerID: it.SellerID, Kind: "sale", AmountFen: it.SellerFen, OrderID: row.ID,
				Reference: fmt.Sprint(it.Position), CreatedAt: now}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&sale).Error; err != nil {
				return err
			}
		}
		var err error
		if queued, err = m.queueTransfers(tx, row, items, now); err != nil {
			return err
		}
		return m.audit(ctx, tx, action, row.ID, OutcomeOK, map[string]any{"reference": reference, "amount_fen": row.AmountFen})
	})
	if err == nil && queued {
		m.opts.PaymentsChanged()
	}
	return err
}

// orderItems returns an order's lines in order.
func (m *Market) orderItems(ctx context.Context, db *gorm.DB, orderID string) ([]orderItemRow, error) {
	var items []orderItemRow
	if err := db.WithContext(ctx).Where("order_id = ?", orderID).Order("position").Find(&items).Error; err != nil {
		return nil, Internal(err)
	}
	return items, nil
}

// setOrderStatus moves a pending order to a final unpaid state (expired, cancelled, failed).
func (m *Market) setOrderStatus(ctx context.Context, id string, to billing.Status, action string) error {
	return m.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&orderRow{}).Where("id = ? AND status = ?", id, billing.StatusPending).
			Updates(map[string]any{"status": to, "updated_at": m.now()})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return m.audit(ctx, tx, action, id, OutcomeOK, map[string]string{"status": string(to)})
	})
}

// Balance is a seller's balance and its transactions.
type Balance struct {
	BalanceFen   int64                `json:"balance_fen"`
	Currency     string               `json:"currency"`
	Transactions []BalanceTransaction `json:"transactions"`
}

// BalanceTransaction is one append-only movement of a seller's balance.
type BalanceTransaction struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	AmountFen int64     `json:"amount_fen"`
	OrderID   string    `json:"order_id,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// MyEarnings returns the acting seller's balance and its newest transactions.
func (m *Market) MyEarnings(ctx context.Context, p Paging) (Balance, int64, error) {
	a, err := requireSignedIn(ctx)
	if err != nil {
		return Balance{}, 0, err
	}
	if p, err = p.normalize(); err != nil {
		return Balance{}, 0, err
	}
	out := Balance{Currency: "CNY", Transactions: []BalanceTransaction{}}
	q := m.db.WithContext(ctx).Model(&balanceRow{}).Where("seller_id = ?", a.UserID)
	if err := q.Select("COALESCE(SUM(amount_fen), 0)").Scan(&out.BalanceFen).Error; err != nil {
		return out, 0, Internal(err)
	}
	var total int64
	if err := m.db.WithContext(ctx).Model(&balanceRow{}).Where("seller_id = ?", a.UserID).Count(&total).Error; err != nil {
		return out, 0, Internal(err)
	}
	var rows []balanceRow
	if err := m.db.WithContext(ctx).Where("seller_id = ?", a.UserID).Order("id DESC").Offset(p.offset()).Limit(p.PerPage).Find(&rows).Error; err != nil {
		return out, 0, Internal(err)
	}
	for _, r := range rows {
		out.Transactions = append(out.Transactions, BalanceTransaction{ID: r.ID, Kind: r.Kind, AmountFen: r.AmountFen, OrderID: r.OrderID, Reason: r.Reason, CreatedAt: r.CreatedAt})
	}
	return out, total, nil
}

// StatementLine is one balance movement in a seller's monthly payout statement.
type StatementLine struct {
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"`
	OrderID   string    `json:"order_id"`
	Title     string    `json:"title"`
	AmountFen int64     `json:"amount_fen"`
	Reason    string    `json:"reason,omitempty"`
}

// Statement is a seller's payout statement for one month (China time): the movements, the
// opening and closing balance. Sellers without a payout account hand it to their institution,
// which settles offline.
type Statement struct {
	SellerID   string          `json:"seller_id"`
	Seller     string          `json:"seller"`
	Month      string          `json:"month"`
	OpeningFen int64           `json:"opening_fen"`
	ClosingFen int64           `json:"closing_fen"`
	Lines      []StatementLine `json:"lines"`
}

// MyStatement returns the acting seller's statement for month (YYYY-MM).
func (m *Market) MyStatement(ctx context.Context, month string) (Statement, error) {
	a, err := requireSignedIn(ctx)
	if err != nil {
		return Statement{}, err
	}
	start, err := time.ParseInLocation("2006-01", month, chinaTime)
	if err != nil {
		return Statement{}, Errorf(CodeInvalid, MsgFieldFormat, "month", "YYYY-MM")
	}
	end := start.AddDate(0, 1, 0)
	st := Statement{SellerID: a.UserID, Month: month, Lines: []StatementLine{}}
	var me userRow
	if err := m.db.WithContext(ctx).Select("name").Where("id = ?", a.UserID).Take(&me).Error; err != nil {
		return st, Internal(err)
	}
	st.Seller = me.Name
	db := m.db.WithContext(ctx)
	if err := db.Model(&balanceRow{}).Where("seller_id = ? AND created_at < ?", a.UserID, start.UTC()).
		Select("COALESCE(SUM(amount_fen), 0)").Scan(&st.OpeningFen).Error; err != nil {
		return st, Internal(err)
	}
	var rows []struct {
		Kind      string
		AmountFen int64
		OrderID   string
		Reason    string
		CreatedAt time.Time
		Title     string
	}
	err = db.Table("balance_transactions").
		Select("balance_transactions.kind, balance_transactions.amount_fen, balance_transactions.order_id, balance_transactions.reason, balance_transactions.created_at, COALESCE((SELECT MIN(title) FROM order_items WHERE order_items.order_id = balance_transactions.order_id AND order_items.seller_id = balance_transactions.seller_id), '') AS title").
		Where("seller_id = ? AND created_at >= ? AND created_at < ?", a.UserID, start.UTC(), end.UTC()).Order("id").Scan(&rows).Error
	if err != nil {
		return st, Internal(err)
	}
	st.ClosingFen = st.OpeningFen
	for _, r := range rows {
		st.Lines = append(st.Lines, StatementLine{At: r.CreatedAt, Kind: r.Kind, OrderID: r.OrderID, Title: r.Title, AmountFen: r.AmountFen, Reason: r.Reason})
		st.ClosingFen += r.AmountFen
	}
	return st, nil
}

// PendingPurchaseOrders lists the invoiced orders of the admin's institution that wait for
// confirmation of payment.
func (m *Market) PendingPurchaseOrders(ctx context.Context) ([]Order, error) {
	a, err := requireRole(ctx, RoleInstitutionAdmin)
	if err != nil {
		return nil, err
	}
	var rows []orderRow
	if err := m.db.WithContext(ctx).Where("institution_id = ? AND provider = ? AND status = ?", a.InstitutionID, ProviderInvoice, billing.StatusPending).
		Order("created_at").Find(&rows).Error; err != nil {
		return nil, Internal(err)
	}
	out := make([]Order, 0, len(rows))
	for _, r := range rows {
		o, err := m.orderView(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// ProviderNames lists the configured payment providers.
func (m *Market) ProviderNames() []string { return m.providerNames() }
