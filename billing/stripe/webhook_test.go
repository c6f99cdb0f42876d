package stripe_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"ziyuan/billing"
	"ziyuan/billing/stripe"
)

const eventCreated = 1772352000 // 2026-03-01T08:00:00Z

// event renders a Stripe event envelope around a data.object.
func event(id, typ, apiVersion, object string) []byte {
	return []byte(fmt.Sprintf(`{"id":%q,"object":"event","api_version":%q,"created":%d,"livemode":false,`+
		`"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":%q,"data":{"object":%s}}`,
		id, apiVersion, eventCreated, typ, object))
}

// sign signs a payload the way Stripe does, at a given time.
func sign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

func webhookProvider(t testing.TB, mod ...func(*stripe.Config)) *stripe.Provider {
	t.Helper()
	cfg := stripe.Config{SecretKey: testKey, WebhookSecret: webhookSecret}
	for _, m := range mod {
		m(&cfg)
	}
	p, err := stripe.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// session renders a checkout.session with the fields the adapter reads, among others.
func session(clientRef, metadata, paymentStatus, paymentIntent string) string {
	return fmt.Sprintf(`{"id":"cs_test_1","object":"checkout.session","mode":"payment","status":"complete",`+
		`"client_reference_id":%s,"metadata":%s,"payment_status":%q,"amount_total":6880,"amount_subtotal":6880,`+
		`"currency":"cny","payment_intent":%s,"url":null}`, clientRef, metadata, paymentStatus, paymentIntent)
}

func TestParseWebhookMapsEvents(t *testing.T) {
	const v = "2023-10-16" // the version stripe-go v76 pins
	paid := billing.Event{ID: "evt_1", Kind: billing.EventPaid, Type: "checkout.session.completed", OrderID: "ord_42",
		SessionID: "cs_test_1", PaymentIntentID: "pi_1", AmountFen: 6880, Currency: "CNY"}
	with := func(e billing.Event, f func(*billing.Event)) billing.Event { f(&e); return e }
	cases := []struct {
		name    string
		payload []byte
		want    billing.Event
	}{
		{"completed and paid",
			event("evt_1", "checkout.session.completed", v, session(`"ord_42"`, `{"order_id":"ord_42"}`, "paid", `"pi_1"`)),
			paid},
		{"completed but unpaid (delayed method)",
			event("evt_1", "checkout.session.completed", v, session(`"ord_42"`, `{"order_id":"ord_42"}`, "unpaid", `null`)),
			with(paid, func(e *billing.Event) { e.Kind, e.PaymentIntentID = billing.EventPending, "" })},
		{"completed with no_payment_required is not a payment",
			event("evt_1", "checkout.session.completed", v, session(`"ord_42"`, `{}`, "no_payment_required", `null`)),
			with(paid, func(e *billing.Event) { e.Kind, e.PaymentIntentID = billing.EventPending, "" })},
		{"order ID from metadata when client_reference_id is missing",
			event("evt_1", "checkout.session.completed", v, session(`null`, `{"order_id":"ord_42"}`, "paid", `"pi_1"`)),
			paid},
		{"a session that is not ours is ignored",
			event("evt_1", "checkout.session.completed", v, session(`null`, `{}`, "paid", `"pi_1"`)),
			with(paid, func(e *billing.Event) { e.Kind, e.OrderID = billing.EventIgnored, "" })},
		{"async payment succeeded, payment intent expanded",
			event("evt_2", "checkout.session.async_payment_succeeded", v,
				session(`"ord_42"`, `{}`, "paid", `{"id":"pi_2","object":"payment_intent","amount":6880}`)),
			with(paid, func(e *billing.Event) {
				e.ID, e.Type, e.PaymentIntentID = "evt_2", "checkout.session.async_payment_succeeded", "pi_2"
			})},
		{"async payment failed",
			event("evt_3", "checkout.session.async_payment_failed", v, session(`"ord_42"`, `{}`, "unpaid", `"pi_1"`)),
			with(paid, func(e *billing.Event) {
				e.ID, e.Type, e.Kind = "evt_3", "checkout.session.async_payment_failed", billing.EventFailed
			})},
		{"expired",
			event("evt_4", "checkout.session.expired", v, session(`"ord_42"`, `{}`, "unpaid", `null`)),
			with(paid, func(e *billing.Event) {
				e.ID, e.Type, e.Kind, e.PaymentIntentID = "evt_4", "checkout.session.expired", billing.EventExpired, ""
			})},
		{"partial refund reports the amount refunded so far",
			event("evt_5", "charge.refunded", v, `{"id":"ch_1","object":"charge","amount":6880,"amount_refunded":990,`+
				`"refunded":false,"currency":"cny","payment_intent":"pi_1","metadata":{"order_id":"ord_42"}}`),
			billing.Event{ID: "evt_5", Kind: billing.EventRefunded, Type: "charge.refunded", OrderID: "ord_42",
				PaymentIntentID: "pi_1", ChargeID: "ch_1", AmountFen: 990, Currency: "CNY"}},
		{"refund of a charge without order metadata keeps the payment intent",
			event("evt_6", "charge.refunded", v, `{"id":"ch_1","object":"charge","amount":6880,"amount_refunded":6880,`+
				`"refunded":true,"currency":"cny","payment_intent":"pi_1","metadata":{}}`),
			billing.Event{ID: "evt_6", Kind: billing.EventRefunded, Type: "charge.refunded",
				PaymentIntentID: "pi_1", ChargeID: "ch_1", AmountFen: 6880, Currency: "CNY"}},
		{"dispute",
			event("evt_7", "charge.dispute.created", v, `{"id":"dp_1","object":"dispute","amount":6880,"currency":"cny",`+
				`"charge":"ch_1","payment_intent":"pi_1","reason":"fraudulent","status":"needs_response","metadata":{}}`),
			billing.Event{ID: "evt_7", Kind: billing.EventDisputed, Type: "charge.dispute.created",
				PaymentIntentID: "pi_1", ChargeID: "ch_1", AmountFen: 6880, Currency: "CNY"}},
		{"account can now be paid",
			event("evt_8", "account.updated", v, `{"id":"acct_1","object":"account","type":"express","payouts_enabled":true,"charges_enabled":false}`),
			billing.Event{ID: "evt_8", Kind: billing.EventAccountUpdated, Type: "account.updated", AccountID: "acct_1", PayoutsEnabled: true}},
		{"account can no longer be paid",
			event("evt_9", "account.updated", v, `{"id":"acct_1","object":"account","payouts_enabled":false}`),
			billing.Event{ID: "evt_9", Kind: billing.EventAccountUpdated, Type: "account.updated", AccountID: "acct_1"}},
		{"other events are ignored",
			event("evt_10", "payment_intent.created", v, `{"id":"pi_1","object":"payment_intent","amount":6880}`),
			billing.Event{ID: "evt_10", Kind: billing.EventIgnored, Type: "payment_intent.created"}},
		{"another API version is accepted",
			event("evt_1", "checkout.session.completed", "2025-03-31.basil",
				session(`"ord_42"`, `{"order_id":"ord_42"}`, "paid", `"pi_1"`)),
			paid},
	}
	p := webhookProvider(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := p.ParseWebhook(c.payload, sign(c.payload, webhookSecret, time.Now()))
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if !bytes.Equal(got.Payload, c.payload) {
				t.Errorf("payload not kept verbatim")
			}
			if want := time.Unix(eventCreated, 0).UTC(); !got.Created.Equal(want) {
				t.Errorf("created %v; want %v", got.Created, want)
			}
			got.Payload, got.Created = nil, time.Time{}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("event:\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestParseWebhookRefuses(t *testing.T) {
	good := event("evt_1", "checkout.session.completed", "2023-10-16", session(`"ord_42"`, `{}`, "paid", `"pi_1"`))
	now := time.Now()
	tampered := bytes.Replace(good, []byte(`"amount_total":6880`), []byte(`"amount_total":1`), 1)
	cases := []struct {
		name    string
		payload []byte
		header  string
		want    error
		mention string
	}{
		{"signed with another secret", good, sign(good, "whsec_attacker", now), billing.ErrBadSignature, "no valid signature"},
		{"tampered after signing", tampered, sign(good, webhookSecret, now), billing.ErrBadSignature, "no valid signature"},
		{"no header", good, "", billing.ErrBadSignature, "no Stripe-Signature"},
		{"garbage header", good, "nonsense", billing.ErrBadSignature, "invalid Stripe-Signature"},
		{"only a v0 signature", good, strings.Replace(sign(good, webhookSecret, now), "v1=", "v0=", 1), billing.ErrBadSignature, ""},
		{"signature not hex", good, fmt.Sprintf("t=%d,v1=zz", now.Unix()), billing.ErrBadSignature, ""},
		{"ten minutes old (replay)", good, sign(good, webhookSecret, now.Add(-10*time.Minute)), billing.ErrBadSignature, "a replay"},
		{"signed but not JSON", []byte(`{"id":"evt_1",`), sign([]byte(`{"id":"evt_1",`), webhookSecret, now), billing.ErrBadPayload, ""},
		{"signed but not an event", []byte(`{"hello":"world"}`), sign([]byte(`{"hello":"world"}`), webhookSecret, now), billing.ErrBadPayload, "without id"},
		{"signed JSON null", []byte(`null`), sign([]byte(`null`), webhookSecret, now), billing.ErrBadPayload, ""},
	}
	bad := func(name, typ, object string) {
		b := event("evt_x", typ, "2023-10-16", object)
		cases = append(cases, struct {
			name    string
			payload []byte
			header  string
			want    error
			mention string
		}{name, b, sign(b, webhookSecret, now), billing.ErrBadPayload, ""})
	}
	bad("checkout event about a charge", "checkout.session.completed", `{"id":"ch_1","object":"charge"}`)
	bad("refund event about a session", "charge.refunded", session(`"ord_42"`, `{}`, "paid", `null`))
	bad("object without id", "account.updated", `{"object":"account","payouts_enabled":true}`)
	bad("data.object is an array", "charge.dispute.created", `[1,2]`)
	bad("data.object is null", "checkout.session.expired", `null`)
	bad("metadata is not strings", "checkout.session.completed", session(`"ord_42"`, `{"order_id":42}`, "paid", `null`))
	bad("amount is a string", "charge.refunded", `{"id":"ch_1","object":"charge","amount_refunded":"990"}`)
	bad("payment intent is a number", "charge.refunded", `{"id":"ch_1","object":"charge","payment_intent":7}`)

	p := webhookProvider(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := p.ParseWebhook(c.payload, c.header)
			if !errors.Is(err, c.want) {
				t.Fatalf("ParseWebhook = %+v, %v; want %v", ev, err, c.want)
			}
			if c.want == billing.ErrBadPayload && errors.Is(err, billing.ErrBadSignature) {
				t.Fatalf("error %v is both", err)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("error %q does not mention %q", err, c.mention)
			}
			if ev.ID != "" || ev.Kind != "" {
				t.Errorf("an event came with the error: %+v", ev)
			}
		})
	}
}

func TestParseWebhookTolerance(t *testing.T) {
	payload := event("evt_1", "account.updated", "2023-10-16", `{"id":"acct_1","object":"account","payouts_enabled":true}`)
	cases := []struct {
		name      string
		tolerance time.Duration
		age       time.Duration
		ok        bool
	}{
		{"fresh", 0, 0, true},
		{"4 minutes within the default 5", 0, 4 * time.Minute, true},
		{"6 minutes beyond the default 5", 0, 6 * time.Minute, false},
		{"2 minutes beyond a configured 1", time.Minute, 2 * time.Minute, false},
		{"20 minutes within a configured 30", 30 * time.Minute, 20 * time.Minute, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := webhookProvider(t, func(cfg *stripe.Config) { cfg.WebhookTolerance = c.tolerance })
			_, err := p.ParseWebhook(payload, sign(payload, webhookSecret, time.Now().Add(-c.age)))
			if c.ok != (err == nil) || (err != nil && !errors.Is(err, billing.ErrBadSignature)) {
				t.Fatalf("ParseWebhook error = %v; want ok=%v", err, c.ok)
			}
		})
	}
}

