package market

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"gorm.io/gorm"
)

var institutionCodePattern = regexp.MustCompile(`^[0-9]{10}$`)

// NewInstitution is the body of an institution creation.
type NewInstitution struct {
	Name     string          `json:"name"`
	Kind     InstitutionKind `json:"kind"`
	Code     string          `json:"code,omitempty"`
	Region   string          `json:"region,omitempty"`
	ParentID string          `json:"parent_id,omitempty"`
}

// CreateInstitution registers an institution. Platform admins only.
func (m *Market) CreateInstitution(ctx context.Context, n NewInstitution) (Institution, error) {
	if _, err := requireRole(ctx, RolePlatformAdmin); err != nil {
		m.auditDenied(ctx, "institution.create", "", err)
		return Institution{}, err
	}
	name, err := checkName("name", n.Name, 128)
	if err != nil {
		return Institution{}, err
	}
	if n.Kind == "" {
		return Institution{}, Errorf(CodeInvalid, MsgFieldRequired, "kind")
	}
	if !oneOf(n.Kind, InstitutionKinds) {
		return Institution{}, Errorf(CodeInvalid, MsgFieldOneOf, "kind", string(n.Kind), joinValues(InstitutionKinds))
	}
	row := institutionRow{ID: NewID(), Name: name, Kind: string(n.Kind), CreatedAt: m.now()}
	if code := strings.TrimSpace(n.Code); code != "" {
		if !institutionCodePattern.MatchString(code) {
			return Institution{}, Errorf(CodeInvalid, MsgInstitutionCode)
		}
		row.Code = &code
	}
	if n.Region != "" {
		if row.Region, err = checkName("region", n.Region, 64); err != nil {
			return Institution{}, err
		}
	}
	if n.ParentID != "" {
		if _, err := m.institution(ctx, n.ParentID); err != nil {
			return Institution{}, err
		}
		row.ParentID = &n.ParentID
	}
	err = m.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return Errorf(CodeConflict, MsgCodeTaken, *row.Code)
			}
			return err
		}
		return m.audit(ctx, tx, "institution.create", row.ID, OutcomeOK, map[string]string{"name": row.Name, "kind": row.Kind})
	})
	return row.domain(), err
}

// Institution returns one institution; institutions are public.
func (m *Market) Institution(ctx context.Context, id string) (Institution, error) {
	return m.institution(ctx, id)
}

func (m *Market) institution(ctx context.Context, id string) (Institution, error) {
	if !ValidID(id) {
		return Institution{}, Errorf(CodeNotFound, MsgInstitutionMissing)
	}
	var row institutionRow
	err := m.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Institution{}, Errorf(CodeNotFound, MsgInstitutionMissing)
	}
	if err != nil {
		return Institution{}, Internal(err)
	}
	return row.domain(), nil
}

// Institutions lists institutions by name; anyone may list them (registration picks one).
func (m *Market) Institutions(ctx context.Context, p Paging) (Page[Institution], error) {
	var out Page[Institution]
	p, err := p.normalize()
	if err != nil {
		return out, err
	}
	q := m.db.WithContext(ctx).Model(&institutionRow{})
	if err := q.Count(&out.Total).Error; err != nil {
		return out, Internal(err)
	}
	var rows []institutionRow
	if err := q.Order("name, id").Offset(p.offset()).Limit(p.PerPage).Find(&rows).Error; err != nil {
		return out, Internal(err)
	}
	out.Page, out.PerPage, out.Items = p.Page, p.PerPage, make([]Institution, len(rows))
	for i, r := range rows {
		out.Items[i] = r.domain()
	}
	return out, nil
}
