"""vincent against raw aio-pika, side by side in one run (``make bench``, ``python -m bench``).

Every scenario runs its vincent variants and a raw aio-pika baseline that keeps the same
guarantees (persistent messages, publisher confirms, manual acks after the work),
interleaved over several rounds; the table shows medians and the ratio vincent/baseline.
See bench/README.md for the scenarios and the latest results.
"""
