package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

//go:embed data/taxonomy.json
var defaultTaxonomyJSON []byte

// Field names a classification field of a resource.
type Field string

const (
	FieldStage   Field = "stage"   // 学段
	FieldGrade   Field = "grade"   // 年级
	FieldSubject Field = "subject" // 学科 / 专业大类
	FieldEdition Field = "edition" // 教材版本
	FieldVolume  Field = "volume"  // 册次
	FieldType    Field = "type"    // 资源类型
	FieldLicense Field = "license" // licence
)

// Term is one value of a vocabulary. Value is what documents, filters and URLs carry: the Chinese
// term itself for the curriculum vocabularies, a code for licences (with ZH as its label).
type Term struct {
	Value   string   `json:"value"`
	ZH      string   `json:"zh,omitempty"`
	EN      string   `json:"en,omitempty"`
	Aliases []string `json:"aliases,omitempty"`
	// FreeText marks a value that goes with a free-text note (教材版本 其他).
	FreeText bool `json:"free_text,omitempty"`
	// For resource types: the ministry's review category and LOM / LRMI learningResourceType.
	ReviewCategory string `json:"review_category,omitempty"`
	LOM            string `json:"lom,omitempty"`
	LRMI           string `json:"lrmi,omitempty"`
	// For licences: whether items under it are free of charge.
	Free *bool `json:"free,omitempty"`
}

// Label returns the Chinese label: ZH when set, else Value.
func (t Term) Label() string {
	if t.ZH != "" {
		return t.ZH
	}
	return t.Value
}

// Stage is a 学段 with its grades and the subjects taught in it.
type Stage struct {
	Term
	// K12 stages require a grade.
	K12          bool   `json:"k12,omitempty"`
	SubjectGroup string `json:"subject_group"`
	Grades       []Term `json:"grades"`
	Subjects     []Term `json:"subjects"`
}

// Taxonomy is the classification vocabulary of the catalog. It is immutable once loaded and
// safe for concurrent use. The default is embedded; LoadTaxonomy merges a province's additions.
type Taxonomy struct {
	version          string
	gradeSystem      string
	stages           []Stage
	editions         []Term
	volumes          []Term
	types            []Term
	licenses         []Term
	reviewCategories []string
}

type rawTerm struct {
	Term
	K12      *bool     `json:"k12,omitempty"`
	Subjects string    `json:"subjects,omitempty"` // stage → subject group
	Grades   []rawTerm `json:"grades,omitempty"`
}

type rawGroup struct {
	Note     string    `json:"note,omitempty"`
	Subjects []rawTerm `json:"subjects"`
}

type rawTaxonomy struct {
	Version          string                         `json:"version"`
	GradeSystem      string                         `json:"grade_system"`
	GradeSystems     map[string]map[string][]string `json:"grade_systems"`
	GradeLabels      map[string]string              `json:"grade_labels"`
	Stages           []rawTerm                      `json:"stages"`
	SubjectGroups    map[string]rawGroup            `json:"subject_groups"`
	Editions         []rawTerm                      `json:"editions"`
	Volumes          []rawTerm                      `json:"volumes"`
	Types            []rawTerm                      `json:"types"`
	Licenses         []rawTerm                      `json:"licenses"`
	ReviewCategories []string                       `json:"review_categories"`
}

// DefaultTaxonomy returns the embedded taxonomy (六三制 grades).
func DefaultTaxonomy() *Taxonomy {
	t, err := LoadTaxonomy(nil)
	if err != nil {
		panic("catalog: embedded taxonomy: " + err.Error())
	}
	return t
}

