"""Text colours against their backgrounds, computed from the style sheets (fast).

Every `color:` that rag.web.render.CSS or the page script's styles
(rag.web.page_js.STYLE) declare is resolved, through var(), against the
page's own variables and the Soft theme's (light and dark), and its WCAG 2
contrast ratio computed against the background the rule sets, or else every
background of the theme our text sits on. Each must be at least 4.5:1 (WCAG
AA, normal text); the question box's focus ring at least 3:1 (non-text). The
browser test (tests/test_browser_chat.py) measures the rendered page as well.
"""

from __future__ import annotations

import re

import pytest

from rag.web import page_js, render

AA_TEXT, AA_RING = 4.5, 3.0
# where our text sits when its rule sets no background: the page, a block
# (the chat, a bubble), the sources' tint, an input
PAGE_BACKGROUNDS = ("body-background-fill", "background-fill-primary", "background-fill-secondary",
                    "block-background-fill", "input-background-fill")
NAMED = {"white": (255, 255, 255), "black": (0, 0, 0)}


# ------------------------------------------------------------ WCAG 2

def luminance(rgb) -> float:
    def lin(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = rgb
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast(a, b) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_matches_published_figures():
    # the reference pairs of the issue and of WCAG's own examples
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    assert contrast(parse_colour("#9CA3AF"), parse_colour("#F9FAFB")) == pytest.approx(2.4, abs=0.06)
    assert contrast(parse_colour("#767676"), parse_colour("#fff")) == pytest.approx(4.54, abs=0.01)


# ------------------------------------------------------------ a small CSS reader

def rules(css: str) -> list[tuple[str, dict[str, str]]]:
    """(selector, {property: value}) for every rule, those inside @media too."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"</?style>", "", css)
    out = []
    for m in re.finditer(r"([^{}]+)\{([^{}]*)\}", css):
        selector = m.group(1).strip()
        if selector.startswith("@media"):  # the @media head itself: its rules follow as plain ones
            selector = selector.split("{")[-1].strip()
        selector = re.sub(r"^@media[^{]*", "", selector).strip()
        decls = {}
        for d in m.group(2).split(";"):
            if ":" in d:
                k, v = d.split(":", 1)
                decls[k.strip().lower()] = v.replace("!important", "").strip()
        out.append((selector, decls))
    return out


def parse_colour(value: str):
    v = value.strip().lower()
    if v in NAMED:
        return NAMED[v]
    m = re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", v)
    if m:
        h = m.group(1)
        h = "".join(c * 2 for c in h) if len(h) == 3 else h
        return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))
    m = re.fullmatch(r"rgba?\(([^)]*)\)", v)
    if m:
        parts = [float(x) for x in re.split(r"[\s,/]+", m.group(1).strip()) if x]
        if len(parts) == 4 and parts[3] < 1:
            return None  # translucent: not a text or background colour we use
        return tuple(int(round(x)) for x in parts[:3])
    return None


def resolve(value: str, variables: dict[str, str], depth: int = 0) -> str:
    """var(--x, fallback) replaced by the variable's value, recursively."""
    if depth > 20:
        raise AssertionError(f"var() loop in {value}")

    def sub(m):
        name, fallback = m.group(1), m.group(2)
        if name in variables:
            return resolve(variables[name], variables, depth + 1)
        if fallback is not None:
            return resolve(fallback.strip(), variables, depth + 1)
        raise AssertionError(f"--{name} is defined neither by the theme nor by our CSS")

    return re.sub(r"var\(--([\w-]+)(?:\s*,\s*([^()]*(?:\([^()]*\))?[^()]*))?\)", sub, value).strip()


def theme_variables() -> dict[str, dict[str, str]]:
    """The Soft theme's variables (the page's theme, rag.web.serve.launch), then ours on top."""
    gr = pytest.importorskip("gradio")
    found = {"light": {}, "dark": {}}
    for selector, decls in rules(gr.themes.Soft()._get_theme_css()) + rules(render.CSS) + rules(page_js.STYLE):
        mode = "dark" if ".dark" in selector else "light" if selector == ":root" else None
        if mode:
            found[mode].update({k[2:]: v for k, v in decls.items() if k.startswith("--")})
    found["dark"] = {**found["light"], **found["dark"]}
    assert found["light"].get("neutral-50") == "#f9fafb", "the theme's variables were not read"
    return found


def text_rules():
    """(selector, colour value, background value or None) of every rule that sets a text colour."""
    out = []
    for selector, decls in rules(render.CSS) + rules(page_js.STYLE):
        colour = decls.get("color")
        if colour is None or selector.startswith(":root"):
            continue
        bg = decls.get("background-color") or decls.get("background")
        out.append((selector, colour, bg))
    return out


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_every_text_colour_the_page_declares_is_at_least_4_5_to_1(mode):
    variables = theme_variables()[mode]
    page = [parse_colour(resolve(f"var(--{b})", variables)) for b in PAGE_BACKGROUNDS]
    assert all(page), page
    body = resolve("var(--body-text-color)", variables)
    checked, low = [], []
    for selector, colour, bg in text_rules():
        if colour in ("inherit", "currentcolor"):
            if bg is None:
                continue  # the parent's colour, checked where it is set
            colour = body
        fg = parse_colour(resolve(colour, variables))
        assert fg is not None, f"{selector}: cannot read the colour {colour!r}"
        backs = [parse_colour(resolve(bg, variables))] if bg else page
        for back in backs:
            ratio = contrast(fg, back)
            checked.append(selector)
            if ratio < AA_TEXT:
                low.append(f"{selector}: {colour} -> {fg} on {back}: {ratio:.2f}:1")
    assert not low, "\n".join(low)
    # the reader really saw the rules the issue named: citation lines, the counter, the subtitle, and ours
    for must in (".rag-meta", "#ask-count", ".rag-header p", "#ask-count.over", ".rag-ref", "#ask-warn", "#rag-toast",
                 "#chat .message.pending[aria-label=\"正在查找答案…\"] .sr-only", ".rag-tick"):
        assert must in checked, must


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_the_focus_ring_stands_out_from_the_box_and_the_page(mode):
    variables = theme_variables()[mode]
    ring = [d["outline"] for s, d in rules(render.CSS) if "#ask-box" in s and "focus-visible" in s and "outline" in d
            and d["outline"] != "none"]
    assert ring, "no focus ring on the question box"
    colour = parse_colour(resolve(ring[0].split()[-1], variables))
    width = float(re.match(r"([\d.]+)px", ring[0]).group(1))
    assert width >= 2
    for b in PAGE_BACKGROUNDS:
        assert contrast(colour, parse_colour(resolve(f"var(--{b})", variables))) >= AA_RING, b


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_the_question_box_placeholder_is_readable_too(mode):
    variables = theme_variables()[mode]
    text = parse_colour(resolve("var(--input-placeholder-color)", variables))
    assert contrast(text, parse_colour(resolve("var(--input-background-fill)", variables))) >= AA_TEXT


def test_the_old_grey_is_gone_from_the_light_theme():
    variables = theme_variables()["light"]
    subdued = parse_colour(resolve("var(--body-text-color-subdued)", variables))
    assert subdued != parse_colour("#9ca3af")
    assert contrast(subdued, parse_colour("#f9fafb")) >= AA_TEXT
