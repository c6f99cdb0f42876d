package market_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"ziyuan/market"
)

func today() string { return "2026-09-01" }

const goodRoster = "login,name,role,password,guardian_login,birth_date\n" +
	"wang.ma,王妈妈,parent,Parent2026,,\n" +
	"wang.xiaohu,王小虎,student,Stud2026a,wang.ma,2015-06-01\n" +
	"zhao.laoshi,赵老师,teacher,Teach2026a,,\n"

func encodeGBK(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encodeUTF16(t testing.TB, s string) []byte {
	t.Helper()
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRosterEncodings(t *testing.T) {
	tabbed := strings.ReplaceAll(goodRoster, ",", "\t")
	cases := map[string][]byte{
		"utf-8":          []byte(goodRoster),
		"utf-8 with BOM": append([]byte{0xEF, 0xBB, 0xBF}, goodRoster...),
		"gbk":            encodeGBK(t, goodRoster),
		"gb18030":        mustGB18030(t, goodRoster),
		"crlf":           []byte(strings.ReplaceAll(goodRoster, "\n", "\r\n")),
		"utf-16 tabbed":  encodeUTF16(t, tabbed),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			rows, errs, err := market.ParseRoster(data, 100, today)
			if err != nil || len(errs) != 0 {
				t.Fatalf("err %v, row errors %v", err, errs)
			}
			if len(rows) != 3 || rows[1].Name != "王小虎" || rows[1].GuardianLogin != "wang.ma" || rows[1].BirthDate != "2015-06-01" || rows[1].Line != 3 {
				t.Fatalf("rows %+v", rows)
			}
		})
	}
}

