package market_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"ziyuan/market"
)

func TestPasswordPolicy(t *testing.T) {
	cases := []struct {
		pw string
		ok bool
	}{
		{"abc12345", true},
		{"教师密码2026ab", true},
		{"abcdefgh", false},
		{"12345678", false},
		{"ab12", false},
		{"", false},
		{strings.Repeat("a1", 129), false},
	}
	for _, c := range cases {
		err := market.CheckPasswordPolicy(c.pw)
		if (err == nil) != c.ok {
			t.Errorf("CheckPasswordPolicy(%q) = %v, want ok=%v", c.pw, err, c.ok)
		}
	}
}

func TestPasswordHashRoundTrip(t *testing.T) {
	h := market.HashPassword("Secret123", cheap)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	if h2 := market.HashPassword("Secret123", cheap); h2 == h {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	for pw, want := range map[string]bool{"Secret123": true, "secret123": false, "": false} {
		ok, err := market.VerifyPassword(h, pw)
		if err != nil || ok != want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$x$y$z$w", strings.Replace(h, "m=64", "m=x", 1)} {
		if _, err := market.VerifyPassword(bad, "Secret123"); err == nil {
			t.Errorf("VerifyPassword accepted malformed hash %q", bad)
		}
	}
}

func TestRegisterAndVerify(t *testing.T) {
	eachMarket(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		school := f.insts["2111010801"]
		u, err := f.m.Register(ctx, market.Registration{Login: "New.Teacher2", Password: "Teach2026x", Name: " 新老师 ",
			Role: market.RoleTeacher, InstitutionID: school})
		wantCode(t, err, "")
		if u.Login != "new.teacher2" || u.Name != "新老师" || u.Verified || !u.Has(market.RoleTeacher) {
			t.Fatalf("registered %+v", u)
		}
		_, err = f.m.Register(ctx, market.Registration{Login: "new.teacher2", Password: "Teach2026x", Name: "x", Role: market.RoleTeacher})
		wantCode(t, err, market.CodeConflict)

		// Only the admin of the user's own institution (or a platform admin) verifies.
		_, err = f.m.VerifyUser(f.as(t, "zhongxue.admin"), u.ID)
		wantCode(t, err, market.CodeForbidden)
		_, err = f.m.VerifyUser(f.as(t, "li.teacher"), u.ID)
		wantCode(t, err, market.CodeForbidden)
		_, err = f.m.VerifyUser(ctx, u.ID)
		wantCode(t, err, market.CodeUnauthenticated)
		v, err := f.m.VerifyUser(f.as(t, "xiaoxue.admin"), u.ID)
		wantCode(t, err, "")
		if !v.Verified || v.VerifiedAt == nil {
			t.Fatalf("after verify: %+v", v)
		}
		again, err := f.m.VerifyUser(f.as(t, "xiaoxue.admin"), u.ID)
		wantCode(t, err, "")
		if !again.VerifiedAt.Equal(*v.VerifiedAt) {
			t.Fatal("verifying twice changed the verification time")
		}
		page, err := f.m.Audit(f.as(t, "admin"), market.AuditFilter{Action: "user.verify"}, market.Paging{})
		wantCode(t, err, "")
		var ok, denied int
		for _, e := range page.Items {
			switch e.Outcome {
			case market.OutcomeOK:
				ok++
			case market.OutcomeDenied:
				denied++
			}
		}
		if ok != 1 || denied != 3 {
			t.Fatalf("audit has %d ok and %d denied verifications, want 1 and 3", ok, denied)
		}
	})
}

