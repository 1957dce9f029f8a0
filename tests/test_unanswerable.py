"""eval/unanswerable.py: a question's asked word replaced by the nearest word its article never uses."""

from __future__ import annotations

from collections import Counter

import numpy as np

from eval.unanswerable import Neighbours, swap, vocabulary

TAGS = {"公司": "n", "总经理": "n", "董事长": "n", "经理": "n", "星云": "n", "是": "v", "谁": "r", "的": "uj",
        "投资": "vn", "多少": "m", "占地": "v"}
# made-up meanings: 董事长 is nearer 总经理 than 星云 is
VECTORS = {"总经理": [1.0, 0.0], "董事长": [0.9, 0.44], "经理": [1.0, 0.05], "星云": [0.0, 1.0], "公司": [0.6, 0.8],
           "投资": [0.7, 0.7]}


def tagged(text):
    out, i = [], 0
    while i < len(text):
        for n in (3, 2, 1):
            w = text[i:i + n]
            if w in TAGS or n == 1:
                out.append((w, TAGS.get(w, "x")))
                i += n
                break
    return out


def embed(words):
    v = np.array([VECTORS.get(w, [0.5, 0.5]) for w in words], dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def neighbours(texts, min_uses=1):
    vocab = vocabulary(texts, tagged)
    return Neighbours({f: Counter({w: n * 3 for w, n in c.items()}) for f, c in vocab.items()}, embed)


def test_the_asked_office_becomes_the_nearest_one_the_article_never_names():
    article = "公司的总经理是张三。"
    nb = neighbours([article, "某厂的董事长是李四。", "星云是天体。", "公司的经理是王五。"])
    # 经理 is nearer but shares characters with 总经理 (a near-synonym); 董事长 is next; 星云 is far
    assert swap("公司的总经理是谁？", article, nb, tagged) == "公司的董事长是谁？"


def test_only_a_word_the_article_uses_is_replaced_and_words_of_other_tags_are_not_offered():
    nb = neighbours(["公司的总经理是张三。", "某厂的董事长是李四。", "投资多少"])
    assert swap("总经理是谁？", "这篇文章只谈天气。", nb, tagged) is None  # the article never uses 总经理
    assert swap("公司投资多少？", "公司投资三亿元。", nb, tagged) is None  # 投资 (vn) has no other vn word


def test_rare_words_are_not_offered():
    vocab = vocabulary(["公司的总经理是张三。", "某厂的董事长是李四。"], tagged)  # each used once
    assert swap("公司的总经理是谁？", "公司的总经理是张三。", Neighbours(vocab, embed), tagged) is None
