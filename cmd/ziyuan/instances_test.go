package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ziyuan/market"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/rights"
)

// TestMain lets a test start this binary as `ziyuan` itself: with ZIYUAN_TEST_MAIN=1 it runs
// main, so the multi-instance test can run real serve processes and kill them with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("ZIYUAN_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// instance is one `ziyuan serve` process.
type instance struct {
	name string
	data string
	env  []string
	cmd  *exec.Cmd
	out  *syncBuffer
	url  string
	done chan struct{}
}

var servingURL = regexp.MustCompile(`Ziyuan is serving on (http://\S+)`)

func startInstance(t *testing.T, name, data string, env []string) *instance {
	t.Helper()
	in := &instance{name: name, data: data, env: env, out: &syncBuffer{}, done: make(chan struct{})}
	in.cmd = exec.Command(os.Args[0], "serve")
	in.cmd.Env = append(append(os.Environ(), env...), "ZIYUAN_TEST_MAIN=1", "ZIYUAN_DATA="+data, "ZIYUAN_ADDR=127.0.0.1:0")
	in.cmd.Stdout, in.cmd.Stderr = in.out, in.out
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { in.cmd.Wait(); close(in.done) }()
	t.Cleanup(func() { in.kill() })
	for deadline := time.Now().Add(3 * time.Minute); in.url == ""; time.Sleep(50 * time.Millisecond) {
		if m := servingURL.FindStringSubmatch(in.out.String()); m != nil {
			in.url = m[1]
			break
		}
		select {
		case <-in.done:
			t.Fatalf("instance %s exited:\n%s", name, in.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s printed no URL:\n%s", name, in.out.String())
		}
	}
	return in
}

// kill ends the process at once, as a crash or the OOM killer would: no lease release, no
// graceful shutdown.
func (in *instance) kill() {
	if in.cmd.Process != nil {
		in.cmd.Process.Signal(syscall.SIGKILL)
		<-in.done
	}
}

// leads reports whether the instance's /metrics says it holds the ledger's lease.
func (in *instance) leads(t *testing.T) bool {
	res, err := http.Get(in.url + "/metrics")
	if err != nil {
		return false
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return regexp.MustCompile(`(?m)^ziyuan_ledger_leader 1$`).Match(b)
}

// client speaks the JSON API to whichever instance it is given.
type client struct {
	t     *testing.T
	http  *http.Client
	token string
}

func (c *client) call(base, method, path string, body io.Reader, contentType string, want int, out any) {
	c.t.Helper()
	if err := c.try(base, method, path, body, contentType, want, out); err != nil {
		c.t.Fatal(err)
	}
}

// try is call for other goroutines than the test's: it returns what call would fail with.
func (c *client) try(base, method, path string, body io.Reader, contentType string, want int, out any) error {
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s%s: %w", method, base, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s%s = %d %s, want %d", method, base, path, res.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return nil
}

func (c *client) json(base, method, path string, in any, want int, out any) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	c.call(base, method, path, body, "application/json", want, out)
}

func login(t *testing.T, base, who string) *client {
	t.Helper()
	c := &client{t: t, http: &http.Client{Timeout: 30 * time.Second}}
	var out struct{ Token string }
	c.json(base, "POST", "/api/v1/auth/login", map[string]string{"login": who, "password": market.DemoPassword}, 200, &out)
	c.token = out.Token
	return c
}

// publish creates a resource with one file on one instance and has it approved on another.
func publish(t *testing.T, teacher, reviewer *client, createOn, approveOn, title string) string {
	t.Helper()
	meta := market.Meta{Title: title, Summary: "多实例测试用的教案", Type: "教案", Stage: "初中", Grade: "八年级", Subject: "数学",
		Keywords: []string{"多实例"}, Offer: market.Offer{License: "cc-by"}}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	m, _ := json.Marshal(meta)
	w.WriteField("meta", string(m))
	f, _ := w.CreateFormFile("file", "教案.md")
	fmt.Fprintf(f, "# %s\n\n教学目标、教学过程与课堂练习。\n", title)
	w.Close()
	var r struct{ ID string }
	teacher.call(createOn, "POST", "/api/v1/resources", &buf, w.FormDataContentType(), 201, &r)
	teacher.json(createOn, "POST", "/api/v1/resources/"+r.ID+"/submit", map[string]bool{"pledge": true}, 200, nil)
	approve := market.Decision{Decision: "approve", Checklist: map[string]bool{}}
	for _, item := range market.ChecklistItems {
		approve.Checklist[item] = true
	}
	reviewer.json(approveOn, "POST", "/api/v1/resources/"+r.ID+"/review", approve, 200, nil)
	return r.ID
}

// searchFinds polls an instance's search until it returns id for q.
func searchFinds(t *testing.T, in *instance, q, id string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		res, err := http.Get(in.url + "/api/v1/search?q=" + url.QueryEscape(q))
		if err == nil {
			var r struct{ Hits []struct{ ID string } }
			json.NewDecoder(res.Body).Decode(&r)
			res.Body.Close()
			for _, h := range r.Hits {
				if h.ID == id {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s does not find %s for %q within %v", in.name, id, q, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Two instances share one PostgreSQL with their own data directories and embedded indexes:
// tokens and CSRF work on either; both indexes follow every change; one leads the ledger; when
// it dies with SIGKILL the other takes over within 5 s; every acknowledged claim has its licence
// and ledger entry, once; and the killed instance rejoins without rebuilding its index.
func TestTwoInstancesShareOnePostgres(t *testing.T) {
	dbURL := storetest.NewPostgresDatabase(t)
	var sec [32]byte
	rand.Read(sec[:])
	const origin = "test.ziyuan.local/ledger"
	skey, err := rights.GenerateKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	shared := map[string]string{"DATABASE_URL": dbURL, "ZIYUAN_SECRET": hex.EncodeToString(sec[:]),
		"ZIYUAN_LEDGER_KEY": skey, "ZIYUAN_LEDGER_ORIGIN": origin, "ZIYUAN_LOG_FORMAT": "json"}
	var env []string
	cli := map[string]string{"ZIYUAN_DATA": t.TempDir()}
	for k, v := range shared {
		env = append(env, k+"="+v)
		cli[k] = v
	}
	if out, err := runCLI(t, cli, "seed", "--demo", "--resources=false"); err != nil {
		t.Fatalf("seed: %v %s", err, out)
	}
	root := t.TempDir()
	a := startInstance(t, "A", filepath.Join(root, "a"), env)
	b := startInstance(t, "B", filepath.Join(root, "b"), env)

	// A token from A works on B.
	teacher := login(t, a.url, "li.teacher")
	var me struct{ Login string }
	teacher.json(b.url, "GET", "/api/v1/me", nil, 200, &me)
	if me.Login != "li.teacher" {
		t.Fatalf("B says the token belongs to %q", me.Login)
	}
	// A form from A's page posts to B: the CSRF token and cookie are valid on any instance.
	jar, _ := cookiejar.New(nil) // cookies ignore ports: A and B share them, as behind one host name
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := browser.Get(a.url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on A's login page")
	}
	res, err = browser.PostForm(b.url+"/login", url.Values{"_csrf": {string(m[1])}, "login": {"chen.teacher"}, "password": {market.DemoPassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing in on B with A's form: %d, want 303", res.StatusCode)
	}

	// Resources written through both instances reach both indexes.
	reviewer := login(t, b.url, "zhou.reviewer")
	var ids []string
	for i, pair := range [][2]*instance{{a, b}, {b, a}, {a, a}} {
		title := fmt.Sprintf("多实例勾股定理第%d课", i+1)
		id := publish(t, teacher, reviewer, pair[0].url, pair[1].url, title)
		ids = append(ids, id)
		searchFinds(t, a, title, id, 5*time.Second)
		searchFinds(t, b, title, id, 5*time.Second)
	}

	var leader, standby *instance
	for deadline := time.Now().Add(10 * time.Second); leader == nil; time.Sleep(50 * time.Millisecond) {
		la, lb := a.leads(t), b.leads(t)
		switch {
		case la && lb:
			t.Fatal("both instances say they lead the ledger")
		case la:
			leader, standby = a, b
		case lb:
			leader, standby = b, a
		}
		if time.Now().After(deadline) {
			t.Fatal("no instance leads the ledger")
		}
	}

	// Claims on both instances, then the leader dies, then more claims on the survivor.
	claimers := []string{"chen.teacher", "zhou.reviewer", "wu.evaluator", "xuehai.vendor", "gongyi.editor", "zhang.parent", "xiaoxue.admin", "zhongxue.admin"}
	var mu sync.Mutex
	licences := map[string]bool{}
	claimAll := func(who []string, on []*instance) {
		var wg sync.WaitGroup
		errs := make(chan error, len(who)*len(ids))
		for i, w := range who {
			c := login(t, on[i%len(on)].url, w)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, id := range ids {
					var out struct{ License struct{ ID string } }
					if err := c.try(on[i%len(on)].url, "POST", "/api/v1/resources/"+id+"/claim", nil, "", 201, &out); err != nil {
						errs <- err
						continue
					}
					mu.Lock()
					licences[out.License.ID] = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	claimAll(claimers[:4], []*instance{a, b})
	killed := time.Now()
	leader.kill()
	claimAll(claimers[4:], []*instance{standby})
	for !standby.leads(t) {
		if time.Since(killed) > 5*time.Second {
			t.Fatalf("the standby did not take over the ledger within 5 s of the leader's death")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("takeover %v after SIGKILL", time.Since(killed).Round(time.Millisecond))

	// Every acknowledged claim has one licence and one integrated ledger entry.
	db, err := store.Open(context.Background(), store.Config{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if len(licences) != len(claimers)*len(ids) {
		t.Fatalf("%d distinct licences acknowledged, want %d", len(licences), len(claimers)*len(ids))
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var integrated int64
		keys := make([]string, 0, len(licences))
		for id := range licences {
			keys = append(keys, "license.granted:"+id)
		}
		db.Raw(`SELECT count(*) FROM ledger_entries WHERE dedupe_key IN ? AND idx IS NOT NULL`, keys).Scan(&integrated)
		if integrated == int64(len(keys)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged claims have an integrated ledger entry", integrated, len(keys))
		}
	}
	var dup int64
	db.Raw(`SELECT count(*) FROM (SELECT resource_id, holder_id FROM licenses GROUP BY resource_id, holder_id HAVING count(*) > 1) d`).Scan(&dup)
	if dup != 0 {
		t.Errorf("%d resource/holder pairs have more than one licence", dup)
	}
	if out, err := runCLI(t, cli, "ledger", "fsck"); err != nil || !strings.Contains(out, "ledger ok") {
		t.Fatalf("fsck after the failover: %v %s", err, out)
	}

	// The survivor serves writes and search alone; the killed instance rejoins from its
	// index's position, follows what it missed, and stands by.
	after := publish(t, teacher, reviewer, standby.url, standby.url, "故障转移之后的勾股定理")
	searchFinds(t, standby, "故障转移之后的勾股定理", after, 5*time.Second)
	back := startInstance(t, leader.name+"2", leader.data, leader.env)
	searchFinds(t, back, "故障转移之后的勾股定理", after, 10*time.Second)
	if strings.Contains(back.out.String(), "building the search index") {
		t.Error("the restarted instance rebuilt its index instead of resuming from its position")
	}
	if back.leads(t) || !standby.leads(t) {
		t.Error("after the restart, the survivor should still lead and the restarted instance stand by")
	}
}
