"""Realistic Shanxi demo/benchmark customers, generated deterministically (``random.Random``).

``generate_customers(n, owners=[...])`` bulk-creates ``n`` customers (≈60 % enterprises with
valid 统一社会信用代码, ≈40 % individuals with valid 身份证号), spread round-robin over the
owners (team/branch from the owner), with some relations, timeline events and risk flags.
It is used by ``credo seed --customers N``, the demo seeder and the benchmarks. No audit row
per customer: one ``customer.seed`` entry per run.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from credo.core.audit.services import audit_record
from credo.core.crypto import blind_index
from credo.core.money import Money
from credo.core.regions import PLACEHOLDER_CITY_NAMES, children_of
from credo.core.validators import id_check_char, uscc_check_char
from credo.customers.models import Customer, CustomerEvent, Relation

SHANXI = "140000"
CITY_SHORT = {
    "1401": "太原",
    "1402": "大同",
    "1403": "阳泉",
    "1404": "长治",
    "1405": "晋城",
    "1406": "朔州",
    "1407": "晋中",
    "1408": "运城",
    "1409": "忻州",
    "1410": "临汾",
    "1411": "吕梁",
}
# Weighted towards the big cities.
CITY_WEIGHTS = {
    "1401": 24,
    "1402": 10,
    "1403": 5,
    "1404": 9,
    "1405": 7,
    "1406": 5,
    "1407": 10,
    "1408": 10,
    "1409": 6,
    "1410": 9,
    "1411": 5,
}
TRADE_NAMES = (
    "晋阳",
    "汾河",
    "龙城",
    "并州",
    "三晋",
    "太行",
    "吕梁",
    "恒山",
    "五台",
    "云冈",
    "平遥",
    "晋祠",
    "鼎盛",
    "宏达",
    "华通",
    "兴业",
    "瑞丰",
    "恒信",
    "德顺",
    "金泰",
    "昌盛",
    "永安",
    "煤都",
    "晋商",
    "鑫源",
    "广源",
    "长城",
    "汇通",
    "嘉禾",
    "盛世",
    "泰和",
    "万通",
    "润丰",
    "天泽",
    "晋丰",
    "沁水",
    "黄河",
    "中条",
    "壶口",
    "雁门",
)
# Industry section → (weight, business words)
INDUSTRIES: dict[str, tuple[int, tuple[str, ...]]] = {
    "F": (26, ("商贸", "贸易", "物资", "百货", "建材销售", "农资")),
    "C": (18, ("机械制造", "铸造", "化工", "食品", "醋业", "陶瓷", "纺织", "钢铁制品")),
    "A": (10, ("农业科技", "种植专业合作社", "养殖", "林业", "果业")),
    "E": (10, ("建筑工程", "建设", "路桥工程", "装饰工程")),
    "H": (8, ("餐饮管理", "酒店管理", "饭店")),
    "G": (8, ("物流", "运输", "仓储")),
    "B": (5, ("煤业", "矿业", "煤炭运销")),
    "L": (5, ("商务咨询", "租赁")),
    "I": (4, ("网络科技", "信息技术", "软件")),
    "K": (3, ("房地产开发", "物业管理")),
    "O": (3, ("家政服务", "汽车维修")),
}
SUFFIXES = ("有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司")
SURNAMES = (
    "王",
    "王",
    "王",
    "李",
    "李",
    "张",
    "张",
    "刘",
    "刘",
    "陈",
    "杨",
    "杨",
    "赵",
    "赵",
    "黄",
    "周",
    "吴",
    "徐",
    "孙",
    "胡",
    "朱",
    "高",
    "郭",
    "郭",
    "马",
    "罗",
    "梁",
    "宋",
    "郑",
    "谢",
    "韩",
    "唐",
    "冯",
    "董",
    "程",
    "曹",
    "袁",
    "邓",
    "许",
    "傅",
    "沈",
    "曾",
    "彭",
    "吕",
    "苏",
    "卢",
    "蒋",
    "蔡",
    "贾",
    "丁",
    "魏",
    "薛",
    "叶",
    "阎",
    "段",
    "武",
    "乔",
    "常",
    "温",
    "白",
    "牛",
    "秦",
    "霍",
)
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀",
    "霞",
    "平",
    "刚",
    "桂",
    "英",
    "华",
    "建",
    "国",
    "文",
    "斌",
    "辉",
    "鹏",
    "宇",
    "浩",
    "红",
    "玲",
    "晓",
    "志",
    "海",
    "亮",
    "峰",
    "林",
    "燕",
    "梅",
    "琳",
    "波",
    "鑫",
    "欣",
    "婷",
    "慧",
    "俊",
    "彬",
    "晋",
    "秀英",
    "建国",
    "建华",
    "志强",
    "海燕",
    "丽娟",
    "小明",
    "国庆",
    "卫东",
)
ROADS = (
    "迎泽大街",
    "长风街",
    "并州路",
    "解放路",
    "建设路",
    "府西街",
    "平阳路",
    "学府街",
    "太行路",
    "滨河东路",
    "新建路",
    "文化路",
    "人民路",
    "中心街",
    "开发区大道",
)
EMPLOYERS = (
    "太原钢铁集团",
    "晋能控股集团",
    "山西焦煤集团",
    "中国移动山西公司",
    "太原理工大学",
    "山西省人民医院",
    "个体经营",
    "自由职业",
    "务农",
    "晋中市第一中学",
)
RISK_FLAG_KEYS = ("overdue", "litigation", "judgment_debtor", "negative_news")
FOLLOW_UPS = (
    "电话回访：了解经营情况",
    "上门拜访：实地查看经营场所",
    "微信沟通：提供补充资料",
    "面谈：讨论授信需求",
    "回访：确认还款安排",
)


@dataclass
class GenerateStats:
    customers: int = 0
    enterprises: int = 0
    individuals: int = 0
    relations: int = 0
    events: int = 0
    first_id: int | None = None
    last_id: int | None = None


def _counties() -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for city in children_of(SHANXI):
        prefix = city.code[:4]
        if prefix not in CITY_SHORT:
            continue
        counties = [
            (r.code, r.name) for r in children_of(city.code) if r.name not in PLACEHOLDER_CITY_NAMES
        ]
        out[prefix] = counties or [(city.code, city.name)]
    return out


def _org_code_check(body8: str) -> str:
    """GB 11714 组织机构代码 check character for 8 digits."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    c = 11 - sum(int(d) * w for d, w in zip(body8, weights, strict=True)) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def make_uscc(region: str, serial: int) -> str:
    body8 = f"{serial % 10**8:08d}"
    first17 = f"91{region}{body8}{_org_code_check(body8)}"
    return first17 + uscc_check_char(first17)


