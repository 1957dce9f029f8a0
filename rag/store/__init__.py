"""The index folder: Chunks and their vectors in, a checked, versioned set of plain files out.

folder.py saves a build aside and renames it into place (FAISS vectors, chunks, stories, BM25 terms,
one segment per issue, a manifest) and loads it back checked; the built artifacts live in index/.
"""
