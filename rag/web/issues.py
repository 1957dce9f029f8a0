"""The staff tab 期次 (Issues): upload, preview, publish, replace and remove issue files.

Takes the page's Handlers and a rag.publish.reindex.Publisher; gives the tab's
callbacks (IssueDesk, kept apart from Gradio for tests), its HTML (every file
name and issue text escaped, server paths cut) and its layout (`issues_tab`).
An upload is checked and shown as read (rag.publish.preview) before anything is
written; publishing, replacing (confirmed) and removing (confirmed) run as one
background job whose progress the page follows; the chat answers from the
running engine until the job swaps the new one in (Handlers.engine, which also
drops the kept answers).
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from rag.errors import EXITS, RagError
from rag.publish.preview import Preview, check_upload, read_upload
from rag.web.handlers import SORRY, Handlers, no_paths
from rag.web.render import esc

log = logging.getLogger("newsrag.app")
POLL_S = 0.5  # how often the page's view of a running job is refreshed
MAX_FILES = 20  # uploads checked at once
# an absolute path's folders (/srv/x/, C:\\x\\), not "2/23": a slash after a letter or digit is no path
ABS_DIR_RE = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?[\\/](?:[^\s\\/:]+[\\/])*")


def _notice(message: str, kind: str = "bad") -> str:
    return f'<p class="rag-notice rag-pub-{kind}">{esc(no_paths(message))}</p>'


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.1f} KB" if n >= 1024 else f"{n} 字节"


def render_paragraph(text: str, joins) -> str:
    """A paragraph with a ⏎ mark where a line break of the file was rejoined."""
    out, at = [], 0
    for j in joins:
        out.append(esc(text[at:j]))
        out.append('<span class="rag-join" title="原文此处换行，已接上">⏎</span>')
        at = j
    out.append(esc(text[at:]))
    return "<p>" + "".join(out) + "</p>"


def render_preview(p: Preview) -> str:
    if not p.ok:
        return (f'<div class="rag-pub-file rag-pub-refused"><div class="rag-pub-name"><code>{esc(p.name)}</code> '
                f'<span class="rag-pub-tag">不能发布</span></div>{_notice(p.problem)}</div>')
    tags = ['<span class="rag-pub-tag rag-pub-okay">可以发布</span>']
    if p.replaces:
        tags.append('<span class="rag-pub-tag rag-pub-warn">将替换已发布的同名期次（须勾选“确认替换”）</span>')
    if p.same_as:
        tags.append(f'<span class="rag-pub-tag rag-pub-warn">与已发布的 {esc(p.same_as)} 内容相同</span>')
    joins = sum(s.joins for s in p.stories)
    stories = []
    for k, s in enumerate(p.stories, 1):
        meta = " · ".join(x for x in (esc(s.byline) if s.byline else "", esc(s.date) if s.date else "",
                                      f"{len(s.paragraphs)} 段", f"接上换行 {s.joins} 处" if s.joins else "") if x)
        extra = "".join(f'<p class="rag-pub-aside">图片说明：{esc(c)}</p>' for c in s.credits)
        extra += "".join(f'<p class="rag-pub-aside">已移出正文的提要：{esc(q)}</p>' for q in s.pullquotes)
        body = "".join(render_paragraph(para.text, para.joins) for para in s.paragraphs)
        stories.append(f'<details class="rag-pub-story"><summary><b>{k}. 《{esc(s.title)}》</b> '
                       f'<span class="rag-pub-meta">{meta}</span></summary>{extra}{body}</details>')
    return (f'<div class="rag-pub-file"><div class="rag-pub-name"><code>{esc(p.name)}</code> {"".join(tags)}</div>'
            f'<p class="rag-pub-meta">{_size(p.size)} · {len(p.stories)} 篇报道 · '
            f'{sum(len(s.paragraphs) for s in p.stories)} 段 · 接上的换行 {joins} 处（⏎ 标出）</p>'
            f'{"".join(stories)}</div>')


def render_previews(previews: list[Preview]) -> str:
    if not previews:
        return ""
    ok = sum(p.ok for p in previews)
    head = f'<p class="rag-count">读到 {len(previews)} 个文件，{ok} 个可以发布。展开报道可查看读出的正文。</p>'
    return '<div class="rag-pub">' + head + "".join(render_preview(p) for p in previews) + "</div>"


def job_line(line: str) -> str:
    """A progress line of the job for the page: no server path, and the index's
    long "issues changed: index has {...}, expected {...}" cut to its first words."""
    line = ABS_DIR_RE.sub("", str(line)).strip()
    if line.startswith("Index needs a rebuild: issues changed"):
        return "Index needs a rebuild: issues changed"
    return line if len(line) <= 200 else line[:199] + "…"


def render_job(job) -> str:
    if job is None:
        return ""
    state = {"running": "进行中", "done": "已完成", "failed": "失败"}[job.state]
    took = (job.ended or time.time()) - job.started
    lines = "".join(f"<li>{esc(job_line(line))}</li>" for line in job.lines[-12:])
    outcome = f'<p class="rag-pub-outcome">{esc(no_paths(job.message))}</p>' if job.message else ""
    return (f'<div class="rag-job rag-job-{job.state}" data-state="{job.state}">'
            f'<p><b>{esc(job.what)}</b> · {state} · {took:.0f} 秒</p><ul class="rag-job-lines">{lines}</ul>'
            f"{outcome}</div>")


def render_listing(info: dict) -> str:
    rows = "".join(f"<li><code>{esc(it.get('source'))}</code>：{esc(it.get('stories'))} 篇报道"
                   f"{'，' + '、'.join(esc(d) for d in it.get('dates') or []) if it.get('dates') else ''}</li>"
                   for it in info.get("issues") or [])
    skipped = "".join(f"<li><code>{esc(no_paths(n))}</code>：未能读取（{esc(no_paths(w))}）</li>"
                      for n, w in info.get("skipped") or [])
    return (f'<div class="rag-pub-list"><p class="rag-count">问答现在用的索引：{len(info.get("issues") or [])} 期，'
            f'{esc(info.get("stories"))} 篇报道。</p><ul>{rows}{skipped}</ul></div>')


class IssueDesk:
    """The tab's callbacks. No exception reaches the page."""

    def __init__(self, h: Handlers, publisher):
        self.h, self.publisher = h, publisher

    def swap(self, engine) -> None:
        """The publisher's swap: the new engine's example questions, then the engine itself."""
        from rag.web.examples import cached_examples

        try:
            self.h.examples = cached_examples(engine, engine.settings)
        except Exception:  # examples are a nicety; the swap matters
            log.exception("examples of the new index")
        self.h.engine = engine

    def _user(self, request) -> str | None:
        return getattr(request, "username", None) if request is not None else None

    def check(self, files) -> tuple[str, list[Preview]]:
        try:
            from rag.ingest.issues import issue_hashes

            paths = [files] if isinstance(files, (str, Path)) else list(files or [])
            if len(paths) > MAX_FILES:
                return _notice(f"一次最多检查 {MAX_FILES} 个文件。"), []
            s = self.h.settings
            published = issue_hashes(s.data_dir, s.max_issue_bytes)
            previews = []
            for f in paths:
                data, size = read_upload(f, s.max_issue_bytes)
                previews.append(check_upload(Path(f).name, data, s.max_issue_bytes, published, size))
            return render_previews(previews), previews
        except RagError as e:
            return _notice(str(e)), []
        except EXITS:
            raise
        except BaseException:
            log.exception("issue upload check failed")
            return _notice(SORRY), []

    def _follow(self, start):
        """Start a job and yield its progress HTML until it ends."""
        try:
            job = start()
        except RagError as e:
            yield _notice(str(e))
            return
        except EXITS:
            raise
        except BaseException:
            log.exception("could not start a publish job")
            yield _notice(SORRY)
            return
        while job is not None and job.running:
            yield render_job(job)
            time.sleep(POLL_S)
            job = self.publisher.status()
        yield render_job(job)

    def publish(self, previews, confirm, request=None):
        yield from self._follow(lambda: self.publisher.publish(list(previews or []), bool(confirm),
                                                               self._user(request)))

    def remove(self, name, confirm, request=None):
        if not name:
            yield _notice("请先选择要删除的期次。")
            return
        if not confirm:
            yield _notice("请勾选“确认删除”。")
            return
        yield from self._follow(lambda: self.publisher.remove([name], self._user(request)))

    def status(self) -> str:
        return render_job(self.publisher.status())

    def published(self, previews) -> bool:
        """Whether every upload that passed its checks is in the data folder now, as
        uploaded (then the page clears them: nothing to publish twice)."""
        from rag.ingest.issues import issue_hashes

        ready = [p for p in previews or [] if p.ok]
        try:
            now = issue_hashes(self.h.settings.data_dir, self.h.settings.max_issue_bytes)
        except RagError:
            return False
        return bool(ready) and all(now.get(p.name) == p.sha256 for p in ready)

    def listing(self) -> str:
        try:
            return render_listing(self.h.engine.describe())
        except Exception:
            log.exception("issue listing failed")
            return _notice(SORRY)

    def names(self) -> list[str]:
        return sorted({s.source for s in self.h.engine.stories})


