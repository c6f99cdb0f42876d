package market

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// RosterRow is one valid line of a roster.
type RosterRow struct {
	Line          int
	Login         string
	Name          string
	Role          Role
	Password      string
	GuardianLogin string
	BirthDate     string
}

// RowError reports why one roster line was not imported.
type RowError struct {
	Line int
	Msg  Message
}

// RosterReport is the outcome of an import.
type RosterReport struct {
	Created int
	Skipped int
	Errors  []RowError
}

var rosterColumns = map[string]string{
	"login": "login", "账号": "login", "用户名": "login", "学籍号": "login", "工号": "login",
	"name": "name", "姓名": "name",
	"role": "role", "角色": "role", "身份": "role",
	"password": "password", "密码": "password", "初始密码": "password",
	"guardian_login": "guardian_login", "监护人账号": "guardian_login", "家长账号": "guardian_login",
	"birth_date": "birth_date", "出生日期": "birth_date",
}

var rosterRoleNames = map[string]Role{
	"student": RoleStudent, "学生": RoleStudent,
	"teacher": RoleTeacher, "教师": RoleTeacher, "老师": RoleTeacher,
	"parent": RoleParent, "家长": RoleParent, "监护人": RoleParent,
	"reviewer": RoleReviewer, "审核员": RoleReviewer,
	"evaluator": RoleEvaluator, "评价员": RoleEvaluator,
}

// decodeRoster turns the upload into UTF-8 text. Excel on Chinese Windows writes GB18030/GBK
// ("CSV"), UTF-8 with a BOM ("CSV UTF-8") or UTF-16 with a BOM ("Unicode text", tab-separated).
func decodeRoster(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		out, _, err := transform.Bytes(dec, data)
		if err != nil {
			return "", Errorf(CodeUnsupportedMediaType, MsgRosterNotText)
		}
		data = out
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return "", Errorf(CodeUnsupportedMediaType, MsgRosterNotText)
	}
	if !utf8.Valid(data) {
		out, _, err := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), data)
		if err != nil {
			return "", Errorf(CodeUnsupportedMediaType, MsgRosterNotText)
		}
		data = out
	}
	text := string(data)
	// Control characters other than tab and line breaks mean binary data, not a spreadsheet.
	for _, r := range text {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == utf8.RuneError {
			return "", Errorf(CodeUnsupportedMediaType, MsgRosterNotText)
		}
	}
	return text, nil
}

