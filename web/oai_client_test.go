package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ziyuan/market/oai/oaitest"
)

// perlOAI returns the command that runs the independent client, skipping the test when Perl's
// HTTP::OAI is not installed (failing it when ZIYUAN_REQUIRE_OAI_CLIENT=1).
func perlOAI(t *testing.T) string {
	t.Helper()
	script := filepath.Join(oaitest.SchemaDir(), "harvest.pl")
	perl, err := exec.LookPath("perl")
	if err == nil {
		err = exec.Command(perl, "-MCarp", "-MHTTP::OAI", "-e", "1").Run()
	}
	if err != nil {
		if os.Getenv("ZIYUAN_REQUIRE_OAI_CLIENT") == "1" {
			t.Fatalf("Perl's HTTP::OAI is missing but ZIYUAN_REQUIRE_OAI_CLIENT=1: apt-get install libhttp-oai-perl (%v)", err)
		}
		t.Skip("independent OAI-PMH client skipped: Perl's HTTP::OAI is missing (apt-get install libhttp-oai-perl)")
	}
	return script
}

// TestOAIIndependentClientHarvestsEverything has Perl's HTTP::OAI harvest our provider
// completely, through resumption tokens (two records a page), in both formats, and compares what
// it got with what the repository holds. It is about the protocol, so it runs on SQLite only;
// TestOAIProviderOverTheMarket runs the same provider on both databases.
func TestOAIIndependentClientHarvestsEverything(t *testing.T) {
	script := perlOAI(t)
	func(t *testing.T, e *env) {
		f := publishOAIFixtures(t, e)
		base := serveOn(t, oaiServer(e, "ziyuan.test", 2)) + "/oai"
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "perl", script, base).CombinedOutput()
		if err != nil {
			t.Fatalf("HTTP::OAI: %v\n%s", err, out)
		}
		titles := map[string]string{}
		for _, r := range []string{f.lesson, f.public, f.derived, f.paid, f.course} {
			res, err := e.m.Resource(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			titles["oai:ziyuan.test:"+r] = res.Meta.Title
		}
		titles["oai:ziyuan.test:"+f.gone] = "deleted"
		headers := map[string]string{}
		records := map[string]map[string]string{"oai_dc": {}, "lom": {}}
		sets, formats := 0, 0
		var identify, get string
		done := false
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			kind, rest, _ := strings.Cut(line, " ")
			switch kind {
			case "identify":
				identify = rest
			case "format":
				formats++
			case "set":
				sets++
			case "header":
				p := strings.Split(rest, "\t")
				if _, dup := headers[p[0]]; dup {
					t.Errorf("header %s twice", p[0])
				}
				headers[p[0]] = p[2]
			case "record":
				prefix, r, _ := strings.Cut(rest, " ")
				id, title, _ := strings.Cut(r, "\t")
				if _, dup := records[prefix][id]; dup {
					t.Errorf("%s record %s twice", prefix, id)
				}
				records[prefix][id] = title
			case "get":
				get = rest
			case "done":
				done = true
			}
		}
		if !done || !strings.HasPrefix(identify, "资源 Ziyuan\t2.0\tYYYY-MM-DDThh:mm:ssZ\tpersistent") || formats != 2 || sets < 100 {
			t.Fatalf("identify %q, %d formats, %d sets, done %v\n%s", identify, formats, sets, done, out)
		}
		if len(headers) != len(titles) {
			t.Errorf("%d headers, want %d\n%s", len(headers), len(titles), out)
		}
		for id, title := range titles {
			wantStatus := "live"
			if title == "deleted" {
				wantStatus = "deleted"
			}
			if headers[id] != wantStatus {
				t.Errorf("header %s: %q, want %q", id, headers[id], wantStatus)
			}
			for prefix, got := range records {
				if got[id] != title {
					t.Errorf("%s record %s: %q, want %q", prefix, id, got[id], title)
				}
			}
		}
		for prefix, got := range records {
			if len(got) != len(titles) {
				t.Errorf("%d %s records, want %d", len(got), prefix, len(titles))
			}
		}
		if id, title, _ := strings.Cut(get, "\t"); titles[id] != title {
			t.Errorf("GetRecord: %q", get)
		}
	}(t, newEnv(t, openDB(t)))
}
