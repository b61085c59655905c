//! Every user-facing string, one module per language. Chinese first; an
//! English module can follow with the same names.

pub mod zh {
    // the village public notice (公示)
    pub const NOTICE_LINK: &str = "本村公示";
    pub const NOTICE_TITLE: &str = "帮扶政策落实核实结果公示";
    pub const NOTICE_INTRO: &str = "经入户核实，本村脱贫户和监测对象各项补贴、工资和分红的到户情况如下（“足额”“部分”“未到”为补贴项目数）。如有异议，请在公示期内联系乡镇，或扫描二维码核对本户的走访回执并提出异议。";
    pub const NOTICE_NO: &str = "序号";
    pub const NOTICE_FULL: &str = "足额";
    pub const NOTICE_PART: &str = "部分";
    pub const NOTICE_NONE: &str = "未到";
    pub const NOTICE_TOTAL: &str = "实收（元）";
    pub const NOTICE_NOT_YET: &str = "尚未入户核实";
    pub const NOTICE_VERIFIED: &str = "户已核实";
    pub const NOTICE_PERIOD: &str = "公示期：";
    pub const NOTICE_CONTACT: &str = "乡镇联系电话";
    pub const NOTICE_NOT_POSTED: &str = "尚未登记张贴日期。";
    pub const NOTICE_CHECK: &str = "核对回执：";
    pub const NOTICE_QR: &str = "核对走访回执的二维码";
    pub const NOTICE_OBJECTIONS: &str = "公示期内收到的异议";
    pub const OBJECTION_TITLE: &str = "登记群众异议";
    pub const OBJECTION_HINT: &str = "群众当面或电话提出的异议，登记后列入公示的异议清单。";
    pub const OBJECTION_REASON: &str = "异议内容";
    pub const OBJECTION_DETAILS: &str = "说明";
    pub const OBJECTION_PHONE: &str = "回访电话（可不填）";
    pub const OBJECTION_RECEIVED_ON: &str = "收到日期";
    pub const OBJECTION_SAVE: &str = "登记异议";
    pub const OBJECTION_ENTERED: &str = "乡镇登记";
    pub const OBJECTION_OPEN: &str = "处理中";
    pub const OBJECTION_CLOSED: &str = "已处理";
    pub const NOTICE_PRINT: &str = "打印公示";
    pub const NOTICE_POST_TITLE: &str = "登记张贴";
    pub const NOTICE_FROM: &str = "张贴日期";
    pub const NOTICE_UNTIL: &str = "撤下日期（不少于5天）";
    pub const NOTICE_SAVE: &str = "保存";
    // The weekly report (每周报送).
    pub const WEEKLY_LINK: &str = "本周报送";
    pub const WEEKLY_TITLE: &str = "每周报送";
    pub const WEEKLY_NOT_A_WEEK_END: &str = "应为报送日的前一天（一周的最后一天）";
    pub const WEEKLY_FUTURE_WEEK: &str = "这一周还没有结束";
    pub const WEEKLY_WRONG_LEVEL: &str = "每周报送按县区、市州、省，请选择其中一级";
    pub const WEEKLY_WAITING_FOR: &str = "以下县区的报送尚未通过审核：";
    pub const WEEKLY_WAITING_REVIEW: &str = "本周已报送，等待上级审核";
    pub const WEEKLY_ACCEPTED: &str = "本周报送已通过审核";
    pub const WEEKLY_NO_REASON: &str = "未说明原因";
    pub const WEEKLY_REQUIRED: &str = "必填";
    pub const WEEKLY_BAD_PHONE: &str = "只能填数字、空格、+ 和 -";
    pub const WEEKLY_ALREADY_SUBMITTED: &str = "本周已报送（待审核或已通过），退回后才能再次报送";
    pub const WEEKLY_NOT_WAITING: &str = "这一版已审核过，或已有更新的版本";
    pub const WEEKLY_DUE: &str = "报送期限";
    pub const WEEKLY_SUBMIT_TITLE: &str = "报送本周";
    pub const WEEKLY_CONTACT_NAME: &str = "联络人";
    pub const WEEKLY_CONTACT_PHONE: &str = "联系电话";
    pub const WEEKLY_REMARK: &str = "备注（未足额到户的原因）";
    pub const WEEKLY_SUBMIT: &str = "确认报送";
    pub const WEEKLY_SUBMITTED: &str = "已报送";
    pub const WEEKLY_VERSIONS: &str = "报送记录";
    pub const WEEKLY_VERSION: &str = "第 {} 版";
    pub const WEEKLY_DOWNLOAD: &str = "下载报送的 Excel";
    pub const WEEKLY_CHANGES: &str = "报送后的变化";
    pub const WEEKLY_NO_CHANGES: &str = "报送后没有影响本周数字的新记录";
    pub const WEEKLY_LATE_VISITS: &str = "报送后才上传、计入本周的走访";
    pub const WEEKLY_CORRECTIONS: &str = "更正以往各周";
    pub const WEEKLY_CHILDREN: &str = "下级报送情况";
    pub const WEEKLY_MISSING: &str = "未报送";
    pub const WEEKLY_LATE: &str = "逾期";
    pub const WEEKLY_ACCEPT: &str = "通过";
    pub const WEEKLY_RETURN: &str = "退回";
    pub const WEEKLY_COMMENT: &str = "审核意见（退回时必填）";
    pub const WEEKLY_SUBMITTED_TOTAL: &str = "已通过报送合计";
    pub const WEEKLY_LIVE_TOTAL: &str = "实时合计";
    pub const WEEKLY_EARLIER: &str = "上一周";
    pub const WEEKLY_LATER: &str = "下一周";
    pub const WEEKLY_ONLY_MISSING: &str = "只看未报送或已退回";

    // signals of fabricated visits (可疑走访)
    pub const SIGNALS_TITLE: &str = "可疑走访";
    /// The plan and risk table's count of visits with an undecided signal.
    pub const SUSPICIOUS_VISITS: &str = "可疑走访";
    pub const SIGNALS_LINK: &str = "可疑走访核实";
    pub const SIGNALS_INTRO: &str = "服务器对每次上传的走访自动检查：用时过短、没有位置或远离本村、一小时内走访过多、签名或照片与他户相同、签名笔画过少、减少人口后越过监测标准、夜间录入。请逐条核实：确认无误，或标记需复核（会生成核实问题）。";
    pub const SIGNALS_OPEN: &str = "待核实";
    pub const SIGNALS_NONE: &str = "没有这类信号。";
    pub const SIGNAL_DECISION: &str = "核实结果";
    pub const SIGNAL_COMMENT: &str = "核实说明";
    pub const SIGNAL_SAVE: &str = "保存";
    pub const SIGNAL_THRESHOLDS: &str = "检查阈值";

