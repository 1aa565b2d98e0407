"""Reviewing a reply: the approval page shows the post being answered; a reply that repeats itself
(a 5,000-character paste) is refused with the reason, real replies are not (none of the 2,816
published answers in gov-messages/replies.csv is flagged)."""
from opinion.cases.replies import check_reply
from tests.replies.test_web import As

GOOD = ("网友您好！经核实，区水利局已于12月7日组织人员对中山路隧道排水泵站进行检修，"
        "更换了两台故障水泵，并增设临时抽排设备。下一步我局将加强汛期巡查，确保隧道排水畅通。"
        "如有疑问，请拨打咨询电话 12345。感谢您对我区工作的关心与支持！")


def kinds(district, text):
    return [f.kind for f in check_reply(district, text)]


def test_a_five_thousand_character_repetitive_reply_is_refused(district):
    sentence = "您好，我们已经收到您的反映，正在处理中，请耐心等待。"
    pasted = (sentence * 200)[:5000]
    findings = [f for f in check_reply(district, pasted) if f.kind == "repetitive"]
    assert findings and findings[0].severity == "error" and "重复" in findings[0].message
    noise = "好" * 4000
    assert "repetitive" in kinds(district, noise)


def test_an_ordinary_reply_and_a_long_real_one_are_not_flagged(district):
    assert "repetitive" not in kinds(district, GOOD)
    varied = GOOD + ("关于您反映的小区门口积水问题，区住建局会同街道办事处于12月3日进行了现场勘查。经查，"
                     "积水原因是雨水管网年久失修、部分管段堵塞。目前施工单位已完成清淤，并对破损的检查井盖进行了更换。"
                     "针对小区周边道路低洼的情况，我局已将该路段纳入明年道路提质改造计划，届时将同步抬高路面、增设雨水口。"
                     "在改造完成前，街道将安排专人在降雨期间值守，发现积水及时抽排，并设置警示标志提醒过往行人车辆注意安全。")
    assert "repetitive" not in kinds(district, varied)


def test_the_approval_page_shows_the_post_being_answered(app, session, case):
    case.priority = "urgent"
    session.commit()
    As(app, "slj_fyr").post(f"/replies/cases/{case.id}/submit", data={"text": GOOD, "action": "send"})
    queue = As(app, "slj_head").get("/replies/approvals").get_data(as_text=True)
    assert "回复的帖子" in queue and "中山路下穿隧道积水半米深，车子熄火在里面" in queue and "江边老王" in queue
    assert queue.index("中山路下穿隧道积水半米深") < queue.index("拟发布的回复")
