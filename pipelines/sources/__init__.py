"""Sources: crawl external systems and normalise what they hold into evidence.

No source decides pass or fail; a source that cannot read something records
why (a `Problem` or a per-target error) and the run goes on.
"""
