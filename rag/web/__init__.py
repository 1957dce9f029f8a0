"""The web face: an Answer in, the public chat and the staff side out.

page.py builds the two Gradio pages (the chat at /, the staff page at /staff), handlers.py their callbacks
(with examples.py, feedback.py for votes and refusals), render.py the reply HTML, page_js.py the page
script, keep.py the conversation across a reload; login.py, accounts.py and sessions.py close the staff side; issues.py is its 期次 tab (publishing
through rag.publish); serve.py makes the one web app; app.py starts it.
"""
