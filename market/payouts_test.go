package market_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"ziyuan/billing"
	"ziyuan/market"
	"ziyuan/market/markettest"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
)

// fakeStripe stands in for the Stripe adapter where faults must be injected: it keeps what a
// real Stripe would (accounts, transfers, reversals and refunds, each once per idempotency key,
// answering a repeated key with the first answer — refusals included) and records every call.
// Webhooks are billing.Events as JSON. stripe-mock checks the real adapter's request shapes
// (billing/stripe and web tests).
type fakeStripe struct {
	mu       sync.Mutex
	n        int
	calls    []fakeCall
	objects  map[string]fakeObject // by ID
	byKey    map[string]string     // idempotency key → object ID
	refusals map[string]bool       // keys refused (and refused again when repeated, as Stripe does)
	accounts int                   // accounts opened
	// before runs before an object is made (an error: refused, nothing made); after runs once
	// it is (an error: the answer was lost).
	before, after func(op, key string) error
}

// fakeObject is a transfer, reversal or refund made at the fake Stripe.
type fakeObject struct {
	op     string
	target string // the account (transfers), transfer (reversals) or payment (refunds)
	amount int64
}

type fakeCall struct {
	op, key string
	amount  int64
}

func newFakeStripe() *fakeStripe {
	return &fakeStripe{objects: map[string]fakeObject{}, byKey: map[string]string{}, refusals: map[string]bool{}}
}

var _ interface {
	billing.Provider
	billing.WebhookParser
	billing.Refunds
	billing.Payouts
} = (*fakeStripe)(nil)

func (f *fakeStripe) Name() string { return "stripe" }

func (f *fakeStripe) Checkout(_ context.Context, req billing.CheckoutRequest) (billing.Checkout, error) {
	return billing.Checkout{Provider: "stripe", SessionID: "cs_" + req.OrderID, RedirectURL: "https://checkout.stripe.test/" + req.OrderID}, nil
}

func (f *fakeStripe) ParseWebhook(payload []byte, _ string) (billing.Event, error) {
	return f.ParseStored(payload)
}

func (f *fakeStripe) ParseStored(payload []byte) (billing.Event, error) {
	var ev billing.Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return ev, fmt.Errorf("%w: %v", billing.ErrBadPayload, err)
	}
	return ev, nil
}

// make creates an object once per key; a refused key stays refused.
func (f *fakeStripe) make(op, prefix, key, target string, amount int64) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fakeCall{op, key, amount})
	if f.before != nil && !f.refusals[key] {
		if err := f.before(op, key); err != nil {
			f.refusals[key] = true
		}
	}
	if f.refusals[key] {
		return "", fmt.Errorf("fake %s: %w", op, billing.ErrRejected)
	}
	id, ok := f.byKey[key]
	if !ok {
		f.n++
		id = fmt.Sprintf("%s%d", prefix, f.n)
		f.byKey[key], f.objects[id] = id, fakeObject{op, target, amount}
	}
	if f.after != nil {
		if err := f.after(op, key); err != nil {
			return "", err
		}
	}
	return id, nil
}

func (f *fakeStripe) Refund(_ context.Context, pi string, amount int64, key string) (string, error) {
	return f.make("refund", "re_", key, pi, amount)
}

func (f *fakeStripe) CreateAccount(_ context.Context, sellerID, _ string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// Deliberately not idempotent: the market alone must keep one account per seller.
	f.n++
	f.accounts++
	return fmt.Sprintf("acct_%d", f.n), nil
}

func (f *fakeStripe) OnboardingLink(_ context.Context, account, refresh, ret string) (string, error) {
	return "https://connect.stripe.test/setup/" + account + "?refresh=" + url.QueryEscape(refresh) + "&return=" + url.QueryEscape(ret), nil
}

func (f *fakeStripe) Transfer(_ context.Context, account string, amount int64, _, _, key string) (string, error) {
	return f.make("transfer", "tr_", key, account, amount)
}

func (f *fakeStripe) ReverseTransfer(_ context.Context, transfer string, amount int64, key string) (string, error) {
	return f.make("reversal", "trr_", key, transfer, amount)
}

// made counts the objects made by op and sums their amounts per target.
func (f *fakeStripe) made(op string) (count int, byTarget map[string]int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	byTarget = map[string]int64{}
	for _, o := range f.objects {
		if o.op == op {
			count++
			byTarget[o.target] += o.amount
		}
	}
	return count, byTarget
}

func (f *fakeStripe) callsOf(op string) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if c.op == op {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeStripe) setHooks(before, after func(op, key string) error) {
	f.mu.Lock()
	f.before, f.after = before, after
	f.mu.Unlock()
}

// eachStripe runs fn on both dialects with a market whose Stripe is f.
func eachStripe(t *testing.T, fn func(t *testing.T, e *markettest.Env, f *fakeStripe)) {
	storetest.Each(t, market.Schemas(), func(t *testing.T, db *store.DB) {
		f := newFakeStripe()
		e := markettest.NewWith(t, db, func(o *market.Options) { o.Providers = map[string]billing.Provider{"stripe": f} })
		fn(t, e, f)
	})
}

