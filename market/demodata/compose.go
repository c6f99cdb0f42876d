package demodata

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"ziyuan/market"
)

// authors are the names and institutions printed in the files of each demo publisher (see
// market.DemoAccounts and the demo institutions).
var authors = map[string]struct{ name, org string }{
	"li.teacher":    {"李老师", "北京市海淀区实验小学"},
	"chen.teacher":  {"陈老师", "北京市海淀区育才中学"},
	"gongyi.editor": {"公益资源编辑", "国家中小学智慧教育公益资源中心"},
	"xuehai.vendor": {"学海教育", "学海教育科技有限公司"},
}

// Roles of a generated file: what kind of document it is.
const (
	roleLesson    = "lesson"    // 教学设计 (DOCX)
	roleSlides    = "slides"    // 课件 (PPTX)
	roleMicro     = "micro"     // 微课课件 (PPTX)
	roleGuide     = "guide"     // 学案
	rolePaper     = "paper"     // 试卷 (DOCX)
	roleExercise  = "exercise"  // 练习
	roleScript    = "script"    // 微课讲稿
	roleMaterial  = "material"  // 素材说明
	roleWorksheet = "worksheet" // English worksheet (PDF)
)

// roleSuffix names a second file by its role.
var roleSuffix = map[string]string{
	roleLesson: "教学设计", roleSlides: "配套课件", roleMicro: "微课课件", roleGuide: "学案", rolePaper: "试卷",
	roleExercise: "配套练习", roleScript: "讲稿", roleMaterial: "素材说明", roleWorksheet: "Worksheet",
}

// primaryRole is the role of an item's first file, by its type.
var primaryRole = map[string]string{
	"课件": roleSlides, "教案": roleLesson, "学案": roleGuide, "试卷": rolePaper,
	"练习": roleExercise, "微课": roleMicro, "素材": roleMaterial,
}

// roleFor is the role of a file of format ext, given the item's type: the primary role when the
// format suits it, else the companion document that format makes.
func roleFor(typ, ext string, first bool) string {
	r := primaryRole[typ]
	switch ext {
	case "pdf":
		return roleWorksheet
	case "pptx":
		if first && (r == roleSlides || r == roleMicro) {
			return r
		}
		return roleSlides
	case "md":
		switch {
		case typ == "微课":
			return roleScript
		case first && (r == roleExercise || r == roleMaterial || r == roleGuide):
			return r
		}
		return roleExercise
	default: // docx
		if first && r != roleSlides && r != roleMicro {
			return r
		}
		if typ == "微课" {
			return roleScript
		}
		return roleLesson
	}
}

// formats are an item's file formats: one by type, a script for each 微课, an English worksheet
// where the item has an English title, and for some lesson plans and slides the companion
// document. Courses and services have no files.
func (s *spec) formats() []string {
	if s.typ == market.TypeCourse || s.typ == market.TypeService {
		return nil
	}
	var out []string
	switch s.typ {
	case "课件", "微课":
		out = []string{"pptx"}
	case "练习", "素材":
		out = []string{"md"}
	default:
		out = []string{"docx"}
	}
	switch {
	case s.en != "":
		out = append(out, "pdf")
	case s.typ == "微课":
		out = append(out, "md")
	case s.typ == "教案" && hashKey(s.key)%4 == 1:
		out = append(out, "pptx")
	case s.typ == "课件" && hashKey(s.key)%4 == 1:
		out = append(out, "docx")
	}
	return out
}

func (s *spec) buildFiles() []File {
	var files []File
	for i, ext := range s.formats() {
		role := roleFor(s.typ, ext, i == 0)
		name := fileStem(s.title)
		if i > 0 {
			name += "-" + roleSuffix[role]
		}
		name += "." + ext
		files = append(files, File{Name: name, Data: s.render(ext, role)})
	}
	return files
}

// bookTitle puts a title in 书名号 unless it already quotes a work.
func bookTitle(title string) string {
	if strings.Contains(title, "《") {
		return title
	}
	return "《" + title + "》"
}

