"""Side-by-side benchmarks: pipelines, avatar rendering and memory recall, one run each.

Timings on a shared machine are noisy, so every benchmark here runs the things it compares
interleaved in one process and reports ratios, never a bare number to assert against.
"""
