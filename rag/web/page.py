"""The two Gradio pages: the public chat, and the staff page (search, unanswered questions, issues).

Takes a rag.web.handlers.Handlers (one engine, shared by both pages; make_handlers
builds it) and, for the staff page, the issues tab's desk (rag.web.issues); gives
gr.Blocks that rag.web.serve mounts at / and at /staff (behind the login). The
public page holds nothing of the staff side: no tab, no link, no staff API. User
bubbles are escaped text (no markdown, no HTML); the bot's replies are HTML built
by rag.web.render with every issue text escaped.
"""

from __future__ import annotations

import html
import os

from rag.config import ROOT, Settings
from rag.web import feedback, render
from rag.web.examples import cached_examples
from rag.web.handlers import ALL, Handlers, no_paths
from rag.web.keep import keep


PLACEHOLDER = "输入问题，回车发送；可以接着追问"
EXPORT_PATH = "/staff/unanswered.csv"


def gradio_env() -> None:
    # Set before gradio is imported: it reads these at import time.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    tmp = ROOT / ".cache" / "gradio"
    tmp.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GRADIO_TEMP_DIR", str(tmp))


def escape_user_text(message):
    """A user bubble's content: the text as typed, HTML-escaped once (idempotent,
    so a retried message is not escaped twice)."""
    if isinstance(message, str):
        return html.escape(html.unescape(message), quote=False)
    if isinstance(message, dict) and isinstance(message.get("text"), str):
        return dict(message, text=escape_user_text(message["text"]))
    return message


def chat_interface_class(gr):
    """gr.ChatInterface whose user messages enter the chat history escaped.

    With the Chatbot's render_markdown=False, `![x](http://…)`, `[a](javascript:…)`
    or `<img src=…>` typed by a user shows as those characters and loads nothing;
    the bot's replies are HTML built by rag.web.render with every issue text escaped.
    ChatInterface appends the user's message itself (before and after calling
    fn), through _message_as_message_dict, so that is where it is escaped.
    """

    class EscapingChatInterface(gr.ChatInterface):
        def _append_message_to_history(self, message, history, role="user"):
            # an empty message shows no empty bubble (the page does not send one either)
            if role == "user" and not feedback.message_text(message).strip() and not (isinstance(message, dict) and message.get("files")):
                return list(history or [])
            return super()._append_message_to_history(message, history, role)

        def _message_as_message_dict(self, message, role):
            if role == "user":
                message = [escape_user_text(m) for m in message] if isinstance(message, list) \
                    else escape_user_text(message)
            return super()._message_as_message_dict(message, role)

    return EscapingChatInterface


def page_info(engine) -> dict:
    """Engine.describe() for the page: skipped files by name, no server paths."""
    info = dict(engine.describe())
    info["skipped"] = [[no_paths(name), no_paths(why)] for name, why in info.get("skipped") or []]
    info["model"] = no_paths(info.get("model") or "")
    return info


def make_handlers(engine, settings: Settings, log_=None) -> Handlers:
    """The callbacks both pages share (one engine, one answer cache, one feedback log).
    `log_` is the feedback log (rag.web.feedback.FeedbackLog) or None: no votes or
    refusals recorded, and the staff tab says so."""
    return Handlers(engine, settings, log=log_, examples=cached_examples(engine, settings))


def header_html(h: Handlers, title: str = "报纸问答", lead: str | None = None) -> str:
    lead = lead or "用中文或英文提问，答案摘自报纸原文，并给出处（标题、段落、字符位置）。"
    return (f'<div class="rag-header"><h1>{html.escape(title)}</h1><p>{html.escape(lead)}</p></div>'
            + render.render_overview(page_info(h.engine)))


def build_public(h: Handlers):
    """The public page at /: the chat, and the API /chat and /ask. Nothing of the staff side."""
    gradio_env()
    import gradio as gr

    settings = h.settings
    with gr.Blocks(title="报纸问答", analytics_enabled=False) as demo:
        header = gr.HTML(header_html(h), elem_id="rag-head")
        chatbot = gr.Chatbot(
            # tall enough for several turns; a phone keeps room for the keyboard
            height="max(420px, calc(100vh - 250px))", latex_delimiters=[], buttons=["copy"],
            show_label=False, render_markdown=False, elem_id="chat",
            placeholder="<b>问一个关于这些报纸的问题</b><br>例如：某个项目投资多少、在哪一天、谁写的报道。"
                        "<br>Questions in English work too.",
            feedback_options=("Like", "Dislike"),
        )
        # no max_length: the box would cut a pasted question silently; the
        # counter below says what is left, and the page does not send an
        # empty or too long question (the server refuses them too)
        textbox = gr.Textbox(
            placeholder=PLACEHOLDER, show_label=False, submit_btn="发送", stop_btn=False, lines=1,
            max_lines=4, elem_id="ask-box",
        )
        ci = chat_interface_class(gr)(
            fn=h.chat, chatbot=chatbot, textbox=textbox, api_name="chat",
            examples=h.examples or None, run_examples_on_click=True,
            fill_height=False, api_description="Ask one question; returns the reply as HTML text.",
        )
        keep(gr, demo, ci)  # the conversation survives a reload (rag.web.keep)
        gr.HTML(f'<div id="ask-count" aria-live="polite">最多 {settings.max_question_chars} 字</div>')
        # ChatInterface blanks the placeholder on submit and never puts it back.
        ci.chatbot.change(lambda: gr.Textbox(placeholder=PLACEHOLDER), None, textbox,
                          api_visibility="private", queue=False)

        def vote(history, data):
            h.vote(history, data.index, data.value, data.liked)

        vote.__annotations__ = {"data": gr.LikeData}  # how Gradio knows to pass the event's data
        ci.chatbot.like(vote, [ci.chatbot], None, api_visibility="private", queue=False)
        clear = gr.Button("清空对话", variant="secondary", size="sm", elem_id="clear-chat")
        clear.click(lambda: ([], [], []), None, [ci.chatbot, ci.chatbot_state, ci.chatbot_value],
                    api_visibility="private", queue=False)
        gr.api(h.ask, api_name="ask", api_description="(question, history) -> the `ask --json` object.")
        # an issue published since the page was built shows in the overview on the next
        # visit; made once per engine, so a visit costs a look-up
        made: dict = {}

        def head():
            if made.get("engine") is not h.engine:
                made.update(engine=h.engine, html=header_html(h))
            return made["html"]

        demo.load(head, None, header, api_visibility="private", queue=False)
    demo.queue(default_concurrency_limit=2, max_size=settings.queue_size)
    demo.rag_handlers = h  # for the app: the page script's limits
    return demo


