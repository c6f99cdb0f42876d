package market

import (
	"fmt"
	"strings"
)

// MsgKey names a user-facing message. The texts live here, beside the rules that produce them,
// in Chinese (the default) and English.
type MsgKey string

// Message is a catalogued message with its arguments, rendered late in the reader's language.
type Message struct {
	Key  MsgKey
	Args []any
}

// Text renders m in lang ("zh" or "en"; anything else falls back to Chinese).
func (m Message) Text(lang string) string {
	t, ok := messages[m.Key]
	if !ok {
		return string(m.Key)
	}
	if strings.HasPrefix(lang, "en") {
		if len(m.Args) == 0 {
			return t.en
		}
		return fmt.Sprintf(t.en, m.Args...)
	}
	if len(m.Args) == 0 {
		return t.zh
	}
	args := make([]any, len(m.Args))
	for i, a := range m.Args {
		args[i] = a
		if s, ok := a.(string); ok {
			if zh, ok := nounsZH[s]; ok {
				args[i] = zh
			}
		}
	}
	return fmt.Sprintf(t.zh, args...)
}

// nounsZH names in Chinese the things messages are about ("未找到%s。"), which the code
// passes as English nouns.
var nounsZH = map[string]string{
	"resource": "资源", "file": "文件", "user": "用户", "order": "订单", "student": "学生",
	"teacher": "教师", "record": "记录", "complaint": "投诉", "payment provider": "在线支付服务",
}

// English renders m in English, for logs and Error().
func (m Message) English() string { return m.Text("en") }

