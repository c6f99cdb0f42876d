package web_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"ziyuan/market"
	"ziyuan/market/oai"
	"ziyuan/market/oai/oaitest"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
)

// harvested returns B's resource for one of A's identifiers.
func harvested(t *testing.T, b *env, base, identifier string) market.Resource {
	t.Helper()
	var ids []string
	if err := b.db.Raw("SELECT resource_id FROM harvest_records WHERE base_url = ? AND identifier = ?", base, identifier).Scan(&ids).Error; err != nil || len(ids) != 1 {
		t.Fatalf("no harvested copy of %s (%v, %v)", identifier, ids, err)
	}
	r, err := b.m.Resource(b.As(t, "zhou.reviewer"), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestOAIRoundTrip is issue 8's round trip: instance B harvests instance A over HTTP; every
// published free record arrives with its metadata and waits for review on B, the rest is
// reported; a second harvest imports nothing; an update on A arrives as an update; takedowns on A
// arrive on B as deletions, visible on B's own provider.
func TestOAIRoundTrip(t *testing.T) {
	storetest.Each(t, market.Schemas(), func(t *testing.T, dbA *store.DB) {
		ctx := context.Background()
		a := newEnv(t, dbA)
		b := newEnv(t, storetest.Open(t, dbA.Dialect, market.Schemas()...))
		f := publishOAIFixtures(t, a)
		base := serveOn(t, oaiServer(a, "a.ziyuan.test", 2)) + "/oai"
		idA := func(r string) string { return "oai:a.ziyuan.test:" + r }
		var notices []string
		opts := oai.HarvestOptions{BaseURL: base, Notice: func(s string) { notices = append(notices, s) }}

		sum, err := oai.Harvest(ctx, b.m, opts)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Prefix != "lom" || sum.Harvested != 6 || sum.Imported != 3 || sum.Unmappable != 2 || sum.Skipped != 1 ||
			sum.Errors != 0 || !sum.Complete {
			t.Fatalf("first harvest: %+v", sum)
		}
		reasons := map[string]string{}
		for _, p := range sum.Problems {
			reasons[p.Identifier] = p.Kind + ": " + p.Reason
		}
		if !strings.Contains(reasons[idA(f.paid)], "paid") || !strings.Contains(reasons[idA(f.course)], "网络课程") || len(reasons) != 2 {
			t.Errorf("reported: %v", reasons)
		}
		if len(notices) != 1 || !strings.Contains(notices[0], "created the harvest account") {
			t.Errorf("notices %v", notices)
		}

		// Every free published record arrived with its metadata, waiting for review.
		for _, r := range []string{f.lesson, f.public, f.derived} {
			orig, err := a.m.Resource(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			got := harvested(t, b, base, idA(r))
			want := orig.Meta
			want.Parents, got.Meta.Parents = nil, nil
			if !metaEqual(got.Meta, want) {
				t.Errorf("%s arrived as\n%+v\nwant\n%+v", r, got.Meta, want)
			}
			src := got.Source
			if got.Status != market.StatusPendingReview || got.Author != "OAI-PMH 采集" || src == nil || src.Creator != orig.Author ||
				src.Publisher != orig.Institution || src.Repository != base || src.URL != strings.TrimSuffix(base, "/oai")+"/resources/"+r {
				t.Errorf("%s: status %s, owner %s, source %+v", r, got.Status, got.Author, src)
			}
			if r == f.derived && (src == nil || !slices.Equal(src.Parents, []string{idA(f.lesson)})) {
				t.Errorf("the derivative's source parents: %+v", src)
			}
		}
		// A set of the source: only its records, recognised as already imported.
		sum, err = oai.Harvest(ctx, b.m, oai.HarvestOptions{BaseURL: base, Set: "stage:primary-school"})
		if err != nil || sum.Harvested != 1 || sum.Unchanged != 1 || sum.From != "" || !sum.Complete {
			t.Fatalf("harvest of a set: %+v %v", sum, err)
		}
		queue, err := b.m.ReviewQueue(b.As(t, "zhou.reviewer"), market.Paging{})
		if err != nil || queue.Total != 3 {
			t.Fatalf("B's review queue: %d (%v)", queue.Total, err)
		}

		// Again: nothing new.
		sum, err = oai.Harvest(ctx, b.m, opts)
		if err != nil || sum.Imported != 0 || sum.Updated != 0 || sum.Deleted != 0 || sum.Errors != 0 || !sum.Complete || sum.From == "" {
			t.Fatalf("second harvest: %+v %v", sum, err)
		}

		// B publishes its copy of the lesson; A revises the public item, then takes down both.
		lessonB := harvested(t, b, base, idA(f.lesson)).ID
		if _, err := b.m.Decide(b.As(t, "zhou.reviewer"), lessonB, approveDecision()); err != nil {
			t.Fatal(err)
		}
		b.waitCheckpoint(t)
		// B's page credits the source: the provenance line, and the original creator in JSON-LD.
		res := b.do(t, "GET", "/resources/"+lessonB, "", nil)
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(page), "来源") || !strings.Contains(string(page), idA(f.lesson)) {
			t.Errorf("B's page of the harvested lesson: %d\n%s", res.StatusCode, page)
		}
		if ld := pageLD(t, b, lessonB); ld.Author.Name != "李老师" || ld.Author.Affiliation.Name != "北京市海淀区实验小学" {
			t.Errorf("B's JSON-LD author: %+v", ld.Author)
		}
		a.clock.Advance(time.Hour)
		title := "古诗两首课件（修订）"
		if _, err := a.m.UpdateResource(a.As(t, "gongyi.editor"), f.public, market.MetaPatch{Title: &title}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := a.m.Submit(a.As(t, "gongyi.editor"), f.public, true); err != nil {
			t.Fatal(err)
		}
		if _, err := a.m.Decide(a.As(t, "zhou.reviewer"), f.public, approveDecision()); err != nil {
			t.Fatal(err)
		}
		lessonTitle := "勾股定理教案（修订）"
		if _, err := a.m.UpdateResource(a.As(t, "li.teacher"), f.lesson, market.MetaPatch{Title: &lessonTitle}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := a.m.Submit(a.As(t, "li.teacher"), f.lesson, true); err != nil {
			t.Fatal(err)
		}
		if _, err := a.m.Decide(a.As(t, "zhou.reviewer"), f.lesson, approveDecision()); err != nil {
			t.Fatal(err)
		}
		sum, err = oai.Harvest(ctx, b.m, opts)
		if err != nil || sum.Updated != 2 || sum.Imported != 0 {
			t.Fatalf("harvest after updates: %+v %v", sum, err)
		}
		// Still in review: edited in place. Public on B: a new version waits, the old one stays.
		if got := harvested(t, b, base, idA(f.public)); got.Meta.Title != title || got.Status != market.StatusPendingReview || got.Version != 1 {
			t.Errorf("the updated copy in review: %q %s v%d", got.Meta.Title, got.Status, got.Version)
		}
		if got := harvested(t, b, base, idA(f.lesson)); got.Meta.Title != lessonTitle || got.Status != market.StatusPublished ||
			got.Version != 2 || got.VersionStatus != market.StatusPendingReview {
			t.Errorf("the updated published copy: %q %s v%d %s", got.Meta.Title, got.Status, got.Version, got.VersionStatus)
		}
		if pub, _ := b.m.Resource(ctx, lessonB); pub.Meta.Title != "勾股定理教案" {
			t.Errorf("B's public version changed before review: %q", pub.Meta.Title)
		}

		a.clock.Advance(time.Hour)
		a.takeDown(t, f.lesson)
		a.takeDown(t, f.public)
		sum, err = oai.Harvest(ctx, b.m, opts)
		if err != nil || sum.Deleted != 2 || !sum.Complete {
			t.Fatalf("harvest after takedowns: %+v %v", sum, err)
		}
		if got := harvested(t, b, base, idA(f.public)); got.Status != market.StatusTakenDown || got.Source == nil || !got.Source.Withdrawn {
			t.Errorf("the withdrawn copy in review: %s %+v", got.Status, got.Source)
		}
		if queue, _ := b.m.ReviewQueue(b.As(t, "zhou.reviewer"), market.Paging{}); queue.Total != 1 {
			t.Errorf("B's review queue holds %d, want the derivative only", queue.Total)
		}
		if _, err := b.m.Decide(b.As(t, "zhou.reviewer"), lessonB, approveDecision()); !market.IsCode(err, market.CodeConflict) {
			t.Errorf("approving the withdrawn update of a taken-down copy: %v", err)
		}
		// On B's own provider, its published copy is now a deleted record.
		srvB := oaiServer(b, "b.ziyuan.test", 10)
		doc := oaiGet(t, srvB, "GET", "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:b.ziyuan.test:"+lessonB)
		if l := parseList(t, doc); len(l.Got) != 1 || l.Got[0].Header.Status != "deleted" {
			t.Errorf("B's record of the withdrawn lesson: %s", doc)
		}
		oaitest.Validate(t, map[string][]byte{"b-deleted": doc})
		if _, err := b.m.Resource(ctx, lessonB); !market.IsCode(err, market.CodeNotFound) {
			t.Errorf("B's withdrawn copy is still public: %v", err)
		}
		sum, err = oai.Harvest(ctx, b.m, opts)
		if err != nil || sum.Deleted != 0 || sum.Imported != 0 || sum.Updated != 0 {
			t.Fatalf("harvest after the deletions arrived: %+v %v", sum, err)
		}

		// Dublin Core says as much as LOM: the same records harvested as oai_dc (another base URL
		// for the same server, so they import afresh) map the same.
		dcOpts := oai.HarvestOptions{BaseURL: strings.Replace(base, "127.0.0.1", "localhost", 1), MetadataPrefix: "oai_dc"}
		sum, err = oai.Harvest(ctx, b.m, dcOpts)
		if err != nil || sum.Imported != 1 || sum.Unmappable != 2 {
			t.Fatalf("oai_dc harvest: %+v %v", sum, err)
		}
		viaDC := harvested(t, b, dcOpts.BaseURL, idA(f.derived))
		viaLOM := harvested(t, b, base, idA(f.derived))
		if !metaEqual(viaDC.Meta, viaLOM.Meta) || viaDC.Source.Creator != viaLOM.Source.Creator || !slices.Equal(viaDC.Source.Parents, viaLOM.Source.Parents) {
			t.Errorf("oai_dc and lom differ:\n%+v %+v\n%+v %+v", viaDC.Meta, viaDC.Source, viaLOM.Meta, viaLOM.Source)
		}
	})
}

func metaEqual(a, b market.Meta) bool {
	return a.Title == b.Title && a.Summary == b.Summary && a.Type == b.Type && a.Stage == b.Stage && a.Grade == b.Grade &&
		a.Subject == b.Subject && a.Edition == b.Edition && a.Volume == b.Volume && a.Chapter == b.Chapter &&
		a.Language == b.Language && slices.Equal(a.Keywords, b.Keywords) && a.Offer.License == b.Offer.License
}
