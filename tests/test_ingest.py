"""rag.ingest.issues and rag.ingest.repair: decoding, story structure, repaired paragraphs.

Made-up issues follow the real issue's conventions (blank-line blocks, ASCII
punctuation, lines broken by the layout) without reusing its strings; the real
issue is checked against what a reader of it sees.
"""

import re
import unicodedata

import pytest

from conftest import REAL_ISSUE, TINY_ISSUE
from rag.errors import DataDirError, IssueReadError
from rag.ingest.issues import issue_hashes, load_issues, parse_issue, read_issue
from rag.ingest.repair import is_complete, joins_word, widen_punct
from rag.ingest.spans import locate, to_source

BYLINE_OR_CREDIT = re.compile(r"本报讯|(?:记者|通讯员)\s*\S{2,4}\s*摄?$")


def assert_grounded(stories, text):
    """Every paragraph sits in its span, and each character maps to itself."""
    for s in stories:
        for p in s.paragraphs:
            assert locate(p.text, text, p.start, p.end), p.text
            for i, c in enumerate(p.text):
                src = text[to_source(p.runs, i)]
                assert src == c or unicodedata.normalize("NFKC", c) == src or (c == " " and src.isspace())


def one(text):
    stories = parse_issue(text, "made-up.txt")
    assert_grounded(stories, text)
    return stories


# ---------------------------------------------------------------- repair rules

def test_widen_punct_beside_cjk_only():
    assert widen_punct("会议,5月(周一)召开;他说:“好!”对吗?") == "会议，5月（周一）召开；他说：“好！”对吗？"
    assert widen_punct("增长3.5%,共1,000个,10:30开始") == "增长3.5%，共1,000个，10:30开始"
    assert widen_punct("Hello, world (v2): ok!") == "Hello, world (v2): ok!"
    assert len(widen_punct("甲,乙(丙)")) == len("甲,乙(丙)")


def test_sentence_end_allows_closing_quotes():
    assert is_complete("他说：“好。”")
    assert is_complete("真的吗？")
    assert not is_complete("发展质")
    assert not is_complete("他说：“我")


def test_joins_word_across_a_line_break():
    assert joins_word("县市场监督管理", "局副局长李明介绍")
    assert joins_word("全力打", "造区域物流枢纽")
    assert not joins_word("港口建设提速", "今年以来")
    assert not joins_word("全力打", "推动港口转型升级")
    assert not joins_word("会议召开", "“好”")  # no word starts with a quote


# ---------------------------------------------------------------- made-up issues

def test_mid_word_breaks_across_blank_lines_are_joined():
    (s,) = one(
        "城西新区召开工作会议\n\n本报讯(记者 张三)3月5日,城西新区召开工作会议。会议指出,全区主要经\n\n"
        "济指标稳步增长,发展质\n\n量持续提升。\n\n下一步,全区将继续加\n\n快项目建设。\n"
    )
    assert s.headline == "城西新区召开工作会议"
    assert s.byline == "记者 张三" and s.date == "3月5日"
    assert [p.text for p in s.paragraphs] == [
        "3月5日，城西新区召开工作会议。会议指出，全区主要经济指标稳步增长，发展质量持续提升。",
        "下一步，全区将继续加快项目建设。",
    ]


def test_pull_quote_inside_a_sentence_is_kept_apart():
    (s,) = one(
        "港口建设提速\n\n今年以来,港口集团加快推进码头改造,全力打\n\n推动港口转型升级\n\n\n\n"
        "造区域物流枢纽,完成投资5.2亿元。\n"
    )
    assert s.pullquotes == ("推动港口转型升级",)
    assert [p.text for p in s.paragraphs] == ["今年以来，港口集团加快推进码头改造，全力打造区域物流枢纽，完成投资5.2亿元。"]
    p = s.paragraphs[0]
    assert p.runs[1][0] == p.text.index("造区域")  # the cut leaves a second run


def test_pull_quote_at_a_word_boundary_is_kept_apart_too():
    # no word straddles 推进|码头, but the sentence above is unfinished, so it goes on below
    (s,) = one(
        "港口建设提速\n\n今年以来,港口集团加快建设,全力推进\n\n推动港口转型升级\n\n码头改造工程,完成投资5.2亿元。\n"
    )
    assert s.pullquotes == ("推动港口转型升级",)
    assert s.paragraphs[0].text == "今年以来，港口集团加快建设，全力推进码头改造工程，完成投资5.2亿元。"


def test_short_fragment_followed_by_a_clause_mark_stays_in_the_sentence():
    (s,) = one(
        "开发区部署全年工作\n\n会议要求,全区上下要以改革为抓手,聚力重点产业、新区动能、营商环境、民生事业\n\n"
        "“四个突破”\n\n,确保目标完成。\n"
    )
    assert s.pullquotes == ()
    assert s.paragraphs[0].text.endswith("民生事业“四个突破”，确保目标完成。")
    assert len(s.paragraphs) == 1


