"""Training side of kg's learned extraction parts: corpora, dev split, trainers.

Nothing here is imported by inference (``kg.extract`` and the models it loads): training needs
``../shared/data/corpora/`` and may import what inference never does.
"""
