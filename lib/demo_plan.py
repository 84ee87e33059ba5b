"""A deterministic plan for the demo flower shop: customers, products and two years of orders.

Pure Python (no Odoo import): given a seed, an anchor date and the shop's festival calendar, it returns
plain data describing what a believable small flower shop in a Chinese city looks like. The Odoo side
(``models/shop_crm_demo.py``) turns the plan into real records through the POS and sales models.

Customer behaviours ("archetypes"):

- ``regular``: a loyal regular who comes every one to three weeks, all the time.
- ``occasional``: comes every one to four months.
- ``festival``: buys around the big gifting days (情人节, 520, 七夕, 母亲节, ...) and little else.
- ``one_time``: a single purchase.
- ``lapsed``: used to come regularly, stopped coming half a year to a year and a half ago.
- ``new``: first came in the last three months.
- ``prospect``: signed up (e.g. followed the shop on WeChat) but has not bought anything yet.
- ``business``: an office, hotel or wedding planner ordering through sales orders (not the POS).
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from . import chinese_calendar

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN_CHARS = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂红玉华飞鑫波宇浩凯婷雪琳晶欣怡佳梅莉"
PHONE_PREFIXES = (
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "158",
    "159",
    "166",
    "176",
    "177",
    "180",
    "181",
    "186",
    "187",
    "188",
    "189",
    "199",
)
BUSINESS_NAMES = (
    "西湖国际酒店",
    "钱塘科技有限公司",
    "梧桐婚礼策划",
    "湖滨律师事务所",
    "悦榕咖啡馆",
    "江南设计工作室",
    "城东口腔诊所",
    "明德教育培训中心",
)
TAGS = ("VIP", "老客户", "婚礼客户", "企业客户", "花艺课程", "微信群")
SOURCES = ("walk_in", "wechat", "referral", "dianping", "meituan", "event")

# code, name, category, price in CNY, typical quantity range
PRODUCTS = (
    ("ROSE-RED", "红玫瑰 Red rose (stem)", "fresh", 8.0, (1, 11)),
    ("ROSE-PINK", "粉玫瑰 Pink rose (stem)", "fresh", 7.0, (1, 11)),
    ("LILY", "百合 Lily (stem)", "fresh", 12.0, (1, 6)),
    ("CARNATION", "康乃馨 Carnation (stem)", "fresh", 5.0, (3, 12)),
    ("SUNFLOWER", "向日葵 Sunflower (stem)", "fresh", 10.0, (1, 6)),
    ("TULIP", "郁金香 Tulip (stem)", "fresh", 9.0, (3, 10)),
    ("GYPSO", "满天星 Baby's breath (bunch)", "fresh", 25.0, (1, 2)),
    ("BQ-ROSE11", "11枝红玫瑰花束 Bouquet of 11 red roses", "bouquet", 199.0, (1, 1)),
    ("BQ-ROSE99", "99枝玫瑰花束 Bouquet of 99 roses", "bouquet", 999.0, (1, 1)),
    ("BQ-MOTHER", "康乃馨母亲节花束 Carnation bouquet for mothers", "bouquet", 168.0, (1, 2)),
    ("BQ-SEASON", "时令花束 Seasonal bouquet", "bouquet", 128.0, (1, 1)),
    ("BQ-BIRTHDAY", "生日花束 Birthday bouquet", "bouquet", 158.0, (1, 1)),
    ("BASKET", "开业花篮 Opening flower basket", "bouquet", 388.0, (1, 2)),
    ("POT-ORCHID", "蝴蝶兰盆栽 Moth orchid pot", "potted", 268.0, (1, 1)),
    ("POT-MONEY", "发财树 Money tree pot", "potted", 188.0, (1, 1)),
    ("POT-SUCC", "多肉植物 Succulent", "potted", 25.0, (1, 4)),
    ("POT-GREEN", "绿萝 Pothos pot", "potted", 39.0, (1, 2)),
    ("WRAP", "礼品包装 Gift wrapping", "extra", 15.0, (1, 1)),
    ("CARD", "贺卡 Greeting card", "extra", 5.0, (1, 1)),
    ("VASE", "玻璃花瓶 Glass vase", "extra", 45.0, (1, 1)),
    ("DELIVERY", "同城配送 Same-city delivery", "extra", 20.0, (1, 1)),
)
CATEGORIES = {
    "fresh": "鲜花 Fresh flowers",
    "bouquet": "花束花篮 Bouquets & baskets",
    "potted": "盆栽绿植 Potted plants",
    "extra": "包装配件 Wrapping & extras",
}
# The gifting days that bring customers in (codes of chinese_calendar.FESTIVAL_CODES).
GIFT_FESTIVALS = (
    "valentines",
    "womens_day",
    "mothers_day",
    "520",
    "qixi",
    "teachers_day",
    "mid_autumn",
    "spring_festival",
    "christmas",
)
# What people buy on each festival (product codes, most likely first).
FESTIVAL_PRODUCTS = {
    "valentines": ("BQ-ROSE11", "ROSE-RED", "BQ-ROSE99"),
    "520": ("BQ-ROSE11", "ROSE-RED", "ROSE-PINK"),
    "qixi": ("BQ-ROSE11", "ROSE-RED", "BQ-ROSE99"),
    "womens_day": ("TULIP", "BQ-SEASON", "ROSE-PINK"),
    "mothers_day": ("BQ-MOTHER", "CARNATION", "POT-ORCHID"),
    "teachers_day": ("CARNATION", "BQ-SEASON", "SUNFLOWER"),
    "spring_festival": ("POT-ORCHID", "POT-MONEY", "LILY"),
    "mid_autumn": ("POT-ORCHID", "BQ-SEASON", "LILY"),
    "christmas": ("BQ-SEASON", "ROSE-RED", "POT-SUCC"),
}
ARCHETYPE_SHARES = (
    ("regular", 0.15),
    ("occasional", 0.25),
    ("festival", 0.15),
    ("one_time", 0.12),
    ("prospect", 0.05),
    ("lapsed", 0.15),
    ("new", 0.10),
    # the rest are businesses, at least one
)
PAYMENT_METHODS = ("cash", "wechat", "alipay")
PAYMENT_WEIGHTS = (0.15, 0.55, 0.30)


@dataclass(frozen=True)
class PlannedCustomer:
    key: int
    name: str
    phone: str
    archetype: str
    staff_index: int
    source: str
    is_company: bool = False
    birthday: date | None = None
    gender: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlannedOrder:
    customer_key: int
    when: datetime
    lines: tuple[tuple[str, float], ...]  # (product code, quantity)
    channel: str  # "pos" or "sale"
    payment: str  # one of PAYMENT_METHODS (POS only)
    festival: str | None = None


@dataclass
class DemoPlan:
    seed: int
    anchor: date
    start: date
    staff_count: int
    customers: list[PlannedCustomer] = field(default_factory=list)
    orders: list[PlannedOrder] = field(default_factory=list)

    def count(self, channel):
        return sum(1 for order in self.orders if order.channel == channel)


def _chinese_name(rng):
    size = 2 if rng.random() < 0.35 else 1
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN_CHARS) for _ in range(size))


def _phone(rng, used):
    while True:
        phone = rng.choice(PHONE_PREFIXES) + "".join(str(rng.randrange(10)) for _ in range(8))
        if phone not in used:
            used.add(phone)
            return phone


def _shop_hours(rng, day):
    """A time of day when a flower shop sells: 9:00-21:00, busier at lunch and after work."""
    hour = rng.choices(range(9, 21), weights=(2, 3, 4, 5, 3, 3, 3, 4, 6, 6, 4, 2))[0]
    return datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)))


def _basket(rng, festival=None):
    catalogue = {code: (lo, hi) for code, _n, _c, _p, (lo, hi) in PRODUCTS}
    if festival and festival in FESTIVAL_PRODUCTS:
        main = rng.choice(FESTIVAL_PRODUCTS[festival][: 2 if rng.random() < 0.8 else 3])
    else:
        main = rng.choice([code for code in catalogue if code not in ("WRAP", "CARD", "DELIVERY", "VASE")])
    lo, hi = catalogue[main]
    lines = [(main, float(rng.randint(lo, hi)))]
    if main.startswith(("ROSE", "LILY", "TULIP", "SUNFLOWER", "CARNATION")) and rng.random() < 0.6:
        lines.append(("WRAP", 1.0))
    if rng.random() < 0.25:
        lines.append(("CARD", 1.0))
    if rng.random() < 0.12:
        lines.append(("DELIVERY", 1.0))
    if rng.random() < 0.05:
        lines.append(("VASE", 1.0))
    return tuple(lines)


def _interval_days(rng, archetype):
    # Irregular gaps around a customer type's usual rhythm (people do not come like clockwork).
    if archetype == "regular":
        return 3 + int(rng.expovariate(1 / 40))
    if archetype == "occasional":
        return 7 + int(rng.expovariate(1 / 110))
    return 5 + int(rng.expovariate(1 / 40))


def build_plan(seed=2024, anchor=None, customers=300, days=730, staff_count=4, festivals=None):
    """Return a :class:`DemoPlan`.

    :param seed: random seed; the same seed, anchor and sizes always give the same plan.
    :param anchor: the last day of the history (usually today).
    :param customers: number of customers (businesses included).
    :param days: length of the order history in days, ending at ``anchor``.
    :param staff_count: number of staff members customers are spread over.
    :param festivals: mapping ``date -> festival code`` of the gifting days in the period, around which
        orders cluster; default: the :data:`GIFT_FESTIVALS` of the Chinese calendar.
    """
    if customers < 1 or days < 30 or staff_count < 1:
        raise ValueError("The demo plan needs at least one customer, 30 days and one staff member.")
    rng = random.Random(seed)
    anchor = anchor or date.today()
    start = anchor - timedelta(days=days - 1)
    if festivals is None:
        festivals = gift_festivals(start, anchor)
    festivals = {day: code for day, code in festivals.items() if start <= day <= anchor}
    plan = DemoPlan(seed=seed, anchor=anchor, start=start, staff_count=staff_count)

    business_count = max(1, round(customers * 0.03))
    archetypes = []
    for archetype, share in ARCHETYPE_SHARES:
        archetypes += [archetype] * round(customers * share)
    archetypes = archetypes[: customers - business_count]
    archetypes += ["occasional"] * (customers - business_count - len(archetypes))
    archetypes += ["business"] * business_count
    rng.shuffle(archetypes)

    phones = set()
    business_names = iter(BUSINESS_NAMES * (1 + business_count // len(BUSINESS_NAMES)))
    for key, archetype in enumerate(archetypes, start=1):
        is_company = archetype == "business"
        if is_company:
            name = next(business_names)
            birthday = gender = None
        else:
            name = _chinese_name(rng)
            gender = rng.choices(("female", "male"), weights=(0.62, 0.38))[0]
            birthday = None
            if rng.random() < 0.6:
                birthday = date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28))
        tags = []
        if archetype == "regular" and rng.random() < 0.5:
            tags.append("VIP")
        if archetype in ("regular", "lapsed") and rng.random() < 0.6:
            tags.append("老客户")
        if is_company:
            tags.append("婚礼客户" if "婚礼" in name else "企业客户")
        if rng.random() < 0.1:
            tags.append("花艺课程")
        if rng.random() < 0.3:
            tags.append("微信群")
        plan.customers.append(
            PlannedCustomer(
                key=key,
                name=name,
                phone=_phone(rng, phones),
                archetype=archetype,
                staff_index=rng.randrange(staff_count),
                source="event" if is_company else rng.choice(SOURCES),
                is_company=is_company,
                birthday=birthday,
                gender=gender,
                tags=tuple(tags),
            )
        )

    festival_days = sorted(festivals)
    for customer in plan.customers:
        plan.orders += _customer_orders(rng, customer, start, anchor, festival_days, festivals)
    plan.orders.sort(key=lambda order: (order.when, order.customer_key))
    return plan


def gift_festivals(start, end):
    """``{date: festival code}`` of the :data:`GIFT_FESTIVALS` between ``start`` and ``end`` inclusive."""
    return {
        festival.date: festival.code
        for year in range(start.year, end.year + 1)
        for festival in chinese_calendar.festival_dates(year)
        if festival.code in GIFT_FESTIVALS and start <= festival.date <= end
    }


def _customer_orders(rng, customer, start, anchor, festival_days, festivals):
    span = (anchor - start).days
    archetype = customer.archetype
    days = []
    if archetype == "prospect":
        return []
    if archetype == "one_time":
        days = [start + timedelta(days=rng.randrange(span + 1))]
    elif archetype == "new":
        first = anchor - timedelta(days=rng.randrange(85))
        days = [first]
        while rng.random() < 0.5 and days[-1] + timedelta(days=7) < anchor:
            days.append(days[-1] + timedelta(days=rng.randint(7, 30)))
    elif archetype == "festival":
        days = [
            day - timedelta(days=rng.choice((0, 0, 0, 1, 2))) for day in festival_days if rng.random() < 0.25
        ]
        if not days:
            days = [start + timedelta(days=rng.randrange(span + 1))]
    else:
        if archetype == "business":
            interval = lambda: rng.randint(35, 60)  # noqa: E731 -- office flowers every month or two
        else:
            interval = lambda: _interval_days(rng, archetype)  # noqa: E731
        first = start + timedelta(days=rng.randrange(60 if archetype != "occasional" else 200))
        stop = anchor
        if archetype == "lapsed":
            stop = anchor - timedelta(days=rng.randint(190, 540))
        # After each visit a customer may drift away for good, with a personal probability (people differ:
        # most stay a long time, some leave early) -- what BG/NBD models.
        drop_out = 0.0 if archetype == "business" else rng.betavariate(0.7, 9.0)
        day = first
        while day <= stop:
            days.append(day)
            if rng.random() < drop_out:
                break
            day += timedelta(days=interval())
        if archetype in ("regular", "occasional"):
            # they also come on the big gifting days now and then
            days += [fd for fd in festival_days if fd >= first and rng.random() < 0.15]
    orders = []
    for day in sorted({d for d in days if start <= d <= anchor}):
        festival = festivals.get(day)
        if archetype == "business":
            lines = (
                (("BASKET", float(rng.randint(1, 2))),)
                if rng.random() < 0.2
                else (("BQ-SEASON", float(rng.randint(2, 6))), ("DELIVERY", 1.0))
            )
            orders.append(PlannedOrder(customer.key, _shop_hours(rng, day), lines, "sale", "bank", festival))
            continue
        payment = rng.choices(PAYMENT_METHODS, weights=PAYMENT_WEIGHTS)[0]
        orders.append(
            PlannedOrder(
                customer.key, _shop_hours(rng, day), _basket(rng, festival), "pos", payment, festival
            )
        )
    return orders


# ---- members: referrals, consent, important dates, contact channels -----------------------------------

CONTACT_CHANNELS = ("wechat", "phone", "sms", "in_store")
CONTACT_WEIGHTS = (0.6, 0.25, 0.1, 0.05)
OCCASIONS = (
    ("母亲生日", "lunar"),
    ("父亲生日", "lunar"),
    ("结婚纪念日", "solar"),
    ("爱人生日", "solar"),
    ("恋爱纪念日", "solar"),
)
SOURCE_CHANNEL = {"dianping": "meituan"}  # the plan's sources as Shop CRM's source channels


@dataclass(frozen=True)
class PlannedOccasion:
    customer_key: int
    name: str
    calendar: str  # "solar" or "lunar"
    month: int
    day: int
    remind_days: int = 7


@dataclass
class MemberExtras:
    referrals: dict = field(default_factory=dict)  # referred customer key -> referrer key
    consents: list = field(default_factory=list)  # (customer key, channel, withdrawn)
    occasions: list = field(default_factory=list)  # PlannedOccasion
    channels: dict = field(default_factory=dict)  # customer key -> preferred contact channel


def member_extras(plan, upcoming=6):
    """Deterministic member data for ``plan`` (its own random stream: the plan itself is unchanged).

    About 12% of the people who buy were referred by a customer whose first order came earlier; most
    consent to WeChat/SMS marketing, fewer to email, a few withdrew; about 20% recorded an important
    date (parents' lunar birthdays, anniversaries), ``upcoming`` of them in the 30 days after the anchor.
    """
    rng = random.Random(plan.seed * 7919 + 1)
    extras = MemberExtras()
    first_order = {}
    for order in plan.orders:
        first_order.setdefault(order.customer_key, order.when)
    people = [customer for customer in plan.customers if not customer.is_company]
    buyers = sorted((c for c in people if c.key in first_order), key=lambda c: first_order[c.key])
    for index, customer in enumerate(buyers[1:], start=1):
        if rng.random() < 0.12:
            extras.referrals[customer.key] = rng.choice(buyers[:index]).key
    for customer in people:
        extras.channels[customer.key] = rng.choices(CONTACT_CHANNELS, weights=CONTACT_WEIGHTS)[0]
        for channel, share in (("wechat", 0.7), ("sms", 0.5), ("email", 0.2)):
            if rng.random() < share:
                extras.consents.append((customer.key, channel, rng.random() < 0.08))
    with_dates = [customer for customer in people if rng.random() < 0.2]
    for number, customer in enumerate(with_dates):
        name, calendar = rng.choice(OCCASIONS)
        if number < upcoming:
            soon = plan.anchor + timedelta(days=3 + 4 * number)
            calendar, month, day = "solar", soon.month, soon.day
        else:
            month, day = rng.randint(1, 12), rng.randint(1, 28)
        extras.occasions.append(
            PlannedOccasion(customer.key, name, calendar, month, day, rng.choice((3, 7, 14)))
        )
    return extras


VISIT_NOTES = {
    "routine": ("问候近况，介绍当季新品", "推荐了周末的花艺课程"),
    "after_sales": ("询问花束保鲜情况，已告知换水方法", "客户反馈花很新鲜"),
    "care": ("生日前问候，提醒可预订蛋糕花束", "节日问候"),
    "win_back": ("很久没来店里，发了会员优惠券", "客户说最近搬家了"),
    "occasion": ("提醒母亲生日快到了", "提醒结婚纪念日，客户有兴趣预订"),
}


@dataclass(frozen=True)
class PlannedVisit:
    customer_key: int
    when: datetime
    channel: str
    purpose: str
    outcome: str
    notes: str
    next_in_days: int | None = None  # a follow-up planned this many days after the anchor


def planned_visits(plan, share=0.3):
    """Deterministic past contacts (回访) with about ``share`` of the people: one to three each in the
    last 120 days, by phone, WeChat or in store; the latest visit of every third one plans a follow-up in
    the coming two weeks."""
    rng = random.Random(plan.seed * 7919 + 2)
    visits = []
    people = [customer for customer in plan.customers if not customer.is_company]
    for number, customer in enumerate(c for c in people if rng.random() < share):
        days = sorted(rng.sample(range(1, 120), rng.randint(1, 3)), reverse=True)
        for index, ago in enumerate(days):
            purpose = rng.choice(tuple(VISIT_NOTES))
            last = index == len(days) - 1
            visits.append(
                PlannedVisit(
                    customer_key=customer.key,
                    when=datetime.combine(plan.anchor - timedelta(days=ago), time(rng.randint(10, 19))),
                    channel=rng.choices(("phone", "wechat", "in_store"), weights=(0.4, 0.45, 0.15))[0],
                    purpose=purpose,
                    outcome=rng.choices(
                        ("reached", "no_answer", "interested", "purchased", "declined"),
                        weights=(0.4, 0.2, 0.2, 0.15, 0.05),
                    )[0],
                    notes=rng.choice(VISIT_NOTES[purpose]),
                    next_in_days=rng.randint(0, 14) if last and number % 3 == 0 else None,
                )
            )
    return visits


FEEDBACK_TEXTS = (
    ("complaint", "玫瑰第二天就蔫了", "已上门更换新花束并致歉"),
    ("complaint", "配送晚了两个小时，错过了生日晚宴", "退还配送费，赠送积分补偿"),
    ("complaint", "包装和照片上不一样", "重新包装，客户表示满意"),
    ("suggestion", "希望可以提供微信预约自提", "已开通微信预约"),
    ("suggestion", "花艺课程能否安排在周末晚上", "下月起增加周六晚场"),
    ("praise", "店员小李推荐的搭配很好看，朋友很喜欢", "已转达给小李"),
    ("inquiry", "七夕可以提前多久预订？", "已告知提前一周预订"),
    ("inquiry", "企业月结怎么开发票？", "已发送月结流程"),
)
FEEDBACK_STAGES = ("new", "in_progress", "resolved", "closed", "cancelled")
# A complaint's category (the XML id's last part, data/shop_crm_improvement_data.xml) and root cause.
COMPLAINT_CAUSES = {
    "玫瑰第二天就蔫了": ("feedback_category_freshness", "冷库温度偏高，花材周转慢"),
    "配送晚了两个小时，错过了生日晚宴": ("feedback_category_delivery", "节日订单集中，骑手不足"),
    "包装和照片上不一样": ("feedback_category_quality", "包装样图未更新"),
}


@dataclass(frozen=True)
class PlannedFeedback:
    customer_key: int
    feedback_type: str
    description: str
    resolution: str
    priority: str
    stage: str
    days_ago: int
    satisfaction: int | None = None
    nps: int | None = None
    compensation: float = 0.0
    category: str = ""
    root_cause: str = ""


def planned_feedback(plan, count=16):
    """Deterministic feedback tickets in every stage, the open ones recent, the closed ones with the
    customer's satisfaction and NPS answers; one complaint compensated with points."""
    rng = random.Random(plan.seed * 7919 + 3)
    people = [customer for customer in plan.customers if not customer.is_company]
    tickets = []
    for number in range(min(count, len(people))):
        feedback_type, description, resolution = FEEDBACK_TEXTS[number % len(FEEDBACK_TEXTS)]
        stage = FEEDBACK_STAGES[number % len(FEEDBACK_STAGES)]
        answered = stage in ("resolved", "closed")
        category, root_cause = COMPLAINT_CAUSES.get(description, ("", ""))
        tickets.append(
            PlannedFeedback(
                customer_key=rng.choice(people).key,
                feedback_type=feedback_type,
                description=description,
                resolution=resolution if stage in ("resolved", "closed") else "",
                priority=rng.choice(("0", "1", "1", "2", "3")),
                stage=stage,
                days_ago=rng.randint(0, 3) if stage in ("new", "in_progress") else rng.randint(4, 90),
                satisfaction=rng.choice((2, 4, 5, 5)) if answered else None,
                nps=rng.choice((5, 8, 9, 10)) if answered else None,
                compensation=50.0 if feedback_type == "complaint" and stage == "resolved" else 0.0,
                category=category,
                root_cause=root_cause,
            )
        )
    return tickets


SURVEY_COMMENTS = ("", "", "", "花很新鲜，包装也漂亮", "价格有点贵", "排队等了很久", "店员很热情")


@dataclass(frozen=True)
class PlannedSurveyAnswer:
    order_index: int  # among the paid orders with a customer, oldest first
    scores: tuple  # quality, service, environment, price (1-5)
    nps: int
    comment: str


def planned_survey_answers(order_count, seed, count=36):
    """Questionnaire answers to ``count`` orders spread evenly over the ``order_count`` orders (so over
    the months), mostly happy, some unhappy with the price or the waiting (which open complaints)."""
    rng = random.Random(seed * 104729 + 17)
    count = min(count, order_count)
    answers = []
    for number in range(count):
        index = number * order_count // count if count else 0
        unhappy = number % 6 == 5  # one in six
        scores = tuple(rng.choice((4, 5, 5)) for _ in range(4))
        if unhappy:
            low = rng.randrange(4)
            scores = tuple(
                rng.choice((1, 2)) if position == low else score for position, score in enumerate(scores)
            )
        nps = rng.choice((3, 5, 6)) if unhappy else rng.choice((7, 8, 9, 10, 10))
        answers.append(PlannedSurveyAnswer(index, scores, nps, rng.choice(SURVEY_COMMENTS)))
    return answers