// event stores a provider event and applies it, as serve's payment worker does.
func event(t *testing.T, e *markettest.Env, ev billing.Event) {
	t.Helper()
	ev.Created = e.Clock.Now()
	payload, _ := json.Marshal(ev)
	if _, err := e.M.ReceiveWebhook(context.Background(), "stripe", payload, "t=1,v1=fake"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.M.ProcessPaymentEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// enablePayouts onboards a seller and has Stripe report its account ready (or not).
func enablePayouts(t *testing.T, e *markettest.Env, login string, enabled bool) string {
	t.Helper()
	a, err := e.M.StartPayoutOnboarding(e.As(t, login), "https://ziyuan.test/earnings/payout-account", "https://ziyuan.test/earnings")
	wantCode(t, err, "")
	event(t, e, billing.Event{ID: "evt_acct_" + a.AccountID + fmt.Sprint(enabled), Kind: billing.EventAccountUpdated, Type: "account.updated",
		AccountID: a.AccountID, PayoutsEnabled: enabled})
	return a.AccountID
}

// cardOrder has zhang.parent buy personal licences to items by card, paid at once.
func cardOrder(t *testing.T, e *markettest.Env, key string, items ...string) market.Order {
	t.Helper()
	req := market.OrderRequest{Provider: "stripe"}
	for _, id := range items {
		req.Items = append(req.Items, market.OrderItemRequest{ResourceID: id, Scope: "personal"})
	}
	buyer := e.As(t, "zhang.parent")
	o, _, err := e.M.CreateOrder(buyer, key, req)
	wantCode(t, err, "")
	event(t, e, billing.Event{ID: "evt_paid_" + o.ID, Kind: billing.EventPaid, Type: "checkout.session.completed", OrderID: o.ID,
		SessionID: "cs_" + o.ID, PaymentIntentID: "pi_" + o.ID, AmountFen: o.AmountFen, Currency: "CNY"})
	o, err = e.M.Order(buyer, o.ID)
	wantCode(t, err, "")
	if o.Status != "paid" {
		t.Fatalf("card order %s is %s", o.ID, o.Status)
	}
	return o
}

// sellerLines publishes the paid items of a multi-seller order: two by the vendor, one by li.teacher.
func sellerLines(t *testing.T, e *markettest.Env) (vendorA, vendorB, teacher string) {
	t.Helper()
	vendorA = paidLesson(t, e, "分层作业设计精品课件", market.Prices{Personal: 990}).ID
	vendorB = paidLesson(t, e, "期中复习精品试卷", market.Prices{Personal: 4900}).ID
	meta := lessonMeta("勾股定理探究课教案", "paid")
	meta.Offer.Prices = &market.Prices{Personal: 1999}
	teacher = publish(t, e, "li.teacher", meta, textUpload("探究课.txt", "勾股定理探究课：拼图、测量与猜想，完整教学过程。")).ID
	return
}

func processQueued(t *testing.T, e *markettest.Env) int {
	t.Helper()
	n, err := e.M.ProcessQueuedPayments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func balanceOf(t *testing.T, e *markettest.Env, login string) market.Balance {
	t.Helper()
	b, _, err := e.M.MyEarnings(e.As(t, login), market.Paging{PerPage: 100})
	wantCode(t, err, "")
	return b
}

func count(t *testing.T, e *markettest.Env, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.DB.Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPayoutOnboarding(t *testing.T) {
	eachStripe(t, func(t *testing.T, e *markettest.Env, f *fakeStripe) {
		const refresh, ret = "https://ziyuan.test/earnings/payout-account", "https://ziyuan.test/earnings"
		for _, c := range []struct{ who, why string }{
			{"zhang.xiaoming", "a student"}, {"sun.student", "an adult student"}, {"zhang.parent", "a parent"},
			{"zhou.reviewer", "a reviewer"}, {"xiaoxue.admin", "an institution admin"}, {"new.teacher", "an unverified teacher"},
		} {
			_, err := e.M.StartPayoutOnboarding(e.As(t, c.who), refresh, ret)
			wantCode(t, err, market.CodeForbidden)
			_, err = e.M.MyPayoutAccount(e.As(t, c.who))
			wantCode(t, err, market.CodeForbidden)
		}
		_, err := e.M.StartPayoutOnboarding(context.Background(), refresh, ret)
		wantCode(t, err, market.CodeUnauthenticated)

		teacher := e.As(t, "li.teacher")
		a, err := e.M.MyPayoutAccount(teacher)
		if err != nil || a.Status != market.PayoutAccountNone || a.AccountID != "" {
			t.Fatalf("before onboarding: %+v %v", a, err)
		}
		// Concurrent starts (a double click, two tabs) store one account, which every one of them returns.
		const n = 12
		got := make([]market.PayoutAccount, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { got[i], errs[i] = e.M.StartPayoutOnboarding(teacher, refresh, ret) })
		}
		wg.Wait()
		var stored string
		e.DB.Raw("SELECT account_id FROM seller_accounts WHERE user_id = ?", e.Users["li.teacher"].ID).Scan(&stored)
		for i := range n {
			if errs[i] != nil || got[i].AccountID != stored || got[i].Status != market.PayoutAccountPending ||
				got[i].OnboardingURL != "https://connect.stripe.test/setup/"+stored+"?refresh="+url.QueryEscape(refresh)+"&return="+url.QueryEscape(ret) {
				t.Fatalf("start %d: %+v %v (stored %q)", i, got[i], errs[i], stored)
			}
		}
		if rows := count(t, e, "SELECT COUNT(*) FROM seller_accounts"); rows != 1 {
			t.Fatalf("%d seller accounts after concurrent starts", rows)
		}
		if created := count(t, e, "SELECT COUNT(*) FROM audit_log WHERE action = 'payout_account.create'"); created != 1 {
			t.Fatalf("%d account creations audited", created)
		}
		if links := count(t, e, "SELECT COUNT(*) FROM audit_log WHERE action = 'payout_account.onboard' AND outcome = 'ok'"); links != n {
			t.Fatalf("%d onboarding links audited, want %d", links, n)
		}
		// Starting again reuses the account: a fresh link, no new account.
		opened := f.accounts
		again, err := e.M.StartPayoutOnboarding(teacher, refresh, ret)
		if err != nil || again.AccountID != stored || f.accounts != opened {
			t.Fatalf("starting again: %+v %v (%d accounts opened, was %d)", again, err, f.accounts, opened)
		}
		// Stripe reports the account ready; a replay and another account's news change nothing.
		for _, ev := range []billing.Event{
			{ID: "evt_acct_1", Kind: billing.EventAccountUpdated, AccountID: stored, PayoutsEnabled: true},
			{ID: "evt_acct_1", Kind: billing.EventAccountUpdated, AccountID: stored, PayoutsEnabled: true},
			{ID: "evt_acct_other", Kind: billing.EventAccountUpdated, AccountID: "acct_someone_else", PayoutsEnabled: false},
		} {
			event(t, e, ev)
		}
		if a, err := e.M.MyPayoutAccount(teacher); err != nil || a.Status != market.PayoutAccountEnabled || !a.PayoutsEnabled {
			t.Fatalf("after account.updated: %+v %v", a, err)
		}
		if updates := count(t, e, "SELECT COUNT(*) FROM audit_log WHERE action = 'payout_account.updated'"); updates != 1 {
			t.Fatalf("%d account updates audited, want 1", updates)
		}
	})
}

// Without Stripe there is nothing to onboard with: sellers hear that the provider is not here.
func TestPayoutOnboardingWithoutStripe(t *testing.T) {
	e := markettest.New(t, storetest.Open(t, store.SQLite, market.Schemas()...))
	_, err := e.M.StartPayoutOnboarding(e.As(t, "xuehai.vendor"), "https://x/r", "https://x/e")
	wantCode(t, err, market.CodeNotFound)
	_, err = e.M.MyPayoutAccount(e.As(t, "li.teacher"))
	wantCode(t, err, market.CodeNotFound)
	_, err = e.M.MyPayoutAccount(e.As(t, "zhang.xiaoming"))
	wantCode(t, err, market.CodeForbidden)
}

func TestTransfersGoOnlyToEnabledAccounts(t *testing.T) {
	eachStripe(t, func(t *testing.T, e *markettest.Env, f *fakeStripe) {
		cases := []struct {
			seller    string
			account   string // none, pending, enabled
			transfers int
		}{
			{"xuehai.vendor", "none", 0},
			{"li.teacher", "pending", 0},
			{"chen.teacher", "enabled", 1},
		}
		for i, c := range cases {
			t.Run(c.account, func(t *testing.T) {
				if c.account != "none" {
					enablePayouts(t, e, c.seller, c.account == "enabled")
				}
				meta := lessonMeta(fmt.Sprintf("转账测试课件%d", i), "paid")
				meta.Offer.Prices = &market.Prices{Personal: 2000}
				r := publish(t, e, c.seller, meta, textUpload("t.txt", fmt.Sprintf("转账测试课件%d：完整内容。", i)))
				before, _ := f.made("transfer")
				o := cardOrder(t, e, fmt.Sprint("enabled-", i), r.ID)
				processQueued(t, e)
				after, _ := f.made("transfer")
				if after-before != c.transfers || count(t, e, "SELECT COUNT(*) FROM seller_transfers WHERE order_id = ?", o.ID) != int64(c.transfers) {
					t.Fatalf("%d transfers for a seller whose account is %s, want %d", after-before, c.account, c.transfers)
				}
				// Paid by transfer, the balance is settled; otherwise the statement carries it.
				want := o.Items[0].SellerFen
				if c.transfers == 1 {
					want = 0
				}
				if b := balanceOf(t, e, c.seller); b.BalanceFen != want {
					t.Fatalf("balance %d, want %d: %+v", b.BalanceFen, want, b.Transactions)
				}
			})
		}
		// Purchase orders are settled offline, never transferred, whatever the seller's account.
		admin := e.As(t, "xiaoxue.admin")
		meta := lessonMeta("采购单转账测试", "paid")
		meta.Offer.Prices = &market.Prices{Institution: 30000}
		r := publish(t, e, "chen.teacher", meta, textUpload("po.txt", "采购单转账测试：完整内容。"))
		o, _, err := e.M.CreateOrder(admin, "po-1", market.OrderRequest{Provider: "invoice", PurchaseOrder: "PO-1",
			Items: []market.OrderItemRequest{{ResourceID: r.ID, Scope: "institution"}}})
		wantCode(t, err, "")
		_, err = e.M.ConfirmOrder(admin, o.ID, "FIN-1")
		wantCode(t, err, "")
		processQueued(t, e)
		if n := count(t, e, "SELECT COUNT(*) FROM seller_transfers WHERE order_id = ?", o.ID); n != 0 {
			t.Fatalf("a purchase order queued %d transfers", n)
		}
	})
}

// TestOneTransferPerSeller: a paid order pays each seller once, however the worker runs: side by
// side, after a lost answer, after a crash between the call and its record, after a refusal.
func TestOneTransferPerSeller(t *testing.T) {
	lostOnce := func() func(op, key string) error {
		seen := map[string]bool{}
		return func(op, key string) error {
			if op == "transfer" && !seen[key] {
				seen[key] = true
				return fmt.Errorf("fake: connection reset: %w", billing.ErrUnavailable)
			}
			return nil
		}
	}
	cases := []struct {
		name string
		run  func(t *testing.T, e *markettest.Env, f *fakeStripe, o market.Order)
	}{
		{"workers side by side", func(t *testing.T, e *markettest.Env, f *fakeStripe, o market.Order) {
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					if _, err := e.M.ProcessQueuedPayments(context.Background()); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}},
		{"answer lost", func(t *testing.T, e *markettest.Env, f *fakeStripe, o market.Order) {
			f.setHooks(nil, lostOnce())
			processQueued(t, e) // made at Stripe, not recorded
			if n := count(t, e, "SELECT COUNT(*) FROM seller_transfers WHERE transfer_id IS NOT NULL"); n != 0 {
				t.Fatalf("%d transfers recorded without an answer", n)
			}
			processQueued(t, e) // too early: waiting out the retry delay
			e.Clock.Advance(time.Minute)
			processQueued(t, e)
		}},
		{"crash between call and record", func(t *testing.T, e *markettest.Env, f *fakeStripe, o market.Order) {
			ctx, crash := context.WithCancel(context.Background())
			f.setHooks(nil, func(op, _ string) error {
				if op == "transfer" {
					crash() // the process stops once Stripe has made the transfer
				}
				return nil
			})
			if _, err := e.M.ProcessQueuedPayments(ctx); err == nil {
				t.Fatal("the crashed worker recorded its transfer")
			}
			f.setHooks(nil, nil)
			// A restarted worker makes the other seller's transfer, and leaves the crashed
			// worker's row alone until its lease ends.
			processQueued(t, e)
			if n := count(t, e, "SELECT COUNT(*) FROM seller_transfers WHERE transfer_id IS NOT NULL"); n != 1 {
				t.Fatalf("%d transfers recorded while the crashed worker's lease lasted, want the other seller's only", n)
			}
			e.Clock.Advance(6 * time.Minute)
			processQueued(t, e)
		}},
		{"refused, then accepted", func(t *testing.T, e *markettest.Env, f *fakeStripe, o market.Order) {
			// Stripe refuses the vendor's first transfer (say, the platform's balance is short),
			// and would replay the refusal for its key: the retry must use a fresh one.
			f.mu.Lock()
			f.refusals[market.TransferIdempotencyKey(o.ID, e.Users["xuehai.vendor"].ID, 0)] = true
			f.mu.Unlock()
			processQueued(t, e)
			if n := count(t, e, "SELECT COUNT(*) FROM seller_transfers WHERE rejections = 1 AND transfer_id IS NULL"); n != 1 {
				t.Fatalf("%d refused transfers waiting", n)
			}
			e.Clock.Advance(time.Minute)
			processQueued(t, e)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachStripe(t, func(t *testing.T, e *markettest.Env, f *fakeStripe) {
				vendorAcct := enablePayouts(t, e, "xuehai.vendor", true)
				teacherAcct := enablePayouts(t, e, "li.teacher", true)
				a, b, l := sellerLines(t, e)
				o := cardOrder(t, e, "multi", a, b, l)
				c.run(t, e, f, o)
				shares := map[string]int64{vendorAcct: o.Items[0].SellerFen + o.Items[1].SellerFen, teacherAcct: o.Items[2].SellerFen}
				made, byAccount := f.made("transfer")
				if made != 2 || byAccount[vendorAcct] != shares[vendorAcct] || byAccount[teacherAcct] != shares[teacherAcct] {
					t.Fatalf("transfers at Stripe: %d, %v; want one each of %v", made, byAccount, shares)
				}
				for login, acct := range map[string]string{"xuehai.vendor": vendorAcct, "li.teacher": teacherAcct} {
					seller := e.Users[login].ID
					var ref string
					e.DB.Raw("SELECT transfer_id FROM seller_transfers WHERE order_id = ? AND seller_id = ?", o.ID, seller).Scan(&ref)
					payouts := count(t, e, "SELECT COUNT(*) FROM balance_transactions WHERE seller_id = ? AND kind = 'payout' AND reference = ? AND amount_fen = ?",
						seller, ref, -shares[acct])
					if ref == "" || payouts != 1 {
						t.Fatalf("%s: transfer %q recorded with %d payouts", login, ref, payouts)
					}
					if bal := balanceOf(t, e, login); bal.BalanceFen != 0 {
						t.Fatalf("%s's balance after its transfer: %d", login, bal.BalanceFen)
					}
				}
				if audited := count(t, e, "SELECT COUNT(*) FROM audit_log WHERE action = 'payout.transfer' AND outcome = 'ok'"); audited != 2 {
					t.Fatalf("%d transfers audited", audited)
				}
				// Nothing is left to do, and running again calls Stripe no more.
				calls := len(f.callsOf("transfer"))
				if n := processQueued(t, e); n != 0 || len(f.callsOf("transfer")) != calls {
					t.Fatalf("a finished order made %d more calls", len(f.callsOf("transfer"))-calls)
				}
			})
		})
	}
}

// refundState is what the refund tests check after each step.
type refundState struct {
	order    market.Order
	active   map[int]int // licences still active, by line
	debits   map[string]int64
	reversed map[string]int64
}

func stateOf(t *testing.T, e *markettest.Env, id string) refundState {
	t.Helper()
	o, err := e.M.Order(e.As(t, "admin"), id)
	wantCode(t, err, "")
	s := refundState{order: o, active: map[int]int{}, debits: map[string]int64{}, reversed: map[string]int64{}}
	var lines []struct {
		OrderPosition int
		N             int
	}
	e.DB.Raw("SELECT order_position, COUNT(*) AS n FROM licenses WHERE order_id = ? AND status = 'active' GROUP BY order_position", id).Scan(&lines)
	for _, l := range lines {
		s.active[l.OrderPosition] = l.N
	}
	var debits []struct {
		SellerID string
		Sum      int64
	}
	e.DB.Raw("SELECT seller_id, -SUM(amount_fen) AS sum FROM balance_transactions WHERE order_id = ? AND kind = 'refund' GROUP BY seller_id", id).Scan(&debits)
	for _, d := range debits {
		s.debits[d.SellerID] = d.Sum
	}
	var reversed []struct {
		SellerID    string
		ReversedFen int64
	}
	e.DB.Raw("SELECT seller_id, reversed_fen FROM seller_transfers WHERE order_id = ?", id).Scan(&reversed)
	for _, r := range reversed {
		s.reversed[r.SellerID] = r.ReversedFen
	}
	// Whatever happened, the parts add up: the lines' refunds to the order's, and each seller's
	// debits to its lines' refunded shares, never beyond its share.
	var linesRefunded int64
	shares, borne := map[string]int64{}, map[string]int64{}
	var items []struct {
		SellerID                                             string
		AmountFen, SellerFen, RefundedFen, SellerRefundedFen int64
	}
	e.DB.Raw("SELECT seller_id, amount_fen, seller_fen, refunded_fen, seller_refunded_fen FROM order_items WHERE order_id = ?", id).Scan(&items)
	for _, it := range items {
		if it.RefundedFen > it.AmountFen || it.SellerRefundedFen > it.SellerFen || it.SellerRefundedFen > it.RefundedFen {
			t.Fatalf("line refunded beyond itself: %+v", it)
		}
		linesRefunded += it.RefundedFen
		shares[it.SellerID] += it.SellerFen
		borne[it.SellerID] += it.SellerRefundedFen
	}
	if linesRefunded != o.RefundedFen {
		t.Fatalf("lines refunded %d, the order %d", linesRefunded, o.RefundedFen)
	}
	for seller, d := range s.debits {
		if d != borne[seller] || d > shares[seller] {
			t.Fatalf("seller %s debited %d, bore %d of a share of %d", seller, d, borne[seller], shares[seller])
		}
	}
	if o.Status == "refunded" {
		for seller, share := range shares {
			if s.debits[seller] != share {
				t.Fatalf("fully refunded, seller %s debited %d of its %d", seller, s.debits[seller], share)
			}
		}
	}
	return s
}

func TestPartialThenFullRefund(t *testing.T) {
	eachStripe(t, func(t *testing.T, e *markettest.Env, f *fakeStripe) {
		vendor, teacher := e.Users["xuehai.vendor"].ID, e.Users["li.teacher"].ID
		enablePayouts(t, e, "xuehai.vendor", true)
		enablePayouts(t, e, "li.teacher", true)
		a, b, l := sellerLines(t, e)
		o := cardOrder(t, e, "refunds", a, b, l) // lines 990 (vendor), 4900 (vendor), 1999 (li)
		processQueued(t, e)
		admin := e.As(t, "admin")
		amount := func(v int64) *int64 { return &v }

		refusals := []struct {
			name string
			who  string
			req  market.RefundRequest
			code market.Code
		}{
			{"not an admin", "xiaoxue.admin", market.RefundRequest{Lines: []int{1}}, market.CodeForbidden},
			{"a student", "zhang.xiaoming", market.RefundRequest{}, market.CodeForbidden},
			{"an amount that is not whole lines", "admin", market.RefundRequest{AmountFen: amount(1000)}, market.CodeUnprocessable},
			{"an amount other than the lines'", "admin", market.RefundRequest{Lines: []int{1}, AmountFen: amount(990)}, market.CodeUnprocessable},
			{"no such line", "admin", market.RefundRequest{Lines: []int{3}}, market.CodeInvalid},
			{"a negative amount", "admin", market.RefundRequest{AmountFen: amount(-5)}, market.CodeInvalid},
			{"more than was paid", "admin", market.RefundRequest{AmountFen: amount(o.AmountFen + 1)}, market.CodeInvalid},
		}
		for _, c := range refusals {
			_, err := e.M.RefundOrder(e.As(t, c.who), o.ID, c.req)
			if market.ErrorCode(err) != c.code || err == nil {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		if s := stateOf(t, e, o.ID); s.order.Status != "paid" || s.order.RefundedFen != 0 || len(f.callsOf("refund")) != 0 {
			t.Fatalf("refused refunds changed the order: %+v, %d refund calls", s.order, len(f.callsOf("refund")))
		}

		// Line 1 (the vendor's 4900), with its amount as a check.
		got, err := e.M.RefundOrder(admin, o.ID, market.RefundRequest{Lines: []int{1}, AmountFen: amount(4900)})
		wantCode(t, err, "")
		processQueued(t, e)
		s := stateOf(t, e, o.ID)
		if got.Status != "partially_refunded" || s.order.RefundedFen != 4900 || s.order.Items[1].RefundedFen != 4900 ||
			s.active[0] != 1 || s.active[1] != 0 || s.active[2] != 1 {
			t.Fatalf("after refunding line 1: %s %d, active licences %v", got.Status, s.order.RefundedFen, s.active)
		}
		if calls := f.callsOf("refund"); len(calls) != 1 || calls[0].amount != 4900 {
			t.Fatalf("refund calls %+v, want one of 4900", calls)
		}
		if s.debits[vendor] != o.Items[1].SellerFen || s.debits[teacher] != 0 || s.reversed[vendor] != o.Items[1].SellerFen || s.reversed[teacher] != 0 {
			t.Fatalf("after line 1: debits %v, reversed %v", s.debits, s.reversed)
		}
		for _, lic := range s.order.Licenses {
			if lic.Status == "revoked" {
				verifyEntry(t, e, waitIndexed(t, e, "license.revoked:"+lic.ID), "license.revoked")
			}
		}
		if bal := balanceOf(t, e, "xuehai.vendor"); bal.BalanceFen != 0 {
			t.Fatalf("vendor balance %d after its refund was reversed from its transfer: %+v", bal.BalanceFen, bal.Transactions)
		}

		// The same refund again changes nothing; a line already refunded among others is refused.
		_, err = e.M.RefundOrder(admin, o.ID, market.RefundRequest{Lines: []int{1}})
		wantCode(t, err, "")
		_, err = e.M.RefundOrder(admin, o.ID, market.RefundRequest{Lines: []int{1, 2}})
		wantCode(t, err, market.CodeConflict)
		if len(f.callsOf("refund")) != 1 {
			t.Fatal("refunding line 1 again called Stripe")
		}

		// Stripe's notification of the refund, and its replay, change nothing more.
		charge := func(id string, total int64) {
			event(t, e, billing.Event{ID: id, Kind: billing.EventRefunded, Type: "charge.refunded", ChargeID: "ch_" + o.ID,
				PaymentIntentID: "pi_" + o.ID, AmountFen: total, Currency: "CNY"})
		}
		charge("evt_refund_1", 4900)
		charge("evt_refund_1", 4900)
		if again := stateOf(t, e, o.ID); again.order.RefundedFen != 4900 || fmt.Sprint(again.debits) != fmt.Sprint(s.debits) {
			t.Fatalf("the notification of a recorded refund changed the order: %+v", again)
		}

		// The rest: lines 0 and 2, 990 + 1999.
		got, err = e.M.RefundOrder(admin, o.ID, market.RefundRequest{})
		wantCode(t, err, "")
		processQueued(t, e)
		s = stateOf(t, e, o.ID)
		if got.Status != "refunded" || s.order.RefundedFen != o.AmountFen || len(s.active) != 0 {
			t.Fatalf("after the full refund: %s %d, active %v", got.Status, s.order.RefundedFen, s.active)
		}
		calls := f.callsOf("refund")
		if len(calls) != 2 || calls[1].amount != 990+1999 || calls[0].key == calls[1].key {
			t.Fatalf("refund calls %+v", calls)
		}
		wantShares := map[string]int64{vendor: o.Items[0].SellerFen + o.Items[1].SellerFen, teacher: o.Items[2].SellerFen}
		if fmt.Sprint(s.reversed) != fmt.Sprint(wantShares) {
			t.Fatalf("reversed %v, want every share %v", s.reversed, wantShares)
		}
		_, reversals := f.made("reversal")
		var reversedAtStripe int64
		for _, v := range reversals {
			reversedAtStripe += v
		}
		if reversedAtStripe != wantShares[vendor]+wantShares[teacher] {
			t.Fatalf("Stripe reversed %d in all", reversedAtStripe)
		}
		for _, login := range []string{"xuehai.vendor", "li.teacher"} {
			if bal := balanceOf(t, e, login); bal.BalanceFen != 0 {
				t.Fatalf("%s's balance after everything was refunded and reversed: %d", login, bal.BalanceFen)
			}
		}

		// Replays, stale notifications and refunding again change nothing.
		rows := count(t, e, "SELECT COUNT(*) FROM balance_transactions")
		charge("evt_refund_2", o.AmountFen)
		charge("evt_refund_2", o.AmountFen)
		charge("evt_refund_stale", 4900)
		_, err = e.M.RefundOrder(admin, o.ID, market.RefundRequest{})
		wantCode(t, err, "")
		processQueued(t, e)
		if after := stateOf(t, e, o.ID); count(t, e, "SELECT COUNT(*) FROM balance_transactions") != rows ||
			after.order.RefundedFen != o.AmountFen || len(f.callsOf("refund")) != 2 || len(f.callsOf("reversal")) != 3 {
			t.Fatalf("replays changed the refunded order")
		}
	})
}

// TestRefundsReportedByStripe: refunds made in Stripe's dashboard arrive as totals; each new
// part is spread over the lines, sums exactly, and is reversed from the transfers.
func TestRefundsReportedByStripe(t *testing.T) {
	eachStripe(t, func(t *testing.T, e *markettest.Env, f *fakeStripe) {
		enablePayouts(t, e, "xuehai.vendor", true)
		a, b, l := sellerLines(t, e)
		o := cardOrder(t, e, "reported", a, b, l)
		processQueued(t, e)
		steps := []struct {
			total    int64 // amount_refunded as Stripe reports it
			refunded int64
			status   string
			active   int
		}{
			{500, 500, "partially_refunded", 3},
			{500, 500, "partially_refunded", 3}, // a second notification of the same total
			{300, 500, "partially_refunded", 3}, // an older one, arriving late
			{4001, 4001, "partially_refunded", 3},
			{o.AmountFen + 100, o.AmountFen, "refunded", 0}, // never more than was paid
		}
		for i, st := range steps {
			event(t, e, billing.Event{ID: fmt.Sprint("evt_reported_", i), Kind: billing.EventRefunded, ChargeID: "ch_1",
				PaymentIntentID: "pi_" + o.ID, AmountFen: st.total})
			processQueued(t, e)
			s := stateOf(t, e, o.ID)
			active := 0
			for _, n := range s.active {
				active += n
			}
			if s.order.Status != st.status || s.order.RefundedFen != st.refunded || active != st.active {
				t.Fatalf("after a report of %d: %s %d, %d licences active", st.total, s.order.Status, s.order.RefundedFen, active)
			}
			vendor := e.Users["xuehai.vendor"].ID
			if s.reversed[vendor] != s.debits[vendor] {
				t.Fatalf("after a report of %d: vendor debited %d, reversed %d", st.total, s.debits[vendor], s.reversed[vendor])
			}
		}
		if teacher := e.Users["li.teacher"].ID; count(t, e, "SELECT COUNT(*) FROM transfer_reversals WHERE seller_id = ?", teacher) != 0 {
			t.Fatal("a reversal was queued for a seller paid by statement")
		}
		if bal := balanceOf(t, e, "li.teacher"); bal.BalanceFen != 0 {
			t.Fatalf("li.teacher (statement) balance %d after the full refund", bal.BalanceFen)
		}
	})
}

// TestUnfinishedRefunds: a refund whose answer from Stripe was lost stays open — other refunds
// of the order wait — and is finished once: by Stripe's notification, by the payment worker,
// or by sending it again. A refused one is dropped and changes nothing.
func TestUnfinishedRefunds(t *testing.T) {
	cases := []struct {
		name   string
		finish func(t *testing.T, e *markettest.Env, o market.Order)
	}{
		{"by the notification", func(t *testing.T, e *markettest.Env, o market.Order) {
			event(t, e, billing.Event{ID: "evt_lost", Kind: billing.EventRefunded, ChargeID: "ch_1", PaymentIntentID: "pi_" + o.ID, AmountFen: 4900})
		}},
		{"by the worker", func(t *testing.T, e *markettest.Env, o market.Order) {
			processQueued(t, e) // not yet: the retry delay has not passed
			if n := count(t, e, "SELECT COUNT(*) FROM order_refunds WHERE applied_at IS NULL"); n != 1 {
				t.Fatal("the worker retried the refund at once")
			}
			e.Clock.Advance(2 * time.Minute)
			processQueued(t, e)
		}},
		{"by sending it again", func(t *testing.T, e *markettest.Env, o market.Order) {
			_, err := e.M.RefundOrder(e.As(t, "admin"), o.ID, market.RefundRequest{Lines: []int{1}})
			wantCode(t, err, "")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachStripe(t, func(t *testing.T, e *markettest.Env, f *fakeStripe) {
				a, b, l := sellerLines(t, e)
				o := cardOrder(t, e, "lost", a, b, l)
				admin := e.As(t, "admin")
				f.setHooks(nil, func(op, _ string) error {
					if op == "refund" {
						return fmt.Errorf("fake: timeout: %w", billing.ErrUnavailable)
					}
					return nil
				})
				_, err := e.M.RefundOrder(admin, o.ID, market.RefundRequest{Lines: []int{1}})
				wantCode(t, err, market.CodeUnavailable)
				f.setHooks(nil, nil)
				_, err = e.M.RefundOrder(admin, o.ID, market.RefundRequest{Lines: []int{0}})
				wantCode(t, err, market.CodeConflict)
				c.finish(t, e, o)
				s := stateOf(t, e, o.ID)
				if s.order.Status != "partially_refunded" || s.order.RefundedFen != 4900 || s.active[1] != 0 || s.active[0] != 1 {
					t.Fatalf("after finishing: %s %d, active %v", s.order.Status, s.order.RefundedFen, s.active)
				}
				if made, _ := f.made("refund"); made != 1 {
					t.Fatalf("Stripe made %d refunds", made)
				}
				if n := count(t, e, "SELECT COUNT(*) FROM order_refunds WHERE applied_at IS NULL"); n != 0 {
					t.Fatalf("%d refunds still open", n)
				}
				// Now the other line can go.
				_, err = e.M.RefundOrder(admin, o.ID, market.RefundRequest{Lines: []int{0}})
				wantCode(t, err, "")
			})
		})
	}
	t.Run("refused", func(t *testing.T) {
		eachStripe(t, func(t *testing.T, e *markettest.Env, f *fakeStripe) {
			a, b, l := sellerLines(t, e)
			o := cardOrder(t, e, "refused", a, b, l)
			f.setHooks(func(op, _ string) error {
				if op == "refund" {
					return errors.New("charge disputed")
				}
				return nil
			}, nil)
			_, err := e.M.RefundOrder(e.As(t, "admin"), o.ID, market.RefundRequest{})
			wantCode(t, err, market.CodeConflict)
			var de *market.Error
			if !errors.As(err, &de) || de.Msg.Key != market.MsgRefundRefused {
				t.Fatalf("refused refund: %v", err)
			}
			s := stateOf(t, e, o.ID)
			if s.order.Status != "paid" || len(s.active) != 3 || count(t, e, "SELECT COUNT(*) FROM order_refunds") != 0 ||
				count(t, e, "SELECT COUNT(*) FROM audit_log WHERE action = 'order.refund' AND outcome = 'failed'") != 1 {
				t.Fatalf("a refused refund changed the order: %+v", s)
			}
		})
	})
}

// TestRefundsSumExactly: random sequences of line refunds and reported totals on orders of
// awkward amounts; every step keeps the parts summing exactly (stateOf checks them), and the
// last one, a full refund, leaves every seller debited its whole share.
func TestRefundsSumExactly(t *testing.T) {
	eachStripe(t, func(t *testing.T, e *markettest.Env, f *fakeStripe) {
		enablePayouts(t, e, "xuehai.vendor", true)
		var items []string
		for i, p := range []int64{333, 1001, 7, 2999} {
			items = append(items, paidLesson(t, e, fmt.Sprintf("对账课件%d", i), market.Prices{Personal: p}).ID)
		}
		admin := e.As(t, "admin")
		var paid, reported int64
		plans := [][]string{
			{"line 3", "report +100", "line 0", "rest"},
			{"report +1", "report +2", "line 2", "line 1", "rest"},
			{"line 1", "line 0", "line 2", "line 3"},
		}
		for i, plan := range plans {
			o := cardOrder(t, e, fmt.Sprint("sum-", i), items...)
			paid += o.AmountFen
			processQueued(t, e)
			for j, step := range plan {
				var err error
				switch {
				case step == "rest":
					_, err = e.M.RefundOrder(admin, o.ID, market.RefundRequest{})
				case step[:4] == "line":
					var line int
					fmt.Sscanf(step, "line %d", &line)
					_, err = e.M.RefundOrder(admin, o.ID, market.RefundRequest{Lines: []int{line}})
				default:
					var add int64
					fmt.Sscanf(step, "report +%d", &add)
					cur := stateOf(t, e, o.ID).order.RefundedFen
					reported += add
					event(t, e, billing.Event{ID: fmt.Sprintf("evt_sum_%d_%d", i, j), Kind: billing.EventRefunded, ChargeID: "ch",
						PaymentIntentID: "pi_" + o.ID, AmountFen: cur + add})
				}
				wantCode(t, err, "")
				processQueued(t, e)
				stateOf(t, e, o.ID)
			}
			s := stateOf(t, e, o.ID)
			vendor := e.Users["xuehai.vendor"].ID
			if s.order.Status != "refunded" || s.reversed[vendor] != s.debits[vendor] {
				t.Fatalf("plan %v: %s, debited %v, reversed %v", plan, s.order.Status, s.debits, s.reversed)
			}
		}
		// What was refunded here and what Stripe reported from elsewhere is all that was paid.
		_, refunds := f.made("refund")
		var here int64
		for _, v := range refunds {
			here += v
		}
		if here+reported != paid {
			t.Fatalf("refunded %d here and %d elsewhere of %d paid", here, reported, paid)
		}
	})
}