func TestRegisterValidation(t *testing.T) {
	eachMarket(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		good := market.Registration{Login: "valid.login", Password: "Good2026pw", Name: "名字", Role: market.RoleStudent, BirthDate: "2012-01-01"}
		cases := []struct {
			name   string
			mutate func(*market.Registration)
			code   market.Code
		}{
			{"login with spaces", func(r *market.Registration) { r.Login = "a b" }, market.CodeInvalid},
			{"login too short", func(r *market.Registration) { r.Login = "ab" }, market.CodeInvalid},
			{"weak password", func(r *market.Registration) { r.Password = "password" }, market.CodeInvalid},
			{"no name", func(r *market.Registration) { r.Name = "  " }, market.CodeInvalid},
			{"admin role", func(r *market.Registration) { r.Role = market.RolePlatformAdmin }, market.CodeInvalid},
			{"no role", func(r *market.Registration) { r.Role = "" }, market.CodeInvalid},
			{"unknown institution", func(r *market.Registration) { r.InstitutionID = market.NewID() }, market.CodeNotFound},
			{"garbage institution", func(r *market.Registration) { r.InstitutionID = "../etc" }, market.CodeNotFound},
			{"future birth", func(r *market.Registration) { r.BirthDate = "2099-01-01" }, market.CodeInvalid},
			{"bad birth", func(r *market.Registration) { r.BirthDate = "2012-13-40" }, market.CodeInvalid},
		}
		for _, c := range cases {
			r := good
			c.mutate(&r)
			_, err := f.m.Register(ctx, r)
			if market.ErrorCode(err) != c.code || err == nil {
				t.Errorf("%s: err = %v, want %s", c.name, err, c.code)
			}
		}
		if _, err := f.m.Login(ctx, "valid.login", "Good2026pw"); !market.IsCode(err, market.CodeUnauthenticated) {
			t.Fatalf("a refused registration left an account behind: %v", err)
		}
	})
}

func TestGrantRoleScope(t *testing.T) {
	eachMarket(t, func(t *testing.T, f *fixture) {
		teacher := f.users["li.teacher"].ID
		other := f.users["chen.teacher"].ID
		cases := []struct {
			actor  string
			user   string
			role   market.Role
			code   market.Code
			reason string
		}{
			{"xiaoxue.admin", teacher, market.RoleReviewer, "", "own institution, roster role"},
			{"xiaoxue.admin", teacher, market.RolePlatformAdmin, market.CodeForbidden, "admin roles are for platform admins"},
			{"xiaoxue.admin", teacher, market.RoleInstitutionAdmin, market.CodeForbidden, "admin roles are for platform admins"},
			{"xiaoxue.admin", other, market.RoleReviewer, market.CodeForbidden, "other institution"},
			{"li.teacher", other, market.RoleReviewer, market.CodeForbidden, "not an admin"},
			{"admin", other, market.RoleInstitutionAdmin, "", "platform admin grants anything"},
			{"admin", other, "wizard", market.CodeInvalid, "unknown role"},
		}
		for _, c := range cases {
			u, err := f.m.GrantRole(f.as(t, c.actor), c.user, c.role)
			if market.ErrorCode(err) != c.code && !(c.code == "" && err == nil) {
				t.Errorf("%s grants %s (%s): err = %v, want %q", c.actor, c.role, c.reason, err, c.code)
			}
			if c.code == "" && !u.Has(c.role) {
				t.Errorf("%s grants %s: user roles %v", c.actor, c.role, u.Roles)
			}
		}
		// Role changes take effect on the next request: the actor is rebuilt from the database.
		a, err := f.m.ActorFor(context.Background(), teacher)
		wantCode(t, err, "")
		if !a.Has(market.RoleReviewer) || !a.Has(market.RoleTeacher) {
			t.Fatalf("actor roles %v, want teacher and reviewer", a.Roles)
		}
	})
}