// During a secret rotation Stripe signs with both secrets; either must do.
func TestParseWebhookAcceptsAnyOfSeveralSignatures(t *testing.T) {
	payload := event("evt_1", "account.updated", "2023-10-16", `{"id":"acct_1","object":"account"}`)
	now := time.Now()
	old := sign(payload, "whsec_old", now)
	cur := sign(payload, webhookSecret, now)
	header := old + "," + cur[strings.Index(cur, "v1="):]
	if _, err := webhookProvider(t).ParseWebhook(payload, header); err != nil {
		t.Fatalf("ParseWebhook with two signatures: %v", err)
	}
}

func TestParseWebhookCopiesThePayload(t *testing.T) {
	payload := event("evt_1", "account.updated", "2023-10-16", `{"id":"acct_1","object":"account"}`)
	ev, err := webhookProvider(t).ParseWebhook(payload, sign(payload, webhookSecret, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	keep := bytes.Clone(payload)
	for i := range payload {
		payload[i] = 'x'
	}
	if !bytes.Equal(ev.Payload, keep) {
		t.Fatal("the event's payload shares the caller's buffer")
	}
}

// FuzzParseWebhook: arbitrary payloads and headers never panic, errors are always one of the
// two webhook errors, and an event comes out only when the header carries a valid HMAC of
// the payload under the endpoint's secret (checked here independently of stripe-go). With
// sign set, the fuzzer's payload is signed properly, to explore the decoding behind the
// signature check.
func FuzzParseWebhook(f *testing.F) {
	now := time.Now()
	seeds := [][]byte{
		event("evt_1", "checkout.session.completed", "2023-10-16", session(`"ord_42"`, `{"order_id":"ord_42"}`, "paid", `"pi_1"`)),
		event("evt_2", "checkout.session.async_payment_succeeded", "2025-03-31.basil", session(`"o"`, `{}`, "paid", `{"id":"pi_2"}`)),
		event("evt_3", "charge.refunded", "2023-10-16", `{"id":"ch_1","object":"charge","amount_refunded":5,"payment_intent":"pi_1","metadata":{"order_id":"o"}}`),
		event("evt_4", "charge.dispute.created", "2023-10-16", `{"id":"dp_1","object":"dispute","charge":{"id":"ch_1"},"amount":1}`),
		event("evt_5", "account.updated", "2023-10-16", `{"id":"acct_1","object":"account","payouts_enabled":true}`),
		[]byte(`{"id":"evt_6","type":"x","created":1,"data":null}`),
		[]byte(`not json`),
		{},
	}
	for _, s := range seeds {
		f.Add(s, sign(s, webhookSecret, now), false)
		f.Add(s, "", true)
		f.Add(s, sign(s, "whsec_other", now), false)
	}
	f.Add([]byte(`{}`), "t=1,v1=00,v1=zz,,=", false)
	p := webhookProvider(f)
	f.Fuzz(func(t *testing.T, payload []byte, header string, signIt bool) {
		if signIt {
			header = sign(payload, webhookSecret, time.Now())
		}
		ev, err := p.ParseWebhook(payload, header)
		signed := validSignature(payload, header)
		switch {
		case err == nil:
			if !signed {
				t.Fatalf("an event from an unsigned payload: %+v", ev)
			}
			if ev.ID == "" || ev.Type == "" || ev.Created.IsZero() || !bytes.Equal(ev.Payload, payload) {
				t.Fatalf("incomplete event %+v", ev)
			}
			switch ev.Kind {
			case billing.EventPaid, billing.EventPending, billing.EventFailed, billing.EventExpired,
				billing.EventRefunded, billing.EventDisputed, billing.EventAccountUpdated, billing.EventIgnored:
			default:
				t.Fatalf("unknown kind %q", ev.Kind)
			}
		case errors.Is(err, billing.ErrBadSignature):
			if signIt {
				t.Fatalf("a properly signed payload was refused as unsigned: %v", err)
			}
		case errors.Is(err, billing.ErrBadPayload):
			if !signed {
				t.Fatalf("an unsigned payload got past the signature check: %v", err)
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// validSignature reports whether any t=…/v1=… pair in the header is an HMAC-SHA256 of
// "t.payload" under the webhook secret (ignoring the timestamp's age).
func validSignature(payload []byte, header string) bool {
	var ts, sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			// Stripe signs the decimal timestamp; a header may spell it "+0017…".
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				ts = append(ts, strconv.FormatInt(n, 10))
			}
		case "v1":
			sigs = append(sigs, v)
		}
	}
	for _, t := range ts {
		mac := hmac.New(sha256.New, []byte(webhookSecret))
		mac.Write([]byte(t + "."))
		mac.Write(payload)
		want := mac.Sum(nil)
		for _, s := range sigs {
			if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}

// TestParseStoredReadsWhatParseWebhookAccepted: events are applied from the stored payload,
// which must decode to the same fact.
func TestParseStoredReadsWhatParseWebhookAccepted(t *testing.T) {
	p := webhookProvider(t)
	payload := event("evt_9", "checkout.session.completed", "2023-10-16", session(`"ord_42"`, `{"order_id":"ord_42"}`, "paid", `"pi_1"`))
	ev, err := p.ParseWebhook(payload, sign(payload, webhookSecret, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.ParseStored(ev.Payload)
	if err != nil || again.ID != ev.ID || again.Kind != billing.EventPaid || again.OrderID != "ord_42" || again.AmountFen != 6880 {
		t.Fatalf("stored copy decodes to %+v (%v), want %+v", again, err, ev)
	}
	if _, err := p.ParseStored([]byte("{")); !errors.Is(err, billing.ErrBadPayload) {
		t.Fatalf("a malformed stored payload: %v", err)
	}
}
