"""The audit log reads as sentences (no instruction_id=1 notified=[...] or "账号 2"), 50 to a page,
filterable."""
from opinion.models import AuditEvent, Unit, utcnow
from tests.factories import login, make_user


def test_each_entry_is_a_sentence_and_the_log_is_paginated(client, session):
    monitor = make_user(session, "monitor1", "monitor", "center")
    monitor.name = "王监测"
    make_user(session, "zs_fyr", "spokesperson", "zs").name = "李发言"
    target = make_user(session, "zs2", "spokesperson", "zs")
    target.name = "赵新人"
    now = utcnow()
    session.add(AuditEvent(action="case.reassigned", object_type="case", object_id=7, actor="monitor1", at=now,
                           before={"unit": "slj", "assignee_id": None}, after={"unit": "zs", "level": 3},
                           reason="属地管理"))
    session.add(AuditEvent(action="instruction.added", object_type="case", object_id=7, actor="monitor1", at=now,
                           after={"instruction_id": 1, "notified": ["zs_fyr", "monitor1"]}))
    session.add(AuditEvent(action="user.created", object_type="user", object_id=target.id, actor="monitor1", at=now,
                           after={"username": "zs2", "role": "spokesperson"}))
    for n in range(60):
        session.add(AuditEvent(action="alert.acknowledged", object_type="alert", object_id=n, actor="system", at=now))
    session.commit()
    login(client, "monitor1")
    html = client.get("/audit/?object_type=case").get_data(as_text=True)
    log = html.split('<ol class="audit-log">')[1]
    assert "instruction_id" not in log and "notified=" not in log and "['" not in log
    assert "责任单位由“区水利局”改为“中山街道办事处”" in log and "督办级别：现场督办" in log and "原因：属地管理" in log
    assert "已通知：李发言、王监测" in log and log.count("王监测") >= 2
    users = client.get("/audit/?object_type=user").get_data(as_text=True).split('<ol class="audit-log">')[1]
    assert "账号“赵新人”" in users and "账号 2" not in users and "角色：新闻发言人" in users
    first = client.get("/audit/").get_data(as_text=True)
    total = session.query(AuditEvent).count()
    assert f"共 {total} 条" in first and first.split('<ol class="audit-log">')[1].count("<li>") == 50
    pages = (total + 49) // 50
    assert f"第 1 / {pages} 页" in first and pages >= 2
    last = client.get(f"/audit/?page={pages}").get_data(as_text=True).split('<ol class="audit-log">')[1]
    assert last.count("<li>") == total - 50 * (pages - 1)
    assert session.query(Unit).count() > 0
