package market

import "time"

// The GORM rows behind market's tables. They stay unexported: callers see the domain types.

type institutionRow struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	Kind      string
	Code      *string
	Region    string
	ParentID  *string
	CreatedAt time.Time
}

func (institutionRow) TableName() string { return "institutions" }

func (r institutionRow) domain() Institution {
	return Institution{ID: r.ID, Name: r.Name, Kind: InstitutionKind(r.Kind), Code: r.Code, Region: r.Region,
		ParentID: r.ParentID, CreatedAt: r.CreatedAt}
}

type userRow struct {
	ID            string `gorm:"primaryKey"`
	Login         string
	Name          string
	PasswordHash  string
	InstitutionID *string
	Verified      bool
	VerifiedAt    *time.Time
	VerifiedBy    *string
	BirthDate     *string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (userRow) TableName() string { return "users" }

type roleRow struct {
	UserID    string `gorm:"primaryKey"`
	Role      string `gorm:"primaryKey"`
	GrantedBy *string
	CreatedAt time.Time
}

func (roleRow) TableName() string { return "user_roles" }

type guardianRow struct {
	StudentID  string `gorm:"primaryKey"`
	GuardianID string `gorm:"primaryKey"`
	ConsentAt  *time.Time
	CreatedAt  time.Time
}

func (guardianRow) TableName() string { return "guardians" }

type loginAttemptRow struct {
	ID    int64 `gorm:"primaryKey"`
	Login string
	IP    string
	OK    bool `gorm:"column:ok"`
	At    time.Time
}

func (loginAttemptRow) TableName() string { return "login_attempts" }