// LoadTaxonomyFile is LoadTaxonomy with the override read from path.
func LoadTaxonomyFile(path string) (*Taxonomy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := LoadTaxonomy(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// LoadTaxonomy returns the embedded taxonomy merged with override (nil for none). The override
// has the shape of data/taxonomy.json with every part optional. Values are added, never removed:
// new stages, grades, subjects, editions, volumes, types and licences are appended, a known value
// gets the labels and aliases the override gives. "grade_system" switches the grade lists of
// 小学 and 初中 (e.g. to "五四制"); "grade_systems" defines or replaces systems.
func LoadTaxonomy(override io.Reader) (*Taxonomy, error) {
	var base rawTaxonomy
	if err := decodeStrict(bytes.NewReader(defaultTaxonomyJSON), &base); err != nil {
		return nil, err
	}
	if override != nil {
		var o rawTaxonomy
		if err := decodeStrict(override, &o); err != nil {
			return nil, fmt.Errorf("taxonomy override: %w", err)
		}
		base.merge(o)
	}
	return base.build()
}

func decodeStrict(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON object")
	}
	return nil
}

func (b *rawTaxonomy) merge(o rawTaxonomy) {
	if o.Version != "" {
		b.Version = b.Version + "+" + o.Version
	}
	if o.GradeSystem != "" {
		b.GradeSystem = o.GradeSystem
	}
	for name, sys := range o.GradeSystems {
		if b.GradeSystems == nil {
			b.GradeSystems = map[string]map[string][]string{}
		}
		b.GradeSystems[name] = sys
	}
	for k, v := range o.GradeLabels {
		if b.GradeLabels == nil {
			b.GradeLabels = map[string]string{}
		}
		b.GradeLabels[k] = v
	}
	b.Stages = mergeTerms(b.Stages, o.Stages)
	for name, g := range o.SubjectGroups {
		if b.SubjectGroups == nil {
			b.SubjectGroups = map[string]rawGroup{}
		}
		cur := b.SubjectGroups[name]
		cur.Subjects = mergeTerms(cur.Subjects, g.Subjects)
		if g.Note != "" {
			cur.Note = g.Note
		}
		b.SubjectGroups[name] = cur
	}
	b.Editions = mergeTerms(b.Editions, o.Editions)
	b.Volumes = mergeTerms(b.Volumes, o.Volumes)
	b.Types = mergeTerms(b.Types, o.Types)
	b.Licenses = mergeTerms(b.Licenses, o.Licenses)
	for _, c := range o.ReviewCategories {
		if !slices.Contains(b.ReviewCategories, c) {
			b.ReviewCategories = append(b.ReviewCategories, c)
		}
	}
}

func mergeTerms(base, add []rawTerm) []rawTerm {
	for _, a := range add {
		i := slices.IndexFunc(base, func(t rawTerm) bool { return t.Value == a.Value })
		if i < 0 {
			base = append(base, a)
			continue
		}
		t := &base[i]
		if a.EN != "" {
			t.EN = a.EN
		}
		if a.ZH != "" {
			t.ZH = a.ZH
		}
		for _, al := range a.Aliases {
			if !slices.Contains(t.Aliases, al) {
				t.Aliases = append(t.Aliases, al)
			}
		}
		if a.Subjects != "" {
			t.Subjects = a.Subjects
		}
		if a.K12 != nil {
			t.K12 = a.K12
		}
		if a.Free != nil {
			t.Free = a.Free
		}
		t.Grades = mergeTerms(t.Grades, a.Grades)
	}
	return base
}

func (b *rawTaxonomy) build() (*Taxonomy, error) {
	t := &Taxonomy{version: b.Version, gradeSystem: b.GradeSystem, reviewCategories: slices.Clone(b.ReviewCategories)}
	sys, ok := b.GradeSystems[b.GradeSystem]
	if !ok {
		return nil, fmt.Errorf("grade_system %q is not defined in grade_systems", b.GradeSystem)
	}
	seen := map[string]bool{}
	for _, rs := range b.Stages {
		if rs.Value == "" {
			return nil, fmt.Errorf("a stage has no value")
		}
		if seen[rs.Value] {
			return nil, fmt.Errorf("stage %q appears twice", rs.Value)
		}
		seen[rs.Value] = true
		s := Stage{Term: rs.Term, SubjectGroup: rs.Subjects, K12: rs.K12 != nil && *rs.K12}
		grades := rs.Grades
		if names, ok := sys[rs.Value]; ok {
			// the grade system decides the grades of this stage; grades the stage lists itself
			// (a province's additions) are kept after them
			var gs []rawTerm
			for _, n := range names {
				gs = append(gs, rawTerm{Term: Term{Value: n}})
			}
			grades = mergeTerms(gs, rs.Grades)
		}
		for _, g := range grades {
			term := g.Term
			if term.EN == "" {
				term.EN = b.GradeLabels[term.Value]
			}
			s.Grades = append(s.Grades, term)
		}
		g, ok := b.SubjectGroups[rs.Subjects]
		if !ok {
			return nil, fmt.Errorf("stage %q names subject group %q, which is not defined", rs.Value, rs.Subjects)
		}
		for _, sub := range g.Subjects {
			s.Subjects = append(s.Subjects, sub.Term)
		}
		t.stages = append(t.stages, s)
	}
	var err error
	for _, l := range []struct {
		name string
		in   []rawTerm
		out  *[]Term
	}{
		{"editions", b.Editions, &t.editions},
		{"volumes", b.Volumes, &t.volumes},
		{"types", b.Types, &t.types},
		{"licenses", b.Licenses, &t.licenses},
	} {
		names := map[string]bool{}
		for _, r := range l.in {
			if r.Value == "" || names[r.Value] {
				err = fmt.Errorf("%s: empty or repeated value %q", l.name, r.Value)
			}
			names[r.Value] = true
			*l.out = append(*l.out, r.Term)
		}
	}
	return t, err
}

// Version identifies the vocabulary (default version plus overrides).
func (t *Taxonomy) Version() string { return t.version }

// GradeSystem is the active grade system, e.g. 六三制 or 五四制.
func (t *Taxonomy) GradeSystem() string { return t.gradeSystem }

// Stages returns the stages with their grades and subjects.
func (t *Taxonomy) Stages() []Stage {
	out := make([]Stage, len(t.stages))
	for i, s := range t.stages {
		s.Grades = slices.Clone(s.Grades)
		s.Subjects = slices.Clone(s.Subjects)
		out[i] = s
	}
	return out
}

// Stage returns the stage named value (or one of its aliases).
func (t *Taxonomy) Stage(value string) (Stage, bool) {
	for _, s := range t.Stages() {
		if s.Value == value || slices.Contains(s.Aliases, value) {
			return s, true
		}
	}
	return Stage{}, false
}

// Terms returns the vocabulary of a field. Grades and subjects are the union over all stages,
// in stage order.
func (t *Taxonomy) Terms(f Field) []Term {
	switch f {
	case FieldStage:
		out := make([]Term, len(t.stages))
		for i, s := range t.stages {
			out[i] = s.Term
		}
		return out
	case FieldGrade, FieldSubject:
		var out []Term
		seen := map[string]bool{}
		for _, s := range t.stages {
			list := s.Grades
			if f == FieldSubject {
				list = s.Subjects
			}
			for _, x := range list {
				if !seen[x.Value] {
					seen[x.Value] = true
					out = append(out, x)
				}
			}
		}
		return out
	case FieldEdition:
		return slices.Clone(t.editions)
	case FieldVolume:
		return slices.Clone(t.volumes)
	case FieldType:
		return slices.Clone(t.types)
	case FieldLicense:
		return slices.Clone(t.licenses)
	}
	return nil
}

// Values returns the canonical values of a field.
func (t *Taxonomy) Values(f Field) []string {
	terms := t.Terms(f)
	out := make([]string, len(terms))
	for i, x := range terms {
		out[i] = x.Value
	}
	return out
}

// Canonical maps a value or one of its aliases (生物 → 生物学) to the canonical value.
func (t *Taxonomy) Canonical(f Field, value string) (string, bool) {
	for _, x := range t.Terms(f) {
		if x.Value == value {
			return x.Value, true
		}
	}
	for _, x := range t.Terms(f) {
		if slices.Contains(x.Aliases, value) {
			return x.Value, true
		}
	}
	return "", false
}

// Lookup returns the term of a canonical value.
func (t *Taxonomy) Lookup(f Field, value string) (Term, bool) {
	for _, x := range t.Terms(f) {
		if x.Value == value {
			return x, true
		}
	}
	return Term{}, false
}

// LicenseFree reports whether items under the licence are free of charge (false for unknown
// licences).
func (t *Taxonomy) LicenseFree(code string) bool {
	x, ok := t.Lookup(FieldLicense, code)
	return ok && x.Free != nil && *x.Free
}

// Classification is what Validate checks: a resource's place in the taxonomy.
type Classification struct {
	Stage, Grade, Subject, Edition, Volume, Type, License string
}

// Classification returns the document's classification.
func (d Document) Classification() Classification {
	return Classification{Stage: d.Stage, Grade: d.Grade, Subject: d.Subject, Edition: d.Edition,
		Volume: d.Volume, Type: d.Type, License: d.License}
}

// Validate checks a classification against the taxonomy and returns a ValidationError naming
// every wrong field with its allowed values. Stage, subject, type and licence are required, a
// grade is required in K-12 stages, edition and volume are optional. Values must be canonical
// (an alias is refused with the canonical value as the only allowed one).
func (t *Taxonomy) Validate(c Classification) error {
	var e errs
	t.check(&e, FieldStage, c.Stage, t.Values(FieldStage), true)
	stage, stageOK := t.Stage(c.Stage)
	if stageOK && stage.Value == c.Stage {
		grades := termValues(stage.Grades)
		t.checkIn(&e, FieldGrade, c.Grade, grades, stage.K12, "not a grade of "+stage.Value, stage.Grades)
		t.checkIn(&e, FieldSubject, c.Subject, termValues(stage.Subjects), true, "not a subject of "+stage.Value, stage.Subjects)
	} else {
		t.check(&e, FieldGrade, c.Grade, t.Values(FieldGrade), false)
		t.check(&e, FieldSubject, c.Subject, t.Values(FieldSubject), true)
	}
	t.check(&e, FieldEdition, c.Edition, t.Values(FieldEdition), false)
	t.check(&e, FieldVolume, c.Volume, t.Values(FieldVolume), false)
	t.check(&e, FieldType, c.Type, t.Values(FieldType), true)
	t.check(&e, FieldLicense, c.License, t.Values(FieldLicense), true)
	return e.err()
}

// Check validates one value of a field on its own (a grade is checked against every stage).
func (t *Taxonomy) Check(f Field, value string) error {
	var e errs
	t.check(&e, f, value, t.Values(f), true)
	return e.err()
}

func (t *Taxonomy) check(e *errs, f Field, value string, allowed []string, required bool) {
	t.checkIn(e, f, value, allowed, required, "unknown "+string(f), t.Terms(f))
}

func (t *Taxonomy) checkIn(e *errs, f Field, value string, allowed []string, required bool, reason string, terms []Term) {
	if value == "" {
		if required {
			e.add(string(f), "", "required", allowed...)
		}
		return
	}
	if slices.Contains(allowed, value) {
		return
	}
	for _, x := range terms {
		if slices.Contains(x.Aliases, value) {
			e.add(string(f), value, "use the canonical value", x.Value)
			return
		}
	}
	e.add(string(f), value, reason, allowed...)
}

func termValues(ts []Term) []string {
	out := make([]string, len(ts))
	for i, x := range ts {
		out[i] = x.Value
	}
	return out
}

// MarshalJSON renders the taxonomy for GET /api/v1/taxonomy.
func (t *Taxonomy) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Version          string   `json:"version"`
		GradeSystem      string   `json:"grade_system"`
		Stages           []Stage  `json:"stages"`
		Editions         []Term   `json:"editions"`
		Volumes          []Term   `json:"volumes"`
		Types            []Term   `json:"types"`
		Licenses         []Term   `json:"licenses"`
		ReviewCategories []string `json:"review_categories"`
	}{t.version, t.gradeSystem, t.Stages(), t.editions, t.volumes, t.types, t.licenses, t.reviewCategories})
}

// Labels returns the Chinese words a document's classification is known by, for engines that
// make them searchable (a search for 七年级上册数学试卷 should match on classification too).
func (t *Taxonomy) Labels(d Document) []string {
	var out []string
	add := func(f Field, v string) {
		if v == "" {
			return
		}
		if x, ok := t.Lookup(f, v); ok {
			out = append(out, x.Label())
			out = append(out, x.Aliases...)
			return
		}
		out = append(out, v)
	}
	add(FieldStage, d.Stage)
	add(FieldGrade, d.Grade)
	add(FieldSubject, d.Subject)
	add(FieldEdition, d.Edition)
	add(FieldVolume, d.Volume)
	add(FieldType, d.Type)
	return slices.DeleteFunc(out, func(s string) bool { return strings.TrimSpace(s) == "" })
}
