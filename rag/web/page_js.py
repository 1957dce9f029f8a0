"""The page's own script, put in <head> by rag.web.serve.launch (Gradio's `head=`).

What Gradio's components do not do, done once with listeners on the document
(so they keep working as Gradio re-renders its parts):
  - copy gives text: the chat's copy button copies a reply's HTML; wrapped,
    the clipboard gets the reply's plain-text copy instead (its `data-copy`:
    the sentence and a citation line, rag.web.render.plain_answer), and a user's
    own message as typed rather than HTML-escaped;
  - `.rag-copy` controls (one per citation line in the staff search) copy
    their line; `.rag-example` questions (in the help reply) are asked;
  - the question box says how many characters are left, says when a question
    is too long (in the counter below the box and in a warning just above it,
    which the box names as its description, so it is seen and heard at once
    even when a long paste pushes the counter below the fold), and does not
    send an empty or too long one;
  - after an answer the focus goes back to the box, when the box had it as the
    question was sent (not on a touch screen: the keyboard would come back up
    over the answer just arrived);
  - the chat's buttons and its waiting bubble speak Chinese (复制/已复制, 赞/踩,
    正在查找答案…: Gradio's zh-CN strings lack some, and an English browser gets
    English ones); Gradio's "processing | 0.1/1.5s" timer is hidden by render.CSS;
  - a 👍/👎 is thanked with a short message;
  - a reload does not lose the conversation without a word: when the page does
    not keep it (rag.web.keep stores it in the browser), leaving asks first.
No user or issue text is ever put into markup here: only textContent and the
clipboard.
"""

from __future__ import annotations

import json

# Styles of what the script makes; their colours pass the same 4.5:1 check as render.CSS.
STYLE = """
<style>
#chat { position: relative; }
#ask-warn { position: absolute; left: .5em; right: .5em; bottom: .4em; z-index: 20; padding: .45em .7em;
  border: 1px solid #fca5a5; border-radius: 6px; background: #fef2f2; color: #991b1b; font-size: .9em; font-weight: 600;
  box-shadow: 0 2px 6px rgba(0, 0, 0, .15); }
#ask-warn[hidden] { display: none; }
#rag-toast { position: fixed; left: 50%; top: 1em; transform: translateX(-50%); z-index: 1000; padding: .5em 1.1em;
  border-radius: 8px; background: #1f2937; color: #ffffff; font-size: .95em; box-shadow: 0 4px 12px rgba(0, 0, 0, .25);
  opacity: 0; pointer-events: none; transition: opacity .2s; }
#rag-toast.show { opacity: 1; }
</style>
"""