def make_id_number(region: str, birth: dt.date, seq: int) -> str:
    first17 = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + id_check_char(first17)


class _Gen:
    def __init__(self, seed: int, serial_base: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, deterministic on purpose
        self.counties = _counties()
        self.city_keys = list(CITY_WEIGHTS)
        self.city_w = [CITY_WEIGHTS[k] for k in self.city_keys]
        self.ind_keys = list(INDUSTRIES)
        self.ind_w = [INDUSTRIES[k][0] for k in self.ind_keys]
        self.serial = serial_base
        self.used_uscc: set[str] = set()
        self.used_id: set[str] = set()
        self.today = dt.date.today()

    def place(self) -> tuple[str, str, str]:
        city = self.rng.choices(self.city_keys, self.city_w)[0]
        code, county = self.rng.choice(self.counties[city])
        return city, code, county

    def person_name(self) -> str:
        r = self.rng
        return r.choice(SURNAMES) + r.choice(GIVEN) + (r.choice(GIVEN) if r.random() < 0.55 else "")

    def address(self, county: str) -> str:
        r = self.rng
        return f"{county}{r.choice(ROADS)}{r.randint(1, 399)}号"

    def mobile(self) -> str:
        r = self.rng
        prefix = r.choice(("13", "15", "18")) + str(r.randint(0, 9))
        return prefix + f"{r.randint(0, 10**8 - 1):08d}"

    def enterprise(self) -> Customer:
        r = self.rng
        city, county_code, county = self.place()
        industry = r.choices(self.ind_keys, self.ind_w)[0]
        words = INDUSTRIES[industry][1]
        name = (
            f"{CITY_SHORT[city]}{'市' if r.random() < 0.5 else ''}{r.choice(TRADE_NAMES)}"
            f"{r.choice(words)}{r.choice(SUFFIXES)}"
        )
        while True:
            self.serial += 1
            uscc = make_uscc(county_code, self.serial * 7919 + r.randint(0, 7000))
            if uscc not in self.used_uscc:
                self.used_uscc.add(uscc)
                break
        founded = self.today - dt.timedelta(days=r.randint(200, 365 * 25))
        capital = Money(
            Decimal(r.choice((10, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000)) * 10_000)
        )
        return Customer(  # type: ignore[misc]  # MoneyField holds Money
            kind=Customer.Kind.ENTERPRISE,
            name=name[:120],
            uscc=uscc,
            registered_capital=capital,
            industry=industry,
            legal_representative=self.person_name(),
            founded_on=founded,
            phone=self.mobile() if r.random() < 0.7 else f"0351-{r.randint(2000000, 8999999)}",
            region_code=county_code,
            address=self.address(county),
            risk_grade=r.choices(("", "A", "B", "C", "D", "E"), (30, 25, 25, 12, 5, 3))[0],
        )

    def individual(self) -> Customer:
        r = self.rng
        _city, county_code, county = self.place()
        while True:
            birth = dt.date(1960, 1, 1) + dt.timedelta(days=r.randint(0, 365 * 40 + 9))
            id_number = make_id_number(county_code, birth, r.randint(0, 999))
            if id_number not in self.used_id:
                self.used_id.add(id_number)
                break
        return Customer(
            kind=Customer.Kind.INDIVIDUAL,
            name=self.person_name(),
            id_number=id_number,
            phone=self.mobile(),
            bank_account=("62" + "".join(str(r.randint(0, 9)) for _ in range(17)))
            if r.random() < 0.6
            else "",
            employer=r.choice(EMPLOYERS) if r.random() < 0.7 else "",
            region_code=county_code,
            address=self.address(county),
            risk_grade=r.choices(("", "A", "B", "C", "D"), (40, 25, 20, 10, 5))[0],
        )


def _drop_existing(batch: list[Customer]) -> list[Customer]:
    """Remove customers whose identifier already exists in the database (earlier runs)."""
    usccs = [c.uscc for c in batch if c.uscc]
    bidx = {blind_index(c.id_number, kind="id_number"): c for c in batch if c.id_number}
    taken_uscc = set(Customer.objects.filter(uscc__in=usccs).values_list("uscc", flat=True))
    taken_bidx = set(
        Customer.objects.filter(id_number_bidx__in=list(bidx)).values_list(
            "id_number_bidx", flat=True
        )
    )
    taken_ids = {bidx[b].id_number for b in taken_bidx}
    return [c for c in batch if c.uscc not in taken_uscc and c.id_number not in taken_ids]


def generate_customers(
    n: int,
    *,
    owners: Sequence[Any],
    seed: int = 42,
    batch: int = 1000,
    with_relations: bool = True,
    events_per_customer: int = 3,
    progress: Callable[[int], None] | None = None,
    actor: Any = None,
) -> GenerateStats:
    """Bulk-create ``n`` customers; ``progress(created_so_far)`` is called after each batch."""
    if not owners:
        raise ValueError("generate_customers needs at least one owner")
    owner_units = [(o, o.team, o.branch) for o in owners]
    serial_base = Customer.objects.order_by("-id").values_list("id", flat=True).first() or 0
    gen = _Gen(seed, serial_base * 3 + seed)
    rng = gen.rng
    stats = GenerateStats()
    now = timezone.now()
    while stats.customers < n:
        size = min(batch, n - stats.customers)
        items: list[Customer] = []
        for _ in range(size):
            c = gen.enterprise() if rng.random() < 0.6 else gen.individual()
            owner, team, branch = owner_units[(stats.customers + len(items)) % len(owner_units)]
            c.owner, c.team, c.branch = owner, team, branch
            if rng.random() < 0.03:
                c.risk_flags = [rng.choice(RISK_FLAG_KEYS)]
            items.append(c)
        with transaction.atomic():
            items = _drop_existing(items)
            if not items:
                continue
            created = Customer.objects.bulk_create(items)
            events = _events(created, rng, now, events_per_customer)
            CustomerEvent.objects.bulk_create(events, batch_size=2000)
            relations = _relations(created, rng) if with_relations else []
            Relation.objects.bulk_create(relations, batch_size=2000, ignore_conflicts=True)
        stats.customers += len(created)
        stats.enterprises += sum(1 for c in created if c.kind == Customer.Kind.ENTERPRISE)
        stats.individuals += sum(1 for c in created if c.kind == Customer.Kind.INDIVIDUAL)
        stats.events += len(events)
        stats.relations += len(relations)
        stats.first_id = stats.first_id or created[0].pk
        stats.last_id = created[-1].pk
        if progress is not None:
            progress(stats.customers)
    with transaction.atomic():
        audit_record(
            action="customer.seed",
            actor=actor,
            object_type="customers.customer",
            metadata={
                "count": stats.customers,
                "seed": seed,
                "first_id": stats.first_id,
                "last_id": stats.last_id,
            },
        )
    return stats


def _events(
    created: list[Customer], rng: random.Random, now: dt.datetime, per: int
) -> list[CustomerEvent]:
    events: list[CustomerEvent] = []
    if per <= 0:
        return events
    for c in created:
        start = now - dt.timedelta(days=rng.randint(30, 900))
        events.append(
            CustomerEvent(
                customer=c,
                kind=CustomerEvent.Kind.CREATED,
                occurred_at=start,
                actor=c.owner,
                title="建立客户档案（演示数据）",
                source="customers",
                object_type="customers.customer",
                object_id=str(c.pk),
            )
        )
        for i in range(per - 1):
            when = start + dt.timedelta(
                days=rng.randint(1, 25) * (i + 1), minutes=rng.randint(0, 600)
            )
            if c.risk_flags and i == per - 2:
                events.append(
                    CustomerEvent(
                        customer=c,
                        kind=CustomerEvent.Kind.ALERT,
                        occurred_at=min(when, now),
                        title="标记风险（演示数据）",
                        source="customers",
                        actor=c.owner,
                        detail={"flags": c.risk_flags},
                    )
                )
                continue
            events.append(
                CustomerEvent(
                    customer=c,
                    kind=CustomerEvent.Kind.FOLLOW_UP,
                    occurred_at=min(when, now),
                    title=rng.choice(FOLLOW_UPS),
                    source="customers",
                    actor=c.owner,
                )
            )
    return events


def _relations(created: list[Customer], rng: random.Random) -> list[Relation]:
    people = [c for c in created if c.kind == Customer.Kind.INDIVIDUAL]
    companies = [c for c in created if c.kind == Customer.Kind.ENTERPRISE]
    rels: list[Relation] = []
    if not people:
        return rels
    for company in companies:
        roll = rng.random()
        if roll < 0.15:
            person = rng.choice(people)
            rels.append(
                Relation(
                    from_customer=person,
                    to_customer=company,
                    kind=Relation.Kind.LEGAL_REPRESENTATIVE,
                    created_by=company.owner,
                )
            )
            pct = Decimal(rng.choice((30, 40, 51, 60, 70, 100)))
            rels.append(
                Relation(
                    from_customer=person,
                    to_customer=company,
                    kind=Relation.Kind.SHAREHOLDER,
                    share_pct=pct,
                    created_by=company.owner,
                )
            )
        elif roll < 0.25:
            rels.append(
                Relation(
                    from_customer=rng.choice(people),
                    to_customer=company,
                    kind=Relation.Kind.GUARANTOR,
                    created_by=company.owner,
                )
            )
        elif roll < 0.28 and len(companies) > 1:
            other = rng.choice(companies)
            if other.pk != company.pk:
                rels.append(
                    Relation(
                        from_customer=other,
                        to_customer=company,
                        kind=Relation.Kind.AFFILIATE,
                        created_by=company.owner,
                    )
                )
    rng.shuffle(people)
    for a, b in zip(
        people[: len(people) // 10 : 2], people[1 : len(people) // 10 : 2], strict=False
    ):
        rels.append(
            Relation(from_customer=a, to_customer=b, kind=Relation.Kind.SPOUSE, created_by=a.owner)
        )
    return rels


# --- the demo seeder (``credo seed_demo``) -----------------------------------------------------
DEMO_COUNT = 2000


def seed_demo_customers(ctx: Any) -> None:
    """~2,000 customers for the demo account managers; skipped when customers exist."""
    from credo.accounts.models import User

    if Customer.objects.exists():
        ctx.out("  customers: already present, skipped")
        return
    owners = list(
        User.objects.filter(roles__code="account_manager", is_active=True)
        .select_related("org_unit__parent")
        .distinct()
        .order_by("username")
    )
    if not owners and "account_manager" in ctx.users:
        owners = [ctx.users["account_manager"]]
    if not owners:
        ctx.out("  customers: no account_manager user, skipped")
        return
    stats = generate_customers(DEMO_COUNT, owners=owners, seed=2024, batch=500)
    ctx.out(
        f"  customers: {stats.customers} created ({stats.enterprises} enterprises, "
        f"{stats.individuals} individuals, {stats.relations} relations)"
    )


def register() -> None:
    """Call from ``CustomersConfig.ready()``."""
    from credo.core.demo import register_seeder

    register_seeder("customers", seed_demo_customers, order=20)
