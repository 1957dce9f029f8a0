"""Search: a question and the earlier turns in, ranked Hits out.

query.py cleans the question, resolves follow-ups and corrects slips (slips.py); turns.py answers small talk;
retrieve.py ranks passages by dense and BM25 (lexical.py) search; keywords.py orders staff look-ups.
"""