def build_staff(h: Handlers, desk=None):
    """The staff page at /staff (behind the login, rag.web.login): search, the
    unanswered questions and, with `desk` (rag.web.issues.IssueDesk), the issues tab."""
    gradio_env()
    import gradio as gr

    with gr.Blocks(title="编辑后台 · 报纸问答", analytics_enabled=False) as demo:
        header = gr.HTML(header_html(h, "报纸问答 · 编辑后台", "检索原文、查看没答上来的问题、发布期次。"), elem_id="rag-head")
        who = gr.HTML('<div class="rag-staff-bar"><a href="../">问答页</a><a href="logout" id="logout">退出登录</a></div>',
                      elem_id="staff-bar")
        with gr.Tabs():
            with gr.Tab("检索", id="search"):
                with gr.Row():
                    query = gr.Textbox(label="关键词或问题", placeholder="例如：5G", scale=3, min_width=200)
                    # a value not in the list reaches Handlers.search and matches nothing
                    # (Gradio's own check would print a traceback per request)
                    issue = gr.Dropdown(h.issue_choices(), value=ALL, label="期次", scale=1, allow_custom_value=True,
                                        min_width=140)
                    story = gr.Dropdown(h.story_choices(), value=ALL, label="报道", scale=2, allow_custom_value=True,
                                        min_width=180)
                go = gr.Button("检索", variant="primary")
                results = gr.HTML(elem_id="search-results")
                with gr.Accordion("全部引用（可复制）", open=False):
                    lines = gr.Textbox(show_label=False, lines=4, buttons=["copy"], interactive=False,
                                       elem_id="cite-lines")
                go.click(h.search, [query, issue, story], [results, lines], api_name="search")
                query.submit(h.search, [query, issue, story], [results, lines], api_visibility="private")
                # a filter the user changes searches again (.input: not when the page sets it)
                issue.input(lambda i: gr.Dropdown(choices=h.story_choices(i), value=ALL), issue, story,
                            api_visibility="private", queue=False
                            ).then(h.search_again, [query, issue, story], [results, lines], api_visibility="private")
                story.input(h.search_again, [query, issue, story], [results, lines], api_visibility="private")
            with gr.Tab("未答问题", id="log") as log_tab:
                gr.HTML('<p class="rag-count">没答上来的问题和被点“踩”的回答，问得最多的在前；只记问题、检索词、回答、'
                        f'出处和时间。<a class="rag-export" href="{EXPORT_PATH.rsplit("/", 1)[1]}" download>导出 CSV</a></p>')
                refresh = gr.Button("刷新", size="sm", elem_id="log-refresh")
                log_html = gr.HTML(elem_id="log-list")
                log_tab.select(h.unanswered_html, None, log_html, api_visibility="private", queue=False)
                refresh.click(h.unanswered_html, None, log_html, api_visibility="private", queue=False)
            tab_fresh, tab_outputs, ends = (lambda: ()), [], []
            if desk is not None:
                from rag.web.issues import issues_tab

                with gr.Tab("期次", id="issues"):
                    tab_fresh, tab_outputs, ends = issues_tab(gr, desk)

        def fresh(request: gr.Request):
            """What a publish may have changed since the page was built, and who is logged in."""
            name = html.escape(getattr(request, "username", None) or "")
            bar = (f'<div class="rag-staff-bar"><span>已登录：{name}</span><a href="../">问答页</a>'
                   '<a href="logout" id="logout">退出登录</a></div>')
            return (header_html(h, "报纸问答 · 编辑后台", "检索原文、查看没答上来的问题、发布期次。"), bar,
                    gr.Dropdown(choices=h.issue_choices()), gr.Dropdown(choices=h.story_choices()))

        fresh.__annotations__ = {"request": gr.Request}  # how Gradio knows to pass the request

        def on_load(request: gr.Request):
            return fresh(request) + tuple(tab_fresh())

        on_load.__annotations__ = {"request": gr.Request}
        demo.load(on_load, None, [header, who, issue, story] + tab_outputs, api_visibility="private", queue=False)
        for end in ends:
            end.then(fresh, None, [header, who, issue, story], api_visibility="private", queue=False)
    demo.queue(default_concurrency_limit=2, max_size=h.settings.queue_size)
    demo.rag_handlers = h
    return demo