    // the household's receipt check (/r)
    pub const RECEIPT_TITLE: &str = "核对走访回执";
    pub const RECEIPT_INTRO: &str = "走访结束时，干部手机上会显示回执码和二维码。输入回执码和签字人身份证号的最后4位，就能看到您签字确认的内容；不对可以提出异议，乡镇会核实处理。";
    pub const RECEIPT_DIGITS: &str = "签字人身份证号后4位";
    pub const RECEIPT_OPEN: &str = "查看回执";
    pub const RECEIPT_SEALED: &str = "记录完好：与签字时一致，未被改动";
    pub const RECEIPT_WAITING: &str = "记录完好：与签字时一致（正在记入数据链）";
    pub const RECEIPT_ALTERED: &str = "注意：这条记录与签字时不一致，可能被改动过。请提出异议。";
    pub const RECEIPT_HOUSEHOLD: &str = "户主";
    pub const RECEIPT_VILLAGE: &str = "村";
    pub const RECEIPT_DATE: &str = "走访日期";
    pub const RECEIPT_WORKER: &str = "走访干部";
    pub const RECEIPT_SIGNER: &str = "签字人";
    pub const RECEIPT_ITEMS: &str = "确认的补贴";
    pub const RECEIPT_DUE: &str = "应发";
    pub const RECEIPT_RECEIVED: &str = "实收";
    pub const RECEIPT_DISPUTED: &str = "已提出的异议：";
    pub const RECEIPT_DISPUTE_TITLE: &str = "有异议";
    pub const RECEIPT_DISPUTE_HINT: &str =
        "如果这不是您签的，或金额不对，请告诉我们。乡镇会收到并核实；留下电话可以回电。";
    pub const RECEIPT_DISPUTE_WHAT: &str = "哪里不对";
    pub const RECEIPT_DISPUTE_DETAILS: &str = "说明（可不填）";
    pub const RECEIPT_DISPUTE_PHONE: &str = "联系电话（可不填）";
    pub const RECEIPT_DISPUTE_SEND: &str = "提交异议";
    pub const RECEIPT_DISPUTE_SENT: &str = "异议已提交，乡镇会尽快核实。编号";

    // tamper evidence (the county's record chain)
    pub const LEDGER_TITLE: &str = "数据链（防篡改）";
    pub const LEDGER_HINT: &str = "每条签署的走访、审核、问题处理和措施进展都按顺序记入本县的哈希链。直接改动、删除或插入数据库记录，核验时都会被指出。";
    pub const LEDGER_HEAD: &str = "链头：共";
    pub const LEDGER_ENTRIES: &str = "条记录";
    pub const LEDGER_NEVER_VERIFIED: &str = "尚未核验。服务器每天自动核验一次。";
    pub const LEDGER_CLEAN: &str = "核验通过，记录未被改动";
    pub const LEDGER_PROBLEMS: &str = "核验发现问题";
    pub const LEDGER_VERIFIED_AT: &str = "核验于";
    pub const LEDGER_RECORDS: &str = "条记录";
    pub const LEDGER_PROBLEM_COUNT: &str = "处问题";
    pub const LEDGER_RUNNER: &str = "核验人：";
    pub const LEDGER_VERIFY_NOW: &str = "立即核验";
    // income and risk signals
    pub const INCOME_TITLE: &str = "家庭收入";
    pub const PER_CAPITA: &str = "人均纯收入";
    pub const INCOME_NO_RECORDS: &str =
        "本年度还没有核实的补贴或登记的收入，暂不判断是否低于监测标准。";
    pub const NET_INCOME: &str = "家庭纯收入";
    pub const INCOME_HOUSEHOLD_SIZE: &str = "家庭人口";
    pub const SIZE_FROM_VISIT: &str = "走访时确认";
    pub const SIZE_FROM_MEMBERS: &str = "按在册成员";
    pub const THRESHOLD: &str = "监测标准";
    pub const LAST_YEAR_PER_CAPITA: &str = "上年人均纯收入";
    pub const INCOME_RULE: &str = "纯收入 = 工资性 + 生产经营性 + 财产性 + 转移性 − 生产经营性支出（农机购置补贴冲减支出，最低为0）；人均 = 纯收入 ÷ 家庭人口，四舍五入到分。补贴按走访核实的实际到账金额计入；每类自报收入以本年度最近一次走访登记的为准。";
    pub const INCOME_SOURCES: &str = "每笔收入的来源";
    pub const VISIT_OF: &str = "走访于";
    pub const BACKED: &str = "已核实/有凭证";
    pub const DECLARED_ONLY: &str = "农户自报";
    pub const INCOME_TABLE_TITLE: &str = "一户一策落实与收入监测";
    pub const INCOME_TABLE_LINK: &str = "一户一策与收入监测";
    pub const COMPUTED_ON: &str = "计算于";
    pub const FLAGGED_HOUSEHOLDS: &str = "风险户";
    pub const IMPLEMENTATION_RATE: &str = "措施落实率";
    pub const MEASURES_ON_TIME_DUE: &str = "按期/到期";
    pub const RATE_SHORT: &str = "落实率";
    pub const THRESHOLDS_TITLE: &str = "收入监测标准";
    pub const THRESHOLDS_INTRO: &str = "每个统计年度（上年10月1日至当年9月30日）的人均纯收入监测标准。未设置的年度沿用此前最近一年的标准。修改后所有农户的收入监测在后台重新计算。";
    pub const THRESHOLD_SET: &str = "设置或修改";
    pub const THRESHOLD_FIELD: &str = "监测标准（元/人·年）";
    pub const SAVE: &str = "保存";
    pub const FLAG_FILTER_NOTE: &str = "仅显示有以下风险提示的农户：";
    pub const ANY_FLAG: &str = "任一风险提示";

    /// Before a state of payment (看足额到户): the link to the same
    /// figure's households in that state.
    pub const SHOW_STATE: &str = "看";