const (
	MsgInternal            MsgKey = "internal"
	MsgUnavailable         MsgKey = "unavailable"
	MsgNotFound            MsgKey = "not_found"
	MsgRouteNotFound       MsgKey = "route_not_found"
	MsgMethodNotAllowed    MsgKey = "method_not_allowed"
	MsgSignInRequired      MsgKey = "sign_in_required"
	MsgTokenInvalid        MsgKey = "token_invalid"
	MsgCSRF                MsgKey = "csrf"
	MsgForbidden           MsgKey = "forbidden"
	MsgVerifiedOnly        MsgKey = "verified_only"
	MsgConsentRequired     MsgKey = "consent_required"
	MsgBadJSON             MsgKey = "bad_json"
	MsgUnknownField        MsgKey = "unknown_field"
	MsgWrongType           MsgKey = "wrong_type"
	MsgTrailingData        MsgKey = "trailing_data"
	MsgBodyTooLarge        MsgKey = "body_too_large"
	MsgContentType         MsgKey = "content_type"
	MsgFieldRequired       MsgKey = "field_required"
	MsgFieldTooLong        MsgKey = "field_too_long"
	MsgFieldOneOf          MsgKey = "field_one_of"
	MsgFieldFormat         MsgKey = "field_format"
	MsgLoginFailed         MsgKey = "login_failed"
	MsgLoginLocked         MsgKey = "login_locked"
	MsgPasswordWeak        MsgKey = "password_weak"
	MsgPasswordTooLong     MsgKey = "password_too_long"
	MsgLoginTaken          MsgKey = "login_taken"
	MsgLoginFormat         MsgKey = "login_format"
	MsgInstitutionCode     MsgKey = "institution_code"
	MsgInstitutionMissing  MsgKey = "institution_missing"
	MsgCodeTaken           MsgKey = "code_taken"
	MsgRoleNotAllowed      MsgKey = "role_not_allowed"
	MsgAlreadyVerified     MsgKey = "already_verified"
	MsgNoInstitution       MsgKey = "no_institution"
	MsgRosterEmpty         MsgKey = "roster_empty"
	MsgRosterHeader        MsgKey = "roster_header"
	MsgRosterTooManyRows   MsgKey = "roster_too_many_rows"
	MsgRosterNotText       MsgKey = "roster_not_text"
	MsgRosterColumns       MsgKey = "roster_columns"
	MsgRosterCSV           MsgKey = "roster_csv"
	MsgRosterDuplicate     MsgKey = "roster_duplicate"
	MsgRosterGuardian      MsgKey = "roster_guardian"
	MsgRosterBirthDate     MsgKey = "roster_birth_date"
	MsgRosterOtherInst     MsgKey = "roster_other_institution"
	MsgGuardianNotLinked   MsgKey = "guardian_not_linked"
	MsgNotAStudent         MsgKey = "not_a_student"
	MsgConsentAlready      MsgKey = "consent_already"
	MsgBirthDateFuture     MsgKey = "birth_date_future"
	MsgDateRange           MsgKey = "date_range"
	MsgPageRange           MsgKey = "page_range"
	MsgPlatformAdminExists MsgKey = "platform_admin_exists"
	MsgTooMany             MsgKey = "too_many"
	MsgPricesRequired      MsgKey = "prices_required"
	MsgPriceRange          MsgKey = "price_range"
	MsgPricesOnlyPaid      MsgKey = "prices_only_paid"
	MsgPublicOffer         MsgKey = "public_offer"
	MsgCourseSeats         MsgKey = "course_seats"
	MsgCourseDates         MsgKey = "course_dates"
	MsgServiceVendor       MsgKey = "service_vendor"
	MsgServicePaid         MsgKey = "service_paid"
	MsgCourseOnlyCourses   MsgKey = "course_only_courses"
	MsgParentSelf          MsgKey = "parent_self"
	MsgParentMissing       MsgKey = "parent_missing"
	MsgNotOwner            MsgKey = "not_owner"
	MsgTakenDown           MsgKey = "taken_down"
	MsgConcurrentEdit      MsgKey = "concurrent_edit"
	MsgPledgeRequired      MsgKey = "pledge_required"
	MsgNotDraft            MsgKey = "not_draft"
	MsgFilesRequired       MsgKey = "files_required"
	MsgExactDuplicate      MsgKey = "exact_duplicate"
	MsgChecklist           MsgKey = "checklist"
	MsgOwnReview           MsgKey = "own_review"
	MsgAlreadyDecided      MsgKey = "already_decided"
	MsgLedgerBusy          MsgKey = "ledger_busy"
	MsgEnrolInstead        MsgKey = "enrol_instead"
	MsgPaymentRequired     MsgKey = "payment_required"
	MsgLicenseRequired     MsgKey = "license_required"
	MsgDeriveND            MsgKey = "derive_nd"
	MsgDeriveSA            MsgKey = "derive_sa"
	MsgDeriveNC            MsgKey = "derive_nc"
	MsgDerivePaid          MsgKey = "derive_paid"
	MsgStars               MsgKey = "stars"
	MsgRateNeedsLicense    MsgKey = "rate_needs_license"
	MsgReasonShort         MsgKey = "reason_short"
	MsgOwnComplaint        MsgKey = "own_complaint"
	MsgEvidenceMissing     MsgKey = "evidence_missing"
	MsgEvidenceNotYours    MsgKey = "evidence_not_yours"
	MsgNotACourse          MsgKey = "not_a_course"
	MsgCourseFull          MsgKey = "course_full"
	MsgLedgerNotFound      MsgKey = "ledger_not_found"
	MsgLedgerPending       MsgKey = "ledger_pending"
	MsgLedgerInvalid       MsgKey = "ledger_invalid"
	MsgLedgerVerify        MsgKey = "ledger_verify"
	MsgUpload              MsgKey = "upload"
	MsgBadMultipart        MsgKey = "bad_multipart"
	MsgLinkInvalid         MsgKey = "link_invalid"
	MsgLinkExpired         MsgKey = "link_expired"
	MsgSearchDown          MsgKey = "search_down"
	MsgStudentsDoNotPay    MsgKey = "students_do_not_pay"
	MsgIdempotencyKey      MsgKey = "idempotency_key"
	MsgIdempotencyReused   MsgKey = "idempotency_reused"
	MsgInvoiceInstitutions MsgKey = "invoice_institutions"
	MsgNotForSale          MsgKey = "not_for_sale"
	MsgScopeNotSold        MsgKey = "scope_not_sold"
	MsgOwnPurchase         MsgKey = "own_purchase"
	MsgInstitutionScope    MsgKey = "institution_scope"
	MsgClassroomScope      MsgKey = "classroom_scope"
	MsgBeneficiary         MsgKey = "beneficiary"
	MsgPaymentsDown        MsgKey = "payments_down"
	MsgNotInvoice          MsgKey = "not_invoice"
	MsgOrderState          MsgKey = "order_state"
	MsgBadWebhook          MsgKey = "bad_webhook"
	MsgRefundWholeLines    MsgKey = "refund_whole_lines"
	MsgLineRefunded        MsgKey = "line_refunded"
	MsgRefundOpen          MsgKey = "refund_open"
	MsgRefundInProgress    MsgKey = "refund_in_progress"
	MsgRefundRefused       MsgKey = "refund_refused"
	MsgPayoutSellers       MsgKey = "payout_sellers"
	MsgPayoutsDown         MsgKey = "payouts_down"

	// Harvesting from other OAI-PMH repositories (market/oai, `ziyuan harvest`).
	MsgHarvestTarget  MsgKey = "harvest_target"
	MsgHarvestAccount MsgKey = "harvest_account"
	MsgHarvestNotFree MsgKey = "harvest_not_free"
	MsgHarvestType    MsgKey = "harvest_type"
)

