package market

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// chinaTime is the zone in which birthdays turn over; China keeps one zone and no daylight time.
var chinaTime = time.FixedZone("CST", 8*60*60)

const consentAge = 14

var loginPattern = regexp.MustCompile(`^[a-z0-9._@-]{3,64}$`)

// normalizeLogin makes logins case-insensitive and checks their alphabet.
func normalizeLogin(login string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(login))
	if !loginPattern.MatchString(l) {
		return "", Errorf(CodeInvalid, MsgLoginFormat)
	}
	return l, nil
}

func checkName(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", Errorf(CodeInvalid, MsgFieldRequired, field)
	}
	if utf8.RuneCountInString(v) > max || strings.ContainsAny(v, "\x00\r\n") {
		return "", Errorf(CodeInvalid, MsgFieldTooLong, field, max)
	}
	return v, nil
}

// parseBirthDate accepts YYYY-MM-DD dates that are not in the future.
func parseBirthDate(s string, now time.Time) (string, error) {
	d, err := time.ParseInLocation("2006-01-02", s, chinaTime)
	if err != nil || d.Year() < 1900 {
		return "", Errorf(CodeInvalid, MsgRosterBirthDate, s)
	}
	if d.After(now.In(chinaTime)) {
		return "", Errorf(CodeInvalid, MsgBirthDateFuture)
	}
	return d.Format("2006-01-02"), nil
}

// under14 reports whether someone born on birthDate (YYYY-MM-DD) is younger than 14 at now.
// An unknown birth date counts as under 14: without it we cannot rule out a child.
func under14(birthDate *string, now time.Time) bool {
	if birthDate == nil {
		return true
	}
	d, err := time.ParseInLocation("2006-01-02", *birthDate, chinaTime)
	if err != nil {
		return true
	}
	return now.In(chinaTime).Before(d.AddDate(consentAge, 0, 0))
}

// loadUser reads a user with roles and consent state.
func (m *Market) loadUser(ctx context.Context, db *gorm.DB, where string, arg any) (User, userRow, error) {
	var row userRow
	err := db.WithContext(ctx).Where(where, arg).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return User{}, row, Errorf(CodeNotFound, MsgNotFound, "user")
	}
	if err != nil {
		return User{}, row, Internal(err)
	}
	u, err := m.hydrate(ctx, db, row)
	return u, row, err
}

func (m *Market) hydrate(ctx context.Context, db *gorm.DB, row userRow) (User, error) {
	u := User{ID: row.ID, Login: row.Login, Name: row.Name, InstitutionID: row.InstitutionID,
		Verified: row.Verified, VerifiedAt: row.VerifiedAt, BirthDate: row.BirthDate, CreatedAt: row.CreatedAt}
	var roles []roleRow
	if err := db.WithContext(ctx).Where("user_id = ?", row.ID).Find(&roles).Error; err != nil {
		return u, Internal(err)
	}
	u.Roles = []Role{}
	for _, r := range Roles { // keep display order
		for _, have := range roles {
			if have.Role == string(r) {
				u.Roles = append(u.Roles, r)
			}
		}
	}
	if u.Has(RoleStudent) && under14(row.BirthDate, m.now()) {
		var n int64
		err := db.WithContext(ctx).Model(&guardianRow{}).
			Where("student_id = ? AND consent_at IS NOT NULL", row.ID).Count(&n).Error
		if err != nil {
			return u, Internal(err)
		}
		u.ConsentNeeded = n == 0
	}
	return u, nil
}

// User returns the user with id, for the signed-in user itself and for admins.
func (m *Market) User(ctx context.Context, id string) (User, error) {
	if !ValidID(id) {
		return User{}, Errorf(CodeNotFound, MsgNotFound, "user")
	}
	u, _, err := m.loadUser(ctx, m.db.DB, "id = ?", id)
	return u, err
}

// ActorFor builds the Actor for a signed-in user from the database, so that role changes,
// verification and consent take effect on the next request.
func (m *Market) ActorFor(ctx context.Context, userID string) (Actor, error) {
	u, err := m.User(ctx, userID)
	if err != nil {
		if IsCode(err, CodeNotFound) {
			return Actor{}, Errorf(CodeUnauthenticated, MsgTokenInvalid)
		}
		return Actor{}, err
	}
	base := ActorFrom(ctx)
	a := Actor{UserID: u.ID, Login: u.Login, Roles: u.Roles, Verified: u.Verified,
		ConsentNeeded: u.ConsentNeeded, IP: base.IP, RequestID: base.RequestID}
	if u.InstitutionID != nil {
		a.InstitutionID = *u.InstitutionID
	}
	return a, nil
}

// Registration is a self-service sign-up.
type Registration struct {
	Login         string `json:"login"`
	Password      string `json:"password"`
	Name          string `json:"name"`
	Role          Role   `json:"role"`
	InstitutionID string `json:"institution_id,omitempty"`
	BirthDate     string `json:"birth_date,omitempty"`
}