    // roster import
    pub const IMPORT_TITLE: &str = "导入名单";
    pub const IMPORT_LINK: &str = "导入名单（Excel / CSV）";
    pub const IMPORT_INTRO: &str = "先导入农户及家庭成员，再导入应发补贴。整份文件检查无误才写入；有任何问题则一行也不写，并列出每个问题所在的行和列。重复导入同一文件不会产生重复数据。";
    pub const IMPORT_STEP_HOUSEHOLDS: &str = "第一步：每名家庭成员一行，同一户的成员户编号相同。";
    pub const IMPORT_STEP_ENTITLEMENTS: &str = "第二步：每户每个补贴项目每个年度一行。";
    pub const IMPORT_STEP_PAYOUTS: &str = "三方比对：发放部门（一卡通、银行）的发放名单，每笔发放一行。导入后与应发、群众实收逐户比对，不一致的自动列入核实问题清单。";
    pub const IMPORT_TEMPLATES: &str = "下载模板：";
    pub const TEMPLATE_XLSX: &str = "Excel 模板";
    pub const TEMPLATE_CSV: &str = "CSV 模板";
    pub const IMPORT_CHOOSE_FILE: &str = "选择文件（.xlsx 或 .csv）";
    pub const NO_FILE_CHOSEN: &str = "未选择文件";
    pub const IMPORT_SUBMIT: &str = "上传并导入";
    pub const IMPORT_COLUMN_RULES: &str = "各列填写要求";
    pub const COLUMN: &str = "列";
    pub const ROW: &str = "行";
    pub const RULE: &str = "填写要求";
    pub const PROBLEM: &str = "问题";
    pub const OPTIONAL: &str = "（选填）";
    pub const EXAMPLE: &str = "例：";
    pub const ROWS: &str = "行";
    pub const SECONDS: &str = "秒";
    pub const WHOLE_FILE: &str = "整个文件";
    pub const IMPORT_UNKNOWN: &str = "找不到这次导入：导入记录保留 6 小时，且只有上传人本人可以查看。未完成的导入不会写入任何数据，请重新上传。";
    /// An import whose server stopped before it finished (no heartbeat).
    pub const IMPORT_INTERRUPTED: &str = "导入中断（服务器重启），未写入任何数据，请重新上传";
    pub const IMPORT_AGAIN: &str = "返回导入页";
    pub const IMPORT_FAILED: &str = "服务器出错，未写入任何数据，请稍后重试";
    pub const IMPORT_DONE: &str = "导入完成：已全部写入。";
    pub const IMPORT_ROWS: &str = "数据行";
    pub const IMPORT_ADDED: &str = "新增";
    pub const IMPORT_CHANGED: &str = "更新";
    pub const IMPORT_UNCHANGED: &str = "无变化";
    pub const IMPORT_SKIPPED_BEFORE: &str = "另有";
    pub const IMPORT_SKIPPED_AFTER: &str =
        "行的收款人不是本辖区名单中的农户（部门名单中的其他人员），未参与比对。";
    pub const RECON_SEE_RESULT: &str = "查看三方比对结果 ›";
    pub const IMPORT_REFUSED_BEFORE: &str = "未写入任何数据。请改正以下";
    pub const IMPORT_REFUSED_AFTER: &str = "个问题后重新上传整份文件。";
    pub const IMPORT_MORE_PROBLEMS_BEFORE: &str = "另有";
    pub const IMPORT_MORE_PROBLEMS_AFTER: &str = "个问题未列出，改正上面的问题后重新上传即可看到。";
    pub const APP_NAME: &str = "到户";
    pub const APP_TAGLINE: &str = "补贴到户 · 逐户核实";

    pub const ERR_UNAUTHORIZED: &str = "请先登录";
    pub const ERR_BAD_CREDENTIALS: &str = "用户名或密码错误";
    pub const ERR_FORBIDDEN: &str = "无权访问：您的角色不能使用此功能";
    pub const ERR_NOT_FOUND: &str = "未找到，或不在您的权限范围内";
    pub const ERR_INTERNAL: &str = "服务器出错，请稍后再试";
    pub const ERR_BODY_TOO_LARGE: &str = "超过了该请求允许的大小";
    pub const ERR_METHOD_NOT_ALLOWED: &str = "该地址不支持这种请求方法";
    pub const ERR_BODY_INCOMPLETE: &str = "请求内容不完整或编码有误，请重试";
    pub const ERR_BAD_ADDRESS: &str = "网址中的参数有误";
    pub const ERR_NUL_IN_TEXT: &str = "不能含有空字符（\\0），请删去后重试";
    /// A state-changing request sent from another site (CSRF) or a sandboxed page.
    pub const ERR_CROSS_SITE: &str = "跨站请求已拒绝：请在本站页面上操作";

    pub const SIGN_IN: &str = "登录";
    pub const SIGN_OUT: &str = "退出";
    pub const USERNAME: &str = "用户名";
    pub const PASSWORD: &str = "密码";
    pub const SIGNING_IN: &str = "正在登录…";

    pub const MY_HOUSEHOLDS: &str = "我的帮扶户";
    pub const AREA_HOUSEHOLDS: &str = "辖区农户";
    pub const HOUSEHOLD_LIST: &str = "农户列表";
    pub const HOUSEHOLDS: &str = "农户";
    pub const SEARCH_PLACEHOLDER: &str = "搜索户主姓名或户编号";
    pub const ALL_VILLAGES: &str = "全部村";
    pub const SEARCH: &str = "查询";
    pub const NO_HOUSEHOLDS: &str = "没有符合条件的农户";
    pub const MORE: &str = "下一页";
    pub const PREVIOUS: &str = "上一页";
    pub const LOADING: &str = "加载中…";

    pub const MEMBERS: &str = "家庭成员";
    pub const ENTITLEMENTS: &str = "应发补贴";
    pub const NO_ENTITLEMENTS: &str = "本统计年度暂无应发补贴";
    pub const HEAD: &str = "户主";
    pub const PHONE: &str = "联系电话";
    pub const AGE_SUFFIX: &str = "岁";
    pub const VILLAGE: &str = "所在村";
    pub const WORKER: &str = "帮扶干部";
    pub const SUBSIDY_ITEM: &str = "补贴项目";
    pub const RELOCATED: &str = "易地搬迁";
    pub const TOTAL: &str = "合计";
    pub const STAT_YEAR: &str = "统计年度";

