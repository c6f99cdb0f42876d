package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// balancer does on the client what a load balancer in front of the instances would: each user
// has a home instance; an instance whose /readyz fails, or that refuses a connection, is
// skipped until its health check passes again. A request is only ever sent twice when the
// first attempt could not connect, so it never reached a server: what a proxy such as nginx
// does by default (proxy_next_upstream error), and safe for writes. When every instance fails
// its health check (the database is down), requests go to the home instance anyway.
type balancer struct {
	backends []*backend
}

type backend struct {
	inst *instance
	up   atomic.Bool
}

func newBalancer(insts []*instance) *balancer {
	lb := &balancer{}
	for _, in := range insts {
		b := &backend{inst: in}
		b.up.Store(true)
		lb.backends = append(lb.backends, b)
	}
	return lb
}

// pick returns the backend for a user's attempt: the home instance, or the next healthy one.
func (lb *balancer) pick(home, attempt int) *backend {
	n := len(lb.backends)
	ups := make([]*backend, 0, n)
	for i := range n {
		if b := lb.backends[(home+i)%n]; b.up.Load() {
			ups = append(ups, b)
		}
	}
	if len(ups) == 0 {
		return lb.backends[(home+attempt)%n]
	}
	return ups[attempt%len(ups)]
}

// watch health-checks every backend until ctx ends.
func (lb *balancer) watch(ctx context.Context, every time.Duration) {
	for _, b := range lb.backends {
		go func() {
			for sleepCtx(ctx, every) {
				status, _ := getText(ctx, b.inst.url+"/readyz", 2*time.Second)
				b.up.Store(status == http.StatusOK)
			}
		}()
	}
}

// notConnected reports whether err means the request never reached a server.
func notConnected(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