// Register creates an unverified account; an institution admin verifies it later.
func (m *Market) Register(ctx context.Context, r Registration) (User, error) {
	login, err := normalizeLogin(r.Login)
	if err != nil {
		return User{}, err
	}
	name, err := checkName("name", r.Name, 64)
	if err != nil {
		return User{}, err
	}
	if r.Role == "" {
		return User{}, Errorf(CodeInvalid, MsgFieldRequired, "role")
	}
	if !oneOf(r.Role, SelfServiceRoles) {
		return User{}, Errorf(CodeInvalid, MsgFieldOneOf, "role", string(r.Role), joinValues(SelfServiceRoles))
	}
	if err := CheckPasswordPolicy(r.Password); err != nil {
		return User{}, err
	}
	row := userRow{ID: NewID(), Login: login, Name: name, CreatedAt: m.now(), UpdatedAt: m.now()}
	if r.BirthDate != "" {
		bd, err := parseBirthDate(r.BirthDate, m.now())
		if err != nil {
			return User{}, err
		}
		row.BirthDate = &bd
	}
	if r.InstitutionID != "" {
		if _, err := m.institution(ctx, r.InstitutionID); err != nil {
			return User{}, err
		}
		row.InstitutionID = &r.InstitutionID
	}
	row.PasswordHash = HashPassword(r.Password, m.opts.Argon2)
	var u User
	err = m.tx(ctx, func(tx *gorm.DB) error {
		if err := m.insertUser(tx, &row, []Role{r.Role}, nil); err != nil {
			return err
		}
		if err := m.audit(ctx, tx, "user.register", row.ID, OutcomeOK, map[string]any{"login": login, "role": r.Role}); err != nil {
			return err
		}
		u, err = m.hydrate(ctx, tx, row)
		return err
	})
	return u, err
}

// insertUser writes a user and its roles, turning a duplicate login into a conflict.
func (m *Market) insertUser(tx *gorm.DB, row *userRow, roles []Role, grantedBy *string) error {
	if err := tx.Create(row).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return Errorf(CodeConflict, MsgLoginTaken, row.Login)
		}
		return err
	}
	for _, r := range roles {
		if err := tx.Create(&roleRow{UserID: row.ID, Role: string(r), GrantedBy: grantedBy, CreatedAt: m.now()}).Error; err != nil {
			return err
		}
	}
	return nil
}

// CreatePlatformAdmin creates a verified platform administrator. It is for the CLI, which acts
// with the operator's authority rather than a signed-in user's.
func (m *Market) CreatePlatformAdmin(ctx context.Context, login, password, name string) (User, error) {
	l, err := normalizeLogin(login)
	if err != nil {
		return User{}, err
	}
	if name == "" {
		name = l
	}
	if name, err = checkName("name", name, 64); err != nil {
		return User{}, err
	}
	if err := CheckPasswordPolicy(password); err != nil {
		return User{}, err
	}
	now := m.now()
	row := userRow{ID: NewID(), Login: l, Name: name, PasswordHash: HashPassword(password, m.opts.Argon2),
		Verified: true, VerifiedAt: &now, CreatedAt: now, UpdatedAt: now}
	var u User
	err = m.tx(ctx, func(tx *gorm.DB) error {
		if err := m.insertUser(tx, &row, []Role{RolePlatformAdmin}, nil); err != nil {
			if IsCode(err, CodeConflict) {
				return Errorf(CodeConflict, MsgPlatformAdminExists, l)
			}
			return err
		}
		if err := m.audit(ctx, tx, "admin.create", row.ID, OutcomeOK, map[string]string{"login": l, "via": "cli"}); err != nil {
			return err
		}
		u, err = m.hydrate(ctx, tx, row)
		return err
	})
	return u, err
}

