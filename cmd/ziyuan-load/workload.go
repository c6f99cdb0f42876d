package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"ziyuan/market"
)

// The operations the users perform, as the report names them.
const (
	opSearchAPI    = "search (API)"
	opSearchPage   = "search (page)"
	opResourceAPI  = "resource (API)"
	opResourcePage = "resource (page)"
	opHome         = "home page"
	opClaim        = "claim"
	opDownload     = "download (302 + MinIO)"
	opLicences     = "my licences (API)"
	opCreate       = "publish: create (multipart)"
	opSubmit       = "publish: submit"
	opReviewQueue  = "review queue (API)"
	opReviewRead   = "review: read submission"
	opApprove      = "review: approve"
	opConfirm      = "read-back after a lost answer"
)

// opOrder is the order of the report's table.
var opOrder = []string{opSearchAPI, opSearchPage, opResourceAPI, opResourcePage, opHome, opClaim, opDownload, opLicences,
	opCreate, opSubmit, opReviewQueue, opReviewRead, opApprove, opConfirm}

type userKind int

const (
	kindBrowser userKind = iota
	kindPublisher
	kindReviewer
)

// vuser is one simulated user. Only its own goroutine touches it during the run.
type vuser struct {
	id     int
	login  string
	token  string
	userID string
	kind   userKind
	home   int

	rng       *rand.Rand
	licences  map[string]string // resource ID → licence ID it was acknowledged with
	claimed   []*resInfo
	unsure    []string // drafts whose submit failed: submitted or not?
	published int
}

// resInfo is what users know of a published resource.
type resInfo struct {
	ID        string
	Title     string
	Stage     string
	Subject   string
	Keywords  []string
	Files     []market.FileInfo
	Claimable bool
}

func newResInfo(r market.Resource) *resInfo {
	return &resInfo{ID: r.ID, Title: r.Meta.Title, Stage: r.Meta.Stage, Subject: r.Meta.Subject, Keywords: r.Meta.Keywords,
		Files: r.Files, Claimable: r.Meta.Offer.Free() && r.Meta.Type != market.TypeCourse && len(r.Files) > 0}
}

// pool is the catalog as the users know it: the seeded resources and those approved since.
type pool struct {
	mu        sync.RWMutex
	all       []*resInfo
	claimable []*resInfo
	templates []market.Meta // classifications to publish under
}

func (p *pool) add(r *resInfo) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.all = append(p.all, r)
	if r.Claimable {
		p.claimable = append(p.claimable, r)
	}
}

func (p *pool) random(rng *rand.Rand, claimable bool) *resInfo {
	p.mu.RLock()
	defer p.mu.RUnlock()
	list := p.all
	if claimable {
		list = p.claimable
	}
	if len(list) == 0 {
		return nil
	}
	return list[rng.IntN(len(list))]
}

// sample is one measured operation.
type sample struct {
	op      string
	start   time.Time
	dur     time.Duration
	status  int
	backend string
	err     string
}

type recorder struct {
	mu      sync.Mutex
	samples []sample
}

func (r *recorder) add(s sample) {
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

// acks are the writes the servers acknowledged, to be found after the run.
type acks struct {
	mu        sync.Mutex
	claims    map[string]claimAck // licence ID →
	created   map[string]time.Time
	submitted map[string]time.Time
	approved  map[string]time.Time
	// Writes whose answer was lost (an error in a fault window) but which a read-back showed
	// committed: acknowledged by that read.
	confirmedSubmits, confirmedApprovals int
	anomalies                            []string
}

type claimAck struct {
	licence, resource, holder string
	status                    int
}

func newAcks() *acks {
	return &acks{claims: map[string]claimAck{}, created: map[string]time.Time{}, submitted: map[string]time.Time{}, approved: map[string]time.Time{}}
}

func (a *acks) note(m map[string]time.Time, id string) {
	a.mu.Lock()
	m[id] = time.Now()
	a.mu.Unlock()
}

func (a *acks) anomaly(format string, args ...any) {
	a.mu.Lock()
	a.anomalies = append(a.anomalies, fmt.Sprintf(format, args...))
	a.mu.Unlock()
}

// workload runs the users.
type workload struct {
	h       *harness
	lb      *balancer
	client  *http.Client // to the instances; redirects are the users' to follow
	files   *http.Client // to MinIO's presigned links
	pool    *pool
	rec     *recorder
	acks    *acks
	reviewQ chan string
	end     time.Time
}

// runResult is what the run leaves for the checks and the report.
type runResult struct {
	t0, end  time.Time
	windows  []window
	samples  []sample
	acks     *acks
	seeded   int
	approved int
	cpu      cpuUse
}

func newHTTPClient(conns int, timeout time.Duration, follow bool) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     60 * time.Second,
	}
	c := &http.Client{Transport: tr, Timeout: timeout}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