func TestConsentForStudentsUnder14(t *testing.T) {
	eachMarket(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		withConsent, without, older := f.users["zhang.xiaoming"], f.users["zhang.xiaohong"], f.users["sun.student"]
		if withConsent.ConsentNeeded || !without.ConsentNeeded || older.ConsentNeeded {
			t.Fatalf("consent needed: with consent %v, without %v, 17-year-old %v", withConsent.ConsentNeeded, without.ConsentNeeded, older.ConsentNeeded)
		}
		_, err := market.RequireActive(f.as(t, "zhang.xiaohong"))
		wantCode(t, err, market.CodeForbidden)
		_, err = market.RequireActive(f.as(t, "zhang.xiaoming"))
		wantCode(t, err, "")
		_, err = market.RequireActive(f.as(t, "new.teacher"))
		wantCode(t, err, market.CodeForbidden)
		_, err = market.RequireActive(ctx)
		wantCode(t, err, market.CodeUnauthenticated)

		// Only a linked guardian consents.
		_, _, err = f.m.RecordConsent(f.as(t, "li.teacher"), without.ID)
		wantCode(t, err, market.CodeForbidden)
		_, _, err = f.m.RecordConsent(f.as(t, "zhang.parent"), older.ID)
		wantCode(t, err, market.CodeForbidden)
		_, _, err = f.m.RecordConsent(f.as(t, "zhang.parent"), "not-an-id")
		wantCode(t, err, market.CodeNotFound)
		g, created, err := f.m.RecordConsent(f.as(t, "zhang.parent"), without.ID)
		wantCode(t, err, "")
		if !created || g.ConsentAt == nil {
			t.Fatalf("consent not recorded: %+v created=%v", g, created)
		}
		if _, created, _ := f.m.RecordConsent(f.as(t, "zhang.parent"), without.ID); created {
			t.Fatal("second consent reported as new")
		}
		if _, err := market.RequireActive(f.as(t, "zhang.xiaohong")); err != nil {
			t.Fatalf("after consent: %v", err)
		}

		// A student without a known birth date counts as under 14.
		u, err := f.m.Register(ctx, market.Registration{Login: "nobirth", Password: "Stud2026x", Name: "某生", Role: market.RoleStudent})
		wantCode(t, err, "")
		if !u.ConsentNeeded {
			t.Fatal("a student of unknown age does not need consent")
		}
		// Turning 14 lifts the requirement.
		f.clock.Advance(time.Until(time.Date(2031, 9, 2, 0, 0, 0, 0, time.UTC)) + time.Since(f.clock.Now()) + 24*time.Hour)
		grown, err := f.m.User(ctx, f.users["zhang.xiaoming"].ID)
		wantCode(t, err, "")
		if grown.ConsentNeeded {
			t.Fatal("consent still required after the 14th birthday")
		}
	})
}

