"""The web face: an Answer in, the chat page and its API out.

page.py builds the Gradio page, handlers.py its callbacks (with examples.py, feedback.py for votes and
refusals), render.py the reply HTML, page_js.py the page script, serve.py the launch; app.py starts it.
"""