    pub const VISITS: &str = "走访核实记录";
    pub const NO_VISITS: &str = "本户尚无走访记录";
    pub const VISITS_DISAGREE: &str = "本年度有多名干部走访本户，请乡镇督导核实";
    pub const RECEIPT_CODE: &str = "回执码";
    pub const SIGNED_BY: &str = "签字确认";
    pub const MET_WITH: &str = "见到";
    pub const LOCATION: &str = "位置";

    pub const AREA_CHILDREN: &str = "下辖区域";
    pub const HOUSEHOLD_COUNT: &str = "户数";
    pub const MONITORED_COUNT: &str = "监测户";
    pub const UNASSIGNED_COUNT: &str = "待分配";
    pub const VISITED_COUNT: &str = "已走访";
    pub const NOT_VISITED_COUNT: &str = "未走访";
    pub const DAYS_LEFT_BEFORE: &str = "距9月30日截止还有";
    pub const DAYS_LEFT_AFTER: &str = "天";
    pub const YEAR_SUFFIX: &str = "年度";
    pub const WORKER_PROGRESS: &str = "帮扶干部走访进度";
    pub const NO_WORKERS: &str = "本区域暂无帮扶干部";
    pub const UNVISITED_TITLE: &str = "尚未走访的农户";
    pub const ALL_VISITED: &str = "本年度所有农户均已走访";
    pub const UNVISITED_MORE: &str = "仅显示前";
    pub const RECENT_VISITS: &str = "最新走访";
    pub const NO_RECENT_VISITS: &str = "本区域尚无走访记录";
    pub const SHORTFALL_LINES: &str = "项未足额";
    pub const ALL_PAID: &str = "全部到位";
    pub const NOTHING_DUE_YET: &str = "均未到发放时间";
    pub const NOBODY_ASSIGNED: &str = "未分配干部";
    pub const DISPATCH_LINK: &str = "补贴发放进展调度表";
    pub const DISPATCH_TITLE: &str = "到人到户各项补贴发放进展调度表";
    pub const ALL_ITEMS: &str = "全部补贴项目";
    pub const AS_OF: &str = "截至";
    pub const CHANGE_SINCE: &str = "较上周";
    pub const SHOW: &str = "查看";
    pub const NO_PAYMENTS_DUE: &str = "本区域本年度暂无应发补贴";
    pub const AREA: &str = "区域";
    /// The dispatch table's counts for one item (households), in order:
    /// 足额, 部分, 未到, 应发.
    pub const HOUSEHOLD_COUNTS: [&str; 4] = ["足额到户", "部分到户", "未到户", "应发户"];
    /// The same over all items, where a household counts once per item
    /// it is due: 户次.
    pub const TIMES_COUNTS: [&str; 4] = ["足额户次", "部分户次", "未到户次", "应发户次"];
    pub const AMOUNT_FULL_PART_DUE: &str = "足额 · 部分 / 应发金额（元）";
    pub const PROGRESS: &str = "足额进度 / 较上周";
    pub const PERCENT_POINTS: &str = "点";
    pub const EXPORT_XLSX: &str = "导出 Excel（调度表）";
    pub const REVIEW: &str = "审核";
    pub const REVIEW_COMMENT: &str = "审核意见（“有问题”时必填）";
    pub const REVIEW_SUBMIT: &str = "提交审核";
    // The discrepancy queue
    pub const DISC_TITLE: &str = "核实问题清单";
    pub const DISC_INTRO: &str = "应发与实收不符的核实记录，以及内容不一致的走访记录";
    pub const DISC_LINK: &str = "核实问题清单";
    pub const DISC_OPEN_SUFFIX: &str = "项待处理";
    pub const DISC_NONE: &str = "没有符合条件的事项";
    pub const DISC_HANDLE: &str = "处理";
    pub const DISC_BACK: &str = "‹ 核实问题清单";
    pub const DISC_HOUSEHOLD_LINK: &str = "查看农户 ›";
    pub const DISC_ITEM: &str = "补贴项目";
    pub const DISC_EXPECTED: &str = "应发";
    pub const DISC_RECEIVED: &str = "实收";
    pub const DISC_PAID: &str = "部门发放";
    pub const RECON_TITLE: &str = "三方比对";
    pub const RATINGS_TITLE: &str = "评估评定";
    pub const RATINGS_LINK: &str = "本周评估评定（排名）";
    pub const RATINGS_WRONG_LEVEL: &str = "评估评定只有省、市两级";
    pub const RATINGS_AGAINST: &str = "较";
    pub const RATINGS_RULE: &str = "按足额进度排名，相同时依次比走访户比例、超{}天未结的核实问题、三方比对不一致（少者在前）。";
    pub const RATINGS_CITIES: &str = "市州";
    pub const RATINGS_COUNTIES: &str = "县区";
    pub const RATINGS_RANK: &str = "名次";
    pub const RATINGS_FULL: &str = "足额进度";
    pub const RATINGS_VISITED: &str = "走访户比例";
    pub const RATINGS_OLD: &str = "超14天未结";
    pub const RATINGS_MISMATCHES: &str = "比对不一致";
    pub const RECON_LINK: &str = "三方比对（应发 · 部门发放 · 群众实收）";
    pub const RECON_INTRO: &str =
        "逐户比对应发名单、发放部门的发放名单和群众走访时说的实收。不一致的自动列入核实问题清单。";
    pub const RECON_IMPORT: &str = "导入发放名单";
    pub const RECON_FILES: &str = "已导入的发放名单";
    pub const RECON_NO_FILES: &str = "本年度还没有导入发放部门的发放名单。";
    pub const RECON_IMPORTED_AT: &str = "导入于";
    pub const RECON_BY_AREA: &str = "按区划";
    pub const RECON_BY_ITEM: &str = "按补贴项目";
    pub const RECON_AMOUNTS: &str = "应发 / 发放 / 实收（元）";
    pub const RECON_KEYS: &str = "户次";
    pub const RECON_OPEN_ITEM: &str = "查看核实问题 ›";
    pub const DISC_PAID_NOT_RECEIVED: &str = "三方比对：部门发放名单显示已发放，农户说未收到或少收。钱可能发到了他人账户，请核对收款账号。";
    pub const DISC_RECEIVED_NO_PAYOUT: &str =
        "三方比对：农户说已收到，部门发放名单中没有这笔发放。请核对是否由其他渠道发放。";
    pub const DISC_AMOUNT_DIFFERS: &str =
        "三方比对：部门发放金额与应发金额不一致（或应发名单中没有这一项）。";
    pub const DISC_DUE_UNPAID: &str = "三方比对：应发，但部门发放名单中没有，农户也未收到。";
    pub const NONE_RECORDED: &str = "无记录";
    pub const NOT_VERIFIED_YET: &str = "尚未走访核实";
    pub const DISC_EXPECTED_DATE: &str = "应到账日期";
    pub const DISC_RECEIVED_ON: &str = "实际到账";
    pub const DISC_REASON: &str = "农户说明";
    pub const DISC_WORKER: &str = "走访干部";
    pub const DISC_VISIT_DATE: &str = "走访日期";
    pub const DISC_AGE: &str = "已过";
    pub const DISC_DAYS: &str = "天";
    pub const DISC_ASSIGNEE: &str = "负责人";
    pub const DISC_UNASSIGNED: &str = "未指派";
    pub const DISC_OPEN: &str = "待处理";
    pub const DISC_CLOSED: &str = "已结案";
    pub const DISC_CONFLICT_NOTE: &str =
        "同一走访编号收到了内容不同的两份记录，系统保留了先到的一份";
    pub const DISC_STORED_COPY: &str = "已保存的记录";
    pub const DISC_OTHER_COPY: &str = "内容不同的记录";
    pub const DISC_RECEIVED_AT: &str = "收到于";
    pub const DISC_HISTORY: &str = "处理记录";
    pub const DISC_NO_HISTORY: &str = "尚无处理记录";
    pub const DISC_ACTIONS: &str = "处理";
    pub const DISC_ASSIGN_TO: &str = "指派给";
    pub const DISC_ASSIGN: &str = "指派";
    pub const DISC_NOTE_OPTIONAL: &str = "说明（可选）";
    pub const DISC_NOTE: &str = "备注内容";
    pub const DISC_ADD_NOTE: &str = "添加备注";
    pub const DISC_RESOLUTION: &str = "处理结果";
    pub const DISC_CLOSE_NOTE: &str = "处理情况（必填）";
    pub const DISC_CLOSE: &str = "结案";
    pub const DISC_REOPEN_NOTE: &str = "重新打开的原因（必填）";
    pub const DISC_REOPEN: &str = "重新打开";
    pub const DISC_ME: &str = "（我）";