SCRIPT = r"""
<script>
(() => {
  if (window.__ragPage) return;
  window.__ragPage = true;
  const MAX = __MAX__;
  const han = /[\u3400-\u9fff]/;

  // ---------------------------------------------------------------- copy gives text
  const parse = (raw) => new DOMParser().parseFromString(raw, 'text/html');  // inert: nothing loads or runs
  const replyText = (raw) => {
    if (!raw || raw.indexOf('rag-reply') < 0) return null;
    const parts = [...parse(raw).querySelectorAll('.rag-reply')]
      .map((d) => d.getAttribute('data-copy') || d.textContent.trim());
    return parts.length ? parts.join('\n\n') : null;
  };
  // what was last pressed: a copy button in the chat copies a message
  let pressed = null, focusAtPress = null;
  document.addEventListener('pointerdown', (e) => { pressed = e.target; focusAtPress = document.activeElement; }, true);
  const fromChat = () => {
    const a = pressed || document.activeElement;
    return !!(a && a.closest && a.closest('#chat'));
  };
  const asText = (text) => {
    const reply = replyText(text);
    if (reply !== null) return reply;
    // a chat message that is not a reply is a user's: escaped text, shown as typed
    if (fromChat() && text.indexOf('<') < 0) return parse(text).documentElement.textContent;
    return text;
  };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    const write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => write(asText(String(text)));
  }
  // without the Clipboard API (plain http on another host) Gradio copies from a hidden textarea
  document.addEventListener('copy', (e) => {
    const t = e.target;
    if (t && t.tagName === 'TEXTAREA' && e.clipboardData && (t.value || '').indexOf('rag-reply') >= 0) {
      e.clipboardData.setData('text/plain', asText(t.value));
      e.preventDefault();
    }
  }, true);

  const copy = async (text, el) => {
    try {
      await navigator.clipboard.writeText(text);
    } catch (err) {
      const t = document.createElement('textarea');
      t.value = text; t.style.position = 'fixed'; t.style.left = '-9999px';
      document.body.appendChild(t); t.select();
      try { document.execCommand('copy'); } finally { t.remove(); }
    }
    const was = el.textContent;
    el.textContent = '已复制';
    setTimeout(() => { el.textContent = was; }, 1500);
  };

  // ---------------------------------------------------------------- the question box
  const box = () => document.querySelector('#ask-box textarea');
  const counter = () => document.getElementById('ask-count');
  const length = (s) => [...(s || '').trim()].length;
  // the warning just above the box: laid over the foot of the chat, so that it is
  // on screen whenever the box is (the counter under the box may not be)
  const warning = () => {
    let w = document.getElementById('ask-warn');
    const chat = document.getElementById('chat');
    if (!w && chat) {
      w = document.createElement('div');
      w.id = 'ask-warn';
      w.hidden = true;
      chat.appendChild(w);
    }
    return w;
  };
  const say = (el, text) => { if (el && el.textContent !== text) el.textContent = text; };
  const count = (note) => {
    const b = box(), out = counter();
    if (!b || !out) return;
    const n = length(b.value), left = MAX - n;
    const en = n > 0 && !han.test(b.value) && /[A-Za-z]{2}/.test(b.value);
    out.classList.toggle('over', left < 0 || !!note);
    const over = left < 0 ? (en
      ? `Too long: ${n} characters, ${-left} over the limit of ${MAX}. Shorten it to send.`
      : `问题太长：${n} 字，超出 ${-left} 字（最多 ${MAX} 字），请删减后再发送。`) : '';
    if (note) say(out, note);
    else if (over) say(out, over);
    else if (n > 0) say(out, en ? `${left} characters left` : `还可输入 ${left} 字`);
    else say(out, `最多 ${MAX} 字`);
    const w = warning();
    if (!w) return;
    say(w, over);
    w.hidden = !over;
    if (over) { b.setAttribute('aria-describedby', 'ask-warn'); b.setAttribute('aria-invalid', 'true'); }
    else if (b.getAttribute('aria-describedby') === 'ask-warn') { b.removeAttribute('aria-describedby'); b.removeAttribute('aria-invalid'); }
  };
  const later = () => { setTimeout(() => count(), 150); setTimeout(() => count(), 1200); };
  const blocked = () => {
    const b = box();
    if (!b) return false;
    const n = length(b.value);
    if (n === 0) { count('请先输入问题。'); setTimeout(() => count(), 2000); return true; }
    if (n > MAX) { count(); b.focus(); return true; }
    return false;
  };
  const setValue = (el, v) => {
    Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set.call(el, v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  };
  const ask = (q) => {
    const b = box();
    if (!b || !q) return;
    setValue(b, q);
    setTimeout(() => {
      const send = document.querySelector('#ask-box button.submit-button, #ask-box button[aria-label="Submit"]');
      if (send) send.click();
      else { b.focus(); b.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', code: 'Enter', bubbles: true })); }
      later();
    }, 50);
  };

  document.addEventListener('input', (e) => {
    if (e.target.closest && e.target.closest('#ask-box')) count();
  }, true);
  for (const type of ['keydown', 'keypress']) {
    document.addEventListener(type, (e) => {
      const t = e.target;
      if (e.key !== 'Enter' || e.shiftKey || e.isComposing || !(t.closest && t.closest('#ask-box'))) return;
      if (blocked()) { e.preventDefault(); e.stopImmediatePropagation(); } else if (type === 'keydown') { sent(true); later(); }
    }, true);
  }
  document.addEventListener('click', (e) => {
    const t = e.target;
    if (!t.closest) return;
    const send = t.closest('#ask-box button.submit-button, #ask-box button[aria-label="Submit"]');
    if (send && e.isTrusted && blocked()) { e.preventDefault(); e.stopImmediatePropagation(); return; }
    if (send) { sent(e.isTrusted && e.detail > 0 && focusAtPress === box()); later(); }  // pressed, not keyed: was the box focused?
    const v = t.closest('#chat button');
    const was = v && (v.getAttribute('aria-label') || '');
    if (VOTE[was]) toast(VOTE[was], v);
    const c = t.closest('.rag-copy');
    // the chat's sanitizer drops data- attributes: the text itself is the line or question
    const code = c && c.parentElement && c.parentElement.querySelector('code');
    if (c) { e.preventDefault(); copy(c.getAttribute('data-copy') || (code ? code.textContent : ''), c); return; }
    const x = t.closest('.rag-example');
    if (x) { e.preventDefault(); ask(x.getAttribute('data-ask') || x.textContent.trim()); }
  }, true);
  document.addEventListener('keydown', (e) => {
    const t = e.target;
    if ((e.key === 'Enter' || e.key === ' ') && t.matches && t.matches('.rag-copy, .rag-example')) {
      e.preventDefault();
      t.click();
    }
  });
  // ---------------------------------------------------------------- focus back after an answer
  // Gradio disables the box while answering, so the focus falls to the page.
  // Given back once the reply is in and the box is enabled again, if the box had
  // it when the question was sent and nothing else has taken it since.
  const touchOnly = () => window.matchMedia && matchMedia('(hover: none) and (pointer: coarse)').matches;
  const replies = () => document.querySelectorAll('#chat .message.bot:not(.pending)').length;
  let refocus = null;
  const sent = (hadFocus) => {
    refocus = hadFocus && !touchOnly() ? { at: Date.now(), replies: replies(), busy: false } : null;
  };
  const giveFocusBack = () => {
    if (!refocus) return;
    const b = box();
    const busy = !!document.querySelector('#chat .message.pending') || !b || b.disabled;
    if (busy) { refocus.busy = true; return; }
    if (!refocus.busy && replies() <= refocus.replies) {
      if (Date.now() - refocus.at > 120000) refocus = null;
      return;
    }
    refocus = null;
    const a = document.activeElement;
    if (!a || a === document.body || a === document.documentElement) b.focus({ preventScroll: true });
  };

  // ---------------------------------------------------------------- Chinese labels
  const COPY = { 'Copy message': '复制', 'Copied message': '已复制', 'Copy': '复制', 'Copied': '已复制' };
  const CHAT = Object.assign({ 'Like': '赞', 'Liked': '已赞', 'Dislike': '踩', 'Disliked': '已踩',
    'Retry': '重试', 'Undo': '撤销', 'Edit': '编辑', 'Clear': '清空对话' }, COPY);
  const WAITING = '正在查找答案…';
  // Gradio labels a message with its raw content: a screen reader would read a
  // reply's HTML source. Label it with the reply's text instead.
  const relabel = () => {
    for (const m of document.querySelectorAll('[data-testid="bot"][aria-label*="rag-reply"]')) {
      const text = replyText(m.getAttribute('aria-label'));
      if (text !== null) m.setAttribute('aria-label', text);
    }
    for (const el of document.querySelectorAll('button[aria-label], button[title]')) {
      const labels = el.closest('#chat') ? CHAT : COPY;  // elsewhere only copy buttons: another "Clear" is not the chat's
      for (const name of ['aria-label', 'title']) {
        const zh = labels[el.getAttribute(name)];
        if (zh) el.setAttribute(name, zh);
      }
    }
    for (const p of document.querySelectorAll('#chat .message.pending')) {
      if (p.getAttribute('aria-label') !== WAITING) p.setAttribute('aria-label', WAITING);
      const sr = p.querySelector('.sr-only');
      if (sr) say(sr, WAITING);
    }
  };

  // ---------------------------------------------------------------- thanks for a vote
  // keyed by the button's label before the click: a vote, or one taken back
  const VOTE = { '赞': '谢谢反馈！', 'Like': '谢谢反馈！', '踩': '谢谢反馈！我们会看看哪里没答好。', 'Dislike': '谢谢反馈！我们会看看哪里没答好。',
                 '已赞': '已取消评价', 'Liked': '已取消评价', '已踩': '已取消评价', 'Disliked': '已取消评价' };
  let toastTimer = null;
  const toastBox = () => {
    let t = document.getElementById('rag-toast');
    if (!t && document.body) {
      t = document.createElement('div');
      t.id = 'rag-toast';
      t.setAttribute('role', 'status');
      t.setAttribute('aria-live', 'polite');
      document.body.appendChild(t);
    }
    return t;
  };
  // shown just under the button pressed (where the eyes are), else at the top of the window
  const toast = (text, near) => {
    const t = toastBox();
    if (!t) return;
    const r = near && near.getBoundingClientRect();
    const inView = r && r.bottom > 0 && r.bottom + 48 < innerHeight;
    t.style.top = inView ? `${Math.round(r.bottom + 8)}px` : '';
    t.style.left = inView ? `${Math.round(Math.max(8, Math.min(r.left, innerWidth - 320)))}px` : '';
    t.style.transform = inView ? 'none' : '';
    t.textContent = text;
    t.classList.add('show');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.classList.remove('show'); t.textContent = ''; }, 2500);
  };

  // ---------------------------------------------------------------- a reload keeps the conversation
  // rag.web.keep stores it in the browser (a gr.BrowserState under KEEP); without
  // that, leaving a page that holds a conversation asks first.
  const KEEP = __KEEP__;
  const kept = () => ((window.gradio_config && window.gradio_config.components) || [])
    .some((c) => c && c.props && c.props.storage_key === KEEP);
  window.addEventListener('beforeunload', (e) => {
    if (!document.querySelector('#chat .message.user') || kept()) return;
    e.preventDefault();
    e.returnValue = '';  // the browser's own "leave site?" question
  });

  let queued = false;
  const tick = () => { queued = false; relabel(); giveFocusBack(); };
  new MutationObserver(() => { if (!queued) { queued = true; requestAnimationFrame(tick); } })
    .observe(document.documentElement, { subtree: true, childList: true,
      attributes: true, attributeFilter: ['aria-label', 'title', 'disabled'] });
  document.addEventListener('DOMContentLoaded', toastBox);
  toastBox();
  setInterval(() => { count(); giveFocusBack(); }, 1500);  // the box is also emptied by the page itself after sending
})();
</script>
"""


def script(max_chars: int) -> str:
    """The page's head: its styles and <script>, with the question length cap filled in."""
    from rag.web.keep import KEY

    return STYLE + SCRIPT.replace("__MAX__", str(int(max_chars))).replace("__KEEP__", json.dumps(KEY))
