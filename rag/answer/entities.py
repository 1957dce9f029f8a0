"""Who and where in a sentence: people, their offices, places, named things.

Patterns follow how Chinese news writes them: an office then a name
(党工委副书记刘勇), a name before a speech verb (张晖强调), 在/到 + a name that
ends like a place (市委党校, 李家庄村), a proper name before the noun a
question asks for (哪个镇 -> 陈集镇). Spans are (start, end) in the sentence.
"""

from __future__ import annotations

import re

from rag.text import tagged, words

# A date as news writes it; here it cuts a dateline off an office (titles), and
# rag.answer.extract finds dates with it (kept here so neither module imports the other).
DATE_RE = re.compile(
    r"(?:\d{4}年)?\d{1,2}月\d{1,2}[日号](?:上午|下午|晚上|晚)?|\d{4}年\d{1,2}月|\d{4}年(?:度)?|"
    r"(?:今年|去年|明年)(?:年底|年初|上半年|下半年)?|\d{1,2}月(?:初|中旬|下旬|底)"
)

TITLES = (
    "党工委书记|党工委副书记|党工委委员|副书记|书记|副主任|主任|副部长|部长|副局长|局长|副市长|市长|区长|县长|镇长|"
    "总经理|经理|董事长|院长|教授|所长|处长|科长|站长|校长|主席|委员|负责人|队长|社长|厂长|专家|医生|工程师|"
    "通讯员|记者|学者"
)
# A name: a surname then one or two characters, ended by a verb, particle or punctuation.
NAME_END = ("出席|说|在|强调|指出|表示|介绍|告诉|参加|传达|主持|陪同|带领|率|等|和|与|及|、|，|。|；|：|“|”|（|）|,|;|:"
            "|一行|对|到|为|将|也|就|是|的|$")
# two characters when a verb or mark follows at once (张晖一行), else three (刘晓峰一边…)
SPEAKER_RE = re.compile(r"([\u4e00-\u9fff]{2,3}?)(?:在讲话中|强调|指出|表示|介绍|说|告诉|一行)")
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
    "金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤练常温康施文牛樊葛邢安齐易乔伍庞颜倪"
    "庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解"
    "牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲"
    "虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练"
)
# a surname first, so a title chain (长江学者特聘教授于文强) is not read as a name
_SURNAME = "[" + "".join(sorted(SURNAMES)) + "]"
NAME_RE = re.compile(rf"(?:{TITLES})[ 　]?({_SURNAME}[\u4e00-\u9fff](?={NAME_END})|{_SURNAME}[\u4e00-\u9fff]{{2}})")
PLACE_RE = re.compile(
    r"(?:在|到|赴|于|来到|走进|位于)([\u4e00-\u9fffA-Za-z0-9（）()]{2,16}?)"
    r"(?=召开|举行|举办|调研|启动|开展|考察|参观|视察|进行|建设|落户|开幕|，|。)"
)


def spans_of(pattern: re.Pattern, text: str, group: int = 0) -> list[tuple[int, int]]:
    return [m.span(group) for m in pattern.finditer(text)]


