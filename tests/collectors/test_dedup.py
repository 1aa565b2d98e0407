"""Near-duplicate detection: copy-paste waves and reposts linked to their original, counted there."""
from sqlalchemy import select

from opinion.ingest.dedup import NEAR_DISTANCE, fingerprint
from opinion.models import Post
from opinion.pipeline.batch import ingest
from tests.factories import make_item, make_source

ORIGINAL = "南苑小区旁边的工地半夜两点还在施工，噪音吵得孩子没法睡觉，投诉了好几次都没人管，请环保部门管一管"
COPIES = [ORIGINAL + "[怒][怒]",
          "转发这条，大家帮帮忙 //@南苑业主:" + ORIGINAL,
          "#南门工地噪音# " + ORIGINAL + " @示范区发布",
          ORIGINAL.replace("两点", "三点")]  # one word changed (two of 17 changed: 7 bits, not caught)
DIFFERENT = ["南门口那个工地天天夜里打桩，投诉了好几次都没人管，噪声太大了，晚上根本睡不着觉",
             "凌晨一点了，南苑小区外面的工地还在施工，混凝土车来回跑，还让不让人休息了"]


def posts(session):
    return {p.external_id: p for p in session.execute(select(Post)).scalars()}


def test_copies_link_to_the_original_and_are_counted_there(app, session):
    ingest(session, app, make_source(session, "a"), [make_item("orig", ORIGINAL, minutes_ago=60)])
    items = [make_item(f"copy{i}", t) for i, t in enumerate(COPIES)]
    items += [make_item(f"diff{i}", t) for i, t in enumerate(DIFFERENT)]
    report = ingest(session, app, make_source(session, "b"), items)
    assert len(report.accepted) == 6  # stored, nothing lost
    stored = posts(session)
    original = stored["orig"]
    for i in range(len(COPIES)):
        assert stored[f"copy{i}"].duplicate_of_id == original.id, COPIES[i]
    for i in range(len(DIFFERENT)):
        assert stored[f"diff{i}"].duplicate_of_id is None, DIFFERENT[i]
    assert original.duplicate_count == len(COPIES) and original.duplicate_of_id is None


def test_copies_within_one_batch_find_each_other(app, session):
    ingest(session, app, make_source(session), [make_item("first", ORIGINAL, minutes_ago=5),
                                               make_item("second", COPIES[1])])
    stored = posts(session)
    assert stored["second"].duplicate_of_id == stored["first"].id
    assert stored["first"].duplicate_count == 1


def test_short_texts_are_not_called_copies():
    assert fingerprint(["支持"]) is None
    assert fingerprint(list("一二三四五六七八")) is not None and NEAR_DISTANCE < 10



def test_the_index_outlives_the_session_that_stored_the_original(app, session):
    ingest(session, app, make_source(session), [make_item("first", ORIGINAL, minutes_ago=5)])
    session.remove()  # the request or scheduler job that stored it has ended
    ingest(session, app, make_source(session), [make_item("copy", COPIES[0])])
    stored = posts(session)
    assert stored["copy"].duplicate_of_id == stored["first"].id
