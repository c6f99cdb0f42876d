package oai

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Resumption tokens are stateless: the token carries the list's arguments, the position after
// the last record sent, the count so far, the complete list size and an expiry, signed with an
// HMAC so that a harvester can neither forge one nor move another's. Nothing is kept on the
// server, so tokens survive restarts and work across instances sharing the secret.

// listState is a list request in progress.
type listState struct {
	Verb   string `json:"v"`
	Prefix string `json:"p"`
	Set    string `json:"s,omitempty"`
	From   string `json:"f,omitempty"`
	Until  string `json:"u,omitempty"`
	// AfterDS (µs since the epoch) and AfterID are the (datestamp, id) of the last record sent.
	AfterDS int64  `json:"t"`
	AfterID string `json:"i"`
	// Cursor counts the records sent before the next page; Total is completeListSize.
	Cursor  int   `json:"c"`
	Total   int64 `json:"n"`
	Expires int64 `json:"e"`
}

var errBadToken = errors.New("bad resumption token")

// tokenMACSize truncates the HMAC: 128 bits are beyond forgery and keep tokens short.
const tokenMACSize = 16

func encodeToken(key []byte, st listState) string {
	payload, _ := json.Marshal(st)
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(m.Sum(nil)[:tokenMACSize])
}

// decodeToken checks a token's signature, verb and expiry.
func decodeToken(key []byte, token, verb string, now time.Time) (listState, error) {
	var st listState
	p, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 2048 {
		return st, errBadToken
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return st, errBadToken
	}
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	if !hmac.Equal(mac, m.Sum(nil)[:tokenMACSize]) {
		return st, errBadToken
	}
	if err := json.Unmarshal(payload, &st); err != nil || st.Verb != verb || st.Cursor < 0 || st.Total < 0 {
		return st, errBadToken
	}
	if now.Unix() > st.Expires {
		return st, errTokenExpired
	}
	return st, nil
}

var errTokenExpired = errors.New("resumption token expired")