    // Users and assignment
    pub const WORKER_DISABLED: &str = "已停用";
    pub const USERS_TITLE: &str = "用户管理";
    pub const NEW_USER: &str = "新建账号";
    pub const DISPLAY_NAME: &str = "姓名";
    pub const ROLE: &str = "角色";
    pub const BOUND_AREA: &str = "所属区域";
    pub const INITIAL_PASSWORD: &str = "初始密码（至少10位，勿用常见密码）";
    pub const CREATE_USER: &str = "创建账号";
    pub const ACCOUNTS: &str = "账号";
    pub const NO_USERS: &str = "本区域暂无您可管理的账号";
    pub const DISABLE: &str = "停用";
    pub const ENABLE: &str = "启用";
    pub const ASSIGN_TITLE: &str = "分配帮扶干部";
    pub const BULK_ASSIGN_TITLE: &str = "按村分配农户";
    pub const CHOOSE_WORKER: &str = "请选择帮扶干部";
    pub const ONLY_UNASSIGNED: &str = "仅待分配的农户";
    pub const WHOLE_VILLAGE: &str = "本村全部农户";
    pub const ASSIGN: &str = "分配";
    pub const NO_ASSIGNABLE_WORKERS: &str = "暂无可分配的帮扶干部，请先在用户管理中新建";

    pub const FORBIDDEN_TITLE: &str = "无权访问";
    pub const FORBIDDEN_BODY: &str = "您的角色不能使用此功能。此次访问已记录。";
    pub const NOT_FOUND_TITLE: &str = "页面不存在";
    pub const BACK_HOME: &str = "返回首页";

    // One's own account: password and sessions
    /// The top bar's link to one's account page: short, the bar is narrow.
    pub const ACCOUNT: &str = "账号";
    pub const ACCOUNT_TITLE: &str = "我的账号";
    pub const CHANGE_PASSWORD: &str = "修改密码";
    pub const CURRENT_PASSWORD: &str = "当前密码";
    pub const NEW_PASSWORD: &str = "新密码（至少10位，勿用常见密码）";
    pub const NEW_PASSWORD_AGAIN: &str = "再次输入新密码";
    pub const PASSWORD_CHANGED: &str = "密码已修改，其他设备上的登录已全部退出。";
    pub const PASSWORD_HINT: &str =
        "可用一句好记的话，如“马家湾村七组的那口老井”。修改后，其他手机和电脑上的登录会全部退出。";
    pub const SESSIONS_TITLE: &str = "登录的设备";
    pub const SESSIONS_HINT: &str = "连续14天未使用的登录会自动退出；登录满30天须重新登录。";
    pub const THIS_DEVICE: &str = "本设备";
    pub const SIGNED_IN_AT: &str = "登录于";
    pub const LAST_SEEN_AT: &str = "最近使用";
    pub const UNKNOWN_ADDRESS: &str = "地址未知";
    pub const SIGN_OUT_OTHERS: &str = "退出其他所有设备";
    pub const NO_OTHER_SESSIONS: &str = "没有其他设备登录此账号。";
    pub fn signed_out_others(n: u64) -> String {
        format!("已退出其他 {n} 个设备上的登录。")
    }

