"""Everyday calls: realistic, minimal payloads written from the official WeChat Pay pages.

``corpus.py`` holds the calls as data; ``typed_calls.py`` makes each of them through the
typed attribute chain (generated from the corpus: ``python tests/everyday/generate.py``);
``tests/test_everyday_calls.py`` validates, sends and type-checks them.
"""
