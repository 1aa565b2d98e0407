"""系统管理 → 辖区地名录 / 事权清单: admins edit routing's two files with the loader's own checks; a
refused edit names the line and leaves the file alone; a saved one routes the next post, no restart."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

import config
from opinion.models import AuditEvent
from opinion.routing import Router
from tests.factories import login, make_user

SHIPPED = Path(config.Config.DISTRICT_FILE).resolve().parent


class FixedClassifier:
    def predict(self, texts, tokens=None):
        return [("城乡建设", 0.9)] * len(texts)


@pytest.fixture
def own_app(tmp_path, monkeypatch):
    """An app on a copy of the district files: the test writes them."""
    for name in ("district.yaml", "gazetteer.yaml", "responsibilities.yaml"):
        shutil.copy(SHIPPED / name, tmp_path / name)
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path / "instance"))
    from opinion import create_app
    from opinion.accounts.directory import sync_units
    from opinion.models import db
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}",
                      "WTF_CSRF_ENABLED": False, "DISTRICT_FILE": str(tmp_path / "district.yaml")})
    with app.app_context():
        db.create_all()
        sync_units(db.session, app.extensions["district"])
        db.session.commit()
        make_user(db.session, "admin", "admin")
        make_user(db.session, "monitor1", "monitor", "center")
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def test_only_admins_edit_the_routing_files(own_app):
    client = own_app.test_client()
    login(client, "monitor1")
    assert client.get("/admin/routing/gazetteer").status_code == 403
    assert client.post("/admin/routing/responsibilities", data={"body": "matters: []"}).status_code == 403


def test_a_refused_gazetteer_edit_names_the_line_and_keeps_the_file(own_app):
    client = own_app.test_client()
    login(client, "admin")
    path = Path(own_app.extensions["district"].gazetteer_file)
    before = path.read_text(encoding="utf-8")
    page = client.get("/admin/routing/gazetteer")
    assert page.status_code == 200 and "锦绣社区" in page.get_data(as_text=True)
    # 翠湖社区 added to 西城 too: it already belongs to 中山
    bad = before.replace("communities: [锦绣社区,", "communities: [翠湖社区, 锦绣社区,")
    response = client.post("/admin/routing/gazetteer", data={"body": bad})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "未保存" in text and "翠湖社区" in text and "重复" in text and "gazetteer.yaml, 第" in text
    assert path.read_text(encoding="utf-8") == before
    assert not list(path.parent.glob(".check-*"))  # no copy left behind


def test_a_saved_catalogue_edit_routes_the_next_post_without_a_restart(own_app):
    client = own_app.test_client()
    login(client, "admin")
    district = own_app.extensions["district"]
    router = Router(district, classifier=FixedClassifier())
    text = "锦绣社区的物业公司收了物业费不干事"
    assert router.route_batch([text])[0].unit == "xc"
    path = Path(district.catalogue_file)
    edited = path.read_text(encoding="utf-8").replace(
        "{code: 物业管理, category: 城乡建设, lead: fgj, co: [zjj], local: true",
        "{code: 物业管理, category: 城乡建设, lead: zjj, co: [属地街道], local: false")
    response = client.post("/admin/routing/responsibilities", data={"body": edited}, follow_redirects=True)
    assert "事权清单已保存" in response.get_data(as_text=True)
    d = router.route_batch([text])[0]
    assert d.unit == "zjj" and d.co_units == ["xc"]
    from opinion.models import db
    event = db.session.execute(select(AuditEvent).where(AuditEvent.reason == "responsibilities")).scalar_one()
    assert event.actor == "admin" and "lead: zjj, co: [属地街道]" in event.after["responsibilities"]
    # a keyword in two matters is refused with both lines
    twice = edited.replace("keywords: [危房,", "keywords: [物业费, 危房,")
    refused = client.post("/admin/routing/responsibilities", data={"body": twice})
    assert refused.status_code == 400 and "物业费" in refused.get_data(as_text=True)
    assert router.route_batch([text])[0].unit == "zjj"
