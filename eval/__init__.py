"""Offline evaluation of the engine: questions in, scores, tables and a chart out.

questions.py reads and checks a questions file, metrics.py scores answers (pure
functions), anchor.py is the tutorial baseline the engine is compared with,
run.py asks the questions through each configuration (the only module doing
I/O besides report.py), report.py writes report.md and a chart.
Run it with `python -m eval run --help`.
"""
