package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"ziyuan/market"
)

// chinaTime is the zone every page shows times in; China keeps one zone and no daylight time.
var chinaTime = time.FixedZone("CST", 8*60*60)

// uiText holds the page texts: Chinese first, English second.
var uiText = map[string][2]string{
	"app.name":     {"资源", "Ziyuan"},
	"app.tagline":  {"网络学习空间的资源市场与知识产权登记簿", "The resource marketplace and IP-rights ledger of online learning spaces"},
	"nav.label":    {"主导航", "Main navigation"},
	"nav.skip":     {"跳到正文", "Skip to content"},
	"nav.home":     {"首页", "Home"},
	"nav.space":    {"我的空间", "My space"},
	"nav.inst":     {"机构管理", "Institution"},
	"nav.audit":    {"审计日志", "Audit log"},
	"nav.login":    {"登录", "Sign in"},
	"nav.logout":   {"退出", "Sign out"},
	"nav.register": {"注册", "Register"},
	"nav.lang":     {"语言", "Language"},
	"footer.text":  {"资源 Ziyuan · 公益资源免费共享，原创作品受保护", "Ziyuan · public-welfare resources free to all, original work protected"},

	"home.title":     {"欢迎使用资源平台", "Welcome to Ziyuan"},
	"home.lead":      {"教师与机构在这里发布教学资源；公益资源免费共享，原创作品登记在防篡改的知识产权账本中，贡献可用于职称评定、评优和绩效考核。", "Teachers and institutions publish teaching resources here; public-welfare items are free to all, original work is registered in a tamper-evident rights ledger, and contributions count in promotion, awards and performance review."},
	"home.who":       {"面向教师、学生、家长、服务商、审核员、评价员和管理员。", "For teachers, students, parents, vendors, reviewers, evaluators and administrators."},
	"home.start":     {"登录后进入我的空间", "Sign in to open your space"},
	"home.registerq": {"还没有账号？", "No account yet?"},

	"login.title":      {"登录", "Sign in"},
	"login.login":      {"账号", "Login"},
	"login.password":   {"密码", "Password"},
	"login.submit":     {"登录", "Sign in"},
	"login.registered": {"注册成功。账号需经所在机构实名认证后才能发布、购买或审核资源；现在可以登录。", "Registered. Your institution must verify your real name before you can publish, buy or review; you can sign in now."},
	"login.hint":       {"演示账号见 README。", "Demo accounts are listed in the README."},

	"register.title":       {"注册账号", "Create an account"},
	"register.name":        {"姓名（显示名）", "Name (display name)"},
	"register.role":        {"身份", "Role"},
	"register.institution": {"所在机构（可选）", "Institution (optional)"},
	"register.none":        {"暂不选择", "None for now"},
	"register.birth":       {"出生日期（学生填写）", "Birth date (students)"},
	"register.password":    {"密码（至少 8 位，含字母和数字）", "Password (8+ characters with letters and digits)"},
	"register.submit":      {"注册", "Register"},
	"register.note":        {"后台实名、前台自愿：显示名可以自由填写，实名由所在机构认证。", "Real name behind, free name in front: your display name is yours to choose; your institution verifies your real name."},

	"space.title":        {"我的空间", "My space"},
	"space.profile":      {"个人信息", "Profile"},
	"space.name":         {"姓名", "Name"},
	"space.login":        {"账号", "Login"},
	"space.roles":        {"角色", "Roles"},
	"space.institution":  {"所在机构", "Institution"},
	"space.none":         {"无", "None"},
	"space.verification": {"实名认证", "Real-name verification"},
	"space.verified":     {"已认证（%s）", "Verified (%s)"},
	"space.unverified":   {"待认证：请联系所在机构管理员。认证前只能浏览和搜索。", "Pending: ask your institution's administrator. Until then you can browse and search only."},
	"space.consent":      {"你未满 14 周岁，需要监护人在其账号中确认同意后，才能使用账号以外的功能。", "You are under 14: a guardian must consent from their own account before you can use anything beyond the account itself."},
	"space.member_since": {"注册时间", "Member since"},
	"space.wards":        {"我监护的学生", "Students in my care"},
	"space.ward_ok":      {"已同意（%s）", "Consented (%s)"},
	"space.ward_give":    {"同意处理其个人信息", "Consent to processing their data"},
	"space.ward_none":    {"暂无关联的学生。学校导入名单时会填写监护人账号。", "No linked students yet. Schools link guardians when they import their roster."},
	"space.consent_done": {"已记录您的同意。", "Your consent has been recorded."},

	"inst.title":         {"机构管理", "Institution administration"},
	"inst.roster":        {"导入实名名单", "Import a real-name roster"},
	"inst.roster_help":   {"CSV 文件，首行为表头：login,name,role,password，可选 guardian_login、birth_date（也可用中文表头：账号,姓名,角色,密码,监护人账号,出生日期）。支持 Excel 导出的 UTF-8、带 BOM 的 UTF-8 和 GBK/GB18030 编码。已存在的账号会被跳过，可重复导入。", "A CSV file whose first line is the header login,name,role,password with optional guardian_login and birth_date (Chinese headers work too). UTF-8, UTF-8 with BOM and GBK/GB18030 as Excel writes them are accepted. Existing logins are skipped, so re-importing is safe."},
	"inst.roster_file":   {"名单文件", "Roster file"},
	"inst.roster_submit": {"导入", "Import"},
	"inst.result":        {"导入结果：新建 %d 个，跳过 %d 个（已存在），%d 行有错误。", "Result: %d created, %d skipped (already present), %d lines with errors."},
	"inst.line":          {"行号", "Line"},
	"inst.problem":       {"问题", "Problem"},
	"inst.pending":       {"待实名认证的用户", "Users awaiting verification"},
	"inst.pending_none":  {"没有待认证的用户。", "Nobody is waiting for verification."},
	"inst.verify":        {"认证", "Verify"},
	"inst.verified_done": {"已完成认证：%s", "Verified: %s"},
	"inst.registered":    {"注册时间", "Registered"},
	"inst.choose":        {"选择要管理的机构", "Choose an institution to administer"},
	"inst.kind":          {"类型", "Kind"},
	"inst.code":          {"学校标识码", "Institution code"},
	"inst.none":          {"还没有机构。", "No institutions yet."},
	"kind.school":        {"学校", "School"},
	"kind.bureau":        {"教育行政部门", "Education bureau"},
	"kind.university":    {"高校", "University"},
	"kind.vocational":    {"职业院校", "Vocational school"},
	"kind.vendor":        {"服务商", "Vendor"},
	"kind.public":        {"公益机构", "Public-welfare provider"},
	"inst.no_inst":       {"您的账号未关联机构。", "Your account is not linked to an institution."},

	"audit.title":   {"审计日志", "Audit log"},
	"audit.time":    {"时间", "Time"},
	"audit.actor":   {"操作者", "Actor"},
	"audit.action":  {"操作", "Action"},
	"audit.target":  {"对象", "Target"},
	"audit.outcome": {"结果", "Outcome"},
	"audit.ip":      {"IP", "IP"},
	"audit.filter":  {"筛选", "Filter"},
	"audit.from":    {"起始日期", "From"},
	"audit.to":      {"截止日期", "To"},
	"audit.empty":   {"没有符合条件的记录。", "No entries match."},
	"audit.total":   {"共 %s 条", "%s entries"},

	"page.prev":     {"上一页", "Previous"},
	"page.next":     {"下一页", "Next"},
	"page.of":       {"第 %d 页，共 %d 页", "Page %d of %d"},
	"error.title":   {"出错了", "Something went wrong"},
	"error.request": {"请求编号：%s", "Request ID: %s"},
	"error.home":    {"返回首页", "Back to the home page"},

	"role.student":           {"学生", "Student"},
	"role.teacher":           {"教师", "Teacher"},
	"role.parent":            {"家长", "Parent"},
	"role.vendor":            {"服务商", "Vendor"},
	"role.reviewer":          {"审核员", "Reviewer"},
	"role.evaluator":         {"评价员", "Evaluator"},
	"role.institution_admin": {"机构管理员", "Institution admin"},
	"role.platform_admin":    {"平台管理员", "Platform admin"},
}