// ParseRoster reads a roster CSV. A file-level problem (not text, bad header, too many rows) is
// returned as an error; problems of single lines come back as RowErrors beside the valid rows.
func ParseRoster(data []byte, maxRows int, now func() string) ([]RosterRow, []RowError, error) {
	text, err := decodeRoster(data)
	if err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(text) == "" {
		return nil, nil, Errorf(CodeInvalid, MsgRosterEmpty)
	}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	firstLine, _, _ := strings.Cut(text, "\n")
	if strings.Contains(firstLine, "\t") && !strings.Contains(firstLine, ",") {
		r.Comma = '\t'
		r.TrimLeadingSpace = false // it would swallow empty tab-separated fields
	}
	header, err := r.Read()
	if err != nil {
		return nil, nil, Errorf(CodeInvalid, MsgRosterHeader, strings.TrimSpace(firstLine))
	}
	cols := map[string]int{}
	for i, h := range header {
		name, ok := rosterColumns[strings.ToLower(strings.TrimSpace(h))]
		if !ok || cols[name] != 0 {
			return nil, nil, Errorf(CodeInvalid, MsgRosterHeader, strings.Join(header, ","))
		}
		cols[name] = i + 1
	}
	for _, need := range []string{"login", "name", "role", "password"} {
		if cols[need] == 0 {
			return nil, nil, Errorf(CodeInvalid, MsgRosterHeader, strings.Join(header, ","))
		}
	}
	field := func(rec []string, name string) string {
		if i := cols[name]; i > 0 && i <= len(rec) {
			return strings.TrimSpace(rec[i-1])
		}
		return ""
	}
	var (
		rows    []RosterRow
		errs    []RowError
		seen    = map[string]int{}
		count   int
		today   = now()
		lastErr = -1
	)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line := pe.StartLine
				if line == lastErr { // the reader cannot move past this spot
					break
				}
				lastErr = line
				errs = append(errs, RowError{Line: line, Msg: Message{Key: MsgRosterCSV, Args: []any{pe.Err.Error()}}})
				continue
			}
			return nil, nil, Errorf(CodeInvalid, MsgRosterCSV, err.Error())
		}
		if blank(rec) {
			continue
		}
		line, _ := r.FieldPos(0)
		count++
		if count > maxRows {
			return nil, nil, Errorf(CodeTooLarge, MsgRosterTooManyRows, maxRows)
		}
		if len(rec) != len(header) {
			errs = append(errs, RowError{Line: line, Msg: Message{Key: MsgRosterColumns, Args: []any{len(header), len(rec)}}})
			continue
		}
		row, rerr := parseRosterRow(field, rec, today)
		if rerr != nil {
			errs = append(errs, RowError{Line: line, Msg: rerr.Msg})
			continue
		}
		row.Line = line
		if first, dup := seen[row.Login]; dup {
			errs = append(errs, RowError{Line: line, Msg: Message{Key: MsgRosterDuplicate, Args: []any{row.Login, first}}})
			continue
		}
		seen[row.Login] = line
		rows = append(rows, row)
	}
	if count == 0 && len(errs) == 0 {
		return nil, nil, Errorf(CodeInvalid, MsgRosterEmpty)
	}
	return rows, errs, nil
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func parseRosterRow(field func([]string, string) string, rec []string, today string) (RosterRow, *Error) {
	var row RosterRow
	var err error
	asErr := func(err error) *Error {
		var e *Error
		errors.As(err, &e)
		return e
	}
	if row.Login, err = normalizeLogin(field(rec, "login")); err != nil {
		return row, asErr(err)
	}
	if row.Name, err = checkName("name", field(rec, "name"), 64); err != nil {
		return row, asErr(err)
	}
	roleText := field(rec, "role")
	role, ok := rosterRoleNames[strings.ToLower(roleText)]
	if !ok {
		return row, Errorf(CodeInvalid, MsgFieldOneOf, "role", roleText, joinValues(RosterRoles))
	}
	row.Role = role
	row.Password = field(rec, "password")
	if err := CheckPasswordPolicy(row.Password); err != nil {
		return row, asErr(err)
	}
	if g := field(rec, "guardian_login"); g != "" {
		if row.GuardianLogin, err = normalizeLogin(g); err != nil {
			return row, Errorf(CodeInvalid, MsgRosterGuardian, g)
		}
		if row.GuardianLogin == row.Login {
			return row, Errorf(CodeInvalid, MsgRosterGuardian, g)
		}
	}
	if b := field(rec, "birth_date"); b != "" {
		d, ok := parseDateLoose(b)
		if !ok || d > today {
			return row, Errorf(CodeInvalid, MsgRosterBirthDate, b)
		}
		row.BirthDate = d
	}
	return row, nil
}