def disjoint(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Keep spans in priority order, dropping any that overlaps one kept."""
    kept: list[tuple[int, int]] = []
    for s in spans:
        if all(s[1] <= k[0] or k[1] <= s[0] for k in kept):
            kept.append(s)
    return kept


def _is_name(s: str) -> bool:
    return len(s) in (2, 3) and s[0] in SURNAMES


def people(text: str, question: str = "") -> list[tuple[int, int]]:
    # names after a title first: they are the surest, and they keep a
    # speaker pattern from swallowing the title's last character (主任张晖).
    found = [s for s in spans_of(NAME_RE, text, 1) + spans_of(SPEAKER_RE, text, 1) if _is_name(text[s[0]:s[1]])]
    out = [s for s in sorted(disjoint(found)) if text[s[0]:s[1]] not in question]
    # "岳程街道的党工委书记是谁": only a name that office is written before
    asked = [t for t in re.findall(TITLES, question) if t not in ("通讯员", "记者")]
    if asked:
        office = max(asked, key=len)
        out = [s for s in out if office in _office_before(text, s[0])]
    return out


def _office_before(text: str, start: int) -> str:
    """The run of offices written before a name, back to the clause start."""
    a = start
    while a > 0 and text[a - 1] not in "，。；：,;:":
        a -= 1
    return text[a:start]


PLACE_END_RE = re.compile(
    r"(?:中心|展厅|党校|会议室|大厦|广场|街道|社区|镇|乡|村|区|县|市|省|园|港|厂|公司|学校|大学|医院|馆|厅|室|基地|楼|站|场|所|院)$")


PLACE_NAME_RE = re.compile(
    r"(?:在|到|赴|来到|走进)([\u4e00-\u9fff（）()]{0,13}(?:中心|展厅|党校|会议室|大厦|广场|街道|社区|镇|乡|村|县|市|省|园区|产业园|基地|医院|学校))")


def places(text: str, question: str = "") -> list[tuple[int, int]]:
    """在/到/赴 + a name that ends like a place (中心, 党校, 街道, 镇 …)."""
    def placelike(name: str) -> bool:
        return bool(PLACE_END_RE.search(name)) or all(f.startswith("ns") for _, f in tagged(name))

    found = [s for s in spans_of(PLACE_RE, text, 1) if placelike(text[s[0]:s[1]])]
    # 在青石镇李家庄村查看…: a name ending like a place, whatever verb follows
    found += [s for s in spans_of(PLACE_NAME_RE, text, 1) if text[s[0]] not in "全本该各每此某"]
    return disjoint(found)


# English nouns after "which", as the Chinese suffix news text uses for them.
WHICH_EN = {"town": "镇", "township": "镇", "village": "村", "city": "市", "county": "县", "district": "区",
            "subdistrict": "街道", "street": "街道", "province": "省", "company": "公司|企业", "enterprise": "企业",
            "school": "学校", "hospital": "医院", "university": "大学", "department": "部|局|委",
            "factory": "厂", "park": "园", "centre": "中心", "center": "中心"}


# 施工单位叫什么名字: the name of an organisation, not of a person
ORG_NAME_RE = re.compile(r"(单位|企业|公司|机构|部门|医院|学校|工厂|合作社)的?(?:名字|名称|叫什么|叫啥|是哪)")


def which(text: str, question: str = "") -> list[tuple[int, int]]:
    """哪个镇 / which town: a name in the sentence ending with that noun (陈集镇)."""

    m = re.search(r"哪(?:个|家|所|座|一)([\u4e00-\u9fff]{1,6})", question) or ORG_NAME_RE.search(question)
    if m:
        # the noun phrase asked about: 哪个街道召开… -> 街道; 哪家建筑公司承建 -> 建筑公司, never a part of it
        noun = ""
        for w, flag in tagged(m.group(1)):
            if not flag.startswith("n") or (noun and not flag.startswith("n")):
                break
            noun += w
        noun = noun or words(m.group(1))[0]
        suffix = re.escape(noun)
    else:
        m = re.search(r"\bwhich (\w+)", question)
        suffix = WHICH_EN.get(m.group(1)) if m else None
        if not suffix:
            return []
    out = []
    for mm in re.finditer(rf"(?:{suffix})", text):
        b = mm.end()
        lead = re.search(r"[\u4e00-\u9fff]{0,8}$", text[:mm.start()]).group(0)
        ws = words(lead + mm.group(0)) if lead else [mm.group(0)]
        # the last word, with single characters before it (陈 + 集镇: a name jieba does not know)
        name = ws[-1]
        rest = ws[:-1]
        if name == mm.group(0):  # the bare noun: its name is the words before (岳程 + 街道, 幸福 + 里 + 小区)
            proper = ""
            while rest and rest[-1] not in "的在和与及为是对把被从向全本该各每此某，":
                w = rest.pop()
                proper = w + proper
                if len(proper) >= 2 and len(w) >= 2:
                    break
            name = proper + name
        for w in reversed(rest):
            if len(name) >= 3 or len(w) != 1 or w in "的在和与及为是对把被从向全本该各每此某":
                break
            name = w + name
        if len(name) >= 2 and name[0] not in "全本该各每此某":
            out.append((b - len(name), b))
    return out


def titles(text: str, question: str = "") -> list[tuple[int, int]]:
    """The office written before a person's name: 市委宣传部副部长、市委网信办主任张晖 ->
    市委宣传部副部长、市委网信办主任 (the name is the one the question names)."""
    out = []
    for name_span in spans_of(NAME_RE, text, 1):
        name = text[name_span[0]:name_span[1]]
        if question and name not in question:
            continue
        start = name_span[0]
        while start > 0 and text[start - 1] not in "，。；：,;:（(":
            start -= 1
        lead = DATE_RE.match(text, start)  # a dateline before the office is not part of it
        if lead:
            start = lead.end()
        while start < name_span[0] and text[start] in "，, ":
            start += 1
        if start < name_span[0]:
            out.append((start, name_span[0]))
    return out
