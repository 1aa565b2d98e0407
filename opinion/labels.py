"""Every Chinese name the people read for a code the system stores, defined once.

Levels, clocks, severities, statuses, roles, kinds: pages, reports, messages and the command line
all take their words from here, so a name changes in one place. This module imports nothing of the
project, so any stage may use it.
"""
from __future__ import annotations

ROLE_NAMES = {"spokesperson": "新闻发言人", "monitor": "舆情监测员", "leader": "领导", "admin": "系统管理员"}
UNIT_KIND_NAMES = {"department": "职能部门", "street": "街道办事处", "centre": "监测中心"}
PRIORITY_NAMES = {"urgent": "紧急", "high": "重要", "normal": "一般"}

# Posts: what the analysis says of them.
EMOTION_NAMES = {"anger": "愤怒", "disgust": "厌恶", "fear": "恐惧", "sadness": "悲伤", "surprise": "惊讶",
                 "optimism": "乐观", "gratitude": "感激"}
POLARITY_NAMES = {"negative": "负面", "neutral": "中性", "positive": "正面"}

# Sources: their kind and their health.
SOURCE_KIND_NAMES = {"rss": "RSS/Atom 订阅", "weibo_api": "微博开放接口", "webhook": "Webhook 推送",
                     "manual": "人工录入", "file": "文件导入", "demo": "演示数据"}
SOURCE_STATUS_NAMES = {"ok": "正常", "failing": "故障", "silent": "静默", "never": "未运行"}
# 政务微博矩阵: the platforms of a unit's official accounts (opinion.models.matrix).
PLATFORM_NAMES = {"weibo": "微博", "wechat": "微信公众号", "douyin": "抖音", "web": "网站栏目"}

# Cases: status, the three clocks, the ladder, the callback, replies.
CASE_STATUS_NAMES = {"new": "待签收", "acknowledged": "已签收", "replied": "已回应", "resolved": "已办结",
                     "verified": "已回访", "closed": "已关闭", "transferred_back": "退回待定",
                     "reopened": "重新办理", "merged": "已合并"}
CLOCK_NAMES = {"acknowledge": "签收", "respond": "首次回应", "resolve": "办结"}
LEVEL_NAMES = {1: "电子催办", 2: "人工交办", 3: "现场督办", 4: "短信督办", 5: "专报批办"}
SATISFACTION_NAMES = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}
REPLY_STATUS_NAMES = {"draft": "草稿", "pending_approval": "待审核", "published": "已发布",
                      "rejected": "已退回"}

# Alerts.
SEVERITY_NAMES = {"info": "提示", "warning": "警告", "critical": "严重"}
RULE_NAMES = {"sensitive_word": "敏感词命中", "negative_surge": "负面激增", "volume_burst": "声量突增",
              "influential_negative": "大V负面", "source_silent": "数据源静默", "case_overdue": "工单超时",
              "escalation": "工单督办"}
ALERT_STATUS_NAMES = {"open": "未处理", "acknowledged": "已确认", "cleared": "已解除"}

REPORT_KINDS = {"daily": "舆情日报", "weekly": "舆情周报", "monthly": "舆情月报", "quarterly": "舆情季报",
                "special": "舆情专报"}
# A period's kind (opinion.reports.periods) -> the periodic report made for it.
PERIOD_REPORTS = {"day": "daily", "week": "weekly", "month": "monthly", "quarter": "quarterly"}

# The audit log: what each recorded action is called.
ACTION_NAMES = {
    "report.notes_saved": "填写专报研判意见与处置建议",
    # cases
    "case.opened": "立案", "case.acknowledged": "签收", "case.replied": "回复", "case.resolved": "办结",
    "case.reminded": "电子催办", "case.escalated": "升级督办", "case.priority_raised": "提高优先级",
    "case.priority_changed": "调整优先级", "case.transferred_back": "申请退回", "case.transfer_reassigned": "改派",
    "case.transfer_sent_back": "退回驳回", "case.reassigned": "单位内改派", "case.co_unit_added": "增加协办单位",
    "case.extension_requested": "申请延期", "case.extension_approved": "批准延期",
    "case.extension_refused": "不予延期", "case.verified": "回访", "case.reopened": "重新办理",
    "case.closed": "关闭", "case.merged": "合并", "case.topic_merged": "随话题合并", "case.instruction": "领导批示",
    "case.notified": "督办通知", "case.rumour_check_added": "增加疑似谣言核实任务",
    "topic.rumour_marked": "标记疑似谣言", "topic.rumour_verified": "登记谣言核实结果",
    "reply.submitted": "回复提交审核", "reply.approved": "批准回复", "reply.rejected": "退回回复",
    "reply.withdrawn": "撤回待审回复", "template.saved": "保存口径模板",
    "statement.submitted": "发布稿提交审核", "statement.approved": "批准发布稿", "statement.rejected": "退回发布稿",
    "statement.published": "发布稿已发布", "statement.failed": "发布稿发布失败",
    "duty.shift_added": "新增值班", "duty.shift_removed": "删除值班",
    # online interviews (在线访谈)
    "interview.scheduled": "安排在线访谈", "interview.live": "开始在线访谈", "interview.ended": "结束在线访谈",
    "interview.published": "发布访谈实录", "interview.question_screened": "筛选访谈提问",
    "interview.answered": "答复访谈提问", "interview.answer_edited": "修改访谈答复",
    "interview.follow_up": "访谈提问转交办理",
    # alerts, topics, sources
    "alert.acknowledged": "确认预警", "topic.merged": "合并话题", "topic.posts_moved": "移动帖子",
    "topic.split": "拆分话题", "topic.renamed": "重命名话题",
    "source.created": "新增数据源", "source.edited": "修改数据源", "source.enabled": "启用数据源",
    "source.disabled": "停用数据源", "post.entered": "人工录入帖子",
    # administration: configuration, units, people, tokens
    "config.changed": "修改配置", "matrix.account_saved": "保存政务账号", "config.reset": "恢复默认配置", "unit.created": "新增单位",
    "unit.updated": "修改单位", "unit.activated": "启用单位", "unit.deactivated": "停用单位",
    "user.created": "新建账号", "user.password_reset": "重置密码", "user.activated": "启用账号",
    "user.deactivated": "停用账号", "user.role_changed": "调整角色", "user.login": "登录",
    "user.login_failed": "登录失败", "user.password_changed": "修改密码",
    "user.two_factor_enabled": "启用两步验证", "user.two_factor_disabled": "关闭两步验证",
    "user.two_factor_failed": "两步验证失败", "user.two_factor_reset": "重置两步验证",
    "token.created": "创建 API 令牌", "token.revoked": "吊销 API 令牌",
}
