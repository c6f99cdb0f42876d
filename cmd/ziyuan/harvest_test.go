package main

import (
	"strings"
	"testing"

	"ziyuan/market/oai/oaitest"
)

// TestHarvestCommand runs `ziyuan harvest` against a repository that is not Ziyuan (a busy one:
// it answers 503 with Retry-After once): the summary, the unmappable records by identifier, and
// a second run that imports nothing new.
func TestHarvestCommand(t *testing.T) {
	dir := t.TempDir()
	env := envMap{"ZIYUAN_DATA": dir, "ZIYUAN_LOG_FORMAT": "json"}
	if _, err := runCLI(t, env, "seed", "--demo", "--resources=false"); err != nil {
		t.Fatal(err)
	}
	src := oaitest.NewSource(t)
	out, err := runCLI(t, env, "harvest", "--url", src.URL)
	if err != nil {
		t.Fatalf("harvest: %v\n%s", err, out)
	}
	for _, want := range []string{"harvest of 示范公益资源库 (" + src.URL + "), everything, oai_dc",
		"harvested 5 · imported 2 · updated 0 · unchanged 0 · deleted 0 · skipped 1 · unmappable 2 · errors 0",
		"unmappable oai:source.example:1004: no 学段", "unmappable oai:source.example:1005: a paid item", "wait for review"} {
		if !strings.Contains(out, want) {
			t.Errorf("first harvest lacks %q:\n%s", want, out)
		}
	}
	if src.Requests("resume") != 2 {
		t.Errorf("the busy page was asked for %d times, want 2 (once more after Retry-After)", src.Requests("resume"))
	}
	out, err = runCLI(t, env, "harvest", "--url", src.URL)
	if err != nil || !strings.Contains(out, "from 2026-10-08") || !strings.Contains(out, "imported 0 · updated 0 · unchanged 2") ||
		!strings.Contains(out, "nothing new to review") {
		t.Fatalf("second harvest: %v\n%s", err, out)
	}
	if _, err := runCLI(t, env, "harvest"); err == nil || exitCode(err) != 2 {
		t.Errorf("harvest without --url: %v", err)
	}
	if _, err := runCLI(t, env, "harvest", "--url", src.URL, "--institution", "3111010802"); err == nil || !strings.Contains(err.Error(), "public-welfare") {
		t.Errorf("harvest into a school: %v", err)
	}
	if _, err := runCLI(t, envMap{"ZIYUAN_DATA": dir, "ZIYUAN_OAI_REPOSITORY_ID": "not a domain"}, "serve"); err == nil || !strings.Contains(err.Error(), "domain name") {
		t.Errorf("serve with a bad repository identifier: %v", err)
	}
}
