package market

// Messages of contribution records.
const (
	MsgContribScope        MsgKey = "contrib_scope"
	MsgContribPeriod       MsgKey = "contrib_period"
	MsgContribNoCheckpoint MsgKey = "contrib_no_checkpoint"
)

func init() {
	messages[MsgContribScope] = struct{ zh, en string }{
		"您只能查看职责范围内教师的贡献记录：评价员为本机构及下属机构，教师为本人。",
		"You may see only the contribution records within your remit: an evaluator's institution and those under it, a teacher's own."}
	messages[MsgContribPeriod] = struct{ zh, en string }{
		"统计期间无效：起始日期必须早于截止日期，且期间不超过 %d 年。",
		"Invalid period: the start must come before the end, and the period may span at most %d years."}
	messages[MsgContribNoCheckpoint] = struct{ zh, en string }{
		"账本尚未发布签名检查点，暂时无法导出可验证记录，请稍后重试。",
		"The ledger has not published a signed checkpoint yet, so no verifiable record can be exported; try again shortly."}
}
