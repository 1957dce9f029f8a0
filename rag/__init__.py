"""Grounded question answering over newspaper issues.

The pipeline runs one way: issue text -> Story -> Chunk -> Hit -> Answer.
Heavy libraries (torch, sentence-transformers, faiss, gradio) are imported
lazily inside the functions that need them, so `import rag` stays cheap.
"""

__version__ = "0.1.0"
