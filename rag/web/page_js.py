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
    is too long, and does not send an empty or too long one.
No user or issue text is ever put into markup here: only textContent and the
clipboard.
"""

from __future__ import annotations

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
  let pressed = null;
  document.addEventListener('pointerdown', (e) => { pressed = e.target; }, true);
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
  const count = (note) => {
    const b = box(), out = counter();
    if (!b || !out) return;
    const n = length(b.value), left = MAX - n;
    const en = n > 0 && !han.test(b.value) && /[A-Za-z]{2}/.test(b.value);
    out.classList.toggle('over', left < 0 || !!note);
    if (note) out.textContent = note;
    else if (left < 0) out.textContent = en
      ? `Too long: ${n} characters, ${-left} over the limit of ${MAX}. Shorten it to send.`
      : `问题太长：${n} 字，超出 ${-left} 字（最多 ${MAX} 字），请删减后再发送。`;
    else if (n > 0) out.textContent = en ? `${left} characters left` : `还可输入 ${left} 字`;
    else out.textContent = `最多 ${MAX} 字`;
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
    b.focus();
    setTimeout(() => {
      const send = document.querySelector('#ask-box button.submit-button, #ask-box button[aria-label="Submit"]');
      if (send) send.click();
      else b.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', code: 'Enter', bubbles: true }));
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
      if (blocked()) { e.preventDefault(); e.stopImmediatePropagation(); } else later();
    }, true);
  }
  document.addEventListener('click', (e) => {
    const t = e.target;
    if (!t.closest) return;
    const send = t.closest('#ask-box button.submit-button, #ask-box button[aria-label="Submit"]');
    if (send && e.isTrusted && blocked()) { e.preventDefault(); e.stopImmediatePropagation(); return; }
    if (send) later();
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
  // Gradio labels a message with its raw content: a screen reader would read a
  // reply's HTML source. Label it with the reply's text instead.
  const relabel = () => {
    for (const m of document.querySelectorAll('[data-testid="bot"][aria-label*="rag-reply"]')) {
      const text = replyText(m.getAttribute('aria-label'));
      if (text !== null) m.setAttribute('aria-label', text);
    }
  };
  new MutationObserver(relabel).observe(document.documentElement, { subtree: true, childList: true,
    attributes: true, attributeFilter: ['aria-label'] });
  setInterval(() => count(), 1500);  // the box is also emptied by the page itself after sending
})();
</script>
"""


def script(max_chars: int) -> str:
    """The <script> for the page's head, with the question length cap filled in."""
    return SCRIPT.replace("__MAX__", str(int(max_chars)))