// fileStem makes a title into a file name that files.SafeName keeps as it is: colons become
// dashes and question marks go (Windows forbids both).
func fileStem(title string) string {
	return strings.TrimSpace(strings.NewReplacer(": ", " - ", ":", "-", "?", "", "/", "-", `"`, "", "*", "", "<", "", ">", "", "|", "-", `\`, "-").Replace(title))
}

// render writes the item's document of one role in one format.
func (s *spec) render(ext, role string) []byte {
	a := authors[s.owner]
	title := s.title
	if role != primaryRole[s.typ] {
		title += "（" + roleSuffix[role] + "）"
	}
	switch ext {
	case "docx":
		return docx(title, a.name, s.sections(role))
	case "pptx":
		return pptx(title, a.name, s.slides(role))
	case "md":
		return markdown(title, s.sections(role))
	case "pdf":
		return pdfDoc(s.en, s.worksheet())
	}
	panic("demodata: unknown format " + ext)
}

// context is the line under every document title: where the item belongs and who wrote it.
func (s *spec) context() string {
	level := s.stage + s.grade
	if first, _ := utf8.DecodeRuneInString(s.grade); strings.HasPrefix(s.stage, string(first)) {
		level = s.grade // 高一, 中职一年级: the grade names the stage
	}
	parts := []string{level, s.subject}
	if s.edition != "" || s.volume != "" {
		parts = append(parts, s.edition+s.volume)
	}
	if s.chapter != "" {
		parts = append(parts, s.chapter)
	}
	a := authors[s.owner]
	return strings.Join(parts, " · ") + "　设计：" + a.name + "（" + a.org + "）"
}

func numbered(items []string, format string) []string { return numberedFrom(items, 1, format) }

// numberedFrom prefixes items with format filled with their numbers, counting from first.
func numberedFrom(items []string, first int, format string) []string {
	out := make([]string, len(items))
	for i, x := range items {
		out[i] = fmt.Sprintf(format, first+i) + x
	}
	return out
}

// minutes is a typical test length for a stage.
func minutes(stage string) int {
	switch stage {
	case "小学":
		return 60
	case "初中":
		return 90
	case "高中":
		return 120
	}
	return 100
}

// sections writes the text of a document role as headed sections, for DOCX and Markdown.
func (s *spec) sections(role string) []section {
	pts, ex, kw := list(s.pts), list(s.ex), list(s.kw)
	head := section{lines: []string{s.context()}}
	switch role {
	case roleLesson:
		return s.lessonPlan(head, pts, ex, kw)
	case roleGuide:
		return []section{head,
			{"【学习目标】", []string{s.summary}},
			{"【预习导学】", []string{"阅读教材相关内容，圈画关键词：" + strings.Join(kw, "、") + "。"}},
			{"【合作探究】", numbered(pts, "探究%d：")},
			{"【达标检测】", numbered(ex, "%d. ")},
			{"【学后反思】", []string{"本节课我最大的收获是：____________；还有疑问的地方是：____________。"}},
		}
	case rolePaper:
		score := 100 / len(ex)
		qs := make([]string, len(ex))
		for i, q := range ex {
			pts := score
			if i == len(ex)-1 {
				pts = 100 - score*(len(ex)-1)
			}
			qs[i] = fmt.Sprintf("%d.（%d分）%s", i+1, pts, q)
		}
		return []section{head,
			{"", []string{fmt.Sprintf("考试时间：%d分钟　满分：100分　姓名：________　班级：________", minutes(s.stage))}},
			{"命题说明", append([]string{s.summary}, numbered(pts, "考点%d：")...)},
			{"试题", qs},
		}
	case roleExercise:
		half := (len(ex) + 1) / 2
		return []section{head,
			{"知识回顾", numbered(pts, "- 要点%d：")},
			{"基础练习", numbered(ex[:half], "%d. ")},
			{"提高练习", numberedFrom(ex[half:], half+1, "%d. ")},
			{"订正记录", []string{"错题题号：______　错因分析：______"}},
		}
	case roleScript:
		lines := []string{"【开场 0:00】同学们好，这节微课我们来学习" + bookTitle(s.title) + "。" + s.summary}
		at := func(sec int) string { return fmt.Sprintf("%d:%02d", sec/60, sec%60) }
		for i, p := range pts {
			lines = append(lines, "【讲解 "+at(40+80*i)+"】"+p)
		}
		lines = append(lines, "【练一练 "+at(40+80*len(pts))+"】"+ex[0])
		lines = append(lines, "【结尾】记住关键词："+strings.Join(kw, "、")+"。我们下次再见。")
		return []section{head, {"微课讲稿", lines}}
	case roleMaterial:
		return []section{head,
			{"素材说明", []string{s.summary}},
			{"素材清单", numbered(pts, "%d. ")},
			{"使用建议", numbered(ex, "- 建议%d：")},
		}
	}
	panic("demodata: no sections for role " + role)
}

// lessonTemplate is how one publisher lays out a lesson plan: every school and company has its
// own template, so lesson plans by different authors do not share their scaffolding.
type lessonTemplate struct {
	goals, keys, process, homework  string
	intro, explore, practise, close string
	pointFmt                        string
}

var lessonTemplates = map[string]lessonTemplate{
	"li.teacher": {"一、教学目标", "二、教学重难点", "三、教学过程", "四、作业布置",
		"【谈话导入】同学们，说说你知道的“%s”，今天我们就从这里学起。", "【学习新知】", "【练习巩固】", "【全课总结】这节课我们认识了：%s。", "%d. "},
	"chen.teacher": {"教学目标", "重点难点", "教学过程", "作业设计",
		"环节一　情境导入：由“%s”引出课题，明确本课任务。", "环节二　探究新知：", "环节三　巩固练习：", "环节四　课堂小结：围绕“%s”梳理本课所学。", "（%d）"},
	"gongyi.editor": {"【教学目标】", "【教学重点与难点】", "【教学过程】", "【课后作业】",
		"（一）创设情境：展示与“%s”有关的材料，提出本课要解决的问题。", "（二）合作探究：", "（三）迁移应用：", "（四）归纳提升：本课关键概念为%s。", "探究点%d："},
	"xuehai.vendor": {"Part 1 学习目标", "Part 2 重难点解析", "Part 3 课堂流程", "Part 4 分层作业",
		"Step 1 导入（3分钟）：从“%s”说起。", "Step 2 精讲：", "Step 3 精练：", "Step 4 总结：%s。", "要点%d　"},
}

// lessonPlan writes a lesson plan in its publisher's template.
func (s *spec) lessonPlan(head section, pts, ex, kw []string) []section {
	tp := lessonTemplates[s.owner]
	steps := []string{fmt.Sprintf(tp.intro, kw[0]), tp.explore}
	steps = append(steps, numbered(pts, tp.pointFmt)...)
	steps = append(steps, tp.practise)
	steps = append(steps, numbered(ex, "%d. ")...)
	steps = append(steps, fmt.Sprintf(tp.close, strings.Join(kw, "、")))
	return []section{head,
		{tp.goals, []string{s.summary}},
		{tp.keys, []string{"重点：" + pts[0], "难点：" + pts[len(pts)-1]}},
		{tp.process, steps},
		{tp.homework, []string{fmt.Sprintf("必做：订正课堂练习第1—%d题。", len(ex)), "选做：" + ex[len(ex)-1]}},
	}
}

// slides writes the slides of a presentation role.
func (s *spec) slides(role string) []pptxSlide {
	pts, ex, kw := list(s.pts), list(s.ex), list(s.kw)
	cover := pptxSlide{s.title, []string{s.context()}}
	out := []pptxSlide{cover, {"学习目标", []string{s.summary}}}
	label := "知识点"
	if role == roleMicro {
		label = "第%d步"
		out[1].title = "这节微课解决什么问题"
	}
	for i, p := range pts {
		t := fmt.Sprintf("%s%d", label, i+1)
		if role == roleMicro {
			t = fmt.Sprintf(label, i+1)
		}
		out = append(out, pptxSlide{t, []string{p}})
	}
	exTitle := "课堂练习"
	if role == roleMicro {
		exTitle = "想一想，练一练"
	}
	out = append(out, pptxSlide{exTitle, numbered(ex, "%d. ")})
	out = append(out, pptxSlide{"课堂小结", []string{"关键词：" + strings.Join(kw, "　")}})
	return out
}

// English labels for the worksheet header.
var (
	stageEN = map[string]string{"小学": "Primary school", "初中": "Junior secondary", "高中": "Senior secondary", "中职": "Secondary vocational", "高职": "Higher vocational", "本科": "Undergraduate"}
	gradeEN = map[string]string{"三年级": "Grade 3", "四年级": "Grade 4", "五年级": "Grade 5", "六年级": "Grade 6", "七年级": "Grade 7",
		"八年级": "Grade 8", "九年级": "Grade 9", "高一": "Grade 10", "高二": "Grade 11", "高三": "Grade 12",
		"中职一年级": "Year 1", "中职二年级": "Year 2", "高职一年级": "Year 1", "高职二年级": "Year 2", "大一": "Year 1", "大二": "Year 2", "大三": "Year 3"}
	editionEN = map[string]string{"人教版": "PEP", "人教PEP版": "PEP", "外研版": "FLTRP", "译林版": "Yilin", "北师大版": "BNU", "沪教版": "SEP"}
)

// worksheet writes the English worksheet of an item with an English title.
func (s *spec) worksheet() []section {
	a := map[string]string{"li.teacher": "Ms Li, Haidian Experimental Primary School", "chen.teacher": "Mr Chen, Yucai Middle School",
		"gongyi.editor": "National Public Education Resource Centre", "xuehai.vendor": "Xuehai Education"}[s.owner]
	level := stageEN[s.stage]
	if g := gradeEN[s.grade]; g != "" {
		level += ", " + g
	}
	if e := editionEN[s.edition]; e != "" {
		level += ", " + e + " edition"
	}
	ex := list(s.ex)
	lines := numbered(ex, "%d. ")
	for i := range lines {
		lines[i] += " ________"
	}
	return []section{
		{"", []string{"Worksheet - " + level + " - " + a, "Name: ________  Class: ____"}},
		{"Language focus", numbered(list(s.pts), "%d) ")},
		{"Practice", lines},
	}
}