func (h *harness) runWorkload(ctx context.Context) (*runResult, error) {
	w := &workload{h: h, lb: newBalancer(h.insts), pool: &pool{}, rec: &recorder{}, acks: newAcks(),
		client:  newHTTPClient(h.cfg.Users, time.Minute, false),
		files:   newHTTPClient(h.cfg.Users, time.Minute, true),
		reviewQ: make(chan string, 100000)}
	if err := w.loadPool(ctx); err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	seeded := len(w.pool.all)
	lbCtx, stopLB := context.WithCancel(ctx)
	defer stopLB()
	w.lb.watch(lbCtx, 250*time.Millisecond)

	cpu0 := snapCPU()
	t0 := time.Now()
	w.end = t0.Add(h.cfg.Duration)
	h.tl.addAt(t0, "workload starts: %d users over %d instances, %d published resources", len(h.users), len(h.insts), seeded)
	h.logf("workload running for %s", h.cfg.Duration)
	var windows []window
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		if h.cfg.Faults {
			windows = h.runFaults(ctx, t0, w.end)
		}
	}()
	var wg sync.WaitGroup
	for _, u := range h.users {
		u.rng = rand.New(rand.NewPCG(h.cfg.Seed, uint64(u.id)))
		u.licences = map[string]string{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.runUser(ctx, u, t0.Add(time.Duration(int64(h.cfg.RampUp)*int64(u.id)/int64(len(h.users)))))
		}()
	}
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		w.progress(ctx, t0)
	}()
	wg.Wait()
	cpu := h.cpuBetween(cpu0, snapCPU())
	<-progressDone
	h.tl.add("workload ends")
	<-faultsDone
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	w.rec.mu.Lock()
	samples := slices.Clone(w.rec.samples)
	w.rec.mu.Unlock()
	return &runResult{t0: t0, end: w.end, windows: windows, samples: samples, acks: w.acks, seeded: seeded, approved: len(w.pool.all) - seeded, cpu: cpu}, nil
}

// progress prints a line every 30 s while the users run.
func (w *workload) progress(ctx context.Context, t0 time.Time) {
	last := 0
	for time.Now().Before(w.end) {
		if !sleepCtx(ctx, min(30*time.Second, time.Until(w.end)+time.Millisecond)) {
			return
		}
		w.rec.mu.Lock()
		n, errs := len(w.rec.samples), 0
		for _, s := range w.rec.samples[last:] {
			if s.err != "" {
				errs++
			}
		}
		w.rec.mu.Unlock()
		w.h.logf("t+%s: %d operations (%d new, %d errors)", time.Since(t0).Round(time.Second), n, n-last, errs)
		last = n
	}
}

// loadPool reads the published catalog through the API, as a first visitor would.
func (w *workload) loadPool(ctx context.Context) error {
	base := w.h.insts[0].url
	var ids []string
	for page := 1; ; page++ {
		status, body, err := apiCall(ctx, base, "", "GET", fmt.Sprintf("/api/v1/search?sort=newest&per_page=100&page=%d", page), "", nil)
		if err != nil || status != http.StatusOK {
			return fmt.Errorf("search page %d: %d %v", page, status, err)
		}
		var res struct {
			Total int
			Hits  []struct{ ID string }
		}
		if err := json.Unmarshal(body, &res); err != nil {
			return err
		}
		for _, hit := range res.Hits {
			ids = append(ids, hit.ID)
		}
		if len(res.Hits) == 0 || len(ids) >= res.Total {
			break
		}
	}
	for _, id := range ids {
		status, body, err := apiCall(ctx, base, "", "GET", "/api/v1/resources/"+id, "", nil)
		if err != nil || status != http.StatusOK {
			return fmt.Errorf("resource %s: %d %v", id, status, err)
		}
		var r market.Resource
		if err := json.Unmarshal(body, &r); err != nil {
			return err
		}
		w.pool.add(newResInfo(r))
		switch r.Meta.Type {
		case "教案", "学案", "练习", "试卷":
			w.pool.templates = append(w.pool.templates, r.Meta)
		}
	}
	if len(w.pool.claimable) == 0 || len(w.pool.templates) == 0 {
		return errors.New("the seeded catalog has nothing free to claim or no lesson plan to publish like")
	}
	return nil
}

