"""Ingest: issue files in, Stories and Chunks out, every character keeping its offset in the file.

issues.py reads and decodes the files and finds the stories (repair.py mends text the
page layout broke); chunk.py cuts the stories into Chunks; spans.py maps repaired text back to source offsets.
"""