// VerifyUser marks a self-registered user as real-name verified. The institution admin of the
// user's institution may do it, and so may a platform admin. Verifying twice changes nothing.
func (m *Market) VerifyUser(ctx context.Context, userID string) (User, error) {
	a, err := requireRole(ctx, RoleInstitutionAdmin, RolePlatformAdmin)
	if err != nil {
		m.auditDenied(ctx, "user.verify", userID, err)
		return User{}, err
	}
	var u User
	err = m.tx(ctx, func(tx *gorm.DB) error {
		var row userRow
		if u, row, err = m.loadUserForAdmin(ctx, tx, a, userID); err != nil {
			return err
		}
		if row.Verified {
			return nil
		}
		if row.InstitutionID == nil && !a.Has(RolePlatformAdmin) {
			return Errorf(CodeConflict, MsgNoInstitution)
		}
		now := m.now()
		res := tx.Model(&userRow{}).Where("id = ? AND verified = ?", row.ID, false).
			Updates(map[string]any{"verified": true, "verified_at": now, "verified_by": a.UserID, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 { // verified concurrently
			return nil
		}
		if err := m.audit(ctx, tx, "user.verify", row.ID, OutcomeOK, map[string]string{"login": row.Login}); err != nil {
			return err
		}
		u.Verified, u.VerifiedAt = true, &now
		return nil
	})
	if err != nil {
		m.auditDenied(ctx, "user.verify", userID, err)
	}
	return u, err
}

// loadUserForAdmin loads a user that a is allowed to administer: platform admins administer
// everyone, institution admins the members of their own institution.
func (m *Market) loadUserForAdmin(ctx context.Context, db *gorm.DB, a Actor, userID string) (User, userRow, error) {
	if !ValidID(userID) {
		return User{}, userRow{}, Errorf(CodeNotFound, MsgNotFound, "user")
	}
	u, row, err := m.loadUser(ctx, db, "id = ?", userID)
	if err != nil {
		return u, row, err
	}
	if a.Has(RolePlatformAdmin) {
		return u, row, nil
	}
	if a.Has(RoleInstitutionAdmin) && a.InstitutionID != "" && row.InstitutionID != nil && *row.InstitutionID == a.InstitutionID {
		return u, row, nil
	}
	return u, row, Errorf(CodeForbidden, MsgForbidden)
}

// GrantRole gives a user another role. Platform admins grant any role; institution admins grant
// the roster roles to members of their institution.
func (m *Market) GrantRole(ctx context.Context, userID string, role Role) (User, error) {
	a, err := requireRole(ctx, RoleInstitutionAdmin, RolePlatformAdmin)
	if err != nil {
		m.auditDenied(ctx, "user.role_grant", userID, err)
		return User{}, err
	}
	if !oneOf(role, Roles) {
		return User{}, Errorf(CodeInvalid, MsgFieldOneOf, "role", string(role), joinValues(Roles))
	}
	if !a.Has(RolePlatformAdmin) && !oneOf(role, RosterRoles) {
		err := Errorf(CodeForbidden, MsgRoleNotAllowed, string(role))
		m.auditDenied(ctx, "user.role_grant", userID, err)
		return User{}, err
	}
	var u User
	err = m.tx(ctx, func(tx *gorm.DB) error {
		var row userRow
		if u, row, err = m.loadUserForAdmin(ctx, tx, a, userID); err != nil {
			return err
		}
		if u.Has(role) {
			return nil
		}
		if err := tx.Create(&roleRow{UserID: row.ID, Role: string(role), GrantedBy: &a.UserID, CreatedAt: m.now()}).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return nil
			}
			return err
		}
		if err := m.audit(ctx, tx, "user.role_grant", row.ID, OutcomeOK, map[string]string{"role": string(role)}); err != nil {
			return err
		}
		u, err = m.hydrate(ctx, tx, row)
		return err
	})
	if err != nil {
		m.auditDenied(ctx, "user.role_grant", userID, err)
	}
	return u, err
}

// UserFilter selects members of an institution.
type UserFilter struct {
	InstitutionID string
	// Verified filters by verification state when set.
	Verified *bool
}

// Users lists members of an institution, for its admins (and platform admins).
func (m *Market) Users(ctx context.Context, f UserFilter, p Paging) (Page[User], error) {
	var out Page[User]
	a, err := requireRole(ctx, RoleInstitutionAdmin, RolePlatformAdmin)
	if err != nil {
		return out, err
	}
	if !a.Has(RolePlatformAdmin) && f.InstitutionID != a.InstitutionID {
		return out, Errorf(CodeForbidden, MsgForbidden)
	}
	if p, err = p.normalize(); err != nil {
		return out, err
	}
	if _, err := m.institution(ctx, f.InstitutionID); err != nil {
		return out, err
	}
	q := m.db.WithContext(ctx).Model(&userRow{}).Where("institution_id = ?", f.InstitutionID)
	if f.Verified != nil {
		q = q.Where("verified = ?", *f.Verified)
	}
	if err := q.Count(&out.Total).Error; err != nil {
		return out, Internal(err)
	}
	var rows []userRow
	if err := q.Order("created_at, id").Offset(p.offset()).Limit(p.PerPage).Find(&rows).Error; err != nil {
		return out, Internal(err)
	}
	out.Page, out.PerPage, out.Items = p.Page, p.PerPage, make([]User, 0, len(rows))
	for _, r := range rows {
		u, err := m.hydrate(ctx, m.db.DB, r)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, u)
	}
	return out, nil
}

// ActAs returns a context acting as the user with login. It is for operator tools (the demo
// seed), which act with the operator's authority; requests get their actor from a token.
func (m *Market) ActAs(ctx context.Context, login string) (context.Context, error) {
	l, err := normalizeLogin(login)
	if err != nil {
		return nil, err
	}
	_, row, err := m.loadUser(ctx, m.db.DB, "login = ?", l)
	if err != nil {
		return nil, err
	}
	a, err := m.ActorFor(ctx, row.ID)
	if err != nil {
		return nil, err
	}
	return WithActor(ctx, a), nil
}