def issues_tab(gr, desk: IssueDesk):
    """The tab's layout and events (called inside `with gr.Tab(...)`); returns
    (a function giving the tab's fresh values, the components they go to, the
    events that end a job), for the page to refresh on load and chain its own on."""
    listing = gr.HTML(desk.listing(), elem_id="issue-list")
    files = gr.File(label="上传期次文件（.txt，可多选；UTF-8、UTF-16 或 GBK）", file_count="multiple", type="filepath",
                    elem_id="issue-upload")
    preview = gr.HTML(elem_id="issue-preview")
    previews = gr.State([])
    with gr.Row():
        confirm = gr.Checkbox(label="确认替换同名期次", value=False, elem_id="confirm-replace")
        publish = gr.Button("发布", variant="primary", elem_id="publish")
    progress = gr.HTML(desk.status(), elem_id="publish-progress")
    with gr.Accordion("删除期次", open=False):
        with gr.Row():
            name = gr.Dropdown(desk.names(), value=None, label="要删除的期次", allow_custom_value=False,
                               elem_id="remove-name", scale=3)
            sure = gr.Checkbox(label="确认删除（文件移到数据文件夹的 .replaced/）", value=False, elem_id="confirm-remove",
                               scale=2)
            remove = gr.Button("删除", variant="stop", elem_id="remove", scale=1)
    files.change(desk.check, files, [preview, previews], api_visibility="private")

    def publish_(previews, confirm, request):
        yield from desk.publish(previews, confirm, request)

    def remove_(name, confirm, request):
        yield from desk.remove(name, confirm, request)

    for f in (publish_, remove_):
        f.__annotations__ = {"request": gr.Request}  # how Gradio knows to pass the request (its user)

    def after(shown):
        """The list and the choices again; the uploads cleared once published."""
        keep = gr.skip()
        done = desk.published(shown)
        return (desk.listing(), gr.Dropdown(choices=desk.names(), value=None), False, False,
                None if done else keep, "" if done else keep, [] if done else keep)

    outputs = [listing, name, confirm, sure, files, preview, previews]
    done = publish.click(publish_, [previews, confirm], progress, api_visibility="private",
                         concurrency_limit=1).then(after, previews, outputs, api_visibility="private")
    gone = remove.click(remove_, [name, sure], progress, api_visibility="private",
                        concurrency_limit=1).then(after, previews, outputs, api_visibility="private")

    def refresh():
        """What another visit or another user may have changed: the list, the choices, the last job."""
        return desk.listing(), gr.Dropdown(choices=desk.names(), value=None), desk.status()

    return refresh, [listing, name, progress], [done, gone]


