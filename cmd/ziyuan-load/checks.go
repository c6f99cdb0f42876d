package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"ziyuan/market/store"
)

// check is one post-run check for the report.
type check struct {
	name   string
	ok     bool
	figure string
	lost   int // acknowledged writes this check found missing
}

// postChecks lets the system settle and then checks what the issue asks: fsck passes, every
// acknowledged write is in the database and the ledger, the catalog feed is drained and every
// index matches the database.
func (h *harness) postChecks(ctx context.Context, res *runResult) []check {
	var out []check
	add := func(name string, ok bool, format string, args ...any) {
		out = append(out, check{name: name, ok: ok, figure: fmt.Sprintf(format, args...)})
		state := "ok"
		if !ok {
			state = "FAILED"
		}
		h.logf("check %s: %s — %s", name, state, out[len(out)-1].figure)
	}

	var down []string
	for _, in := range h.insts {
		if !in.running() {
			down = append(down, in.name)
		}
	}
	add("instances alive", len(down) == 0 && h.unexpectedExits.Load() == 0,
		"%d unexpected exits; not running at the end: %s", h.unexpectedExits.Load(), orNone(down))
	var failed []string
	for _, w := range res.windows {
		if w.failed != "" {
			failed = append(failed, w.fault+": "+w.failed)
		}
	}
	if h.cfg.Faults {
		add("faults injected and recovered", len(failed) == 0 && len(res.windows) == 3, "%d of 3 recovered; %s",
			len(res.windows)-len(failed), orNone(failed))
	}

	db, err := store.Open(ctx, store.Config{URL: h.pg.url()})
	if err != nil {
		add("database", false, "cannot open: %v", err)
		return out
	}
	defer db.Close()
	scalar := func(q string, args ...any) int64 {
		var n int64
		if err := db.WithContext(ctx).Raw(q, args...).Scan(&n).Error; err != nil {
			h.logf("query %q: %v", q, err)
			return -1
		}
		return n
	}

	// Settle: the ledger integrates and signs what is queued, every index follows the feed.
	began := time.Now()
	var queued, tree, signed, unpositioned, lastPos int64
	var behind []string
	settled := false
	for deadline := began.Add(3 * time.Minute); ; {
		queued = scalar(`SELECT count(*) FROM ledger_entries WHERE idx IS NULL`)
		tree = scalar(`SELECT size FROM ledger_tree WHERE id = 1`)
		signed = scalar(`SELECT COALESCE(max(size), 0) FROM ledger_checkpoints`)
		unpositioned = scalar(`SELECT count(*) FROM catalog_outbox WHERE pos IS NULL`)
		lastPos = scalar(`SELECT last_pos FROM catalog_feed WHERE id = 1`)
		var followers []struct {
			Name string
			Pos  int64
		}
		db.WithContext(ctx).Raw(`SELECT name, pos FROM catalog_followers ORDER BY name`).Scan(&followers)
		behind = behind[:0]
		for _, f := range followers {
			if f.Pos != lastPos {
				behind = append(behind, fmt.Sprintf("%s… at %d", f.Name[:min(8, len(f.Name))], f.Pos))
			}
		}
		if queued == 0 && tree == signed && unpositioned == 0 && len(behind) == 0 && len(followers) == len(h.insts) {
			settled = true
			break
		}
		if time.Now().After(deadline) || !sleepCtx(ctx, 250*time.Millisecond) {
			break
		}
	}
	settle := time.Since(began).Round(100 * time.Millisecond)
	add("ledger settled", queued == 0 && tree == signed && tree > 0,
		"%d entries integrated, %d queued, latest checkpoint signs %d (settled %s after the run)", tree, queued, signed, settle)
	add("outbox drained", settled,
		"%d changes without a feed position; feed at %d; followers behind it: %s", unpositioned, lastPos, orNone(behind))

	fsckOut, err := h.cli(ctx, "ledger", "fsck")
	add("ziyuan ledger fsck", err == nil && strings.Contains(fsckOut, "ledger ok"), "%s", strings.TrimSpace(fsckOut))

	// Acknowledged claims: a licence row each, for that resource and holder, active, with its
	// license.granted entry integrated.
	a := res.acks
	ids := slices.Sorted(maps.Keys(a.claims))
	type licRow struct {
		ID, ResourceID, HolderID, Status string
		Idx                              *int64
	}
	found := map[string]licRow{}
	for chunk := range slices.Chunk(ids, 500) {
		var rows []licRow
		db.WithContext(ctx).Raw(`SELECT l.id, l.resource_id, l.holder_id, l.status, e.idx FROM licenses l
LEFT JOIN ledger_entries e ON e.dedupe_key = 'license.granted:' || l.id WHERE l.id IN ?`, chunk).Scan(&rows)
		for _, r := range rows {
			found[r.ID] = r
		}
	}
	var lostLic, unledgered, wrong []string
	created := 0
	for _, id := range ids {
		ack := a.claims[id]
		if ack.status == http.StatusCreated {
			created++
		}
		r, ok := found[id]
		switch {
		case !ok:
			lostLic = append(lostLic, id)
		case r.Idx == nil:
			unledgered = append(unledgered, id)
		case r.ResourceID != ack.resource || r.HolderID != ack.holder || r.Status != "active":
			wrong = append(wrong, id)
		}
	}
	add("acknowledged claims", len(lostLic)+len(unledgered)+len(wrong) == 0 && len(ids) > 0,
		"%d distinct licences acknowledged (%d newly granted, 201); missing licence rows: %d; without an integrated license.granted entry: %d; wrong resource, holder or status: %d %s",
		len(ids), created, len(lostLic), len(unledgered), len(wrong), sample3(append(append(lostLic, unledgered...), wrong...)))
	out[len(out)-1].lost = len(lostLic) + len(unledgered) + len(wrong)
	dups := scalar(`SELECT count(*) FROM (SELECT resource_id, holder_id FROM licenses WHERE source IN ('claim','enrolment')
GROUP BY resource_id, holder_id HAVING count(*) > 1) d`)
	add("one licence per claim", dups == 0, "%d resource/holder pairs with more than one claimed licence", dups)
	add("claim answers consistent", len(a.anomalies) == 0, "%d anomalies %s", len(a.anomalies), sample3(a.anomalies))

	// Acknowledged publications: created drafts exist, submitted ones wait for review or are
	// published, approved ones are published with work.registered and work.published entries.
	type resRow struct {
		ID, Status         string
		PublishedVersionID *string
		Registered, Pub    *int64
	}
	all := slices.Sorted(maps.Keys(a.created))
	rows := map[string]resRow{}
	for chunk := range slices.Chunk(all, 500) {
		var rs []resRow
		db.WithContext(ctx).Raw(`SELECT r.id, r.status, r.published_version_id, reg.idx AS registered, pub.idx AS pub FROM resources r
LEFT JOIN ledger_entries reg ON reg.dedupe_key = 'work.registered:' || r.id
LEFT JOIN ledger_entries pub ON pub.dedupe_key = 'work.published:' || r.published_version_id
WHERE r.id IN ?`, chunk).Scan(&rs)
		for _, r := range rs {
			rows[r.ID] = r
		}
	}
	var lostCreated, lostSubmitted, lostApproved []string
	for _, id := range all {
		r, ok := rows[id]
		if !ok {
			lostCreated = append(lostCreated, id)
			continue
		}
		if _, ok := a.submitted[id]; ok && r.Status != "pending_review" && r.Status != "published" {
			lostSubmitted = append(lostSubmitted, id+" ("+r.Status+")")
		}
		if _, ok := a.approved[id]; ok && (r.Status != "published" || r.PublishedVersionID == nil || r.Registered == nil || r.Pub == nil) {
			lostApproved = append(lostApproved, id+" ("+r.Status+")")
		}
	}
	add("acknowledged publications", len(lostCreated)+len(lostSubmitted) == 0,
		"%d drafts created, %d submitted (%d confirmed by a read after a lost answer); missing: %d drafts, %d submissions %s",
		len(all), len(a.submitted), a.confirmedSubmits, len(lostCreated), len(lostSubmitted), sample3(append(lostCreated, lostSubmitted...)))
	out[len(out)-1].lost = len(lostCreated) + len(lostSubmitted)
	add("acknowledged approvals", len(lostApproved) == 0,
		"%d approved (%d confirmed by a read after a lost answer); not published with both ledger entries integrated: %d %s",
		len(a.approved), a.confirmedApprovals, len(lostApproved), sample3(lostApproved))
	out[len(out)-1].lost = len(lostApproved)

	// Every index holds exactly the published resources. The engine's cache keeps a result
	// a second: wait it out.
	var want []string
	db.WithContext(ctx).Raw(`SELECT id FROM resources WHERE published_version_id IS NOT NULL AND status <> 'taken_down' ORDER BY id`).Scan(&want)
	sleepCtx(ctx, 1500*time.Millisecond)
	for _, in := range h.insts {
		got, err := indexIDs(ctx, in.url)
		if err != nil {
			add("search index of "+in.name, false, "%v", err)
			continue
		}
		missing, extra := diff(want, got)
		add("search index of "+in.name, len(missing) == 0 && len(extra) == 0,
			"%d documents for %d published resources; missing %d %s, extra %d %s", len(got), len(want), len(missing), sample3(missing), len(extra), sample3(extra))
	}
	for _, in := range h.insts {
		_, body := getText(ctx, in.url+"/metrics", 5*time.Second)
		if m := regexp.MustCompile(`(?m)^ziyuan_catalog_outbox_lag_seconds (\S+)$`).FindStringSubmatch(body); m != nil && m[1] != "0" {
			add("outbox lag of "+in.name, false, "ziyuan_catalog_outbox_lag_seconds %s", m[1])
		}
	}
	return out
}