// think waits an exponentially distributed time with the given mean, bounded to [mean/10, 5×mean].
func (w *workload) think(ctx context.Context, u *vuser, mean time.Duration) bool {
	d := time.Duration(u.rng.ExpFloat64() * float64(mean))
	d = max(mean/10, min(d, 5*mean))
	if rem := time.Until(w.end); d > rem {
		d = max(rem, 0)
	}
	return sleepCtx(ctx, d)
}

func (w *workload) runUser(ctx context.Context, u *vuser, startAt time.Time) {
	if !sleepCtx(ctx, time.Until(startAt)) {
		return
	}
	for time.Now().Before(w.end) && ctx.Err() == nil {
		switch u.kind {
		case kindReviewer:
			w.review(ctx, u)
		case kindPublisher:
			if u.rng.Float64() < 0.3 {
				w.publish(ctx, u)
			} else {
				w.browse(ctx, u)
			}
		default:
			w.browse(ctx, u)
		}
		if !w.think(ctx, u, w.h.cfg.Think) {
			return
		}
	}
}

// request is one HTTP request of a user.
type request struct {
	method, path string
	body         []byte
	contentType  string
	want         []int
}

type response struct {
	status  int
	body    []byte
	header  http.Header
	backend string
}

// send sends r on the user's instance, moving on to the next healthy one only when the
// connection could not be made.
func (w *workload) send(ctx context.Context, u *vuser, r request) (response, error) {
	var last error
	for attempt := range len(w.lb.backends) {
		b := w.lb.pick(u.home, attempt)
		var body io.Reader
		if r.body != nil {
			body = bytes.NewReader(r.body)
		}
		req, err := http.NewRequestWithContext(ctx, r.method, b.inst.url+r.path, body)
		if err != nil {
			return response{}, err
		}
		if r.contentType != "" {
			req.Header.Set("Content-Type", r.contentType)
		}
		req.Header.Set("Authorization", "Bearer "+u.token)
		res, err := w.client.Do(req)
		if err != nil {
			if notConnected(err) {
				b.up.Store(false)
				last = err
				continue
			}
			return response{backend: b.inst.name}, err
		}
		data, err := io.ReadAll(res.Body)
		res.Body.Close()
		out := response{status: res.StatusCode, body: data, header: res.Header, backend: b.inst.name}
		if err != nil {
			return out, fmt.Errorf("reading the answer: %w", err)
		}
		if !slices.Contains(r.want, res.StatusCode) {
			return out, fmt.Errorf("%d %s", res.StatusCode, snippet(data))
		}
		return out, nil
	}
	return response{}, fmt.Errorf("no instance accepted the connection: %w", last)
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 160 {
		s = s[:160]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// do sends r and records it as one operation.
func (w *workload) do(ctx context.Context, u *vuser, op string, r request) (response, error) {
	start := time.Now()
	res, err := w.send(ctx, u, r)
	w.record(op, start, res, err)
	return res, err
}

func (w *workload) record(op string, start time.Time, res response, err error) {
	s := sample{op: op, start: start, dur: time.Since(start), status: res.status, backend: res.backend}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return // Ctrl+C, not the system under test
		}
		s.err = err.Error()
	}
	w.rec.add(s)
}

func get(path string, want ...int) request {
	if len(want) == 0 {
		want = []int{http.StatusOK}
	}
	return request{method: "GET", path: path, want: want}
}

func postJSON(path string, v any, want ...int) request {
	b, _ := json.Marshal(v)
	return request{method: "POST", path: path, body: b, contentType: "application/json", want: want}
}

// browse is one action of a visitor: mostly searching and reading, sometimes claiming and
// downloading.
func (w *workload) browse(ctx context.Context, u *vuser) {
	type action struct {
		weight int
		run    func(context.Context, *vuser)
	}
	actions := []action{
		{22, w.searchAPI}, {13, w.searchPage}, {18, w.resourceAPI}, {14, w.resourcePage}, {3, w.home},
		{15, w.claimAndDownload}, {10, w.downloadAgain}, {5, w.myLicences},
	}
	total := 0
	for _, a := range actions {
		total += a.weight
	}
	n := u.rng.IntN(total)
	for _, a := range actions {
		if n < a.weight {
			a.run(ctx, u)
			return
		}
		n -= a.weight
	}
}