var messages = map[MsgKey]struct{ zh, en string }{
	MsgInternal:            {"服务器内部错误，请稍后重试。", "Internal error; please try again later."},
	MsgUnavailable:         {"服务暂时不可用，请稍后重试。", "The service is temporarily unavailable; please try again later."},
	MsgNotFound:            {"未找到%s。", "%s not found."},
	MsgRouteNotFound:       {"页面或接口不存在。", "No such page or endpoint."},
	MsgMethodNotAllowed:    {"该接口不支持此请求方法。", "This endpoint does not support the request method."},
	MsgSignInRequired:      {"请先登录。", "Please sign in."},
	MsgTokenInvalid:        {"登录凭证无效或已过期，请重新登录。", "The sign-in token is invalid or has expired; please sign in again."},
	MsgCSRF:                {"表单已过期或来源不明，请刷新页面后重试。", "The form has expired or did not come from this site; reload the page and try again."},
	MsgForbidden:           {"您没有权限执行此操作。", "You are not allowed to do this."},
	MsgVerifiedOnly:        {"此操作需要完成实名认证。", "This requires a real-name verified account."},
	MsgConsentRequired:     {"未满14周岁的学生需监护人同意后才能使用此功能。", "Students under 14 need their guardian's consent first."},
	MsgBadJSON:             {"请求体不是有效的 JSON：%s", "The request body is not valid JSON: %s"},
	MsgUnknownField:        {"未知字段“%s”。", "Unknown field %q."},
	MsgWrongType:           {"字段“%s”的类型应为 %s。", "Field %q must be of type %s."},
	MsgTrailingData:        {"JSON 之后还有多余内容。", "Unexpected data after the JSON value."},
	MsgBodyTooLarge:        {"请求体过大（上限 %s）。", "The request body is too large (limit %s)."},
	MsgContentType:         {"不支持的内容类型，应为 %s。", "Unsupported content type; expected %s."},
	MsgFieldRequired:       {"缺少必填字段“%s”。", "Field %q is required."},
	MsgFieldTooLong:        {"字段“%s”过长（最多 %d 个字符）。", "Field %q is too long (at most %d characters)."},
	MsgFieldOneOf:          {"字段“%s”的值“%s”无效，可选值：%s。", "Field %q has invalid value %q; allowed: %s."},
	MsgFieldFormat:         {"字段“%s”格式不正确：%s。", "Field %q is malformed: %s."},
	MsgLoginFailed:         {"账号或密码错误。", "Wrong login or password."},
	MsgLoginLocked:         {"登录失败次数过多，请 %d 分钟后再试。", "Too many failed sign-ins; try again in %d minutes."},
	MsgPasswordWeak:        {"密码至少 8 个字符，且须同时包含字母和数字。", "The password needs at least 8 characters with both letters and digits."},
	MsgPasswordTooLong:     {"密码不能超过 %d 个字符。", "The password must not exceed %d characters."},
	MsgLoginTaken:          {"账号“%s”已被使用。", "The login %q is already taken."},
	MsgLoginFormat:         {"账号须为 3–64 个字符，只能包含字母、数字、点、下划线、连字符或 @。", "A login has 3–64 characters: letters, digits, dot, underscore, hyphen or @."},
	MsgInstitutionCode:     {"学校标识码须为 10 位数字。", "An institution code has 10 digits."},
	MsgInstitutionMissing:  {"机构不存在。", "No such institution."},
	MsgCodeTaken:           {"机构标识码“%s”已被使用。", "The institution code %q is already taken."},
	MsgRoleNotAllowed:      {"不能授予角色“%s”。", "The role %q cannot be granted here."},
	MsgAlreadyVerified:     {"该用户已完成实名认证。", "This user is already verified."},
	MsgNoInstitution:       {"该用户未加入任何机构，无法由机构管理员认证。", "This user belongs to no institution, so no institution admin can verify them."},
	MsgRosterEmpty:         {"名单文件为空。", "The roster file is empty."},
	MsgRosterHeader:        {"表头应为 login,name,role,password[,guardian_login][,birth_date]，实际为：%s", "The header must be login,name,role,password[,guardian_login][,birth_date]; found: %s"},
	MsgRosterTooManyRows:   {"名单超过 %d 行，请拆分后分批导入。", "The roster has more than %d rows; split it and import in parts."},
	MsgRosterNotText:       {"上传的文件不是 CSV 文本（请在 Excel 中“另存为 CSV”）。", "The upload is not CSV text (use Save As CSV in Excel)."},
	MsgRosterColumns:       {"应有 %d 列，实际 %d 列。", "Expected %d columns, found %d."},
	MsgRosterCSV:           {"CSV 格式错误：%s", "Malformed CSV: %s"},
	MsgRosterDuplicate:     {"账号“%s”在文件中重复（首次出现在第 %d 行）。", "Login %q appears twice in the file (first on line %d)."},
	MsgRosterGuardian:      {"监护人账号“%s”不存在或不是家长角色。", "Guardian %q does not exist or is not a parent."},
	MsgRosterBirthDate:     {"出生日期“%s”无效，格式应为 YYYY-MM-DD。", "Birth date %q is invalid; use YYYY-MM-DD."},
	MsgRosterOtherInst:     {"账号“%s”已属于其他机构，未导入。", "Login %q belongs to another institution; not imported."},
	MsgGuardianNotLinked:   {"您不是该学生的监护人。", "You are not this student's guardian."},
	MsgNotAStudent:         {"该用户不是学生。", "This user is not a student."},
	MsgConsentAlready:      {"已记录过监护人同意。", "Consent was already recorded."},
	MsgBirthDateFuture:     {"出生日期不能晚于今天。", "The birth date cannot be in the future."},
	MsgDateRange:           {"日期“%s”无效，格式应为 YYYY-MM-DD 或 RFC 3339。", "Date %q is invalid; use YYYY-MM-DD or RFC 3339."},
	MsgPageRange:           {"分页参数无效：page ≥ 1，1 ≤ per_page ≤ %d。", "Invalid paging: page ≥ 1 and 1 ≤ per_page ≤ %d."},
	MsgPlatformAdminExists: {"账号“%s”已存在。", "The login %q already exists."},
	MsgTooMany:             {"“%s”最多 %d 个。", "At most %[2]d %[1]s entries."},
	MsgPricesRequired:      {"付费资源须至少为一种授权范围定价（offer.prices：personal、classroom、institution，单位：分）。", "A paid offer needs a price for at least one scope (offer.prices: personal, classroom, institution, in fen)."},
	MsgPriceRange:          {"字段“%s”的价格须在 0 到 %d 元之间。", "Field %q must be between 0 and ¥%d."},
	MsgPricesOnlyPaid:      {"只有付费资源（paid）才能定价。", "Only paid offers have prices."},
	MsgPublicOffer:         {"只有公益机构、教育行政部门和学校可以发布公益资源（public）。", "Only public-welfare providers, education bureaus and schools may offer public-welfare items (public)."},
	MsgCourseSeats:         {"网络课程须填写名额（course.seats，1 到 %d）。", "A course needs seats (course.seats, 1 to %d)."},
	MsgCourseDates:         {"网络课程须填写开始和结束时间，且结束晚于开始。", "A course needs a start and an end, the end after the start."},
	MsgServiceVendor:       {"只有服务商可以发布服务。", "Only vendors offer services."},
	MsgServicePaid:         {"服务须以付费方式提供（paid）。", "A service is offered as a paid item (paid)."},
	MsgCourseOnlyCourses:   {"只有网络课程可以填写课程安排（course）。", "Only courses (网络课程) have a course schedule."},
	MsgParentSelf:          {"资源不能以自身为来源。", "A resource cannot derive from itself."},
	MsgParentMissing:       {"来源资源“%s”不存在或尚未发布。", "Parent resource %q does not exist or is not published."},
	MsgNotOwner:            {"只有作者本人可以修改或提交此资源。", "Only the author may change or submit this resource."},
	MsgTakenDown:           {"该资源已被下架。", "This resource has been taken down."},
	MsgConcurrentEdit:      {"资源同时被修改，请重试。", "The resource changed meanwhile; please try again."},
	MsgPledgeRequired:      {"提交审核前须确认自审承诺（pledge: true）。", "Submitting needs the self-review pledge (pledge: true)."},
	MsgNotDraft:            {"当前版本已提交审核或已发布，请先修改后再提交。", "The current version is already under review or published; edit it before submitting again."},
	MsgFilesRequired:       {"提交审核前请至少上传一个文件。", "Upload at least one file before submitting."},
	MsgExactDuplicate:      {"文件“%s”与他人已发布的作品《%s》（%s，账本条目 %d）完全相同。", "File %q is identical to another author's published work %q (%s, ledger entry %d)."},
	MsgChecklist:           {"通过审核须确认全部七项审核要点，缺少或未通过：%s。", "Approval needs all seven checklist items; missing or not affirmed: %s."},
	MsgOwnReview:           {"审核员不能审核自己的作品。", "Reviewers never review their own work."},
	MsgAlreadyDecided:      {"已有审核结果，不能重复决定。", "This has already been decided."},
	MsgLedgerBusy:          {"账本繁忙，请稍后重试。", "The ledger is busy; please try again shortly."},
	MsgEnrolInstead:        {"网络课程请使用报名。", "Courses are enrolled in, not claimed."},
	MsgPaymentRequired:     {"这是付费资源，请先购买。", "This is a paid item; buy a licence first."},
	MsgLicenseRequired:     {"下载此资源需要授权，请先获取或购买。", "Downloading this resource needs a licence; claim or buy one first."},
	MsgDeriveND:            {"来源作品《%s》采用 %s 许可，禁止演绎，不能作为来源。", "Parent %q is licensed %s, which forbids derivatives."},
	MsgDeriveSA:            {"来源作品《%s》采用 %s 许可（相同方式共享），衍生作品须采用同一许可。", "Parent %q is licensed %s (share-alike): the derivative must use the same licence."},
	MsgDeriveNC:            {"来源作品《%s》采用 %s 许可（非商业性），衍生作品不能付费提供。", "Parent %q is licensed %s (non-commercial): the derivative cannot be paid."},
	MsgDerivePaid:          {"来源作品《%s》为付费资源，须持有其班级或机构授权才能演绎。", "Parent %q is a paid item: deriving from it needs a classroom or institution licence to it."},
	MsgStars:               {"评分须为 1 到 5 星。", "Stars must be 1 to 5."},
	MsgRateNeedsLicense:    {"只有获得授权的用户才能评分。", "Only licence holders may rate."},
	MsgReasonShort:         {"字段“%s”至少需要 %d 个字。", "Field %q needs at least %d characters."},
	MsgOwnComplaint:        {"不能投诉自己的作品。", "You cannot complain about your own work."},
	MsgEvidenceMissing:     {"账本中没有条目 %d。", "There is no ledger entry %d."},
	MsgEvidenceNotYours:    {"账本条目 %d 与您无关，不能作为您的权利证明。", "Ledger entry %d does not name you, so it cannot be your evidence."},
	MsgNotACourse:          {"该资源不是网络课程。", "This resource is not a course."},
	MsgCourseFull:          {"课程名额（%d 人）已满。", "The course is full (%d seats)."},
	MsgLedgerNotFound:      {"账本中没有这一条目或树大小。", "No such ledger entry or tree size."},
	MsgLedgerPending:       {"该条目尚未被已签名的检查点覆盖，请一秒后重试。", "The entry is not yet covered by a signed checkpoint; try again in a second."},
	MsgLedgerInvalid:       {"账本请求无效：%s", "Invalid ledger request: %s"},
	MsgLedgerVerify:        {"验证失败：%s", "Verification failed: %s"},
	// The inspector of market/files words its refusals itself, in both languages.
	MsgUpload:              {"%[1]s", "%[2]s"},
	MsgBadMultipart:        {"上传表单格式错误：%s", "Malformed upload form: %s"},
	MsgLinkInvalid:         {"下载链接无效。", "The download link is invalid."},
	MsgStudentsDoNotPay:    {"学生不能付款；请由监护人或学校为你购买。", "Students never pay; a guardian or the school buys for them."},
	MsgIdempotencyKey:      {"请求须带 Idempotency-Key 请求头（1–%d 个字符），重试时使用同一个值。", "The request needs an Idempotency-Key header (1–%d characters), the same on every retry."},
	MsgIdempotencyReused:   {"该 Idempotency-Key 已用于另一笔不同内容的订单。", "This Idempotency-Key was used for a different order."},
	MsgInvoiceInstitutions: {"采购单付款仅供机构管理员为本机构购买。", "Purchase-order payment is for institution admins buying for their institution."},
	MsgNotForSale:          {"《%s》是免费资源，无需购买，直接获取即可。", "%q is free: claim it instead of buying."},
	MsgScopeNotSold:        {"《%s》不出售“%s”范围的授权。", "%q is not sold with the %q scope."},
	MsgOwnPurchase:         {"不能购买自己发布的资源。", "You cannot buy your own resource."},
	MsgInstitutionScope:    {"机构授权只能由机构管理员为本机构购买。", "Institution licences are bought by institution admins for their institution."},
	MsgClassroomScope:      {"班级授权由教师或机构管理员为本校学生购买，并须列出学生。", "Classroom licences are bought by teachers or institution admins for their own students, named in beneficiaries."},
	MsgBeneficiary:         {"不能为用户“%s”购买：须为本人、所监护的学生或本机构已实名的成员（未满14周岁须有监护人同意）。", "Cannot buy for user %q: it must be yourself, your ward or a verified member of your institution (under 14: with guardian consent)."},
	MsgPaymentsDown:        {"支付服务暂时不可用，请稍后重试（订单已保存，可用同一请求重试）。", "Payments are unavailable for a moment; retry shortly with the same request (the order is saved)."},
	MsgNotInvoice:          {"该订单不是采购单付款，不能人工确认。", "This order is not paid by purchase order and cannot be confirmed by hand."},
	MsgOrderState:          {"订单当前状态为“%s”，不能进行此操作。", "The order is %s; this is not possible now."},
	MsgBadWebhook:          {"通知签名或格式无效。", "The notification's signature or format is invalid."},
	MsgRefundWholeLines:    {"退款按订单行整行进行：金额 %d 分须等于所退各行的合计 %d 分（各行可退：%s）；部分退款请用 lines 指明订单行。", "Refunds are by whole order lines: the amount of %d fen must equal the lines' total of %d fen (refundable by line: %s); name the lines of a partial refund in lines."},
	MsgLineRefunded:        {"订单第 %d 行已全额退款。", "Line %d of the order has already been refunded in full."},
	MsgRefundOpen:          {"该订单还有一笔退款（订单行 %s）未完成：请再次提交同一退款以完成它，再退其他订单行。", "A refund of this order (lines %s) is not finished: send that refund again to complete it before refunding other lines."},
	MsgRefundInProgress:    {"该订单的退款正在处理中，请稍后刷新查看。", "A refund of this order is being processed; check again shortly."},
	MsgRefundRefused:       {"支付服务拒绝了这笔退款，订单未作改动；请在支付服务后台核对该付款。", "The payment provider refused the refund and the order is unchanged; check the payment in the provider's dashboard."},
	MsgPayoutSellers:       {"只有已实名认证的教师和服务商可以开通收款账户。", "Only verified teachers and vendors set up payout accounts."},
	MsgPayoutsDown:         {"收款账户服务暂时不可用，请稍后重试。", "Payout accounts are unavailable for a moment; please try again shortly."},
	MsgSearchDown:          {"搜索服务暂时不可用，请稍后重试。", "Search is unavailable for a moment; please try again shortly."},
	MsgLinkExpired:         {"下载链接已过期（有效期 5 分钟），请回到资源页重新下载。", "The download link has expired (links last 5 minutes); download again from the resource page."},

	MsgHarvestTarget:  {"采集目标机构 %s 不存在或不是公益机构（kind public）。", "The harvest's institution %s does not exist or is not a public-welfare institution (kind public)."},
	MsgHarvestAccount: {"账号 %s 不能作为采集账号：%s。", "Account %s cannot own harvested items: %s."},
	MsgHarvestNotFree: {"只采集免费的公益与开放许可资源，付费资源（%s）不采集。", "Only free public-welfare and openly licensed items are harvested, not paid ones (%s)."},
	MsgHarvestType:    {"资源类型“%s”不能采集：网络课程需要名额和日期，服务只能由服务商发布。", "Items of type %q are not harvested: courses need seats and dates, services a vendor."},
}

// MessageKeys lists every catalogued message, for completeness tests.
func MessageKeys() []MsgKey {
	keys := make([]MsgKey, 0, len(messages))
	for k := range messages {
		keys = append(keys, k)
	}
	return keys
}
