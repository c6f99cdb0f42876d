package demodata

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"ziyuan/market"
	"ziyuan/market/files"
)

// SeedReport says what Seed did.
type SeedReport struct {
	Published int // items created, reviewed and published now
	Present   int // items found from an earlier run
	Claims    int
	Ratings   int
}

// Seed publishes the demo items through the market as their owners would: create with the
// inspected files, submit with the pledge, approval by the demo reviewer, then the claims and
// ratings. Items already published (same owner and title) are skipped, so seeding twice adds
// nothing. The ledger's sequencer must be running: approvals of derivatives wait for their
// parents' entries. progress, if not nil, is called after each item.
func Seed(ctx context.Context, m *market.Market, in *files.Inspector, progress func(done, total int)) (SeedReport, error) {
	var rep SeedReport
	items := Items()
	reviewer, err := m.ActAs(ctx, "zhou.reviewer")
	if err != nil {
		return rep, err
	}
	approve := market.Decision{Decision: "approve", Reason: "演示数据", Checklist: map[string]bool{}}
	for _, c := range market.ChecklistItems {
		approve.Checklist[c] = true
	}
	actors := map[string]context.Context{}
	as := func(login string) (context.Context, error) {
		if c, ok := actors[login]; ok {
			return c, nil
		}
		c, err := m.ActAs(ctx, login)
		actors[login] = c
		return c, err
	}
	existing := map[string]map[string]string{} // owner → title → id
	ids := map[string]string{}
	for i, it := range items {
		owner, err := as(it.Owner)
		if err != nil {
			return rep, fmt.Errorf("demo owner %s: %w", it.Owner, err)
		}
		if existing[it.Owner] == nil {
			if existing[it.Owner], err = titles(owner, m); err != nil {
				return rep, err
			}
		}
		if id, ok := existing[it.Owner][it.Meta.Title]; ok {
			ids[it.Key] = id
			rep.Present++
		} else {
			id, err := publish(owner, reviewer, m, in, it, ids, approve)
			if err != nil {
				return rep, fmt.Errorf("demo item %s: %w", it.Key, err)
			}
			ids[it.Key] = id
			rep.Published++
			for _, login := range it.Claims {
				c, err := as(login)
				if err == nil {
					_, _, err = m.Claim(c, id)
				}
				if err != nil {
					return rep, fmt.Errorf("demo item %s: claim by %s: %w", it.Key, login, err)
				}
				rep.Claims++
			}
			for _, r := range it.Ratings {
				c, err := as(r.Login)
				if err == nil {
					_, err = m.Rate(c, id, r.Stars, r.Text)
				}
				if err != nil {
					return rep, fmt.Errorf("demo item %s: rating by %s: %w", it.Key, r.Login, err)
				}
				rep.Ratings++
			}
		}
		if progress != nil {
			progress(i+1, len(items))
		}
	}
	return rep, nil
}

// titles maps the titles of an owner's resources to their IDs.
func titles(owner context.Context, m *market.Market) (map[string]string, error) {
	out := map[string]string{}
	for page := 1; ; page++ {
		p, err := m.MyResources(owner, "", market.Paging{Page: page, PerPage: market.MaxPerPage})
		if err != nil {
			return nil, err
		}
		for _, r := range p.Items {
			out[r.Title] = r.ID
		}
		if int64(page*market.MaxPerPage) >= p.Total {
			return out, nil
		}
	}
}

func publish(owner, reviewer context.Context, m *market.Market, in *files.Inspector, it Item, ids map[string]string, approve market.Decision) (string, error) {
	meta := it.Meta
	for _, pk := range it.ParentKeys {
		id, ok := ids[pk]
		if !ok {
			return "", fmt.Errorf("parent %s not published", pk)
		}
		meta.Parents = append(meta.Parents, id)
	}
	var uploads []market.Upload
	for _, f := range it.Files {
		u, err := in.Inspect(owner, f.Name, bytes.NewReader(f.Data))
		if err != nil {
			return "", fmt.Errorf("%s: %w", f.Name, err)
		}
		defer u.Close()
		uploads = append(uploads, market.Upload{Name: u.Name, Size: u.Size, SHA256: u.SHA256, MIME: u.MIME,
			Kind: string(u.Kind), Text: u.Text, Open: func() (io.ReadCloser, error) { return u.Open() }})
	}
	r, err := m.CreateResource(owner, meta, uploads)
	if err != nil {
		return "", err
	}
	if _, err := m.Submit(owner, r.ID, true); err != nil {
		return "", err
	}
	if _, err := m.Decide(reviewer, r.ID, approve); err != nil {
		return "", err
	}
	return r.ID, nil
}