// searchParams builds a query as a visitor types it: a word of some resource's keywords or
// title, sometimes narrowed by stage, price or a sort.
func (w *workload) searchParams(u *vuser) url.Values {
	v := url.Values{}
	r := w.pool.random(u.rng, false)
	switch x := u.rng.IntN(10); {
	case x < 5 && len(r.Keywords) > 0:
		v.Set("q", r.Keywords[u.rng.IntN(len(r.Keywords))])
	case x < 8:
		t := []rune(r.Title)
		n := min(len(t), 2+u.rng.IntN(4))
		at := u.rng.IntN(len(t) - n + 1)
		v.Set("q", string(t[at:at+n]))
	case x < 9:
		v.Set("q", r.Subject)
	default: // browse by classification only
		v.Set("subject", r.Subject)
	}
	if u.rng.IntN(3) == 0 {
		v.Set("stage", r.Stage)
	}
	if u.rng.IntN(5) == 0 {
		v.Set("price", "free")
	}
	if u.rng.IntN(4) == 0 {
		v.Set("sort", []string{"newest", "popular", "rating"}[u.rng.IntN(3)])
	}
	if u.rng.IntN(6) == 0 {
		v.Set("page", "2")
	}
	return v
}

func (w *workload) searchAPI(ctx context.Context, u *vuser) {
	start := time.Now()
	res, err := w.send(ctx, u, get("/api/v1/search?"+w.searchParams(u).Encode()))
	if err == nil {
		var r struct {
			Total *int
			Hits  []json.RawMessage
		}
		if jerr := json.Unmarshal(res.body, &r); jerr != nil || r.Total == nil {
			err = fmt.Errorf("not a search result: %s", snippet(res.body))
		}
	}
	w.record(opSearchAPI, start, res, err)
}

func (w *workload) searchPage(ctx context.Context, u *vuser) {
	w.page(ctx, u, opSearchPage, "/search?"+w.searchParams(u).Encode(), "")
}

// page fetches an HTML page and checks that it was rendered whole and, if given, shows want.
func (w *workload) page(ctx context.Context, u *vuser, op, path, want string) {
	start := time.Now()
	res, err := w.send(ctx, u, get(path))
	if err == nil && !bytes.Contains(res.body, []byte("</html>")) {
		err = fmt.Errorf("page cut short: %d bytes", len(res.body))
	}
	if err == nil && want != "" && !bytes.Contains(res.body, []byte(want)) {
		err = fmt.Errorf("page does not show %q", want)
	}
	w.record(op, start, res, err)
}

func (w *workload) resourceAPI(ctx context.Context, u *vuser) {
	r := w.pool.random(u.rng, false)
	start := time.Now()
	res, err := w.send(ctx, u, get("/api/v1/resources/"+r.ID))
	if err == nil {
		var got market.Resource
		if jerr := json.Unmarshal(res.body, &got); jerr != nil || got.ID != r.ID || got.Status != market.StatusPublished {
			err = fmt.Errorf("resource %s answered with %s", r.ID, snippet(res.body))
		}
	}
	w.record(opResourceAPI, start, res, err)
}

func (w *workload) resourcePage(ctx context.Context, u *vuser) {
	r := w.pool.random(u.rng, false)
	w.page(ctx, u, opResourcePage, "/resources/"+r.ID, "")
}

func (w *workload) home(ctx context.Context, u *vuser) { w.page(ctx, u, opHome, "/", "") }

func (w *workload) myLicences(ctx context.Context, u *vuser) {
	w.do(ctx, u, opLicences, get("/api/v1/me/licenses?per_page=20"))
}

// claimAndDownload claims a free resource and, mostly, downloads it straight away.
func (w *workload) claimAndDownload(ctx context.Context, u *vuser) {
	r := w.pool.random(u.rng, true)
	if !w.claim(ctx, u, r) {
		return
	}
	if u.rng.Float64() < 0.7 && w.think(ctx, u, w.h.cfg.Think/4) {
		w.download(ctx, u, r)
	}
}