// indexIDs lists every document of an instance's index through the public search API.
func indexIDs(ctx context.Context, base string) ([]string, error) {
	var ids []string
	for page := 1; ; page++ {
		status, body, err := apiCall(ctx, base, "", "GET", fmt.Sprintf("/api/v1/search?sort=newest&per_page=100&page=%d", page), "", nil)
		if err != nil || status != http.StatusOK {
			return nil, fmt.Errorf("search page %d: %d %v %s", page, status, err, snippet(body))
		}
		var res struct {
			Total int
			Hits  []struct{ ID string }
		}
		if err := json.Unmarshal(body, &res); err != nil {
			return nil, err
		}
		for _, hit := range res.Hits {
			ids = append(ids, hit.ID)
		}
		if len(res.Hits) == 0 || len(ids) >= res.Total {
			if len(ids) != res.Total {
				return ids, fmt.Errorf("paged %d documents but the total says %d", len(ids), res.Total)
			}
			return ids, nil
		}
	}
}

func diff(want, got []string) (missing, extra []string) {
	w := map[string]bool{}
	for _, id := range want {
		w[id] = true
	}
	g := map[string]bool{}
	for _, id := range got {
		g[id] = true
		if !w[id] {
			extra = append(extra, id)
		}
	}
	for _, id := range want {
		if !g[id] {
			missing = append(missing, id)
		}
	}
	if len(g) != len(got) {
		extra = append(extra, fmt.Sprintf("(%d duplicate hits)", len(got)-len(g)))
	}
	return missing, extra
}

func sample3(list []string) string {
	if len(list) == 0 {
		return ""
	}
	if len(list) > 3 {
		return "(e.g. " + strings.Join(list[:3], ", ") + ")"
	}
	return "(" + strings.Join(list, ", ") + ")"
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, "; ")
}
