package web

import (
	"fmt"
	"math"
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

	"nav.ledger":               {"账本", "Ledger"},
	"ledger.title":             {"知识产权账本", "The rights ledger"},
	"ledger.lead":              {"每一次作品登记、发布、授权和下架都写入这本防篡改的账本。任何人都可以用公开密钥和标准默克尔证明核对，无需信任我们的数据库。", "Every registration, publication, licence and takedown is written to this tamper-evident ledger. Anyone can check it with the public key and standard Merkle proofs, without trusting our database."},
	"ledger.checkpoint":        {"最新签名检查点", "Latest signed checkpoint"},
	"ledger.origin":            {"账本名称", "Origin"},
	"ledger.size":              {"条目总数", "Entries"},
	"ledger.root":              {"根哈希", "Root hash"},
	"ledger.key":               {"验证公钥", "Verifier key"},
	"ledger.raw_checkpoint":    {"检查点原文", "Checkpoint note"},
	"ledger.raw_key":           {"公钥原文", "Key"},
	"ledger.verify":            {"验证回执", "Verify a receipt"},
	"ledger.goto":              {"条目编号", "Entry number"},
	"ledger.open":              {"查看", "Open"},
	"ledger.recent":            {"最新条目", "Newest entries"},
	"ledger.type":              {"类型", "Type"},
	"ledger.time":              {"时间", "Time"},
	"ledger.subjects":          {"涉及对象", "Subjects"},
	"ledger.empty":             {"账本中还没有条目。", "The ledger has no entries yet."},
	"ledger.entry":             {"账本条目", "Ledger entry"},
	"ledger.content":           {"内容哈希", "Content hash"},
	"ledger.licence":           {"许可", "Licence"},
	"ledger.reason":            {"原因", "Reason"},
	"ledger.parent":            {"依据条目", "Builds on"},
	"ledger.leaf":              {"叶哈希", "Leaf hash"},
	"ledger.receipt":           {"下载回执", "Download the receipt"},
	"ledger.proof":             {"包含证明", "Inclusion proof"},
	"ledger.proof_of":          {"条目 %d 包含在 %d 个条目的签名树中：", "Entry %d is in the signed tree of %d entries:"},
	"ledger.proof_pending":     {"该条目即将被下一个签名检查点覆盖，请稍后刷新。", "The next signed checkpoint will cover this entry; reload in a moment."},
	"ledger.verify_lead":       {"上传从条目页下载的回执文件。验证只用回执本身和公钥完成：检查点签名、条目编码和默克尔包含证明。", "Upload a receipt file downloaded from an entry page. Verification uses only the receipt and the public key: the checkpoint signature, the entry encoding and the Merkle inclusion proof."},
	"ledger.verified":          {"回执验证通过", "The receipt verifies"},
	"ledger.proves":            {"它证明：条目 %d 以如下内容记录在账本 %s 中，该账本已签名的树共有 %d 个条目。", "It proves that entry %d, with the contents below, is in the ledger %s, whose signed tree has %d entries."},
	"ledger.not_verified":      {"回执未通过验证：", "The receipt does not verify:"},
	"ledger.receipt_file":      {"回执文件（JSON）", "Receipt file (JSON)"},
	"ledger.key_hint":          {"默认使用本站公钥；核对其他来源的回执时，请填写从可信渠道获得的公钥。", "Defaults to this site's key; for a receipt from elsewhere, paste a key obtained from a source you trust."},
	"ledger.check":             {"验证", "Verify"},
	"etype.work.registered":    {"作品登记", "Work registered"},
	"etype.work.published":     {"作品发布", "Work published"},
	"etype.work.updated":       {"作品更新", "Work updated"},
	"etype.work.taken_down":    {"作品下架", "Work taken down"},
	"etype.license.granted":    {"授予许可", "Licence granted"},
	"etype.license.revoked":    {"撤销许可", "Licence revoked"},
	"role.subject.work":        {"作品", "Work"},
	"role.subject.version":     {"版本", "Version"},
	"role.subject.author":      {"作者", "Author"},
	"role.subject.institution": {"机构", "Institution"},
	"role.subject.license":     {"许可", "Licence"},
	"role.subject.holder":      {"持有人", "Holder"},
	"role.subject.complaint":   {"投诉", "Complaint"},

	"nav.search":                 {"找资源", "Find resources"},
	"search.title":               {"找资源", "Find resources"},
	"search.label":               {"搜索资源", "Search resources"},
	"search.placeholder":         {"例如：光合作用 课件、七年级上册数学试卷、Unit 3", "e.g. 光合作用 课件, 七年级上册数学试卷, Unit 3"},
	"search.go":                  {"搜索", "Search"},
	"search.found":               {"共 %s 个资源", "%s resources"},
	"search.found_for":           {"“%[2]s”共找到 %[1]s 个资源", "%[1]s resources for “%[2]s”"},
	"search.sort":                {"排序", "Sort"},
	"search.apply":               {"应用", "Apply"},
	"search.filters":             {"已选条件：", "Filters:"},
	"search.remove":              {"去掉“%s”", "Remove “%s”"},
	"search.clear":               {"清除全部", "Clear all"},
	"search.pages":               {"翻页", "Pages"},
	"search.empty":               {"没有找到符合条件的资源。", "No resources match."},
	"search.empty_filters":       {"试试去掉一些筛选条件：", "Try removing a filter:"},
	"search.empty_hint":          {"换个说法试试，例如用“课件”“试卷”“教案”，或只输入知识点名称。", "Try other words, e.g. 课件, 试卷, 教案, or just the topic."},
	"search.refine":              {"筛选", "Refine"},
	"sort.relevance":             {"相关度", "Relevance"},
	"sort.newest":                {"最新", "Newest"},
	"sort.popular":               {"最多下载", "Most downloaded"},
	"sort.rating":                {"评分最高", "Best rated"},
	"sort.price_asc":             {"价格从低到高", "Price, low to high"},
	"sort.price_desc":            {"价格从高到低", "Price, high to low"},
	"facet.stage":                {"学段", "Stage"},
	"facet.grade":                {"年级", "Grade"},
	"facet.subject":              {"学科", "Subject"},
	"facet.edition":              {"教材版本", "Edition"},
	"facet.type":                 {"资源类型", "Type"},
	"facet.license":              {"许可", "Licence"},
	"facet.price":                {"价格", "Price"},
	"facet.price.free":           {"免费", "Free"},
	"facet.price.paid":           {"付费", "Paid"},
	"facet.license.public":       {"公益", "Public welfare"},
	"facet.license.cc-by":        {"署名", "CC BY"},
	"facet.license.cc-by-sa":     {"署名-相同方式共享", "CC BY-SA"},
	"facet.license.cc-by-nc":     {"署名-非商业性使用", "CC BY-NC"},
	"facet.license.cc-by-nc-sa":  {"署名-非商业性使用-相同方式共享", "CC BY-NC-SA"},
	"facet.license.cc-by-nd":     {"署名-禁止演绎", "CC BY-ND"},
	"facet.license.cc-by-nc-nd":  {"署名-非商业性使用-禁止演绎", "CC BY-NC-ND"},
	"facet.license.paid":         {"付费授权", "Paid"},
	"nav.orders":                 {"订单", "Orders"},
	"nav.earnings":               {"收入", "Earnings"},
	"buy.title":                  {"购买授权", "Buy a licence"},
	"buy.scope":                  {"授权范围", "Licence scope"},
	"buy.per_student":            {"/ 每名学生", "per student"},
	"buy.allows.personal":        {"供您本人（或您监护的学生）在教学和学习中使用，不得转发。", "For you (or your ward) to use in teaching and learning; not to be passed on."},
	"buy.allows.classroom":       {"供所选学生在本班教学中使用；每名学生一份授权，由教师或机构管理员购买。", "For the chosen students in one class; one licence per student, bought by a teacher or institution admin."},
	"buy.allows.institution":     {"本机构所有成员均可使用，由机构管理员购买。", "For every member of your institution, bought by its admin."},
	"buy.for":                    {"为谁购买", "Buy for"},
	"buy.students":               {"班级学生", "Students of the class"},
	"buy.students_hint":          {"班级授权时选择获得授权的学生。", "For a classroom licence, choose the students it covers."},
	"buy.pay":                    {"付款方式", "Payment"},
	"buy.po":                     {"采购单号", "Purchase order number"},
	"buy.submit":                 {"下单", "Place the order"},
	"provider.invoice":           {"机构采购单（线下付款）", "Institution purchase order (paid offline)"},
	"provider.invoice.hint":      {"学校或单位按采购单付款，到账后由机构管理员确认，授权随即生效。", "The school pays against a purchase order; its admin confirms receipt and the licences take effect."},
	"provider.stripe":            {"在线支付（Stripe）", "Pay online (Stripe)"},
	"provider.stripe.hint":       {"使用银行卡在线付款，付款成功后授权立即生效。", "Pay by card online; the licences take effect when the payment succeeds."},
	"order.title":                {"订单", "Order"},
	"order.qty":                  {"数量", "Quantity"},
	"order.unit":                 {"单价", "Unit price"},
	"order.amount":               {"金额", "Amount"},
	"order.total":                {"合计", "Total"},
	"order.refunded":             {"已退款", "refunded"},
	"order.provider":             {"付款方式", "Payment"},
	"order.created":              {"下单时间", "Ordered"},
	"order.paid":                 {"付款时间", "Paid"},
	"order.pay_now":              {"去付款", "Pay now"},
	"order.confirm":              {"确认收款", "Confirm payment"},
	"order.confirm_hint":         {"款项到账后，填写财务凭证号确认；确认后授权立即生效，重复确认不会重复授权。", "When the money has arrived, enter the finance reference; the licences take effect at once, and confirming again grants nothing twice."},
	"order.reference":            {"财务凭证号", "Finance reference"},
	"order.confirm_button":       {"确认收款", "Confirm"},
	"order.refund":               {"退款并撤销授权", "Refund and revoke the licences"},
	"order.refund_title":         {"退款", "Refund"},
	"order.refund_hint":          {"退款按订单行整行进行：勾选要退的订单行，不勾选则退还全部未退款项；所退订单行的授权随即撤销，卖方已收款项相应扣回。", "Refunds are by whole order lines: tick the lines to refund, or none to refund everything not yet refunded. The refunded lines' licences are revoked and the sellers' shares taken back."},
	"order.refund_lines":         {"要退款的订单行", "Lines to refund"},
	"order.line_refunded":        {"已退款", "refunded"},
	"order.licenses":             {"本订单的授权", "Licences of this order"},
	"order.holder":               {"持有人", "Holder"},
	"orders.title":               {"我的订单", "My orders"},
	"orders.to_confirm":          {"待确认收款的采购单", "Purchase orders awaiting confirmation"},
	"orders.none":                {"还没有订单。", "No orders yet."},
	"ostatus.pending":            {"待付款", "Awaiting payment"},
	"ostatus.paid":               {"已付款", "Paid"},
	"ostatus.refunded":           {"已退款", "Refunded"},
	"ostatus.partially_refunded": {"部分退款", "Partly refunded"},
	"ostatus.expired":            {"已过期", "Expired"},
	"ostatus.cancelled":          {"已取消", "Cancelled"},
	"ostatus.failed":             {"付款失败", "Failed"},
	"earnings.title":             {"我的收入", "My earnings"},
	"earnings.balance":           {"当前余额", "Balance"},
	"earnings.month":             {"月份", "Month"},
	"earnings.format":            {"格式", "Format"},
	"earnings.download":          {"下载结算单", "Download the statement"},
	"earnings.hint":              {"未开通在线收款账户的，按月结算单由所在机构线下结算。", "Without an online payout account, your institution settles the monthly statement offline."},
	"earnings.none":              {"还没有收入记录。", "No earnings yet."},
	"payouts.title":              {"Stripe 收款账户", "Stripe payouts"},
	"payouts.status":             {"状态", "Status"},
	"payouts.none":               {"未开通", "Not set up"},
	"payouts.pending":            {"待完善", "Incomplete"},
	"payouts.enabled":            {"已开通", "Active"},
	"payouts.none.hint":          {"开通后，银行卡订单中您的收入在付款后自动转入您的 Stripe 账户；未开通时，按月结算单由所在机构线下结算。", "Once it is set up, your share of every card order goes to your Stripe account when the order is paid; until then your institution settles the monthly statement offline."},
	"payouts.pending.hint":       {"账户已创建，Stripe 还需要您补充资料才能向您付款。", "The account exists, but Stripe needs more details before it can pay you."},
	"payouts.enabled.hint":       {"银行卡订单中您的收入在付款后自动转入您的 Stripe 账户，退款时相应转回。", "Your share of card orders goes to your Stripe account when they are paid, and comes back out when they are refunded."},
	"payouts.setup":              {"开通 Stripe 收款账户", "Set up Stripe payouts"},
	"payouts.continue":           {"继续完善 Stripe 收款账户", "Continue the Stripe setup"},
	"reason.refund_after_payout": {"已结算后退款", "refunded after payout"},
	"reason.transfer_reversed":   {"退款转回", "transfer reversed after a refund"},
	"stmt.date":                  {"日期", "Date"},
	"stmt.kind":                  {"类型", "Kind"},
	"stmt.order":                 {"订单号", "Order"},
	"stmt.title":                 {"资源", "Resource"},
	"stmt.amount":                {"金额（元）", "Amount (CNY)"},
	"stmt.reason":                {"说明", "Note"},
	"stmt.opening":               {"期初余额", "Opening balance"},
	"stmt.closing":               {"期末余额", "Closing balance"},
	"bal.sale":                   {"销售收入", "Sale"},
	"bal.refund":                 {"退款", "Refund"},
	"bal.payout":                 {"结算支付", "Payout"},
	"bal.adjustment":             {"调整", "Adjustment"},
	"done.confirmed":             {"已确认收款，授权已生效。", "Payment confirmed; the licences are in force."},
	"done.refunded":              {"已退款，授权已撤销。", "Refunded; the licences are revoked."},
	"nav.publish":                {"发布资源", "Publish"},
	"nav.reviews":                {"审核", "Reviews"},
	"nav.complaints":             {"投诉处理", "Complaints"},

	"publish.title":           {"发布资源", "Publish a resource"},
	"publish.edit":            {"修改资源", "Edit the resource"},
	"publish.lead":            {"填写资源信息并上传文件后保存为草稿；确认自审承诺后提交审核，审核通过即上线并登记到知识产权账本。", "Fill in the description, upload the files and save a draft; submit it for review with your self-review pledge, and on approval it goes online and into the rights ledger."},
	"publish.about":           {"基本信息", "About the resource"},
	"publish.classify":        {"分类", "Classification"},
	"publish.offer":           {"许可与价格", "Licence and price"},
	"publish.prices_hint":     {"仅“付费授权”需要定价（单位：元），至少为一种授权范围定价：个人（本人使用）、班级（一个教学班）、机构（全校或全单位）。", "Only a paid licence has prices (in yuan), at least one of: personal (your own use), classroom (one class), institution (a whole school or organisation)."},
	"publish.course":          {"网络课程安排", "Course schedule"},
	"publish.course_hint":     {"仅资源类型为“网络课程”时填写。", "Only for the type 网络课程 (online course)."},
	"publish.files":           {"文件与来源", "Files and sources"},
	"publish.f.title":         {"标题", "Title"},
	"publish.f.summary":       {"简介", "Summary"},
	"publish.f.body":          {"正文说明（可选）", "Description (optional)"},
	"publish.f.keywords":      {"关键词", "Keywords"},
	"publish.f.keywords_hint": {"用逗号或空格分隔，至少一个。", "Separated by commas or spaces; at least one."},
	"publish.f.type":          {"资源类型", "Type"},
	"publish.f.stage":         {"学段", "Stage"},
	"publish.f.grade":         {"年级", "Grade"},
	"publish.f.subject":       {"学科", "Subject"},
	"publish.f.edition":       {"教材版本", "Textbook edition"},
	"publish.f.volume":        {"册次", "Volume"},
	"publish.f.chapter":       {"章节", "Chapter"},
	"publish.f.seats":         {"名额", "Seats"},
	"publish.f.starts":        {"开始时间", "Starts"},
	"publish.f.ends":          {"结束时间", "Ends"},
	"publish.f.file":          {"上传文件", "Files"},
	"publish.f.file_hint":     {"支持 PDF、Word、PowerPoint、Excel、图片、音视频、文本、Markdown 和 ZIP，单个文件不超过 200 MB。", "PDF, Word, PowerPoint, Excel, images, audio, video, text, Markdown and ZIP, up to 200 MB a file."},
	"publish.f.parents":       {"改编自（可选）", "Derived from (optional)"},
	"publish.f.parents_hint":  {"填写来源资源的编号（资源页地址中的编号），多个用空格分隔。须遵守来源作品的许可。", "IDs of the resources this one derives from (as in their page address), separated by spaces. Their licences apply."},
	"publish.create":          {"保存草稿", "Save the draft"},
	"publish.save":            {"保存修改", "Save changes"},

	"lic.public":      {"公益资源：对所有实名用户免费开放，仅限公益机构、教育行政部门和学校发布。", "Public welfare: free to every verified user; offered by public-welfare providers, bureaus and schools."},
	"lic.cc-by":       {"署名：他人可以复制、修改和再发布，须注明作者。", "Attribution: others may copy, adapt and share, crediting you."},
	"lic.cc-by-sa":    {"署名-相同方式共享：可以修改，但改编作品须采用同一许可。", "Attribution-ShareAlike: adaptations must carry the same licence."},
	"lic.cc-by-nc":    {"署名-非商业性使用：可以修改，但不得用于收费。", "Attribution-NonCommercial: adaptations may not be sold."},
	"lic.cc-by-nc-sa": {"署名-非商业性使用-相同方式共享：不得收费，改编须采用同一许可。", "Attribution-NonCommercial-ShareAlike: not for sale; adaptations keep the licence."},
	"lic.cc-by-nd":    {"署名-禁止演绎：可以原样使用，不得改编。", "Attribution-NoDerivatives: use as is, no adaptations."},
	"lic.cc-by-nc-nd": {"署名-非商业性使用-禁止演绎：原样、免费使用，不得改编。", "Attribution-NonCommercial-NoDerivatives: use as is, free, no adaptations."},
	"lic.paid":        {"付费授权：按个人、班级或机构范围购买使用权。", "Paid licence: bought per person, classroom or institution."},

	"scope.free":        {"免费", "Free"},
	"scope.personal":    {"个人", "Personal"},
	"scope.classroom":   {"班级", "Classroom"},
	"scope.institution": {"机构", "Institution"},
	"scope.course":      {"课程", "Course"},

	"status.draft":           {"草稿", "Draft"},
	"status.pending_review":  {"待审核", "Awaiting review"},
	"status.published":       {"已发布", "Published"},
	"status.rejected":        {"未通过", "Rejected"},
	"status.taken_down":      {"已下架", "Taken down"},
	"vstatus.draft":          {"草稿", "draft"},
	"vstatus.pending_review": {"待审核", "awaiting review"},
	"vstatus.approved":       {"已通过", "approved"},
	"vstatus.rejected":       {"未通过", "rejected"},
	"vstatus.superseded":     {"已被替代", "superseded"},
	"lstatus.active":         {"有效", "Active"},
	"lstatus.revoked":        {"已撤销", "Revoked"},
	"cstatus.open":           {"待处理", "Open"},
	"cstatus.upheld":         {"投诉成立", "Upheld"},
	"cstatus.dismissed":      {"已驳回", "Dismissed"},

	"resource.title":             {"资源", "Resource"},
	"resource.published":         {"发布于", "published"},
	"resource.version_state":     {"当前版本 %d：%s。", "Current version %d: %s."},
	"resource.licence":           {"许可", "Licence"},
	"resource.course":            {"课程时间", "Course"},
	"resource.seats":             {"已报名 %d / %d 人", "%d of %d seats taken"},
	"resource.stats":             {"使用情况", "Use"},
	"resource.downloads":         {"%s 人下载", "%s downloaders"},
	"resource.rating":            {"%s（%d 人评分）", "%s (%d ratings)"},
	"resource.no_rating":         {"暂无评分", "No ratings yet"},
	"resource.files":             {"文件", "Files"},
	"resource.file":              {"文件名", "File"},
	"resource.size":              {"大小", "Size"},
	"resource.no_files":          {"此资源没有文件。", "This resource has no files."},
	"resource.login_to_download": {"登录后下载", "Sign in to download"},
	"resource.derived_from":      {"改编自", "Derived from"},
	"resource.derivatives":       {"基于此资源的改编作品", "Works derived from this one"},
	"resource.ratings":           {"评价", "Ratings"},
	"resource.your_rating":       {"您的评分", "Your rating"},
	"resource.comment":           {"评语（可选）", "Comment (optional)"},
	"resource.rate":              {"提交评价", "Rate"},
	"resource.get":               {"获取", "Get it"},
	"resource.free":              {"免费", "Free"},
	"resource.yours":             {"这是您发布的资源。", "You published this resource."},
	"resource.edit":              {"修改", "Edit"},
	"resource.pledge":            {"我承诺已按“提供必审”要求自行审核，内容无政治性、科学性等问题，且不侵犯他人知识产权。", "I pledge that I have reviewed this myself: nothing political, inaccurate or infringing on others' rights."},
	"resource.submit":            {"提交审核", "Submit for review"},
	"resource.licensed":          {"您已获得授权（%s）。", "You hold a licence (%s)."},
	"resource.login_to_get":      {"登录后获取", "Sign in to get it"},
	"resource.enrol_for":         {"为谁报名", "Enrol"},
	"resource.myself":            {"我自己", "Myself"},
	"resource.enrol":             {"报名", "Enrol"},
	"resource.buy":               {"购买授权", "Buy a licence"},
	"resource.buy_soon":          {"付费资源的在线购买即将开通；机构可联系平台以采购单方式购买。", "Buying paid items online opens soon; institutions can buy against a purchase order meanwhile."},
	"resource.claim":             {"免费获取", "Get it free"},
	"resource.derive":            {"基于此资源改编", "Derive a new work from this"},
	"resource.ledger":            {"账本记录", "Ledger entries"},
	"resource.pending_entry":     {"正在写入账本…", "being recorded…"},
	"resource.no_ledger":         {"资源发布后登记到账本。", "Recorded in the ledger on publication."},
	"resource.complain":          {"侵权投诉", "Report an infringement"},
	"resource.complain_reason":   {"投诉理由", "Reason"},
	"resource.complain_evidence": {"您作品的账本条目编号（可选）", "Ledger entry of your earlier work (optional)"},
	"resource.complain_send":     {"提交投诉", "Send the complaint"},

	"resource.source":           {"来源", "Source"},
	"resource.source_creator":   {"原作者 %s", "by %s"},
	"resource.source_withdrawn": {"来源平台已撤下此资源", "withdrawn by the source"},
	"resource.source_note":      {"通过 OAI-PMH 从其他平台采集的元数据记录；文件请到来源平台获取。", "A metadata record harvested from another platform over OAI-PMH; get the files at the source."},

	"done.created":    {"草稿已保存。确认自审承诺后即可提交审核。", "Draft saved. Submit it for review with your pledge."},
	"done.updated":    {"修改已保存。", "Changes saved."},
	"done.submitted":  {"已提交审核。", "Submitted for review."},
	"done.claimed":    {"已获得授权，可以下载了。", "Licence granted: you can download now."},
	"done.rated":      {"感谢您的评价。", "Thank you for rating."},
	"done.complained": {"投诉已提交，平台管理员会尽快处理。", "Complaint filed; a platform administrator will decide soon."},
	"done.enrolled":   {"报名成功。", "Enrolled."},
	"done.decided":    {"已记录决定。", "Decision recorded."},

	"review.queue":          {"待审核资源", "Review queue"},
	"review.queue_lead":     {"提供必审、上线必审、更新必审。您自己的作品不会出现在这里。", "Everything is reviewed before it goes online and after every update. Your own work never appears here."},
	"review.author":         {"作者", "Author"},
	"review.submitted":      {"提交时间", "Submitted"},
	"review.flags":          {"提示", "Flags"},
	"review.update":         {"更新（第 %d 版）", "Update (v%d)"},
	"review.similar":        {"%d 个相似作品", "%d similar works"},
	"review.empty":          {"没有待审核的资源。", "Nothing is waiting for review."},
	"review.title":          {"审核", "Review"},
	"review.submission":     {"提交内容（第 %d 版）", "Submission (version %d)"},
	"review.similar_works":  {"相似的已发布作品", "Similar published works"},
	"review.this":           {"本次提交", "This submission"},
	"review.similarity":     {"估计相似度 %s", "Estimated similarity %s"},
	"review.checklist":      {"七项审核要点（通过须全部确认）", "The seven review dimensions (all required to approve)"},
	"review.reason":         {"审核意见", "Reason"},
	"review.approve":        {"通过并发布", "Approve and publish"},
	"review.reject":         {"不通过", "Reject"},
	"check.political":       {"政治性：政治立场正确", "Political: the political stance is sound"},
	"check.orientation":     {"导向性：价值导向正确", "Orientation: the values conveyed are sound"},
	"check.scientific":      {"科学性：内容准确无误", "Scientific: the content is accurate"},
	"check.applicable":      {"适用性：符合学段和学情", "Applicable: fits the stage and learners"},
	"check.normative":       {"规范性：文字、格式规范", "Normative: language and form are correct"},
	"check.timely":          {"时效性：内容没有过时", "Timely: the content is up to date"},
	"check.public_interest": {"公益性：不含不当商业内容", "Public interest: no improper commercial content"},

	"complaints.title":    {"侵权投诉", "Complaints"},
	"complaints.evidence": {"权利证明", "Evidence"},
	"complaints.uphold":   {"投诉成立并下架", "Uphold and take down"},
	"complaints.dismiss":  {"驳回", "Dismiss"},
	"complaints.empty":    {"没有投诉。", "No complaints."},

	"space.resources":    {"我的资源", "My resources"},
	"space.status":       {"状态", "Status"},
	"space.no_resources": {"您还没有发布资源。", "You have not published anything yet."},
	"space.licenses":     {"我的授权与课程", "My licences and courses"},
	"space.scope":        {"范围", "Scope"},
	"space.granted":      {"获得时间", "Granted"},
	"space.no_licenses":  {"您还没有获得任何资源。", "You have no licences yet."},

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
// Reason names why a balance moved (the reason codes market writes), or the code itself.
func (l loc) Reason(code string) string {
	if _, ok := uiText["reason."+code]; !ok {
		return code
	}
	return l.T("reason." + code)
}

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

// Bytes formats a file size (1.2 MB) with decimal units, as file managers in China show them.
func (l loc) Bytes(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1000_000:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + " KB"
	case n < 1000_000_000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	}
	return strconv.FormatFloat(float64(n)/1e9, 'f', 2, 64) + " GB"
}

// Stars draws a rating as five stars with the number (★★★★☆ 4.2).
func (l loc) Stars(avg float64) string {
	full := int(math.Round(avg))
	return strings.Repeat("★", full) + strings.Repeat("☆", 5-full) + " " + strconv.FormatFloat(avg, 'f', 1, 64)
}

// Yuan formats an amount in fen as ¥1,234.50.
func (l loc) Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s¥%s.%02d", sign, l.Num(fen/100), fen%100)
}
