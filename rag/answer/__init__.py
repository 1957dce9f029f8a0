"""The answer stage: Hits in, an Answer out, behind one interface.

base.py (what every stage shares: Asked, Answerer, sentences, citations,
refusals), reading.py (the fitted reader stage, the default: reader.py reads
spans, decide.py holds the fitted decisions), rules.py (the rule stage, kept
as a configuration to compare against: extract.py, entities.py, support.py),
credits.py (bylines, for both).
"""