    // The field app (offline)
    pub const FIELD_TITLE: &str = "到户 · 走访";
    pub const FIELD_OPENING: &str = "正在打开本机数据…";
    pub const FIELD_ONLY_WORKERS: &str = "离线走访仅供帮扶干部使用";
    pub const CANCEL: &str = "取消";
    pub const SIGN_OUT_ANYWAY: &str = "仍然退出";
    pub const NOTHING_PENDING: &str = "没有待上传的走访";
    pub const SAFE_ON_PHONE: &str = "已保存在本手机，有信号后自动上传";
    pub const LAST_SYNC: &str = "上次同步 ";
    pub const NEVER_SYNCED: &str = "尚未同步";
    pub const SYNCING: &str = "正在同步…";
    pub const SYNC_NOW: &str = "立即同步";
    pub const NOT_VISITED: &str = "待走访";
    pub const VISITED: &str = "已走访";
    pub const VISIT_PROGRESS: &str = "走访进度";
    pub const IMPORT_PROGRESS: &str = "导入进度";
    pub const YEAR_VISITS: &str = "今年已上报的走访";
    pub const REVIEW_SAID: &str = "审核意见：";
    pub const NOT_YET_VISITED: &str = "未走访";
    pub const FLAGGED: &str = "有问题";
    pub const ALL_STATES: &str = "全部状态";
    pub const VISIT_STATE: &str = "走访状态";
    pub const UNVISITED_FIRST: &str = "未走访在前";
    pub const DRAFT: &str = "草稿";
    pub const WAITING: &str = "待上传";
    pub const RETURNED: &str = "被退回";
    pub const DELIVERED: &str = "已上传";
    pub const NOT_DOWNLOADED: &str = "本手机还没有离线数据";
    pub const DOWNLOADING: &str = "正在下载…";
    pub const DOWNLOAD_FETCHING: &str = "第 1 步（共 2 步）：正在从服务器下载您的帮扶户、成员和应发补贴，信号弱时需要一两分钟，请保持联网";
    pub const DOWNLOAD_SAVING: &str = "第 2 步（共 2 步）：正在保存到本手机，保存后没有信号也能用";
    pub const DOWNLOAD: &str = "下载离线数据";
    pub const DOWNLOAD_PROGRESS: &str = "离线数据下载进度";
    pub const BACK_TO_LIST: &str = "‹ 返回户列表";
    pub const NOT_ON_PHONE: &str = "本手机上没有该户的数据，请联网后重新下载离线数据";
    pub const START_VISIT: &str = "开始走访核实";
    pub const CONTINUE_VISIT: &str = "继续未完成的走访";
    pub const PHONE_VISITS: &str = "本机走访记录";
    pub const VISIT_NOT_OPEN: &str = "该走访已完成或不在本手机上";
    pub const BACK_TO_HOUSEHOLD: &str = "‹ 返回农户";
    pub const VISIT_TITLE: &str = "走访核实";
    pub const SAVED_AT: &str = "已自动保存 ";
    pub const DRAFT_KEPT: &str = "填写内容自动保存在本手机";
    pub const MET_WITH_LABEL: &str = "见到的家庭成员";
    pub const MET_WITH_HINT: &str = "如：户主本人、配偶";
    pub const NOTES: &str = "备注";
    pub const TO_CONFIRM: &str = "下一步：请农户确认签字";
    pub const EXPECTED: &str = "应发";
    pub const AMOUNT_RECEIVED: &str = "实际到账金额（元）";
    pub const RECEIVED_ON: &str = "到账日期";
    pub const CHANNEL: &str = "发放渠道";
    pub const CHOOSE: &str = "请选择";
    pub const REASON: &str = "未足额到账原因";
    pub const REASON_TEXT_HINT: &str = "补充说明（选“其他”时必填）";
    pub const LOCATING: &str = "正在获取位置…";
    pub const LOCATION_PREFIX: &str = "位置：";
    pub const LOCATION_REFUSED: &str = "未获取位置：定位权限被拒绝（已记录）";
    pub const LOCATION_UNAVAILABLE: &str = "未获取位置：暂无定位信号（已记录）";
    pub const RETRY: &str = "重试";
    pub const PHOTO: &str = "现场照片（可选）";
    pub const TAKE_PHOTO: &str = "拍照或选择照片";
    pub const COMPRESSING: &str = "正在压缩照片…";
    pub const REMOVE: &str = "删除";
    pub const PLEASE_SIGN: &str = "请农户在框内签字";
    pub const BACK_TO_FORM: &str = "‹ 返回修改";
    pub const SIGNATURE_VOIDED: &str = "签字后内容已修改，原签名已作废，请农户重新签字确认";
    pub const CONFIRM_HEADING: &str = "本人确认";
    pub const TOTAL_DUE: &str = "应发合计";
    pub const TOTAL_RECEIVED: &str = "实收合计";
    pub const SIGNER_NAME: &str = "签字人姓名";
    pub const SIGNER_RELATION: &str = "与户主关系";
    pub const THUMBPRINT: &str = "按手印（不能签名时）";
    pub const PROXY_REASON: &str = "代签或按手印的原因";
    pub const SIGN: &str = "确认签字";
    pub const SIGN_HERE: &str = "请在此处用手指签名";
    pub const PRESS_THUMB_HERE: &str = "按手印：请用大拇指在框内按住，轻轻左右转一下再松开";
    pub const UNDO_STROKE: &str = "撤销一笔";
    pub const CLEAR: &str = "清除重签";
    pub const RECEIPT_HINT: &str =
        "请农户记下回执码或用手机扫二维码，凭回执码和签字人身份证后4位可随时核对记录、提出异议";
    pub const RECEIPT_QR: &str = "核对回执的二维码";
    pub const FINISH_VISIT: &str = "完成走访，等待上传";
    pub const SIGN_AGAIN: &str = "重新签字";
    pub const NOT_CHECKED: &str = "未核实";
    pub const MEASURES_HEADING: &str = "帮扶措施进展";
    pub const MEASURES_HINT: &str = "按实际情况选择每项措施的进展；没有变化的不用改。";
    pub const MEASURE_DUE: &str = "计划完成";
    pub const OVERDUE: &str = "已逾期";
    pub const DONE_ON: &str = "完成日期";
    pub const DROP_REASON: &str = "放弃原因";
    pub const MEASURE_NOTE: &str = "进展说明（可选）";
    pub const INCOME_HEADING: &str = "家庭收入登记（不含补贴）";
    pub const INCOME_HINT: &str = "填写本统计年度截至今天的累计金额（元），不清楚的可以不填。补贴已在上面核实，不要重复填写。";
    pub const TAKE_EVIDENCE: &str = "拍凭证照片";
    pub const INCOME_EVIDENCE_HINT: &str = "凭证：工资条、银行流水或合同";
    pub const LINE_EVIDENCE_HINT: &str = "凭证：存折页、银行短信或发放单";
    pub const EVIDENCE_PHOTO: &str = "凭证照片";
    pub const RETAKE_EVIDENCE: &str = "重拍凭证";
    pub const NO_EVIDENCE: &str = "无凭证照片";
    pub const VISIT_INCOME: &str = "本次登记的家庭收入（不含补贴）";
    pub const INCOME_NOTE_HINT: &str = "说明（可选），如：在兰州建筑工地";
    pub const INCOME_NOT_DECLARED: &str = "本次未登记";
    pub const HOUSEHOLD_SIZE: &str = "本年度家庭人口（人）";
    pub const CONFIRM_MEASURES: &str = "帮扶措施";
    pub const CONFIRM_INCOME: &str = "家庭收入（不含补贴）";
    pub const CONFIRM_SIZE: &str = "本年度家庭人口";
    pub const CONFIRM_HOUSEHOLD: &str = "家庭情况";
    pub const WITH_EVIDENCE: &str = "有凭证";
    pub const WITHOUT_EVIDENCE: &str = "无凭证";
    pub const CONFIRM_VISIT: &str = "本次走访";
    pub const CONFIRM_MET_WITH: &str = "见到";
    pub const CONFIRM_NOTES: &str = "备注";
    // Sync answers: one for an unknown household and for one the caller
    // may not record a visit of, so neither tells which households exist.
    pub const SYNC_NO_SUCH_HOUSEHOLD: &str = "农户不存在或不在您的权限范围内";
    pub const SYNC_VISIT_ID_TAKEN: &str = "该走访编号已被占用，无法保存，请重新开始一次走访";

