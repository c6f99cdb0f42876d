package market

import (
	"context"
	"errors"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// DemoPassword is the password of every demo account (printed by `ziyuan seed --demo`).
const DemoPassword = "ziyuan2026"

// DemoAccount describes one demo login, for the README and the seed command's output.
type DemoAccount struct {
	Login       string
	Name        string
	Roles       []Role
	Institution string // the demo institution's code
	Verified    bool
	BirthDate   string
	Guardian    string // the guardian's login, for students
	Consent     bool   // the guardian has consented
}

type demoInstitution struct {
	Code, Name string
	Kind       InstitutionKind
	Region     string
	Parent     string
}

var demoInstitutions = []demoInstitution{
	{Code: "1111010800", Name: "北京市海淀区教育委员会", Kind: KindBureau, Region: "110108"},
	{Code: "2111010801", Name: "北京市海淀区实验小学", Kind: KindSchool, Region: "110108", Parent: "1111010800"},
	{Code: "3111010802", Name: "北京市海淀区育才中学", Kind: KindSchool, Region: "110108", Parent: "1111010800"},
	{Code: "9100000001", Name: "国家中小学智慧教育公益资源中心", Kind: KindPublic, Region: "100000"},
	{Code: "9200000001", Name: "学海教育科技有限公司", Kind: KindVendor, Region: "310000"},
}

// DemoAccounts are the accounts `seed --demo` creates.
func DemoAccounts() []DemoAccount {
	return []DemoAccount{
		{Login: "admin", Name: "平台管理员", Roles: []Role{RolePlatformAdmin}, Verified: true},
		{Login: "xiaoxue.admin", Name: "王校长", Roles: []Role{RoleInstitutionAdmin}, Institution: "2111010801", Verified: true},
		{Login: "zhongxue.admin", Name: "赵主任", Roles: []Role{RoleInstitutionAdmin}, Institution: "3111010802", Verified: true},
		{Login: "li.teacher", Name: "李老师", Roles: []Role{RoleTeacher}, Institution: "2111010801", Verified: true},
		{Login: "chen.teacher", Name: "陈老师", Roles: []Role{RoleTeacher}, Institution: "3111010802", Verified: true},
		{Login: "new.teacher", Name: "刘老师", Roles: []Role{RoleTeacher}, Institution: "3111010802", Verified: false},
		{Login: "zhou.reviewer", Name: "周审核", Roles: []Role{RoleReviewer}, Institution: "1111010800", Verified: true},
		{Login: "wu.evaluator", Name: "吴评价", Roles: []Role{RoleEvaluator}, Institution: "1111010800", Verified: true},
		{Login: "xuehai.vendor", Name: "学海教育", Roles: []Role{RoleVendor}, Institution: "9200000001", Verified: true},
		{Login: "gongyi.editor", Name: "公益资源编辑", Roles: []Role{RoleTeacher}, Institution: "9100000001", Verified: true},
		{Login: "zhang.parent", Name: "张家长", Roles: []Role{RoleParent}, Institution: "2111010801", Verified: true},
		{Login: "zhang.xiaoming", Name: "张小明", Roles: []Role{RoleStudent}, Institution: "2111010801", Verified: true,
			BirthDate: "2015-03-12", Guardian: "zhang.parent", Consent: true},
		{Login: "zhang.xiaohong", Name: "张小红", Roles: []Role{RoleStudent}, Institution: "2111010801", Verified: true,
			BirthDate: "2017-09-01", Guardian: "zhang.parent"},
		{Login: "sun.student", Name: "孙同学", Roles: []Role{RoleStudent}, Institution: "3111010802", Verified: true, BirthDate: "2009-05-20"},
	}
}

// SeedDemo creates the demo institutions and accounts that are missing. Running it again
// changes nothing, so `make run` can always call it.
func (m *Market) SeedDemo(ctx context.Context) (created int, err error) {
	err = m.tx(ctx, func(tx *gorm.DB) error {
		now := m.now()
		instID := map[string]string{}
		for _, d := range demoInstitutions {
			var row institutionRow
			err := tx.Where("code = ?", d.Code).Take(&row).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				code := d.Code
				row = institutionRow{ID: NewID(), Name: d.Name, Kind: string(d.Kind), Code: &code, Region: d.Region, CreatedAt: now}
				if d.Parent != "" {
					p := instID[d.Parent]
					row.ParentID = &p
				}
				if err := tx.Create(&row).Error; err != nil {
					return err
				}
				created++
			} else if err != nil {
				return err
			}
			instID[d.Code] = row.ID
		}
		hash := HashPassword(DemoPassword, m.opts.Argon2)
		userID := map[string]string{}
		for _, d := range DemoAccounts() {
			var row userRow
			err := tx.Where("login = ?", d.Login).Take(&row).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				row = userRow{ID: NewID(), Login: d.Login, Name: d.Name, PasswordHash: hash, Verified: d.Verified,
					CreatedAt: now, UpdatedAt: now}
				if d.Verified {
					row.VerifiedAt = &now
				}
				if d.Institution != "" {
					id := instID[d.Institution]
					row.InstitutionID = &id
				}
				if d.BirthDate != "" {
					bd := d.BirthDate
					row.BirthDate = &bd
				}
				if err := m.insertUser(tx, &row, d.Roles, nil); err != nil {
					return err
				}
				created++
			} else if err != nil {
				return err
			}
			userID[d.Login] = row.ID
			if d.Guardian != "" {
				link := guardianRow{StudentID: row.ID, GuardianID: userID[d.Guardian], CreatedAt: now}
				if d.Consent {
					link.ConsentAt = &now
				}
				if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&link).Error; err != nil {
					return err
				}
			}
		}
		if created == 0 {
			return nil
		}
		return m.audit(ctx, tx, "seed.demo", "", OutcomeOK, map[string]int{"created": created})
	})
	return created, err
}