// ImportRoster creates the valid rows of a roster as verified members of the institution.
// Logins that already exist in the institution are skipped, so importing the same file again
// is safe; guardians (parents in the file or already registered) are linked to their students.
func (m *Market) ImportRoster(ctx context.Context, institutionID string, data []byte) (RosterReport, error) {
	var rep RosterReport
	a, err := requireRole(ctx, RoleInstitutionAdmin, RolePlatformAdmin)
	if err == nil && !a.Has(RolePlatformAdmin) && a.InstitutionID != institutionID {
		err = Errorf(CodeForbidden, MsgForbidden)
	}
	if err != nil {
		m.auditDenied(ctx, "roster.import", institutionID, err)
		return rep, err
	}
	if _, err := m.institution(ctx, institutionID); err != nil {
		return rep, err
	}
	today := func() string { return m.now().In(chinaTime).Format("2006-01-02") }
	rows, rowErrs, err := ParseRoster(data, m.opts.MaxRosterRows, today)
	if err != nil {
		m.auditDenied(ctx, "roster.import", institutionID, err)
		return rep, err
	}
	rep.Errors = rowErrs

	// Existing logins decide what is skipped and what conflicts, before any hashing is spent.
	logins := make([]string, 0, len(rows))
	for _, r := range rows {
		logins = append(logins, r.Login)
	}
	existing := map[string]userRow{}
	for chunk := range chunks(logins, 500) {
		var found []userRow
		if err := m.db.WithContext(ctx).Where("login IN ?", chunk).Find(&found).Error; err != nil {
			return rep, Internal(err)
		}
		for _, u := range found {
			existing[u.Login] = u
		}
	}
	var fresh []RosterRow
	for _, r := range rows {
		u, ok := existing[r.Login]
		switch {
		case !ok:
			fresh = append(fresh, r)
		case u.InstitutionID != nil && *u.InstitutionID == institutionID:
			rep.Skipped++
		default:
			rep.Errors = append(rep.Errors, RowError{Line: r.Line, Msg: Message{Key: MsgRosterOtherInst, Args: []any{r.Login}}})
		}
	}
	hashes := m.hashAll(fresh)

	err = m.tx(ctx, func(tx *gorm.DB) error {
		now := m.now()
		ids := map[string]string{} // login → id, for guardian links within the file
		parents := map[string]bool{}
		for i, r := range fresh {
			row := userRow{ID: NewID(), Login: r.Login, Name: r.Name, PasswordHash: hashes[i],
				InstitutionID: &institutionID, Verified: true, VerifiedAt: &now, VerifiedBy: &a.UserID,
				CreatedAt: now, UpdatedAt: now}
			if r.BirthDate != "" {
				bd := r.BirthDate
				row.BirthDate = &bd
			}
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 { // created by a concurrent import
				rep.Skipped++
				continue
			}
			if err := tx.Create(&roleRow{UserID: row.ID, Role: string(r.Role), GrantedBy: &a.UserID, CreatedAt: now}).Error; err != nil {
				return err
			}
			ids[r.Login] = row.ID
			parents[r.Login] = r.Role == RoleParent
			rep.Created++
		}
		// Link guardians once every row exists, so a parent may come after its child.
		for _, r := range rows {
			if r.GuardianLogin == "" {
				continue
			}
			studentID, ok := ids[r.Login]
			if !ok {
				if u, found := existing[r.Login]; found && u.InstitutionID != nil && *u.InstitutionID == institutionID {
					studentID = u.ID
				} else {
					continue
				}
			}
			guardianID, ok := ids[r.GuardianLogin]
			if !ok || !parents[r.GuardianLogin] {
				var g userRow
				err := tx.Joins("JOIN user_roles ON user_roles.user_id = users.id AND user_roles.role = ?", RoleParent).
					Where("users.login = ?", r.GuardianLogin).Take(&g).Error
				if errors.Is(err, gorm.ErrRecordNotFound) {
					rep.Errors = append(rep.Errors, RowError{Line: r.Line, Msg: Message{Key: MsgRosterGuardian, Args: []any{r.GuardianLogin}}})
					continue
				}
				if err != nil {
					return err
				}
				guardianID = g.ID
			}
			link := guardianRow{StudentID: studentID, GuardianID: guardianID, CreatedAt: now}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&link).Error; err != nil {
				return err
			}
		}
		slices.SortStableFunc(rep.Errors, func(a, b RowError) int { return a.Line - b.Line })
		return m.audit(ctx, tx, "roster.import", institutionID, OutcomeOK,
			map[string]int{"created": rep.Created, "skipped": rep.Skipped, "errors": len(rep.Errors)})
	})
	if err != nil {
		m.auditDenied(ctx, "roster.import", institutionID, err)
		return RosterReport{}, err
	}
	return rep, nil
}

// hashAll hashes the passwords of rows on every core: argon2id is deliberately slow.
func (m *Market) hashAll(rows []RosterRow) []string {
	out := make([]string, len(rows))
	work := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range work {
				out[i] = HashPassword(rows[i].Password, m.opts.Argon2)
			}
		})
	}
	for i := range rows {
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

func chunks[T any](s []T, n int) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

// parseDateLoose reads a date as people type it into spreadsheets (2012-03-04, 2012/3/4) and
// returns it as YYYY-MM-DD.
func parseDateLoose(s string) (string, bool) {
	for _, layout := range []string{"2006-01-02", "2006/1/2", "2006-1-2", "2006.1.2"} {
		if d, err := time.Parse(layout, s); err == nil && d.Year() >= 1900 {
			return d.Format("2006-01-02"), true
		}
	}
	return "", false
}
