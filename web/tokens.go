package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenLifetime is the JWT lifetime: API.md caps it at one hour.
const tokenLifetime = time.Hour

const (
	tokenIssuer   = "ziyuan"
	tokenAudience = "ziyuan"
)

// tokens issues and checks signed session tokens and CSRF tokens. Both derive from one secret,
// so any instance holding it accepts what another issued.
type tokens struct {
	jwtKey      []byte
	csrfKey     []byte
	downloadKey []byte
	// oaiKey signs OAI-PMH resumption tokens.
	oaiKey []byte
	now    func() time.Time
}

func newTokens(secret []byte, now func() time.Time) *tokens {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	return &tokens{jwtKey: derive("ziyuan jwt v1"), csrfKey: derive("ziyuan csrf v1"), downloadKey: derive("ziyuan download v1"),
		oaiKey: derive("ziyuan oai resumption v1"), now: now}
}

// issue returns a token for userID and its expiry.
func (t *tokens) issue(userID string) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(tokenLifetime)
	claims := jwt.RegisteredClaims{
		Issuer:    tokenIssuer,
		Subject:   userID,
		Audience:  jwt.ClaimStrings{tokenAudience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(exp),
		ID:        randomToken(12),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.jwtKey)
	return s, exp, err
}

var errBadToken = errors.New("invalid token")

// parse checks a token's signature, algorithm, issuer, audience and lifetime.
func (t *tokens) parse(s string) (*jwt.RegisteredClaims, error) {
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(s, &claims, func(*jwt.Token) (any, error) { return t.jwtKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer), jwt.WithAudience(tokenAudience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(t.now))
	if err != nil || claims.Subject == "" || claims.ExpiresAt.Sub(claims.IssuedAt.Time) > tokenLifetime {
		return nil, errBadToken
	}
	return &claims, nil
}

// csrfFor returns the form token that goes with a browser's CSRF nonce cookie. An attacker's
// page can neither read the cookie nor compute the token without the secret.
func (t *tokens) csrfFor(nonce string) string {
	m := hmac.New(sha256.New, t.csrfKey)
	m.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (t *tokens) csrfValid(nonce, token string) bool {
	if nonce == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(t.csrfFor(nonce)), []byte(token))
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
