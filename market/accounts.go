package market

import (
	"strings"
	"time"
)

// Role is what a user may do. A user holds one or more.
type Role string

const (
	RoleStudent          Role = "student"
	RoleTeacher          Role = "teacher"
	RoleParent           Role = "parent"
	RoleVendor           Role = "vendor"
	RoleReviewer         Role = "reviewer"
	RoleEvaluator        Role = "evaluator"
	RoleInstitutionAdmin Role = "institution_admin"
	RolePlatformAdmin    Role = "platform_admin"
)

// Roles lists every role in display order.
var Roles = []Role{RoleStudent, RoleTeacher, RoleParent, RoleVendor, RoleReviewer, RoleEvaluator,
	RoleInstitutionAdmin, RolePlatformAdmin}

// SelfServiceRoles are the roles anyone may pick at registration.
var SelfServiceRoles = []Role{RoleTeacher, RoleStudent, RoleParent, RoleVendor}

// RosterRoles are the roles a roster may assign.
var RosterRoles = []Role{RoleStudent, RoleTeacher, RoleParent, RoleReviewer, RoleEvaluator}

// InstitutionKind classifies institutions; it decides, for example, who may publish public-welfare items.
type InstitutionKind string

const (
	KindSchool     InstitutionKind = "school"
	KindBureau     InstitutionKind = "bureau"
	KindUniversity InstitutionKind = "university"
	KindVocational InstitutionKind = "vocational"
	KindVendor     InstitutionKind = "vendor"
	KindPublic     InstitutionKind = "public"
)

// InstitutionKinds lists every kind.
var InstitutionKinds = []InstitutionKind{KindSchool, KindBureau, KindUniversity, KindVocational, KindVendor, KindPublic}

// Institution is a school, education bureau, university, vendor or public-welfare provider.
type Institution struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Kind      InstitutionKind `json:"kind"`
	Code      *string         `json:"code,omitempty"`
	Region    string          `json:"region,omitempty"`
	ParentID  *string         `json:"parent_id,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

// User is a real-name account. Name is the display name; the real-name check is Verified.
type User struct {
	ID            string     `json:"id"`
	Login         string     `json:"login"`
	Name          string     `json:"name"`
	Roles         []Role     `json:"roles"`
	InstitutionID *string    `json:"institution_id"`
	Verified      bool       `json:"verified"`
	VerifiedAt    *time.Time `json:"verified_at,omitempty"`
	// BirthDate (YYYY-MM-DD) is only known for students imported with one.
	BirthDate *string `json:"birth_date,omitempty"`
	// ConsentNeeded is true while a student under 14 lacks a guardian's recorded consent.
	ConsentNeeded bool      `json:"consent_needed"`
	CreatedAt     time.Time `json:"created_at"`
}

// Has reports whether u holds role r.
func (u User) Has(r Role) bool {
	for _, x := range u.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Guardianship links a parent to a student and records consent.
type Guardianship struct {
	StudentID  string     `json:"student_id"`
	GuardianID string     `json:"guardian_id"`
	ConsentAt  *time.Time `json:"consent_at,omitempty"`
}

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	ActorID    string    `json:"actor_id"`
	ActorLogin string    `json:"actor_login"`
	Action     string    `json:"action"`
	Target     string    `json:"target"`
	Outcome    string    `json:"outcome"`
	IP         string    `json:"ip"`
	RequestID  string    `json:"request_id"`
	Detail     string    `json:"detail,omitempty"`
}

func oneOf[T ~string](v T, allowed []T) bool {
	for _, a := range allowed {
		if a == v {
			return true
		}
	}
	return false
}

func joinValues[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