    /// Under an income row: the figure the last visit of the year recorded.
    pub fn last_income(amount: &str, day: &str, evidence: bool) -> String {
        let backed = if evidence {
            WITH_EVIDENCE
        } else {
            WITHOUT_EVIDENCE
        };
        format!("上次登记：{amount} 元（{day}，{backed}）")
    }

    /// Under the household size: what the register and the last visit say.
    pub fn size_on_record(members: i64, confirmed: Option<i32>) -> String {
        match confirmed {
            Some(n) if i64::from(n) != members => {
                format!("户籍登记 {members} 人；本年度上次走访确认 {n} 人")
            }
            _ => format!("户籍登记 {members} 人"),
        }
    }

    /// What the household confirms about one measure it changed.
    pub fn measure_now(status: &str, detail: &str) -> String {
        if detail.is_empty() {
            format!("改为：{status}")
        } else {
            format!("改为：{status}（{detail}）")
        }
    }

    pub fn people(n: i32) -> String {
        format!("{n} 人")
    }

    // 一户一策 (the plan section of the household page)
    pub const PLAN_TITLE: &str = "帮扶计划（一户一策）";
    pub const NO_PLAN: &str = "该户还没有帮扶计划。";
    pub const CREATE_PLAN: &str = "建立帮扶计划";
    pub const EDIT_PLAN: &str = "修改计划";
    pub const SAVE_PLAN: &str = "保存修改";
    pub const RESPONSIBLE: &str = "帮扶责任人";
    pub const LABOUR_SITUATION: &str = "劳动力状况";
    pub const HEALTH_SITUATION: &str = "健康状况";
    pub const LABOUR_HINT: &str = "如：普通劳动力2人，弱劳动力1人；户主在县城务工";
    pub const HEALTH_HINT: &str = "如：户主母亲患长期慢性病，需常年服药";
    pub const PHONE_HINT: &str = "手机号或带区号的座机号";
    pub const PHONE_KEEP_HINT: &str = "不修改请留空，现为 ";
    pub const PLAN_UPDATED: &str = "更新于 ";
    pub const MEASURES: &str = "帮扶措施";
    pub const NO_MEASURES: &str = "还没有帮扶措施。";
    pub const ADD_MEASURE: &str = "新增措施";
    pub const MEASURE_CATEGORY: &str = "措施类别";
    pub const MEASURE_ACTION: &str = "具体措施";
    pub const MEASURE_ACTION_HINT: &str = "如：养殖肉牛2头，申请见犊补母奖补";
    pub const FUNDING: &str = "资金";
    pub const FUNDING_YUAN: &str = "资金金额（元）";
    pub const FUNDING_SOURCE: &str = "资金来源";
    pub const FUNDING_SOURCE_HINT: &str = "如：衔接资金、自筹；无资金投入可不填";
    pub const NO_FUNDING: &str = "无资金投入";
    pub const DUE_ON: &str = "完成期限";
    pub const EXPECTED_INCOME: &str = "预期年增收";
    pub const EXPECTED_INCOME_YUAN: &str = "预期年增收（元）";
    pub const MEASURE_STATUS: &str = "措施状态";
    pub const MEASURE_REMARK: &str = "备注";
    pub const UPDATE_MEASURE: &str = "更新进展";
    pub const SAVE_MEASURE: &str = "保存进展";
    pub const OVERDUE_TAG: &str = "逾期";
    pub const MEASURE_HISTORY: &str = "变更记录";
    pub const MOVED_ONLINE: &str = "线上修改";
    pub const MOVED_IN_VISIT: &str = "走访时 ";
    pub const YUAN: &str = " 元";

    pub fn measure_counts(total: usize, done: usize) -> String {
        format!("共 {total} 项 · 已完成 {done} 项")
    }

    pub fn overdue_count(n: usize) -> String {
        format!("逾期 {n} 项")
    }

    /// A refused field's message as a person reads it: with the field's
    /// Chinese name when it has one; an import column (already Chinese) as
    /// it is; an internal name (`note`, `lines[2].paid`) never.
    pub fn field_problem(field: &str, message: &str) -> String {
        if !field.is_ascii() {
            return format!("{field}：{message}");
        }
        // `lines[2].received_fen` → 第3笔补贴·实收金额: which line, in words.
        let mut parts = Vec::new();
        for (list, words) in [("lines[", "笔补贴"), ("income[", "项收入")] {
            if let Some(n) = field
                .strip_prefix(list)
                .and_then(|rest| rest.split(']').next())
                .and_then(|n| n.parse::<usize>().ok())
            {
                parts.push(format!("第{}{words}", n.saturating_add(1)));
            }
        }
        let last = field.rsplit('.').next().unwrap_or(field);
        parts.extend(field_label(last).map(str::to_owned));
        if parts.is_empty() {
            message.to_owned()
        } else {
            format!("{}：{message}", parts.join("·"))
        }
    }

