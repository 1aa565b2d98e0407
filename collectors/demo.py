"""A stand-in channel for the demo: a few new generated posts on each run, so the demo stays live.

The posts come from the demo's own generator of realistic district posts (no real person's words).
Each incident is one matter in one place — a flooded underpass, a school delaying term — that
citizens post about in waves over hours or days, in their own varied wording, with the usual Weibo
trappings (@ the government account, #话题#, [表情], reposts). The topics, routing and cases of the
demo grow out of these exactly as they would from a live stream; `seed-demo` fills the demo's past
with the same generator.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator

from collectors.base import BaseCollector, NormalisedPost


class DemoCollector(BaseCollector):
    kind = "demo"
    # The demo stands in for the district's Weibo account, so a reply "goes back" through it as it
    # would through the real API: nothing leaves the machine, and no link is asked for.
    can_publish = True
    max_reply_chars = 140

    def __init__(self, config: dict, state: dict):
        super().__init__(config, state)
        self.per_run = int(self.config.get("per_run", 3))

    def collect(self, since: datetime | None) -> Iterator[NormalisedPost]:
        run = int(self.state.get("runs", 0)) + 1
        now = datetime.now(timezone.utc)
        for p in generate(self.per_run, now - timedelta(minutes=5), now, seed=1000 + run):
            yield NormalisedPost(external_id=f"live-{run}-{p.external_id}", text=p.text,
                                 created_at=p.created_at, author=p.author,
                                 author_followers=p.followers, reposts=p.reposts,
                                 comments=p.comments, likes=p.likes, payload={"generator": "demo"})
        self.state["runs"] = run

    def publish_reply(self, post_external_id: str, text: str) -> str | None:
        return None  # generated posts have no address to link to


# (headline, hashtag, lines citizens write, followers scale, positive?)
INCIDENTS = [
    ("中山路下穿隧道积水", "中山路积水", [
        "中山路下穿隧道又积水了，水已经没过半个车轮，车子根本过不去{emo}",
        "每次下雨中山路隧道就变成河，排水到底什么时候能修好？@示范区发布",
        "早上上班被困在中山路隧道口，积水太深，交警也没看到，太危险了",
        "中山路隧道积水半米深，有辆车熄火在里面，希望有关部门赶紧抽水",
        "下雨天中山路下穿隧道内涝，已经第三次了，排水泵是摆设吗{emo}",
    ], 3000, False),
    ("南苑小区旁工地夜间施工噪音扰民", "南门工地噪音", [
        "南苑小区旁边的工地半夜两点还在施工，噪音吵得孩子没法睡觉{emo}",
        "南门口那个工地天天夜里打桩，投诉了好几次都没人管，噪声太大了",
        "凌晨一点了，南苑小区外面的工地还在施工，混凝土车来回跑，还让不让人休息",
        "工地夜间施工噪音扰民，南苑小区业主联名投诉，请环保和住建部门管一管",
    ], 1500, False),
    ("实验小学推迟开学通知引家长不满", "实验小学推迟开学", [
        "实验小学突然通知推迟开学一周，家长都要上班，孩子谁来带？学校为什么不早说",
        "推迟开学也该提前通知吧，实验小学昨晚十点才在群里说，家长们很着急{emo}",
        "听说实验小学推迟开学是因为教学楼改造没完工，这个工期是怎么安排的",
        "实验小学推迟开学，课外辅导班倒是照常收费，教育局能不能给个说法",
    ], 2000, False),
    ("区人民医院挂号难排长队", "人民医院挂号", [
        "区人民医院早上六点就排长队挂号，网上预约永远约不到，看病太难了{emo}",
        "带老人去区人民医院看病，挂号排了两个小时，医生只看了三分钟",
        "人民医院的网上挂号系统总是崩，号都被黄牛抢了，卫健委管不管",
        "区人民医院门诊挂号窗口只开两个，排队的老人站不住，建议增加窗口",
    ], 2500, False),
    ("新华菜市场售卖过期食品", "新华菜市场食品安全", [
        "在新华菜市场买的熟食回家发现过期三天了，商贩还不承认{emo}",
        "新华菜市场有摊位把过期食品改了日期再卖，食品安全谁来监管",
        "昨天在新华菜市场买的猪肉有异味，吃了拉肚子，市场监管部门查一查吧",
        "曝光新华菜市场过期食品问题，已经向12345反映，希望尽快处理",
    ], 1800, False),
    ("滨江新城拆迁补偿争议", "滨江拆迁", [
        "滨江新城拆迁补偿标准比隔壁低一半，村民们不服，要求公开补偿方案{emo}",
        "滨江新城征收公告贴出来了，安置房在哪里、什么时候交房都没说清楚",
        "滨江街道拆迁办的人晚上上门催签字，态度很差，这合规吗",
        "滨江新城几十户拆迁户聚集在街道办门口维权，要求和领导对话",
    ], 4000, False),
    ("北关路公交线路调整出行不便", "北关公交调整", [
        "北关路的12路公交突然改线了，北苑社区的老人去医院要换两次车",
        "公交线路调整前都不征求一下意见吗？北关路这边等车要四十分钟{emo}",
        "北关路站取消以后，北苑社区到地铁站没有公交了，希望恢复原线路",
    ], 1200, False),
    ("东湖花园小区物业不作为电梯频繁故障", "东湖花园电梯", [
        "东湖花园3栋电梯一个月坏了五次，昨天又把人困在里面半小时{emo}",
        "东湖花园物业收了钱不办事，电梯维保记录都是假的，住建部门管一管",
        "东湖花园电梯又停了，老人只能爬十八楼，物业说没钱修",
        "电梯困人事件已经第三次了，东湖花园业主要求更换物业公司",
    ], 1000, False),
    ("人民路商户占道经营", "人民路占道经营", [
        "人民路火车站附近的小摊贩占道经营，人行道根本走不了{emo}",
        "人民路晚上乱摆摊，油烟大、垃圾多，城管来了就跑，走了又来",
        "人民广场周边占道经营越来越严重，消防通道都被堵了",
    ], 800, False),
    ("西城化工厂异味污染", "西城异味", [
        "西城路那边的化工厂晚上偷排废气，刺鼻的臭味熏得人头疼{emo}",
        "锦绣社区这几天一直有很浓的异味，怀疑是西城工业园排污，生态环境局来测一测",
        "西城化工厂旁边的河水发黑发臭，鱼都死了，是不是有人偷排污水",
        "住在西城的居民每天闻臭味，孩子咳嗽不止，希望环保部门彻查",
    ], 2200, False),
    ("锦绣花园建筑工地欠薪农民工讨薪", "农民工讨薪", [
        "锦绣花园项目拖欠工资半年了，二十多个农民工讨薪无门{emo}",
        "马上过年了，包工头跑了，锦绣花园工地的工人工资谁来发？人社局管不管",
        "我们在锦绣花园干了八个月，一分钱没拿到，劳动监察说让我们等",
    ], 900, False),
    ("翠湖社区老旧小区改造进度慢", "翠湖社区改造", [
        "翠湖社区老旧小区改造挖了三个月，路还是坑坑洼洼，进出很不方便",
        "翠湖社区改造施工队经常停工，楼道管线拉了一半就不管了{emo}",
        "老旧小区改造是好事，但翠湖社区这进度也太慢了，什么时候完工",
    ], 700, False),
    ("光明小区燃气管道泄漏", "光明小区燃气", [
        "光明小区楼下闻到很重的燃气味，已经打电话报修两个小时了还没人来{emo}",
        "光明小区燃气泄漏，整栋楼的人都下楼了，太吓人了，燃气公司快来",
        "新华路光明小区燃气管道老化，上个月就泄漏过一次，希望彻底检修",
    ], 3500, False),
    ("江滩公园溺水事故", "江滩溺水", [
        "江滩公园今天下午有人溺水，救上来的时候已经不行了，太让人难过了{emo}",
        "江滩公园的防护栏坏了很久了，警示牌也没有，才出了溺水事故",
        "滨江路江滩公园溺水事件，希望相关部门加强巡查，增加救生设施",
    ], 20000, False),
    ("医保异地报销流程繁琐", "医保报销", [
        "异地就医报销跑了四趟还没办下来，每次都说材料不全{emo}",
        "医保报销窗口的工作人员说话很冲，问个流程都不耐烦",
        "门诊统筹报销到底怎么办？医保局的电话一直打不通",
    ], 600, False),
    ("暴雨后多条道路积水交通拥堵", "暴雨交通", [
        "暴雨后湖滨路积水严重，车辆堵了两公里{emo}",
        "南环路红绿灯坏了，暴雨里交通一团乱，交警在哪里",
        "今天早高峰全城大堵车，湖滨路和南环路积水没人疏导",
    ], 5000, False),
    ("中山公园违规砍伐行道树", "中山公园砍树", [
        "中山公园旁边几十棵老梧桐树一夜之间被砍了，谁批准的{emo}",
        "中山路行道树被砍光了，夏天没有树荫，园林部门给个解释",
    ], 1300, False),
    ("区政务服务中心办事排队久", "政务服务中心", [
        "在区政务服务中心办营业执照排了三个小时，窗口还午休{emo}",
        "一网通办说是网上能办，结果还是要跑现场，政务服务中心效率太低",
    ], 500, False),
    ("感谢消防员及时救火", "消防救援", [
        "感谢消防员叔叔半夜及时赶到，北关路的火很快就扑灭了，辛苦了[心]",
        "北关路昨晚起火，消防员十分钟就到了，专业又及时，给他们点赞[赞]",
        "致敬消防救援大队，昨晚北苑社区的火灾没有人员伤亡，谢谢你们",
    ], 3000, True),
    ("点赞东湖公园改造", "东湖公园", [
        "东湖公园改造后太漂亮了，健身步道和儿童乐园都很好，周末带娃来玩[哈哈]",
        "新的东湖公园真不错，晚上散步的人很多，为区里的民生工程点赞",
    ], 1500, True),
    ("南门口交通事故致人受伤", "南门交通事故", [
        "南门口十字路口发生交通事故，一辆货车闯红灯撞了电动车，有人受伤{emo}",
        "南门口那个路口没有红绿灯很久了，今天又出车祸了，交警管一管",
        "南门口事故现场好多人围观，希望伤者平安，这路口真的该整治了",
    ], 6000, False),
    ("学校周边黑车接送学生", "校车安全", [
        "实验中学门口每天好多黑车接送学生，超载严重，出了事谁负责{emo}",
        "学校周边的黑面包车一车塞十几个孩子，交警和教育局都不管吗",
    ], 1100, False),
    ("城南养老院服务差", "养老院", [
        "城南养老院伙食太差了，老人一个月瘦了十斤，民政局查一查{emo}",
        "养老院护工打骂老人的视频是真的吗？家属要求给个说法",
    ], 2600, False),
    ("小区垃圾清运不及时", "垃圾清运", [
        "锦绣社区的垃圾桶三天没人清运了，臭气熏天，苍蝇到处飞{emo}",
        "夏天垃圾清运不及时，西城路小区门口的垃圾堆成山了",
    ], 400, False),
]
EMOS = ["[怒]", "[抓狂]", "[泪]", "[生病]", "[衰]", "", "", "", "！！！", "。。。"]
PREFIXES = ["", "", "", "#{tag}# ", "【{head}】", "@示范区发布 "]
SUFFIXES = ["", "", "", " 转发扩散", " @示范区发布", " 求关注", " 2示范区"]


@dataclass
class DemoPost:
    external_id: str
    text: str
    author: str
    followers: int
    created_at: datetime
    reposts: int
    comments: int
    likes: int


def generate(n_posts: int, start: datetime, end: datetime, seed: int = 7) -> list[DemoPost]:
    """`n_posts` posts over [start, end), incidents breaking at random times, in time order."""
    rng = random.Random(seed)
    span = (end - start).total_seconds()
    # Each incident breaks once, and a few recur (the flooding comes back with the next storm).
    waves = [(inc, start + timedelta(seconds=rng.uniform(0, span * 0.95)))
             for inc in INCIDENTS for _ in range(1 + (rng.random() < 0.25))]
    posts: list[DemoPost] = []
    last: dict[str, DemoPost] = {}
    for i in range(n_posts):
        (head, tag, lines, scale, positive), broke = rng.choice(waves)
        # Posts follow a burst: most in the first hours, a tail over two days.
        at = broke + timedelta(minutes=rng.expovariate(1 / 240))
        if at >= end:
            at = end - timedelta(minutes=rng.uniform(1, 120))
        text = rng.choice(lines).format(emo="" if positive else rng.choice(EMOS))
        text = rng.choice(PREFIXES).format(tag=tag, head=head) + text + rng.choice(SUFFIXES)
        if head in last and rng.random() < 0.12:  # a repost of an earlier post on the same matter
            text = f"{rng.choice(['同问', '一样', '支持', '顶'])}！//@{last[head].author}:{last[head].text}"
        followers = int(rng.paretovariate(1.2) * scale / 10)
        post = DemoPost(f"demo-{seed}-{i:05d}", text, f"网友{rng.randint(10000, 99999)}",
                        followers, at, rng.randint(0, 50), rng.randint(0, 80), rng.randint(0, 300))
        posts.append(post)
        last[head] = post
    posts.sort(key=lambda p: p.created_at)
    return posts