func (w *workload) claim(ctx context.Context, u *vuser, r *resInfo) bool {
	res, err := w.do(ctx, u, opClaim, request{method: "POST", path: "/api/v1/resources/" + r.ID + "/claim", want: []int{http.StatusOK, http.StatusCreated}})
	if err != nil {
		return false
	}
	var out struct{ License market.License }
	if err := json.Unmarshal(res.body, &out); err != nil || out.License.ID == "" {
		w.acks.anomaly("claim of %s by %s acknowledged without a licence: %s", r.ID, u.login, snippet(res.body))
		return false
	}
	if prev, ok := u.licences[r.ID]; ok && prev != out.License.ID {
		w.acks.anomaly("%s claimed %s twice and got two licences: %s, then %s", u.login, r.ID, prev, out.License.ID)
	}
	if out.License.ResourceID != r.ID || out.License.HolderID != u.userID {
		w.acks.anomaly("claim of %s by %s answered with licence %s of %s for %s", r.ID, u.login, out.License.ID, out.License.ResourceID, out.License.HolderID)
	}
	if _, ok := u.licences[r.ID]; !ok {
		u.claimed = append(u.claimed, r)
	}
	u.licences[r.ID] = out.License.ID
	w.acks.mu.Lock()
	w.acks.claims[out.License.ID] = claimAck{licence: out.License.ID, resource: r.ID, holder: u.userID, status: res.status}
	w.acks.mu.Unlock()
	return true
}

// downloadAgain downloads something the user claimed before (or claims first).
func (w *workload) downloadAgain(ctx context.Context, u *vuser) {
	if len(u.claimed) == 0 {
		w.claimAndDownload(ctx, u)
		return
	}
	w.download(ctx, u, u.claimed[u.rng.IntN(len(u.claimed))])
}

// download follows the download redirect to the store and checks the bytes against the
// file's SHA-256.
func (w *workload) download(ctx context.Context, u *vuser, r *resInfo) {
	f := r.Files[u.rng.IntN(len(r.Files))]
	start := time.Now()
	res, err := w.send(ctx, u, get("/api/v1/resources/"+r.ID+"/download?file="+f.SHA256, http.StatusFound))
	if err == nil {
		err = w.fetchFile(ctx, res, f)
	}
	w.record(opDownload, start, res, err)
}