func TestLoginLockout(t *testing.T) {
	eachMarket(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.clock.Advance(time.Minute) // past the fixture's own sign-ins
		for i := range 5 {
			_, err := f.m.Login(ctx, "li.teacher", fmt.Sprintf("wrong%d", i))
			wantCode(t, err, market.CodeUnauthenticated)
			f.clock.Advance(time.Minute)
		}
		_, err := f.m.Login(ctx, "li.teacher", market.DemoPassword)
		wantCode(t, err, market.CodeRateLimited)
		var de *market.Error
		if !errors.As(err, &de) || de.RetryAfterSeconds < 9*60 || de.RetryAfterSeconds > 11*60+1 {
			t.Fatalf("Retry-After = %d s, want about 10 minutes (first failure 15 min before it expires)", de.RetryAfterSeconds)
		}
		// Other logins are unaffected; unknown logins lock the same way (no enumeration).
		_, err = f.m.Login(ctx, "chen.teacher", market.DemoPassword)
		wantCode(t, err, "")
		for range 5 {
			f.m.Login(ctx, "nobody.here", "whatever1")
		}
		_, err = f.m.Login(ctx, "nobody.here", "whatever1")
		wantCode(t, err, market.CodeRateLimited)

		f.clock.Advance(time.Duration(de.RetryAfterSeconds) * time.Second)
		_, err = f.m.Login(ctx, "li.teacher", market.DemoPassword)
		wantCode(t, err, "")
		// A success resets the count.
		for range 4 {
			f.m.Login(ctx, "li.teacher", "wrong")
		}
		_, err = f.m.Login(ctx, "li.teacher", market.DemoPassword)
		wantCode(t, err, "")

		page, err := f.m.Audit(f.as(t, "admin"), market.AuditFilter{Action: "auth.login", ActorID: "li.teacher"}, market.Paging{PerPage: 100})
		wantCode(t, err, "")
		outcomes := map[string]int{}
		for _, e := range page.Items {
			outcomes[e.Outcome]++
		}
		if outcomes[market.OutcomeFailed] != 9 || outcomes[market.OutcomeLocked] != 1 || outcomes[market.OutcomeOK] != 3 {
			t.Fatalf("login audit outcomes %v, want 9 failed, 1 locked, 3 ok", outcomes)
		}
	})
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	eachMarket(t, func(t *testing.T, f *fixture) {
		var before int64
		f.db.Raw("SELECT COUNT(*) FROM audit_log").Scan(&before)
		if before == 0 {
			t.Fatal("no audit entries after seeding and logging in")
		}
		for _, stmt := range []string{
			"UPDATE audit_log SET outcome = 'ok'",
			"UPDATE audit_log SET actor_login = 'someone' WHERE id = (SELECT MIN(id) FROM audit_log)",
			"DELETE FROM audit_log",
			"DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)",
		} {
			err := f.db.Exec(stmt).Error
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: err = %v, want the append-only trigger to refuse", stmt, err)
			}
		}
		if f.db.Dialect == "postgres" {
			if err := f.db.Exec("TRUNCATE audit_log").Error; err == nil {
				t.Error("TRUNCATE audit_log succeeded")
			}
		}
		var after int64
		f.db.Raw("SELECT COUNT(*) FROM audit_log").Scan(&after)
		if after != before {
			t.Fatalf("audit entries %d → %d", before, after)
		}
	})
}

func TestAuditFilterAndScope(t *testing.T) {
	eachMarket(t, func(t *testing.T, f *fixture) {
		_, err := f.m.Audit(f.as(t, "xiaoxue.admin"), market.AuditFilter{}, market.Paging{})
		wantCode(t, err, market.CodeForbidden)
		admin := f.as(t, "admin")
		all, err := f.m.Audit(admin, market.AuditFilter{}, market.Paging{PerPage: 5})
		wantCode(t, err, "")
		if all.Total < 15 || len(all.Items) != 5 || all.Items[0].ID < all.Items[4].ID {
			t.Fatalf("audit page: total %d, %d items, newest first?", all.Total, len(all.Items))
		}
		if all.Items[0].IP != "" && all.Items[0].IP != "203.0.113.7" {
			t.Fatalf("audit IP %q", all.Items[0].IP)
		}
		future, err := f.m.Audit(admin, market.AuditFilter{From: f.clock.Now().Add(time.Hour)}, market.Paging{})
		wantCode(t, err, "")
		if future.Total != 0 {
			t.Fatalf("%d entries from the future", future.Total)
		}
		_, err = f.m.Audit(admin, market.AuditFilter{}, market.Paging{PerPage: 101})
		wantCode(t, err, market.CodeInvalid)
	})
}

func TestSeedDemoIsIdempotent(t *testing.T) {
	eachMarket(t, func(t *testing.T, f *fixture) {
		n, err := f.m.SeedDemo(context.Background())
		wantCode(t, err, "")
		if n != 0 {
			t.Fatalf("second seed added %d records", n)
		}
	})
}

func TestMessagesHaveBothLanguages(t *testing.T) {
	for _, code := range market.Codes {
		if code == "" {
			t.Fatal("empty code")
		}
	}
	for _, key := range market.MessageKeys() {
		m := market.Message{Key: key}
		zh, en := m.Text("zh"), m.Text("en")
		if zh == string(key) || en == string(key) || zh == en {
			t.Errorf("message %s: zh %q, en %q", key, zh, en)
		}
	}
}