// loc renders texts, dates and numbers for one language.
type loc struct{ lang string }

// T returns the text for key, formatted with args.
func (l loc) T(key string, args ...any) string {
	t, ok := uiText[key]
	if !ok {
		return key
	}
	s := t[0]
	if l.lang == "en" {
		s = t[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Role names a role.
func (l loc) Role(r market.Role) string { return l.T("role." + string(r)) }

// Kind names an institution kind.
func (l loc) Kind(k market.InstitutionKind) string { return l.T("kind." + string(k)) }

// Msg renders a domain message.
func (l loc) Msg(m market.Message) string { return m.Text(l.lang) }

// Date formats a time as Chinese readers expect (2026年11月26日 08:30), in China time.
func (l loc) Date(t time.Time) string {
	t = t.In(chinaTime)
	if l.lang == "en" {
		return t.Format("2 Jan 2006 15:04")
	}
	return t.Format("2006年1月2日 15:04")
}

// Day formats a date without the time.
func (l loc) Day(t time.Time) string {
	t = t.In(chinaTime)
	if l.lang == "en" {
		return t.Format("2 Jan 2006")
	}
	return t.Format("2006年1月2日")
}

// Num groups digits by thousands (12,345), as both languages' readers of this site expect.
func (l loc) Num(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Yuan formats an amount in fen as ¥1,234.50.
func (l loc) Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s¥%s.%02d", sign, l.Num(fen/100), fen%100)
}