func mustGB18030(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRosterChineseHeadersAndRoles(t *testing.T) {
	data := "账号,姓名,角色,密码,出生日期\nli.si,李四,学生,Stud2026b,2013/4/5\nqian.wu,钱五,教师,Teach2026b,\n"
	rows, errs, err := market.ParseRoster(encodeGBK(t, data), 10, today)
	if err != nil || len(errs) != 0 || len(rows) != 2 {
		t.Fatalf("rows %v errs %v err %v", rows, errs, err)
	}
	if rows[0].Role != market.RoleStudent || rows[0].BirthDate != "2013-04-05" || rows[1].Role != market.RoleTeacher {
		t.Fatalf("rows %+v", rows)
	}
}

func TestParseRosterBadRows(t *testing.T) {
	data := "login,name,role,password,guardian_login,birth_date\n" +
		"ok.one,好的,student,Stud2026a,,2014-01-01\n" + // line 2
		"bad login,坏,student,Stud2026a,,\n" + // 3
		"no.name,,student,Stud2026a,,\n" + // 4
		"bad.role,角色,wizard,Stud2026a,,\n" + // 5
		"weak.pw,弱,student,password,,\n" + // 6
		"ok.one,重复,student,Stud2026a,,\n" + // 7
		"bad.birth,生日,student,Stud2026a,,2099-01-01\n" + // 8
		"too,few\n" + // 9
		",,,,,\n" + // 10: blank, ignored
		"bad.guardian,监,student,Stud2026a,not valid!,\n" + // 11
		"ok.two,也好,teacher,Teach2026a,,\n" // 12
	rows, errs, err := market.ParseRoster([]byte(data), 100, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Login != "ok.one" || rows[1].Login != "ok.two" {
		t.Fatalf("valid rows %+v", rows)
	}
	wantLines := []int{3, 4, 5, 6, 7, 8, 9, 11}
	if len(errs) != len(wantLines) {
		t.Fatalf("row errors %+v, want lines %v", errs, wantLines)
	}
	for i, e := range errs {
		if e.Line != wantLines[i] {
			t.Errorf("error %d on line %d, want %d (%s)", i, e.Line, wantLines[i], e.Msg.English())
		}
		if e.Msg.Text("zh") == "" || e.Msg.English() == "" {
			t.Errorf("line %d: empty message", e.Line)
		}
	}
	if !strings.Contains(errs[4].Msg.English(), "first on line 2") {
		t.Errorf("duplicate message %q does not point at line 2", errs[4].Msg.English())
	}
}

func TestParseRosterFileErrors(t *testing.T) {
	xlsx := append([]byte("PK\x03\x04\x14\x00\x06\x00"), bytes.Repeat([]byte{0, 1, 2}, 50)...)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	many := "login,name,role,password\n" + strings.Repeat("a.b,名,student,Stud2026a\n", 11)
	cases := []struct {
		name string
		data []byte
		code market.Code
	}{
		{"empty", nil, market.CodeInvalid},
		{"blank", []byte(" \n\n"), market.CodeInvalid},
		{"header only", []byte("login,name,role,password\n"), market.CodeInvalid},
		{"wrong header", []byte("user,name,role,password\nx,y,student,z\n"), market.CodeInvalid},
		{"missing column", []byte("login,name,role\nx,y,student\n"), market.CodeInvalid},
		{"duplicate column", []byte("login,name,role,password,login\n"), market.CodeInvalid},
		{"xlsx", xlsx, market.CodeUnsupportedMediaType},
		{"png", png, market.CodeUnsupportedMediaType},
		{"too many rows", []byte(many), market.CodeTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := market.ParseRoster(c.data, 10, today)
			if market.ErrorCode(err) != c.code || err == nil {
				t.Fatalf("err = %v, want %s", err, c.code)
			}
		})
	}
}

func FuzzParseRoster(f *testing.F) {
	f.Add([]byte(goodRoster))
	f.Add(encodeGBK(f, goodRoster))
	f.Add(encodeUTF16(f, strings.ReplaceAll(goodRoster, ",", "\t")))
	f.Add([]byte("login,name,role,password\n\"unterminated,x,student,Stud2026a\n"))
	f.Add([]byte("账号,姓名,角色,密码\na,\"b\"\"c\",学生,x1234567\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, errs, err := market.ParseRoster(data, 50, today)
		if err != nil {
			if rows != nil || errs != nil {
				t.Fatal("rows returned beside a file error")
			}
			code := market.ErrorCode(err)
			if code != market.CodeInvalid && code != market.CodeUnsupportedMediaType && code != market.CodeTooLarge {
				t.Fatalf("unexpected code %s: %v", code, err)
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if seen[r.Login] {
				t.Fatalf("login %q twice among valid rows", r.Login)
			}
			seen[r.Login] = true
			if r.Line < 2 || market.CheckPasswordPolicy(r.Password) != nil || r.Name == "" {
				t.Fatalf("invalid row accepted: %+v", r)
			}
		}
		for _, e := range errs {
			if e.Line < 1 || e.Msg.Text("zh") == "" {
				t.Fatalf("row error without line or message: %+v", e)
			}
		}
	})
}

func TestImportRoster(t *testing.T) {
	eachMarket(t, func(t *testing.T, f *fixture) {
		school := f.insts["2111010801"]
		admin := f.as(t, "xiaoxue.admin")
		data := goodRoster + "bad row,x,student,Stud2026a,,\n" + "li.teacher,冒名,teacher,Teach2026a,,\n" + "chen.teacher,别校,teacher,Teach2026a,,\n"
		rep, err := f.m.ImportRoster(admin, school, encodeGBK(t, data))
		wantCode(t, err, "")
		if rep.Created != 3 || rep.Skipped != 1 || len(rep.Errors) != 2 || rep.Errors[0].Line != 5 || rep.Errors[1].Line != 7 {
			t.Fatalf("report %+v", rep)
		}
		// Created rows are verified members with their role; guardians are linked.
		ctx := context.Background()
		kid, err := f.m.Login(ctx, "wang.xiaohu", "Stud2026a")
		wantCode(t, err, "")
		if !kid.Verified || !kid.Has(market.RoleStudent) || kid.InstitutionID == nil || *kid.InstitutionID != school || !kid.ConsentNeeded {
			t.Fatalf("imported student %+v", kid)
		}
		parent, err := f.m.Login(ctx, "wang.ma", "Parent2026")
		wantCode(t, err, "")
		base := f.as(t, "zhang.parent")
		a := market.ActorFrom(base)
		a.UserID, a.Login, a.Roles = parent.ID, parent.Login, parent.Roles
		wards, err := f.m.Wards(market.WithActor(base, a))
		wantCode(t, err, "")
		if len(wards) != 1 || wards[0].ID != kid.ID {
			t.Fatalf("wards %+v", wards)
		}
		// Importing again changes nothing.
		again, err := f.m.ImportRoster(admin, school, encodeGBK(t, data))
		wantCode(t, err, "")
		if again.Created != 0 || again.Skipped != 4 {
			t.Fatalf("re-import %+v", again)
		}
		// Admins of other institutions and non-admins are refused, with nothing written.
		_, err = f.m.ImportRoster(f.as(t, "zhongxue.admin"), school, []byte("login,name,role,password\nintruder,x,teacher,Teach2026a\n"))
		wantCode(t, err, market.CodeForbidden)
		_, err = f.m.ImportRoster(f.as(t, "li.teacher"), school, []byte("login,name,role,password\nintruder,x,teacher,Teach2026a\n"))
		wantCode(t, err, market.CodeForbidden)
		_, err = f.m.ImportRoster(admin, school, []byte("\x89PNG\r\n\x1a\n\x00\x00"))
		wantCode(t, err, market.CodeUnsupportedMediaType)
		if _, err := f.m.Login(ctx, "intruder", "Teach2026a"); !market.IsCode(err, market.CodeUnauthenticated) {
			t.Fatalf("a refused import created an account: %v", err)
		}
		page, err := f.m.Audit(f.as(t, "admin"), market.AuditFilter{Action: "roster.import"}, market.Paging{})
		wantCode(t, err, "")
		if page.Total != 5 {
			t.Fatalf("%d roster.import audit entries, want 5 (2 ok, 3 refused)", page.Total)
		}
	})
}

func TestImportRosterConcurrent(t *testing.T) {
	eachMarket(t, func(t *testing.T, f *fixture) {
		school := f.insts["3111010802"]
		admin := f.as(t, "zhongxue.admin")
		var b strings.Builder
		b.WriteString("login,name,role,password\n")
		for i := range 40 {
			b.WriteString("c" + strings.Repeat("x", i%3) + "." + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ",学生,student,Stud2026a\n")
		}
		data := []byte(b.String())
		results := make(chan market.RosterReport, 3)
		errs := make(chan error, 3)
		for range 3 {
			go func() {
				rep, err := f.m.ImportRoster(admin, school, data)
				results <- rep
				errs <- err
			}()
		}
		created := 0
		for range 3 {
			if err := <-errs; err != nil {
				t.Fatalf("concurrent import: %v", err)
			}
			created += (<-results).Created
		}
		if created != 40 {
			t.Fatalf("three concurrent imports created %d accounts, want 40 in all", created)
		}
	})
}

func BenchmarkParseRoster1000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("login,name,role,password,guardian_login,birth_date\n")
	for i := range 1000 {
		sb.WriteString("student." + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + ",学生姓名,student,Stud2026a,,2014-01-01\n")
	}
	data := encodeGBK(b, sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := market.ParseRoster(data, 5000, today); err != nil {
			b.Fatal(err)
		}
	}
}