CSS = """
.rag-pub-file { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6em .8em; margin: .5em 0; }
.rag-pub-refused { border-color: #f87171; }
.rag-pub-name code { font-weight: 600; }
.rag-pub-tag { display: inline-block; font-size: .85em; padding: 0 .5em; border-radius: 6px; background: #fee2e2;
               color: #991b1b; margin-left: .3em; }
.rag-pub-okay { background: #dcfce7; color: #166534; }
.rag-pub-warn { background: #fef3c7; color: #92400e; }
.rag-pub-meta { color: var(--body-text-color-subdued); font-size: .9em; }
.rag-pub-story summary { cursor: pointer; margin: .3em 0; }
.rag-pub-story p { margin: .3em 0 .3em 1.2em; line-height: 1.7; }
.rag-pub-aside { color: var(--body-text-color-subdued); font-style: italic; }
.rag-join { color: #b45309; background: #fef3c7; border-radius: 3px; padding: 0 .15em; margin: 0 .1em; font-size: .85em; }
.rag-job { border-left: 4px solid #6366f1; padding: .3em .8em; margin: .5em 0; }
.rag-job-done { border-color: #16a34a; } .rag-job-failed { border-color: #dc2626; }
.rag-job-lines { font-family: var(--font-mono); font-size: .85em; color: var(--body-text-color-subdued); margin: 0; }
.rag-pub-outcome { font-weight: 600; }
.rag-staff-bar { display: flex; gap: 1em; justify-content: flex-end; font-size: .9em; }
"""
