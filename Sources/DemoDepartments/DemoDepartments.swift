// Simulated department systems over a synthetic district: see docs/architecture.md.