def test_broken_off_paragraph_start_is_rejoined():
    (s,) = one(
        "春耕生产全面展开\n\n连日来,各乡镇抢抓农时开展春耕生产。\n\n县市场监督管理\n\n"
        "局副局长李明介绍,今年将加强农资质量检查。\n"
    )
    assert s.headline == "春耕生产全面展开" and s.subheadline is None
    assert s.paragraphs[1].text == "县市场监督管理局副局长李明介绍，今年将加强农资质量检查。"


def test_headline_between_stories_is_not_joined():
    stories = one(
        "港口建设提速\n\n今年以来,港口集团完成投资5.2亿元。\n\n春耕生产全面展开\n\n连日来,各乡镇抢抓农时。\n"
    )
    assert [s.headline for s in stories] == ["港口建设提速", "春耕生产全面展开"]
    assert [s.index for s in stories] == [0, 1]


def test_trailing_byline_ends_an_unfinished_story():
    stories = one("港口建设提速\n\n今年以来,港口集团加快建设,完成投资5.2亿元\n\n记者 王明\n\n春耕全面展开\n\n各乡镇抢抓农时。\n")
    assert [s.headline for s in stories] == ["港口建设提速", "春耕全面展开"]
    assert stories[0].byline == "记者 王明" and stories[0].pullquotes == ()


def test_kicker_credits_and_trailing_byline():
    stories = one(
        "城东街道:\n\n打造宜居社区\n\n近年来,城东街道改造老旧小区26个。\n\n通讯员 赵六\n\n"
        "夏粮收购启动\n\n6月8日,全县夏粮收购工作启动。\n\n记者 王明 摄\n\n"
        "收购点设在各乡镇粮站。\n\n记者 王明 摄\n"
    )
    a, b = stories
    assert (a.kicker, a.headline, a.byline) == ("城东街道", "打造宜居社区", "通讯员 赵六")
    assert a.title == "城东街道：打造宜居社区"
    assert a.date is None
    assert b.credits == ("记者 王明 摄", "记者 王明 摄") and b.byline is None
    assert b.date == "6月8日"
    assert [p.text for p in b.paragraphs] == ["6月8日，全县夏粮收购工作启动。", "收购点设在各乡镇粮站。"]


def test_three_story_issue_with_debris_and_crlf():
    issue = (
        "\n南湖新区举行春季招聘会\n\n提供岗位三千五百个\n\n本报讯(记者 王明)3月12日,南湖新区春季招聘会在会展中心举行。"
        "共有120家企业参加,\n提供岗位3500个。\n\n2\n\n新区人社局局长赵立新介绍,今年计划新增就业岗位1.2万个,"
        "比去年增长15%。\n\n记者 周红 摄\n\n城东污水处理厂二期投产\n\n本报讯(通讯员 陈晨)4月8日,城东污水处理厂"
        "二期工程正式投产,总投资2.6亿元。\n\n责任编辑:李四\n\n东湖:\n\n湿地公园开园\n\n5月1日,东湖湿地公园开园迎客。\n"
    )
    for text in (issue, issue.replace("\n", "\r\n")):
        stories = one(text)
        assert [(s.kicker, s.headline, s.subheadline) for s in stories] == [
            (None, "南湖新区举行春季招聘会", "提供岗位三千五百个"),
            (None, "城东污水处理厂二期投产", None),
            ("东湖", "湿地公园开园", None),
        ]
        first = stories[0]
        assert first.paragraphs[0].text == "3月12日，南湖新区春季招聘会在会展中心举行。共有120家企业参加，提供岗位3500个。"
        assert len(first.paragraphs) == 2 and first.credits == ("记者 周红 摄",)
        assert [s.date for s in stories] == ["3月12日", "4月8日", "5月1日"]
        assert all("\r" not in p.text and "\n" not in p.text for s in stories for p in s.paragraphs)
        assert not any("李四" in p.text for s in stories for p in s.paragraphs)


def test_tiny_fixture_issue():
    stories = one(TINY_ISSUE)
    assert [s.headline for s in stories] == ["南湖新区举行春季招聘会", "城东污水处理厂二期投产"]
    assert stories[0].byline == "记者 王明" and stories[1].byline == "通讯员 陈晨"
    assert stories[0].paragraphs[1].text.endswith("1.2万个，比去年增长15%。")


def test_latin_words_broken_by_a_line_end_keep_a_space():
    (s,) = one("新品发布\n\n公司发布了新的Smart\nCity平台。\n")
    assert s.paragraphs[0].text == "公司发布了新的Smart City平台。"


