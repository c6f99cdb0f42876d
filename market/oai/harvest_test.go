package oai_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"ziyuan/market"
	"ziyuan/market/markettest"
	"ziyuan/market/oai"
	"ziyuan/market/oai/oaitest"
)

func harvestedCopy(t *testing.T, e *markettest.Env, identifier string) market.Resource {
	t.Helper()
	var ids []string
	if err := e.DB.Raw("SELECT resource_id FROM harvest_records WHERE identifier = ?", identifier).Scan(&ids).Error; err != nil || len(ids) != 1 {
		t.Fatalf("no copy of %s: %v %v", identifier, ids, err)
	}
	r, err := e.M.Resource(e.As(t, "zhou.reviewer"), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestHarvestForeignDublinCore harvests a repository that is not Ziyuan: plain Dublin Core with
// bare subjects, day granularity, a GBK page, a 503 with Retry-After in the middle, a deleted
// record never seen before, and two records that cannot be mapped, reported with the reason.
func TestHarvestForeignDublinCore(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		ctx := context.Background()
		src := oaitest.NewSource(t)
		var waits []time.Duration
		opts := oai.HarvestOptions{BaseURL: src.URL, Sleep: func(_ context.Context, d time.Duration) error {
			waits = append(waits, d)
			return nil
		}}
		sum, err := oai.Harvest(ctx, e.M, opts)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Repository != "示范公益资源库" || sum.Prefix != "oai_dc" || sum.From != "" || sum.Harvested != 5 || sum.Imported != 2 ||
			sum.Skipped != 1 || sum.Unmappable != 2 || sum.Errors != 0 || !sum.Complete {
			t.Fatalf("summary %+v", sum)
		}
		if !slices.Equal(waits, []time.Duration{time.Second}) || src.Requests("resume") != 2 {
			t.Errorf("waits %v, %d requests for page 2: Retry-After not honoured", waits, src.Requests("resume"))
		}
		reasons := map[string]string{}
		for _, p := range sum.Problems {
			reasons[p.Identifier] = p.Kind + ": " + p.Reason
		}
		if len(reasons) != 2 || !strings.Contains(reasons["oai:source.example:1004"], "unmappable: no 学段") ||
			!strings.Contains(reasons["oai:source.example:1005"], "unmappable: a paid item") {
			t.Errorf("problems %v", reasons)
		}

		frac := harvestedCopy(t, e, "oai:source.example:1001")
		m := frac.Meta
		if m.Title != "分数的初步认识" || m.Summary != "借助折纸和分蛋糕认识几分之一，比较分数的大小。" || m.Type != "课件" || m.Stage != "小学" ||
			m.Grade != "三年级" || m.Subject != "数学" || m.Language != "zh" || m.Offer.License != "cc-by-nc" ||
			!slices.Equal(m.Keywords, []string{"小学", "三年级", "数学", "分数", "几分之一"}) {
			t.Errorf("1001 arrived as %+v", m)
		}
		if s := frac.Source; s == nil || s.Creator != "王老师" || s.Publisher != "示范公益资源库" || s.URL != "http://source.example/res/1001" ||
			s.Repository != src.URL || !s.Datestamp.Equal(time.Date(2026, 9, 15, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("1001 provenance %+v", frac.Source)
		}
		if frac.Status != market.StatusPendingReview || frac.Author != "OAI-PMH 采集" || frac.Institution != "国家中小学智慧教育公益资源中心" || len(frac.Files) != 0 {
			t.Errorf("1001: status %s, owner %s of %s, %d files", frac.Status, frac.Author, frac.Institution, len(frac.Files))
		}
		photo := harvestedCopy(t, e, "oai:source.example:1002").Meta
		if photo.Stage != "初中" || photo.Grade != "七年级" || photo.Subject != "生物学" || photo.Type != "微课" || photo.Offer.License != "public" {
			t.Errorf("1002 arrived as %+v", photo)
		}

		// Again: the source's day granularity, from the last harvest's responseDate.
		sum, err = oai.Harvest(ctx, e.M, opts)
		if err != nil || sum.From != "2026-10-08" || sum.Imported != 0 || sum.Updated != 0 || sum.Unchanged != 2 || !sum.Complete {
			t.Fatalf("second harvest %+v %v", sum, err)
		}
		// An explicit --from wins over the remembered one.
		opts.From = "2026-09-01T00:00:00Z"
		if sum, err = oai.Harvest(ctx, e.M, opts); err != nil || sum.From != "2026-09-01" {
			t.Fatalf("harvest with from: %+v %v", sum, err)
		}
	})
}

// TestHarvestTarget checks whom harvested items may belong to.
func TestHarvestTarget(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		ctx := context.Background()
		src := oaitest.NewSource(t)
		for _, c := range []struct {
			target market.HarvestTarget
			want   string
		}{
			{market.HarvestTarget{InstitutionCode: "3111010802"}, "not a public-welfare institution"}, // a school
			{market.HarvestTarget{InstitutionCode: "9999999999"}, "not a public-welfare institution"},
			{market.HarvestTarget{Login: "li.teacher"}, "belongs to another institution"},
			{market.HarvestTarget{Login: "bad login!"}, "login"},
		} {
			_, err := oai.Harvest(ctx, e.M, oai.HarvestOptions{BaseURL: src.URL, Target: c.target})
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(c.want)) {
				t.Errorf("target %+v: %v, want %q", c.target, err, c.want)
			}
		}
		// An existing publisher of the institution may own them.
		sum, err := oai.Harvest(ctx, e.M, oai.HarvestOptions{BaseURL: src.URL, Target: market.HarvestTarget{Login: "gongyi.editor"},
			Sleep: func(context.Context, time.Duration) error { return nil }})
		if err != nil || sum.Imported != 2 {
			t.Fatalf("as gongyi.editor: %+v %v", sum, err)
		}
		if r := harvestedCopy(t, e, "oai:source.example:1001"); r.Author != "公益资源编辑" {
			t.Errorf("owner %s", r.Author)
		}
		for _, bad := range []oai.HarvestOptions{{BaseURL: "ftp://x/oai"}, {BaseURL: src.URL, Set: "a b"}, {BaseURL: src.URL, From: "yesterday"},
			{BaseURL: src.URL, MetadataPrefix: "marc21"}} {
			if _, err := oai.Harvest(ctx, e.M, bad); err == nil {
				t.Errorf("%+v accepted", bad)
			}
		}
	})
}