func (w *workload) fetchFile(ctx context.Context, res response, f market.FileInfo) error {
	loc := res.header.Get("Location")
	if loc == "" {
		return errors.New("redirect without a Location")
	}
	if strings.HasPrefix(loc, "/") {
		return fmt.Errorf("redirect to %s, not to the store: is S3 configured?", loc)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", loc, nil)
	if err != nil {
		return err
	}
	got, err := w.files.Do(req)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer got.Body.Close()
	hash := sha256.New()
	n, err := io.Copy(hash, got.Body)
	if got.StatusCode != http.StatusOK {
		return fmt.Errorf("store: %d", got.StatusCode)
	}
	if err != nil {
		return fmt.Errorf("store: reading: %w", err)
	}
	if sum := hex.EncodeToString(hash.Sum(nil)); sum != f.SHA256 || n != f.Size {
		return fmt.Errorf("store: got %d bytes with SHA-256 %s, want %d bytes with %s", n, sum, f.Size, f.SHA256)
	}
	return nil
}

// publish creates a lesson plan with a file, as a teacher does, and submits it for review.
// Drafts whose submission failed are resolved first: a read shows whether it committed.
func (w *workload) publish(ctx context.Context, u *vuser) {
	for len(u.unsure) > 0 {
		id := u.unsure[0]
		if !w.resolveSubmit(ctx, u, id) {
			return
		}
		u.unsure = u.unsure[1:]
	}
	w.pool.mu.RLock()
	tpl := w.pool.templates[u.rng.IntN(len(w.pool.templates))]
	w.pool.mu.RUnlock()
	u.published++
	token := fmt.Sprintf("%s-%d-%08x", u.login, u.published, u.rng.Uint32())
	meta := market.Meta{Title: fmt.Sprintf("%s%s教学设计（压测%s）", tpl.Stage, tpl.Subject, token), Type: tpl.Type,
		Summary: "压测期间由模拟教师上传的教学设计，包含教学目标、重点难点与课堂练习。", Stage: tpl.Stage, Grade: tpl.Grade,
		Subject: tpl.Subject, Edition: tpl.Edition, Language: "zh", Keywords: append(slices.Clone(tpl.Keywords), "压测"),
		Offer: market.Offer{License: "cc-by"}}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	m, _ := json.Marshal(meta)
	mw.WriteField("meta", string(m))
	fw, _ := mw.CreateFormFile("file", "教学设计.md")
	fmt.Fprintf(fw, "# %s\n\n## 教学目标\n\n理解%s的核心概念（编号 %s）。\n\n## 教学过程\n\n1. 导入：%d 分钟情境引入。\n2. 新授：例题 %d 道。\n3. 练习：课堂练习 %d 题。\n",
		meta.Title, tpl.Subject, token, 3+u.rng.IntN(5), 2+u.rng.IntN(4), 5+u.rng.IntN(10))
	mw.Close()
	res, err := w.do(ctx, u, opCreate, request{method: "POST", path: "/api/v1/resources", body: buf.Bytes(),
		contentType: mw.FormDataContentType(), want: []int{http.StatusCreated}})
	if err != nil {
		return
	}
	var created market.Resource
	if err := json.Unmarshal(res.body, &created); err != nil || created.ID == "" {
		w.acks.anomaly("create by %s acknowledged without a resource: %s", u.login, snippet(res.body))
		return
	}
	w.acks.note(w.acks.created, created.ID)
	if !w.think(ctx, u, w.h.cfg.Think/4) {
		u.unsure = append(u.unsure, created.ID)
		return
	}
	w.submit(ctx, u, created.ID)
}

func (w *workload) submit(ctx context.Context, u *vuser, id string) {
	if _, err := w.do(ctx, u, opSubmit, postJSON("/api/v1/resources/"+id+"/submit", map[string]bool{"pledge": true}, http.StatusOK)); err != nil {
		u.unsure = append(u.unsure, id)
		return
	}
	w.acks.note(w.acks.submitted, id)
	w.reviewQ <- id
}

// resolveSubmit finds out whether an earlier submit committed although its answer was lost,
// and submits again if not. It reports whether the draft is settled.
func (w *workload) resolveSubmit(ctx context.Context, u *vuser, id string) bool {
	res, err := w.do(ctx, u, opConfirm, get("/api/v1/resources/"+id))
	if err != nil {
		return false
	}
	var r market.Resource
	if err := json.Unmarshal(res.body, &r); err != nil {
		return false
	}
	if r.Status == market.StatusPendingReview {
		w.acks.mu.Lock()
		w.acks.submitted[id] = time.Now()
		w.acks.confirmedSubmits++
		w.acks.mu.Unlock()
		w.reviewQ <- id
		return true
	}
	w.submit(ctx, u, id)
	return true
}

// review looks at the queue and approves one submission, as a reviewer does. Submissions
// are handed out through the harness so that two reviewers never decide the same one.
func (w *workload) review(ctx context.Context, u *vuser) {
	if _, err := w.do(ctx, u, opReviewQueue, get("/api/v1/reviews?status=pending&per_page=20")); err != nil {
		return
	}
	var id string
	select {
	case id = <-w.reviewQ:
	default:
		return
	}
	if !w.think(ctx, u, w.h.cfg.Think/2) {
		w.reviewQ <- id
		return
	}
	res, err := w.do(ctx, u, opReviewRead, get("/api/v1/resources/"+id))
	if err != nil {
		w.reviewQ <- id
		return
	}
	var r market.Resource
	if err := json.Unmarshal(res.body, &r); err != nil {
		w.reviewQ <- id
		return
	}
	if r.Status == market.StatusPublished {
		// An earlier approval committed although its answer was lost.
		w.acks.mu.Lock()
		w.acks.approved[id] = time.Now()
		w.acks.confirmedApprovals++
		w.acks.mu.Unlock()
		w.pool.add(newResInfo(r))
		return
	}
	d := market.Decision{Decision: "approve", Reason: "压测审核通过", Checklist: map[string]bool{}}
	for _, item := range market.ChecklistItems {
		d.Checklist[item] = true
	}
	res, err = w.do(ctx, u, opApprove, postJSON("/api/v1/resources/"+id+"/review", d, http.StatusOK))
	if err != nil {
		w.reviewQ <- id // read again and decide later
		return
	}
	if err := json.Unmarshal(res.body, &r); err != nil || r.Status != market.StatusPublished {
		w.acks.anomaly("approval of %s answered 200 with status %q", id, r.Status)
		return
	}
	w.acks.note(w.acks.approved, id)
	w.pool.add(newResInfo(r))
}

// percentile returns the p-th percentile (0–100) of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
