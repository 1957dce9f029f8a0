"""Layout repair rules for news text: blocks in, classified and joinable pieces out.

Takes the decoded issue text and gives `Block`s (runs of non-blank lines), each
with its text and one source offset per character, classified by general rules
about Chinese news layout: sentence-final punctuation, line length, headline
shape, byline and photo-credit forms. It also gives the two repairs that need
more than shape: whether a line break cut a word (jieba: does a token straddle
the junction?), and ASCII punctuation beside CJK text made full-width (a 1:1
replacement, so source offsets stay valid). rag.ingest.issues decides story structure.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

# A body block is finished when it ends a sentence, optionally inside quotes.
SENT_END = re.compile(r"[。！？!?…]+[”’」』）)\"']*$")
# Headlines are short and never end a sentence or a clause.
MAX_HEADING = 32
MAX_KICKER = 20
CLAUSE_END = re.compile(r"[，、；,;]$")

_ROLE = r"(?:本报)?(?:特约|见习|实习|摄影)?(?:记者|通讯员|实习生|作者|摄影)"
_NAME = r"[\u4e00-\u9fff·]{2,5}"
_PEOPLE = rf"(?:{_ROLE}[\s:：]*)?{_NAME}(?:[\s、，,]+(?:{_ROLE}[\s:：]*)?{_NAME})*"
# "通讯员 丁宁", "本报记者 王明 通讯员 李华": a byline standing on its own line.
BYLINE = re.compile(rf"{_ROLE}[\s:：]*{_NAME}(?:[\s、，,]+(?:{_ROLE}[\s:：]*)?{_NAME})*")
# "通讯员 小错 摄", "记者王明/摄", "摄影：王明": a photo credit.
CREDIT = re.compile(rf"{_PEOPLE}[\s/]*摄|(?:摄影|图)[\s:：/]+{_PEOPLE}")
# Editorial furniture that is not part of any story.
DEBRIS = re.compile(r"[\W\d_]+|(?:责任编辑|责编|编辑|校对|美编|版式|组版)[\s:：].{0,20}")
# How a story's first paragraph may open: "本报讯(通讯员 李海欣)", "本报北京5月3日电(记者 X)".
LEAD_PREFIX = re.compile(
    r"(?:本报讯|本报[^\s(（，,。]{1,12}[讯电]|新华社[^\s(（，,。]{1,12}电)\s*"
    r"(?:[(（]([^()（）]{2,40})[)）])?\s*"
    rf"|[(（]({_ROLE}[^()（）]{{1,40}})[)）]\s*"
)
DATE = re.compile(r"(?:\d{4}年)?\d{1,2}月\d{1,2}日")
# Text that can only open a story, never continue a sentence or a broken line.
STORY_START = re.compile(rf"{LEAD_PREFIX.pattern}|(?:\d{{4}}年)?\d{{1,2}}月\d{{1,2}}日[，,]")
# A block starting with these continues whatever text stands right before it.
CONTINUES = re.compile(r"[，、；：。！？,;:!?）)”’」』]")

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef“”‘’…—]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WIDE = {",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "!": "！", "?": "？"}


@dataclass
class Block:
    text: str
    pos: list[int] = field(default_factory=list)  # source offset of each character
    kind: str = "body"  # body | heading | kicker | byline | credit | debris

    def join(self, other: "Block") -> "Block":
        return Block(*join_texts(self.text, self.pos, other.text, other.pos), self.kind)


def join_texts(a: str, a_pos: list[int], b: str, b_pos: list[int]) -> tuple[str, list[int]]:
    """Join two pieces broken by a line end; Latin words keep a space between them."""
    if a and b and a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum():
        # the space stands for the line break, so it maps to the character after `a`
        return a + " " + b, a_pos + [a_pos[-1] + 1] + b_pos
    return a + b, a_pos + b_pos


def split_blocks(text: str) -> list[Block]:
    """Blocks of non-blank lines with per-character source offsets (any line ends)."""
    blocks: list[Block] = []
    cur: Block | None = None
    offset = 0
    for line in text.splitlines(keepends=True):
        content = line.splitlines()[0] if line.strip("\r\n") else ""
        stripped = content.strip()
        if not stripped:
            cur = None
        else:
            lead = len(content) - len(content.lstrip())
            piece = Block(stripped, list(range(offset + lead, offset + lead + len(stripped))))
            if cur is None:
                cur = piece
                blocks.append(cur)
            else:
                blocks[-1] = cur = cur.join(piece)
        offset += len(line)
    for b in blocks:
        b.text = widen_punct(b.text)
        b.kind = classify(b.text)
    return blocks


def classify(text: str) -> str:
    if DEBRIS.fullmatch(text):
        return "debris"
    if CREDIT.fullmatch(text):
        return "credit"
    if BYLINE.fullmatch(text):
        return "byline"
    if len(text) <= MAX_KICKER and text[-1] in ":：" and not re.search(r"[，。！？；,;!?]", text):
        return "kicker"
    # A headline may pair two short clauses, but a run of clauses is a sentence.
    if len(text) <= MAX_HEADING and not SENT_END.search(text) and not CLAUSE_END.search(text) \
            and "。" not in text and text[-1] not in ":：" and len(re.findall("[，；]", text)) <= 1:
        return "heading"
    return "body"


def is_complete(text: str) -> bool:
    """Does the text end a sentence (so a following block is a new paragraph)?"""
    return bool(SENT_END.search(text))


def widen_punct(text: str) -> str:
    """ASCII , ; : ( ) ! ? next to CJK text become full-width, one char for one char.

    Digit groups (1,000), times and ratios (10:30) and punctuation inside Latin
    text keep their ASCII form.
    """
    chars = list(text)
    for i, c in enumerate(chars):
        if c not in _WIDE:
            continue
        before = text[i - 1] if i > 0 else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if c in ",:" and before.isdigit() and after.isdigit():
            continue
        if _CJK.match(before or " ") or _CJK.match(after or " "):
            chars[i] = _WIDE[c]
    return "".join(chars)


_jieba_lock = threading.Lock()
_jieba = None
CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "jieba"


def _tokenizer(cache_dir: Path | None = None):
    """A private jieba tokenizer, made on first use, its 9 MB cache kept in the
    project. Private, so that the layout rules give the same answer on every
    build whatever else in the process does with jieba's shared dictionary
    (rag.text.Lexicon keeps the issues' names out of it, but other code may not)."""
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            d = Path(cache_dir or CACHE_DIR)
            d.mkdir(parents=True, exist_ok=True)
            tok = jieba.Tokenizer()
            tok.tmp_dir = str(d)
            _jieba = tok
    return _jieba


def joins_word(left: str, right: str, window: int = 6) -> bool:
    """True if a dictionary word straddles the junction of left + right.

    服务|中心 -> 服务中心 straddles (a line broken inside a word); 行动|为 does
    not (a headline above its first paragraph). HMM is off so that only
    dictionary words count, not guesses built from unknown characters.
    """
    if not left or not right or not _HAN.match(left[-1]) or not _HAN.match(right[0]):
        return False
    l, r = left[-window:], right[:window]
    pos, off = len(l), 0
    for tok in _tokenizer().cut(l + r, HMM=False):
        if off < pos < off + len(tok):
            return True
        off += len(tok)
    return False
