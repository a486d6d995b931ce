"""The demo district, modelled on the source document's pilot street 前进街 (Qianjin street).

Deterministic for a given seed: several communities; "三有" compounds (property company, fence, 3+
party members) with a branch of their own and "三无" compounds sharing a joint branch; N residential
grids of about 300 households plus X commercial grids; a party-member building head per building and
a steward per unit (a few units still lack one, as in real life). Phone numbers are fake (170 prefix,
reserved for virtual operators) and names are invented.
"""
from __future__ import annotations

import random

SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕玉兰红梅淑珍凤英国庆春梅文军晓东立新德明"
COMMUNITY_NAMES = ["和平里社区", "光明社区", "新华社区", "胜利社区", "朝阳社区", "建设社区"]
COMPOUND_NAMES = ["锦绣家园", "阳光花园", "翠湖苑", "东方名居", "幸福里", "和顺小区", "丽景园", "春晖苑",
                  "福康里", "安居小区", "文化里", "铁路宿舍", "纺织厂宿舍", "邮电小区", "育才里", "团结里"]
ORIGIN = (117.190, 39.120)  # longitude, latitude of the demo street's south-west corner
GRID_SIZE = 0.004  # degrees per grid square


class _People:
    def __init__(self, rng: random.Random):
        self._rng = rng
        self._serial = 0

    def next(self) -> dict:
        self._serial += 1
        surname = self._rng.choice(SURNAMES)
        given = "".join(self._rng.choice(GIVEN) for _ in range(self._rng.choice((1, 2))))
        return {"name": surname + given, "phone": f"170{self._serial:08d}"}


def demo_registry(*, communities: int = 3, seed: int = 7) -> dict:
    rng = random.Random(seed)
    people = _People(rng)
    lattice = iter(range(10_000))
    street_communities = []
    compound_names = iter(COMPOUND_NAMES * 10)
    for c in range(1, communities + 1):
        code = f"QJ{c:02d}"
        grids_made: list[str] = []
        branches = []
        # two "三有" compounds with a branch each, then three "三无" compounds sharing one joint branch
        for b in (1, 2):
            compound = _compound(code, b, next(compound_names), True, people, lattice, rng, grids_made,
                                 residential_grids=2)
            branches.append({"code": f"{code}-B{b}", "name": f"{compound['name']}小区党支部", "kind": "own",
                             "secretary": people.next(), "compounds": [compound]})
        joint = [_compound(code, n, next(compound_names), False, people, lattice, rng, grids_made,
                           residential_grids=1) for n in (3, 4, 5)]
        branches.append({"code": f"{code}-B3", "name": f"{joint[0]['name']}等联合党支部", "kind": "joint",
                         "secretary": people.next(), "compounds": joint})
        commercial = _compound(code, 6, "沿街商业区", False, people, lattice, rng, grids_made,
                               residential_grids=0, commercial_grids=1)
        commercial["kind"] = "commercial"
        branches[0]["compounds"].append(commercial)
        street_communities.append({
            "code": code, "name": COMMUNITY_NAMES[(c - 1) % len(COMMUNITY_NAMES)],
            "secretary": people.next(), "duty_grid": grids_made[0], "branches": branches,
        })
    return {
        "version": 1,
        "district": {
            "code": "XX", "name": "XX区", "command_center": {**people.next(), "name": "区指挥中心值班长"},
            "duty_community": street_communities[0]["code"],
            "streets": [{"code": "QJ", "name": "前进街", "office": people.next(),
                         "communities": street_communities}],
        },
    }


def _compound(community: str, n: int, name: str, three_haves: bool, people: _People, lattice,
              rng: random.Random, grids_made: list[str], *, residential_grids: int,
              commercial_grids: int = 0) -> dict:
    code = f"{community}-C{n}"
    grids = []
    kinds = ["residential"] * residential_grids + ["commercial"] * commercial_grids
    for kind in kinds:
        g = len(grids_made) + 1
        grid_code = f"{community}-G{g:02d}"
        grids_made.append(grid_code)
        grids.append(_grid(grid_code, f"{name}{'商业' if kind == 'commercial' else ''}网格{g}", kind,
                           people, next(lattice), rng))
    compound = {"code": code, "name": name, "three_haves": three_haves, "kind": "residential", "grids": grids}
    if three_haves:
        compound["property_manager"] = people.next()
    return compound


def _grid(code: str, name: str, kind: str, people: _People, cell: int, rng: random.Random) -> dict:
    column, row = cell % 6, cell // 6
    x0, y0 = ORIGIN[0] + column * GRID_SIZE, ORIGIN[1] + row * GRID_SIZE
    polygon = {"type": "Polygon", "coordinates": [[
        [round(x0, 6), round(y0, 6)], [round(x0 + GRID_SIZE, 6), round(y0, 6)],
        [round(x0 + GRID_SIZE, 6), round(y0 + GRID_SIZE, 6)], [round(x0, 6), round(y0 + GRID_SIZE, 6)],
        [round(x0, 6), round(y0, 6)]]]}
    buildings = []
    households = 0
    building_count = 6 if kind == "residential" else 4
    for b in range(1, building_count + 1):
        units = []
        for u in range(1, (3 if kind == "residential" else 2) + 1):
            unit = {"code": f"{code}-{b:02d}-{u}", "name": f"{u}单元"}
            if rng.random() > 0.1:  # about one unit in ten has no steward yet
                unit["steward"] = people.next()
            units.append(unit)
            households += 18 if kind == "residential" else 12
        label = f"{b}号楼" if kind == "residential" else f"{b}号商铺楼"
        buildings.append({"code": f"{code}-{b:02d}", "name": label, "address": f"{name.split('网格')[0]}{label}",
                          "head": people.next(), "units": units})
    return {"code": code, "name": name, "kind": kind, "households": households, "worker": people.next(),
            "polygon": polygon, "buildings": buildings}