    fn field_label(field: &str) -> Option<&'static str> {
        Some(match field {
            "note" | "notes" => "备注",
            "comment" => "审核意见",
            "resolution" => "处理结果",
            "assignee_id" => "处理人",
            "state" => "审核结果",
            "status" => "状态",
            "done_on" => "完成日期",
            "drop_reason" => "放弃原因",
            "due_on" => "计划完成日期",
            "category" => "措施类别",
            "paid" | "paid_fen" | "received_fen" => "实收金额",
            "received_on" => "到账日期",
            "reason" | "reason_text" => "未足额原因",
            "channel" => "发放渠道",
            "amount_fen" => "金额",
            "met_with" => "受访人",
            "started_at" => "走访时间",
            "ended_at" => "结束时间",
            "proxy_reason" => "代签或按手印的原因",
            "signer_name" => "签字人姓名",
            "signer_relation" => "与户主关系",
            "village" => "村",
            "username" => "用户名",
            "password" | "new_password" => "密码",
            "current_password" => "当前密码",
            "display_name" => "姓名",
            "role" => "角色",
            "area" | "area_code" => "区域",
            "funding_source" => "资金来源",
            "item" => "补贴项目",
            "as_of" => "截至日期",
            "labour_situation" => "劳动力情况",
            "health_situation" => "健康情况",
            _ => return None,
        })
    }

    /// How much of the roster has come: `已收到 120 KB，共 480 KB`.
    pub fn downloaded_bytes(received: u64, total: Option<u64>) -> String {
        match total {
            Some(total) => format!("已收到 {}，共 {}", size(received.min(total)), size(total)),
            None => format!("已收到 {}", size(received)),
        }
    }

    /// A size a worker reads at a glance: KB below a megabyte, else MB with
    /// one decimal (integer arithmetic, as [`took_seconds`]).
    pub fn size(bytes: u64) -> String {
        if bytes < 1024 * 1024 {
            format!("{} KB", bytes.div_ceil(1024))
        } else {
            let tenths = u128::from(bytes) * 10 / (1024 * 1024);
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    }

    pub fn seconds_so_far(s: u32) -> String {
        format!("（已用 {s} 秒）")
    }

    pub fn open_discrepancies(n: i64) -> String {
        format!("{n} 项问题待处理")
    }

    /// `2027年3月1日`, written by hand (see `short_time`).
    pub fn chinese_date(d: chrono::NaiveDate) -> String {
        use chrono::Datelike;
        format!("{}年{}月{}日", d.year(), d.month(), d.day())
    }

    /// What the household confirms, in its own voice.
    pub fn confirm_statement(day: &str, worker: &str, head: &str) -> String {
        format!(
            "{day}，帮扶干部{worker}到我家（户主{head}）核实。下面写的补贴到账情况和家里的情况，我都看过了，属实。"
        )
    }

    pub fn short_payments(n: usize) -> String {
        format!("有 {n} 项没有足额到账")
    }

    pub fn later_payments(n: usize) -> String {
        format!("另有 {n} 项还没到发放时间")
    }

    pub fn paid_rest_later(later: i64) -> String {
        format!("到期的已到位，{later} 项未到期")
    }

    pub fn pending(n: usize) -> String {
        format!("待上传 {n} 条")
    }

    pub fn pending_sign_out_warning(n: usize) -> String {
        format!(
            "还有 {n} 条走访未上传。退出后它们仍保存在本手机，您下次登录时会自动上传；其他人登录看不到。"
        )
    }

    pub fn assigned(changed: u64) -> String {
        if changed == 0 {
            "没有需要变更的农户".to_owned()
        } else {
            format!("已分配 {changed} 户")
        }
    }

    pub fn caseload(n: i64) -> String {
        format!("负责 {n} 户")
    }

    pub fn user_created(name: &str, username: &str) -> String {
        format!("已创建账号：{name}（{username}）")
    }

    pub fn households_count(n: usize) -> String {
        format!("共 {n} 户")
    }

    pub fn downloaded(n: usize, at: &str) -> String {
        format!("离线数据 {n} 户，下载于 {at}")
    }

    /// Tenths of a second by integer arithmetic: float formatting would
    /// add its own code to the phone's bundle.
    pub fn took_seconds(ms: u32) -> String {
        format!("用时 {}.{} 秒", ms / 1000, ms % 1000 / 100)
    }

    /// Millionths of a degree as degrees with five decimals (`35.58123`).
    pub fn degrees(e6: i64) -> String {
        let sign = if e6 < 0 { "-" } else { "" };
        let abs = e6.unsigned_abs();
        format!("{sign}{}.{:05}", abs / 1_000_000, abs % 1_000_000 / 10)
    }
}

#[cfg(test)]
mod tests {
    use super::zh;

    #[test]
    fn numbers_written_by_hand_read_as_formatting_would() {
        assert_eq!(zh::took_seconds(0), "用时 0.0 秒");
        assert_eq!(zh::size(0), "0 KB");
        assert_eq!(zh::size(1), "1 KB");
        assert_eq!(zh::size(1024 * 1024 - 1), "1024 KB");
        assert_eq!(zh::size(5 * 1024 * 1024 + 700 * 1024), "5.6 MB");
        assert_eq!(zh::size(u64::MAX), "17592186044415.9 MB");
        assert_eq!(
            zh::downloaded_bytes(2048, Some(4096)),
            "已收到 2 KB，共 4 KB"
        );
        assert_eq!(zh::downloaded_bytes(2048, None), "已收到 2 KB");
        assert_eq!(zh::took_seconds(12_345), "用时 12.3 秒");
        assert_eq!(zh::degrees(35_581_230), "35.58123");
        assert_eq!(zh::degrees(-104_623_450), "-104.62345");
        assert_eq!(zh::degrees(5), "0.00000");
        assert_eq!(zh::degrees(i64::MIN), "-9223372036854.77580");
        assert_eq!(
            zh::chinese_date(chrono::NaiveDate::from_ymd_opt(2027, 3, 1).unwrap()),
            "2027年3月1日"
        );
    }

    #[test]
    fn refused_fields_are_named_in_chinese_or_not_at_all() {
        assert_eq!(
            zh::field_problem("resolution", "请选择处理结果"),
            "处理结果：请选择处理结果"
        );
        assert_eq!(
            zh::field_problem("measure_id", "编号格式错误"),
            "编号格式错误"
        );
        assert_eq!(
            zh::field_problem("身份证号", "格式错误"),
            "身份证号：格式错误"
        );
        for field in ["note", "comment", "resolution", "x_y", "visit_id"] {
            assert!(!zh::field_problem(field, "m").contains(field));
        }
    }
}
