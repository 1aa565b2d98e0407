"""Routing on the pipeline's tokens: the same decisions as on the text, without a second jieba pass."""
import config
from opinion.nlp.clean import clean
from opinion.nlp.doc import Doc
from opinion.nlp.segment import Segmenter
from opinion.routing import Router
from opinion.routing.classifier import MODEL_DIR, _load
from opinion.settings.district import load_district

TEXTS = ["公交车司机拒载还骂人，车站等了一个小时", "小区楼下的餐馆油烟太大，晚上噪音扰民",
         "孩子学校的食堂饭菜质量太差，家长投诉没人管", "医院挂号排队三个小时，专家号全被黄牛抢了",
         "工厂拖欠农民工工资半年不发", "景区门票涨价还强制购物"]


def test_tokens_route_like_text_and_skip_jieba():
    district = load_district(config.Config.DISTRICT_FILE)
    fresh = _load.__wrapped__(str(MODEL_DIR.resolve()))  # its own, never-used tokenizer
    segmenter = Segmenter(user_words=district.user_words())
    tokens = [segmenter(clean(Doc(raw=t))).tokens for t in TEXTS]
    by_tokens = Router(district, classifier=fresh).route_batch(TEXTS, tokens)
    assert not fresh.pre._ready  # jieba inside the classifier was never needed
    by_text = Router(district, classifier=fresh).route_batch(TEXTS)
    assert [d.category for d in by_tokens] == [d.category for d in by_text]
    assert [d.unit for d in by_tokens] == [d.unit for d in by_text]