# ---------------------------------------------------------------- the real issue

@pytest.fixture(scope="module")
def real():
    text = read_issue(REAL_ISSUE)
    return text, parse_issue(text, REAL_ISSUE.name)


def test_real_issue_story_structure(real):
    text, stories = real
    assert len(stories) == 4
    meeting, straw, bigdata, port = stories
    assert meeting.headline == "菏泽经济开发区2021年重点工作推进会议召开"
    assert meeting.subheadline == "奋力书写高质量发展新篇章"
    assert (meeting.byline, meeting.date) == ("通讯员 李海欣", "5月29日")
    assert straw.headline == "秸秆禁烧在行动" and len(straw.paragraphs) == 2
    assert straw.credits == ("通讯员 小错 摄", "通讯员 小错 摄")
    assert bigdata.headline == "让“大数据”为区域经济发展赋能添力"
    assert (bigdata.byline, bigdata.date) == ("通讯员 李继展", "6月2日")
    assert (port.kicker, port.headline, port.byline) == ("菏泽开发区", "高标准打造现代医药港", "通讯员 丁宁")
    assert port.pullquotes == ("发展生物医药核心产业",)


def test_real_issue_paragraphs_are_clean_and_grounded(real):
    text, stories = real
    assert_grounded(stories, text)
    for s in stories:
        last = -1
        for p in s.paragraphs:
            assert p.start > last  # in reading order
            last = p.end
            assert is_complete(p.text), p.text  # no sentence left broken
            assert not BYLINE_OR_CREDIT.search(p.text), p.text
            assert not re.search(r"[,;:()!?]", p.text), p.text  # ASCII marks beside CJK
            assert not any(q in p.text for q in s.pullquotes)
            assert not re.search(r"\s", p.text)
    port = stories[3]
    assert any("打造“231”产业体系" in p.text for p in port.paragraphs)
    assert any(p.text.startswith("菏泽市现代医药港管理服务中心副主任") for p in port.paragraphs)


# ---------------------------------------------------------------- files

GOOD = "城西新区召开工作会议\n\n本报讯(记者 张三)3月5日,城西新区召开工作会议。\n"


def test_read_issue_encodings(tmp_path):
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    (tmp_path / "gbk.txt").write_bytes(GOOD.encode("gbk"))
    (tmp_path / "crlf.txt").write_bytes(GOOD.replace("\n", "\r\n").encode("utf-8"))
    assert read_issue(tmp_path / "bom.txt") == GOOD
    assert read_issue(tmp_path / "gbk.txt") == GOOD
    crlf = read_issue(tmp_path / "crlf.txt")
    assert crlf == GOOD.replace("\n", "\r\n")
    (s,) = parse_issue(crlf, "crlf.txt")
    p = s.paragraphs[0]
    assert crlf[p.start:p.end] == "3月5日,城西新区召开工作会议。"


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\xff\xfe\xfa\x81\x80", bytes(range(1, 32)) * 4])
def test_read_issue_rejects_non_text(tmp_path, data):
    f = tmp_path / "bad.txt"
    f.write_bytes(data)
    with pytest.raises(IssueReadError, match="bad.txt"):
        read_issue(f)


def test_read_issue_missing_file_names_it(tmp_path):
    with pytest.raises(IssueReadError, match="nope.txt"):
        read_issue(tmp_path / "nope.txt")


def test_load_issues_skips_bad_files_and_sorts(tmp_path):
    (tmp_path / "b.txt").write_bytes(GOOD.encode("gb18030"))
    (tmp_path / "a.txt").write_text(GOOD.replace("城西", "城北"), encoding="utf-8")
    (tmp_path / "c.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "d.txt").write_text("", encoding="utf-8")
    (tmp_path / "notes.md").write_text(GOOD, encoding="utf-8")
    stories, bad = load_issues(tmp_path)
    assert [s.source for s in stories] == ["a.txt", "b.txt"]
    assert stories[0].headline.startswith("城北")
    assert [name for name, _ in bad] == ["c.txt", "d.txt"]
    assert all(name in msg for name, msg in bad)
    hashes = issue_hashes(tmp_path)
    assert sorted(hashes) == ["a.txt", "b.txt", "c.txt", "d.txt"]
    assert all(len(h) == 64 for h in hashes.values())
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    assert issue_hashes(tmp_path)["a.txt"] != hashes["a.txt"]


def test_load_issues_folder_errors(tmp_path):
    with pytest.raises(DataDirError, match="missing"):
        load_issues(tmp_path / "missing")
    with pytest.raises(DataDirError):
        load_issues(tmp_path)  # no .txt files
    (tmp_path / "x.txt").write_bytes(b"\x00\xff")
    with pytest.raises(DataDirError, match="x.txt"):
        load_issues(tmp_path)
