print("recordonce-bench: no benchmarks yet")
