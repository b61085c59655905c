//! Every user-facing string, one module per language. Chinese first; an
//! English module can follow with the same names.

pub mod zh {
    pub const APP_NAME: &str = "到户";
    pub const APP_TAGLINE: &str = "补贴到户 · 逐户核实";

    pub const ERR_UNAUTHORIZED: &str = "请先登录";
    pub const ERR_BAD_CREDENTIALS: &str = "用户名或密码错误";
    pub const ERR_FORBIDDEN: &str = "无权访问：该内容不在您的管辖范围内";
    pub const ERR_NOT_FOUND: &str = "未找到该记录";
    pub const ERR_INTERNAL: &str = "服务器出错，请稍后再试";

    pub const SIGN_IN: &str = "登录";
    pub const SIGN_OUT: &str = "退出";
    pub const USERNAME: &str = "用户名";
    pub const PASSWORD: &str = "密码";
    pub const SIGNING_IN: &str = "正在登录…";

    pub const MY_HOUSEHOLDS: &str = "我的帮扶户";
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
    pub const VILLAGE: &str = "所在村";
    pub const WORKER: &str = "帮扶干部";
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
    pub const UNASSIGNED_COUNT: &str = "未分配";

    pub const FORBIDDEN_TITLE: &str = "无权访问";
    pub const FORBIDDEN_BODY: &str = "该内容不在您的管辖范围内。此次访问已记录。";
    pub const NOT_FOUND_TITLE: &str = "页面不存在";
    pub const BACK_HOME: &str = "返回首页";
}
